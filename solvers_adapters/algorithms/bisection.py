"""One bracket engine over feasibility oracles (DESIGN.md §1 ``solvers_adapters/algorithms``).

A quasi-concave max-min problem max_x min_k f_k(x) is solved by keeping a bracket lo ≤ t* ≤ hi and asking an
*oracle* about a level t: "is t reachable?". The engine owns the loop, the step rule, the stopping test, the clock
and the bookkeeping; the oracle owns the model and the proofs. Paper 003 uses it three times: the uplink LP
bisection (:func:`solvers_adapters.iot.power_control.bisection_maxmin`), the downlink SOCP bisection with
Dinkelbach steps (:func:`solvers_adapters.iot.downlink_search.bisection_dl`) and the 5 %-drop target search
(:func:`solvers_adapters.iot.power_control.drop_target`).

Contract
--------
``oracle(query) -> Report``: ``query`` carries the level ``t``, the current bracket ``lo``, ``hi``, the seconds
``remaining`` (None: no limit) and the ``iteration``. The report may

* raise the lower end: ``lower`` (a value *attained* by ``point``; a plain feasibility verdict at t reports t);
* lower the upper end: ``upper`` with ``proved`` (True: a proof, e.g. an LP infeasibility or a weak-duality bound;
  False: a local solver's verdict). ``Bracket.upper_proved`` is False as soon as one unproved move was taken;
  ``prove_upper=True`` refuses such a move (status ``error``);
* end the search: ``stop`` (a :class:`Status`) with a ``message``; its bounds still count, the step does not enter
  the trace. An oracle that cannot answer at all raises :class:`OracleStop`: the level is not counted.

The engine applies a report as ``lo ← lower`` if ``lower > lo`` (the point with it) and ``hi ← max(upper, lo)`` if
``upper < hi``, and stops with status ``optimal`` once hi − lo ≤ ``rel_tol``·lo, ``limit`` when ``max_steps`` levels
were asked or the time is up.

Step rules (``step``): ``"geometric"`` t = √(lo·hi) (the midpoint in log t: the same halving of the log-width, fewer
steps when hi/lo is large; ½·hi if lo = 0; the arithmetic midpoint if rounding puts √(lo·hi) outside (lo, hi)),
``"arithmetic"`` t = (lo + hi)/2, ``"mixed"`` geometric while hi > 2·lo, then arithmetic, or any callable
``step(lo, hi) -> t``. A callable with an ``observe(report, lo_before, lo, hi)`` method is told every counted
answer: that is the hook of Dinkelbach-type steps (t = lo, the value of the last point: the generalised Dinkelbach
iteration of Crouzeix–Ferland–Schaible for max-min of ratios), which choose t from the points already seen.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from solvers_adapters.algorithms.loop import Clock
from solvers_adapters.result import Status

__all__ = ["Query", "Report", "OracleStop", "Bracket", "bracket", "geometric", "arithmetic", "mixed", "STEPS"]


@dataclass(frozen=True)
class Query:
    """What the oracle is asked: level ``t`` with the bracket ``[lo, hi]`` so far."""

    t: float
    lo: float
    hi: float
    remaining: float | None
    iteration: int


@dataclass
class Report:
    """The oracle's answer at one level (see the module docstring)."""

    lower: float | None = None
    point: Any = None
    upper: float | None = None
    proved: bool = True
    stop: Status | None = None
    message: str = ""
    record: dict[str, Any] | None = None

    @classmethod
    def feasible(cls, t: float, point: Any, **kw) -> "Report":
        return cls(lower=t, point=point, **kw)

    @classmethod
    def infeasible(cls, t: float, *, proved: bool = True, **kw) -> "Report":
        return cls(upper=t, proved=proved, **kw)


