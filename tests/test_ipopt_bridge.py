"""The compiled NLP bridge (solvers_adapters/nlp_compiler.py) and the Ipopt adapter on top of it."""
import math

import numpy as np
import pyomo.environ as pe
import pytest

from instances.errors import InputError
from solvers_adapters import Certificate, Status, solve_model
from solvers_adapters.ipopt import compiled
from solvers_adapters.nlp_compiler import compile_model


# ----------------------------------------------------------------------------------------------- test models
def hs71():
    m = pe.ConcreteModel(name="hs071")
    m.x = pe.Var(range(4), bounds=(1, 5), initialize={0: 1, 1: 5, 2: 5, 3: 1})
    m.o = pe.Objective(expr=m.x[0] * m.x[3] * (m.x[0] + m.x[1] + m.x[2]) + m.x[2])
    m.c1 = pe.Constraint(expr=m.x[0] * m.x[1] * m.x[2] * m.x[3] >= 25)
    m.c2 = pe.Constraint(expr=sum(m.x[i] ** 2 for i in range(4)) == 40)
    return m


def every_operation_model():
    """A model using every construct the bridge supports, with mutable params, a named expression shared by two
    constraints, a fixed variable, and a maximisation objective."""
    m = pe.ConcreteModel()
    m.I = pe.RangeSet(0, 5)
    m.x = pe.Var(m.I, bounds=(0.2, 3.0))
    m.y = pe.Var(bounds=(0.1, 2.0))
    m.z = pe.Var(initialize=0.7)
    m.z.fix()
    m.p = pe.Param(m.I, mutable=True, initialize=lambda m, i: 0.5 + 0.3 * i)
    m.q = pe.Param(mutable=True, initialize=1.7)
    m.e = pe.Expression(m.I, rule=lambda m, i: m.p[i] * m.x[i] * m.y + pe.log(1 + m.x[i] ** 2))
    m.s = pe.Expression(expr=sum(m.e[i] for i in m.I))
    m.c_share1 = pe.Constraint(expr=m.s / (1 + m.y) <= 30)
    m.c_share2 = pe.Constraint(expr=pe.sqrt(m.s + m.z) >= 0.1)
    m.c_trig = pe.Constraint(expr=pe.sin(m.x[0]) + pe.cos(m.x[1]) + pe.tan(0.3 * m.x[2]) + pe.atan(m.x[3]) <= 5)
    m.c_hyp = pe.Constraint(expr=pe.tanh(m.x[4]) + pe.sinh(0.2 * m.x[5]) - pe.cosh(0.1 * m.y) + pe.exp(-m.x[0]) >= -9)
    m.c_pow = pe.Constraint(expr=m.x[1] ** m.q + m.x[2] ** m.y + m.x[3] ** 0.5 + m.x[4] ** -1 + 2 ** m.x[5] <= 40)
    m.c_div = pe.Constraint(expr=(m.x[0] - m.q * m.x[1]) / (m.x[2] * m.x[3] + m.z) - m.p[2] * (m.x[4] - 3 * m.y) == 0.3)
    m.c_range = pe.Constraint(expr=pe.inequality(-2, m.x[0] * m.x[0] - m.x[1] / m.q + pe.log10(m.x[5]), 8))
    m.c_lin = pe.Constraint(expr=sum((i + 1) * m.x[i] for i in m.I) - m.q * m.y + 3 * m.z <= 25)
    m.c_asin = pe.Constraint(expr=pe.asin(0.2 * m.x[0]) + pe.acos(0.2 * m.x[1]) + pe.asinh(m.x[2])
                             + pe.acosh(1 + m.x[3]) + pe.atanh(0.2 * m.x[4]) <= 20)
    m.o = pe.Objective(expr=m.s - (m.x[0] - m.x[1]) ** 2 - m.q * m.y ** 2 + m.z * m.x[5], sense=pe.maximize)
    return m


def _set(nlp, x):
    for v, val in zip(nlp.vars, x):
        v.set_value(float(val))


def _pyomo_values(m, nlp, x):
    _set(nlp, x)
    f = pe.value(m.o)
    g = np.array([pe.value(c.body) for c in nlp.cons])
    return f, g


def _fd_jac(fun, x, h=1e-6):
    cols = []
    for j in range(len(x)):
        e = np.zeros_like(x)
        e[j] = h * max(1.0, abs(x[j]))
        cols.append((fun(x + e) - fun(x - e)) / (2 * e[j]))
    return np.array(cols).T


def _close(a, b, rel):
    scale = np.maximum(1.0, np.abs(b))
    return np.max(np.abs(a - b) / scale) <= rel


