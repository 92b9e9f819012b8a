"""``cfopt sweep STUDY.toml`` and ``cfopt results STUDY.toml``: resumable Monte Carlo sweeps into SQLite.

``cfopt sweep STUDY.toml [--workers N] [--scheduler ADDRESS] [--db results.sqlite] [--quiet] [--retry-errors]``
expands the study (:mod:`experiments.study`) into tasks — one instance realisation × one option-grid value × one
method — and runs those with no stored row:

* by default in ``N`` local worker processes (``--workers``, default: the number of cores; spawn context,
  single-threaded BLAS; the workers exit when the sweep process dies, even by ``kill -9``; ``--workers 0`` runs
  the tasks in this process, for debugging);
* with ``--scheduler ADDRESS`` on an existing Dask distributed cluster (``dask.distributed.Client(ADDRESS)``; its
  workers must be able to import cfopt and the study's ``modules``). Nothing else changes.

Workers only compute: :func:`run_task` generates the seeded instance, calls :func:`experiments.solve` and returns the
row. The parent alone writes to the store (:mod:`experiments.store`, default ``<study stem>.sqlite`` next to the study
file), one INSERT per finished task in its own transaction: a killed sweep loses only the tasks in flight and a
re-run runs exactly the missing ones. A method that raises is stored with status ``error`` (message
``"<ExceptionType>: <text>"``) and the sweep goes on; a solver's own ``limit``/``error`` result is stored as it is.
``--retry-errors`` deletes the study's ``error`` rows first so those tasks run again. A re-run whose stored rows were
made with other fixed settings (generator parameters, options, seeds) is refused: use another ``--db`` or name.

A progress line on stderr shows done / failed / remaining and the ETA (``--quiet`` suppresses it); the last line on
stdout sums up, e.g. ``iot-uplink-small: 18 tasks, 18 run now (1 failed), 0 already stored -> x.sqlite``. Exit code 0
when every task has a row (failed tasks included); 1 when tasks were lost because a worker process died (re-run to
resume); 2 for a bad study file or bad arguments (one line naming the field).

``cfopt results STUDY.toml [--db ...] [--csv out.csv] [--summary] [--summary-csv s.csv]`` exports the tidy rows (one
per task: grid values and scalar fields as columns) and/or prints the summary per grid point and method (n, mean
objective, 95 % interval, shares infeasible / limit / error); with neither flag it prints the summary.
:func:`experiments.store.ecdf` gives empirical CDFs of per-user quantities for figures.
"""
from __future__ import annotations

import datetime as _dt
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from instances.errors import InputError

from experiments.store import DuplicateTask, Store, ecdf, format_summary, summary, tidy_rows, TIDY
from experiments.csvio import write_csv
from experiments.executors import _die_with_parent, _run_dask, _run_local, _single_threaded_blas, execute  # noqa: F401
from experiments.paths import check_writable
from experiments.study import Study, Task, canonical_json, expand, import_modules, load_study

__all__ = ["SweepReport", "run_task", "run_sweep", "ecdf", "add_parser"]


# ---------------------------------------------------------------------------------------------------- worker side
def _versions() -> dict[str, str]:
    import platform

    out = {"python": platform.python_version()}
    try:
        from importlib.metadata import version

        out["cfopt"] = version("cfopt")
    except Exception:  # pragma: no cover - not installed
        pass
    try:
        import numpy

        out["numpy"] = numpy.__version__
    except ImportError:  # pragma: no cover
        pass
    return out


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """Run one task (a :meth:`Task.as_dict`) and return its store row. Never raises for a failing method: the
    exception becomes a row with status ``error``. Runs in a worker process (local or Dask)."""
    from solvers_adapters.result import SolveResult

    t0 = time.perf_counter()
    try:
        import_modules(task.get("modules") or ())
        import experiments
        import instances

        inst = instances.generate(task["scenario"], seed=task["instance_seed"], **task["gen_params"])
        kw = dict(task["options"])
        kw["seed"] = task["method_seed"]
        if task.get("time_limit") is not None:
            kw["time_limit"] = task["time_limit"]
        res = experiments.solve(task["problem"], inst, task["method"], **kw)
        if not isinstance(res, SolveResult):
            raise TypeError(f"method returned {type(res).__name__}, not a SolveResult")
        d = res.to_dict()
    except Exception as exc:
        d = SolveResult(problem=task["problem"], method=task["method"], status="error", certificate="none",
                        seed=task["method_seed"], wall_time_s=time.perf_counter() - t0, versions=_versions(),
                        message=f"{type(exc).__name__}: {exc}").to_dict()
    row = dict(d)
    row.update({k: task[k] for k in ("study", "realisation", "instance_seed", "method", "scenario", "gen_params",
                                      "options", "point")})
    row["task_key"] = task["key"]
    row["problem"] = d.get("problem") or task["problem"]
    if row.get("seed") is None:
        row["seed"] = task["method_seed"]
    for k in ("formulation", "solver", "solver_version", "instance", "instance_hash", "message"):
        row[k] = row.get(k) or ""
    row["engine_wall_s"] = time.perf_counter() - t0
    row["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    row["finished_at"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")
    return row


