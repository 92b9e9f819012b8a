"""Uplink SINR algebra with local combining + large-scale fading decoding (LSFD) at the CPU.

Paper 000 (arXiv 2501.01271) eqs. (2)–(9) (signal decomposition, DS/PC/BU/NI/N, SE lower bound) and the LSFD
weights of spec ``uplink_ee.md`` §1.5–§1.6. Noise-normalised units (σ² = 1, ``beta_n = beta/σ²``, powers in W).

The SINR terms are written generically in per-AP *moments* of the combined channel (§1.5)::

    μ_{mti} = E{v_{mt}^H h_{mi}},   ν_{mti} = Var{v_{mt}^H h_{mi}},   n_{mt} = σ² E‖v_{mt}‖²

stored as arrays ``mu[m, t, i]``, ``nu[m, t, i]`` (M·K² floats each: 250 000 floats = 2 MB for M=100, K=50) and
``n[m, t]``. :func:`mr_moments` gives the closed form for local MR combining v_{mt} = ĥ_{mt} (the "m ∈ W_t"
branch of the §1.5 table, here used at every AP); a PFZF constructor can return the same :class:`Moments`.

With effective weights w_{mt} = a_{mt} d_{mt} (LSFD weight × association), §1.5 / eqs. (5)–(9)::

    DS_t = p_t (Σ_m w_mt μ_mtt)²
    PC_t = Σ_{i∈P_t\\t} p_i [ (Σ_m w_mt μ_mti)² + Σ_m w_mt² ν_mti ]
    BU_t = p_t Σ_m w_mt² ν_mtt
    NI_t = Σ_{i∉P_t} p_i Σ_m w_mt² ν_mti
    N_t  = Σ_m w_mt² n_mt
    SINR_t = DS_t / (PC_t + BU_t + NI_t + N_t),     SE_t = (1 − τ_p/τ_c) log2(1 + SINR_t)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from instances.errors import InputError
from models.common.estimation import copilot_mask

__all__ = [
    "Moments", "SinrTerms", "mr_moments", "sinr_terms", "power_form", "sinr", "se", "prelog_factor",
    "lsfd_matrices", "lsfd_optimal",
]


@dataclass(frozen=True)
class Moments:
    """Per-AP first and second moments of the locally combined channels (spec §1.5).

    mu      : [M, K, K]  μ_{mti} = E{v_mt^H h_mi}   (target UE t, interfering UE i)
    nu      : [M, K, K]  ν_{mti} = Var{v_mt^H h_mi}
    n       : [M, K]     n_mt = σ² E‖v_mt‖² (σ² = 1 in normalised units)
    copilot : [K, K]     bool, True where i ∈ P_t (same pilot, diagonal included). It decides which UEs count
                         in PC (coherent) versus NI; carried here so that the SINR algebra needs no pilot list.

    Memory: 2·M·K² + M·K floats (≈ 4 MB at M=100, K=50).
    """

    mu: np.ndarray
    nu: np.ndarray
    n: np.ndarray
    copilot: np.ndarray

    def __post_init__(self):
        M, K, K2 = np.shape(self.mu)
        if K != K2 or np.shape(self.nu) != (M, K, K) or np.shape(self.n) != (M, K) or np.shape(self.copilot) != (K, K):
            raise InputError("moments", "shapes must be mu[M,K,K], nu[M,K,K], n[M,K], copilot[K,K]")

    @property
    def shape(self) -> tuple[int, int]:
        """(M, K)."""
        return self.n.shape


@dataclass(frozen=True)
class SinrTerms:
    """Per-UE terms of eq. (4): desired signal DS, pilot contamination PC (coherent + non-coherent part of
    co-pilot UEs), beamforming uncertainty BU, non-coherent interference NI, noise N. All arrays [K]."""

    DS: np.ndarray
    PC: np.ndarray
    BU: np.ndarray
    NI: np.ndarray
    N: np.ndarray

    @property
    def interference(self) -> np.ndarray:
        """Γ-denominator I_t = PC + BU + NI + N."""
        return self.PC + self.BU + self.NI + self.N

    @property
    def sinr(self) -> np.ndarray:
        """DS / I, with 0 where the UE is not served at all (DS = I = 0)."""
        den = self.interference
        return np.divide(self.DS, den, out=np.zeros_like(self.DS), where=den > 0)


def _antennas(antennas, M: int) -> np.ndarray:
    A = np.broadcast_to(np.asarray(antennas, dtype=float), (M,))
    if np.any(A < 1):
        raise InputError("antennas", "every AP needs at least one antenna")
    return A


def mr_moments(gamma, beta_n, pilots, antennas) -> Moments:
    """Closed-form moments for local MR combining v_mt = ĥ_mt at every AP (§1.5 table, MR column; eqs. (5)–(9)
    restricted to the Q_t sums)::

        μ_mti = A_m sqrt(γ_mt γ_mi) 1[i ∈ P_t],   ν_mti = A_m γ_mt β_mi,   n_mt = A_m γ_mt

    gamma : [M, K] from :func:`models.common.estimation.mmse_estimation`;  beta_n : [M, K] noise-normalised gains;
    pilots : [K] pilot indices;  antennas : scalar or [M] number of antennas A_m.
    Returns :class:`Moments` (arrays of M·K² floats).
    """
    gamma = np.asarray(gamma, dtype=float)
    beta_n = np.asarray(beta_n, dtype=float)
    if gamma.shape != beta_n.shape or gamma.ndim != 2:
        raise InputError("gamma", f"gamma {gamma.shape} and beta {beta_n.shape} must both be [M, K]")
    M, K = gamma.shape
    A = _antennas(antennas, M)
    cp = copilot_mask(np.asarray(pilots))
    if cp.shape != (K, K):
        raise InputError("pilots", f"expected shape ({K},)")
    sg = np.sqrt(gamma)
    mu = A[:, None, None] * sg[:, :, None] * sg[:, None, :] * cp[None, :, :]
    nu = A[:, None, None] * gamma[:, :, None] * beta_n[:, None, :]
    n = A[:, None] * gamma
    return Moments(mu=mu, nu=nu, n=n, copilot=cp)


def _as_mk(x, M: int, K: int, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    try:
        return np.broadcast_to(x, (M, K))
    except ValueError:
        raise InputError(name, f"expected shape ({M}, {K}), got {x.shape}") from None


def _as_k(x, K: int, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    try:
        return np.broadcast_to(x, (K,))
    except ValueError:
        raise InputError(name, f"expected shape ({K},), got {x.shape}") from None


def sinr_terms(moments: Moments, p, a, d) -> SinrTerms:
    """DS, PC, BU, NI, N per UE (§1.5; eqs. (5)–(9)) for data powers ``p[K]`` (W), LSFD weights ``a[M,K]`` (real)
    and association ``d[M,K]`` (binary or relaxed in [0,1]); the effective weight is a∘d."""
    M, K = moments.shape
    p = _as_k(p, K, "p")
    w = _as_mk(a, M, K, "a") * _as_mk(d, M, K, "d")
    s = np.einsum("mt,mti->ti", w, moments.mu)          # coherent sums Σ_m w_mt μ_mti   [K, K]
    V = np.einsum("mt,mti->ti", w * w, moments.nu)      # Σ_m w_mt² ν_mti                [K, K]
    cp = moments.copilot
    off = cp & ~np.eye(K, dtype=bool)
    diag_s = np.diagonal(s)
    DS = p * diag_s ** 2
    PC = ((s * s + V) * off) @ p
    BU = p * np.diagonal(V)
    NI = (V * ~cp) @ p
    N = np.einsum("mt,mt->t", w * w, moments.n)
    return SinrTerms(DS=DS, PC=PC, BU=BU, NI=NI, N=N)


def power_form(moments: Moments, a, d) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The SINR as a function of the powers for fixed effective weights w = a∘d (paper 000 (23)):
    √DS_t = √p_t G_t and I_t = PC_t + BU_t + NI_t + N_t = Σ_i C_ti p_i + N_t, so that SINR_t = p_t G_t² / I_t.
    Returns G[K], C[K, K], N[K] (same algebra as :func:`sinr_terms`)."""
    M, K = moments.shape
    w = _as_mk(a, M, K, "a") * _as_mk(d, M, K, "d")
    s = np.einsum("mt,mti->ti", w, moments.mu)
    V = np.einsum("mt,mti->ti", w * w, moments.nu)
    off = moments.copilot & ~np.eye(K, dtype=bool)
    return np.diagonal(s).copy(), V + off * s * s, np.einsum("mt,mt->t", w * w, moments.n)


