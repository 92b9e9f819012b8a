"""Exact 1-opt local search on the association at fixed powers (part of the binary recovery of paper 000's
Algorithm 1, step 13; problem ``uplink-ee``).

The closed forms of a move's SINR are :func:`models.uplink_ee.moves.ue_moves`; P_T^fix + P_T^c of (10) is linear in
D. Each round takes every UE's best move whose Dinkelbach score ΔR − λΔP (λ = R / (P_T^fix + P_T^c)) is positive
and applies them in decreasing score while Σ SE ≥ SE^QoS (11d) holds; as SINRs of different UEs do not interact
and the score is linear, the EE rises in every round. It stops when no single move raises the EE (a 1-opt local
optimum). The final point is re-scored by the evaluator.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from models.uplink_ee.moves import se_from_sinr, ue_moves
from models.uplink_ee.sinr import lsfd_matrices
from models.uplink_ee.system import UplinkEE

__all__ = ["Improvement", "improve_association"]


class Improvement(NamedTuple):
    assoc: np.ndarray      # [M, K] binary
    ee: float              # Mbit/J, evaluator
    sum_se: float          # bit/s/Hz, evaluator
    moves: int             # accepted moves
    kinds: dict            # accepted moves per kind


class _Search:
    """The search state: binary D, per-UE f (SINR / p) and candidate moves, static power P_s, per-UE SE."""

    def __init__(self, data: UplinkEE, eta, D, qos: float, swap_limit: int):
        self.eta = np.clip(np.asarray(eta, dtype=float), 0.0, 1.0)
        self.Db = np.asarray(D, dtype=float) > 0.5
        M, K = self.Db.shape
        self.qos_eff = qos + 1e-9 * max(qos, 1.0)
        self.p = self.eta * data.p_max
        self.bvec, self.C = lsfd_matrices(data.moments, self.p)
        self.valid = np.einsum("tmm->tm", self.C) > 0                   # APs that can help UE t
        self.w, self.B = data.prelog, data.bandwidth_hz
        self.dcoef = data.power.d_coef
        self.P_s = data.power.static(self.eta, self.Db.astype(float))
        self.swap_limit = swap_limit
        self.f = np.zeros(K)
        self.moves: list = [None] * K
        for t in range(K):
            self.state(t)
        self.se = se_from_sinr(self.p * self.f, self.w)

    def state(self, t: int) -> None:
        links = np.flatnonzero(self.Db[:, t])
        S = links[self.valid[t, links]]
        notS = np.flatnonzero(~self.Db[:, t] & self.valid[t])
        self.f[t], self.moves[t] = ue_moves(links, S, notS, self.bvec[t], self.C[t], self.dcoef[:, t],
                                            self.swap_limit)

    def picks(self) -> list:
        """Every UE's best improving move (score, t, index, ΔSE)."""
        R = self.B * self.se.sum()
        lam_d = R / self.P_s
        out = []
        for t, mv in enumerate(self.moves):
            if mv is None:
                continue
            dse = se_from_sinr(self.p[t] * np.maximum(mv[0], 0.0), self.w) - self.se[t]
            score = self.B * dse - lam_d * mv[1]
            j = int(np.argmax(score))
            if score[j] > 1e-12 * R:
                out.append((score[j], t, j, dse[j]))
        return out

    def apply(self, picks, kinds: dict, budget: int) -> list[int]:
        """Apply the picks in decreasing score while (11d) holds; returns the UEs moved (at most ``budget``)."""
        tot = self.se.sum()
        applied: list[int] = []
        for _, t, j, dse in sorted(picks, reverse=True):
            if tot + dse < self.qos_eff:
                continue
            _, dpj, kj, moj, mij = (a[j] for a in self.moves[t])
            if moj >= 0:
                self.Db[moj, t] = False
            if mij >= 0:
                self.Db[mij, t] = True
            self.P_s += dpj
            tot += dse
            kinds[("drop", "add", "swap")[kj]] += 1
            applied.append(t)
            if len(applied) >= budget:
                break
        for t in applied:
            self.state(t)
            self.se[t] = se_from_sinr(self.p[t] * self.f[t], self.w)
        return applied


def improve_association(data: UplinkEE, eta, D, *, se_qos: float | None = None, max_moves: int | None = None,
                        swap_limit: int = 16) -> Improvement:
    """Greedy 1-opt local search on a binary association for fixed powers η, exact under the evaluator (see the
    module docstring); ``max_moves`` caps the accepted moves (default M·K)."""
    qos = data.se_qos if se_qos is None else float(se_qos)
    s = _Search(data, eta, D, qos, swap_limit)
    M, K = s.Db.shape
    cap = M * K if max_moves is None else int(max_moves)
    n_moves, kinds = 0, {"drop": 0, "add": 0, "swap": 0}
    while n_moves < cap:
        # a move (ΔR, ΔP) raises EE = R/(P_s + c R) iff ΔR − λ ΔP > 0 with λ = R/P_s (Dinkelbach)
        applied = s.apply(s.picks(), kinds, cap - n_moves)
        n_moves += len(applied)
        if not applied:
            break
    Df = s.Db.astype(float)
    ev = data.evaluate(s.eta, Df, se_qos=qos)
    return Improvement(assoc=Df, ee=float(ev.objective), sum_se=float(ev.objectives["sum_se_bps_hz"]),
                       moves=n_moves, kinds=kinds)
