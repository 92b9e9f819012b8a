"""MMSE channel estimation with (possibly shared) orthogonal pilots, in noise-normalised units.

Paper 000 (Khan, Karthik R.M., Agnihotri, arXiv 2501.01271), Section II-A (pilot training, unnumbered equations
for the MMSE estimate and γ_mt); spec ``uplink_ee.md`` §1.3.

Units: ``beta_n = beta / sigma^2`` (large-scale gain divided by the noise power, in 1/W) and powers in W, so that
``p * beta_n`` is an SNR and the noise variance is 1. Every function here is a pure function of numpy arrays.

Model (independent Rayleigh fading, A antennas at AP m, pilot π(t) ∈ {0..τ_p-1} of UE t, pilot power p^p_t)::

    y_{m,π}   = Σ_{i: π(i)=π} sqrt(τ_p p^p_i) h_{mi} + n_{m,π},      h_{mi} ~ CN(0, β_{mi} I_A), n ~ CN(0, I_A)
    θ_{m,π}   = τ_p Σ_{i: π(i)=π} p^p_i β_{mi} + 1                   (per-antenna variance of y_{m,π})
    c_{mt}    = sqrt(τ_p p^p_t) β_{mt} / θ_{m,π(t)}                  (MMSE gain: ĥ_{mt} = c_{mt} y_{m,π(t)})
    γ_{mt}    = τ_p p^p_t β_{mt}^2 / θ_{m,π(t)} = c_{mt}^2 θ_{m,π(t)} (per-antenna variance of ĥ_{mt})
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from instances.errors import InputError

__all__ = ["ChannelEstimates", "pilot_onehot", "copilot_mask", "mmse_estimation", "assign_pilots"]


class ChannelEstimates(NamedTuple):
    """Result of :func:`mmse_estimation` (unpacks as ``theta, c, gamma``).

    theta : [M, tau_p]  per-antenna variance of the de-spread pilot observation at AP m for pilot π (θ_{m,π});
                        equals 1 (noise only) for an unused pilot.
    c     : [M, K]      MMSE gain c_{mt}.
    gamma : [M, K]      per-antenna mean-square of the estimate, γ_{mt} (E‖ĥ_{mt}‖² = A γ_{mt}).
    """

    theta: np.ndarray
    c: np.ndarray
    gamma: np.ndarray


def _check_pilots(pilots, K: int, tau_p: int) -> np.ndarray:
    pilots = np.asarray(pilots)
    if pilots.shape != (K,):
        raise InputError("pilots", f"expected shape ({K},), got {pilots.shape}")
    if not np.issubdtype(pilots.dtype, np.integer):
        if not np.all(np.equal(np.mod(pilots, 1), 0)):
            raise InputError("pilots", "pilot indices must be integers")
        pilots = pilots.astype(np.int64)
    if K and (pilots.min() < 0 or pilots.max() >= tau_p):
        raise InputError("pilots", f"pilot indices must lie in [0, tau_p={tau_p})")
    return pilots


def pilot_onehot(pilots, tau_p: int) -> np.ndarray:
    """One-hot pilot matrix Φ[K, tau_p] with Φ[t, π(t)] = 1."""
    pilots = np.asarray(pilots, dtype=np.int64)
    out = np.zeros((pilots.size, int(tau_p)))
    out[np.arange(pilots.size), pilots] = 1.0
    return out


def copilot_mask(pilots) -> np.ndarray:
    """Boolean [K, K] matrix, True where UEs t and i use the same pilot (i ∈ P_t, diagonal included)."""
    pilots = np.asarray(pilots)
    return pilots[:, None] == pilots[None, :]


def mmse_estimation(beta_n, p_pilot, tau_p: int, pilots) -> ChannelEstimates:
    """MMSE channel estimation statistics θ, c, γ (§1.3; paper 000 Sec. II-A).

    Parameters
    ----------
    beta_n  : [M, K] large-scale gains divided by the noise power (1/W).
    p_pilot : [K] or scalar, pilot transmit power per UE (W, same normalisation as ``beta_n``).
    tau_p   : number of orthogonal pilots (pilot length in samples).
    pilots  : [K] integer pilot index π(t) ∈ {0, ..., tau_p - 1}.

    Vectorised: the co-pilot sums are one matrix product with the one-hot pilot matrix.
    """
    beta_n = np.asarray(beta_n, dtype=float)
    if beta_n.ndim != 2:
        raise InputError("beta", f"expected a 2-D array [M, K], got shape {beta_n.shape}")
    M, K = beta_n.shape
    tau_p = int(tau_p)
    if tau_p < 1:
        raise InputError("tau_p", "must be a positive integer")
    if not np.all(np.isfinite(beta_n)) or np.any(beta_n < 0):
        raise InputError("beta", "large-scale gains must be finite and non-negative")
    p_pilot = np.broadcast_to(np.asarray(p_pilot, dtype=float), (K,))
    if not np.all(np.isfinite(p_pilot)) or np.any(p_pilot < 0):
        raise InputError("p_pilot", "pilot powers must be finite and non-negative")
    pilots = _check_pilots(pilots, K, tau_p)

    phi = pilot_onehot(pilots, tau_p)                       # [K, tau_p]
    rx = tau_p * p_pilot[None, :] * beta_n                  # τ_p p^p_t β_mt   [M, K]
    theta = rx @ phi + 1.0                                  # [M, tau_p]
    theta_t = theta[:, pilots]                              # θ_{m,π(t)}       [M, K]
    c = np.sqrt(tau_p * p_pilot)[None, :] * beta_n / theta_t
    gamma = rx * beta_n / theta_t
    return ChannelEstimates(theta=theta, c=c, gamma=gamma)


def assign_pilots(K: int, tau_p: int, rng: np.random.Generator | None = None, *, method: str = "auto") -> np.ndarray:
    """Pilot indices [K] (int64).

    method:
      * ``"orthogonal"`` — UE t gets pilot t; requires K ≤ tau_p.
      * ``"random"``     — i.i.d. uniform pilots drawn from ``rng`` (a ``numpy.random.Generator``; required).
      * ``"balanced"``   — a random permutation of (0, 1, ..., tau_p-1, 0, 1, ...): every pilot is used
                           ⌊K/τ_p⌋ or ⌈K/τ_p⌉ times; drawn from ``rng`` (required).
      * ``"auto"``       — ``"orthogonal"`` when K ≤ tau_p, else ``"random"``.
    """
    K, tau_p = int(K), int(tau_p)
    if K < 0 or tau_p < 1:
        raise InputError("tau_p", "need K >= 0 and tau_p >= 1")
    if method == "auto":
        method = "orthogonal" if K <= tau_p else "random"
    if method == "orthogonal":
        if K > tau_p:
            raise InputError("pilots", f"orthogonal pilots need K <= tau_p (K={K}, tau_p={tau_p})")
        return np.arange(K, dtype=np.int64)
    if method in ("random", "balanced"):
        if rng is None:
            raise InputError("rng", f"pilot method {method!r} needs a numpy Generator (seeded runs only)")
        if method == "random":
            return rng.integers(0, tau_p, size=K, dtype=np.int64)
        return rng.permutation(np.arange(K, dtype=np.int64) % tau_p)
    raise InputError("method", f"unknown pilot assignment method {method!r}")
