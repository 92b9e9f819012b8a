"""Stated ratios of ``apg`` and ``sca`` (problem ``unicast-multicast-sse``) measured on FRESH seeded instances, not
on the library cards that the validation checks them against.

    python benchmarks/fresh_multicast_ratios.py [--seeds 200 220] [--out FILE.json]

For each seed: a tiny ``multicast`` layout like the cards' (M ∈ {2, 3}, K_u ∈ {1, 2}, G = 1, K_g = 2, MR on 1 km²
with N = 2 or ZF on a 0.5 km square with N = 4, alternating by seed), solved by ``exact`` (SCIP, must be
``global``); then the same layout with a binding fronthaul limit C̄_fh = 0.7 × the largest per-AP load at that
optimum. ``apg`` and ``sca`` run with their default options; ratio = objective / certified optimum (an infeasible or
failed run counts as ratio 0). Prints a summary table on stdout (per method: runs, feasible, median, worst).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import experiments  # noqa: E402
import instances  # noqa: E402

PROBLEM = "unicast-multicast-sse"
METHODS = ("apg", "sca")


def layouts(seed: int):
    """The free layout of ``seed`` and its binding-fronthaul twin (None when SCIP does not certify the free one)."""
    zf = seed % 2 == 1
    base = instances.generate("multicast", seed=seed, aps=2 + (seed // 4) % 2,
                              antennas=4 if zf else 2, unicast=1 + (seed // 2) % 2, groups=1, group_size=2,
                              area_km=0.5 if zf else 1.0, precoding="zf" if zf else "mr")
    free = experiments.solve(PROBLEM, base, "exact")
    if free.certificate.value != "global":
        return base, free, None, None
    cap = 0.7 * max(free.solution["fronthaul_bps_hz"])
    tight = base.replace(qos={"fronthaul_bps_hz": round(float(cap), 6)})
    bound = experiments.solve(PROBLEM, tight, "exact")
    return base, free, tight, bound


def ratios(inst, exact) -> dict[str, float]:
    out = {}
    for m in METHODS:
        r = experiments.solve(PROBLEM, inst, m, seed=0)
        out[m] = (r.objective / exact.objective) if r.objective is not None and r.status.value in (
            "optimal", "feasible") else 0.0
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", nargs=2, type=int, default=[200, 220])
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    rows = []
    for seed in range(*args.seeds):
        base, free, tight, bound = layouts(seed)
        for kind, inst, ex in (("free", base, free), ("fronthaul", tight, bound)):
            if inst is None or ex is None or ex.certificate.value != "global" or ex.objective is None:
                print(f"seed {seed} {kind}: exact not global ({ex.status.value if ex else '-'}), skipped",
                      file=sys.stderr)
                continue
            row = {"seed": seed, "kind": kind, "M": inst.M, "K": inst.K, "optimum": ex.objective,
                   **ratios(inst, ex)}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    print(f"{'method':<8}{'runs':>6}{'feasible':>10}{'median':>10}{'worst':>10}")
    for m in METHODS:
        vals = [r[m] for r in rows]
        print(f"{m:<8}{len(vals):>6}{sum(v > 0 for v in vals):>10}{statistics.median(vals):>10.4f}{min(vals):>10.4f}")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
