"""Shared pieces of the paper-001 methods (``unicast-multicast-sse``): the system, the point, the verdict, and the
§6.6 post-processing (rounding and repair) that every heuristic method ends with.

Every method returns an :class:`~solvers_adapters.algorithms.Outcome` with point ``{"assoc": a [M][S] (0/1),
"eta": η [M][S]}`` and context ``{"precoding": the resolved precoder}``. A point whose QoS (31c), fronthaul (31d),
coverage (31e) or load (31f) the evaluator finds violated is reported as status ``infeasible`` (the point kept for
inspection, never a value: :func:`finish`).
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np

from instances.errors import InputError
from models.common.evaluation import FEAS_TOL
from models.multicast import system as S
from solvers_adapters.algorithms import Outcome
from solvers_adapters.result import Certificate, Status

__all__ = ["resolve_precoding", "system", "point", "finish", "round_and_repair", "evaluate_point", "with_margin"]


def resolve_precoding(instance, precoding: str | None) -> str:
    """``precoding`` or the instance's own (:func:`models.multicast.system.resolve_precoding`)."""
    return S.resolve_precoding(instance, precoding)


def system(instance, precoding: str | None):
    """(MulticastSystem, resolved precoding)."""
    prec = resolve_precoding(instance, precoding)
    return S.prepare(instance, precoding=prec), prec


def point(sys_, assoc, x) -> dict[str, Any]:
    """The evaluator's solution keys from a binary association and amplitudes x [M, S] (x = 0 off the links)."""
    a = np.round(np.clip(np.asarray(assoc, dtype=float), 0.0, 1.0))
    x = np.maximum(np.asarray(x, dtype=float), 0.0) * a
    eta = sys_.eta_from_x(x) * a
    return {"assoc": a, "eta": eta}


def evaluate_point(instance, pt: dict, precoding: str):
    return S.evaluate(instance, pt, precoding=precoding)


def no_options(options: dict, method: str) -> None:
    if options:
        raise InputError("options", f"unknown option(s) for {method}: {', '.join(sorted(options))}")


def finish(instance, sys_, prec: str, assoc, x, *, formulation: str, status: Status = Status.FEASIBLE,
           certificate: Certificate = Certificate.NONE, **kw: Any) -> Outcome:
    """The Outcome of a heuristic's final point: ``status`` when the evaluator finds it feasible, else
    ``infeasible`` (point kept, message naming the violated constraints)."""
    pt = point(sys_, assoc, x)
    ev = evaluate_point(instance, pt, prec)
    msg = kw.pop("message", "")
    if not ev.feasible:
        bad = {k: v for k, v in ev.violations.items() if v > FEAS_TOL}
        why = ", ".join(f"{k} {v:.3g}" for k, v in sorted(bad.items()))
        return Outcome(status=Status.INFEASIBLE, point=pt, context={"precoding": prec}, formulation=formulation,
                       keep_infeasible_point=True, message=f"targets not met ({why}); {msg}".strip("; "), **kw)
    return Outcome(status=status, certificate=certificate, point=pt, context={"precoding": prec},
                   formulation=formulation, message=msg, **kw)


def with_margin(sys_, margin: float):
    """A shallow copy of the system whose QoS targets are raised and fronthaul cap lowered by ``margin``
    (bit/s/Hz) [G]: a penalty method ends within its tolerance of the targets it penalises, so it aims inside the
    feasible set to end feasible for the true ones. The system object (cached by models/) is not mutated."""
    if margin <= 0:
        return sys_
    out = copy.copy(sys_)
    out.se_min = np.where(np.asarray(sys_.se_min) > 0, np.asarray(sys_.se_min) + margin, 0.0)
    if sys_.fh_cap is not None:
        out.fh_cap = max(float(sys_.fh_cap) - margin, 0.0)
    return out


def round_and_repair(sys_, a_relaxed, score=None) -> np.ndarray:
    """§6.6 post-processing [G]: a ← 1{a ≥ 0.5}; (31e) an unserved stream gets the AP with the largest relaxed a
    (ties: the largest ``score``, default the stream's mean channel gain); (31f) an AP over N_max drops its weakest
    links (smallest relaxed a·score), never a stream's last link."""
    a_rel = np.asarray(a_relaxed, dtype=float)
    if score is None:
        score = np.asarray(sys_.c, dtype=float) @ np.asarray(sys_.E_stream, dtype=float)
    a = (a_rel >= 0.5).astype(float)
    key = a_rel + 1e-9 * score / max(float(np.max(score)), 1e-300)
    for s in np.flatnonzero(a.sum(axis=0) < 1):
        a[int(np.argmax(key[:, s])), s] = 1.0
    if sys_.n_max is not None:
        for m in np.flatnonzero(a.sum(axis=1) > sys_.n_max):
            order = np.argsort(key[m] * a[m])[::-1]
            for s in order[int(sys_.n_max):]:
                if a[m, s] and a[:, s].sum() > 1:
                    a[m, s] = 0.0
    return a
