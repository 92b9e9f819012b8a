"""The small-cell IoT baseline of paper 003 as LinearFractional SINRs built from a prepared cell-free system.

Paper A (Rao, Ashikhmin, Yang, arXiv 2006.10363) Section VII, eq. (25): each thing is served by one AP, which
estimates the thing's channel from the same non-orthogonal uplink pilots (with the system's estimator); Paper B
(Ngo et al., IEEE TWC 2017) eqs. (38) (AP choice), (42)-(44) (downlink), (47)-(49) (uplink). Spec
``iot_nonorthogonal.md`` §2.8, §3.9, ambiguities A5, A6, A10, A11. The per-thing effective SINRs ω̄_k (uplink) and
μ̄_k (downlink) are linear-fractional in the power coefficients α ∈ [0, 1]^K, and the rate e^{1/x}E1(1/x)/ln 2
(:func:`models.common.sinr.ei_rate`) is increasing in x, so max-min rate = max-min ω̄ (or μ̄), solved by the same
bisection as the cell-free uplink (:func:`solvers_adapters.iot.power_control.small_cell_maxmin`).

Pure numpy: the AP choice and the SINR forms (:func:`small_cell_selection`, :func:`small_cell_uplink`,
:func:`small_cell_downlink`, :func:`small_cell_dl_estimates`), their instance-level versions on a prepared system,
and the small-cell throughput.
"""
from __future__ import annotations

import numpy as np

from instances.errors import InputError
from models.common.estimation_vector import check_pilots
from models.common.sinr import LinearFractional, ei_rate, prelog_small_cell

__all__ = ["small_cell_selection", "small_cell_uplink", "small_cell_downlink", "small_cell_dl_estimates",
           "serving_aps", "small_cell_uplink_system", "small_cell_downlink_system", "small_cell_throughput_mbps",
           "evaluate_small_cells", "evaluate_small_cells_uplink", "evaluate_small_cells_downlink"]


def small_cell_selection(beta) -> np.ndarray:
    """Paper B (38): users in index order each take the strongest AP not yet taken (needs K ≤ M) → m_k [K]."""
    beta = np.asarray(beta, dtype=float)
    M, K = beta.shape
    if K > M:
        raise InputError("users", f"small cells need K ≤ M (one AP per user), got K = {K} > M = {M}")
    taken = np.zeros(M, dtype=bool)
    serving = np.empty(K, dtype=np.int64)
    for k in range(K):                                    # sequential by definition (A10); O(K·M)
        col = np.where(taken, -np.inf, beta[:, k])
        serving[k] = int(np.argmax(col))
        taken[serving[k]] = True
    return serving


def small_cell_uplink(beta, serving, omega, rho_u) -> LinearFractional:
    """ω̄_k(α) of Paper A (25) / Paper B (47)-(48) as (a, B, c): AP m_k decodes user k with an estimate of variance
    ω_k; the others' signals and the estimation error are noise::

        ω̄_k = ρ_u,k α_k ω_k / (ρ_u,k α_k (β_{m_k k} − ω_k) + Σ_{j≠k} ρ_u,j α_j β_{m_k j} + 1)
    """
    beta = np.asarray(beta, dtype=float)
    K = beta.shape[1]
    rho_u = np.broadcast_to(np.asarray(rho_u, dtype=float), (K,))
    g = beta[serving, :]                                  # [k, j] = β_{m_k j}
    B = g * rho_u[None, :]
    idx = np.arange(K)
    B[idx, idx] = rho_u * (g[idx, idx] - omega)
    return LinearFractional(rho_u * omega, B, np.ones(K))


def small_cell_downlink(beta, serving, mu, rho_d) -> LinearFractional:
    """μ̄_k(α) of Paper B (42)-(43) as (a, B, c): user k knows an estimate of variance μ_k of its channel from AP
    m_k; AP m_j ≠ m_k sends with power ρ_d α_j::

        μ̄_k = ρ_d α_k μ_k / (ρ_d α_k (β_{m_k k} − μ_k) + Σ_{j≠k} ρ_d α_j β_{m_j k} + 1)
    """
    beta = np.asarray(beta, dtype=float)
    K = beta.shape[1]
    rho = np.broadcast_to(np.asarray(rho_d, dtype=float), (beta.shape[0],))[serving]   # per serving AP
    g = beta[serving, :].T                                # [k, j] = β_{m_j k}
    B = g * rho[None, :]
    idx = np.arange(K)
    B[idx, idx] = rho * (g[idx, idx] - mu)
    return LinearFractional(rho * mu, B, np.ones(K))


