"""The bracket engine of solvers_adapters/algorithms/bisection.py on toy oracles (the generic contract the paper-003
bisections use): step rules, the Dinkelbach hook, proofs of the upper end, stops, limits. (A layer test: it may move
to tests/ with the other solvers_adapters/algorithms tests.)"""
from __future__ import annotations

import math

import pytest

from solvers_adapters.algorithms.bisection import OracleStop, Report, bracket, geometric, mixed
from solvers_adapters.result import Status

T_STAR = 3.7


def _threshold(q):
    return Report.feasible(q.t, ("x", q.t)) if q.t <= T_STAR else Report.infeasible(q.t)


@pytest.mark.parametrize("step", ["geometric", "arithmetic", "mixed"])
def test_closes_on_the_threshold_with_a_monotone_trace(step):
    br = bracket(_threshold, 1.0, 100.0, rel_tol=1e-9, step=step, point="start")
    assert br.converged and br.status is Status.OPTIMAL and br.upper_proved
    assert br.lo <= T_STAR <= br.hi and br.hi - br.lo <= 1e-9 * br.lo
    assert br.point == ("x", br.lo) and br.value == br.lo
    assert br.iterations == len(br.trace) == len(br.history)
    assert br.trace == sorted(br.trace) and all(a[1] >= b[1] for a, b in zip(br.history, br.history[1:]))
    value, point, n, trace = br
    assert (value, point, n, trace) == (br.value, br.point, br.iterations, br.trace)


def test_step_rules():
    assert geometric(1.0, 100.0) == pytest.approx(10.0) and geometric(0.0, 4.0) == 2.0
    assert mixed(1.0, 100.0) == pytest.approx(10.0) and mixed(1.0, 1.5) == 1.25
    asked = []
    bracket(lambda q: asked.append(q.t) or _threshold(q), 1.0, 100.0, rel_tol=1e-3,
            step=lambda lo, hi: lo + 0.1 * (hi - lo))
    assert asked[0] == pytest.approx(10.9)


def test_dinkelbach_hook_sees_every_answer_and_the_oracle_may_overshoot():
    """t = lo; the oracle reports a point better than asked (a Dinkelbach step), then a proof closes the bracket."""
    class Step:
        def __init__(self):
            self.seen = []

        def __call__(self, lo, hi):
            return lo

        def observe(self, rep, lo_before, lo, hi):
            self.seen.append((lo_before, lo))

    def oracle(q):
        better = min(T_STAR, 0.5 * (q.t + T_STAR) + 1e-3)
        return Report(lower=better, point=better, upper=T_STAR * (1 + 1e-12) if better >= T_STAR else None)

    step = Step()
    br = bracket(oracle, 1.0, 10.0, rel_tol=1e-6, step=step)
    assert br.converged and br.lo == pytest.approx(T_STAR) and len(step.seen) == br.iterations
    assert all(b >= a for a, b in step.seen)


def test_unproved_upper_moves_are_marked_or_refused():
    def local(q):
        return Report.feasible(q.t, q.t) if q.t <= T_STAR else Report.infeasible(q.t, proved=False)

    br = bracket(local, 1.0, 100.0, rel_tol=1e-6)
    assert br.converged and not br.upper_proved
    strict = bracket(local, 1.0, 100.0, rel_tol=1e-6, prove_upper=True)
    assert strict.status is Status.ERROR and "unproved" in strict.message and strict.hi == 100.0


def test_stops_limits_and_uncounted_failures():
    def failing(q):
        if q.iteration == 2:
            raise OracleStop(Status.ERROR, "solver crashed")
        return _threshold(q)

    br = bracket(failing, 1.0, 100.0, rel_tol=1e-9)
    assert br.status is Status.ERROR and br.iterations == 2 == len(br.trace) and br.message == "solver crashed"

    def stop_with_bound(q):
        return Report(lower=q.t, point=q.t, stop=Status.LIMIT, message="budget")

    br = bracket(stop_with_bound, 1.0, 100.0, rel_tol=1e-9)
    assert br.status is Status.LIMIT and br.iterations == 1 and br.lo == pytest.approx(10.0) and br.trace == []
    br = bracket(_threshold, 1.0, 100.0, rel_tol=1e-12, max_steps=3)
    assert br.status is Status.LIMIT and br.iterations == 3 and "max_steps" in br.message
    br = bracket(_threshold, 1.0, 100.0, rel_tol=1e-12, time_limit=0.0)
    assert br.status is Status.LIMIT and br.iterations == 0 and br.message == "time limit"
    assert math.isfinite(br.rel_width)
