"""solvers_adapters.algorithms.loop: the one iterative-method skeleton (start + step, terminations, one clock)."""
from __future__ import annotations

import math
import time

import pytest

from solvers_adapters.algorithms import (AnyOf, Clock, LoopState, MaxIter, RelChange, Stop, TimeLimit, iterate)


class FakeClock(Clock):
    def __init__(self, now: float = 0.0) -> None:
        super().__init__()
        self.now = now

    def elapsed(self) -> float:
        return self.now


def _state(value, previous, iteration=1, clock=None):
    return LoopState(iteration=iteration, value=value, previous=previous, trace=[], clock=clock or Clock())


def test_clock():
    c = Clock()
    a = c.elapsed()
    time.sleep(0.01)
    assert c.elapsed() > a >= 0.0
    assert c.remaining(None) is None and not c.expired(None)
    assert c.remaining(100.0) == pytest.approx(100.0 - c.elapsed(), abs=1e-2)
    assert c.expired(0.001) and not c.expired(100.0)
    f = FakeClock(3.0)
    assert f.remaining(5.0) == 2.0 and not f.expired(5.0) and f.expired(3.0)


def test_rel_change():
    term = RelChange(1e-3)
    assert term(_state(1.0, None, iteration=0)) is None                 # nothing to compare before a step
    assert term(_state(1.0005, 1.0)) is not None
    assert term(_state(1.01, 1.0)) is None
    assert term(_state(0.99, 1.0)) is None                              # two-sided
    gain = RelChange(1e-3, improvement=True)
    assert gain(_state(0.99, 1.0)) is not None                          # a loss is no improvement: stop
    assert gain(_state(1.01, 1.0)) is None
    assert RelChange(0.5, floor=10.0)(_state(3.0, 0.0)) is not None     # |3 - 0| / max(0, 10) = 0.3
    assert RelChange.converges and not MaxIter.converges and not TimeLimit.converges
    with pytest.raises(ValueError):
        RelChange(-1.0)


def test_max_iter_and_time_limit():
    assert MaxIter(3)(_state(1.0, 1.0, iteration=2)) is None
    assert MaxIter(3)(_state(1.0, 1.0, iteration=3)) == "max_iter 3 reached"
    with pytest.raises(ValueError):
        MaxIter(-1)
    clock = FakeClock(1.0)
    assert TimeLimit(2.0, clock)(_state(1, 1)) is None
    clock.now = 2.0
    assert TimeLimit(2.0, clock)(_state(1, 1)) == "time limit 2 s reached"
    assert TimeLimit(2.0)(_state(1, 1, clock=clock)) is not None         # the loop's clock by default
    assert TimeLimit(None, clock)(_state(1, 1)) is None


def test_any_of_reports_the_first_that_fires():
    term = AnyOf(MaxIter(5), RelChange(0.1))
    assert term(_state(1.0, 1.0, iteration=5)) == "max_iter 5 reached" and not term.converges
    assert term(_state(1.0, 1.0, iteration=2)).startswith("relative change") and term.converges
    assert term(_state(2.0, 1.0, iteration=2)) is None and term.fired is None
    nested = AnyOf(AnyOf(RelChange(0.1)), MaxIter(9))
    assert nested(_state(1.0, 1.0)) and isinstance(nested.fired, RelChange) and nested.converges


def test_iterate_converges():
    seen = []
    res = iterate(lambda: 8.0, lambda x: x / 2 + 1, value=lambda x: x, until=AnyOf(RelChange(0.01), MaxIter(100)),
                  progress=lambda i, v, c: seen.append((i, v, c)))
    # 8 -> 5 -> 3.5 -> 2.75 -> 2.375 -> ... -> 2
    assert res.trace[:3] == [5.0, 3.5, 2.75] and len(res.trace) == res.iterations
    assert res.converged and res.reason.startswith("relative change")
    assert abs(res.trace[-1] - res.trace[-2]) / res.trace[-2] <= 0.01
    assert abs(res.trace[-2] - res.trace[-3]) / res.trace[-3] > 0.01
    assert res.state == res.value == res.trace[-1]
    assert seen[0] == (1, 5.0, pytest.approx(3 / 8)) and len(seen) == res.iterations


def test_iterate_limits():
    res = iterate(lambda: 0, lambda x: x + 1, value=float, until=AnyOf(RelChange(1e-9), MaxIter(4)))
    assert (res.iterations, res.state, res.trace, res.converged) == (4, 4, [1.0, 2.0, 3.0, 4.0], False)
    assert res.reason == "max_iter 4 reached"
    none = iterate(lambda: 0, lambda x: x + 1, value=float, until=MaxIter(0))
    assert (none.iterations, none.state, none.trace, none.value) == (0, 0, [], 0.0)
    clock = FakeClock(10.0)
    timed = iterate(lambda: 0, lambda x: x + 1, value=float, until=TimeLimit(5.0), clock=clock)
    assert timed.iterations == 0 and not timed.converged and timed.clock is clock


def test_a_step_may_stop_the_loop():
    def step(x):
        if x >= 2:
            raise Stop("sub-solve failed")
        return x + 1

    res = iterate(lambda: 0, step, value=float, until=MaxIter(10))
    assert (res.iterations, res.state, res.reason, res.converged) == (2, 2, "sub-solve failed", False)
    done = iterate(lambda: 0, lambda x: (_ for _ in ()).throw(Stop("fixed point", converged=True)), value=float,
                   until=MaxIter(10))
    assert done.converged and done.iterations == 0


def test_rel_change_of_a_state():
    assert math.isinf(_state(1.0, None).rel_change())
    assert _state(1.5, 1.0).rel_change() == 0.5
