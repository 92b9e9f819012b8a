"""Test-only problem ``test-sleep`` for tests/test_sweep.py, imported by sweeps through a study's ``modules`` key
(in the parent and in every worker process).

Methods (each returns an :class:`~solvers_adapters.algorithms.Outcome`, turned into the row by
:func:`experiments.results.make_result`): ``sleep`` (sleeps ``sleep_s`` seconds, then returns an optimal point whose
per-user ``sinr`` derives from the instance; the evaluator's objective is its minimum), ``boom`` (raises
RuntimeError), ``limit`` (returns status ``limit``, as a solver that gave up would).
"""
from __future__ import annotations

import time

import numpy as np

from experiments.options import Option
from experiments.registry import PROBLEMS, Method, Problem, register
from models.common.evaluation import Evaluation
from solvers_adapters.algorithms import Outcome
from solvers_adapters.result import Status


def _evaluate(instance, solution, **options):
    """The objective of a ``sleep`` point is its smallest per-user ``sinr`` (no constraints)."""
    sinr = np.asarray(solution["sinr"], dtype=float)
    return Evaluation(objective=float(sinr.min()), unit="", objectives={"min_sinr": float(sinr.min())},
                      per_user={}, power={}, violations={})


def _sleep(instance, *, sleep_s: float = 0.0, seed=None, time_limit=None, **options):
    time.sleep(sleep_s)
    sinr = instance.beta.sum(axis=0)
    return Outcome(status=Status.OPTIMAL, point={"sinr": sinr}, formulation="none", iterations=1,
                   trace=[float(sinr.min())])


def _boom(instance, *, seed=None, time_limit=None, **options):
    raise RuntimeError("boom on purpose")


def _limit(instance, *, seed=None, time_limit=None, **options):
    return Outcome(status=Status.LIMIT, formulation="none", bound=float("inf"), message="gave up: iteration limit")


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
