"""The optimal-LSFD SINR of paper 000 for orthogonal pilots in diagonal form, and the numpy data of the exact MINLP
(:mod:`formulations.uplink_ee.minlp`; arXiv 2501.01271, problem (11), eqs. (4), (10), (11a)).

With orthogonal pilots (co-pilot mask = identity, PC_t = 0) the LSFD matrix C_t = diag_m Λ_mt (spec §1.5–1.6) is
diagonal, so the generalised Rayleigh quotient p_t b_tᵀ C_t⁻¹ b_t separates over the APs::

    SINR_t = Σ_{m: d_mt = 1} p_t μ_mtt² / Λ_mt(p),      Λ_mt(p) = Σ_i p_i ν_mti + n_mt

Per-AP contribution bound R̄_mt = μ_mtt² p_max,t / (p_max,t ν_mtt + n_mt), the scaled rate-row coefficients
c_mti = p_max,i ν_mti / n_mt, and the variable bounds on SINR, SE = w log2(1 + SINR) (4), P_T (10) and EE (11a)
are computed here; :func:`point_values` gives every auxiliary value of the MINLP at a point (η, D).
"""
from __future__ import annotations

import numpy as np

from instances.errors import InputError

__all__ = ["require_orthogonal", "diagonal_sinr", "epigraph_coefficients", "dominance_pairs", "point_values"]


def require_orthogonal(data) -> None:
    cp = np.asarray(data.moments.copilot, dtype=bool)
    K = cp.shape[0]
    shared = np.argwhere(cp & ~np.eye(K, dtype=bool))
    if len(shared):
        t, i = (int(v) for v in shared[0])
        raise InputError("pilots", f"UEs {t} and {i} share a pilot; the exact uplink-ee MINLP needs orthogonal "
                                   "pilots (its diagonal LSFD form of the SINR is exact only then)")


def diagonal_sinr(data, eta, d) -> np.ndarray:
    """SINR_t = Σ_m d_mt p_t μ_mtt² / Λ_mt(p) [K] (orthogonal pilots, optimal LSFD; see the module docstring).
    Equals ``data.sinr(eta, d)`` for binary d (tested)."""
    require_orthogonal(data)
    mo = data.moments
    p = np.clip(np.asarray(eta, dtype=float), 0, None) * data.p_max
    lam = np.einsum("mti,i->mt", mo.nu, p) + mo.n
    mu2 = np.einsum("mtt->mt", mo.mu) ** 2
    term = np.divide(mu2 * p[None, :], lam, out=np.zeros_like(lam), where=lam > 0)
    return np.sum(np.asarray(d, dtype=float) * term, axis=0)


def epigraph_coefficients(data) -> dict:
    """numpy data of the model (see the module docstring for the symbols)."""
    mo = data.moments
    M, K = data.M, data.K
    pmax = np.asarray(data.p_max, dtype=float)
    mu2 = np.einsum("mtt->mt", mo.mu) ** 2                                 # μ_mtt²   [M, K]
    nu_tt = np.einsum("mtt->mt", mo.nu)                                    # ν_mtt    [M, K]
    n = np.asarray(mo.n, dtype=float)
    usable = (n > 0) & (mu2 > 0)
    safe_n = np.where(usable, n, 1.0)
    c = mo.nu * pmax[None, None, :] / safe_n[:, :, None]                   # c_mti    [M, K, K]
    rbar = np.where(usable, mu2 * pmax[None, :] / (pmax[None, :] * nu_tt + safe_n), 0.0)
    scale = 1.0 / (1.0 + c.sum(axis=2))                                    # 1/(1 + Σ_i c_mti)
    c_tt = np.einsum("mtt->mt", c)
    sinr_hi = rbar.sum(axis=0)                                             # [K]
    w = float(data.prelog)
    se_hi = w * np.log2(1.0 + sinr_hi)
    pw = data.power
    B = float(data.bandwidth_hz)
    const = float(pw.const)
    eta_coef = np.asarray(pw.eta_coef, dtype=float)
    d_coef = np.asarray(pw.d_coef, dtype=float)
    c_rate = float(pw.c_rate)
    rate_hi = B * float(se_hi.sum())                                        # bit/s
    p_lo = const + float(np.sum(d_coef.min(axis=0)))                        # every UE served by ≥ 1 AP, η = 0
    p_hi = const + float(eta_coef.sum()) + float(d_coef.sum()) + c_rate * rate_hi
    # EE = R / (P_s + c R) is increasing in R and decreasing in P_s: EE ≤ R_hi / (P_lo + c R_hi)
    ee_hi = rate_hi / (p_lo + c_rate * rate_hi) / 1e6 if rate_hi > 0 else 0.0
    return dict(M=M, K=K, c=c, c_tt=c_tt, scale=scale, rbar=rbar, usable=usable, sinr_hi=sinr_hi, se_hi=se_hi,
                w=w, B=B, const=const, eta_coef=eta_coef, d_coef=d_coef, c_rate=c_rate, p_lo=p_lo, p_hi=p_hi,
                ee_hi=ee_hi)


