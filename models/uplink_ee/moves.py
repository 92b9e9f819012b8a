"""Closed-form SINR of one UE after a single association move, with optimal LSFD weights (paper 000, arXiv
2501.01271, eq. (4) with the weights of spec §1.5–1.6).

With optimal LSFD weights, SINR_t = p_t b_Sᵀ C_S⁻¹ b_S depends only on UE t's serving set S (b_t, C_t of
:func:`models.uplink_ee.sinr.lsfd_matrices`), so with x = C_S⁻¹ b_S and f = b_Sᵀ x (SINR_t = p_t f):

* drop m ∈ S (|S| > 1, keeps (11e)): f' = f − x_m² / [C_S⁻¹]_mm;
* add m ∉ S: f' = f + (b_m − c_mᵀx)² / (C_mm − c_mᵀ C_S⁻¹ c_m)  (Schur complement);
* swap m ∈ S for m' ∉ S: a drop followed by an add (only when |S| ≤ ``swap_limit``).

SE_t = w log2(1 + SINR_t) (4) is :func:`se_from_sinr`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["UEMoves", "ue_moves", "se_from_sinr"]


class UEMoves(NamedTuple):
    """UE t's current f = SINR_t / p_t and its candidate moves (arrays of equal length, or None without any)."""

    f: float
    moves: tuple | None    # (f_new, ΔP_static (W), kind 0/1/2 = drop/add/swap, AP out (−1), AP in (−1))


def se_from_sinr(sinr, prelog: float):
    """SE = w log2(1 + SINR) (4), bit/s/Hz."""
    return prelog * np.log2(1.0 + sinr)


def _swaps(S, notS, bt, Ct, Ci, x, ft, cd, dcoef_t):
    out = []
    for j in range(S.size):
        keep = np.delete(np.arange(S.size), j)
        if keep.size:
            Ci2 = Ci[np.ix_(keep, keep)] - np.outer(Ci[keep, j], Ci[j, keep]) / Ci[j, j]
            Sk = S[keep]
            x2 = Ci2 @ bt[Sk]
            f2 = ft - x[j] ** 2 / Ci[j, j]
            Cc = Ct[np.ix_(Sk, notS)]
            fs = f2 + (bt[notS] - Cc.T @ x2) ** 2 / np.maximum(cd - np.sum(Cc * (Ci2 @ Cc), axis=0), 1e-300)
        else:
            fs = bt[notS] ** 2 / cd
        out.append((fs, dcoef_t[notS] - dcoef_t[S[j]], np.full(notS.size, 2), np.full(notS.size, S[j]), notS))
    return out


def ue_moves(links, S, notS, bt, Ct, dcoef_t, swap_limit: int) -> UEMoves:
    """Moves of one UE with association ``links`` (its APs), usable serving set ``S`` ⊆ links, candidate APs
    ``notS``; ``bt`` [M], ``Ct`` [M, M] of :func:`models.uplink_ee.sinr.lsfd_matrices`; ``dcoef_t`` [M] the
    per-link static power of (10)."""
    parts = []
    if S.size:
        Ci = np.linalg.inv(Ct[np.ix_(S, S)])
        x = Ci @ bt[S]
        ft = float(bt[S] @ x)
    else:
        Ci, x, ft = None, None, 0.0
    if links.size > 1:                                                  # drop (keeps Σ_m d_mt ≥ 1)
        fd = np.full(links.size, ft)
        pos = np.searchsorted(links, S)
        if S.size:
            fd[pos] = ft - x * x / np.diagonal(Ci)
        parts.append((fd, -dcoef_t[links], np.zeros(links.size, int), links, np.full(links.size, -1)))
    if notS.size:                                                       # add
        cd = Ct[notS, notS]
        if S.size:
            Cc = Ct[np.ix_(S, notS)]
            fa = ft + (bt[notS] - Cc.T @ x) ** 2 / np.maximum(cd - np.sum(Cc * (Ci @ Cc), axis=0), 1e-300)
        else:
            fa = bt[notS] ** 2 / cd
        parts.append((fa, dcoef_t[notS], np.ones(notS.size, int), np.full(notS.size, -1), notS))
        if 1 <= S.size <= swap_limit and links.size == S.size:          # swap
            parts.extend(_swaps(S, notS, bt, Ct, Ci, x, ft, cd, dcoef_t))
    if not parts:
        return UEMoves(ft, None)
    return UEMoves(ft, tuple(np.concatenate([p[i] for p in parts]) for i in range(5)))