def sinr(moments: Moments, p, a, d) -> np.ndarray:
    """SINR_t = DS_t / (PC_t + BU_t + NI_t + N_t), [K] (0 for a UE with no effective weight)."""
    return sinr_terms(moments, p, a, d).sinr


def prelog_factor(tau_p: int, tau_c: int) -> float:
    """Uplink-only pre-log factor 1 − τ_p/τ_c (spec §1.5, §1.11)."""
    if not 0 <= tau_p < tau_c:
        raise InputError("tau_p", f"need 0 <= tau_p < tau_c (tau_p={tau_p}, tau_c={tau_c})")
    return 1.0 - tau_p / tau_c


def se(sinr_values, tau_p: int, tau_c: int, *, prelog: float | None = None) -> np.ndarray:
    """SE_t = w log2(1 + SINR_t) [bit/s/Hz], w = 1 − τ_p/τ_c unless ``prelog`` overrides it (eq. (4))."""
    w = prelog_factor(tau_p, tau_c) if prelog is None else float(prelog)
    return w * np.log2(1.0 + np.asarray(sinr_values, dtype=float))


def noncoherent_load(moments: Moments, p) -> np.ndarray:
    """Λ_mt = Σ_i p_i ν_mti + n_mt, [M, K]: the non-coherent interference-plus-noise seen through AP m by UE t
    (the diagonal of C_t in §1.5)."""
    M, K = moments.shape
    return np.einsum("mti,i->mt", moments.nu, _as_k(p, K, "p")) + moments.n


