"""The smooth (penalised) formulation of problem (31) for first-order methods, spec ``unicast_multicast.md`` §6.1–6.5
(paper 001, ``unicast-multicast-sse``).

Variables z = (θ, a) ∈ Z = {θ ≥ 0, Σ_s θ_ms² ≤ P_m ∀m} × [0, 1]^{M×S}; the SINR sees x = a ⊙ θ (§6.1, split A4 [G]).
The objective to maximise is F(θ, a) of §6.3 — weighted SSE minus the binary, QoS, fronthaul, coverage and load
penalties — and its gradient §6.4, both computed in :mod:`models.multicast.apg_terms` (physics stays in models/);
this module wraps them and adds the closed-form projection P_Z of §6.5 (the same as
``proj_Euclidean_ball_posorthant.m`` of the Farooq and Mai codes, plus a clip on a). Only power, non-negativity and
the box are inside Z; everything else is penalised (ambiguity A5 [G]).

:func:`project_power_only` is the projection for a fixed association (``apg-power-only`` and the post-rounding
polish): θ on the ball, with θ_ms = 0 where a_ms = 0 (the ball × {a} face of Z; a Euclidean projection because the
zeroed coordinates are a coordinate subspace that keeps the ball a ball).
"""
from __future__ import annotations

import numpy as np

from formulations.components.info import FormulationInfo, ProblemClass, Relation, register_formulation
from models.multicast.apg_terms import Penalties, terms, value, value_and_grad as _value_and_grad

__all__ = ["INFO", "Penalties", "project", "project_theta", "project_power_only", "value_and_grad", "value",
           "terms", "initial_point"]

PROBLEM = "unicast-multicast-sse"
INFO = register_formulation(FormulationInfo(
    PROBLEM, "apg-penalty", ProblemClass.NLP, Relation.APPROXIMATION, objectives=("sse",),
    parameters=("lambda_b", "lambda_q", "lambda_f", "lambda_c", "lambda_n"),
    description="§6.3 penalised objective over the box × ball set Z (closed-form projection §6.5); exact penalty "
                "for large λ (binary), quadratic penalties otherwise"))


def project_theta(theta, P) -> np.ndarray:
    """Row-wise projection onto {θ_m ≥ 0, ‖θ_m‖² ≤ P_m}: [θ_m]_+ / max(1, ‖[θ_m]_+‖/√P_m) (§6.5). The
    intersection of the orthant with a centred ball: clipping first then scaling is the exact projection."""
    t = np.maximum(np.asarray(theta, dtype=float), 0.0)
    norm = np.sqrt(np.einsum("ms,ms->m", t, t))
    scale = np.maximum(1.0, norm / np.sqrt(np.asarray(P, dtype=float)))
    return t / scale[:, None]


def project(theta, a, P) -> tuple[np.ndarray, np.ndarray]:
    """P_Z(θ, a) of §6.5: the ball-orthant projection of every θ_m and a clipped to [0, 1]."""
    return project_theta(theta, P), np.clip(np.asarray(a, dtype=float), 0.0, 1.0)


def project_power_only(theta, mask, P) -> np.ndarray:
    """Projection of θ onto {θ ≥ 0, θ = 0 off ``mask``, ‖θ_m‖² ≤ P_m} (fixed association)."""
    return project_theta(np.where(np.asarray(mask, dtype=bool), theta, 0.0), P)


def value_and_grad(sys_, theta, a, pen: Penalties = Penalties()) -> tuple[float, np.ndarray, np.ndarray]:
    """(F, ∇_θ F, ∇_a F) of §6.3–6.4 at (θ, a) (:func:`models.multicast.apg_terms.value_and_grad`)."""
    return _value_and_grad(sys_, theta, a, pen)


def initial_point(sys_, a0: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """§6.6 initialisation [G]: θ_ms = √(P_m/S) (equal power, every AP serves every stream), a = ``a0``. Never
    (0, 0): it is a stationary point of the product split."""
    P = np.asarray(sys_.P, dtype=float)
    theta = np.repeat(np.sqrt(P / sys_.S)[:, None], sys_.S, axis=1)
    return theta, np.full((sys_.M, sys_.S), float(a0))
