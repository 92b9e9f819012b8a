"""Greedy pilot assignment of Ngo et al. 2017 ("Cell-free massive MIMO versus small cells", Section IV-A, Algorithm 1,
eqs. (30)-(31)); spec ``iot_nonorthogonal.md`` §2.5, discrete variant (ambiguity A3).

Start from an assignment of the τ_p orthonormal pilots; repeat N times: find the user k* with the lowest rate
(without power control) and give it the pilot i* that minimises its contamination,

    i* = argmin_i Σ_{k' ≠ k*, π(k') = i} w_{k*}(k'),

where the weight w_{k*}(k') says how much user k' sharing k*'s pilot hurts k*:

* cell-free (Paper B (31)): w(k') = Σ_m β_mk' (contamination summed over all APs);
* small-cell uplink: w(k') = β_{m_k* k'} (interference at k*'s serving AP);
* small-cell downlink: w(k') = β_{m_k' k*} (interference at k* from the other serving APs' DL pilots).

The rates are recomputed after every move; the iteration count defaults to K (Björnson–Sanguinetti's choice).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from instances.errors import InputError

__all__ = ["greedy_pilots", "cell_free_weights", "small_cell_ul_weights", "small_cell_dl_weights"]


def cell_free_weights(beta) -> Callable[[int], np.ndarray]:
    total = np.asarray(beta, dtype=float).sum(axis=0)
    return lambda k: total


def small_cell_ul_weights(beta, serving) -> Callable[[int], np.ndarray]:
    beta = np.asarray(beta, dtype=float)
    return lambda k: beta[serving[k], :]


def small_cell_dl_weights(beta, serving) -> Callable[[int], np.ndarray]:
    beta = np.asarray(beta, dtype=float)
    return lambda k: beta[serving, k]


def greedy_pilots(pilots0, tau_p: int, rates: Callable[[np.ndarray], np.ndarray],
                  weights: Callable[[int], np.ndarray], *, iterations: int | None = None) -> np.ndarray:
    """Greedy assignment from ``pilots0`` [K] (indices in 0..τ_p−1). ``rates(pilots)`` → [K] rates without power
    control; ``weights(k*)`` → [K] contamination weights w_{k*}(k'). Returns the new indices [K]."""
    pilots = np.asarray(pilots0, dtype=np.int64).copy()
    K = pilots.size
    if K and (pilots.min() < 0 or pilots.max() >= tau_p):
        raise InputError("pilots", f"pilot indices must lie in 0..{tau_p - 1}")
    n = K if iterations is None else int(iterations)
    if n < 0:
        raise InputError("iterations", "must be ≥ 0")
    for _ in range(n):
        worst = int(np.argmin(rates(pilots)))
        w = np.asarray(weights(worst), dtype=float).copy()
        w[worst] = 0.0
        load = np.bincount(pilots, weights=w, minlength=tau_p)
        pilots[worst] = int(np.argmin(load))
    return pilots