def association_coefficients(moments: Moments, p, a) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients of the SINR as a function of the association d for fixed powers p[K] and LSFD weights a[M,K]
    (spec §1.9 sub-problem (24)): √DS_t = Σ_m g_mt d_mt, the coherent co-pilot sums Σ_m h_mti d_mt, and the
    diagonal terms q_mt d_mt², so that SINR_t = (Σ_m g_mt d_mt)² /
    (Σ_{i∈P_t\\t} p_i (Σ_m h_mti d_mt)² + Σ_m q_mt d_mt²). Returns g[M,K], h[M,K,K], q[M,K]."""
    M, K = moments.shape
    p = _as_k(p, K, "p")
    a = _as_mk(a, M, K, "a")
    g = np.sqrt(p)[None, :] * a * np.einsum("mkk->mk", moments.mu)
    h = a[:, :, None] * moments.mu
    q = a * a * noncoherent_load(moments, p)
    return g, h, q


def lsfd_matrices(moments: Moments, p) -> tuple[np.ndarray, np.ndarray]:
    """The generalised-Rayleigh-quotient data of §1.5: b[K, M] with b_t = [μ_mtt]_m and C[K, M, M] with
    C_t = Σ_{i∈P_t\\t} p_i u_ti u_ti^T + diag_m(Σ_i p_i ν_mti + n_mt), u_ti = [μ_mti]_m, so that
    SINR_t = p_t (w_t^T b_t)² / (w_t^T C_t w_t) for effective weights w_t = a_t∘d_t.  Memory K·M² floats."""
    M, K = moments.shape
    p = _as_k(p, K, "p")
    off = moments.copilot & ~np.eye(K, dtype=bool)
    U = moments.mu.transpose(1, 2, 0) * (np.sqrt(p)[None, :] * off)[:, :, None]   # [t, i, m] √p_i u_ti
    C = np.einsum("tim,tin->tmn", U, U)
    lam = noncoherent_load(moments, p).T                                           # [K, M]
    idx = np.arange(M)
    C[:, idx, idx] += lam
    b = np.einsum("mtt->tm", moments.mu)
    return b, C


def lsfd_optimal(moments: Moments, p, d, *, normalize: str | None = None) -> np.ndarray:
    """Optimal LSFD weights a[M, K] (§1.6): on the serving set 𝓜_t = {m : d_mt > 0},
    a_t[𝓜_t] = C_t[𝓜_t]^{-1} b_t[𝓜_t], zero elsewhere; SINR_t* = p_t b_t^T C_t^{-1} b_t.

    For a relaxed d the returned weights are divided by d on the serving set, so that the *effective* weights
    a∘d are the optimal ones (for binary d this changes nothing). APs whose moments are all zero for UE t
    (γ_mt = 0) are dropped from 𝓜_t. All K systems are solved in one batched ``np.linalg.solve``
    (K × M × M floats).

    normalize: None (the raw C^{-1}b, as in the spec), ``"max"`` (largest |a_mt| of each UE = 1).
    The SINR is invariant to a positive per-UE scaling.
    """
    M, K = moments.shape
    d = _as_mk(d, M, K, "d")
    b, C = lsfd_matrices(moments, p)
    lam = np.einsum("tmm->tm", C)
    sel = (d.T > 0) & (lam > 0)                                                    # [K, M]
    Cm = C * (sel[:, :, None] & sel[:, None, :])
    idx = np.arange(M)
    Cm[:, idx, idx] += ~sel                                                        # identity outside 𝓜_t
    w = np.linalg.solve(Cm, (b * sel)[:, :, None])[:, :, 0]                        # effective weights [K, M]
    a = np.zeros((K, M))
    np.divide(w, d.T, out=a, where=sel)
    if normalize == "max":
        scale = np.max(np.abs(a), axis=1, keepdims=True)
        a = np.divide(a, scale, out=np.zeros_like(a), where=scale > 0)
    elif normalize is not None:
        raise InputError("normalize", f"unknown LSFD normalisation {normalize!r}")
    return a.T.copy()
