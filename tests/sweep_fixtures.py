"""Test-only problem ``test-sleep`` for tests/test_sweep.py, imported by sweeps through a study's ``modules`` key
(in the parent and in every worker process).

Methods: ``sleep`` (sleeps ``sleep_s`` seconds, then returns an optimal result whose objective and per-user
``sinr`` derive from the instance), ``boom`` (raises RuntimeError), ``limit`` (returns status ``limit``, as a solver
that gave up would).
"""
from __future__ import annotations

import time

from experiments.options import Option
from experiments.registry import PROBLEMS, Method, Problem, register
from solvers_adapters.result import SolveResult


def _evaluate(instance, solution, **options):
    return None


def _sleep(instance, *, sleep_s: float = 0.0, seed=None, time_limit=None, **options):
    t0 = time.perf_counter()
    time.sleep(sleep_s)
    sinr = instance.beta.sum(axis=0)
    return SolveResult(problem="test-sleep", formulation="none", method="sleep", solver="cfopt", status="optimal",
                       certificate="none", objective=float(sinr.min()), wall_time_s=time.perf_counter() - t0,
                       iterations=1, trace=[float(sinr.min())], solution={"sinr": sinr}, seed=seed,
                       instance=instance.name, instance_hash=instance.content_hash)


def _boom(instance, *, seed=None, time_limit=None, **options):
    raise RuntimeError("boom on purpose")


def _limit(instance, *, seed=None, time_limit=None, **options):
    return SolveResult(problem="test-sleep", method="limit", solver="cfopt", status="limit", certificate="none",
                       objective=None, bound=float("inf"), seed=seed, message="gave up: iteration limit")


if "test-sleep" not in PROBLEMS:
    register(Problem(id="test-sleep", paper="-", description="test-only problem of tests/test_sweep.py",
                     evaluate=_evaluate,
                     methods={"sleep": Method("sleep", _sleep, "baseline",
                                              options=(Option("sleep_s", "float", 0.0, "seconds to sleep", unit="s",
                                                              low=0.0),)),
                              "boom": Method("boom", _boom, "baseline",
                                             options=(Option("sleep_s", "float", 0.0, "ignored", low=0.0),)),
                              "limit": Method("limit", _limit, "baseline",
                                              options=(Option("sleep_s", "float", 0.0, "ignored", low=0.0),))}))
