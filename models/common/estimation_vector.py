"""Channel estimation with arbitrary (non-orthogonal) unit-norm pilots: LMMSE and the Ngo 2017 projection estimator.

Paper A: Rao, Ashikhmin, Yang, "Cell-Free Massive MIMO with Nonorthogonal Pilots for Internet of Things" (arXiv
2006.10363), Section II-A, eqs. (1)-(2) and the covariance of the estimate below (2). Paper B: Ngo et al., "Cell-free
massive MIMO versus small cells" (IEEE TWC 2017), eq. (8) — the baseline "suboptimal" estimator. The formulas are
those rebuilt in spec ``iot_nonorthogonal.md`` §2.2 and §3.2 (the seed lost them).

Model (noise CN(0, 1) after normalisation; β linear, not noise-normalised; ρ_p,k = pilot power / noise)::

    y_m = Σ_k sqrt(τ_p ρ_p,k) g_mk ψ_k + w_m = P g_m + w_m,     P = Ψ diag(sqrt(τ_p ρ_p)),  ‖ψ_k‖ = 1
    A_m = E[y_m y_m^H] = P B_m P^H + I

* **LMMSE** (Paper A (2)): ĝ_m = B_m P^H A_m⁻¹ y_m, so Γ_m = E[ĝ_m ĝ_m^H] = B_m P^H A_m⁻¹ P B_m and
  Q_m := E[ĝ_m g_m^H] = Γ_m; γ_mk = [Γ_m]_kk = τ_p ρ_p,k β_mk² ψ_k^H A_m⁻¹ ψ_k.
* **Projection** (Paper B (8)): ĝ_mk = c_mk ψ_k^H y_m with
  c_mk = sqrt(τ_p ρ_p,k) β_mk / (Σ_k' τ_p ρ_p,k' β_mk' |ψ_k^H ψ_k'|² + 1), so
  [Q_m]_kj = c_mk sqrt(τ_p ρ_p,j) β_mj ψ_k^H ψ_j and γ_mk = sqrt(τ_p ρ_p,k) β_mk c_mk.

Both SINR theorems (Paper A Theorems 1 and 3, Paper B (24) and (27)) need only γ [M, K] and Q [M, K, K]
(spec §3.2 "unified notation"); the uplink needs Q only summed over the APs, Σ_m Q_m [K, K].
Memory: the full Q is M·K² complex numbers (M = 100, K = 40: 2.6 MB; M = 400, K = 200: 256 MB), so the uplink
path sums it in chunks of APs and never stores it.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from instances.errors import InputError

__all__ = ["ESTIMATORS", "EstimatorStats", "estimator_statistics", "check_pilots"]

ESTIMATORS = ("lmmse", "projection")
#: largest number of complex entries of a Q chunk held at once by the uplink path (≈ 64 MB)
_CHUNK_ENTRIES = 4_000_000


class EstimatorStats(NamedTuple):
    """Second-order statistics of one estimator (spec §3.2).

    gamma : [M, K]        γ_mk = E|ĝ_mk|² (real, 0 < γ_mk ≤ β_mk)
    q_sum : [K, K]        Σ_m Q_m, [Q_m]_kj = E[ĝ_mk conj(g_mj)] (complex)
    q     : [M, K, K] | None   the per-AP Q_m (only when asked for: the downlink needs it)
    kind  : "lmmse" or "projection"
    """

    gamma: np.ndarray
    q_sum: np.ndarray
    q: np.ndarray | None
    kind: str


def check_pilots(psi, K: int) -> np.ndarray:
    """Ψ as a complex [τ_p, K] array with unit-norm columns; InputError('pilots') otherwise."""
    psi = np.asarray(psi, dtype=complex)
    if psi.ndim != 2 or psi.shape[1] != K:
        raise InputError("pilots", f"expected a [tau_p, {K}] pilot matrix, got shape {psi.shape}")
    if not np.all(np.isfinite(psi)):
        raise InputError("pilots", "pilot entries must be finite")
    norms = np.linalg.norm(psi, axis=0)
    bad = np.abs(norms - 1.0) > 1e-8
    if np.any(bad):
        raise InputError("pilots", f"pilot of thing {int(np.argmax(bad))} has norm {norms[bad][0]:.6g}, not 1")
    return psi


def _rho_vec(name: str, rho, n: int) -> np.ndarray:
    r = np.broadcast_to(np.asarray(rho, dtype=float), (n,)).copy()
    if np.any(~np.isfinite(r)) or np.any(r <= 0):
        raise InputError(name, "normalised powers must be finite and > 0")
    return r


def _chunks(M: int, K: int):
    step = max(1, _CHUNK_ENTRIES // max(1, K * K))
    for lo in range(0, M, step):
        yield slice(lo, min(M, lo + step))


def _lmmse_block(beta: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Q_m = Γ_m = B_m P^H A_m⁻¹ P B_m for the APs in ``beta`` [m, K] → [m, K, K]."""
    tau = P.shape[0]
    # A_m = I + Σ_k β_mk P_k P_k^H, batched over m: [m, τ, τ]
    A = np.einsum("ik,mk,jk->mij", P, beta, P.conj(), optimize=True)
    A += np.eye(tau)[None]
    X = np.linalg.solve(A, np.broadcast_to(P, (beta.shape[0],) + P.shape))      # A_m⁻¹ P  [m, τ, K]
    G = np.einsum("ik,mij->mkj", P.conj(), X, optimize=True)                     # P^H A_m⁻¹ P [m, K, K]
    G *= beta[:, :, None]
    G *= beta[:, None, :]
    return G


