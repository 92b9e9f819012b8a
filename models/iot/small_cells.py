"""The small-cell IoT baseline of paper 003 as LinearFractional SINRs built from a prepared cell-free system.

Paper A (Rao, Ashikhmin, Yang, arXiv 2006.10363) Section VII, eq. (25): each thing is served by one AP, which
estimates the thing's channel from the same non-orthogonal uplink pilots (with the system's estimator); Paper B
(Ngo et al., IEEE TWC 2017) eqs. (38) (AP choice), (42)-(44) (downlink), (47)-(49) (uplink). Spec
``iot_nonorthogonal.md`` §2.8, §3.9, ambiguities A5, A6, A10, A11. The per-thing effective SINRs ω̄_k (uplink) and
μ̄_k (downlink) are linear-fractional in the power coefficients α ∈ [0, 1]^K, and the rate e^{1/x}E1(1/x)/ln 2
(:func:`models.common.sinr.ei_rate`) is increasing in x, so max-min rate = max-min ω̄ (or μ̄), solved by the same
bisection as the cell-free uplink (:func:`solvers_adapters.iot.uplink.small_cell_maxmin`).

Pure numpy; the formulas themselves live in :mod:`models.common.sinr` (``small_cell_selection``,
``small_cell_uplink``, ``small_cell_downlink``, ``small_cell_dl_estimates``).
"""
from __future__ import annotations

import numpy as np

from instances.errors import InputError
from models.common.sinr import (LinearFractional, ei_rate, prelog_small_cell, small_cell_dl_estimates, small_cell_downlink,
                       small_cell_selection, small_cell_uplink)

__all__ = ["serving_aps", "small_cell_uplink_system", "small_cell_downlink_system", "small_cell_throughput_mbps"]


def serving_aps(system, serving=None) -> np.ndarray:
    """m_k [K]: ``serving`` if given (checked: distinct APs in 0..M−1), else Paper B (38) /
    :func:`models.common.sinr.small_cell_selection` on the system's β (things in index order take the strongest free
    AP; needs K ≤ M)."""
    M, K = system.beta.shape
    if serving is None:
        return small_cell_selection(system.beta)
    s = np.asarray(serving)
    if s.shape != (K,) or s.dtype.kind not in "iu" or np.any(s < 0) or np.any(s >= M):
        raise InputError("serving", f"expected {K} AP indices in 0..{M - 1}")
    if np.unique(s).size != K:
        raise InputError("serving", "each AP can serve at most one thing")
    return s.astype(np.int64)


def small_cell_uplink_system(system, *, serving=None) -> LinearFractional:
    """ω̄_k(α) of Paper A (25) / Paper B (47)-(48) for a prepared :class:`models.iot.system.IoTSystem`::

        ω̄_k = ρ_u,k α_k ω_k / (ρ_u,k α_k (β_{m_k k} − ω_k) + Σ_{j≠k} ρ_u,j α_j β_{m_k j} + 1)

    with m_k from :func:`serving_aps` and ω_k = γ_{m_k k} of the system's estimator (LMMSE or projection, the same
    uplink pilots Ψ and pilot SNR ρ_p as the cell-free system: AP m_k estimates g_{m_k k} exactly as in the
    cell-free training; spec §2.8 "= γ_{m_k k} of §2.2"). The uncorrected Paper B form (ambiguity A11)."""
    m = serving_aps(system, serving)
    K = system.K
    omega = system.gamma[m, np.arange(K)]
    return small_cell_uplink(system.beta, m, omega, system.rho_u)


def small_cell_downlink_system(system, *, serving=None, rho_d_sc=None, rho_p_sc=None) -> LinearFractional:
    """μ̄_k(α) of Paper B (42)-(43) (Paper A's small-cell downlink) for a prepared :class:`models.iot.system.IoTSystem`::

        μ̄_k = ρ_d,sc α_k μ_k / (ρ_d,sc α_k (β_{m_k k} − μ_k) + Σ_{j≠k} ρ_d,sc α_j β_{m_j k} + 1)

    * μ_k from :func:`models.common.sinr.small_cell_dl_estimates`: every serving AP m_j sends thing j's pilot ψ_j
      (the system's Ψ) with SNR ``rho_p_sc`` per symbol (default: the system's pilot SNR ρ_p = p̄_p/noise, i.e. the
      same 100 mW as the uplink pilots, ambiguity A6); the thing estimates with the system's estimator kind;
    * ρ_d,sc = ``rho_d_sc`` (scalar or [M]) or, by default, ρ_d of the serving AP (ambiguity A5: the author code's
      rho_d,sc = rho_d)."""
    m = serving_aps(system, serving)
    M, K = system.beta.shape
    rho_p = system.rho_p if rho_p_sc is None else np.broadcast_to(np.asarray(rho_p_sc, dtype=float), (K,))
    rho_d = system.rho_d if rho_d_sc is None else np.broadcast_to(np.asarray(rho_d_sc, dtype=float), (M,))
    for name, x in (("rho_p_sc", rho_p), ("rho_d_sc", rho_d)):
        if not np.all(np.isfinite(x)) or np.any(x <= 0):
            raise InputError(name, "SNRs must be finite and > 0")
    mu = small_cell_dl_estimates(system.beta, m, system.psi, rho_p, kind=system.estimator)
    return small_cell_downlink(system.beta, m, mu, rho_d)


def small_cell_throughput_mbps(instance, sinr_eff, *, tau_u: int | None = None, tau_d: int | None = None) -> np.ndarray:
    """Net small-cell throughput in Mbit/s (Paper A Section VIII, Paper B (57)): B (1 − (τ_u,sc + τ_d,sc)/τ_c)/2 ·
    e^{1/x}E1(1/x)/ln 2 at the effective SINRs x = ω̄_k or μ̄_k; τ_u,sc = τ_d,sc = the instance's τ_p unless given
    (spec ambiguity A4)."""
    tau_u = instance.tau_p if tau_u is None else tau_u
    tau_d = instance.tau_p if tau_d is None else tau_d
    prelog = prelog_small_cell(tau_u, tau_d, instance.tau_c)
    return instance.bandwidth_hz * prelog * ei_rate(sinr_eff) * 1e-6
