"""QT iterations on the sum SE of paper 000 (problem ``uplink-ee``): the SE-max end point of the EE–SE trade-off and
the feasible-start fallback of Algorithm 1 step 1.

For a fixed D, the powers maximise Σ_t log(1 + Γ_t) by the quadratic transform (the power block of
:mod:`formulations.uplink_ee.qt` with objective ``"sum-se"``; weights refreshed to the optimal LSFD between
solves), one :func:`solvers_adapters.algorithms.iterate` loop per round. At a stationary point an active-set step
(:func:`_drop_user`) tries switching one UE off: problem (11) has no per-UE SE floor, and QT iterations never reach
the corner η_t = 0 by themselves (e.g. tiny-ulee-08's SE maximum is η = (1, 1, 0)).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from formulations.uplink_ee import qt as F
from solvers_adapters.algorithms import AnyOf, MaxIter, RelChange, Stop, TimeLimit, iterate
from solvers_adapters.uplink_ee.qt_run import Point, QTRun

__all__ = ["SumSEMax", "SumSE", "sum_se_iterations", "feasible_start"]


class SumSEMax(NamedTuple):
    """The SE-max end point of the EE–SE trade-off (:func:`solvers_adapters.uplink_ee.ao_qt.max_sum_se`)."""

    eta: np.ndarray        # [K]
    assoc: np.ndarray      # [M, K] (all ones)
    sum_se: float          # bit/s/Hz, evaluator (optimal LSFD)
    ee: float              # Mbit/J at that point, eq. (11a)
    iterations: int
    trace: list            # true sum SE after each iteration
    converged: bool
    wall_time_s: float


class SumSE(NamedTuple):
    eta: np.ndarray
    sum_se: float
    iterations: int
    trace: list
    converged: bool


class _Target:
    """Stop once the true sum SE reaches ``target`` (not convergence)."""

    converges = False

    def __init__(self, target: float | None):
        self.target = target

    def __call__(self, state) -> str | None:
        return "target reached" if self.target is not None and state.value >= self.target else None


def _round(run: QTRun, eta, se: float, D, *, iters: int, tol: float, target) -> tuple:
    """One round of QT power iterations from (η, sum SE): accept a new η only if the true sum SE does not fall.
    Returns the loop's result and the number of iterations spent (a failed sub-solve counts as one)."""
    model = run.model("power-sum-se")
    failed = []

    def step(s):
        F.update_power(model, run.data, s[0], D)
        ok, _ = run.solve("power-sum-se")
        if not ok:
            failed.append(True)
            raise Stop("power sub-problem failed")
        new = F.extract_power(model)["eta"]
        se_new = run.sum_se(new, D)
        return (new, se_new) if se_new >= s[1] else s

    until = AnyOf(RelChange(tol, floor=1e-12, improvement=True), MaxIter(max(iters, 0)),
                  TimeLimit(run.time_limit, run.clock), _Target(target))
    res = iterate(lambda: (eta, se), step, value=lambda s: s[1], until=until, clock=run.clock)
    return res, res.iterations + len(failed)


def sum_se_iterations(run: QTRun, eta, D, *, max_iter: int, tol: float, target: float | None = None,
                      drops: bool = True) -> SumSE:
    """QT iterations on Σ_t log(1 + Γ_t) over the powers for a fixed D (see the module docstring). Stops when the
    true sum SE reaches ``target`` (if given), when it improves by at most ``tol`` (relative), or at ``max_iter`` /
    the time limit; with ``drops``, a stationary point is followed by :func:`_drop_user`."""
    run.cold("power-sum-se")
    eta = np.asarray(eta, float).copy()
    se = run.sum_se(eta, D)
    trace: list[float] = []
    it, converged = 0, False
    for _ in range(run.data.K):
        res, spent = _round(run, eta, se, D, iters=max_iter - it, tol=tol, target=target)
        (eta, se), converged = res.state, res.converged
        it += spent
        trace += res.trace
        if not drops or run.expired() or (target is not None and se >= target) or it >= max_iter:
            break
        step = _drop_user(run, eta, D, max_iter=max(max_iter - it, 1), tol=tol)
        if step is None:
            break
        eta, se, used = step
        it += used
        trace.append(se)
    return SumSE(eta, se, it, trace, converged)


def _drop_user(run: QTRun, eta, D, *, max_iter: int, tol: float, candidates: int = 2):
    """Active-set step: for the ``candidates`` UEs whose switch-off raises the true sum SE most (scored with the
    other powers kept, and with the other active UEs at full power), re-run the QT iterations from both starts with
    that UE off; return the best (η, sum SE, iterations used) if it beats the current sum SE, else None."""
    eta = np.asarray(eta, float)
    active = np.flatnonzero(eta > 0)
    if active.size <= 1:
        return None
    base = run.sum_se(eta, D)
    starts = []
    for t in active:
        a = eta.copy()
        a[t] = 0.0
        b = (eta > 0).astype(float)
        b[t] = 0.0
        starts.append((max(run.sum_se(a, D), run.sum_se(b, D)), a, b))
    starts.sort(key=lambda x: -x[0])
    best, used = None, 0
    for _, a, b in starts[:candidates]:
        for st in (a, b):
            if run.expired():
                break
            r = sum_se_iterations(run, st, D, max_iter=max_iter, tol=tol, drops=False)
            used += r.iterations
            if r.sum_se > base * (1 + 1e-6) and (best is None or r.sum_se > best[1]):
                best = (r.eta, r.sum_se)
    return None if best is None else (best[0], best[1], used)


def feasible_start(run: QTRun, eta0, D0, *, max_iter: int) -> tuple[Point | None, str]:
    """Algorithm 1 step 1's fallback chain; returns (point, how), point None when nothing feasible was found."""
    p0 = run.score(eta0, D0)
    if run.feasible(p0.sum_se):
        return p0, "initial"
    ones = np.ones((run.data.M, run.data.K))
    p1 = run.score(np.ones(run.data.K), ones)
    if run.feasible(p1.sum_se):
        return p1, "fallback: all-ones association, full power"
    r = sum_se_iterations(run, np.ones(run.data.K), ones, max_iter=max_iter, tol=1e-4,
                          target=run.qos * (1.0 + 1e-9))
    p2 = run.score(r.eta, ones)
    if run.feasible(p2.sum_se):
        return p2, f"fallback: all-ones association, powers from {r.iterations} sum-SE QT iterations"
    return None, f"sum-SE QT iterations reached {p2.sum_se:.6g} < SE^QoS = {run.qos:.6g} bit/s/Hz"
