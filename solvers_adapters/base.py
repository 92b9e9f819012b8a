"""`solve_model`: one entry point for raw Pyomo models, whichever solver answers (DESIGN.md §2, Python API).

Adapters live in their own modules (:mod:`.highs`, :mod:`.scip`, :mod:`.ipopt`) and all return a
:class:`~solvers_adapters.result.SolveResult` whose ``objective`` is the model's active objective evaluated at the
solution that was loaded back into the model, and whose ``max_violation`` is measured on the model itself.
"""
from __future__ import annotations

import importlib
import math
import platform
from importlib import metadata
from typing import Any, Callable

import pyomo.environ as pe

from instances.errors import InputError
from solvers_adapters._stdio import native_stdout_to_stderr
from solvers_adapters.result import SolveResult

#: solver name -> (module, one-line description). Modules are imported lazily so that a missing optional
#: solver does not break the others.
SOLVERS: dict[str, tuple[str, str]] = {
    "highs": ("solvers_adapters.highs", "HiGHS through highspy: LP, MILP, convex QP (global)"),
    "scip": ("solvers_adapters.scip", "SCIP through Pyomo's scip_direct: MINLP and nonconvex NLP (global)"),
    "ipopt": ("solvers_adapters.ipopt", "Ipopt through cyipopt and cfopt's compiled NLP bridge (local)"),
}


def dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def versions(**solvers: str) -> dict[str, str]:
    """Versions recorded in every result: cfopt, python, numpy, pyomo, and the given solver versions."""
    import numpy

    out = {
        "cfopt": dist_version("cfopt"),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pyomo": dist_version("pyomo"),
    }
    out.update({k: str(v) for k, v in solvers.items()})
    return out


def active_objective(model: pe.ConcreteModel):
    objs = list(model.component_data_objects(pe.Objective, active=True, descend_into=True))
    if len(objs) != 1:
        raise InputError("objective", f"the model must have exactly one active objective, found {len(objs)}")
    return objs[0]


def objective_value(model: pe.ConcreteModel) -> float | None:
    """The active objective at the variables' current values (None when some variable has no value)."""
    try:
        return float(pe.value(active_objective(model).expr, exception=True))
    except (ValueError, TypeError, ZeroDivisionError, OverflowError):
        return None


def max_violation(model: pe.ConcreteModel, *, integrality: bool = True) -> float | None:
    """Largest absolute violation of the active constraints, variable bounds and (optionally) integrality at the
    current variable values; ``None`` when some variable in the model has no value."""
    worst = 0.0
    try:
        for c in model.component_data_objects(pe.Constraint, active=True, descend_into=True):
            body = pe.value(c.body, exception=True)
            if c.has_lb():
                worst = max(worst, pe.value(c.lower) - body)
            if c.has_ub():
                worst = max(worst, body - pe.value(c.upper))
        for v in model.component_data_objects(pe.Var, descend_into=True):
            if v.value is None:
                if v.fixed:
                    return None
                continue
            x = v.value
            if v.lb is not None:
                worst = max(worst, v.lb - x)
            if v.ub is not None:
                worst = max(worst, x - v.ub)
            if integrality and (v.is_integer() or v.is_binary()):
                worst = max(worst, abs(x - round(x)))
    except (ValueError, TypeError, ZeroDivisionError, OverflowError):
        return None
    return float(worst) if math.isfinite(worst) else float("inf")


def model_solution(model: pe.ConcreteModel, *, max_values: int = 100_000) -> dict[str, Any]:
    """The loaded point as named arrays: ``{Var component name: value}`` for a scalar variable, a list of values in
    the component's index order for an indexed one (None where a variable has no value). Empty when the model has
    more than ``max_values`` variables (problem-level methods return their own shaped arrays through ``extract``)."""
    out: dict[str, Any] = {}
    count = 0
    for comp in model.component_objects(pe.Var, active=True, descend_into=True):
        if comp.is_indexed():
            vals = [v.value for v in comp.values()]
            count += len(vals)
            out[comp.name] = vals
        else:
            count += 1
            out[comp.name] = comp.value
        if count > max_values:
            return {}
    return out


def check_time_limit(time_limit: Any) -> float | None:
    """Validate a wall-time limit in seconds: None or +inf mean none; anything not positive is an InputError."""
    if time_limit is None:
        return None
    try:
        t = float(time_limit)
    except (TypeError, ValueError):
        raise InputError("time_limit", f"must be positive seconds or None, got {time_limit!r}") from None
    if not (t > 0) or math.isnan(t):
        raise InputError("time_limit", f"must be positive seconds or None, got {time_limit!r}")
    return None if math.isinf(t) else t


def get_adapter(solver: str) -> Callable[..., SolveResult]:
    if solver not in SOLVERS:
        raise InputError("solver", f"unknown solver {solver!r}; known: {', '.join(sorted(SOLVERS))}")
    module = importlib.import_module(SOLVERS[solver][0])
    return module.solve


def solve_model(model: pe.ConcreteModel, solver: str, *, time_limit: float | None = None, **options: Any) -> SolveResult:
    """Solve a Pyomo model with ``solver`` in ``highs``, ``scip``, ``ipopt`` and return a :class:`SolveResult`.

    ``time_limit`` is in seconds of wall time. Other keyword options are passed to the solver (names are the
    solver's own: e.g. ``mip_rel_gap`` for HiGHS, ``limits/gap`` for SCIP, ``tol`` for Ipopt); cfopt-level options
    are documented by each adapter. The solution (or a limit's incumbent) is loaded back into the model.
    Whatever the native solver prints goes to stderr, never to stdout (:mod:`._stdio`).
    """
    adapter = get_adapter(solver)
    time_limit = check_time_limit(time_limit)
    with native_stdout_to_stderr():
        return adapter(model, time_limit=time_limit, **options)
