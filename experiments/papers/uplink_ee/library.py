"""Tiny certified instances of problem ``uplink-ee`` (paper 000, problem (11)): ``instances/library/tiny-ulee-*.json``.

Regenerate with ``python -m experiments.papers.uplink_ee.library`` (options: ``--only NAME ...``, ``--out DIR``,
``--time-limit S``, ``--dry-run``). Every instance is a seeded ``instances.generate("ngo2017", ...)`` layout with
M ∈ {3, 4, 5} APs, T ∈ {2, 3} UEs, A ∈ {2, 4} antennas and orthogonal pilots (τ_p = T), on a 0.3 km square
(30–60 APs/km², the AP density of the paper's Section V, where M = 30–110 APs share 1 km²; with 3–5 APs on the
generator's default 1 km² most links are too weak for the association to matter).

SE^QoS (11d) of each instance is derived from two certified solves of the model without QoS:
U = the SE-max end point (max Σ SE, :func:`solvers_adapters.uplink_ee.exact.run_exact` with ``objective="sum_se"``)
and S₀ = Σ SE at the EE optimum without QoS. A ``"binding"`` instance gets SE^QoS = S₀ + ½ (U − S₀) (the QoS
moves the EE optimum), a ``"slack"`` one SE^QoS = 0.8 S₀ (it does not); both rounded to 4 decimals (down).
The EE optimum with that QoS must then be certified ``global`` by SCIP; its evaluator value (Mbit/J, eq. (11a))
is the card's optimum. The card also records U, S₀, the EE without QoS, the optimal (η, D) and the SCIP times.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import instances
from experiments import library_cli
from solvers_adapters.scip import scip_version
from solvers_adapters.uplink_ee.exact import run_exact

PROBLEM = "uplink-ee"
AREA_KM = 0.3


@dataclass(frozen=True)
class Spec:
    name: str
    aps: int
    users: int
    antennas: int
    seed: int
    qos: str            # "binding" or "slack"


#: one instance per (M, T, A) of the grid, binding and slack QoS alternating
SPECS: tuple[Spec, ...] = (
    Spec("tiny-ulee-01", 3, 2, 2, 1, "binding"),
    Spec("tiny-ulee-02", 3, 2, 4, 2, "slack"),
    Spec("tiny-ulee-03", 3, 3, 2, 1, "slack"),
    Spec("tiny-ulee-04", 3, 3, 4, 2, "binding"),
    Spec("tiny-ulee-05", 4, 2, 2, 0, "binding"),
    Spec("tiny-ulee-06", 4, 2, 4, 2, "slack"),
    Spec("tiny-ulee-07", 4, 3, 2, 1, "slack"),
    Spec("tiny-ulee-08", 4, 3, 4, 0, "binding"),
    Spec("tiny-ulee-09", 5, 2, 2, 2, "slack"),
    Spec("tiny-ulee-10", 5, 2, 4, 1, "binding"),
    Spec("tiny-ulee-11", 5, 3, 2, 1, "binding"),
    Spec("tiny-ulee-12", 5, 3, 4, 0, "slack"),
)


def make(spec: Spec) -> instances.Instance:
    """The layout of ``spec`` (no QoS, no card)."""
    return instances.generate("ngo2017", seed=spec.seed, aps=spec.aps, users=spec.users, antennas=spec.antennas,
                              tau_p=spec.users, area_km=AREA_KM, name=spec.name)


def _floor4(x: float) -> float:
    return math.floor(x * 1e4) / 1e4


def certify(spec: Spec, *, time_limit: float | None = None) -> tuple[instances.Instance, dict]:
    """Generate ``spec``, derive its SE^QoS, certify its optimum; returns the carded instance and a report."""
    base = make(spec)
    se_max = run_exact(base, se_qos=0.0, objective="sum_se", time_limit=time_limit)
    se_max.require(certificate="global")
    free = run_exact(base, se_qos=0.0, time_limit=time_limit)
    free.require(certificate="global")
    U, S0 = float(se_max.solver_objective), float(free.solution["sum_se_bps_hz"])
    if spec.qos == "binding":
        qos = _floor4(S0 + 0.5 * (U - S0))
    elif spec.qos == "slack":
        qos = _floor4(0.8 * S0)
    else:
        raise ValueError(f"unknown qos mode {spec.qos!r}")
    inst = base.replace(qos={"sum_se_min_bps_hz": qos})
    res = run_exact(inst, time_limit=time_limit)
    res.require(certificate="global")
    binding = res.objective < free.objective * (1 - 1e-6)
    if binding != (spec.qos == "binding"):
        raise RuntimeError(f"{spec.name}: QoS {qos} was meant to be {spec.qos} but binding={binding}")
    version = f"scip {scip_version()}"
    card = {
        "problems": [PROBLEM],
        "optimum": {PROBLEM: res.objective},
        "certified_by": {PROBLEM: version},
        "details": {PROBLEM: {
            "objective": "EE of (11a) in Mbit/J, models.uplink_ee.system defaults (PFZF, seed pre-log, seed power model, "
                         "optimal LSFD)",
            "se_qos_bps_hz": qos, "qos": spec.qos,
            "se_max_bps_hz": U, "ee_without_qos_mbit_per_j": free.objective, "sum_se_without_qos_bps_hz": S0,
            "sum_se_bps_hz": res.solution["sum_se_bps_hz"], "bound_mbit_per_j": res.bound, "gap": res.gap,
            "solution": {"eta": res.solution["eta"], "assoc": res.solution["assoc"]},
            "scip_time_s": {"se_max": round(se_max.wall_time_s, 3), "ee_without_qos": round(free.wall_time_s, 3),
                            "ee": round(res.wall_time_s, 3)},
            "nodes": res.iterations, "method": "solvers_adapters.uplink_ee.exact.run_exact",
            "generated_by": "python -m experiments.papers.uplink_ee.library",
        }},
    }
    inst = inst.replace(card=card)
    report = {"name": spec.name, "M": spec.aps, "T": spec.users, "A": spec.antennas, "seed": spec.seed,
              "qos": spec.qos, "se_qos": qos, "se_max": U, "ee": res.objective, "ee_free": free.objective,
              "t_se_max": se_max.wall_time_s, "t_free": free.wall_time_s, "t_ee": res.wall_time_s,
              "nodes": res.iterations, "certified_by": version}
    return inst, report


def main(argv: list[str] | None = None) -> int:
    parsed = library_cli.parse("python -m experiments.papers.uplink_ee.library", __doc__.split("\n")[0], SPECS, argv,
                               time_limit=300.0)
    if parsed is None:
        return 2
    args, specs = parsed
    out = Path(args.out)
    print(f"{'name':14} {'M':>2} {'T':>2} {'A':>2} {'qos':8} {'SE^QoS':>8} {'SE-max':>8} {'EE':>10} "
          f"{'EE(no QoS)':>10} {'t_SEmax':>7} {'t_free':>7} {'t_EE':>7} {'nodes':>6}")
    for spec in specs:
        inst, rep = certify(spec, time_limit=args.time_limit)
        if not args.dry_run:
            inst.save(out / f"{spec.name}.json")
        print(f"{rep['name']:14} {rep['M']:>2} {rep['T']:>2} {rep['A']:>2} {rep['qos']:8} {rep['se_qos']:8.4f} "
              f"{rep['se_max']:8.4f} {rep['ee']:10.6f} {rep['ee_free']:10.6f} {rep['t_se_max']:7.2f} "
              f"{rep['t_free']:7.2f} {rep['t_ee']:7.2f} {rep['nodes']:>6}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