def dominance_pairs(data) -> list[tuple[int, int, int]]:
    """Triples (a, b, t) such that AP a serves UE t at least as well as AP b at *every* power vector and costs no
    more: r_at(η) ≥ r_bt(η) for all η ∈ [0, 1]^T and d_coef[a,t] ≤ d_coef[b,t], with r_mt = R⁰_mt η_t /
    (1 + Σ_i c_mti η_i), R⁰_mt = μ_mtt² p_max,t / n_mt. The comparison is linear in η after cross-multiplying, so it
    holds on the box iff (R⁰_at − R⁰_bt) + Σ_i min(0, R⁰_at c_bti − R⁰_bt c_ati) ≥ 0 (here: > a 1e-9 relative
    tolerance). Ties (equal links, up to that tolerance) keep only a < b."""
    co = epigraph_coefficients(data)
    mo = data.moments
    n = np.asarray(mo.n, dtype=float)
    mu2 = np.einsum("mtt->mt", mo.mu) ** 2
    r0 = np.where(co["usable"], mu2 * data.p_max[None, :] / np.where(co["usable"], n, 1.0), 0.0)   # [M, K]
    c = co["c"]
    # [a, b, t]: constant part and worst case of the η-linear part of R⁰_a (1 + Σ c_b η) − R⁰_b (1 + Σ c_a η)
    lin = r0[:, None, :, None] * c[None, :, :, :] - r0[None, :, :, None] * c[:, None, :, :]
    margin = (r0[:, None, :] - r0[None, :, :]) + np.minimum(lin, 0.0).sum(axis=3)
    rev = (r0[None, :, :] - r0[:, None, :]) + np.minimum(-lin, 0.0).sum(axis=3)
    dc = co["d_coef"]
    cheaper = dc[:, None, :] <= dc[None, :, :]
    M = r0.shape[0]
    a_idx = np.arange(M)[:, None, None]
    b_idx = np.arange(M)[None, :, None]
    # numerical ties (identical links) are ordered by index only, so that rounding can never create a cycle of cuts
    tol = 1e-9 * ((r0[:, None, :] + r0[None, :, :]) * (1.0 + np.maximum(c.sum(axis=2)[:, None, :],
                                                                          c.sum(axis=2)[None, :, :])) + 1e-300)
    tie = (np.abs(margin) <= tol) & (np.abs(rev) <= tol) & (dc[:, None, :] == dc[None, :, :])
    keep = (a_idx != b_idx) & cheaper & (((margin > tol) & ~tie) | (tie & (a_idx < b_idx)))
    return [tuple(int(v) for v in abt) for abt in np.argwhere(keep)]


def point_values(co: dict, eta, d) -> dict:
    """The largest feasible auxiliary values of the MINLP at (η, D) (coefficients ``co`` of
    :func:`epigraph_coefficients`): ρ_mt (d_mt × AP m's SINR term / R̄_mt), the SINR, SE (4), P_T (10) and EE (11a)."""
    M, K = co["M"], co["K"]
    eta = np.clip(np.broadcast_to(np.asarray(eta, dtype=float), (K,)), 0.0, 1.0)
    d = np.clip(np.broadcast_to(np.asarray(d, dtype=float), (M, K)), 0.0, 1.0)
    lhs = co["scale"] + np.einsum("mti,i->mt", co["c"] * co["scale"][:, :, None], eta)
    rho = np.where(co["usable"], np.minimum(d, (1.0 + co["c_tt"]) * co["scale"] * eta[None, :] / lhs), 0.0)
    rho = np.clip(rho, 0.0, 1.0)
    sinr = np.minimum((co["rbar"] * rho).sum(axis=0), co["sinr_hi"])
    se = np.minimum(co["w"] * np.log2(1.0 + sinr), co["se_hi"])
    rate = co["B"] * float(se.sum())
    p_total = co["const"] + float(co["eta_coef"] @ eta) + float(np.sum(co["d_coef"] * d)) + co["c_rate"] * rate
    p_total = float(np.clip(p_total, co["p_lo"], co["p_hi"]))
    return {"eta": eta, "d": d, "rho": rho, "sinr": sinr, "se": se, "p_total": p_total,
            "ee": min(rate / p_total / 1e6, co["ee_hi"])}
