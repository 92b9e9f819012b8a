"""``cfopt reproduce FIGURE [--full] [--out DIR] [--workers N]``: regenerate a paper's figure as PNG + CSV.

A figure is a :class:`Figure`: a list of independent tasks (one seeded instance realisation × one setting), a task
runner, and a plot of the aggregated rows. Papers register their figures (:func:`register_figure`) when imported;
:func:`experiments.papers.discover` imports them (and plugin papers named in ``CFOPT_PLUGINS``), so no list of
figure modules exists. Reduced size by default, ``--full`` for the paper's sizes. Tasks run on the sweep engine's
executors (:func:`experiments.executors.execute`): local worker processes (``--workers``, default: the number of
cores) or a Dask cluster (``--scheduler ADDRESS``); every task's seed derives from the figure's base seed and the
realisation index, so a row never depends on which worker ran it. Finished tasks are kept in a SQLite store
(``--db``, default ``OUT/FIGURE.sqlite``; ``-full`` for ``--full``), so a re-run only computes what is missing.
Progress (done / total, ETA) goes to stderr. Outputs in ``--out`` (default ``results/reproduce``): ``<figure>.csv``
(one row per task), ``<figure>_summary.csv`` (aggregates) and ``<figure>.png``. ``--replot`` redraws the PNG and
the summary from an earlier run's ``<figure>.csv`` without solving anything.
"""
from __future__ import annotations

import csv
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from instances.errors import InputError
from experiments.csvio import write_csv
from experiments.paths import check_writable

__all__ = ["Figure", "FIGURES", "register_figure", "run_figure", "replot", "add_parser"]


@dataclass(frozen=True)
class Figure:
    name: str
    description: str
    tasks: Callable[[bool], list[dict[str, Any]]]               # full -> task dicts (picklable)
    run_task: Callable[[dict[str, Any]], list[dict[str, Any]]]  # task -> rows (a module-level function)
    summarise: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
    plot: Callable[[list[dict[str, Any]], list[dict[str, Any]], Path, bool], None]


#: every registered figure; papers register theirs on import (:func:`experiments.papers.discover` imports them)
FIGURES: dict[str, Figure] = {}


def register_figure(fig: Figure) -> Figure:
    FIGURES[fig.name] = fig
    return fig


def _load() -> dict[str, Figure]:
    from experiments.papers import discover

    discover()
    return FIGURES


def get_figure(name: str) -> Figure:
    figs = _load()
    if name not in figs:
        raise InputError("figure", f"unknown figure {name!r}; known: {', '.join(sorted(figs))}")
    return figs[name]


#: The files a run writes into ``--out``.
_OUTPUTS = {"csv": "{}.csv", "summary": "{}_summary.csv", "png": "{}.png"}


def _check_outputs(name: str, out: str | Path, which) -> Path:
    """``Path(out)``, once ``out`` and the files ``which`` (keys of :data:`_OUTPUTS`) are known to be writable
    (InputError('--out') otherwise), so that a bad ``--out`` is refused before any task runs."""
    out = check_writable(out, "--out", directory=True)
    for key in which:
        check_writable(out / _OUTPUTS[key].format(name), "--out")
    return out


def _write(rows: list[dict[str, Any]], path: Path) -> None:
    write_csv(rows, path)


