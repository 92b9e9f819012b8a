"""Closed-form SINRs of cell-free massive MIMO with any linear per-AP estimator, small-cell rates, throughput, EE.

Paper A = Rao, Ashikhmin, Yang, arXiv 2006.10363; Paper B = Ngo et al., IEEE TWC 2017. Formulas as rebuilt in spec
``iot_nonorthogonal.md`` (the seed lost them); statistics from :mod:`models.common.estimation_vector`.

Uplink, MR combining at the CPU, use-and-then-forget bound — Paper A Theorem 1, eqs. (7)-(8), general-estimator
form (spec §3.3); with the projection estimator this is Paper B eq. (27)::

    SINR_k^u(η) = a_k η_k / (Σ_j B_kj η_j + c_k)
    a_k  = ρ_u,k |Σ_m [Q_m]_kk|²
    B_kj = ρ_u,j ( 1[j≠k] |Σ_m [Q_m]_kj|² + Σ_m γ_mk β_mj )
    c_k  = Σ_m γ_mk

Orthonormal pilots (Paper A (10)): Q_m diagonal with γ_mk = τ_p ρ_p β_mk²/(τ_p ρ_p β_mk + 1)
(:func:`uplink_sinr_orthonormal`).

Downlink, conjugate beamforming — Paper A Theorem 3, eq. (15) (spec §3.7); Paper B eq. (24) with the projection
estimator. With s_mk = sqrt(ρ_d,m η_mk)::

    SINR_k^d(η) = |Σ_m s_mk [Q_m]_kk|² / ( Σ_{j≠k} |Σ_m s_mj [Q_m]_jk|² + Σ_j Σ_m s_mj² γ_mj β_mk + 1 )
    per-AP power (Paper A (4)):  Σ_k η_mk γ_mk ≤ 1

Single-antenna links with an estimated channel (the small cells of Paper A Section VII, eq. (25); Paper B
(42)-(49)): rate E log2(1 + x|z|²) = e^{1/x} E1(1/x) / ln 2 (:func:`ei_rate`). The small-cell SINRs themselves
(linear-fractional, the same (a, B, c) structure as the cell-free uplink) are paper 003's and live in
:mod:`models.iot.small_cells`.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.special import exp1

from instances.errors import InputError
from models.common.estimation_vector import EstimatorStats

__all__ = ["LinearFractional", "uplink_coefficients", "lf_sinr", "uplink_sinr_orthonormal", "downlink_sinr",
           "downlink_power_load", "ei_rate", "prelog_cell_free", "prelog_small_cell", "rate_bps_hz"]

#: terms n = 0..12 of the asymptotic series of e^{1/x}E1(1/x) used by :func:`ei_rate` for x < 1/50
_EI_SERIES_TERMS = 13


class LinearFractional(NamedTuple):
    """SINR_k(x) = a_k x_k / (Σ_j B_kj x_j + c_k), x ∈ [0, 1]^K, a > 0, B ≥ 0, c > 0 (elementwise)."""

    a: np.ndarray      # [K]
    B: np.ndarray      # [K, K]
    c: np.ndarray      # [K]

    @property
    def K(self) -> int:
        return int(self.a.size)

    def sinr(self, x) -> np.ndarray:
        return lf_sinr(x, self)

    def interference(self, x) -> np.ndarray:
        """R_k(x) = (Σ_j B_kj x_j + c_k) / a_k: the effective interference of Paper A (13)/Algorithm 1."""
        x = np.asarray(x, dtype=float)
        return (self.B @ x + self.c) / self.a

    def normalised(self) -> "LinearFractional":
        """Rows divided by a_k (spec §3.5 numerics: raw coefficients are ~1e-10)."""
        return LinearFractional(np.ones_like(self.a), self.B / self.a[:, None], self.c / self.a)


def lf_sinr(x, lf: LinearFractional) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return lf.a * x / (lf.B @ x + lf.c)


def uplink_coefficients(stats: EstimatorStats, beta, rho_u) -> LinearFractional:
    """(a, B, c) of the uplink SINR (Paper A Theorem 1 / (8), general-estimator form)."""
    beta = np.asarray(beta, dtype=float)
    K = beta.shape[1]
    rho_u = np.broadcast_to(np.asarray(rho_u, dtype=float), (K,))
    coh = np.abs(stats.q_sum) ** 2
    np.fill_diagonal(coh, 0.0)
    noncoh = stats.gamma.T @ beta                                     # Σ_m γ_mk β_mj  [k, j]
    a = rho_u * np.abs(np.diagonal(stats.q_sum)) ** 2
    B = (coh + noncoh) * rho_u[None, :]
    c = stats.gamma.sum(axis=0)
    return LinearFractional(a, B, c)


def uplink_sinr_orthonormal(beta, rho_p, tau_p: int, rho_u, eta) -> np.ndarray:
    """Paper A (10): the uplink SINR when the pilots are orthonormal (Ψ^H Ψ = I)."""
    beta = np.asarray(beta, dtype=float)
    K = beta.shape[1]
    rho_p = np.broadcast_to(np.asarray(rho_p, dtype=float), (K,))
    rho_u = np.broadcast_to(np.asarray(rho_u, dtype=float), (K,))
    eta = np.asarray(eta, dtype=float)
    gamma = tau_p * rho_p * beta ** 2 / (tau_p * rho_p * beta + 1.0)
    num = rho_u * eta * gamma.sum(axis=0) ** 2
    den = gamma.T @ beta @ (rho_u * eta) + gamma.sum(axis=0)
    return num / den


def downlink_sinr(eta, stats: EstimatorStats, beta, rho_d) -> np.ndarray:
    """Paper A Theorem 3 / (15) (general-estimator form), η [M, K], ρ_d [M] (or scalar); needs ``stats.q``."""
    if stats.q is None:
        raise ValueError("downlink SINR needs the per-AP statistics: estimator_statistics(..., full=True)")
    beta = np.asarray(beta, dtype=float)
    M, K = beta.shape
    eta = np.asarray(eta, dtype=float)
    if eta.shape != (M, K):
        raise InputError("eta", f"expected shape {(M, K)}, got {eta.shape}")
    rho_d = np.broadcast_to(np.asarray(rho_d, dtype=float), (M,))
    s = np.sqrt(np.clip(eta, 0.0, None) * rho_d[:, None])            # s_mk
    # C[k, j] = Σ_m s_mj [Q_m]_jk   (beam of j seen by k)
    C = np.einsum("mj,mjk->kj", s, stats.q, optimize=True)
    desired = np.abs(np.diagonal(C)) ** 2
    coh = (np.abs(C) ** 2).sum(axis=1) - desired
    noncoh = beta.T @ (s ** 2 * stats.gamma).sum(axis=1)             # Σ_m β_mk Σ_j s_mj² γ_mj
    return desired / (coh + noncoh + 1.0)


def downlink_power_load(eta, gamma) -> np.ndarray:
    """Σ_k η_mk γ_mk per AP (≤ 1 is the per-AP power constraint, Paper A (4))."""
    return (np.asarray(eta, dtype=float) * gamma).sum(axis=1)


def ei_rate(x) -> np.ndarray:
    """E[log2(1 + x |z|²)], z ~ CN(0,1): e^{1/x} E1(1/x) / ln 2 (Paper A (25), Paper B (44)/(49)).

    For 1/x > 50 the asymptotic series x Σ_{n=0}^{12} (−1)^n n! x^n / ln 2 is used: e^{1/x}E1(1/x) overflows in
    double precision (spec §5 numerical trap); the truncation error is below 13! x^13 ≈ 5e-13 relative there, so
    the switch at x = 1/50 is continuous to ~1e-12. (Five terms, x(1 − x + 2x² − 6x³ + 24x⁴), leave a 3.5e-7
    relative jump at the switch.)"""
    x = np.asarray(x, dtype=float)
    out = np.zeros_like(x)
    pos = x > 0
    z = np.where(pos, 1.0 / np.where(pos, x, 1.0), np.inf)
    small = pos & (z > 50.0)
    big = pos & ~small
    xs = x[small]
    series = np.zeros_like(xs)
    for n in range(_EI_SERIES_TERMS - 1, -1, -1):             # Horner: Σ (−1)^n n! x^n
        series = (-1.0) ** n * math.factorial(n) + xs * series
    out[small] = xs * series
    zb = z[big]
    out[big] = np.exp(zb) * exp1(zb)
    return out / np.log(2.0)


def prelog_cell_free(tau_p: int, tau_c: int) -> float:
    """(1 − τ_p/τ_c)/2: each of UL and DL data gets half of the non-pilot samples (spec §2.9, Paper A Section VIII)."""
    return (1.0 - tau_p / tau_c) / 2.0


def prelog_small_cell(tau_u: int, tau_d: int, tau_c: int) -> float:
    """(1 − (τ_u,sc + τ_d,sc)/τ_c)/2: small cells spend UL and DL training (spec §2.9, ambiguity A4)."""
    return (1.0 - (tau_u + tau_d) / tau_c) / 2.0


def rate_bps_hz(sinr) -> np.ndarray:
    return np.log2(1.0 + np.asarray(sinr, dtype=float))

