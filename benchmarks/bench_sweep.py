"""Benchmark of the sweep engine (``cfopt sweep``): parallel speed-up and per-task overhead.

    python benchmarks/bench_sweep.py [--tasks 200] [--out FILE.json]

The study: ``iot-downlink-maxmin`` / ``bisection`` (Ipopt SOCP solves, CPU-bound, 0.2–0.4 s per task) on ``rao2020``
instances with M ∈ {8, 12, 16, 20}, K ∈ {4, 5}, τ_p = 3, 0.5 km square, and as many realisations as make ``--tasks``
tasks. Measured in the same run:

* **direct**: every task's instance generation + ``experiments.solve`` called in this process, one after the other
  (the baseline: no engine);
* **sweep, 1 worker** and **sweep, 2 workers**: ``run_sweep`` into a fresh SQLite file each;
* **speed-up** = time(1 worker) / time(2 workers) (target ≥ 1.8 on 2 cores);
* **engine overhead per task** = the marginal cost: [sweep(N) − sweep(N/2)] − [direct(N) − direct(N/2)], divided by
  N/2 (target ≤ 5 ms), so the one-off start of the worker processes (imports, ~1–2 s) is not spread over the tasks;
  the plain (time(1 worker) − direct)/N is reported next to it.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.study import expand, parse_study  # noqa: E402
from experiments.sweep import run_sweep, run_task  # noqa: E402

GRID = {"aps": [8, 12, 16, 20], "users": [4, 5]}


def study(n_tasks: int, name: str):
    points = len(GRID["aps"]) * len(GRID["users"])
    return parse_study({"name": name, "problem": "iot-downlink-maxmin", "methods": ["bisection"],
                        "realisations": max(1, n_tasks // points), "base_seed": 11,
                        "generator": {"scenario": "rao2020", "params": {"tau_p": 3, "area_km": 0.5}},
                        "grid": GRID})


def direct(st) -> tuple[float, float]:
    """(wall time of all tasks, of the first half) run in this process without the engine."""
    tasks = expand(st)
    t0 = time.perf_counter()
    half_t = None
    for i, t in enumerate(tasks):
        run_task(t.as_dict())
        if i + 1 == len(tasks) // 2:
            half_t = time.perf_counter() - t0
    return time.perf_counter() - t0, half_t


def sweep(st, workers: int, tmp: Path) -> float:
    db = tmp / f"{st.name}-w{workers}.sqlite"
    t0 = time.perf_counter()
    rep = run_sweep(st, db=db, workers=workers, quiet=True)
    wall = time.perf_counter() - t0
    if getattr(rep, "failed", 0):
        print(f"warning: {rep.failed} failed tasks", file=sys.stderr)
    return wall


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=200)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "sweep.json"))
    args = ap.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    full, half = study(args.tasks, "bench-full"), study(args.tasks // 2, "bench-half")
    n_full, n_half = len(expand(full)), len(expand(half))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        d_full, _ = direct(full)
        d_half, _ = direct(half)
        s1_full = sweep(full, 1, tmp)
        s1_half = sweep(half, 1, tmp)
        s2_full = sweep(full, 2, tmp)
    speedup = s1_full / s2_full
    marginal = ((s1_full - s1_half) - (d_full - d_half)) / (n_full - n_half)
    plain = (s1_full - d_full) / n_full
    out = {"tasks": n_full, "direct_s": d_full, "direct_per_task_s": d_full / n_full, "sweep_1_worker_s": s1_full,
           "sweep_2_workers_s": s2_full, "speedup_2_over_1": speedup, "half": {"tasks": n_half, "direct_s": d_half,
                                                                              "sweep_1_worker_s": s1_half},
           "engine_overhead_per_task_marginal_ms": 1e3 * marginal, "engine_overhead_per_task_plain_ms": 1e3 * plain,
           "machine": {"platform": platform.platform(), "python": platform.python_version(),
                       "cpus": os.cpu_count()}}
    print(f"{n_full} tasks: direct {d_full:.1f} s ({1e3 * d_full / n_full:.0f} ms/task) | sweep 1 worker "
          f"{s1_full:.1f} s | 2 workers {s2_full:.1f} s | speed-up {speedup:.2f}x | engine overhead "
          f"{1e3 * marginal:.2f} ms/task marginal ({1e3 * plain:.2f} ms/task including worker start)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