class FigureStore:
    """Resumable rows of a figure: one SQLite row (WAL mode) per finished task, ``task_key`` = the canonical JSON of
    the task dict (UNIQUE), ``rows`` = the task's output rows as JSON. Written only by the parent, one INSERT per
    transaction, like the sweep store (:mod:`experiments.store`): a killed run loses only the tasks in flight."""

    def __init__(self, path: Path):
        import sqlite3

        path.parent.mkdir(parents=True, exist_ok=True)
        self.con = sqlite3.connect(str(path), isolation_level=None, timeout=60.0)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("CREATE TABLE IF NOT EXISTS figure_rows (figure TEXT NOT NULL, task_key TEXT NOT NULL "
                         "UNIQUE, rows TEXT NOT NULL, finished_at TEXT NOT NULL)")

    @staticmethod
    def key(task: dict[str, Any]) -> str:
        return json.dumps(task, sort_keys=True, separators=(",", ":"), default=str)

    def done(self, figure: str) -> dict[str, list[dict[str, Any]]]:
        cur = self.con.execute("SELECT task_key, rows FROM figure_rows WHERE figure = ?", (figure,))
        return {k: json.loads(r) for k, r in cur.fetchall()}

    def add(self, figure: str, task: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        import datetime as _dt

        self.con.execute("BEGIN IMMEDIATE")
        try:
            self.con.execute("INSERT OR IGNORE INTO figure_rows VALUES (?, ?, ?, ?)",
                             (figure, self.key(task), json.dumps(rows, default=float),
                              _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")))
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.con.close()


def _keyed(item: dict[str, Any]) -> dict[str, Any]:
    """Worker entry point (module level, picklable): run one figure task; an exception becomes an error marker
    instead of killing the run. The task key comes back with the answer to pair them in the parent."""
    try:
        return {"key": item["key"], "rows": get_figure(item["figure"]).run_task(item["task"])}
    except Exception as exc:
        return {"key": item["key"], "error": f"{type(exc).__name__}: {exc}"}


def run_figure(name: str, *, full: bool = False, out: str | Path = "results/reproduce", workers: int | None = None,
               quiet: bool = False, limit_tasks: int | None = None, realisations: int | None = None,
               scheduler: str | None = None, db: str | Path | None = None) -> dict[str, Path]:
    """Run every task of figure ``name`` through the sweep engine's executors (local workers, or the Dask cluster at
    ``scheduler``) and write CSV + PNG; returns the written paths. Finished tasks are stored in ``db`` (default
    ``<out>/<figure>[-full].sqlite``), so an interrupted run resumes where it stopped. ``realisations`` keeps only the
    first N instance realisations of each setting (e.g. a paper-size spot check with a few of its 50)."""
    from experiments.executors import execute

    fig = get_figure(name)
    tasks = fig.tasks(full)
    if realisations is not None:
        if realisations < 1:
            raise InputError("--realisations", f"must be >= 1, got {realisations}")
        tasks = [t for t in tasks if t.get("r", 0) < realisations]
    if limit_tasks is not None:
        tasks = tasks[:limit_tasks]
    if workers is not None and workers < 0:
        raise InputError("--workers", f"must be >= 0, got {workers}")
    out = _check_outputs(name, out, ("csv", "summary", "png"))
    db = check_writable(db, "--db") if db is not None else \
        check_writable(out / f"{name}{'-full' if full else ''}.sqlite", "--out")
    out.mkdir(parents=True, exist_ok=True)
    store = FigureStore(db)
    try:
        stored = store.done(name)
        pending = [t for t in tasks if FigureStore.key(t) not in stored]
        failed: list[dict[str, Any]] = []
        t0 = time.perf_counter()
        state = {"done": 0}

        def report() -> None:
            if quiet:
                return
            done, n = state["done"], len(pending)
            el = time.perf_counter() - t0
            eta = el / done * (n - done) if done else float("nan")
            print(f"\r{name}: {done}/{n} tasks ({len(tasks) - n} stored earlier), {len(failed)} failed, "
                  f"elapsed {el:.0f} s, ETA {eta:.0f} s", end="" if done < n else "\n", file=sys.stderr,
                  flush=True)

        by_key = {FigureStore.key(t): t for t in pending}

        def on_lost(item, exc) -> None:        # the worker process died: not stored, a re-run retries it
            failed.append({"figure": name, "status": "error", "message": f"{type(exc).__name__}: {exc}"})
            state["done"] += 1
            report()

        def on_value(value) -> None:           # a raising task is reported (not stored: a re-run retries it)
            if "error" in value:
                failed.append({"figure": name, "status": "error", "message": value["error"]})
            else:
                store.add(name, by_key[value["key"]], value["rows"])
            state["done"] += 1
            report()

        execute([{"figure": name, "task": t, "key": k} for k, t in by_key.items()], _keyed, on_result=on_value,
                on_lost=on_lost, workers=workers, scheduler=scheduler)
        rows = [r for t in tasks for r in store.done(name).get(FigureStore.key(t), [])] + failed
    finally:
        store.close()
    rows.sort(key=lambda r: tuple(str(r.get(k, "")) for k in ("figure", "series", "x", "realisation")))
    summary = fig.summarise(rows)
    paths = {"csv": out / f"{name}.csv", "summary": out / f"{name}_summary.csv", "png": out / f"{name}.png"}
    _write(rows, paths["csv"])
    _write(summary, paths["summary"])
    fig.plot(rows, summary, paths["png"], full)
    return paths


def _cell(text: str):
    if text == "":
        return None
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return {"True": True, "False": False}.get(text, text)


def replot(name: str, *, out: str | Path = "results/reproduce", full: bool = False) -> dict[str, Path]:
    """Re-summarise and re-plot figure ``name`` from the rows a previous run wrote to ``<out>/<name>.csv`` (no
    solve is repeated). InputError('--replot') when that file does not exist."""
    fig = get_figure(name)
    out = _check_outputs(name, out, ("summary", "png"))
    path = out / f"{name}.csv"
    if not path.is_file():
        raise InputError("--replot", f"no rows to re-plot: {path} does not exist (run the figure first)")
    with path.open(newline="") as fh:
        rows = [{k: _cell(v) for k, v in r.items()} for r in csv.DictReader(fh)]
    summary = fig.summarise(rows)
    paths = {"summary": out / f"{name}_summary.csv", "png": out / f"{name}.png"}
    _write(summary, paths["summary"])
    fig.plot(rows, summary, paths["png"], full)
    return paths


def add_parser(sub) -> None:
    p = sub.add_parser("reproduce", help="regenerate a paper's figure (PNG + CSV); reduced size unless --full")
    p.add_argument("figure", help="figure id, e.g. khan-fig2 (use 'list' to see them)")
    p.add_argument("--full", action="store_true", help="the paper's sizes and realisations (slow)")
    p.add_argument("--out", default="results/reproduce", help="output directory (default: %(default)s)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: number of cores)")
    p.add_argument("--realisations", type=int, default=None,
                   help="use only the first N instance realisations of each setting")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the tasks on this Dask distributed scheduler instead of local workers")
    p.add_argument("--db", default=None, help="resumable store of finished tasks (default: OUT/FIGURE.sqlite)")
    p.add_argument("--replot", action="store_true",
                   help="re-plot from the rows of an earlier run in --out (no solving; give --full if that run was)")
    p.set_defaults(run=_run)


def _run(args) -> int:
    if args.figure == "list":
        for name, fig in sorted(_load().items()):
            print(f"{name:<12} {fig.description}")
        return 0
    if args.replot:
        paths = replot(args.figure, out=args.out, full=args.full)
    else:
        paths = run_figure(args.figure, full=args.full, out=args.out, workers=args.workers, quiet=args.quiet,
                           realisations=args.realisations, scheduler=args.scheduler, db=args.db)
    for k, v in paths.items():
        print(f"{k}: {v}")
    return 0
