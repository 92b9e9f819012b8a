"""Studies that combine the rest, and the Python API behind the ``cfopt`` command line (DESIGN.md §2)."""
from __future__ import annotations

from typing import Any

from .registry import PROBLEMS, Method, Problem, get_problem as _get_problem, load_all, register


def get_problem(problem_id: str) -> Problem:
    load_all()
    return _get_problem(problem_id)


def _instance(instance):
    import instances

    return instances.load(instance) if isinstance(instance, str) else instance


def solve(problem: str, instance, method: str, **options: Any):
    """Solve ``problem`` on ``instance`` (an Instance, a library name or a path) with ``method``."""
    p = get_problem(problem)
    m = p.method(method)
    return m.run(_instance(instance), **options)


def evaluate(problem: str, instance, solution):
    """Re-score ``solution`` with the problem's models/ evaluator (the number behind every reported figure)."""
    return get_problem(problem).evaluate(_instance(instance), solution)


__all__ = ["PROBLEMS", "Method", "Problem", "evaluate", "get_problem", "load_all", "register", "solve"]
