"""Pieces shared by the adapters that hand a Pyomo model to an off-the-shelf solver (:mod:`.highs`, :mod:`.scip`).

Each adapter translates its solver's own termination enum into a :class:`SolverTermination` (a table keyed by enum
members, never by matching text), collects the solver's numbers, and calls :func:`classify` and :func:`make_result`,
so that both adapters apply the same rules of DESIGN.md §2:

* ``SOLVED`` / ``GAP_LIMIT`` with an incumbent whose relative gap is ``<= gap_tol`` -> ``optimal`` / ``global``;
  with a larger gap (the user loosened the solver's gap limit) -> ``limit`` / ``none``, message ``"gap limit: ..."``.
* ``INFEASIBLE`` -> ``infeasible``; ``UNBOUNDED`` -> ``unbounded``; ``INF_OR_UNBD`` that the adapter could not
  resolve -> ``infeasible`` with message ``"infeasible or unbounded (...)"``.
* ``LIMIT`` (time, iterations, nodes, solutions, memory, objective limit, interrupt) -> ``limit``; the incumbent,
  if any, is loaded by the adapter.
* ``ERROR`` and anything unknown -> ``error``.
* A loaded point whose objective beats the solver's own proven bound (beyond ``1e-6`` relative) -> ``error``
  ("inconsistent solver answer"), whatever the solver claimed.

cfopt-level options understood by both adapters (everything else goes to the solver under its own name):

``gap_tol`` (float, default ``1e-6``)
    relative gap at or below which an optimal claim is certified ``global``; also passed to the solver as its
    relative MIP gap limit unless the caller sets that solver option explicitly.
``tee`` (bool, default ``False``)
    echo the solver's log to stdout while it runs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

import pyomo.environ as pe

from instances.errors import InputError
from solvers_adapters.algorithms.loop import Clock
from solvers_adapters.base import active_objective, check_time_limit, max_violation, model_solution, objective_value
from solvers_adapters.result import Certificate, SolveResult, Status

DEFAULT_GAP_TOL = 1e-6


class SolverTermination(Enum):
    """Solver-neutral reading of a solver's termination status."""

    SOLVED = "solved"              # the solver claims optimality (possibly at its own gap tolerance)
    GAP_LIMIT = "gap_limit"        # the solver stopped because its gap limit was reached
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INF_OR_UNBD = "inf_or_unbd"    # proved infeasible or unbounded, not which
    LIMIT = "limit"                # a resource or user limit (time, iterations, nodes, memory, interrupt, ...)
    ERROR = "error"


def split_options(options: dict[str, Any]) -> tuple[float, bool, dict[str, Any]]:
    """Separate cfopt-level options (``gap_tol``, ``tee``) from solver options."""
    opts = dict(options)
    gap_tol = opts.pop("gap_tol", DEFAULT_GAP_TOL)
    try:
        gap_tol = float(gap_tol)
    except (TypeError, ValueError):
        raise InputError("gap_tol", f"must be a non-negative number, got {gap_tol!r}") from None
    if not (0.0 <= gap_tol < math.inf):
        raise InputError("gap_tol", f"must be a finite non-negative number, got {gap_tol!r}")
    tee = opts.pop("tee", False)
    if not isinstance(tee, bool):
        raise InputError("tee", f"must be True or False, got {tee!r}")
    return gap_tol, tee, opts


@dataclass
class Prepared:
    """What both Pyomo-interface adapters need before calling the solver."""

    watch: Clock
    time_limit: float | None
    gap_tol: float
    tee: bool
    solver_options: dict[str, Any]
    sense: int                     # +1 minimise, -1 maximise


def prepare(model: pe.ConcreteModel, time_limit: Any, options: dict[str, Any]) -> Prepared:
    """Start the clock, validate the time limit and the cfopt-level options, read the objective's sense."""
    watch = Clock()
    time_limit = check_time_limit(time_limit)
    gap_tol, tee, solver_options = split_options(options)
    sense = 1 if active_objective(model).sense == pe.minimize else -1
    return Prepared(watch, time_limit, gap_tol, tee, solver_options, sense)


def run_pyomo_solver(opt, model: pe.ConcreteModel, prep: Prepared, common: dict[str, Any],
                     translation_errors: tuple[type[BaseException], ...], solver_name: str):
    """Call a ``pyomo.contrib.solver`` interface without loading anything. Returns ``(results, None)``, or
    ``(None, error SolveResult)`` when the solver itself failed; a model it cannot translate is an InputError."""
    try:
        res = opt.solve(model, tee=prep.tee, load_solutions=False, raise_exception_on_nonoptimal_result=False,
                        time_limit=prep.time_limit, solver_options=prep.solver_options)
    except translation_errors as e:
        raise InputError("model", f"{solver_name} cannot take this model: {e}") from e
    except Exception as e:  # the solver itself failed
        return None, error_result(model, sense=prep.sense, exc=e, **common)
    return res, None


def no_bound(sense: int) -> float:
    """The 'no bound known' value in the model's sense: -inf for a minimisation, +inf for a maximisation."""
    return -math.inf if sense > 0 else math.inf


def infeasible_bound(sense: int) -> float:
    """The proven bound of an infeasible problem: +inf for a minimisation, -inf for a maximisation."""
    return -no_bound(sense)


