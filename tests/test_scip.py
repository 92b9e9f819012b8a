"""SCIP adapter: a proved global optimum of a nonconvex MINLP, infeasibility, unboundedness, time and gap limits."""
import math

import numpy as np
import pyomo.environ as pe
import pytest

pyscipopt = pytest.importorskip("pyscipopt")

from instances.errors import InputError
from solvers_adapters import Certificate, Status, max_violation, objective_value
from solvers_adapters.scip import _outcome_table, _status_of_token, scip_version, solve


def bilinear_minlp():
    """min xy + z^2 - 2xz  s.t.  x^2 + y^2 <= 13, xz >= -4, y + z <= 3, x, y in {-4..4}, z in [0, 3].

    Nonconvex: bilinear objective terms xy, xz and the bilinear constraint xz >= -4."""
    m = pe.ConcreteModel()
    m.x = pe.Var(within=pe.Integers, bounds=(-4, 4))
    m.y = pe.Var(within=pe.Integers, bounds=(-4, 4))
    m.z = pe.Var(bounds=(0, 3))
    m.c1 = pe.Constraint(expr=m.x ** 2 + m.y ** 2 <= 13)
    m.c2 = pe.Constraint(expr=m.x * m.z >= -4)
    m.c3 = pe.Constraint(expr=m.y + m.z <= 3)
    m.o = pe.Objective(expr=m.x * m.y + m.z ** 2 - 2 * m.x * m.z)
    return m


def bilinear_minlp_enumerated():
    """Exact optimum: enumerate (x, y); for each, z^2 - 2xz is minimised over its feasible interval [0, zmax]
    at z = clamp(x, 0, zmax) (xz >= -4 gives z <= 4/|x| when x < 0)."""
    best = (math.inf, None)
    for x in range(-4, 5):
        for y in range(-4, 5):
            if x * x + y * y > 13:
                continue
            zmax = min(3.0, 3.0 - y) if x >= 0 else min(3.0, 3.0 - y, -4.0 / x)
            if zmax < 0:
                continue
            z = min(max(float(x), 0.0), zmax)
            best = min(best, (x * y + z * z - 2 * x * z, (x, y, z)), key=lambda t: t[0])
    return best


def box_qp(n=60, seed=0):
    """Dense nonconvex box-constrained QP (random Gaussian Q): SCIP cannot close it in a second, but its trivial
    heuristic finds x = 0 at once and local heuristics improve on it."""
    rng = np.random.default_rng(seed)
    Q = rng.normal(size=(n, n))
    m = pe.ConcreteModel()
    m.I = pe.RangeSet(0, n - 1)
    m.x = pe.Var(m.I, bounds=(-1, 1))
    m.o = pe.Objective(expr=sum(float(Q[i, j]) * m.x[i] * m.x[j] for i in m.I for j in m.I if j >= i))
    return m


def test_nonconvex_minlp_global_optimum():
    best, (x, y, z) = bilinear_minlp_enumerated()        # -15 at (3, -2, 3)
    m = bilinear_minlp()
    r = solve(m, gap_tol=0.0)
    assert r.status is Status.OPTIMAL and r.certificate is Certificate.GLOBAL
    assert r.gap == 0.0
    assert r.objective == pytest.approx(best, rel=1e-6)
    assert r.bound == pytest.approx(best, rel=1e-6)
    assert (round(m.x.value), round(m.y.value)) == (x, y)
    assert r.max_violation <= 1e-6
    assert r.solver == "scip" and r.solver_version == scip_version()
    assert r.versions["scip"] == r.solver_version and r.versions["pyscipopt"] == pyscipopt.__version__
    assert isinstance(r.iterations, int) and r.iterations >= 1


def test_default_gap_tol_certifies_global():
    best, _ = bilinear_minlp_enumerated()
    r = solve(bilinear_minlp())
    assert r.status is Status.OPTIMAL and r.certificate is Certificate.GLOBAL
    assert r.gap <= 1e-6 and r.objective == pytest.approx(best, rel=1e-6)


def test_infeasible_minlp():
    m = pe.ConcreteModel()
    m.x = pe.Var(within=pe.Integers, bounds=(0, 5))
    m.y = pe.Var(bounds=(0, 5))
    m.c = pe.Constraint(expr=m.x * m.y >= 30)       # at most 25
    m.o = pe.Objective(expr=m.x + m.y)
    r = solve(m)
    assert r.status is Status.INFEASIBLE and r.certificate is Certificate.NONE
    assert r.objective is None and r.gap is None and not r.has_solution
    assert r.bound == math.inf                       # minimisation over an empty set


