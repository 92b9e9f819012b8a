"""Scaled downlink statistics of paper 003 (Rao, Ashikhmin, Yang, arXiv 2006.10363) for the max-min power control
(18)-(24), and the weak-duality certificate on its optimum; spec ``iot_nonorthogonal.md`` §2.6, §3.7, §3.8. Pure
numpy; the Pyomo models over these coefficients are :mod:`formulations.iot.downlink`.

Problem ``iot-downlink-maxmin``: max_{η ≥ 0} min_k SINR_k^d(η) s.t. Σ_k η_mk γ_mk ≤ 1 (every AP m), with the
general-estimator SINR of Theorem 3 (Paper A (15), spec §3.7; :func:`models.common.sinr.downlink_sinr`),
s_mk = sqrt(ρ_d,m η_mk)::

    SINR_k = |Σ_m s_mk [Q_m]_kk|² / ( Σ_{j≠k} |Σ_m s_mj [Q_m]_jk|² + Σ_j Σ_m s_mj² γ_mj β_mk + 1 )

**Scaled variables** (spec §3.8 numerics: the raw coefficients are ~1e-10). u_mk = sqrt(γ_mk) ς_mk = sqrt(η_mk γ_mk)
≥ 0 is AP m's power amplitude for thing k, so ‖u_m,:‖² = Σ_k η_mk γ_mk is AP m's load and the per-AP constraint
(21)-(22) reads ‖u_m,:‖ ≤ θ_m ≤ 1. Everything is multiplied by sqrt(ρ_d) (noise term = 1)::

    numerator      w_k = a_kᵀ u_k,                a_mk = sqrt(ρ_d,m γ_mk)        ([Q_m]_kk = γ_mk, real > 0 for
                                                                                    both estimators)
    coherent       C_kj = Σ_m c_jk,m u_mj,        c_jk,m = sqrt(ρ_d,m/γ_mj) [Q_m]_jk   (complex)
    non-coherent   Σ_m d_mk² ‖u_m‖² ≤ Σ_m d_mk² θ_m²,   d_mk = sqrt(ρ_d,m β_mk)

and SINR_k = w_k² / (‖y_k‖²) with y_k = [ (Re C_kj, Im C_kj)_{j≠k} ; (d_mk θ_m)_m ; 1 ] (u_k of §3.8 split into
real and imaginary parts: u is real, so |c^T u|² = (Re c^T u)² + (Im c^T u)²). Each real or imaginary part with a
non-zero coefficient vector is one *coherent row* r = (j_r, k_r, c_r ∈ R^M) and gets an auxiliary variable
``v[r]`` defined by the linear equality ``v[r] = c_rᵀ u[:, j_r]`` (this keeps every Hessian diagonal; orthogonal
pairs have no row). The magnitudes are O(1)–O(10²): a_mk ≤ d_mk, |c_jk,m| ≤ d_mk (Cauchy–Schwarz on Γ_m resp. the
projection weights), d_mk² = ρ_d β_mk.

Bounds used throughout (:class:`DLData`): t* ≥ min SINR at equal power (a feasible point) and
t* ≤ min_k min( (Σ_m a_mk)², S_k X̄_k/(X̄_k + 1) ) with S_k = Σ_m γ_mk/β_mk, X̄_k = Σ_m d_mk²
(:meth:`DLData.upper_bound`): dropping every interference term except user k's own non-coherent one
(θ_m² ≥ u_mk²), SINR_k ≤ (a_kᵀu_k)²/(Σ_m d_mk² u_mk² + 1) with u_k ∈ [0, 1]^M; the first bound uses the
denominator ≥ 1, the second Cauchy–Schwarz (a_kᵀu)² ≤ S_k Σ_m d_mk² u_mk² and monotonicity in X = Σ d²u² ≤ X̄.

Weak duality (:func:`lagrangian_bound`, :func:`tau_upper_bound`): for multipliers λ ≥ 0 of the cones
sqrt(t)‖y_k‖ ≤ w_k, the maximum over the power set of the (affine) Lagrangian proves infeasibility of t when it is
negative (a Farkas certificate of the SOCP (20)-(24)) and bounds τ* = sqrt(t*) from above in general.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from instances.errors import InputError

__all__ = ["DLData", "dl_data", "lagrangian_bound", "tau_upper_bound"]


@dataclass(frozen=True)
class DLData:
    """Scaled coefficients of the downlink max-min problem (see the module docstring).

    a, d, gamma : [M, K]     a_mk = sqrt(ρ_d,m γ_mk), d_mk = sqrt(ρ_d,m β_mk), γ_mk
    row_j, row_k : [R]       coherent row r: beam of thing j_r seen by thing k_r (j_r ≠ k_r)
    row_c : [R, M]           its real coefficient vector on u[:, j_r] (the Re or Im part of c_jk)
    active : [M, K]          γ_mk > 0 (u_mk is fixed to 0 where False)
    """

    a: np.ndarray
    d: np.ndarray
    gamma: np.ndarray
    row_j: np.ndarray
    row_k: np.ndarray
    row_c: np.ndarray
    active: np.ndarray

    @property
    def M(self) -> int:
        return self.a.shape[0]

    @property
    def K(self) -> int:
        return self.a.shape[1]

    @property
    def R(self) -> int:
        return int(self.row_j.size)

    # ---------------------------------------------------------------------------------------------- conversions
    def u_from_eta(self, eta) -> np.ndarray:
        """u_mk = sqrt(η_mk γ_mk)."""
        return np.sqrt(np.clip(np.asarray(eta, dtype=float), 0.0, None) * self.gamma)

    def eta_from_u(self, u) -> np.ndarray:
        """η_mk = u_mk²/γ_mk (0 where γ_mk = 0)."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, None)
        out = np.zeros_like(u)
        np.divide(u * u, self.gamma, out=out, where=self.active)
        return out

    def power_feasible(self, u, *, scale_up: bool = True) -> np.ndarray:
        """Project u onto the power set (u ≥ 0, ‖u_m‖ ≤ 1) by clipping and per-AP down-scaling; with ``scale_up``
        also multiply all of u by 1/max_m ‖u_m‖ ≥ 1 (a common scaling α ≥ 1 raises every SINR: numerator and
        interference scale by α², the noise does not)."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, None) * self.active
        n = np.linalg.norm(u, axis=1)
        over = n > 1.0
        u[over] /= n[over, None]
        if scale_up:
            mx = float(np.linalg.norm(u, axis=1).max(initial=0.0))
            if mx > 0:
                u = u / mx
                n = np.linalg.norm(u, axis=1)
                over = n > 1.0                      # rounding
                u[over] /= n[over, None]
        return u

    # ------------------------------------------------------------------------------------------ model quantities
    def coherent(self, u) -> np.ndarray:
        """v_r = c_rᵀ u[:, j_r] for every coherent row [R]."""
        u = np.asarray(u, dtype=float)
        return np.einsum("rm,mr->r", self.row_c, u[:, self.row_j]) if self.R else np.zeros(0)

    def y_norm2(self, u, theta=None) -> np.ndarray:
        """‖y_k‖² = Σ_{r→k} v_r² + Σ_m d_mk² θ_m² + 1 [K] (θ_m = ‖u_m‖ by default)."""
        u = np.asarray(u, dtype=float)
        th = np.linalg.norm(u, axis=1) if theta is None else np.asarray(theta, dtype=float)
        v = self.coherent(u)
        coh = np.bincount(self.row_k, weights=v * v, minlength=self.K) if self.R else np.zeros(self.K)
        return coh + (self.d ** 2).T @ (th ** 2) + 1.0

    def sinr(self, u) -> np.ndarray:
        """SINR_k in the scaled variables (the same number as the evaluator's at η = eta_from_u(u))."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, None)
        w = (self.a * u).sum(axis=0)
        return w * w / self.y_norm2(u)

    # ----------------------------------------------------------------------------------------------- bounds
    def upper_bound(self) -> float:
        """A valid upper bound of the max-min SINR t* (module docstring): min_k min((Σ_m a_mk)², S_k X̄_k/(X̄_k+1))."""
        b1 = self.a.sum(axis=0) ** 2
        ratio = np.zeros_like(self.a)
        np.divide(self.a ** 2, self.d ** 2, out=ratio, where=self.d > 0)
        S = ratio.sum(axis=0)
        X = (self.d ** 2).sum(axis=0)
        b2 = S * X / (X + 1.0)
        return float(np.minimum(b1, b2).min())

    def y_bound(self) -> np.ndarray:
        """D̄_k ≥ max ‖y_k‖ over the power set (|c_rᵀ u_j| ≤ ‖c_r‖₁, θ_m ≤ 1) [K]."""
        l1 = np.abs(self.row_c).sum(axis=1) if self.R else np.zeros(0)
        coh = np.bincount(self.row_k, weights=l1 * l1, minlength=self.K) if self.R else np.zeros(self.K)
        return np.sqrt(coh + (self.d ** 2).sum(axis=0) + 1.0)


def dl_data(system=None, *, stats=None, beta=None, rho_d=None) -> DLData:
    """:class:`DLData` of an :class:`models.iot.system.IoTSystem` (``system.dl_stats``, ``.beta``, ``.rho_d``) or of raw
    statistics (``stats`` from ``estimator_statistics(..., full=True)``, ``beta`` [M, K], ``rho_d`` scalar or [M]).
    Bad input raises :class:`InputError` naming the field."""
    if system is not None:
        stats, beta, rho_d = system.dl_stats, system.beta, system.rho_d
    if stats is None or beta is None or rho_d is None:
        raise InputError("system", "give an IoTSystem or stats=, beta= and rho_d=")
    beta = np.asarray(beta, dtype=float)
    if beta.ndim != 2 or beta.size == 0 or not np.all(np.isfinite(beta)) or np.any(beta < 0):
        raise InputError("beta", "expected a finite, non-negative [M, K] array")
    M, K = beta.shape
    if getattr(stats, "q", None) is None:
        raise InputError("stats", "the downlink needs the per-AP statistics: estimator_statistics(..., full=True)")
    q = np.asarray(stats.q)
    gamma = np.asarray(stats.gamma, dtype=float)
    if q.shape != (M, K, K) or gamma.shape != (M, K):
        raise InputError("stats", f"expected gamma [M, K] = {(M, K)} and q [M, K, K], got {gamma.shape}, {q.shape}")
    if not (np.all(np.isfinite(q)) and np.all(np.isfinite(gamma))) or np.any(gamma < 0):
        raise InputError("stats", "statistics must be finite with gamma >= 0")
    try:
        rho = np.broadcast_to(np.asarray(rho_d, dtype=float), (M,)).copy()
    except ValueError:
        raise InputError("rho_d", f"expected a scalar or {M} values") from None
    if not np.all(np.isfinite(rho)) or np.any(rho <= 0):
        raise InputError("rho_d", "normalised AP powers must be finite and > 0")
    diag = np.diagonal(q, axis1=1, axis2=2)                        # [M, K] = [Q_m]_kk
    scale = max(float(gamma.max(initial=0.0)), 1e-300)
    if np.abs(diag.imag).max(initial=0.0) > 1e-9 * scale or np.any(diag.real < -1e-12 * scale):
        raise InputError("stats", "[Q_m]_kk must be real and non-negative (the SOCP needs a real coherent gain)")
    if np.abs(diag.real - gamma).max(initial=0.0) > 1e-9 * scale:
        raise InputError("stats", "[Q_m]_kk must equal gamma_mk (conjugate beamforming with the same estimate)")
    if np.any((gamma > 0) & ~(beta > 0)):
        raise InputError("stats", "gamma_mk > 0 needs beta_mk > 0")
    active = gamma > 0
    sr = np.sqrt(rho)
    a = sr[:, None] * np.sqrt(gamma)
    d = sr[:, None] * np.sqrt(beta)
    # c_jk,m = sqrt(ρ_m/γ_mj) [Q_m]_jk  -> [M, j, k]
    inv = np.zeros_like(gamma)
    np.divide(sr[:, None], np.sqrt(gamma), out=inv, where=active)
    c = inv[:, :, None] * q                                          # [M, j, k]
    rows_j, rows_k, rows_c = [], [], []
    off = ~np.eye(K, dtype=bool)
    for part in (c.real, c.imag):
        nz = np.any(part != 0.0, axis=0) & off                       # [j, k]
        jj, kk = np.nonzero(nz)
        rows_j.append(jj)
        rows_k.append(kk)
        rows_c.append(part[:, jj, kk].T)                             # [R_part, M]
    row_j = np.concatenate(rows_j).astype(np.int64)
    row_k = np.concatenate(rows_k).astype(np.int64)
    row_c = np.concatenate(rows_c, axis=0) if row_j.size else np.zeros((0, M))
    order = np.lexsort((row_j, row_k))                               # group rows by receiving thing k
    return DLData(a=a, d=d, gamma=gamma, row_j=row_j[order], row_k=row_k[order],
                  row_c=np.ascontiguousarray(row_c[order]), active=active)



def lagrangian_bound(data: DLData, tau: float, lam, u, theta=None) -> float:
    """max over the power set X = {u ≥ 0, ‖u_m‖ ≤ θ_m ≤ 1} of the Lagrangian
    L(x) = Σ_k λ_k (a_kᵀu_k − τ ẑ_kᵀ y_k(u, θ)), with ẑ_k = y_k/‖y_k‖ at the given point (u, θ) (any unit
    vectors are valid) and any λ ≥ 0.

    For every x ∈ X with sqrt(t)‖y_k‖ ≤ w_k (all k) and τ = sqrt(t), each summand is ≥ λ_k(w_k − τ‖y_k‖) ≥ 0
    (Cauchy–Schwarz), so a negative value *proves* that the target t = τ² is infeasible (a Farkas certificate of
    the SOCP); in general it bounds t* through :func:`tau_upper_bound`. L is affine in (u, θ), so the maximum over X
    is exact: Σ_m max(0, ‖(G_u[m,:])⁺‖ + G_θ[m]) + const."""
    lam = np.clip(np.asarray(lam, dtype=float), 0.0, None)
    u = np.clip(np.asarray(u, dtype=float), 0.0, None)
    th = np.linalg.norm(u, axis=1) if theta is None else np.clip(np.asarray(theta, dtype=float), 0.0, None)
    v = data.coherent(u)
    ny = np.sqrt(data.y_norm2(u, th))                                      # ‖y_k‖ ≥ 1
    # unit-vector entries: coherent rows v_r/‖y_k_r‖, θ part d_mk θ_m/‖y_k‖, constant 1/‖y_k‖
    zr = v / ny[data.row_k] if data.R else np.zeros(0)
    G_u = data.a * lam[None, :]
    if data.R:
        wr = -tau * lam[data.row_k] * zr                                   # weight of row r's linear form
        np.add.at(G_u.T, data.row_j, wr[:, None] * data.row_c)             # G_u[:, j_r] += wr c_r
    G_u *= data.active
    G_th = -tau * ((data.d ** 2) * th[:, None] * (lam / ny)[None, :]).sum(axis=1)
    const = -tau * float(np.sum(lam / ny))
    per_ap = np.linalg.norm(np.clip(G_u, 0.0, None), axis=1) + G_th
    return float(np.clip(per_ap, 0.0, None).sum() + const)


def tau_upper_bound(data: DLData, tau: float, lam, bound: float) -> float:
    """Certified upper bound of τ* = sqrt(t*) from ``bound`` = :func:`lagrangian_bound` (λ, τ):

    with x* optimal, L(x*) ≥ Σ_k λ_k (τ* − τ)‖y_k(x*)‖ and 1 ≤ ‖y_k‖ ≤ D̄_k, hence
    τ* ≤ τ + bound/Σλ_k when bound ≥ 0 and τ* ≤ τ + bound/Σ_k λ_k D̄_k < τ when bound < 0. +inf when λ = 0."""
    lam = np.clip(np.asarray(lam, dtype=float), 0.0, None)
    tot = float(lam.sum())
    if not tot > 0 or not math.isfinite(bound):
        return math.inf
    # a relative guard of 1e-12 for the floating-point evaluation of the bound
    guard = 1e-12 * (tau * tot + float((lam * data.a.sum(axis=0)).sum()))
    b = bound + guard
    if b >= 0:
        return tau + b / tot
    return tau + b / float((lam * data.y_bound()).sum())