def finite_or_inf(x: Any, infinity: float = 1e20) -> float | None:
    """Solver number -> float; values at or beyond the solver's infinity become ±inf, NaN becomes None."""
    if x is None:
        return None
    x = float(x)
    if math.isnan(x):
        return None
    if x >= infinity:
        return math.inf
    if x <= -infinity:
        return -math.inf
    return x


def rel_gap(objective: float, bound: float) -> float:
    """|objective - bound| / max(|objective|, 1e-10); inf when the bound is infinite."""
    if math.isinf(bound):
        return math.inf
    if objective == bound:
        return 0.0
    return abs(objective - bound) / max(abs(objective), 1e-10)


def inconsistency(sense: int, objective: float | None, bound: float | None, rtol: float = 1e-6) -> str | None:
    """A message when the model's objective at the loaded point beats the solver's proven bound by more than
    ``rtol * max(1, |objective|)`` (the solver's claim cannot be right), else None."""
    if objective is None or bound is None or math.isinf(bound) or math.isnan(objective):
        return None
    excess = sense * (bound - objective)   # > 0: the point is better than the bound allows
    if excess > rtol * max(1.0, abs(objective)):
        side = "lower" if sense > 0 else "upper"
        return (f"inconsistent solver answer: the loaded point has objective {objective:.10g}, better than the "
                f"proven {side} bound {bound:.10g}")
    return None


def reject_untranslated(model: pe.ConcreteModel, solver: str) -> None:
    """Raise InputError ``model`` for active GDP / logical components, which the direct interfaces would silently
    ignore or enforce unconditionally."""
    from pyomo.core.base.logical_constraint import LogicalConstraint
    from pyomo.gdp import Disjunct, Disjunction

    for ctype, what in ((Disjunction, "disjunction"), (Disjunct, "disjunct"), (LogicalConstraint, "logical constraint")):
        for c in model.component_data_objects(ctype, active=True, descend_into=True):
            raise InputError("model", f"{what} {c.name!r} is active; {solver} takes algebraic models only - apply a "
                                      f"GDP/logical transformation (e.g. 'gdp.bigm') first")


def classify(outcome: SolverTermination, *, has_incumbent: bool, gap: float | None, gap_tol: float,
             solver_text: str) -> tuple[Status, Certificate, str]:
    """Apply DESIGN.md §2's status rules. ``solver_text`` is the solver's own termination text."""
    if outcome in (SolverTermination.SOLVED, SolverTermination.GAP_LIMIT):
        if not has_incumbent:
            return Status.ERROR, Certificate.NONE, f"solver claimed optimality but returned no solution ({solver_text})"
        if gap is not None and gap <= gap_tol:
            return Status.OPTIMAL, Certificate.GLOBAL, solver_text
        shown = "unknown" if gap is None else f"{gap:.6g}"
        return (Status.LIMIT, Certificate.NONE,
                f"gap limit: stopped at relative gap {shown} > gap_tol {gap_tol:.3g} ({solver_text})")
    if outcome is SolverTermination.INFEASIBLE:
        return Status.INFEASIBLE, Certificate.NONE, solver_text
    if outcome is SolverTermination.UNBOUNDED:
        return Status.UNBOUNDED, Certificate.NONE, solver_text
    if outcome is SolverTermination.INF_OR_UNBD:
        return Status.INFEASIBLE, Certificate.NONE, f"infeasible or unbounded ({solver_text})"
    if outcome is SolverTermination.LIMIT:
        return Status.LIMIT, Certificate.NONE, solver_text
    return Status.ERROR, Certificate.NONE, solver_text


def make_result(model: pe.ConcreteModel, *, loaded: bool, status: Status, certificate: Certificate,
                solver: str, solver_version: str, versions: dict[str, str], watch: Clock,
                solver_objective: float | None = None, bound: float | None = None, gap: float | None = None,
                iterations: int | None = None, message: str = "") -> SolveResult:
    """Assemble the SolveResult; objective and max_violation are measured on the model (None if nothing loaded).

    A loaded point whose objective beats the solver's bound (see :func:`inconsistency`) turns the result into
    status ``error``, certificate ``none``; the point stays loaded and its objective is reported."""
    objective = objective_value(model) if loaded else None
    sense = 1 if active_objective(model).sense == pe.minimize else -1
    problem = inconsistency(sense, objective, bound) if loaded else None
    if problem is not None:
        status, certificate = Status.ERROR, Certificate.NONE
        message = f"{problem} ({message})" if message else problem
    return SolveResult(
        solver=solver,
        solver_version=solver_version,
        status=status,
        certificate=certificate,
        objective=objective,
        solver_objective=solver_objective,
        bound=bound,
        gap=gap,
        max_violation=max_violation(model) if loaded else None,
        wall_time_s=watch.elapsed(),
        iterations=iterations,
        versions=versions,
        message=message,
        solution=model_solution(model) if loaded else {},
        formulation=model.name,
    )


def error_result(model: pe.ConcreteModel, *, sense: int, solver: str, solver_version: str,
                 versions: dict[str, str], watch: Clock, exc: BaseException) -> SolveResult:
    """An exception raised by the solver itself, recorded as status ``error``."""
    return make_result(model, loaded=False, status=Status.ERROR, certificate=Certificate.NONE, solver=solver,
                       solver_version=solver_version, versions=versions, watch=watch, bound=no_bound(sense),
                       message=f"{type(exc).__name__}: {exc}")
