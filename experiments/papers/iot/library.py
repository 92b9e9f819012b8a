"""Tiny certified instances of the three paper-003 problems: ``instances/library/tiny-iot-*.json``.

Regenerate with ``python -m experiments.papers.iot.library`` (options: ``--only NAME ...``, ``--out DIR``,
``--time-limit S``, ``--dry-run``). Every instance is a seeded ``instances.generate("rao2020", ...)`` layout with
M ∈ {4, 5, 6} APs, K ∈ {3, 4} things and τ_p = 2 random unit-norm pilots (so the pilots are non-orthogonal, the
paper's point), on a 0.3 km wrap-around square (with 4–6 APs on 1 km² the SINRs are 1e-3-small), things at 10 mW
or 100 mW, APs at 200 mW.

Each instance serves all three problems with the LMMSE estimator (the models' default):

* ``iot-uplink-maxmin`` — optimum = max-min SINR of (12), SCIP on the epigraph (``--method exact``);
* ``iot-uplink-target`` — per-thing targets t_k = u_k t*, u_k ∈ [0.3, 0.8] drawn from ``default_rng([seed, 13])``
  (feasible by construction, since t_k < t*), stored as ``qos.sinr_target``; optimum = minimal radiated power
  (W) of (13), the min-power LP by SCIP;
* ``iot-downlink-maxmin`` — optimum = max-min SINR of (18), SCIP on the epigraph with the SOC constraints.

Every certificate must be ``global``; the card records the SCIP version, times, gaps and optimal points, and the
bisection's value next to SCIP's (they must agree within 1e-5 relative, else the script fails).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import instances
from experiments import library_cli

AREA_KM = 0.3
TAU_P = 2
AGREE = 1e-5
PROBLEMS = ("iot-uplink-maxmin", "iot-uplink-target", "iot-downlink-maxmin")


@dataclass(frozen=True)
class Spec:
    name: str
    aps: int
    users: int
    seed: int
    p_ue_w: float


SPECS: tuple[Spec, ...] = (
    Spec("tiny-iot-01", 4, 3, 1, 0.01),
    Spec("tiny-iot-02", 4, 4, 2, 0.1),
    Spec("tiny-iot-03", 5, 3, 3, 0.1),
    Spec("tiny-iot-04", 5, 4, 4, 0.01),
    Spec("tiny-iot-05", 6, 3, 5, 0.01),
    Spec("tiny-iot-06", 6, 4, 6, 0.1),
)


def make(spec: Spec) -> instances.Instance:
    return instances.generate("rao2020", seed=spec.seed, aps=spec.aps, users=spec.users, tau_p=TAU_P,
                              area_km=AREA_KM, ue_power_w=spec.p_ue_w, pilot_power_w=spec.p_ue_w, name=spec.name)


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


def certify(spec: Spec, *, time_limit: float | None = None) -> tuple[instances.Instance, dict]:
    from solvers_adapters.iot.downlink import run_bisection_dl, run_exact_dl
    from solvers_adapters.iot.uplink import run_bisection, run_exact_target, run_exact_uplink
    from solvers_adapters.scip import scip_version

    base = make(spec)
    ul0 = run_exact_uplink(base, time_limit=time_limit)
    ul0.require(certificate="global")
    u = np.random.default_rng([spec.seed, 13]).uniform(0.3, 0.8, size=spec.users)
    targets = np.round(u * ul0.objective, 6)
    inst = base.replace(qos={"sinr_target": targets.tolist()})

    exact = {"iot-uplink-maxmin": run_exact_uplink(inst, time_limit=time_limit),
             "iot-uplink-target": run_exact_target(inst, time_limit=time_limit),
             "iot-downlink-maxmin": run_exact_dl(inst, time_limit=time_limit)}
    for p, r in exact.items():
        r.require(certificate="global")
    check = {"iot-uplink-maxmin": run_bisection(inst), "iot-downlink-maxmin": run_bisection_dl(inst)}
    for p, r in check.items():
        if _rel(r.objective, exact[p].objective) > AGREE:
            raise RuntimeError(f"{spec.name} {p}: bisection {r.objective} vs SCIP {exact[p].objective}")
    version = f"scip {scip_version()}"
    what = {"iot-uplink-maxmin": "max-min uplink SINR of (12), linear, LMMSE (models.iot.system)",
            "iot-uplink-target": "minimal radiated uplink power of (13) in W, targets qos.sinr_target, LMMSE",
            "iot-downlink-maxmin": "max-min downlink SINR of (18), linear, LMMSE, per-AP power"}
    card = {"problems": list(PROBLEMS),
            "optimum": {p: exact[p].objective for p in PROBLEMS},
            "certified_by": {p: version for p in PROBLEMS},
            "details": {p: {"objective": what[p], "bound": exact[p].bound, "gap": exact[p].gap,
                            "solution": {"eta": exact[p].solution["eta"]},
                            "scip_time_s": round(exact[p].wall_time_s, 3), "nodes": exact[p].iterations,
                            **({"bisection": check[p].objective, "bisection_method": check[p].solver}
                               if p in check else {}),
                            "generated_by": "python -m experiments.papers.iot.library"} for p in PROBLEMS}}
    inst = inst.replace(card=card)
    report = {"name": spec.name, "M": spec.aps, "K": spec.users,
              **{p: exact[p].objective for p in PROBLEMS},
              **{f"t_{p}": exact[p].wall_time_s for p in PROBLEMS}}
    return inst, report


def main(argv: list[str] | None = None) -> int:
    parsed = library_cli.parse("python -m experiments.papers.iot.library", __doc__.split("\n")[0], SPECS, argv,
                               time_limit=600.0)
    if parsed is None:
        return 2
    args, specs = parsed
    out = Path(args.out)
    print(f"{'name':12} {'M':>2} {'K':>2} {'UL t*':>12} {'power W':>12} {'DL t*':>12} {'t_UL':>6} {'t_tg':>6} "
          f"{'t_DL':>6}")
    for spec in specs:
        inst, rep = certify(spec, time_limit=args.time_limit)
        if not args.dry_run:
            inst.save(out / f"{spec.name}.json")
        print(f"{rep['name']:12} {rep['M']:>2} {rep['K']:>2} {rep[PROBLEMS[0]]:12.6g} {rep[PROBLEMS[1]]:12.6g} "
              f"{rep[PROBLEMS[2]]:12.6g} {rep['t_' + PROBLEMS[0]]:6.2f} {rep['t_' + PROBLEMS[1]]:6.2f} "
              f"{rep['t_' + PROBLEMS[2]]:6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