# ----------------------------------------------------------------------------------------------- tests
def test_hs071_local_optimum():
    m = hs71()
    r = solve_model(m, "ipopt")
    assert r.status is Status.OPTIMAL and r.certificate is Certificate.LOCAL
    assert abs(r.objective - 17.0140173) / 17.0140173 < 1e-6
    assert r.max_violation < 1e-6
    x = [pe.value(m.x[i]) for i in range(4)]
    assert np.allclose(x, [1.0, 4.742999, 3.821150, 1.379408], atol=1e-5)
    assert r.iterations > 0 and len(r.trace) == r.iterations + 1  # iteration 0 is the start point
    assert r.bound == -math.inf and r.solver == "ipopt" and r.solver_version.startswith("3.14")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_values_gradient_jacobian_match_pyomo_and_finite_differences(seed):
    m = every_operation_model()
    nlp = compile_model(m, hessian="exact")
    assert nlp.n == 7 and nlp.m == 9  # z is fixed: a parameter, not a variable
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.4, 1.6, nlp.n)
    f_py, g_py = _pyomo_values(m, nlp, x)
    assert abs(nlp.objective(x) - f_py) <= 1e-12 * max(1, abs(f_py))
    offs = np.array([t.value() for t in nlp.con_offset_terms])
    assert np.allclose(nlp.constraints(x) + offs, g_py, rtol=1e-12, atol=1e-12)

    grad_fd = _fd_jac(lambda y: np.array([nlp.objective(y)]), x)[0]
    assert _close(nlp.gradient(x), grad_fd, 1e-6)
    jac = nlp.jacobian_sparse(x).toarray()
    jac_fd = _fd_jac(nlp.constraints, x)
    assert _close(jac, jac_fd, 1e-6)
    # the structure is tight: no structural entry is identically zero for a generic point
    assert np.all(jac[nlp.jac_rows, nlp.jac_cols] != 0)


@pytest.mark.parametrize("seed", [0, 1])
def test_hessian_of_lagrangian_matches_finite_differences(seed):
    m = every_operation_model()
    nlp = compile_model(m, hessian="exact")
    rng = np.random.default_rng(10 + seed)
    x = rng.uniform(0.4, 1.6, nlp.n)
    lam = rng.normal(size=nlp.m)
    sigma = 0.7

    def grad_lagr(y):
        return sigma * nlp.gradient(y) + nlp.jacobian_sparse(y).T @ lam

    H_fd = _fd_jac(grad_lagr, x, h=1e-5)
    H = nlp.hessian_dense(x, lam, sigma)
    assert _close(H, 0.5 * (H_fd + H_fd.T), 1e-6)


def test_mutable_params_and_fixed_values_are_reread_without_recompiling():
    m = every_operation_model()
    nlp1 = compiled(m)
    x = np.linspace(0.5, 1.5, nlp1.n)
    before = nlp1.objective(x)
    m.q.set_value(2.9)
    m.p[3].set_value(-0.4)
    m.z.set_value(1.3)
    nlp2 = compiled(m)
    assert nlp2 is nlp1  # same structure: the compiled program is reused
    f_py, g_py = _pyomo_values(m, nlp2, x)
    assert nlp2.objective(x) != before
    assert abs(nlp2.objective(x) - f_py) <= 1e-12 * max(1, abs(f_py))
    offs = np.array([t.value() for t in nlp2.con_offset_terms])
    assert np.allclose(nlp2.constraints(x) + offs, g_py, rtol=1e-12, atol=1e-12)
    # replacing a constraint's expression changes the structure: recompiled
    m.c_lin.set_value(sum(m.x[i] for i in m.I) <= 10)
    nlp_new = compiled(m)
    assert nlp_new is not nlp1
    _, g_py = _pyomo_values(m, nlp_new, x)
    offs = np.array([t.value() for t in nlp_new.con_offset_terms])
    assert np.allclose(nlp_new.constraints(x) + offs, g_py, rtol=1e-12, atol=1e-12)
    # unfixing a variable changes the structure: recompiled
    m.z.unfix()
    nlp3 = compiled(m)
    assert nlp3 is not nlp1 and nlp3.n == nlp1.n + 1


