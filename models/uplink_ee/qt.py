"""Quadratic-transform surrogate coefficients of paper 000's sub-problems (23) and (24) (arXiv 2501.01271,
Section IV; equation numbers are the seed's). Pure numpy; :mod:`formulations.uplink_ee.qt` only puts them into
mutable Pyomo Params.

Lemma 1, (16)–(17): for every real z_t, Γ_t = DS_t / I_t ≥ 2 z_t √DS_t − z_t² I_t, with equality at
z_t* = √DS_t / I_t. Lemma 2, (20)–(21): u/v ≥ 2b√u − b²v with equality at b* = √u / v.

(23) power block, for fixed a∘D (q = √η): √DS_t = G_t q_t, I_t = Σ_i C_ti q_i² + N_t, with
G_t = √p_max,t Σ_m a_mt d_mt μ_mtt and C_ti = p_max,i (Σ_m (a_mt d_mt)² ν_mti + 1[i ∈ P_t\\t] (Σ_m a_mt d_mt μ_mti)²)
(:func:`models.uplink_ee.sinr.power_form`, eqs. (5)–(9)).

(24) association block, for fixed η and a: √DS_t = Σ_m g_mt d_mt, c_ti = Σ_m h_mti d_mt (co-pilot pairs),
I_t = Σ_i c_ti² + Σ_m Q_mt d_mt² (:func:`models.uplink_ee.sinr.association_coefficients`).

Scaling: Γ_t is invariant to a positive per-UE scaling of a_t, so the coefficients are normalised per UE with
I_t = 1 at the current point; then z_t* = √Γ_t and every coefficient is O(1). u (Mbit/s) is the rate of (19c) at the
current point, w B Σ_t log2(1 + Γ_t) / 10⁶ (SE of (4)), and v (W) is P_T^fix + P_T^c of (19d).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models.uplink_ee.system import UplinkEE
from models.uplink_ee.sinr import association_coefficients, power_form

__all__ = ["PowerCoefficients", "AssocCoefficients", "power_coefficients", "assoc_coefficients", "qt_bound",
           "qt_z", "qt_b", "copilot_pairs"]


# ---------------------------------------------------------------------------------------------------------------
# Quadratic transform: (16), (17), (20), (21)
# ---------------------------------------------------------------------------------------------------------------

def qt_bound(z, sqrt_ds, interference):
    """Right side of (15)/(16): 2 z √DS − z² I (a lower bound of Γ = DS/I for every real z)."""
    z = np.asarray(z, dtype=float)
    return 2.0 * z * np.asarray(sqrt_ds, dtype=float) - z * z * np.asarray(interference, dtype=float)


def qt_z(sqrt_ds, interference):
    """z* of (17): √DS / I (0 where I = 0)."""
    sqrt_ds = np.asarray(sqrt_ds, dtype=float)
    interference = np.asarray(interference, dtype=float)
    return np.divide(sqrt_ds, interference, out=np.zeros_like(sqrt_ds), where=interference > 0)


def qt_b(u, v) -> float:
    """b* of (21): √u / v (u in Mbit/s, v in W)."""
    return math.sqrt(max(float(u), 0.0)) / float(v)


# ---------------------------------------------------------------------------------------------------------------
# Coefficients (numpy, vectorised)
# ---------------------------------------------------------------------------------------------------------------

def copilot_pairs(data: UplinkEE) -> tuple[np.ndarray, np.ndarray]:
    """Ordered co-pilot pairs (t, i), i ∈ P_t \\ t, as two index arrays (row-major order)."""
    K = data.K
    off = data.moments.copilot & ~np.eye(K, dtype=bool)
    t_idx, i_idx = np.nonzero(off)
    return t_idx, i_idx


def _scale(interference: np.ndarray) -> np.ndarray:
    """Per-UE factor s_t = 1/√I_t that makes I_t = 1 at the current point (1 where I_t = 0)."""
    s = np.ones_like(interference)
    pos = interference > 0
    s[pos] = 1.0 / np.sqrt(interference[pos])
    return s


@dataclass(frozen=True)
class PowerCoefficients:
    """Coefficients of (23) for fixed a∘D: √DS_t = G_t q_t, I_t = Σ_i C_ti q_i² + N_t (normalised: I_t = 1 at
    ``q0``), and the current point's z* (17), Γ (fixed-weight SINR), u (Mbit/s), v (W) and b* (21)."""

    G: np.ndarray          # [K]
    C: np.ndarray          # [K, K]  (t, i)
    N: np.ndarray          # [K]
    a: np.ndarray          # [M, K] LSFD weights used (unnormalised, as given)
    scale: np.ndarray      # [K] per-UE normalisation applied to a
    q0: np.ndarray         # [K] current √η
    z: np.ndarray          # [K] (17) at q0
    gamma: np.ndarray      # [K] Γ_t at q0 with weights a
    u: float               # wB Σ log2(1+Γ)/1e6 at q0
    v: float               # P_T^fix + P_T^c at q0
    b: float               # (21) at q0