def estimator_statistics(beta, psi, rho_p, *, kind: str = "lmmse", full: bool = False) -> EstimatorStats:
    """γ, Σ_m Q_m (and Q_m when ``full``) for pilots ``psi`` [τ_p, K] (unit-norm columns; τ_p is its row count).

    ``beta`` [M, K] linear large-scale fading; ``rho_p`` pilot SNR per symbol (power / noise), scalar or [K].
    """
    if kind not in ESTIMATORS:
        raise InputError("estimator", f"unknown estimator {kind!r}; known: {', '.join(ESTIMATORS)}")
    beta = np.asarray(beta, dtype=float)
    if beta.ndim != 2 or np.any(~np.isfinite(beta)) or np.any(beta < 0):
        raise InputError("beta", "expected a finite, non-negative [M, K] array")
    M, K = beta.shape
    psi = check_pilots(psi, K)
    tau = psi.shape[0]
    amp = np.sqrt(tau * _rho_vec("rho_p", rho_p, K))                 # sqrt(τ_p ρ_p,k)
    P = psi * amp[None, :]
    gram = psi.conj().T @ psi                                         # [K, K], ψ_k^H ψ_j
    if kind == "projection":
        w = np.abs(gram) ** 2 * (amp ** 2)[None, :]                  # τ_p ρ_p,k' |ψ_k^H ψ_k'|²  [k, k']
        c = amp[None, :] * beta / (beta @ w.T + 1.0)                 # c_mk, Paper B (8)
        gamma = amp[None, :] * beta * c
        # [Q_m]_kj = c_mk amp_j β_mj (ψ_k^H ψ_j)
        base = gram * amp[None, :]
        q_sum = base * (c.T @ beta)
        q = (c[:, :, None] * beta[:, None, :]) * base[None] if full else None
        return EstimatorStats(gamma, q_sum, q, kind)
    gamma = np.empty((M, K))
    q_sum = np.zeros((K, K), dtype=complex)
    q = np.empty((M, K, K), dtype=complex) if full else None
    for sl in _chunks(M, K):
        G = _lmmse_block(beta[sl], P)
        gamma[sl] = np.real(np.diagonal(G, axis1=1, axis2=2))
        q_sum += G.sum(axis=0)
        if full:
            q[sl] = G
    return EstimatorStats(gamma, q_sum, q, kind)
