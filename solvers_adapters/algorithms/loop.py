"""The one iterative-method skeleton (DESIGN.md §1 ``solvers_adapters/algorithms``): a method is ``start`` + ``step``
with a value per state and termination objects, timed on one :class:`Clock` (pymoo's ``while has_next(): next()``).

>>> res = iterate(lambda: 1.0, lambda x: x / 2, value=lambda x: x, until=AnyOf(RelChange(0.6), MaxIter(10)))
>>> res.iterations, res.reason, res.converged
(1, 'relative change 0.5 <= tol 0.6', True)

Terminations are checked before every step (so ``MaxIter(0)`` or an expired ``TimeLimit`` does no step); a step
may end the loop itself by raising :class:`Stop` (e.g. a sub-solve that failed).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Protocol, TypeVar

__all__ = ["AnyOf", "Clock", "LoopResult", "LoopState", "MaxIter", "RelChange", "Stop", "Termination", "TimeLimit",
           "iterate"]

S = TypeVar("S")


class Clock:
    """Wall time since construction (``time.perf_counter``); every method measures time with one of these."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def remaining(self, limit: float | None) -> float | None:
        """Seconds left of ``limit`` (None: no limit)."""
        return None if limit is None else limit - self.elapsed()

    def expired(self, limit: float | None) -> bool:
        return limit is not None and self.elapsed() >= limit


@dataclass
class LoopState:
    """``value`` after ``iteration`` steps (the start's value at 0); ``previous`` the value one step earlier;
    ``trace`` the value after each step."""

    iteration: int
    value: float
    previous: float | None
    trace: list[float]
    clock: Clock

    def rel_change(self, floor: float = 1e-300) -> float:
        """|value − previous| / max(|previous|, floor); inf before the first step."""
        if self.previous is None:
            return math.inf
        return abs(self.value - self.previous) / max(abs(self.previous), floor)


class Termination(Protocol):
    """``term(state)`` -> the reason to stop, or None. ``converges``: True if stopping by it means convergence."""

    converges: bool

    def __call__(self, state: LoopState) -> str | None: ...


class RelChange:
    """Stop when the relative change of the value is at most ``tol``: |Δ| / max(|previous|, floor), or with
    ``improvement=True`` the one-sided gain (value − previous) / max(|previous|, floor) (a monotone method)."""

    converges = True

    def __init__(self, tol: float, *, floor: float = 1e-300, improvement: bool = False) -> None:
        if not (tol >= 0):
            raise ValueError(f"RelChange: tol must be >= 0, got {tol!r}")
        self.tol, self.floor, self.improvement = float(tol), float(floor), bool(improvement)

    def change(self, state: LoopState) -> float:
        if state.previous is None:
            return math.inf
        if self.improvement:
            return (state.value - state.previous) / max(abs(state.previous), self.floor)
        return state.rel_change(self.floor)

    def __call__(self, state: LoopState) -> str | None:
        c = self.change(state)
        return f"relative change {c:.3g} <= tol {self.tol:g}" if c <= self.tol else None


class MaxIter:
    """Stop after ``n`` steps."""

    converges = False

    def __init__(self, n: int) -> None:
        if int(n) != n or n < 0:
            raise ValueError(f"MaxIter: n must be a non-negative integer, got {n!r}")
        self.n = int(n)

    def __call__(self, state: LoopState) -> str | None:
        return f"max_iter {self.n} reached" if state.iteration >= self.n else None


class TimeLimit:
    """Stop once ``seconds`` have passed on ``clock`` (default: the loop's clock); None = never."""

    converges = False

    def __init__(self, seconds: float | None, clock: Clock | None = None) -> None:
        self.seconds, self.clock = seconds, clock

    def __call__(self, state: LoopState) -> str | None:
        clock = self.clock or state.clock
        return f"time limit {self.seconds:g} s reached" if clock.expired(self.seconds) else None


class AnyOf:
    """Stop when any of ``terms`` says so (the first in order gives the reason); ``fired`` is the one that did."""

    def __init__(self, *terms: Termination) -> None:
        self.terms = terms
        self.fired: Termination | None = None

    @property
    def converges(self) -> bool:
        return bool(self.fired is not None and getattr(self.fired, "converges", False))

    def __call__(self, state: LoopState) -> str | None:
        for term in self.terms:
            reason = term(state)
            if reason is not None:
                self.fired = getattr(term, "fired", None) or term
                return reason
        self.fired = None
        return None


class Stop(Exception):
    """Raised by a step to end the loop: ``reason``; ``converged`` whether that counts as convergence."""

    def __init__(self, reason: str, *, converged: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.converged = reason, converged


@dataclass
class LoopResult(Generic[S]):
    state: Any                     # the last state S (the one whose value is trace[-1], or the start)
    trace: list[float] = field(default_factory=list)
    iterations: int = 0
    converged: bool = False
    reason: str = ""
    value: float = math.nan        # value(state)
    clock: Clock | None = None


def iterate(start: Callable[[], S], step: Callable[[S], S], *, value: Callable[[S], float], until: Termination,
            progress: Callable[[int, float, float], None] | None = None,
            clock: Clock | None = None) -> LoopResult:
    """Run ``step`` from ``start()`` until ``until`` fires (or a step raises :class:`Stop`).

    ``value(state)`` is the true objective of a state (computed through models/); ``progress(iteration, value,
    relative change)`` is called after every step."""
    clock = clock or Clock()
    s = start()
    ls = LoopState(iteration=0, value=float(value(s)), previous=None, trace=[], clock=clock)
    converged = False
    while True:
        reason = until(ls)
        if reason is not None:
            converged = bool(getattr(until, "converges", False))
            break
        try:
            s = step(s)
        except Stop as stop:
            reason, converged = stop.reason, stop.converged
            break
        ls.iteration += 1
        ls.previous, ls.value = ls.value, float(value(s))
        ls.trace.append(ls.value)
        if progress is not None:
            progress(ls.iteration, ls.value, ls.rel_change())
    return LoopResult(state=s, trace=ls.trace, iterations=ls.iteration, converged=converged, reason=reason,
                      value=ls.value, clock=clock)
