"""Studies that combine the rest, and the Python API behind the ``cfopt`` command line (DESIGN.md §2)."""
from __future__ import annotations

from typing import Any

from experiments.registry import PROBLEMS, Method, Problem, get_problem as _get_problem, load_all, register


def get_problem(problem_id: str) -> Problem:
    load_all()
    return _get_problem(problem_id)


def _instance(instance):
    import instances

    return instances.load(instance) if isinstance(instance, str) else instance


def solve(problem: str, instance, method: str, **options: Any):
    """Solve ``problem`` on ``instance`` (an Instance, a library name or a path) with ``method``.

    ``options`` are checked against the method's declared options (:mod:`experiments.options`) before anything
    runs: an unknown name or an ill-typed value raises :class:`~instances.errors.InputError` naming it; so does an
    instance QoS field that the problem would ignore. The method runs through :func:`experiments.results.run_method`
    (its Outcome is re-scored by the problem's evaluator in :func:`experiments.results.make_result`)."""
    p = get_problem(problem)
    m = p.method(method)
    kw = m.resolve(options)
    inst = _instance(instance)
    p.check_instance(inst)
    from experiments.results import run_method

    return run_method(p, m, inst, **kw)


def evaluate(problem: str, instance, solution, context=None):
    """Re-score ``solution`` with the problem's models/ evaluator (the number behind every reported figure), under
    the evaluation ``context`` that a result records (``SolveResult.context``): with it, the :class:`Evaluation`'s
    ``objective`` and ``max_violation`` are the result's own."""
    p = get_problem(problem)
    return p.evaluate(_instance(instance), solution, **p.check_context(context))


__all__ = ["PROBLEMS", "Method", "Problem", "evaluate", "get_problem", "load_all", "register", "solve"]
