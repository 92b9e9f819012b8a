"""MMSE channel estimation with orthogonal unicast pilots and one shared pilot per multicast group (spec
``unicast_multicast.md`` §1.3–1.4, [J]); noise power normalised to 1, so ρ_t = pilot power / noise power.

Per AP m (all vectorised over M × K):

* unicast user k:          γ_mk  = τ_t ρ_k β_mk² / (τ_t ρ_k β_mk + 1)
* multicast user (g, l):   γ_mgl = τ_t ρ_gl β_mgl² / Λ_mg,   Λ_mg = Σ_l' τ_t ρ_gl' β_mgl' + 1
* group estimate ĝ_mg = Σ_l ĝ_mgl:  ζ_mg = (Σ_l √(τ_t ρ_gl) β_mgl)² / Λ_mg

With equal pilot powers in a group these are the spec's formulas verbatim; with unequal powers they are the same
MMSE derivation (the projection onto φ_g is Σ_l √(τ_t ρ_gl) g_mgl + n), and the identities of §1.4 used by the
closed forms, E{g_mgl^H ĝ_mg} = N √(γ_mgl ζ_mg) and ĝ_mgl = √(γ_mgl/ζ_mg) ĝ_mg, still hold.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Estimates(NamedTuple):
    """gamma_rx [M, K]: variance of the estimate of each user's own channel (γ_mk or γ_mgl; receiver order =
    instance order); zeta [M, G]: variance of the group estimates; gamma_stream [M, S]: the variance of the
    estimate each stream is precoded with (unicast streams in instance order, then groups 0..G−1)."""

    gamma_rx: np.ndarray
    zeta: np.ndarray
    gamma_stream: np.ndarray


def membership(group: np.ndarray, G: int) -> np.ndarray:
    """E [K, G] with E[i, g] = 1 when user i is a member of multicast group g (unicast rows are zero)."""
    group = np.asarray(group)
    return (group[:, None] == np.arange(G)[None, :]).astype(float)


def mmse_estimates(beta, rho_t, tau_t: int, group) -> Estimates:
    """The §1.4 estimate variances for ``beta`` [M, K] (linear, noise-normalised with ``rho_t`` [K] or scalar),
    pilot length ``tau_t`` and ``group`` [K] (−1 = unicast)."""
    beta = np.asarray(beta, dtype=float)
    group = np.asarray(group)
    K = beta.shape[1]
    rho = np.broadcast_to(np.asarray(rho_t, dtype=float), (K,))
    G = int(group.max()) + 1 if np.any(group >= 0) else 0
    E = membership(group, G)
    snr = tau_t * rho[None, :] * beta                       # τ_t ρ_t β  [M, K]
    lam = 1.0 + snr @ E                                     # Λ_mg       [M, G]
    is_uni = group < 0
    denom = np.where(is_uni[None, :], snr + 1.0, lam[:, np.clip(group, 0, None)] if G else 1.0)
    gamma_rx = snr * beta / denom
    amp = (np.sqrt(tau_t * rho)[None, :] * beta) @ E        # Σ_l √(τ ρ) β  [M, G]
    zeta = amp ** 2 / lam if G else np.zeros((beta.shape[0], 0))
    gamma_stream = np.concatenate([gamma_rx[:, is_uni], zeta], axis=1)
    return Estimates(gamma_rx, zeta, gamma_stream)


__all__ = ["Estimates", "membership", "mmse_estimates"]
