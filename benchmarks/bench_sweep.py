"""Benchmark of the sweep engine (``cfopt sweep``): parallel speed-up and per-task overhead.

    python benchmarks/bench_sweep.py [--tasks 200] [--out FILE.json]

The study: ``iot-downlink-maxmin`` / ``bisection`` (Ipopt SOCP solves, CPU-bound, 0.3–1 s per task) on ``rao2020``
instances with M ∈ {16, 20, 24, 28}, K ∈ {6, 8}, τ_p = 3, 0.5 km square, and as many realisations as make ``--tasks``
tasks. Measured in the same run:

* **speed-up** on the CPU-bound study = time(1 worker) / time(2 workers), ``run_sweep`` into fresh SQLite files
  (target ≥ 1.8 on 2 cores);
* **engine overhead per task** on a cheap study (``iot-uplink-maxmin`` / ``full-power``, 10 APs × 6 things, ~2 ms
  per task, ``--cheap-tasks``): the baseline is every task's instance generation + ``experiments.solve`` called in
  this process (:func:`experiments.sweep.run_task` without the engine). The marginal cost [sweep(N) − sweep(N/2)] −
  [direct(N) − direct(N/2)] divided by N/2 (target ≤ 5 ms) leaves out the one-off start of the worker process
  (imports, ~1–2 s); the plain (sweep − direct)/N is reported next to it.
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

GRID = {"aps": [16, 20, 24, 28], "users": [6, 8]}


def study(n_tasks: int, name: str, *, cheap: bool = False):
    """CPU-bound: iot-downlink-maxmin / bisection (0.3–1 s). ``cheap``: iot-uplink-maxmin / full-power on 10 × 6
    instances (~2 ms: instance generation + one evaluation), so the engine's own cost per task dominates."""
    points = len(GRID["aps"]) * len(GRID["users"])
    if cheap:
        return parse_study({"name": name, "problem": "iot-uplink-maxmin", "methods": ["full-power"],
                            "realisations": max(1, n_tasks), "base_seed": 11,
                            "generator": {"scenario": "rao2020", "params": {"tau_p": 3, "area_km": 0.5}},
                            "grid": {"aps": [10], "users": [6]}})
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
    ap.add_argument("--tasks", type=int, default=200, help="CPU-bound tasks (speed-up)")
    ap.add_argument("--cheap-tasks", type=int, default=1000, help="cheap tasks (engine overhead)")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "sweep.json"))
    args = ap.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    full = study(args.tasks, "bench-full")
    n_full = len(expand(full))
    cheap_full, cheap_half = (study(args.cheap_tasks, "bench-cheap", cheap=True),
                              study(args.cheap_tasks // 2, "bench-cheap-half", cheap=True))
    n_cf, n_ch = len(expand(cheap_full)), len(expand(cheap_half))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        s1_full = sweep(full, 1, tmp)
        s2_full = sweep(full, 2, tmp)
        d_cf, _ = direct(cheap_full)
        d_ch, _ = direct(cheap_half)
        s_cf = sweep(cheap_full, 1, tmp)
        s_ch = sweep(cheap_half, 1, tmp)
    speedup = s1_full / s2_full
    marginal = ((s_cf - s_ch) - (d_cf - d_ch)) / (n_cf - n_ch)
    plain = (s_cf - d_cf) / n_cf
    out = {"cpu_bound": {"tasks": n_full, "sweep_1_worker_s": s1_full, "sweep_2_workers_s": s2_full,
                         "speedup_2_over_1": speedup},
           "overhead": {"tasks": n_cf, "direct_s": d_cf, "direct_per_task_ms": 1e3 * d_cf / n_cf,
                        "sweep_1_worker_s": s_cf, "half_tasks": n_ch, "half_direct_s": d_ch,
                        "half_sweep_1_worker_s": s_ch, "engine_overhead_per_task_marginal_ms": 1e3 * marginal,
                        "engine_overhead_per_task_plain_ms": 1e3 * plain},
           "machine": {"platform": platform.platform(), "python": platform.python_version(),
                       "cpus": os.cpu_count()}}
    print(f"CPU-bound, {n_full} tasks: 1 worker {s1_full:.1f} s, 2 workers {s2_full:.1f} s, speed-up "
          f"{speedup:.2f}x | overhead study, {n_cf} tasks of {1e3 * d_cf / n_cf:.1f} ms each directly: sweep adds "
          f"{1e3 * marginal:.2f} ms/task (marginal), {1e3 * plain:.2f} ms/task including the worker start")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