def test_sweep_by_mutable_param_and_warm_start():
    m = pe.ConcreteModel()
    m.x = pe.Var(range(3), bounds=(0, None), initialize=1.0)
    m.r = pe.Param(mutable=True, initialize=1.0)
    m.c = pe.Constraint(expr=sum(m.x[i] ** 2 for i in range(3)) <= m.r)
    m.o = pe.Objective(expr=sum((i + 1) * m.x[i] for i in range(3)), sense=pe.maximize)
    for r in (1.0, 4.0, 9.0):
        m.r.set_value(r)
        res = solve_model(m, "ipopt", tol=1e-10)
        assert res.status is Status.OPTIMAL
        assert abs(res.objective - math.sqrt(14 * r)) < 1e-7  # max c·x on a ball: ‖c‖·√r
    # a small change of the parameter: the warm start (primal + multipliers) needs far fewer iterations
    m.r.set_value(9.5)
    x_prev = [pe.value(m.x[i]) for i in range(3)]
    cold = solve_model(m, "ipopt", tol=1e-10)
    for i in range(3):
        m.x[i].set_value(x_prev[i])
    m.r.set_value(9.0)
    solve_model(m, "ipopt", tol=1e-10)
    m.r.set_value(9.5)
    warm = solve_model(m, "ipopt", tol=1e-10, warm_start=True)
    assert warm.status is Status.OPTIMAL and abs(warm.objective - math.sqrt(14 * 9.5)) < 1e-7
    assert warm.iterations < cold.iterations


def test_infeasible_model_reports_infeasible():
    m = pe.ConcreteModel()
    m.x = pe.Var(range(2))
    m.c1 = pe.Constraint(expr=m.x[0] ** 2 + m.x[1] ** 2 <= 1)
    m.c2 = pe.Constraint(expr=m.x[0] + m.x[1] >= 3)
    m.o = pe.Objective(expr=m.x[0])
    r = solve_model(m, "ipopt")
    assert r.status is Status.INFEASIBLE and r.certificate is Certificate.NONE and r.objective is None


def test_iteration_limit_and_acceptable_are_not_optimal():
    m = hs71()
    r = solve_model(m, "ipopt", max_iter=2)
    assert r.status is Status.LIMIT and r.certificate is Certificate.NONE
    assert r.objective is not None and r.iterations == 2
    m = hs71()
    # acceptable level reached immediately after 1 acceptable iteration with an unreachable desired tolerance
    r = solve_model(m, "ipopt", tol=1e-30, acceptable_tol=1e-2, acceptable_iter=1, acceptable_constr_viol_tol=1e-2)
    assert r.status is Status.FEASIBLE and r.certificate is Certificate.NONE


def test_unbounded_and_bad_input():
    m = pe.ConcreteModel()
    m.x = pe.Var()
    m.o = pe.Objective(expr=-m.x)
    r = solve_model(m, "ipopt", max_iter=200)
    assert r.status in (Status.UNBOUNDED, Status.LIMIT) and r.certificate is Certificate.NONE
    m = pe.ConcreteModel()
    m.x = pe.Var(domain=pe.Binary)
    m.o = pe.Objective(expr=(m.x - 0.3) ** 2)
    with pytest.raises(InputError, match="integrality"):
        solve_model(m, "ipopt")
    r = solve_model(m, "ipopt", relax_integrality=True)
    assert r.status is Status.OPTIMAL and abs(pe.value(m.x) - 0.3) < 1e-6
    with pytest.raises(InputError, match="option no_such_option"):
        solve_model(hs71(), "ipopt", no_such_option=3)
    with pytest.raises(InputError, match="hessian"):
        solve_model(hs71(), "ipopt", hessian="bfgs")
    from solvers_adapters import ipopt
    with pytest.raises(InputError, match="time_limit"):
        ipopt.solve(hs71(), time_limit=-1)  # the adapter called directly checks its limit too


def test_limited_memory_hessian_reaches_the_same_point():
    m = hs71()
    r = solve_model(m, "ipopt", hessian="limited-memory", tol=1e-9)
    assert r.status is Status.OPTIMAL and abs(r.objective - 17.0140173) / 17.0140173 < 1e-6
    # "auto" declines the exact Hessian when it would need too many pairs
    nlp = compile_model(hs71(), hessian="auto", hessian_max_pairs=3)
    assert nlp.hess_rows is None and nlp.hessian_pairs > 3


def test_duals_loaded_into_suffix():
    m = pe.ConcreteModel()
    m.x = pe.Var(range(2))
    m.dual = pe.Suffix(direction=pe.Suffix.IMPORT)
    m.c = pe.Constraint(expr=m.x[0] + m.x[1] == 2)
    m.o = pe.Objective(expr=m.x[0] ** 2 + m.x[1] ** 2)
    solve_model(m, "ipopt")
    # min x0²+x1² s.t. x0+x1=2: optimum (1,1); d(opt)/d(rhs) = 2
    assert abs(m.dual[m.c] - 2.0) < 1e-6
