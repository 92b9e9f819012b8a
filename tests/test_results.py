"""experiments.results.make_result / run_method: the one result pipeline and its rules (DESIGN.md §1–2), on a toy
problem (x ≥ 0 with Σ x ≤ cap, x integral; objective Σ x), so that hand-made outcomes exercise every rule."""
from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

import experiments
from experiments.registry import Method, Problem
from experiments.results import default_solution_view, make_result, run_method
from instances.errors import InputError
from models.common.evaluation import FEAS_TOL, Evaluation
from solvers_adapters.algorithms import Outcome
from solvers_adapters.base import dist_version
from solvers_adapters.result import Certificate, SolveResult, Status

INST = SimpleNamespace(name="toy-01", content_hash="abc123")
CALLS: list = []


def _evaluate(instance, solution, *, cap: float = 10.0):
    CALLS.append((instance.name, dict(solution), cap))
    x = np.asarray(solution["x"], dtype=float)
    total = float(x.sum())
    return Evaluation(objective=total, unit="1", objectives={"total": total, "double": 2 * total},
                      per_user={"x": x, "share": x / max(total, 1e-300)}, power={},
                      violations={"cap": max(0.0, total - cap), "integral": float(np.max(np.abs(x - np.round(x))))})


def _problem(**kw) -> Problem:
    return Problem(id="toy", paper="test", description="toy", evaluate=_evaluate, context_keys=("cap",), **kw)


def _out(status=Status.FEASIBLE, x=(1.0, 2.0), **kw) -> Outcome:
    kw.setdefault("context", {"cap": 10.0})
    return Outcome(status=status, point=None if x is None else {"x": np.asarray(x)}, formulation="toy-f", **kw)


def test_a_feasible_point_is_rescored():
    res = make_result(_problem(), INST, "m", _out(certificate=Certificate.STATIONARY, message="done"))
    assert (res.status, res.certificate, res.objective, res.max_violation) == (
        Status.FEASIBLE, Certificate.STATIONARY, 3.0, 0.0)
    assert (res.problem, res.method, res.formulation, res.instance, res.instance_hash) == (
        "toy", "m", "toy-f", "toy-01", "abc123")
    assert res.solution == {"x": [1.0, 2.0], "share": [1 / 3, 2 / 3], "objectives": {"total": 3.0, "double": 6.0}}
    assert res.message == "done"
    json.loads(res.to_json())


def test_a_violated_point_is_an_error_without_objective():
    res = make_result(_problem(), INST, "m", _out(Status.OPTIMAL, x=(4.0, 8.0), certificate=Certificate.GLOBAL,
                                                  message="solver says optimal"))
    assert res.status is Status.ERROR and res.certificate is Certificate.NONE
    assert res.objective is None
    assert res.max_violation == 2.0
    assert res.message == "evaluator: cap violated by 2; solver says optimal"
    assert res.solution["x"] == [4.0, 8.0]          # the point is kept, as evidence


def test_the_feasibility_tolerance_is_the_shared_constant():
    assert FEAS_TOL == 1e-6
    ok = make_result(_problem(), INST, "m", _out(x=(5.0, 5.0 + 0.9 * FEAS_TOL)))
    assert ok.status is Status.FEASIBLE and ok.objective == pytest.approx(10.0)
    bad = make_result(_problem(), INST, "m", _out(x=(5.0, 5.0 + 2 * FEAS_TOL)))
    assert bad.status is Status.ERROR and bad.objective is None


@pytest.mark.parametrize("status,has_objective", [(Status.OPTIMAL, True), (Status.FEASIBLE, True),
                                                   (Status.LIMIT, True), (Status.ERROR, False),
                                                   (Status.UNBOUNDED, False)])
def test_objective_only_for_optimal_feasible_limit(status, has_objective):
    res = make_result(_problem(), INST, "m", _out(status))
    assert res.status is status
    assert (res.objective == 3.0) if has_objective else (res.objective is None)
    assert res.max_violation == 0.0 and res.solution["x"] == [1.0, 2.0]


def test_infeasible_has_no_objective_and_drops_its_point():
    res = make_result(_problem(), INST, "m", _out(Status.INFEASIBLE, extra={"why": "targets"}))
    assert res.status is Status.INFEASIBLE and res.objective is None and res.max_violation is None
    assert res.solution == {"why": "targets"}


def test_keep_infeasible_point():
    res = make_result(_problem(), INST, "m", _out(Status.INFEASIBLE, x=(4.0, 8.0), keep_infeasible_point=True,
                                                  extra={"removed": [1]}))
    assert res.status is Status.INFEASIBLE and res.objective is None     # not downgraded, no value
    assert res.max_violation == 2.0
    assert res.solution["x"] == [4.0, 8.0] and res.solution["removed"] == [1]
    assert res.solution["objectives"]["total"] == 12.0                   # the evaluator's verdict


def test_no_point_no_objective_and_extra_is_the_solution():
    res = make_result(_problem(), INST, "m", _out(Status.LIMIT, x=None, extra={"bracket": [1, 2]}))
    assert res.objective is None and res.max_violation is None and res.solution == {"bracket": [1, 2]}


def test_relaxed_violations_are_not_held_against_the_point():
    frac = (0.5, 1.0)
    res = make_result(_problem(), INST, "m", _out(x=frac, relaxed=("integral",)))
    assert res.status is Status.FEASIBLE and res.objective == 1.5 and res.max_violation == 0.0
    strict = make_result(_problem(), INST, "m", _out(x=frac))
    assert strict.status is Status.ERROR and strict.max_violation == 0.5
    assert strict.message.startswith("evaluator: integral violated by 0.5")


