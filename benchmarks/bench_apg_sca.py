"""Benchmark of paper 001's two optimisers, ``apg`` (Algorithm 1) and ``sca`` (Algorithm 2), side by side.

    python benchmarks/bench_apg_sca.py [--sizes small|all] [--reps 1] [--precoding mr] [--no-scale]
                                       [--scale-aps 400 --scale-users 100] [--time-limit 3600] [--out FILE.json]

Part 1 (Table II of the paper, whose sizes the seed lost): the same seeded ``multicast`` instances (1 km² wrap-around,
three-slope path loss, every user's SE floor ``SE_MIN``) solved by ``apg`` and by ``sca`` in one run, at three sizes
up to M = 100 APs with 22 users; per size the wall times, the time ratio SCA/APG and the SSE difference
(SSE_sca − SSE_apg) / SSE_sca. A run that is not optimal/feasible is reported with its status and no number.

Part 2 (scale): ``apg`` alone at M = 400 APs and 100 users (K_u = 40, G = 4 groups of 15): the wall time and the
peak resident set growth (psutil, sampled every 10 ms) of one run, then the peak traced Python/numpy memory
(tracemalloc) of a second run (tracing slows it, so it is not the timed one).

Every number comes from the SolveResult of :func:`experiments.solve` (the evaluator's SSE, the runner's clock).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import threading
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import experiments  # noqa: E402
import instances  # noqa: E402

PROBLEM = "unicast-multicast-sse"
SE_MIN = 0.1
#: (M, N, K_u, G, K_g): 10, 14 and 22 users
SIZES = ((20, 4, 4, 2, 3), (50, 4, 6, 2, 4), (100, 4, 10, 2, 6))


def _instance(M, N, Ku, G, Kg, seed, precoding):
    return instances.generate("multicast", seed=seed, aps=M, antennas=N, unicast=Ku, groups=G, group_size=Kg,
                              precoding=precoding, se_min_unicast_bps_hz=SE_MIN, se_min_multicast_bps_hz=SE_MIN)


def _one(inst, method, precoding, time_limit):
    t = time.perf_counter()
    r = experiments.solve(PROBLEM, inst, method, precoding=precoding, time_limit=time_limit)
    wall = time.perf_counter() - t
    ok = r.status.value in ("optimal", "feasible") and r.objective is not None
    return {"status": r.status.value, "sse_bps_hz": r.objective if ok else None, "wall_time_s": wall,
            "solver_wall_time_s": r.wall_time_s, "iterations": r.iterations, "max_violation": r.max_violation,
            "message": r.message[:200]}


def warm_up(precoding):
    """One tiny solve per method first, so that no measured time includes the lazy imports (Pyomo, Ipopt)."""
    inst = _instance(4, 4 if precoding == "mr" else 6, 2, 1, 2, seed=0, precoding=precoding)
    for method in ("apg", "sca"):
        experiments.solve(PROBLEM, inst, method, precoding=precoding)


def side_by_side(sizes, reps, precoding, time_limit):
    warm_up(precoding)
    rows = []
    for size in sizes:
        for rep in range(reps):
            inst = _instance(*size, seed=1 + rep, precoding=precoding)
            apg = _one(inst, "apg", precoding, time_limit)
            sca = _one(inst, "sca", precoding, time_limit)
            row = {"M": size[0], "N": size[1], "Ku": size[2], "G": size[3], "Kg": size[4],
                   "users": size[2] + size[3] * size[4], "seed": 1 + rep, "apg": apg, "sca": sca,
                   "time_ratio_sca_over_apg": sca["wall_time_s"] / apg["wall_time_s"]}
            if apg["sse_bps_hz"] is not None and sca["sse_bps_hz"] is not None:
                row["sse_rel_diff_sca_minus_apg"] = (sca["sse_bps_hz"] - apg["sse_bps_hz"]) / sca["sse_bps_hz"]
            rows.append(row)
            print(f"M={size[0]:>3} N={size[1]} Ku={size[2]:>2} G={size[3]} Kg={size[4]} seed {1 + rep}: "
                  f"APG {apg['wall_time_s']:8.2f} s SSE {apg['sse_bps_hz']} ({apg['status']}) | "
                  f"SCA {sca['wall_time_s']:8.2f} s SSE {sca['sse_bps_hz']} ({sca['status']}) | "
                  f"SCA/APG time {row['time_ratio_sca_over_apg']:.1f}x, SSE diff "
                  f"{row.get('sse_rel_diff_sca_minus_apg', float('nan')):+.4f}", flush=True)
    return rows


class _PeakRSS:
    """Peak resident set size of this process, sampled every 10 ms in a thread (psutil)."""

    def __init__(self):
        import psutil

        self.proc = psutil.Process(os.getpid())
        self.base = self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.01)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def scale(aps, users, precoding, time_limit):
    G, Kg = 4, 15
    Ku = users - G * Kg
    inst = _instance(aps, 4 if precoding == "mr" else Ku + G + 4, Ku, G, Kg, seed=1, precoding=precoding)
    with _PeakRSS() as rss:                       # timed run (no tracing overhead), RSS sampled
        res = _one(inst, "apg", precoding, time_limit)
    tracemalloc.start()                           # second run for the traced peak (slower under tracing)
    traced = _one(inst, "apg", precoding, time_limit)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out = {"M": aps, "users": users, "Ku": Ku, "G": G, "Kg": Kg, "N": inst.antennas.tolist()[0], **res,
           "tracemalloc_peak_mib": peak / 2**20, "traced_run_wall_time_s": traced["wall_time_s"],
           "rss_peak_growth_mib": (rss.peak - rss.base) / 2**20, "rss_peak_mib": rss.peak / 2**20}
    print(f"scale: APG M={aps} users={users} (Ku={Ku}, G={G}x{Kg}): {res['wall_time_s']:.2f} s, status "
          f"{res['status']}, SSE {res['sse_bps_hz']}, traced peak {out['tracemalloc_peak_mib']:.1f} MiB, RSS "
          f"growth {out['rss_peak_growth_mib']:.1f} MiB (peak {out['rss_peak_mib']:.0f} MiB)", flush=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", choices=("small", "all"), default="all", help="small: the two smaller sizes only")
    ap.add_argument("--reps", type=int, default=1, help="seeded instances per size")
    ap.add_argument("--precoding", choices=("mr", "zf"), default="mr")
    ap.add_argument("--no-scale", action="store_true", help="skip the M = 400 APG run")
    ap.add_argument("--only-scale", action="store_true", help="only the M = 400 APG run")
    ap.add_argument("--scale-aps", type=int, default=400)
    ap.add_argument("--scale-users", type=int, default=100)
    ap.add_argument("--time-limit", type=float, default=3600.0)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "apg_sca.json"))
    args = ap.parse_args(argv)
    sizes = SIZES[:2] if args.sizes == "small" else SIZES
    if args.precoding == "zf":
        sizes = tuple((m, ku + g + 4, ku, g, kg) for m, _, ku, g, kg in sizes)
    out = {"machine": {"platform": platform.platform(), "python": platform.python_version(),
                       "cpus": os.cpu_count()},
           "precoding": args.precoding, "se_min_bps_hz": SE_MIN,
           "side_by_side": [] if args.only_scale else side_by_side(sizes, args.reps, args.precoding,
                                                                   args.time_limit)}
    if not args.no_scale:
        out["scale"] = scale(args.scale_aps, args.scale_users, args.precoding, args.time_limit)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2, default=float))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