def test_unbounded_nonconvex():
    m = pe.ConcreteModel()
    m.x = pe.Var(bounds=(0, None))
    m.y = pe.Var(bounds=(0, None))
    m.c = pe.Constraint(expr=m.x * m.y <= 1)
    m.o = pe.Objective(expr=m.x + m.y, sense=pe.maximize)
    r = solve(m)
    assert r.status is Status.UNBOUNDED and r.objective is None and r.bound == math.inf


def _ray_mip(feasible):
    """max x + y, x - y <= 1.5 (an unbounded ray) next to an integer block that is feasible or not
    (z0 + z1 in [0.5, 1.7] or in [1.5, 1.7]); SCIP's presolve answers 'infeasible or unbounded' for both."""
    m = pe.ConcreteModel()
    m.x = pe.Var(within=pe.NonNegativeIntegers)
    m.y = pe.Var(bounds=(0, None))
    m.z = pe.Var([0, 1], within=pe.Integers, bounds=(0, 10))
    m.c1 = pe.Constraint(expr=m.x - m.y <= 1.5)
    m.c2 = pe.Constraint(expr=m.z[0] + m.z[1] >= (0.5 if feasible else 1.5))
    m.c3 = pe.Constraint(expr=m.z[0] + m.z[1] <= 1.7)
    m.o = pe.Objective(expr=m.x + m.y, sense=pe.maximize)
    return m


def _raw_scip_status(m):
    from solvers_adapters.scip import _direct_class
    opt = _direct_class()()          # the model exactly as the adapter hands it to SCIP
    opt.solve(m, load_solutions=False, raise_exception_on_nonoptimal_result=False)
    return opt._solver_model.getStatus()


@pytest.mark.parametrize("feasible", [True, False])
def test_infeasible_or_unbounded_is_decided(feasible):
    m = _ray_mip(feasible)
    assert _raw_scip_status(m) == "inforunbd"            # what SCIP alone says (pyscipopt's rendering of the enum)
    r = solve(m)
    assert r.status is (Status.UNBOUNDED if feasible else Status.INFEASIBLE)
    assert not r.message.startswith("infeasible or unbounded")
    assert r.objective is None
    assert r.bound == (math.inf if feasible else -math.inf)


def test_time_limit_returns_loaded_incumbent_bound_and_gap():
    m = box_qp()
    r = solve(m, time_limit=1)
    assert r.status is Status.LIMIT and r.certificate is Certificate.NONE
    assert r.objective is not None and math.isfinite(r.objective)
    assert r.objective == pytest.approx(objective_value(m))             # the incumbent is in the model
    assert r.objective == pytest.approx(r.solver_objective, rel=1e-6)
    assert max_violation(m) <= 1e-6
    assert math.isfinite(r.bound) and r.bound < r.objective and r.gap > 0
    assert r.iterations >= 1
    assert r.wall_time_s < 10


def test_loose_gap_limit_is_a_limit():
    m = box_qp()
    r = solve(m, time_limit=30, **{"limits/gap": 5.0})
    assert r.status is Status.LIMIT and r.certificate is Certificate.NONE
    assert "gap limit" in r.message
    assert 1e-6 < r.gap <= 5.0 and r.objective is not None


def test_untranslatable_expression_and_bad_parameter_are_input_errors():
    m = pe.ConcreteModel()
    m.x = pe.Var(bounds=(0, 1))
    m.o = pe.Objective(expr=pe.atan(m.x))
    with pytest.raises(InputError) as e:
        solve(m)
    assert e.value.field == "model"
    with pytest.raises(InputError) as e:
        solve(bilinear_minlp(), **{"limits/gapp": 0.1})
    assert e.value.field == "limits/gapp"


def test_every_scip_status_is_mapped():
    S = pyscipopt.SCIP_STATUS
    members = {getattr(S, a) for a in dir(S) if not a.startswith("_")}
    assert members <= set(_outcome_table())
    assert members == set(_status_of_token().values())


def test_an_exception_inside_the_solver_is_recorded_not_raised(monkeypatch):
    from pyomo.contrib.solver.solvers.scip.scip_direct import ScipDirect

    def boom(self, *args, **kwargs):
        raise RuntimeError("SCIP blew up")

    monkeypatch.setattr(ScipDirect, "_populate_results", boom)
    r = solve(bilinear_minlp())
    assert r.status is Status.ERROR and r.certificate is Certificate.NONE
    assert "SCIP blew up" in r.message and r.objective is None
