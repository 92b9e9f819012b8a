"""Partial full-pilot zero-forcing (PFZF) combining: strong/weak grouping per AP and the closed-form moments.

Paper 000 Sec. II-C, eqs. (5)–(9) (after Zhang–Zhang–Björnson–Ai, IEEE TCOM 2021 [20]); spec ``uplink_ee.md``
§1.4–§1.5. Noise-normalised units (σ² = 1, ``beta_n = β/σ²`` in 1/W, powers in W), independent Rayleigh fading.

Grouping at AP m (spec §1.4, parameter δ):
  1. sort the UEs by β_mt, decreasing; walk down adding the share β_mt / Σ_i β_mi; a UE is *selected* while the
     running share including it is ≤ δ (the strongest UE always is);
  2. S_m = every UE that shares a pilot with a selected UE (co-pilot UEs come as a block), W_m = the rest;
  3. L_{S_m} = number of distinct pilots in S_m. ZF needs A − L_{S_m} ≥ 1 spatial degrees of freedom, so pilots are
     admitted in the order of their first selected UE and at most A − 1 of them (spec's feasibility guard; with
     A = 1 every UE is weak, i.e. the AP does MR).

Combiners (§1.4): t ∈ S_m: v_mt = s_mt · Y_m (Y_m^H Y_m)^{-1} e_{π(t)} with Y_m the de-spread observations of the
strong pilots; t ∈ W_m: v_mt = ĥ_mt (local MR). We take the scale s_mt = γ_mt / c_mt = sqrt(τ_p p^p_t) β_mt so
that the moments below are exactly the summands of the seed's (5)–(9) (DS_t has γ_mt in the ZF sum and A γ_mt in the
MR sum); any per-AP scale is absorbed by the LSFD weight a_mt.

Moments (μ_mti = E{v_mt^H h_mi}, ν_mti = Var{v_mt^H h_mi}, n_mt = E‖v_mt‖², σ² = 1; κ_m = 1/(A − L_{S_m})):

    ZF (t ∈ S_m):  μ_mti = γ_mt (c_mi / c_mt) 1[i ∈ P_t]
                   ν_mti = γ_mt (β_mi − γ_mi 1[i ∈ S_m]) κ_m          (leakage="exact", default)
                         = γ_mt (β_mi − γ_mi) κ_m                    (leakage="seed": eqs. (7)–(8) as printed)
                   n_mt  = γ_mt κ_m
    MR (t ∈ W_m):  μ_mti = A √(γ_mt γ_mi) 1[i ∈ P_t],   ν_mti = A γ_mt β_mi,   n_mt = A γ_mt

Two readings of the seed that we do not follow, both decided by the Monte Carlo test
(``tests/test_pfzf_montecarlo.py``):
  * eq. (8) gives every interferer the ZF leakage (β_mi − γ_mi)/(A − L_S). A UE whose pilot is not among the nulled
    pilots is independent of Y_m, so its whole channel leaks: β_mi, not β_mi − γ_mi (the simulation shows a
    several-fold larger leakage than (8) for such UEs). ``leakage="seed"`` reproduces the printed form.
  * eq. (6) writes the coherent co-pilot gain as γ_mt sqrt(η_t' β_mt' / (η_t β_mt)). The simulated mean of
    v_mt^H h_mt' is γ_mt c_mt'/c_mt (= γ_mt β_mt'/β_mt for equal pilot powers) in the ZF branch and A √(γ_mt γ_mt')
    in the MR branch; the power η_t' multiplies PC once, outside the sum. We use the simulated form.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from instances.errors import InputError
from models.common.estimation import ChannelEstimates, copilot_mask, pilot_onehot
from models.uplink_ee.sinr import Moments

__all__ = ["Grouping", "pfzf_grouping", "pfzf_moments", "DEFAULT_DELTA", "LEAKAGE_MODES"]

#: δ of the grouping rule; the PFZF authors' code uses 0.85 and the seed states no value (its 95 % rule is the
#: initial *association*, Section V), so the spec's default applies.
DEFAULT_DELTA = 0.85
LEAKAGE_MODES = ("exact", "seed")


class Grouping(NamedTuple):
    """strong[M, K] (t ∈ S_m), strong_pilots[M, τ_p] (pilot in Π_{S_m}), n_strong_pilots[M] (L_{S_m})."""

    strong: np.ndarray
    strong_pilots: np.ndarray
    n_strong_pilots: np.ndarray


def _antennas(antennas, M: int) -> np.ndarray:
    A = np.broadcast_to(np.asarray(antennas, dtype=float), (M,))
    if np.any(A < 1) or np.any(A != np.round(A)):
        raise InputError("antennas", "every AP needs a positive integer number of antennas")
    return A


def pfzf_grouping(beta_n, pilots, tau_p: int, antennas, *, delta: float = DEFAULT_DELTA) -> Grouping:
    """Strong/weak split of every AP (spec §1.4), vectorised over APs; see the module docstring for the rule."""
    beta_n = np.asarray(beta_n, dtype=float)
    if beta_n.ndim != 2:
        raise InputError("beta", f"expected [M, K], got shape {beta_n.shape}")
    if not 0.0 < float(delta) <= 1.0:
        raise InputError("delta", f"the grouping share must lie in (0, 1], got {delta}")
    M, K = beta_n.shape
    A = _antennas(antennas, M)
    pilots = np.asarray(pilots, dtype=np.int64)
    phi = pilot_onehot(pilots, tau_p).astype(bool)                        # [K, τ_p]
    order = np.argsort(-beta_n, axis=1, kind="stable")                    # strongest first
    total = beta_n.sum(axis=1, keepdims=True)
    share = np.divide(np.take_along_axis(beta_n, order, axis=1), total, out=np.zeros((M, K)), where=total > 0)
    rank_sel = (np.cumsum(share, axis=1) <= delta + 1e-12)
    rank_sel[:, 0] = True
    rank_sel &= np.take_along_axis(beta_n, order, axis=1) > 0            # a zero-gain UE is never strong
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(K)[None, :].repeat(M, axis=0), axis=1)
    selected = np.take_along_axis(rank_sel, rank, axis=1)                  # [M, K] back in UE order
    # first selected rank of every pilot, then admit pilots in that order, at most A_m − 1 of them
    big = K + 1
    r = np.where(selected, rank, big)                                      # [M, K]
    first = np.min(np.where(phi[None, :, :], r[:, :, None], big), axis=1)  # [M, τ_p]
    pos = np.argsort(np.argsort(first, axis=1, kind="stable"), axis=1, kind="stable")
    keep = (first < big) & (pos < (A[:, None] - 1))
    strong = keep[:, pilots]                                               # [M, K]
    return Grouping(strong=strong, strong_pilots=keep, n_strong_pilots=keep.sum(axis=1))


def pfzf_moments(est: ChannelEstimates, beta_n, pilots, antennas, grouping: Grouping, *,
                 leakage: str = "exact") -> Moments:
    """Closed-form PFZF moments (module docstring table; eqs. (5)–(9)) as :class:`models.uplink_ee.sinr.Moments`.

    est: MMSE statistics from :func:`models.common.estimation.mmse_estimation`; beta_n [M, K]; pilots [K]; antennas
    scalar or [M]; grouping from :func:`pfzf_grouping`. Memory: two [M, K, K] arrays."""
    if leakage not in LEAKAGE_MODES:
        raise InputError("leakage", f"unknown leakage model {leakage!r}; known: {', '.join(LEAKAGE_MODES)}")
    beta_n = np.asarray(beta_n, dtype=float)
    M, K = beta_n.shape
    A = _antennas(antennas, M)
    gamma, c = est.gamma, est.c
    strong = np.asarray(grouping.strong, dtype=bool)
    if strong.shape != (M, K):
        raise InputError("grouping", f"strong mask must be [M, K] = ({M}, {K})")
    L = np.asarray(grouping.n_strong_pilots, dtype=float)
    if np.any(strong.any(axis=1) & (A - L < 1)):
        raise InputError("grouping", "an AP nulls as many pilots as it has antennas (need A − L_S ≥ 1)")
    kappa = 1.0 / np.maximum(A - L, 1.0)                                   # [M]
    cp = copilot_mask(pilots)

    # MR branch
    sg = np.sqrt(gamma)
    mu_mr = A[:, None, None] * sg[:, :, None] * sg[:, None, :]
    nu_mr = A[:, None, None] * gamma[:, :, None] * beta_n[:, None, :]
    n_mr = A[:, None] * gamma
    # ZF branch (seed scaling: μ_mtt = γ_mt)
    ratio = np.divide(c[:, None, :], c[:, :, None], out=np.zeros((M, K, K)), where=c[:, :, None] > 0)
    mu_zf = gamma[:, :, None] * ratio
    leak = beta_n - gamma * strong if leakage == "exact" else beta_n - gamma
    nu_zf = (gamma * kappa[:, None])[:, :, None] * leak[:, None, :]
    n_zf = gamma * kappa[:, None]

    zf = strong[:, :, None]
    mu = np.where(zf, mu_zf, mu_mr) * cp[None, :, :]
    nu = np.where(zf, nu_zf, nu_mr)
    n = np.where(strong, n_zf, n_mr)
    return Moments(mu=mu, nu=nu, n=n, copilot=cp)