def power_coefficients(data: UplinkEE, eta, D, a=None) -> PowerCoefficients:
    """(23)'s coefficients at the current point (η, D); ``a`` defaults to the optimal LSFD weights
    ``data.lsfd(eta, D)`` (held fixed inside the sub-problem)."""
    eta, D = data.check_solution(eta, D)
    eta = np.clip(eta, 0.0, 1.0)
    mom = data.moments
    K = data.K
    a = data.lsfd(eta, D) if a is None else np.asarray(a, dtype=float)
    G, C, N = power_form(mom, a, D)                      # √DS_t = √p_t G_t, I_t = Σ_i C_ti p_i + N_t
    C = data.p_max[None, :] * C                          # in q: p_i = p_max,i q_i²
    G = np.sqrt(data.p_max) * G
    q0 = np.sqrt(eta)
    interf = C @ (q0 * q0) + N
    sc = _scale(interf)
    G, C, N = G * sc, C * (sc * sc)[:, None], N * sc * sc
    interf = C @ (q0 * q0) + N
    sqrt_ds = G * q0
    z = qt_z(sqrt_ds, interf)
    gamma = np.divide(sqrt_ds ** 2, interf, out=np.zeros(K), where=interf > 0)
    u = data.prelog * data.bandwidth_hz / 1e6 * float(np.sum(np.log2(1.0 + gamma)))
    v = data.power.static(eta, D)
    return PowerCoefficients(G=G, C=C, N=N, a=a, scale=sc, q0=q0, z=z, gamma=gamma, u=u, v=v, b=qt_b(u, v))


@dataclass(frozen=True)
class AssocCoefficients:
    """Coefficients of (24) for fixed η and weights a: √DS_t = Σ_m g_mt d_mt, c_ti = Σ_m h_mti d_mt (pairs),
    I_t = Σ_i c_ti² + Σ_m Q_mt d_mt² (normalised: I_t = 1 at ``D0``), and the current point's z, Γ, u, v, b."""

    g: np.ndarray          # [M, K]
    h: np.ndarray          # [M, P]  pair order of copilot_pairs
    Q: np.ndarray          # [M, K]
    a: np.ndarray          # [M, K] weights used (unnormalised)
    scale: np.ndarray      # [K]
    D0: np.ndarray         # [M, K] current association
    z: np.ndarray
    gamma: np.ndarray
    u: float
    v: float
    b: float


def assoc_coefficients(data: UplinkEE, eta, D, a=None, *, pairs=None) -> AssocCoefficients:
    """(24)'s coefficients at the current point (η, D); ``a`` defaults to ``data.lsfd(eta, ones)`` (optimal LSFD
    weights over all candidate APs, held fixed inside the sub-problem)."""
    eta, D = data.check_solution(eta, D)
    eta = np.clip(eta, 0.0, 1.0)
    mom = data.moments
    M, K = data.M, data.K
    a = data.lsfd(eta, np.ones((M, K))) if a is None else np.asarray(a, dtype=float)
    t_idx, i_idx = copilot_pairs(data) if pairs is None else pairs
    p = eta * data.p_max
    g, h_all, Q = association_coefficients(mom, p, a)   # √DS_t = Σ_m g_mt d_mt, coherent Σ_m h_mti d_mt, Q_mt d_mt²
    h = np.sqrt(p)[i_idx][None, :] * h_all[:, t_idx, i_idx]
    sqrt_ds = np.einsum("mt,mt->t", g, D)
    coh = np.einsum("mp,mp->p", h, D[:, t_idx])
    interf = np.einsum("mt,mt->t", Q, D * D) + np.bincount(t_idx, weights=coh * coh, minlength=K)
    sc = _scale(interf)
    g, Q, h = g * sc, Q * sc * sc, h * sc[t_idx]
    sqrt_ds, interf = sqrt_ds * sc, interf * sc * sc
    z = qt_z(sqrt_ds, interf)
    gamma = np.divide(sqrt_ds ** 2, interf, out=np.zeros(K), where=interf > 0)
    u = data.prelog * data.bandwidth_hz / 1e6 * float(np.sum(np.log2(1.0 + gamma)))
    v = data.power.static(eta, D)
    return AssocCoefficients(g=g, h=h, Q=Q, a=a, scale=sc, D0=D, z=z, gamma=gamma, u=u, v=v, b=qt_b(u, v))
