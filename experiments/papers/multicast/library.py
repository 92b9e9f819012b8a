"""Tiny certified instances of ``unicast-multicast-sse`` (paper 001): ``instances/library/tiny-mc-*.json``.

Regenerate with ``cfopt library certify --only tiny-mc-01 ...`` (:mod:`experiments.certify` writes the cards).
Every card is a seeded ``instances.generate("multicast", ...)`` layout with M ∈ {2, 3, 4} APs, K_u ∈ {1, 2} unicast
users and G = 1 multicast group of K_g = 2 users (so S = K_u + 1 streams and M·S ≤ 12 binaries), on a
wrap-around square of 1 km² (MR) or 0.5 km side (ZF): at higher SNR SCIP's spatial branch-and-bound stalls at a
1e-4 gap on the MR cards (probe of 2026-12-02: M = 2 MR cards on a 0.25 km square hit 40 s limits at gaps
1e-4 to 1e-3, the same layouts on 1 km² close in < 3 s). Half the cards use MR (N = 2 antennas),
half ZF (N = 4 > K_u + G; ZF needs N > S; tiny-mc-01 has N = 3, so ZF is defined on it as well); the precoding sits in the instance (``multicast`` block) and in each
card entry's ``context``.

Half the cards carry a **binding** limit, set from the unconstrained optimum a* (SCIP, global) and checked to bind:

* ``qos-unicast`` / ``qos-multicast`` — the SE floor (31c) of every user of that type at the first of
  ``QOS_MULTIPLES`` (1.5 … 1.05) × the weakest such SE at a* that is feasible (SCIP decides: an infeasible floor
  is skipped and recorded in ``notes.tried``);
* ``fronthaul`` — C̄_fh = factor × the largest per-AP fronthaul load (31d) at a* (factor < 1).

The certificate must be ``global`` (SCIP on the MINLP (31) of ``formulations/multicast``); the card records the
unconstrained optimum next to the constrained one (``notes.unconstrained_optimum``) so that "binding" is checkable.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from experiments.certify import Certified, entry, LibrarySpec, register_library_spec

PROBLEM = "unicast-multicast-sse"
#: the constrained optimum must be at least this much (relative) below the unconstrained one for a binding card
BINDS = 1e-4
WHAT = "weighted sum SE (31a) in bit/s/Hz, models.multicast.system.evaluate"


@dataclass(frozen=True)
class Spec:
    name: str
    aps: int
    unicast: int
    precoding: str
    seed: int
    binding: str = ""          # "", "qos-unicast", "qos-multicast" or "fronthaul"
    factor: float = 1.0
    area_km: float = 1.0
    n: int = 0                 # antennas per AP; 0 = 2 for MR, 4 for ZF

    @property
    def antennas(self) -> int:
        return self.n or (2 if self.precoding == "mr" else 4)


SPECS: tuple[Spec, ...] = (
    Spec("tiny-mc-01", 2, 1, "mr", 1, n=3),        # N = 3 > S: ZF is defined too (the contract tests use it)
    Spec("tiny-mc-02", 3, 1, "mr", 2),
    Spec("tiny-mc-03", 3, 2, "mr", 3),
    Spec("tiny-mc-04", 2, 1, "zf", 4, area_km=0.5),
    Spec("tiny-mc-05", 3, 1, "zf", 5, area_km=0.5),
    Spec("tiny-mc-06", 3, 2, "zf", 16, area_km=0.5),
    Spec("tiny-mc-07", 3, 1, "mr", 17, "qos-unicast"),
    Spec("tiny-mc-08", 3, 2, "mr", 8, "fronthaul", 0.7),
    Spec("tiny-mc-09", 4, 1, "mr", 9, "qos-unicast"),
    Spec("tiny-mc-10", 3, 1, "zf", 10, "fronthaul", 0.7, area_km=0.5),
    Spec("tiny-mc-11", 3, 2, "zf", 11, "fronthaul", 0.7, area_km=0.5),
    Spec("tiny-mc-12", 4, 1, "zf", 22, "qos-unicast", area_km=0.5),
)
_BY_NAME = {s.name: s for s in SPECS}


def make(spec: Spec, **overrides):
    """The card's instance without QoS (the generator's defaults elsewhere: three-slope model, τ_t = K_u + G)."""
    import instances

    kw = dict(seed=spec.seed, aps=spec.aps, antennas=spec.antennas, unicast=spec.unicast, groups=1, group_size=2,
              area_km=spec.area_km, precoding=spec.precoding, name=spec.name)
    kw.update(overrides)
    return instances.generate("multicast", **kw)


#: QoS cards: floors tried, as multiples of the weakest SE of the receiver type at the unconstrained optimum a*
#: (or as fractions of its best SE when a* leaves that type at ~0)
QOS_MULTIPLES = (1.5, 1.3, 1.15, 1.05)
QOS_FRACTIONS = (0.8, 0.6, 0.45, 0.3, 0.2)


def _candidates(spec: Spec, free) -> list[dict[str, Any]]:
    """The limits to try for ``spec``, from the unconstrained optimum ``free`` (a SolveResult): fronthaul C̄_fh =
    factor × the largest per-AP load; a QoS floor for every user of the type, above what a* gives its weakest user
    (:data:`QOS_MULTIPLES` × that SE, or :data:`QOS_FRACTIONS` × the type's best SE when the weakest is ~0), so a
    feasible floor binds unless another optimum meets it (the strict-decrease check rejects that)."""
    if spec.binding == "fronthaul":
        load = np.asarray(free.solution["fronthaul_bps_hz"], dtype=float)
        return [{"fronthaul_bps_hz": round(float(spec.factor * load.max()), 6)}]
    if not spec.binding:
        return []
    se = np.asarray(free.solution["se_bps_hz"], dtype=float)
    mine = se[:spec.unicast] if spec.binding == "qos-unicast" else se[spec.unicast:]
    key = "se_min_unicast_bps_hz" if spec.binding == "qos-unicast" else "se_min_multicast_bps_hz"
    if mine.min() > 1e-3:
        floors = [q * mine.min() for q in QOS_MULTIPLES]
    else:
        floors = [f * mine.max() for f in QOS_FRACTIONS if f * mine.max() > 1e-3]
    return [{key: round(float(v), 6)} for v in floors]


def certify(name: str, time_limit: float | None) -> Certified:
    """Generate ``name``, certify its unconstrained optimum by SCIP (through :func:`experiments.solve`), then the
    first candidate limit (:func:`_candidates`) that is feasible, and check that it binds."""
    import experiments

    spec = _BY_NAME[name]
    base = make(spec)
    free = experiments.solve(PROBLEM, base, "exact", time_limit=time_limit)
    free.require(certificate="global")
    inst, res, tried = base, free, []
    for qos in _candidates(spec, free):
        trial = base.replace(qos=qos)
        r = experiments.solve(PROBLEM, trial, "exact", time_limit=time_limit)
        tried.append({**qos, "status": r.status.value})
        if r.status.value == "infeasible":
            continue
        r.require(certificate="global")
        inst, res = trial, r
        break
    if spec.binding and not res.objective < free.objective * (1 - BINDS):
        raise RuntimeError(f"{name}: no {spec.binding} limit binds (tried {tried}; {res.objective} vs "
                           f"unconstrained {free.objective})")
    notes: dict[str, Any] = {"objective": WHAT, "precoding": spec.precoding, "nodes": res.iterations,
                             "binding": spec.binding or "none"}
    if spec.binding:
        notes.update(unconstrained_optimum=free.objective, limit=dict(inst.qos), tried=tried)
    e = entry(res, generated_by=f"cfopt library certify --only {name}", solution_keys=("assoc", "eta"),
              notes=notes)
    report = {"M": spec.aps, "Ku": spec.unicast, "prec": spec.precoding, "binding": spec.binding or "-",
              "optimum": res.objective, "free": free.objective, "s": round(res.wall_time_s, 2)}
    return Certified(inst, {PROBLEM: e}, report=report)


LIBRARY = register_library_spec(LibrarySpec(paper="multicast", names=tuple(_BY_NAME), certify=certify,
                                            time_limit=600.0))
