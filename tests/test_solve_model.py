"""The `solve_model` dispatcher with the HiGHS and SCIP adapters, and the SolveResult JSON round trip."""
import json
import math

import pyomo.environ as pe
import pytest

from instances.errors import InputError
from solvers_adapters import SolveResult, Status, objective_value, solve_model

from _models import small_milp, small_milp_optimum


@pytest.mark.parametrize("solver", ["highs", "scip"])
def test_dispatch_solves_and_loads(solver):
    m = small_milp()
    r = solve_model(m, solver)
    assert r.solver == solver and r.status is Status.OPTIMAL
    assert r.objective == pytest.approx(small_milp_optimum(), rel=1e-9)
    assert r.objective == objective_value(m)          # the solution is in the model
    assert r.versions[solver] == r.solver_version


def test_dispatch_passes_time_limit_and_options():
    m = small_milp()
    m.o.sense = pe.minimize
    m.c3 = pe.Constraint(expr=m.a + m.b >= 7)         # contradicts a + b <= 6
    r = solve_model(m, "scip", time_limit=5, **{"limits/gap": 0.0})
    assert r.status is Status.INFEASIBLE


def test_unknown_solver_names_the_field():
    with pytest.raises(InputError) as e:
        solve_model(small_milp(), "gurobi")
    assert e.value.field == "solver" and "gurobi" in str(e.value)


def test_non_positive_time_limit_is_rejected():
    with pytest.raises(InputError) as e:
        solve_model(small_milp(), "highs", time_limit=0)
    assert e.value.field == "time_limit"


def test_model_without_single_objective_is_rejected():
    m = small_milp()
    m.o2 = pe.Objective(expr=m.a)
    with pytest.raises(InputError) as e:
        solve_model(m, "highs")
    assert e.value.field == "objective"


@pytest.mark.parametrize("infeasible", [False, True])
def test_json_round_trip_of_real_results(infeasible):
    m = small_milp()
    if infeasible:
        m.c3 = pe.Constraint(expr=m.a + m.b >= 7)
    r = solve_model(m, "highs")
    assert r.status is (Status.INFEASIBLE if infeasible else Status.OPTIMAL)
    text = r.to_json()
    back = SolveResult.from_dict(json.loads(text))
    assert back == r
    assert back.status is r.status and back.certificate is r.certificate
    if infeasible:
        assert back.bound == -math.inf and json.loads(text)["bound"] == "-inf"


def test_a_point_better_than_the_proven_bound_is_flagged():
    from solvers_adapters._pyomo_common import inconsistency
    assert inconsistency(+1, objective=5.0, bound=5.0 - 1e-9) is None          # within tolerance
    assert inconsistency(+1, objective=4.0, bound=5.0) is not None            # min: below the lower bound
    assert inconsistency(-1, objective=6.0, bound=5.0) is not None            # max: above the upper bound
    assert inconsistency(-1, objective=4.0, bound=5.0) is None
    assert inconsistency(+1, objective=4.0, bound=-math.inf) is None


def test_every_adapter_returns_the_point_as_named_arrays():
    """The same LP through all three adapters: same optimum, and `solution` holds the point per Var component."""
    import pyomo.environ as pe
    from solvers_adapters import solve_model

    for solver in ("highs", "scip", "ipopt"):
        m = pe.ConcreteModel(name="lp3")
        m.x = pe.Var(range(3), bounds=(0, 4))
        m.y = pe.Var(bounds=(0, None))
        m.c = pe.Constraint(expr=m.x[0] + m.x[1] + m.x[2] + m.y <= 5)
        m.o = pe.Objective(expr=3 * m.x[0] + 2 * m.x[1] + m.x[2] + 0.5 * m.y, sense=pe.maximize)
        r = solve_model(m, solver)
        assert r.status.value == "optimal", (solver, r.message)
        assert abs(r.objective - 14.0) < 1e-6, solver          # x0 = 4, x1 = 1
        assert r.formulation == "lp3"
        assert set(r.solution) == {"x", "y"} and len(r.solution["x"]) == 3
        assert abs(r.solution["x"][0] - 4) < 1e-6 and abs(r.solution["x"][1] - 1) < 1e-6, solver