def test_solver_evaluator_disagreement_drops_the_certificate():
    kw = dict(certificate=Certificate.GLOBAL, solver="scip", check_solver_objective=1e-5, message="optimal")
    agree = make_result(_problem(), INST, "m", _out(Status.OPTIMAL, solver_objective=3.0 * (1 + 1e-7), **kw))
    assert agree.status is Status.OPTIMAL and agree.certificate is Certificate.GLOBAL and agree.message == "optimal"
    res = make_result(_problem(), INST, "m", _out(Status.OPTIMAL, solver_objective=3.1, **kw))
    assert res.status is Status.FEASIBLE and res.certificate is Certificate.NONE
    assert res.objective == 3.0 and res.solver_objective == 3.1
    assert "evaluator value 3 differs from scip's 3.1" in res.message and "(optimal)" in res.message
    # against a named objective, and not checked without the tolerance
    other = make_result(_problem(), INST, "m", _out(Status.OPTIMAL, solver_objective=6.0, check_against="double",
                                                    **kw))
    assert other.status is Status.OPTIMAL
    unchecked = make_result(_problem(), INST, "m", _out(Status.OPTIMAL, solver_objective=3.1,
                                                        certificate=Certificate.GLOBAL))
    assert unchecked.status is Status.OPTIMAL


def test_context_is_used_and_recorded():
    CALLS.clear()
    res = make_result(_problem(), INST, "m", _out(x=(4.0, 8.0), context={"cap": 12.0}))
    assert CALLS == [("toy-01", {"x": CALLS[0][1]["x"]}, 12.0)]
    assert res.context == {"cap": 12.0} and res.status is Status.FEASIBLE
    ev = _evaluate(INST, res.solution, **res.context)                      # re-scoring gives the result's numbers
    assert (ev.objective, ev.max_violation) == (res.objective, res.max_violation)
    with pytest.raises(InputError, match="context.capacity"):
        make_result(_problem(), INST, "m", _out(context={"capacity": 1.0}))


def test_versions_seed_and_times_are_recorded():
    res = make_result(_problem(), INST, Method("heur", lambda i, **k: None, "heuristic"),
                      _out(solver="scip", solver_version="10.0.2", solver_versions={"scip": "10.0.2"}, iterations=7,
                           trace=[1.0, 3.0], series={"q": [1, 2]}, bound=4.0, gap=0.25), seed=42, wall_time_s=1.5)
    assert res.seed == 42 and res.method == "heur" and res.wall_time_s == 1.5
    assert {"cfopt", "python", "numpy", "pyomo"} <= set(res.versions) and res.versions["scip"] == "10.0.2"
    assert (res.solver, res.solver_version, res.iterations, res.trace, res.series, res.bound, res.gap) == (
        "scip", "10.0.2", 7, [1.0, 3.0], {"q": [1, 2]}, 4.0, 0.25)
    own = make_result(_problem(), INST, "m", _out(wall_time_s=0.25), wall_time_s=9.0)
    assert own.solver == "cfopt" and own.solver_version == dist_version("cfopt") and own.wall_time_s == 0.25
    assert own.seed is None


def test_solution_view_hook_and_extra():
    def view(instance, point, evaluation, context):
        return {"x": list(point["x"]), "total": evaluation.objectives["total"], "cap": context["cap"]}

    res = make_result(_problem(solution_view=view), INST, "m", _out(extra={"note": "n"}))
    assert res.solution == {"x": [1.0, 2.0], "total": 3.0, "cap": 10.0, "note": "n"}
    ev = _evaluate(INST, {"x": np.array([1.0, 2.0])})
    assert default_solution_view(INST, {"x": np.array([1, 2]), "mode": "a"}, ev, {}) == {
        "x": [1.0, 2.0], "mode": "a", "share": [1 / 3, 2 / 3], "objectives": {"total": 3.0, "double": 6.0}}


def test_outcome_statuses_are_enums():
    with pytest.raises(TypeError):
        Outcome(status="optimal")
    with pytest.raises(TypeError):
        Outcome(status=Status.OPTIMAL, certificate="global")
    f = Outcome.failed("boom")
    assert (f.status, f.certificate, f.point, f.message) == (Status.ERROR, Certificate.NONE, None, "boom")
    with pytest.raises(TypeError):
        make_result(_problem(), INST, "m", SolveResult())


def test_run_method_times_the_run_and_records_the_seed():
    seen = {}

    def run(instance, *, time_limit=None, seed=None, **options):
        seen.update(instance=instance, seed=seed, time_limit=time_limit, options=options)
        return _out(message="ran")

    m = Method("toy-method", run, "heuristic")
    p = _problem(methods={"toy-method": m})
    res = run_method(p, "toy-method", INST, seed=3, time_limit=5.0, tol=0.1)
    assert seen == {"instance": INST, "seed": 3, "time_limit": 5.0, "options": {"tol": 0.1}}
    assert isinstance(res, SolveResult) and res.seed == 3 and res.method == "toy-method" and res.objective == 3.0
    assert res.wall_time_s > 0.0
    assert run_method(p, m, INST).seed is None


def test_solve_goes_through_make_result(monkeypatch):
    m = Method("toy-method", lambda instance, **kw: _out(Status.OPTIMAL, x=(4.0, 8.0)), "heuristic")
    monkeypatch.setitem(experiments.PROBLEMS, "toy", _problem(methods={"toy-method": m}))
    res = experiments.solve("toy", INST, "toy-method")
    assert res.status is Status.ERROR and res.objective is None          # the pipeline's rule, not the method's
