"""Benchmark of ``ao-qt`` (paper 000 Algorithm 1) at the paper's scale.

    python benchmarks/bench_ao_qt.py [--aps 100] [--users 50] [--antennas 8] [--tau-p 5] [--seed 1]
                                     [--se-qos X | --se-frac 0.8] [--out FILE.json]

One Ngo-2017 instance (1 km² wrap-around, three-slope path loss, 8 dB shadowing; pilots shared at random).
SE^QoS defaults to ``--se-frac`` × the sum SE of the paper's initial point (95 %-of-max-LSFC association, full power),
so the floor binds without making the start infeasible.

Reported: ao-qt wall time, iterations, time per iteration, true EE per iteration, final EE and sum SE, and the
evaluator's feasibility verdict. Baselines measured in the same run, reported as ratios:
* ``lsfc-95`` (the initial point, no optimisation): ao-qt EE / lsfc-95 EE;
* ``all-serve-all`` (power block only, D = all ones): wall-time ratio and EE ratio;
* one evaluator call (optimal LSFD + SINR + power model): ao-qt time per iteration / evaluator time.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import experiments  # noqa: E402
import instances  # noqa: E402
from models.uplink_ee.system import prepare  # noqa: E402


def _solve(inst, method: str, **options):
    """A re-scored SolveResult of ``method`` through the registry (the runners return an Outcome)."""
    return experiments.solve("uplink-ee", inst, method, **options)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--aps", type=int, default=100)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--antennas", type=int, default=8)
    ap.add_argument("--tau-p", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--se-qos", type=float, default=None)
    ap.add_argument("--se-frac", type=float, default=0.8)
    ap.add_argument("--time-limit", type=float, default=3600.0)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "ao_qt.json"))
    args = ap.parse_args(argv)

    inst = instances.generate("ngo2017", seed=args.seed, aps=args.aps, users=args.users, antennas=args.antennas,
                              tau_p=args.tau_p)
    base = _solve(inst, "lsfc-95", se_qos=0.0)
    se0 = base.solution["sum_se_bps_hz"]
    se_qos = args.se_qos if args.se_qos is not None else args.se_frac * se0
    data = prepare(inst, se_qos=se_qos)
    eta, D = np.ones(inst.K), np.asarray(base.solution["assoc"])
    reps = 20
    t = time.perf_counter()
    for _ in range(reps):
        data.evaluate(eta, D)
    t_eval = (time.perf_counter() - t) / reps

    print(f"M={inst.M} T={inst.K} A={args.antennas} tau_p={args.tau_p} seed={args.seed}: SE^QoS = {se_qos:.3f} "
          f"bit/s/Hz (initial point: sum SE {se0:.3f}, EE {base.objective:.4f} Mbit/J)", flush=True)
    t = time.perf_counter()
    res = _solve(inst, "ao-qt", se_qos=se_qos, time_limit=args.time_limit,
                 progress=lambda i, ee, se: print(f"  iteration {i}: EE {ee:.4f} Mbit/J, sum SE {se:.3f}, "
                                                  f"{time.perf_counter() - t:.1f} s", flush=True))
    wall = time.perf_counter() - t
    t = time.perf_counter()
    asa = _solve(inst, "all-serve-all", se_qos=se_qos, time_limit=args.time_limit)
    wall_asa = time.perf_counter() - t
    its = max(res.iterations or 1, 1)
    out = {
        "instance": {"M": inst.M, "T": inst.K, "A": args.antennas, "tau_p": args.tau_p, "seed": args.seed,
                     "se_qos": se_qos},
        "ao_qt": {"status": res.status.value, "certificate": res.certificate.value, "wall_time_s": wall,
                  "iterations": res.iterations, "time_per_iteration_s": wall / its, "trace_ee": res.trace,
                  "ee_mbit_per_j": res.objective, "sum_se": res.solution.get("sum_se_bps_hz"),
                  "max_violation": res.max_violation,
                  "associations": int(np.sum(res.solution.get("assoc", 0)))},
        "baselines": {
            "lsfc95": {"ee_mbit_per_j": base.objective, "sum_se": se0},
            "all_serve_all": {"status": asa.status.value, "wall_time_s": wall_asa, "ee_mbit_per_j": asa.objective,
                              "iterations": asa.iterations},
            "evaluator_call_s": t_eval,
        },
        "ratios": {
            "ee_vs_lsfc95": (res.objective / base.objective) if res.objective and base.objective else None,
            "ee_vs_all_serve_all": (res.objective / asa.objective) if res.objective and asa.objective else None,
            "time_vs_all_serve_all": wall / wall_asa if wall_asa > 0 else None,
            "iteration_vs_evaluator": (wall / its) / t_eval,
        },
        "machine": {"python": platform.python_version(), "cores": os.cpu_count()},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2, default=str))
    print(json.dumps({k: out[k] for k in ("ao_qt", "baselines", "ratios")}, indent=2, default=str))
    return 0 if res.has_solution else 1


if __name__ == "__main__":
    sys.exit(main())