# ---------------------------------------------------------------------------------------------------- parent side
@dataclass
class SweepReport:
    study: str
    db: Path
    total: int                  # tasks of the study
    stored_before: int          # already stored when the sweep started
    ran: int = 0                # finished and stored by this run
    failed: int = 0             # of those, status "error" (a method raised)
    duplicates: int = 0         # finished, but another process had stored the key first
    lost: list[str] = field(default_factory=list)   # keys of tasks whose worker died (not stored)
    elapsed_s: float = 0.0

    @property
    def complete(self) -> bool:
        return not self.lost

    def line(self) -> str:
        s = (f"{self.study}: {self.total} tasks, {self.ran} run now ({self.failed} failed), "
             f"{self.stored_before} already stored -> {self.db}")
        if self.duplicates:
            s += f"; {self.duplicates} were stored meanwhile by another process"
        if self.lost:
            s += f"; {len(self.lost)} lost (a worker died): re-run to resume"
        return s


class _Progress:
    def __init__(self, name: str, n: int, stream, quiet: bool):
        self.name, self.n, self.stream, self.quiet = name, n, stream, quiet
        self.done = self.failed = 0
        self.t0 = time.perf_counter()
        self._last = 0.0

    def tick(self, failed: bool) -> None:
        self.done += 1
        self.failed += bool(failed)
        self.show()

    def show(self, final: bool = False) -> None:
        if self.quiet or self.n == 0:
            return
        now = time.perf_counter()
        if not final and now - self._last < 0.2 and self.done < self.n:
            return
        self._last = now
        el = now - self.t0
        rem = self.n - self.done
        eta = f"{el / self.done * rem:.0f} s" if self.done else "?"
        end = "\n" if final or rem == 0 else ""
        print(f"\r{self.name}: {self.done}/{self.n} done, {self.failed} failed, {rem} remaining, "
              f"elapsed {el:.0f} s, ETA {eta}   ", end=end, file=self.stream, flush=True)


def _check_consistent(tasks: list[Task], stored: dict[str, dict[str, Any]], db: Path, name: str) -> None:
    import json

    bad = []
    for t in tasks:
        s = stored.get(t.key)
        if s is None:
            continue
        diffs = []
        if s["instance_seed"] != t.instance_seed:
            diffs.append("instance seed")
        if s["scenario"] != t.scenario:
            diffs.append("generator scenario")
        if canonical_json(json.loads(s["gen_params"])) != canonical_json(t.gen_params):
            diffs.append("generator parameters")
        if canonical_json(json.loads(s["options"])) != canonical_json(t.options):
            diffs.append("method options")
        if s["problem"] != t.problem:
            diffs.append("problem")
        if diffs:
            bad.append((t.key, diffs))
    if bad:
        key, diffs = bad[0]
        raise InputError("study", f"{db} holds {len(bad)} row(s) of study {name!r} made with other settings "
                                  f"(e.g. {key}: {', '.join(diffs)} differ); use another --db or a new study name")


def _prevalidate(study: Study, pending: list[Task]) -> None:
    """Generate one instance per pending generator grid point, so that a bad value (``aps = [0]``) is an InputError
    naming its field before anything runs, not a column of error rows."""
    import instances

    seen = set()
    for t in pending:
        k = canonical_json(t.gen_params)
        if k in seen:
            continue
        seen.add(k)
        try:
            instances.generate(t.scenario, seed=t.instance_seed, **t.gen_params)
        except InputError as exc:
            where = "grid" if exc.field in study.grid else "generator.params" if exc.field in study.params \
                else "generator"
            raise InputError(f"{where}.{exc.field}", f"{exc.message} (at grid point {canonical_json(t.point)})") \
                from None
        except (TypeError, ValueError) as exc:
            raise InputError("generator", f"{study.scenario} rejected {canonical_json(t.gen_params)}: {exc}") \
                from None


