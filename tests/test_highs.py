"""HiGHS adapter: optima of hand-checkable LP/MILP/QP, every status of DESIGN.md §2, and model checks."""
import itertools
import math

import numpy as np
import pyomo.environ as pe
import pytest

highspy = pytest.importorskip("highspy")

from instances.errors import InputError
from solvers_adapters import Certificate, Status, max_violation, objective_value
from solvers_adapters.highs import _outcome_table, highs_version, solve

from _models import small_milp


# --------------------------------------------------------------------------------------------- models
def wyndor():
    """Hillier & Lieberman's Wyndor Glass LP: max 3x + 5y, x <= 4, 2y <= 12, 3x + 2y <= 18, x, y >= 0."""
    m = pe.ConcreteModel()
    m.x = pe.Var(bounds=(0, None))
    m.y = pe.Var(bounds=(0, None))
    m.c1 = pe.Constraint(expr=m.x <= 4)
    m.c2 = pe.Constraint(expr=2 * m.y <= 12)
    m.c3 = pe.Constraint(expr=3 * m.x + 2 * m.y <= 18)
    m.o = pe.Objective(expr=3 * m.x + 5 * m.y, sense=pe.maximize)
    return m


def wyndor_vertex_optimum():
    """Best vertex of the Wyndor polygon, by intersecting every pair of its five boundary lines a.z = b."""
    A = np.array([[1, 0], [0, 2], [3, 2], [-1, 0], [0, -1]], float)
    b = np.array([4, 12, 18, 0, 0], float)
    best = (-math.inf, None)
    for i, j in itertools.combinations(range(len(b)), 2):
        M = A[[i, j]]
        if abs(np.linalg.det(M)) < 1e-12:
            continue
        z = np.linalg.solve(M, b[[i, j]])
        if np.all(A @ z <= b + 1e-12):
            best = max(best, (3 * z[0] + 5 * z[1], tuple(z)), key=lambda t: t[0])
    return best


