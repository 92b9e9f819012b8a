"""Tiny certified instances of problem ``uplink-ee`` (paper 000, problem (11)): ``instances/library/tiny-ulee-*.json``.

Regenerate with ``cfopt library certify --only tiny-ulee-01 ...`` (:mod:`experiments.certify` writes the cards).
Every instance is a seeded ``instances.generate("ngo2017", ...)`` layout with M ∈ {3, 4, 5} APs, T ∈ {2, 3} UEs,
A ∈ {2, 4} antennas and orthogonal pilots (τ_p = T), on a 0.3 km square (30–60 APs/km², the AP density of the
paper's Section V, where M = 30–110 APs share 1 km²; with 3–5 APs on the generator's default 1 km² most links are
too weak for the association to matter).

SE^QoS (11d) of each instance is derived from two certified solves of the model without QoS:
U = the SE-max end point (max Σ SE, method ``exact`` with ``objective="sum_se"``) and S₀ = Σ SE at the EE optimum
without QoS. A ``"binding"`` instance gets SE^QoS = S₀ + ½ (U − S₀) (the QoS moves the EE optimum), a ``"slack"``
one SE^QoS = 0.8 S₀ (it does not); both rounded to 4 decimals (down). The EE optimum with that QoS must then be
certified ``global`` by SCIP; its evaluator value (Mbit/J, eq. (11a)) is the card's optimum. The card's notes
record U, S₀, the EE without QoS and the SCIP times of the two preliminary solves.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from experiments.certify import Certified, LibrarySpec, entry, register_library_spec

PROBLEM = "uplink-ee"
AREA_KM = 0.3
GENERATED_BY = "cfopt library certify"
OBJECTIVE = ("EE of (11a) in Mbit/J, models.uplink_ee.system defaults (PFZF, seed pre-log, seed power model, "
             "optimal LSFD)")


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
_BY_NAME = {s.name: s for s in SPECS}


def make(spec: Spec):
    """The layout of ``spec`` (no QoS, no card)."""
    import instances

    return instances.generate("ngo2017", seed=spec.seed, aps=spec.aps, users=spec.users, antennas=spec.antennas,
                              tau_p=spec.users, area_km=AREA_KM, name=spec.name)


def _floor4(x: float) -> float:
    return math.floor(x * 1e4) / 1e4


def certify(name: str, time_limit: float | None) -> Certified:
    """Generate ``name``, derive its SE^QoS, certify its optimum (every solve through :func:`experiments.solve`)."""
    import experiments

    spec = _BY_NAME[name]
    base = make(spec)
    solve = lambda inst, **kw: experiments.solve(PROBLEM, inst, "exact", time_limit=time_limit, **kw)  # noqa: E731
    se_max = solve(base, se_qos=0.0, objective="sum_se")
    se_max.require(certificate="global")
    free = solve(base, se_qos=0.0)
    free.require(certificate="global")
    U, S0 = float(se_max.solver_objective), float(free.solution["sum_se_bps_hz"])
    qos = _floor4(S0 + 0.5 * (U - S0)) if spec.qos == "binding" else _floor4(0.8 * S0)
    inst = base.replace(qos={"sum_se_min_bps_hz": qos})
    res = solve(inst)
    binding = res.objective < free.objective * (1 - 1e-6)
    if binding != (spec.qos == "binding"):
        raise RuntimeError(f"{name}: QoS {qos} was meant to be {spec.qos} but binding={binding}")
    notes = {"objective": OBJECTIVE, "se_qos_bps_hz": qos, "qos": spec.qos, "se_max_bps_hz": U,
             "ee_without_qos_mbit_per_j": free.objective, "sum_se_without_qos_bps_hz": S0,
             "sum_se_bps_hz": res.solution["sum_se_bps_hz"], "nodes": res.iterations,
             "solver_time_s": {"se_max": round(se_max.wall_time_s, 3), "ee_without_qos": round(free.wall_time_s, 3),
                               "ee": round(res.wall_time_s, 3)}}
    card_entry = entry(res, generated_by=f"{GENERATED_BY} --only {name}", solution_keys=("eta", "assoc"),
                       notes=notes)
    report = {"M": spec.aps, "T": spec.users, "A": spec.antennas, "qos": spec.qos, "se_qos": qos, "se_max": U,
              "ee": res.objective, "ee_free": free.objective, "t_ee": round(res.wall_time_s, 2)}
    return Certified(inst, {PROBLEM: card_entry}, report=report)


def legacy_context(instance: Any, problem: str, e: Mapping[str, Any]) -> dict[str, Any]:
    """The evaluation context of a pre-schema card: the model defaults the card was certified under (see
    ``OBJECTIVE``) and the instance's SE^QoS (``cfopt solve`` records exactly these for method ``exact``)."""
    return {"combining": "pfzf", "delta": 0.85, "leakage": "exact", "prelog": "seed", "power": "seed",
            "se_qos": float(instance.qos["sum_se_min_bps_hz"]), "lsfd": "optimal"}


LIBRARY = register_library_spec(LibrarySpec(paper="uplink_ee", names=tuple(_BY_NAME), certify=certify,
                                            time_limit=300.0, legacy_context=legacy_context))
