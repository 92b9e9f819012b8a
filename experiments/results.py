"""The one result pipeline (DESIGN.md §1–2): a method returns an :class:`~solvers_adapters.algorithms.Outcome`,
:func:`make_result` turns it into the :class:`~solvers_adapters.result.SolveResult`. It is the **only** place that
calls a problem's models/ evaluator for a result, records the evaluation context, the versions and the seed.

Rules:

* the point is re-scored by ``Problem.evaluate(instance, point, **context)``; ``max_violation`` is the evaluator's
  largest violation, leaving out the names in ``outcome.relaxed`` (a relaxation's point);
* ``objective`` is the evaluator's, set for ``optimal``/``feasible``/``limit`` with a point, never for
  ``infeasible``/``unbounded``/``error``;
* an ``optimal`` outcome with ``check_solver_objective`` (a relative tolerance) whose evaluator value disagrees with
  ``solver_objective`` loses its certificate: status ``feasible``, certificate ``none``, the reason in the message;
* a point that violates a constraint by more than :data:`~models.common.evaluation.FEAS_TOL` with status
  ``optimal``/``feasible`` becomes status ``error``, certificate ``none``, no objective, message
  ``"evaluator: <name> violated by <v>; <message>"``;
* an ``infeasible`` outcome's point is dropped unless ``keep_infeasible_point`` (then the point and the evaluator's
  verdict go into the solution, without objective);
* ``solution`` = ``Problem.solution_view`` (default :func:`default_solution_view`: the point, the evaluator's
  per-user arrays and objectives) + ``outcome.extra``; without a point, ``outcome.extra`` alone.

:func:`run_method` is how experiments code runs a method: it times ``method.run`` on one
:class:`~solvers_adapters.algorithms.Clock` and calls :func:`make_result`.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from models.common.evaluation import FEAS_TOL
from solvers_adapters.algorithms import Clock, Outcome
from solvers_adapters.base import dist_version, versions
from solvers_adapters.result import Certificate, SolveResult, Status

__all__ = ["default_solution_view", "make_result", "run_method"]

_SCORED = (Status.OPTIMAL, Status.FEASIBLE, Status.LIMIT)
_CLAIMS = (Status.OPTIMAL, Status.FEASIBLE)


def _problem(problem):
    if isinstance(problem, str):
        from experiments import get_problem

        return get_problem(problem)
    return problem


def _instance(instance):
    if isinstance(instance, str):
        import instances

        return instances.load(instance)
    return instance


def _plain(v: Any) -> Any:
    """A point's value as JSON-ready data: numeric arrays/lists become lists of floats; numpy scalars Python ones."""
    if isinstance(v, (np.ndarray, list, tuple)):
        try:
            a = np.asarray(v)
        except ValueError:  # ragged
            return v
        if a.dtype.kind in "biuf":
            return a.astype(float).tolist()
        return a.tolist() if isinstance(v, np.ndarray) else v
    if isinstance(v, np.generic):
        return v.item()
    return v


def default_solution_view(instance, point: Mapping[str, Any], evaluation, context: Mapping[str, Any]) -> dict:
    """The point, then the evaluator's per-user arrays not already in it, then ``objectives``."""
    out = {k: _plain(v) for k, v in point.items()}
    out.update({k: np.asarray(v).tolist() for k, v in evaluation.per_user.items() if k not in out})
    out["objectives"] = dict(evaluation.objectives)
    return out


def _disagrees(res: SolveResult, outcome: Outcome, ev) -> bool:
    """The certificate check: the evaluator's value against the solver's own (``check_solver_objective``)."""
    rtol, theirs = outcome.check_solver_objective, outcome.solver_objective
    if rtol is None or theirs is None or res.status is not Status.OPTIMAL:
        return False
    mine = ev.objective if outcome.check_against is None else ev.objectives[outcome.check_against]
    if abs(mine - theirs) <= rtol * max(abs(mine), abs(theirs), 1e-300):
        return False
    res.status, res.certificate = Status.FEASIBLE, Certificate.NONE
    res.message = (f"evaluator value {mine:.10g} differs from {outcome.solver}'s {theirs:.10g} by more than "
                   f"{rtol:g} relative; optimality not certified ({res.message})")
    return True


def _score(res: SolveResult, problem, instance, outcome: Outcome) -> None:
    """Evaluate the point, fill objective / max_violation / solution and apply the rules."""
    point = dict(outcome.point)
    ev = problem.evaluate(instance, point, **res.context)
    viol = {k: float(v) for k, v in ev.violations.items() if k not in outcome.relaxed}
    res.max_violation = float(max(viol.values(), default=0.0))
    view = problem.solution_view or default_solution_view
    res.solution = {**view(instance, point, ev, dict(res.context)), **outcome.extra}
    if res.status in _SCORED:
        res.objective = float(ev.objective)
    _disagrees(res, outcome, ev)
    if res.max_violation > FEAS_TOL and res.status in _CLAIMS:
        worst = max(viol, key=viol.get)
        res.status, res.certificate, res.objective = Status.ERROR, Certificate.NONE, None
        res.message = f"evaluator: {worst} violated by {viol[worst]:.3g}" + (f"; {res.message}" if res.message
                                                                             else "")


def make_result(problem, instance, method, outcome: Outcome, *, seed: int | None = None,
                wall_time_s: float | None = None) -> SolveResult:
    """The :class:`SolveResult` of ``outcome`` (the rules: module docstring). ``problem``: a Problem or its id;
    ``method``: a Method or its name; ``wall_time_s`` is used when the outcome has none."""
    if not isinstance(outcome, Outcome):
        raise TypeError(f"make_result needs an Outcome, got {type(outcome).__name__}")
    p, inst = _problem(problem), _instance(instance)
    wall = outcome.wall_time_s if outcome.wall_time_s is not None else wall_time_s
    res = SolveResult(
        problem=p.id, formulation=outcome.formulation, method=getattr(method, "name", method),
        solver=outcome.solver, solver_version=outcome.solver_version or dist_version("cfopt"),
        instance=inst.name, instance_hash=inst.content_hash, status=outcome.status,
        certificate=outcome.certificate, solver_objective=outcome.solver_objective, bound=outcome.bound,
        gap=outcome.gap, context=p.check_context(dict(outcome.context)), wall_time_s=float(wall or 0.0),
        iterations=outcome.iterations, trace=list(outcome.trace), series=dict(outcome.series),
        seed=seed if seed is not None else outcome.seed,
        versions=versions(**outcome.solver_versions), message=outcome.message)
    has_point = outcome.point is not None and (outcome.status is not Status.INFEASIBLE
                                               or outcome.keep_infeasible_point)
    if has_point:
        _score(res, p, inst, outcome)
    else:
        res.solution = dict(outcome.extra)
    return res


def run_method(problem, method, instance, **options: Any) -> SolveResult:
    """Run ``method`` of ``problem`` (objects or names) on ``instance`` with already resolved ``options``
    (:meth:`Method.resolve`), timed on one clock, and make its result. The only way experiments code runs a
    method."""
    p = _problem(problem)
    m = p.method(method) if isinstance(method, str) else method
    inst = _instance(instance)
    clock = Clock()
    outcome = m.run(inst, **options)
    return make_result(p, inst, m, outcome, seed=options.get("seed"), wall_time_s=clock.elapsed())
