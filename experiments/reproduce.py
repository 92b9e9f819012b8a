"""``cfopt reproduce FIGURE [--full] [--out DIR] [--workers N]``: regenerate a paper's figure as PNG + CSV.

A figure is a :class:`Figure`: a list of independent tasks (one seeded instance realisation × one setting), a task
runner, and a plot of the aggregated rows. Reduced size by default, ``--full`` for the paper's sizes. Tasks run in
local worker processes (``--workers``, default: the number of cores); every task's seed derives from the figure's
base seed and the realisation index, so a row never depends on which worker ran it. Progress (done / total, ETA) goes
to stderr. Outputs in ``--out`` (default ``results/reproduce``): ``<figure>.csv`` (one row per task),
``<figure>_summary.csv`` (aggregates) and ``<figure>.png``. ``--replot`` redraws the PNG and the summary from an
earlier run's ``<figure>.csv`` without solving anything.
"""
from __future__ import annotations

import csv
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from instances.errors import InputError

__all__ = ["Figure", "FIGURES", "register_figure", "run_figure", "replot", "add_parser"]


@dataclass(frozen=True)
class Figure:
    name: str
    description: str
    tasks: Callable[[bool], list[dict[str, Any]]]               # full -> task dicts (picklable)
    run_task: Callable[[dict[str, Any]], list[dict[str, Any]]]  # task -> rows (a module-level function)
    summarise: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
    plot: Callable[[list[dict[str, Any]], list[dict[str, Any]], Path, bool], None]


FIGURES: dict[str, Figure] = {}
#: modules that register figures when imported
FIGURE_MODULES = ["experiments.figures_khan", "experiments.figures_iot"]


def register_figure(fig: Figure) -> Figure:
    FIGURES[fig.name] = fig
    return fig


def _load() -> dict[str, Figure]:
    import importlib

    for m in FIGURE_MODULES:
        importlib.import_module(m)
    return FIGURES


def get_figure(name: str) -> Figure:
    figs = _load()
    if name not in figs:
        raise InputError("figure", f"unknown figure {name!r}; known: {', '.join(sorted(figs))}")
    return figs[name]


def _write(rows: list[dict[str, Any]], path: Path) -> None:
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in keys})


def run_figure(name: str, *, full: bool = False, out: str | Path = "results/reproduce", workers: int | None = None,
               quiet: bool = False, limit_tasks: int | None = None, realisations: int | None = None) -> dict[str, Path]:
    """Run every task of figure ``name`` and write CSV + PNG; returns the written paths. ``realisations`` keeps only
    the first N instance realisations of each setting (e.g. a paper-size spot check with a few of its 50)."""
    fig = get_figure(name)
    tasks = fig.tasks(full)
    if realisations is not None:
        if realisations < 1:
            raise InputError("--realisations", f"must be >= 1, got {realisations}")
        tasks = [t for t in tasks if t.get("r", 0) < realisations]
    if limit_tasks is not None:
        tasks = tasks[:limit_tasks]
    workers = (os.cpu_count() or 1) if workers is None else workers
    if workers < 1:
        raise InputError("--workers", f"must be >= 1, got {workers}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    failed = 0

    def report(done: int) -> None:
        if quiet:
            return
        el = time.perf_counter() - t0
        eta = el / done * (len(tasks) - done) if done else float("nan")
        print(f"\r{name}: {done}/{len(tasks)} tasks, {failed} failed, elapsed {el:.0f} s, ETA {eta:.0f} s",
              end="" if done < len(tasks) else "\n", file=sys.stderr, flush=True)

    if workers == 1 or len(tasks) <= 1:
        for i, t in enumerate(tasks, 1):
            rows += fig.run_task(t)
            report(i)
    else:
        # fresh interpreters with single-threaded BLAS: the batched LSFD solves oversubscribe the cores otherwise
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futs = [pool.submit(fig.run_task, t) for t in tasks]
            for i, f in enumerate(as_completed(futs), 1):
                try:
                    rows += f.result()
                except Exception as exc:  # a crashed task is recorded, the figure goes on
                    failed += 1
                    rows.append({"figure": name, "status": "error", "message": f"{type(exc).__name__}: {exc}"})
                report(i)
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
    out = Path(out)
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
                           realisations=args.realisations)
    for k, v in paths.items():
        print(f"{k}: {v}")
    return 0
