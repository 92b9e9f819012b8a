"""Tiny certified instances of the three paper-003 problems: ``instances/library/tiny-iot-*.json``.

Regenerate with ``cfopt library certify --only tiny-iot-01 ...`` (:mod:`experiments.certify` writes the cards).
Every instance is a seeded ``instances.generate("rao2020", ...)`` layout with M ∈ {4, 5, 6} APs, K ∈ {3, 4}
things and τ_p = 2 random unit-norm pilots (so the pilots are non-orthogonal, the paper's point), on a 0.3 km
wrap-around square (with 4–6 APs on 1 km² the SINRs are 1e-3-small), things at 10 mW or 100 mW, APs at 200 mW.

Each instance serves all three problems with the LMMSE estimator (the models' default):

* ``iot-uplink-maxmin`` — optimum = max-min SINR of (12), SCIP on the epigraph (method ``exact``);
* ``iot-uplink-target`` — per-thing targets t_k = u_k t*, u_k ∈ [0.3, 0.8] drawn from ``default_rng([seed, 13])``
  (feasible by construction, since t_k < t*), stored as ``qos.sinr_target``; optimum = minimal radiated power
  (W) of (13), the min-power LP by SCIP;
* ``iot-downlink-maxmin`` — optimum = max-min SINR of (18), SCIP on the epigraph with the SOC constraints.

Every certificate must be ``global``; the card records the SCIP version, times, gaps and optimal points, and the
bisection's value next to SCIP's (they must agree within 1e-5 relative, else certification fails).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from experiments.certify import Certified, LibrarySpec, entry, register_library_spec

AREA_KM = 0.3
TAU_P = 2
AGREE = 1e-5
PROBLEMS = ("iot-uplink-maxmin", "iot-uplink-target", "iot-downlink-maxmin")
WHAT = {"iot-uplink-maxmin": "max-min uplink SINR of (12), linear, LMMSE (models.iot.system)",
        "iot-uplink-target": "minimal radiated uplink power of (13) in W, targets qos.sinr_target, LMMSE",
        "iot-downlink-maxmin": "max-min downlink SINR of (18), linear, LMMSE, per-AP power"}
#: the method whose value must agree with SCIP's (within AGREE)
CHECK_METHOD = {"iot-uplink-maxmin": "bisection", "iot-downlink-maxmin": "bisection"}


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
_BY_NAME = {s.name: s for s in SPECS}


def make(spec: Spec):
    import instances

    return instances.generate("rao2020", seed=spec.seed, aps=spec.aps, users=spec.users, tau_p=TAU_P,
                              area_km=AREA_KM, ue_power_w=spec.p_ue_w, pilot_power_w=spec.p_ue_w, name=spec.name)


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


def certify(name: str, time_limit: float | None) -> Certified:
    """Generate ``name``, draw its SINR targets, certify the three optima (through :func:`experiments.solve`)."""
    import experiments

    spec = _BY_NAME[name]
    base = make(spec)
    ul0 = experiments.solve(PROBLEMS[0], base, "exact", time_limit=time_limit)
    ul0.require(certificate="global")
    u = np.random.default_rng([spec.seed, 13]).uniform(0.3, 0.8, size=spec.users)
    inst = base.replace(qos={"sinr_target": np.round(u * ul0.objective, 6).tolist()})
    exact = {p: experiments.solve(p, inst, "exact", time_limit=time_limit) for p in PROBLEMS}
    entries = {}
    for p, res in exact.items():
        notes: dict[str, Any] = {"objective": WHAT[p], "nodes": res.iterations}
        if p in CHECK_METHOD:
            check = experiments.solve(p, inst, CHECK_METHOD[p])
            if _rel(check.objective, res.objective) > AGREE:
                raise RuntimeError(f"{name} {p}: {CHECK_METHOD[p]} {check.objective} vs SCIP {res.objective}")
            notes.update(bisection=check.objective, bisection_method=check.solver)
        entries[p] = entry(res, generated_by=f"cfopt library certify --only {name}", notes=notes)
    report = {"M": spec.aps, "K": spec.users, **{p: exact[p].objective for p in PROBLEMS}}
    return Certified(inst, entries, report=report)


def legacy_context(instance: Any, problem: str, e: Mapping[str, Any]) -> dict[str, Any]:
    """The evaluation context of a pre-schema card: LMMSE (the card's stated estimator) and, for the target
    problem, the instance's targets (``cfopt solve`` records exactly these for method ``exact``)."""
    ctx: dict[str, Any] = {"estimator": "lmmse"}
    if problem == "iot-uplink-target":
        ctx["targets"] = [float(t) for t in instance.qos["sinr_target"]]
    return ctx


LIBRARY = register_library_spec(LibrarySpec(paper="iot", names=tuple(_BY_NAME), certify=certify, time_limit=600.0,
                                            legacy_context=legacy_context))
