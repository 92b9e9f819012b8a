"""The toy paper's physics and evaluator: uplink max-min SINR with matched-filter combining.

With g_mk = β_mk / σ² and powers p_k η_k (η ∈ [0, 1]^K):

    SINR_k(η) = a_k η_k / ((B η)_k + c_k),   a_k = p_k Σ_m g_mk²,   B_kj = p_j Σ_m g_mk g_mj (j ≠ k, B_kk = 0),
                                             c_k = Σ_m g_mk.

The objective is min_k SINR_k (linear); the constraint is 0 ≤ η ≤ 1.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.common.evaluation import Evaluation


@dataclass(frozen=True)
class Coefficients:
    a: np.ndarray       # [K]
    B: np.ndarray       # [K, K], zero diagonal
    c: np.ndarray       # [K]
    p: np.ndarray       # [K] maximum powers, W


def coefficients(instance) -> Coefficients:
    g = instance.beta / instance.noise_w
    p = np.asarray(instance.p_ue_max_w, dtype=float)
    gram = g.T @ g
    B = gram * p[None, :]
    np.fill_diagonal(B, 0.0)
    return Coefficients(a=p * np.diag(gram), B=B, c=g.sum(axis=0), p=p)


def sinr(co: Coefficients, eta: np.ndarray) -> np.ndarray:
    return co.a * eta / (co.B @ eta + co.c)


def evaluate(instance, solution, **context) -> Evaluation:
    """Re-score ``solution["eta"]``: objective min_k SINR_k, per-user SINR, radiated power, box violation."""
    co = coefficients(instance)
    eta = np.asarray(solution["eta"], dtype=float)
    s = sinr(co, eta)
    box = float(max(0.0, float(np.max(eta - 1.0)), float(np.max(-eta))))
    return Evaluation(objective=float(s.min()), unit="1", objectives={"min_sinr": float(s.min())},
                      per_user={"sinr": s}, power={"radiated_w": float(co.p @ eta)}, violations={"eta_box": box})