class OracleStop(Exception):
    """Raised by an oracle that cannot answer (time limit, solver failure): the search ends, the level is not
    counted, the bracket and point so far are kept."""

    def __init__(self, status: Status, message: str = ""):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class Bracket:
    """Result of :func:`bracket` (and of other bracketing methods, e.g. a fixed point with two-sided bounds).

    lo, hi      final bracket of t* (lo attained by ``point``)
    point       the point behind lo (whatever the oracle reported; the caller may post-process it)
    value       the caller's value of ``point`` (defaults to lo)
    iterations  levels answered; trace: lo after each; history: [lo, hi] after each; records: the oracle's records
    status      ``optimal`` (bracket closed), ``limit`` (steps or time), or the oracle's stop status
    upper_proved  every move of hi was a proof
    message     how it ended; info: the caller's extras (e.g. simplex iterations, solver versions)
    """

    lo: float
    hi: float
    point: Any
    iterations: int
    trace: list[float]
    status: Status
    upper_proved: bool = True
    history: list[list[float]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    value: float | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.value is None:
            self.value = self.lo

    def __iter__(self):
        """Unpacks as ``value, point, iterations, trace``."""
        return iter((self.value, self.point, self.iterations, self.trace))

    @property
    def converged(self) -> bool:
        return self.status is Status.OPTIMAL

    @property
    def rel_width(self) -> float:
        return (self.hi - self.lo) / self.lo if self.lo > 0 else math.inf


def geometric(lo: float, hi: float) -> float:
    t = math.sqrt(lo * hi) if lo > 0 else 0.5 * hi
    return t if lo < t < hi else 0.5 * (lo + hi)


def arithmetic(lo: float, hi: float) -> float:
    return 0.5 * (lo + hi)


def mixed(lo: float, hi: float) -> float:
    return math.sqrt(lo * hi) if hi > 2.0 * lo else 0.5 * (lo + hi)


STEPS: dict[str, Callable[[float, float], float]] = {"geometric": geometric, "arithmetic": arithmetic,
                                                     "mixed": mixed}


def _closed(lo: float, hi: float, rel_tol: float) -> bool:
    return hi - lo <= rel_tol * lo


def bracket(oracle: Callable[[Query], Report], lo: float, hi: float, *, rel_tol: float,
            step: str | Callable[[float, float], float] = "geometric", point: Any = None,
            prove_upper: bool = False, clock: Clock | None = None, time_limit: float | None = None,
            max_steps: int | None = None) -> Bracket:
    """Shrink ``[lo, hi]`` around t* by asking ``oracle`` (module docstring) until hi − lo ≤ ``rel_tol``·lo.
    ``point`` is the witness of the starting lo; ``clock`` (default: started now) and ``time_limit`` (s) bound the
    loop; ``max_steps`` caps the levels asked."""
    rule = STEPS[step] if isinstance(step, str) else step
    observe = getattr(rule, "observe", None)
    clock = clock if clock is not None else Clock()
    trace: list[float] = []
    history: list[list[float]] = []
    records: list[dict[str, Any]] = []
    proved, n = True, 0
    status, message = Status.OPTIMAL, ""
    while not _closed(lo, hi, rel_tol):
        if max_steps is not None and n >= max_steps:
            status, message = Status.LIMIT, f"max_steps = {max_steps} reached"
            break
        rem = clock.remaining(time_limit)
        if rem is not None and rem <= 0:
            status, message = Status.LIMIT, "time limit"
            break
        t = rule(lo, hi)
        try:
            rep = oracle(Query(t=t, lo=lo, hi=hi, remaining=rem, iteration=n))
        except OracleStop as e:
            status, message = e.status, e.message
            break
        n += 1
        if rep.record is not None:
            records.append(rep.record)
        lo_before = lo
        if rep.lower is not None and rep.lower > lo:
            lo, point = rep.lower, rep.point
        if rep.upper is not None and rep.upper < hi:
            if not rep.proved and prove_upper:
                status, message = Status.ERROR, f"unproved upper end {rep.upper:.10g} refused"
                break
            hi = max(rep.upper, lo)
            proved = proved and rep.proved
        if rep.stop is not None:
            status, message = rep.stop, rep.message
            break
        trace.append(lo)
        history.append([lo, hi])
        if observe is not None:
            observe(rep, lo_before, lo, hi)
    return Bracket(lo=lo, hi=hi, point=point, iterations=n, trace=trace, status=status, upper_proved=proved,
                   history=history, records=records, message=message)
