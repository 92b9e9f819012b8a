"""The QT loop of paper 000's ``ao-qt`` (Algorithm 1) and ``all-serve-all`` (problem ``uplink-ee``): one
:func:`solvers_adapters.algorithms.iterate` loop, two steps.

* :func:`ao_step` — Algorithm 1 steps 4–13: z (17), b (21) at (η, D) with a = LSFD*(η, D), solve (23) → η; then z,
  b at (η, D) with a = LSFD*(η, 1), solve (24) → relaxed D, binary recovery (:func:`recover_binary`) and, with
  ``local_search``, the exact 1-opt search (:func:`improve_association`). Block objective f2 = the value of (24a).
* :func:`asa_step` — the power block (23) alone with D = all ones. Block objective f1 = the value of (23a).

Both stop when the relative change of the block objective between two successful solves is at most ``tol``
(:class:`BlockChange`), at ``max_iter`` or at the time limit; ``all-serve-all`` also stops when its power solve
fails. The loop's value (and trace) is the TRUE EE (11a) of the iterate, scored by the evaluator; the best feasible
iterate (the start included) is kept.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from formulations.uplink_ee import qt as F
from solvers_adapters.algorithms import AnyOf, LoopResult, MaxIter, TimeLimit, iterate
from solvers_adapters.uplink_ee.local_search import improve_association
from solvers_adapters.uplink_ee.qt_run import Point, QTRun
from solvers_adapters.uplink_ee.recovery import recover_binary

__all__ = ["QTState", "BlockChange", "qt_loop", "ao_step", "asa_step"]


@dataclass
class QTState:
    """The iterate (η, D), its scored ``point``, the ``best`` feasible point, the block objective of the last two
    successful solves (``f_prev``, ``f``; ``fresh`` when ``f`` was set by the latest step) and the history."""

    eta: np.ndarray
    D: np.ndarray
    point: Point
    best: Point
    f: float | None = None
    f_prev: float | None = None
    fresh: bool = False
    failed: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)

    def block(self, value: float) -> None:
        self.f_prev, self.f, self.fresh = self.f, float(value), True


class BlockChange:
    """Stop when |f − f_prev| / |f_prev| ≤ ``tol`` for the block objective of the latest step (convergence)."""

    converges = True

    def __init__(self, tol: float, state: QTState):
        self.tol, self.state = tol, state

    def __call__(self, _loop) -> str | None:
        s = self.state
        if not s.fresh or s.f_prev is None:
            return None
        change = abs(s.f - s.f_prev) / max(abs(s.f_prev), 1e-300)
        return f"relative change {change:.3g} of the block objective <= tol {self.tol:g}" if change <= self.tol \
            else None


class _Failed:
    converges = False

    def __init__(self, state: QTState):
        self.state = state

    def __call__(self, _loop) -> str | None:
        return "power sub-problem failed" if self.state.failed else None


def qt_loop(run: QTRun, start: Point, step: Callable[[QTState], QTState], *, max_iter: int, tol: float,
            progress: Callable[[int, float, float], Any] | None = None,
            stop_on_failure: bool = False) -> tuple[LoopResult, QTState]:
    """Iterate ``step`` from ``start`` (see the module docstring); ``progress(iteration, true EE, sum SE)``."""
    state = QTState(eta=start.eta, D=start.D, point=start, best=start)
    terms = [BlockChange(tol, state), MaxIter(max_iter), TimeLimit(run.time_limit, run.clock)]
    if stop_on_failure:
        terms.append(_Failed(state))
    report = None if progress is None else (lambda i, ee, _c: progress(i, ee, state.point.sum_se))
    res = iterate(lambda: state, step, value=lambda s: s.point.ee, until=AnyOf(*terms), progress=report,
                  clock=run.clock)
    return res, state


def _close(run: QTRun, s: QTState, h: dict, t_it: float, *, check: bool) -> QTState:
    """Score the iterate, keep the best, record the history entry."""
    p = run.score(s.eta, s.D)
    if check and not run.feasible(p.sum_se):        # cannot happen by construction; never report it
        h["infeasible_iterate"] = p.sum_se
    elif p.ee > s.best.ee:
        s.best = p
    s.point = p
    h.update(ee=p.ee, sum_se=p.sum_se, **({"links": int(p.D.sum())} if check else {}),
             t_iter_s=run.clock.elapsed() - t_it)
    s.history.append(h)
    return s


def _sub_problem(run: QTRun, kind: str, update, extract, s: QTState, h: dict):
    """Put (η, D) into the ``kind`` sub-model, solve it, record its time and status in ``h``; its extracted values,
    or None when the solve failed."""
    m = run.model(kind)
    t = run.clock.elapsed()
    update(m, run.data, s.eta, s.D, se_qos=run.qos)
    ok, r = run.solve(kind)
    h[f"t_{kind}_s"] = run.clock.elapsed() - t
    h[f"{kind}_status"] = r.status.value
    return extract(m) if ok else None


def _power_block(run: QTRun, s: QTState, h: dict) -> None:
    """Steps 4–8: solve (23) at (η, D); accept η if (11d) still holds."""
    out = _sub_problem(run, "power", F.update_power, F.extract_power, s, h)
    if out is not None:
        h["f1"] = out["objective"]
        p = run.score(out["eta"], s.D)
        if run.feasible(p.sum_se):
            s.eta = p.eta
        else:
            h["power_rejected"] = f"sum SE {p.sum_se:.6g} < SE^QoS"


def _recover(run: QTRun, s: QTState, h: dict, d_relaxed, local_search: bool, recovery: dict) -> None:
    """Step 13: binary recovery with (11d) re-checked, then (optionally) the exact 1-opt search at fixed η."""
    rec = recover_binary(run.data, d_relaxed, s.eta, se_qos=run.qos, **{"prune": not local_search, **recovery})
    if rec is not None:
        s.D = rec.assoc
        h["recovery"] = {"threshold": rec.threshold, "added": rec.added, "pruned": rec.pruned}
    else:
        h["recovery"] = "failed: previous association kept"
    if local_search:
        imp = improve_association(run.data, s.eta, s.D, se_qos=run.qos)
        if run.feasible(imp.sum_se):
            s.D = imp.assoc
            h["local_search"] = imp.kinds


def _assoc_block(run: QTRun, s: QTState, h: dict, local_search: bool, recovery: dict) -> None:
    """Steps 9–13: solve (24) at (η, D), recover a binary D."""
    out = _sub_problem(run, "assoc", F.update_assoc, F.extract_assoc, s, h)
    if out is not None:
        h["f2"] = out["objective"]
        t = run.clock.elapsed()
        _recover(run, s, h, out["d"], local_search, recovery)
        h["t_recovery_s"] = run.clock.elapsed() - t
        s.block(out["objective"])


def ao_step(run: QTRun, *, local_search: bool, recovery: dict) -> Callable[[QTState], QTState]:
    """One iteration of Algorithm 1 (steps 4–13)."""
    def step(s: QTState) -> QTState:
        s.fresh = False
        t_it = run.clock.elapsed()
        h: dict[str, Any] = {"iteration": len(s.history) + 1}
        _power_block(run, s, h)
        if not run.expired():
            _assoc_block(run, s, h, local_search, recovery)
        return _close(run, s, h, t_it, check=True)
    return step


def asa_step(run: QTRun) -> Callable[[QTState], QTState]:
    """One power-block iteration with D fixed (``all-serve-all``); a failed solve ends the loop after it."""
    m = run.model("power")

    def step(s: QTState) -> QTState:
        s.fresh = False
        t_it = run.clock.elapsed()
        F.update_power(m, run.data, s.eta, s.D, se_qos=run.qos)
        ok, r = run.solve("power")
        h: dict[str, Any] = {"iteration": len(s.history) + 1, "power_status": r.status.value}
        if ok:
            out = F.extract_power(m)
            p = run.score(out["eta"], s.D)
            if run.feasible(p.sum_se):
                s.eta = p.eta
            h["f1"] = out["objective"]
            s.block(out["objective"])
        s.failed = not ok
        return _close(run, s, h, t_it, check=False)
    return step