def small_cell_dl_estimates(beta, serving, psi, rho_p, *, kind: str = "lmmse") -> np.ndarray:
    """μ_k: variance of user k's estimate of g_{m_k k} from the DL pilots of all serving APs (AP m_j sends ψ_j with
    SNR ρ_p per symbol over τ_p symbols). ``projection``: Paper B's μ_k = τρβ²/(τρ Σ_j β_{m_j k}|ψ_k^Hψ_j|² + 1);
    ``lmmse``: τρβ² ψ_k^H A_k⁻¹ ψ_k with A_k = I + τρ Σ_j β_{m_j k} ψ_j ψ_j^H (the user's received pilot covariance)."""
    beta = np.asarray(beta, dtype=float)
    K = beta.shape[1]
    psi = check_pilots(psi, K)
    tau = psi.shape[0]
    snr = tau * np.broadcast_to(np.asarray(rho_p, dtype=float), (K,))      # per sender j (AP m_j's pilot)
    g = beta[serving, :].T                                  # [k, j] = β_{m_j k}
    own = g[np.arange(K), np.arange(K)]
    if kind == "projection":
        w = np.abs(psi.conj().T @ psi) ** 2
        return snr * own ** 2 / ((g * snr[None, :] * w).sum(axis=1) + 1.0)
    if kind != "lmmse":
        raise InputError("estimator", f"unknown estimator {kind!r}")
    A = np.einsum("ij,kj,lj->kil", psi, g * snr[None, :], psi.conj(), optimize=True) + np.eye(tau)[None]
    x = np.linalg.solve(A, psi.T[:, :, None])[..., 0]      # A_k⁻¹ ψ_k  [k, τ]
    quad = np.real(np.einsum("ik,ki->k", psi.conj(), x))
    return snr * own ** 2 * quad


def serving_aps(system, serving=None) -> np.ndarray:
    """m_k [K]: ``serving`` if given (checked: distinct APs in 0..M−1), else Paper B (38) /
    :func:`small_cell_selection` on the system's β (things in index order take the strongest free
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

    * μ_k from :func:`small_cell_dl_estimates`: every serving AP m_j sends thing j's pilot ψ_j
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


def evaluate_small_cells(instance, solution, *, link: str, estimator: str | None = None,
                         sc_pilot_w: float | None = None):
    """The small-cell baseline's max-min problem (Paper B (45)-(46), (50); Paper A (25)) at per-thing power
    coefficients α = ``solution["eta"]`` [K] ∈ [0, 1]: objective min_k ω̄_k (``link="uplink"``) or min_k μ̄_k
    (``"downlink"``; the serving APs send the DL pilots with ``sc_pilot_w`` W, default the things' pilot power).
    Per thing: the effective SINR, the rate e^{1/x}E1(1/x)/ln 2 and the net throughput
    (:func:`small_cell_throughput_mbps`); the uplink also reports the EE of Paper A (11)."""
    from models.common.evaluation import Evaluation
    from models.iot import system as S

    sys_ = S.prepare(instance, estimator=S._estimator_of(solution, estimator))
    alpha = sys_.check_eta_ul(S._eta(solution))
    if link == "uplink":
        lf = small_cell_uplink_system(sys_)
    else:
        lf = small_cell_downlink_system(sys_, rho_p_sc=None if sc_pilot_w is None else sc_pilot_w / instance.noise_w)
    sinr = lf.sinr(np.clip(alpha, 0.0, None))
    thr = small_cell_throughput_mbps(instance, sinr)
    objectives = {"min_sinr": float(sinr.min()), "min_rate_bps_hz": float(ei_rate(sinr.min())),
                  "min_throughput_mbps": float(thr.min()), "sum_throughput_mbps": float(thr.sum())}
    if link == "uplink":
        objectives["ee_mbit_per_j"] = S.energy_efficiency(thr, alpha, instance.p_ue_max_w)
    return Evaluation(objective=float(sinr.min()), unit="1 (SINR)", objectives=objectives,
                      per_user={"sinr": sinr, "rate_bps_hz": ei_rate(sinr), "throughput_mbps": thr}, power={},
                      violations={"eta_bounds": float(max(0.0, -alpha.min(), alpha.max() - 1.0))},
                      extra={"estimator": sys_.estimator})


def evaluate_small_cells_uplink(instance, solution, *, estimator: str | None = None):
    """Problem ``iot-smallcell-uplink-maxmin``: :func:`evaluate_small_cells` of the uplink (Paper A (25))."""
    return evaluate_small_cells(instance, solution, link="uplink", estimator=estimator)


def evaluate_small_cells_downlink(instance, solution, *, estimator: str | None = None, sc_pilot_w: float | None = None):
    """Problem ``iot-smallcell-downlink-maxmin``: :func:`evaluate_small_cells` of the downlink (Paper B (42)-(46))."""
    return evaluate_small_cells(instance, solution, link="downlink", estimator=estimator, sc_pilot_w=sc_pilot_w)