def run_sweep(study: Study | str | Path, *, db: str | Path | None = None, workers: int | None = None,
              scheduler: str | None = None, quiet: bool = False, retry_errors: bool = False,
              stream=None) -> SweepReport:
    """Run every task of ``study`` that has no row in ``db`` (default :attr:`Study.default_db`); see the module
    docstring. Returns a :class:`SweepReport`."""
    if not isinstance(study, Study):
        study = load_study(study)
    if scheduler is not None and workers is not None:
        raise InputError("--workers", "not used with --scheduler (the cluster's workers run the tasks)")
    workers = (os.cpu_count() or 1) if workers is None else workers
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise InputError("--workers", f"must be a non-negative integer, got {workers!r}")
    stream = sys.stderr if stream is None else stream
    db = check_writable(db if db is not None else study.default_db, "--db")
    tasks = expand(study)
    t0 = time.perf_counter()
    with Store(db) as store:
        stored = store.stored(study.name)
        _check_consistent(tasks, stored, db, study.name)
        if retry_errors:
            store.delete(study.name, statuses=["error"], keys=[t.key for t in tasks])
            stored = store.stored(study.name)
        pending = [t for t in tasks if t.key not in stored]
        _prevalidate(study, pending)
        rep = SweepReport(study=study.name, db=db, total=len(tasks), stored_before=len(tasks) - len(pending))
        prog = _Progress(study.name, len(pending), stream, quiet)

        def on_row(row: dict[str, Any]) -> None:
            try:
                store.insert(row)
            except DuplicateTask:
                rep.duplicates += 1
            else:
                rep.ran += 1
                rep.failed += row["status"] == "error"
            prog.tick(row["status"] == "error")

        def on_lost(t: Task, exc: BaseException) -> None:
            rep.lost.append(t.key)
            prog.tick(True)

        try:
            if pending:
                if scheduler is not None:
                    _run_dask(pending, scheduler, on_row, on_lost, run_task)
                else:
                    _run_local(pending, workers, on_row, on_lost, run_task)
        finally:
            if 0 < prog.done < prog.n:     # interrupted: end the progress line
                prog.show(final=True)
    rep.elapsed_s = time.perf_counter() - t0
    return rep


# ---------------------------------------------------------------------------------------------------- command line
def add_parser(sub) -> None:
    p = sub.add_parser("sweep", help="run a study's Monte Carlo sweep (resumable; local processes or Dask)")
    p.add_argument("study", help="study TOML file")
    p.add_argument("--workers", type=int, default=None,
                   help="local worker processes (default: number of cores; 0: run in this process)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on an existing Dask distributed cluster, e.g. tcp://10.0.0.1:8786")
    p.add_argument("--db", default=None, help="SQLite store (default: <study stem>.sqlite next to the study)")
    p.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    p.add_argument("--retry-errors", action="store_true", help="run again the tasks stored with status error")
    p.set_defaults(run=_run_sweep)

    p = sub.add_parser("results", help="export or summarise a study's stored sweep results")
    p.add_argument("study", help="study TOML file")
    p.add_argument("--db", default=None, help="SQLite store (default: <study stem>.sqlite next to the study)")
    p.add_argument("--csv", default=None, metavar="PATH", help="write the tidy rows (one per task) as CSV")
    p.add_argument("--summary", action="store_true",
                   help="print n, mean objective, 95 %% interval and failure shares per grid point and method")
    p.add_argument("--summary-csv", default=None, metavar="PATH", help="write that summary as CSV")
    p.set_defaults(run=_run_results)


def _run_sweep(args) -> int:
    rep = run_sweep(args.study, db=args.db, workers=args.workers, scheduler=args.scheduler, quiet=args.quiet,
                    retry_errors=args.retry_errors)
    print(rep.line())
    return 0 if rep.complete else 1


def _run_results(args) -> int:
    for path, option in ((args.csv, "--csv"), (args.summary_csv, "--summary-csv")):
        if path is not None:
            check_writable(path, option)
    study = load_study(args.study)
    db = Path(args.db) if args.db is not None else study.default_db
    point_keys = [*study.grid, *study.option_grid]
    with Store(db, create=False) as store:
        keys = {t.key for t in expand(study)}
        n_stored = len(keys & set(store.stored(study.name)))
        if args.csv:
            write_csv(tidy_rows(store, study), Path(args.csv), [*point_keys, *TIDY])
            print(f"csv: {args.csv}")
        summ = summary(store, study) if (args.summary or args.summary_csv or not args.csv) else []
    if args.summary_csv:
        write_csv(summ, Path(args.summary_csv), point_keys)
        print(f"summary csv: {args.summary_csv}")
    if args.summary or not (args.csv or args.summary_csv):
        print(format_summary(summ, point_keys))
    print(f"{study.name}: {n_stored} of {len(keys)} tasks stored in {db}")
    return 0
