"""Benchmark of the paper-003 uplink power control at the paper's size and at 4× it.

    python benchmarks/bench_iot_uplink.py [--sizes 100x40x20 400x200x50] [--seed 1] [--repeats 3] [--out FILE.json]

For each size M×K×τ_p: one ``rao2020`` instance (1 km² wrap-around, three-slope path loss, 8 dB uncorrelated
shadowing, random unit-norm pilots, 100 mW), LMMSE statistics. Reported (median of ``--repeats`` runs):

* statistics: LMMSE estimator statistics + uplink (a, B, c) — the fixed cost every method pays;
* ``bisection`` (the ``iot-uplink-maxmin`` method): wall time, number of LP solves, simplex iterations, bracket
  1e-6 relative; through the direct highspy interface (default) and through Pyomo + ``solve_model`` (the baseline:
  ratio = Pyomo time / direct time);
* the equalising fixed point (``fixed-point``): iterations and time to a 1e-6 relative bracket on t*;
* Algorithm 1 (target SINR, soft removal) at targets 0.5 t*: iterations and time to a 1e-6 relative change, and its
  gap to the linear-system minimal powers;
* ratios: bisection / fixed point wall time, and each method's time / statistics time.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import instances  # noqa: E402
from models.iot.system import IoTSystem  # noqa: E402
from solvers_adapters.iot.power_control import (bisection_maxmin, fixed_point_maxmin,  # noqa: E402
                                                min_power_linear_system, target_fixed_point)


def _timed(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def bench(M: int, K: int, tau_p: int, seed: int, repeats: int) -> dict:
    inst = instances.generate("rao2020", seed=seed, aps=M, users=K, tau_p=tau_p)

    def stats():
        sys_ = IoTSystem(inst, "lmmse")
        return sys_.ul

    t_stats, lf = _timed(stats, repeats)
    t_bis, bis = _timed(lambda: bisection_maxmin(lf, rel_tol=1e-6), repeats)
    t_pyo, pyo = _timed(lambda: bisection_maxmin(lf, rel_tol=1e-6, interface="pyomo"), 1)
    t_fp, fp = _timed(lambda: fixed_point_maxmin(lf, tol=1e-6, max_iter=1_000_000), repeats)
    targets = np.full(K, 0.5 * bis.value)
    t_a1, a1 = _timed(lambda: target_fixed_point(lf, targets, tol=1e-6, max_iter=1_000_000), repeats)
    eta_ls, feasible, _ = min_power_linear_system(lf, targets)
    sinr = lf.sinr(bis.point)
    a1_eta, a1_removed = a1.point["eta"], len(a1.extra["removed"])
    return {
        "size": {"M": M, "K": K, "tau_p": tau_p, "seed": seed},
        "statistics_s": t_stats,
        "bisection": {"wall_s": t_bis, "lp_solves": bis.iterations,
                      "simplex_iterations": bis.info["lp_iterations"], "t_star": bis.value,
                      "sinr_spread": float((sinr.max() - sinr.min()) / sinr.min()),
                      "max_eta": float(bis.point.max()), "converged": bis.converged},
        "bisection_pyomo": {"wall_s": t_pyo, "lp_solves": pyo.iterations, "t_star": pyo.value},
        "fixed_point_maxmin": {"wall_s": t_fp, "iterations": fp.iterations, "t": fp.value,
                               "rel_diff_to_bisection": abs(fp.value - bis.value) / bis.value},
        "algorithm1_half_target": {"wall_s": t_a1, "iterations": a1.iterations, "converged": a1.extra["converged"],
                                   "removed": a1_removed,
                                   "max_rel_diff_to_linear_system": float(np.max(np.abs(a1_eta - eta_ls) / eta_ls))
                                   if feasible else None},
        "ratios": {"pyomo_over_direct": t_pyo / t_bis, "bisection_over_fixed_point": t_bis / t_fp,
                   "bisection_over_statistics": t_bis / t_stats},
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="*", default=["100x40x20", "400x200x50"], help="MxKxTAU_P")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "iot_uplink.json"))
    args = ap.parse_args(argv)
    results = []
    for s in args.sizes:
        M, K, tau = (int(v) for v in s.lower().split("x"))
        r = bench(M, K, tau, args.seed, args.repeats)
        b, f, a = r["bisection"], r["fixed_point_maxmin"], r["algorithm1_half_target"]
        print(f"M={M} K={K} tau_p={tau}: statistics {r['statistics_s']:.3f} s | bisection {b['wall_s']:.3f} s, "
              f"{b['lp_solves']} LPs ({b['simplex_iterations']} simplex its), t* = {b['t_star']:.6g}, SINR spread "
              f"{b['sinr_spread']:.1e} | Pyomo path {r['bisection_pyomo']['wall_s']:.2f} s "
              f"(x{r['ratios']['pyomo_over_direct']:.1f}) | fixed point {f['iterations']} its {f['wall_s']:.3f} s "
              f"(rel diff {f['rel_diff_to_bisection']:.1e}) | Algorithm 1 at 0.5 t*: {a['iterations']} its "
              f"{a['wall_s']:.3f} s, max rel diff to linear system {a['max_rel_diff_to_linear_system']:.1e}",
              flush=True)
        results.append(r)
    out = {"machine": {"platform": platform.platform(), "python": platform.python_version(),
                       "cpus": os.cpu_count()}, "results": results}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