def knapsack(n=60, seed=1):
    """Two-constraint 0-1 knapsack whose root node leaves a gap of a few per cent."""
    rng = np.random.default_rng(seed)
    w = rng.integers(20, 100, size=n)
    v = w + rng.integers(-5, 6, size=n)
    m = pe.ConcreteModel()
    m.I = pe.RangeSet(0, n - 1)
    m.x = pe.Var(m.I, within=pe.Binary)
    m.c1 = pe.Constraint(expr=sum(int(w[i]) * m.x[i] for i in m.I) <= int(w.sum()) // 2)
    m.c2 = pe.Constraint(expr=sum((i % 7 + 1) * m.x[i] for i in m.I) <= 100)
    m.o = pe.Objective(expr=sum(int(v[i]) * m.x[i] for i in m.I), sense=pe.maximize)
    return m


def market_split(rows=4, seed=7):
    """Cornuejols-Dawande market split (n = 10(rows-1) binaries) with slack minimisation: hard for B&B."""
    rng = np.random.default_rng(seed)
    n = 10 * (rows - 1)
    A = rng.integers(0, 100, size=(rows, n))
    d = A.sum(axis=1) // 2
    m = pe.ConcreteModel()
    m.I, m.J = pe.RangeSet(0, rows - 1), pe.RangeSet(0, n - 1)
    m.x = pe.Var(m.J, within=pe.Binary)
    m.sp = pe.Var(m.I, bounds=(0, None))
    m.sm = pe.Var(m.I, bounds=(0, None))
    m.c = pe.Constraint(m.I, rule=lambda m, i: sum(int(A[i, j]) * m.x[j] for j in m.J) + m.sp[i] - m.sm[i]
                        == int(d[i]))
    m.o = pe.Objective(expr=sum(m.sp[i] + m.sm[i] for i in m.I))
    return m


# --------------------------------------------------------------------------------------------- optima
def test_lp_optimum_matches_best_vertex():
    m = wyndor()
    r = solve(m)
    best, (x, y) = wyndor_vertex_optimum()            # 36 at (2, 6)
    assert r.status is Status.OPTIMAL and r.certificate is Certificate.GLOBAL
    assert r.objective == pytest.approx(best, rel=1e-9)
    assert r.solver_objective == pytest.approx(best, rel=1e-9)
    assert r.bound == pytest.approx(best, rel=1e-9) and r.gap == 0.0
    assert (m.x.value, m.y.value) == (pytest.approx(x, abs=1e-9), pytest.approx(y, abs=1e-9))
    assert r.max_violation <= 1e-9
    assert r.solver == "highs" and r.solver_version == highs_version()
    assert r.versions["highs"] == r.solver_version and r.versions["highspy"] != "unknown"
    assert r.wall_time_s > 0 and r.message


def test_lp_iterations_are_simplex_iterations_and_options_pass_through():
    # with presolve off, the simplex method has to pivot at least twice to reach (2, 6) from the origin
    r = solve(wyndor(), presolve="off")
    assert r.status is Status.OPTIMAL
    assert r.iterations >= 2


def test_milp_optimum_matches_enumeration():
    m = small_milp()
    r = solve(m)
    best = max((5 * a + 8 * b, a, b) for a in range(7) for b in range(7) if a + b <= 6 and 5 * a + 9 * b <= 45)
    assert r.status is Status.OPTIMAL and r.certificate is Certificate.GLOBAL
    assert r.objective == pytest.approx(best[0], rel=1e-9)           # 40 at (0, 5), below the LP bound 41.25
    assert (round(m.a.value), round(m.b.value)) == best[1:]
    assert r.bound == pytest.approx(best[0], rel=1e-6) and r.gap <= 1e-6
    assert isinstance(r.iterations, int) and r.iterations >= 0      # B&B nodes
    assert r.max_violation <= 1e-6


def test_convex_qp_optimum():
    # min x^2 + xy + y^2 - 3x - 3y  s.t.  x + y >= 3. The unconstrained minimiser (1, 1) violates the constraint;
    # on x + y = 3 symmetry gives x = y = 1.5, value 3 * 2.25 - 9 = -2.25, multiplier 2x + y - 3 = 1.5 >= 0 (KKT).
    m = pe.ConcreteModel()
    m.x = pe.Var()
    m.y = pe.Var()
    m.c = pe.Constraint(expr=m.x + m.y >= 3)
    m.o = pe.Objective(expr=m.x ** 2 + m.x * m.y + m.y ** 2 - 3 * m.x - 3 * m.y)
    r = solve(m)
    assert r.status is Status.OPTIMAL and r.certificate is Certificate.GLOBAL
    assert r.objective == pytest.approx(-2.25, rel=1e-6)
    assert m.x.value == pytest.approx(1.5, abs=1e-5) and m.y.value == pytest.approx(1.5, abs=1e-5)
    assert r.iterations is not None


# --------------------------------------------------------------------------------------------- statuses
def test_infeasible_lp():
    m = wyndor()
    m.c4 = pe.Constraint(expr=m.x + m.y >= 20)     # x <= 4 and y <= 6
    r = solve(m)
    assert r.status is Status.INFEASIBLE and r.certificate is Certificate.NONE
    assert r.objective is None and r.solver_objective is None and r.gap is None
    assert not r.has_solution and r.message


def test_unbounded_lp():
    m = pe.ConcreteModel()
    m.x = pe.Var(bounds=(0, None))
    m.y = pe.Var(bounds=(0, None))
    m.c = pe.Constraint(expr=m.x - m.y <= 1)
    m.o = pe.Objective(expr=m.x + m.y, sense=pe.maximize)
    r = solve(m)
    assert r.status is Status.UNBOUNDED and r.certificate is Certificate.NONE
    assert r.objective is None and r.bound == math.inf


def _unbounded_mip():
    m = pe.ConcreteModel()
    m.x = pe.Var(within=pe.NonNegativeIntegers)
    m.y = pe.Var(bounds=(0, None))
    m.c = pe.Constraint(expr=m.x - m.y <= 1.5)
    m.o = pe.Objective(expr=m.x + m.y, sense=pe.maximize)
    return m


def _raw_highs_status(m):
    from pyomo.contrib.solver.solvers.highs import Highs
    opt = Highs()
    opt.solve(m, load_solutions=False, raise_exception_on_nonoptimal_result=False)
    return opt._solver_model.getModelStatus()


def test_infeasible_or_unbounded_mip_is_resolved_to_unbounded():
    m = _unbounded_mip()
    assert _raw_highs_status(m) == highspy.HighsModelStatus.kUnboundedOrInfeasible   # what HiGHS alone says
    r = solve(m)
    assert r.status is Status.UNBOUNDED and r.bound == math.inf


def test_infeasible_or_unbounded_mip_is_resolved_to_infeasible():
    m = _unbounded_mip()
    m.z = pe.Var([0, 1], within=pe.Integers, bounds=(0, 10))
    m.c2 = pe.Constraint(expr=m.z[0] + m.z[1] >= 1.5)   # no integer sum in [1.5, 1.7]
    m.c3 = pe.Constraint(expr=m.z[0] + m.z[1] <= 1.7)
    assert _raw_highs_status(m) == highspy.HighsModelStatus.kUnboundedOrInfeasible
    r = solve(m)
    assert r.status is Status.INFEASIBLE and r.objective is None
    assert not r.message.startswith("infeasible or unbounded")     # decided, not the undecided fallback
    assert r.bound == -math.inf                        # proven: a maximisation over an empty set


def test_gap_limit_is_a_limit_not_an_optimum():
    m = knapsack()
    r = solve(m, mip_rel_gap=0.05)
    assert r.status is Status.LIMIT and r.certificate is Certificate.NONE
    assert "gap limit" in r.message
    assert 1e-6 < r.gap <= 0.05
    assert r.objective is not None and r.objective == pytest.approx(r.solver_objective, rel=1e-9)
    assert r.bound > r.objective                       # maximisation: the bound is an upper bound
    assert r.max_violation <= 1e-6
    limited = r.objective
    full = solve(m)                                    # default gap_tol: proved optimal, at least as good
    assert full.status is Status.OPTIMAL and full.certificate is Certificate.GLOBAL
    assert full.gap <= 1e-6 and full.objective >= limited


def test_time_limit_reports_incumbent_and_bound():
    m = market_split()
    r = solve(m, time_limit=1.0)
    assert r.status is Status.LIMIT and r.certificate is Certificate.NONE
    assert r.objective is not None and math.isfinite(r.objective)
    assert r.objective == pytest.approx(objective_value(m)) and max_violation(m) <= 1e-6
    assert math.isfinite(r.bound) and r.bound <= r.objective and r.gap > 0
    assert r.wall_time_s < 10


# --------------------------------------------------------------------------------------------- model checks
def test_nonconvex_qp_is_rejected():
    # indefinite Hessian with a positive diagonal: HiGHS alone would stop at the stationary point (0, 0) and call
    # it optimal, while (1, -1) gives -0.8
    m = pe.ConcreteModel()
    m.x = pe.Var(bounds=(-1, 2))
    m.y = pe.Var(bounds=(-1, 2))
    m.o = pe.Objective(expr=m.x * m.y + 0.1 * m.x ** 2 + 0.1 * m.y ** 2)
    with pytest.raises(InputError) as e:
        solve(m)
    assert e.value.field == "model" and "nonconvex" in str(e.value)


def test_concave_maximisation_is_accepted():
    m = pe.ConcreteModel()
    m.x = pe.Var(bounds=(-5, 5))
    m.o = pe.Objective(expr=-(m.x - 2) ** 2, sense=pe.maximize)
    r = solve(m)
    assert r.status is Status.OPTIMAL and m.x.value == pytest.approx(2, abs=1e-6)


@pytest.mark.parametrize("kind", ["quadratic constraint", "nonlinear objective", "miqp"])
def test_constructs_highs_cannot_take_are_rejected(kind):
    m = pe.ConcreteModel()
    m.x = pe.Var(bounds=(-3, 3))
    if kind == "quadratic constraint":
        m.c = pe.Constraint(expr=m.x ** 2 <= 1)
        m.o = pe.Objective(expr=m.x)
    elif kind == "nonlinear objective":
        m.o = pe.Objective(expr=pe.exp(m.x))
    else:
        m.n = pe.Var(within=pe.Integers, bounds=(-3, 3))
        m.o = pe.Objective(expr=(m.n - 0.4) ** 2 + m.x)
    with pytest.raises(InputError) as e:
        solve(m)
    assert e.value.field == "model" and "scip" in str(e.value)


def test_unknown_or_bad_option_names_the_option():
    with pytest.raises(InputError) as e:
        solve(wyndor(), mip_rel_gapp=0.1)
    assert e.value.field == "mip_rel_gapp"
    with pytest.raises(InputError) as e:
        solve(wyndor(), presolve="sometimes")
    assert e.value.field == "presolve"


def test_every_highs_model_status_is_mapped():
    assert set(highspy.HighsModelStatus.__members__.values()) <= set(_outcome_table())


def test_an_exception_inside_the_solver_is_recorded_not_raised(monkeypatch):
    from pyomo.contrib.solver.solvers.highs import Highs

    def boom(self):
        raise RuntimeError("HiGHS blew up")

    monkeypatch.setattr(Highs, "_solve", boom)
    r = solve(wyndor())
    assert r.status is Status.ERROR and r.certificate is Certificate.NONE
    assert "HiGHS blew up" in r.message and r.objective is None
