"""Binary recovery of a relaxed association (paper 000 Step 2, eq. (13) → (11b)), with the QoS (11d) re-checked.

The relaxation (13) is weak: for fixed LSFD weights every UE's SINR is invariant to scaling its column d_t, so with
(11e) Σ_m d_mt ≥ 1 the relaxed optimum tends to spread d_t thinly over many APs (Remark 1's "naturally binary" does
not hold in general). Rounding at 0.5 would then drop every link. Recovery therefore

1. builds candidates D_θ = {d_mt ≥ θ · max_m d_mt} for θ ∈ ``thresholds`` (per UE, so each UE keeps its strongest
   relaxed link, which also enforces (11e));
2. repairs a candidate that misses SE^QoS by adding links in decreasing relaxed value (ties: larger β), in
   batches, re-scoring with the evaluator;
3. improves the best candidate by dropping links one at a time while EE rises and (11d), (11e) hold
   (``prune=True``; at most ``prune_rounds`` passes);
4. returns the feasible candidate with the highest true EE (eq. (11a), optimal LSFD), or None when no candidate meets
   SE^QoS (the caller then keeps its previous association).

All scoring goes through :meth:`models.uplink_ee.system.UplinkEE.evaluate`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.uplink_ee.system import UplinkEE

__all__ = ["Recovery", "recover_binary"]


@dataclass(frozen=True)
class Recovery:
    assoc: np.ndarray           # [M, K] binary
    ee: float                   # Mbit/J, eq. (11a)
    sum_se: float               # bit/s/Hz
    threshold: float            # θ of the winning candidate
    added: int                  # links added to meet SE^QoS
    pruned: int                 # links dropped by the local search


def _score(data: UplinkEE, eta, D, se_qos):
    ev = data.evaluate(eta, D, se_qos=se_qos)
    return ev.objective, ev.objectives["sum_se_bps_hz"]


def _feasible_se(sum_se: float, se_qos: float) -> bool:
    return sum_se >= se_qos - 1e-9 * max(se_qos, 1.0)


def recover_binary(data: UplinkEE, d_relaxed, eta, *, se_qos: float | None = None,
                   thresholds=(0.5, 0.25, 0.1, 0.01), prune: bool = True, prune_rounds: int = 2,
                   max_prune_links: int = 400) -> Recovery | None:
    """Best feasible binary association near ``d_relaxed`` for powers ``eta`` (see the module docstring)."""
    d = np.clip(np.asarray(d_relaxed, dtype=float), 0.0, 1.0)
    eta = np.asarray(eta, dtype=float)
    qos = data.se_qos if se_qos is None else float(se_qos)
    M, K = d.shape
    top = d.max(axis=0, keepdims=True)
    best_ap = np.argmax(d + 1e-12 * data.beta_n / max(data.beta_n.max(), 1e-300), axis=0)
    # order in which links are added during repair: relaxed value, then gain
    key = d + 1e-9 * data.beta_n / max(data.beta_n.max(), 1e-300)
    order = np.argsort(-key, axis=None)
    batch = max(1, K // 2)
    best: Recovery | None = None
    seen = set()
    for theta in thresholds:
        D = (d >= theta * top) & (top > 0)
        D[best_ap, np.arange(K)] = True
        h = D.tobytes()
        if h in seen:
            continue
        seen.add(h)
        ee, sse = _score(data, eta, D.astype(float), qos)
        added = 0
        if not _feasible_se(sse, qos):
            for start in range(0, order.size, batch):
                idx = np.unravel_index(order[start:start + batch], (M, K))
                new = ~D[idx]
                if not new.any():
                    continue
                D[idx] = True
                added += int(new.sum())
                ee, sse = _score(data, eta, D.astype(float), qos)
                if _feasible_se(sse, qos):
                    break
        if not _feasible_se(sse, qos):
            continue
        if best is None or ee > best.ee:
            best = Recovery(assoc=D.astype(float), ee=ee, sum_se=sse, threshold=theta, added=added, pruned=0)
    if best is None or not prune:
        return best
    D = best.assoc.astype(bool)
    ee, sse, pruned = best.ee, best.sum_se, 0
    for _ in range(prune_rounds):
        links = np.argwhere(D & (D.sum(axis=0, keepdims=True) > 1))
        if len(links) == 0 or len(links) > max_prune_links:
            break
        # try the weakest links first (smallest relaxed value, then smallest gain)
        links = links[np.lexsort((data.beta_n[links[:, 0], links[:, 1]], d[links[:, 0], links[:, 1]]))]
        improved = False
        for m, t in links:
            if D[:, t].sum() <= 1:
                continue
            D[m, t] = False
            e2, s2 = _score(data, eta, D.astype(float), qos)
            if e2 > ee * (1 + 1e-12) and _feasible_se(s2, qos):
                ee, sse, pruned, improved = e2, s2, pruned + 1, True
            else:
                D[m, t] = True
        if not improved:
            break
    return Recovery(assoc=D.astype(float), ee=ee, sum_se=sse, threshold=best.threshold, added=best.added,
                    pruned=pruned)
