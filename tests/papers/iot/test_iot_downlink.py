"""Downlink max-min power control of paper 003 (spec iot_nonorthogonal.md §2.6, §3.7, §3.8): the scaled SOCP data,
the certified dual bound, bisection with SCIP and Ipopt, the SCIP epigraph, and the equal-power baseline."""
from __future__ import annotations

import math

import numpy as np
import pytest

from experiments.results import run_method
from formulations.iot import downlink as F
from instances import InputError
from instances.generators import rao2020
from models.iot import downlink as D
from models.iot import system as iot_models
from models.common.estimation_vector import estimator_statistics
from models.common.sinr import downlink_power_load, downlink_sinr
from solvers_adapters.iot.downlink import (bisection_dl, run_bisection_dl, run_equal_power_dl)
from solvers_adapters.result import Certificate, Status

ESTIMATORS = ("lmmse", "projection")
SMALL = [(6, 4, 2, 2), (8, 5, 3, 1)]          # (M, K, tau_p, seed): tau_p < K, random unit-norm pilots
TINY = [(5, 3, 2, 1), (6, 4, 3, 3)]


def _inst(M, K, tau, seed, **kw):
    return rao2020.generate(aps=M, users=K, seed=seed, tau_p=tau, **kw)


def solve(method: str, inst, **kw):
    return run_method("iot-downlink-maxmin", method, inst, **kw)


def _random_stats(M, K, tau, seed, kind):
    """numpy-level data: random β (dB-uniform), random unit-norm complex pilots, ρ ~ 1e11."""
    rng = np.random.default_rng(seed)
    beta = 10 ** rng.uniform(-14, -9.5, size=(M, K))
    psi = rng.standard_normal((tau, K)) + 1j * rng.standard_normal((tau, K))
    psi /= np.linalg.norm(psi, axis=0)
    stats = estimator_statistics(beta, psi, 1.5e11, kind=kind, full=True)
    return stats, beta, 3.1e11


# ------------------------------------------------------------------------------------------------ scaled data
@pytest.mark.parametrize("kind", ESTIMATORS)
def test_scaled_sinr_matches_the_model(kind):
    stats, beta, rho = _random_stats(7, 5, 3, 11, kind)
    d = F.dl_data(stats=stats, beta=beta, rho_d=rho)
    diag = np.diagonal(stats.q, axis1=1, axis2=2)
    assert np.abs(diag.imag).max() == 0 or np.abs(diag.imag).max() < 1e-12 * stats.gamma.max()
    assert np.all(diag.real >= 0)                                        # [Q_m]_kk real ≥ 0 (both estimators)
    assert d.R == 2 * 5 * 4                                              # Re and Im of every ordered pair
    rng = np.random.default_rng(0)
    for _ in range(3):
        eta = rng.uniform(0, 1, size=beta.shape) / stats.gamma.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(d.sinr(d.u_from_eta(eta)), downlink_sinr(eta, stats, beta, rho), rtol=1e-10)
        u = d.u_from_eta(eta)
        np.testing.assert_allclose(np.linalg.norm(u, axis=1) ** 2, downlink_power_load(eta, stats.gamma),
                                   rtol=1e-12)
        np.testing.assert_allclose(d.eta_from_u(u), eta, rtol=1e-10)


def test_upper_bound_is_valid_on_random_points():
    """t_hi ≥ min_k SINR_k at many random power-feasible points and at the optimum (no Monte Carlo needed)."""
    for seed, kind in ((1, "lmmse"), (2, "projection"), (3, "lmmse")):
        stats, beta, rho = _random_stats(6, 4, 2, seed, kind)
        d = F.dl_data(stats=stats, beta=beta, rho_d=rho)
        rng = np.random.default_rng(seed)
        best = 0.0
        for _ in range(200):
            u = d.power_feasible(rng.exponential(size=beta.shape) ** 3)
            best = max(best, float(d.sinr(u).min()))
        assert d.upper_bound() >= best
    inst = _inst(8, 5, 3, 1)
    for est in ESTIMATORS:
        sys_ = iot_models.prepare(inst, estimator=est)
        out = bisection_dl(sys_, solver="ipopt")
        assert F.dl_data(sys_).upper_bound() >= out.hi >= out.value


def test_dual_bound_is_valid_for_any_multipliers():
    """tau_upper_bound(λ) ≥ √t* for arbitrary λ ≥ 0 and arbitrary linearisation points (weak duality)."""
    inst = _inst(6, 4, 2, 2)
    sys_ = iot_models.prepare(inst)
    d = F.dl_data(sys_)
    tstar = bisection_dl(sys_, solver="ipopt", rel_tol=1e-8).value
    rng = np.random.default_rng(7)
    for _ in range(50):
        lam = rng.exponential(size=d.K)
        u = d.power_feasible(rng.uniform(size=(d.M, d.K)))
        tau = math.sqrt(tstar) * rng.uniform(0.5, 1.5)
        b = D.lagrangian_bound(d, tau, lam, u)
        assert D.tau_upper_bound(d, tau, lam, b) >= math.sqrt(tstar) * (1 - 1e-9)


def test_dual_bound_proves_infeasibility_above_optimum():
    inst = _inst(8, 5, 3, 1)
    sys_ = iot_models.prepare(inst)
    d = F.dl_data(sys_)
    tstar = bisection_dl(sys_, solver="ipopt", rel_tol=1e-8).value
    from solvers_adapters.base import solve_model
    for factor, infeasible in ((1.01, True), (0.99, False)):
        t = tstar * factor
        m = F.build_feasibility(d, t=t, objective="slack", duals=True)
        r = solve_model(m, "ipopt", tol=1e-10)
        assert r.status is Status.OPTIMAL
        x = F.extract(m)
        assert (x["s"] < 0) == infeasible
        lam = F.cone_multipliers(m)
        b = D.lagrangian_bound(d, math.sqrt(t), lam, x["u"], x["theta"])
        assert (b < 0) == infeasible                                    # a Farkas certificate iff infeasible
        tub = D.tau_upper_bound(d, math.sqrt(t), lam, b)
        assert tub ** 2 >= tstar * (1 - 1e-9)
        if infeasible:
            assert tub ** 2 < t


def test_min_power_objective_reaches_the_target():
    inst = _inst(6, 4, 2, 2)
    sys_ = iot_models.prepare(inst)
    d = F.dl_data(sys_)
    tstar = bisection_dl(sys_, solver="ipopt").value
    from solvers_adapters.base import solve_model
    m = F.build_feasibility(d, t=0.5 * tstar, objective="power")
    r = solve_model(m, "ipopt", tol=1e-10)
    assert r.status is Status.OPTIMAL
    x = F.extract(m)
    eta = d.eta_from_u(d.power_feasible(x["u"], scale_up=False))
    assert sys_.downlink_sinr(eta).min() >= 0.5 * tstar * (1 - 1e-6)
    assert downlink_power_load(eta, sys_.gamma).max() < 1.0                # minimal power: no AP at full power


# ------------------------------------------------------------------------------------------------ bisection
@pytest.fixture(scope="module")
def small_runs():
    out = {}
    for case in SMALL:
        inst = _inst(*case)
        for est in ESTIMATORS:
            out[case, est] = {s: solve("bisection", inst, estimator=est, solver=s, rel_tol=1e-6) for s in ("scip",
                                                                                                        "ipopt")}
            out[case, est]["equal"] = solve("equal-power", inst, estimator=est)
            out[case, est]["inst"] = inst
    return out


@pytest.mark.parametrize("case", SMALL)
@pytest.mark.parametrize("est", ESTIMATORS)
def test_scip_and_ipopt_bisections_agree(small_runs, case, est):
    runs = small_runs[case, est]
    sc, ip = runs["scip"], runs["ipopt"]
    for r in (sc, ip):
        assert r.status is Status.OPTIMAL and r.certificate is Certificate.GLOBAL, r.message
        assert r.problem == "iot-downlink-maxmin" and r.method == "bisection"
        assert r.max_violation <= 1e-6
        lo, hi = r.solution["bracket"]
        assert lo <= r.objective * (1 + 1e-12) and hi >= r.objective and (hi - lo) <= 1e-6 * lo
        assert r.bound == pytest.approx(hi) and r.solution["estimator"] == est
    assert abs(sc.objective - ip.objective) <= 1e-5 * ip.objective
    # the two proved brackets overlap
    assert sc.solution["bracket"][0] <= ip.solution["bracket"][1] * (1 + 1e-9)
    assert ip.solution["bracket"][0] <= sc.solution["bracket"][1] * (1 + 1e-9)


@pytest.mark.parametrize("case", SMALL)
@pytest.mark.parametrize("est", ESTIMATORS)
def test_optimum_equalises_sinrs_and_uses_full_power(small_runs, case, est):
    runs = small_runs[case, est]
    sys_ = iot_models.prepare(runs["inst"], estimator=est)
    for s in ("scip", "ipopt"):
        r = runs[s]
        eta = np.asarray(r.solution["eta"])
        sinr = sys_.downlink_sinr(eta)
        assert (sinr.max() - sinr.min()) / sinr.min() <= 1e-4
        load = downlink_power_load(eta, sys_.gamma)
        assert load.max() <= 1 + 1e-6 and abs(load.max() - 1.0) <= 1e-4
        assert np.all(eta >= 0)
        assert r.objective > runs["equal"].objective                     # power control beats equal power


def test_equal_power_baseline(small_runs):
    r = small_runs[SMALL[0], "lmmse"]["equal"]
    assert r.status is Status.FEASIBLE and r.certificate is Certificate.NONE and r.method == "equal-power"
    sys_ = iot_models.prepare(small_runs[SMALL[0], "lmmse"]["inst"])
    np.testing.assert_allclose(np.asarray(r.solution["eta"]), 1.0 / sys_.gamma.sum(axis=1, keepdims=True)
                               * np.ones((1, sys_.K)))
    assert r.solution["objectives"]["max_ap_load"] == pytest.approx(1.0)


@pytest.mark.parametrize("case", TINY)
def test_exact_epigraph_agrees_with_bisection(case):
    inst = _inst(*case)
    ex = solve("exact", inst, time_limit=60)
    bi = solve("bisection", inst, solver="ipopt")
    assert ex.status is Status.OPTIMAL and ex.certificate is Certificate.GLOBAL, ex.message
    assert ex.method == "exact" and ex.max_violation <= 1e-6
    assert abs(ex.objective - bi.objective) <= 1e-5 * bi.objective
    assert ex.bound >= bi.solution["bracket"][0] * (1 - 1e-9)           # proved bounds are consistent
    assert bi.solution["bracket"][1] >= ex.objective * (1 - 1e-9)


def test_bisection_steps_and_outcome_fields():
    inst = _inst(8, 5, 3, 1)
    sys_ = iot_models.prepare(inst)
    auto = bisection_dl(sys_, solver="ipopt")
    plain = bisection_dl(sys_, solver="ipopt", step="bisection")
    assert auto.converged and plain.converged and auto.upper_proved and plain.upper_proved
    assert auto.iterations <= plain.iterations
    assert abs(auto.value - plain.value) <= 1e-6 * auto.value
    assert all(b[0] <= b[1] for b in auto.history)
    assert auto.trace == sorted(auto.trace)                               # t_lo never decreases
    assert {s["verdict"] for s in auto.records} <= {"feasible", "infeasible (proved)"}


def test_time_limit_returns_a_point():
    inst = _inst(8, 5, 3, 1)
    r = solve("bisection", inst, solver="ipopt", time_limit=1e-6)
    assert r.status is Status.LIMIT and r.certificate is Certificate.NONE
    assert r.objective is not None and r.max_violation <= 1e-6          # the equal-power witness
    r2 = solve("bisection", inst, solver="ipopt", max_solves=1)
    assert r2.status is Status.LIMIT and r2.iterations == 1 and r2.objective >= r.objective
    r3 = solve("bisection", inst, solver="ipopt", max_iter=2)             # Ipopt stops early: not a verdict
    assert r3.status is Status.LIMIT and r3.iterations == 1
    assert r3.objective >= r.objective and r3.max_violation <= 1e-6
    assert r3.solution["steps"][0]["verdict"] == "limit"


# ------------------------------------------------------------------------------------------------ bad input
def test_bad_input_raises_input_error():
    inst = _inst(6, 4, 2, 2)
    sys_ = iot_models.prepare(inst)
    with pytest.raises(InputError):
        bisection_dl(sys_, solver="gurobi")
    with pytest.raises(InputError):
        bisection_dl(sys_, rel_tol=0.0)
    with pytest.raises(InputError):
        bisection_dl(sys_, rel_tol=2.0)
    with pytest.raises(InputError):
        bisection_dl(sys_, step="newton")
    with pytest.raises(InputError):
        bisection_dl(sys_, max_solves=0)
    with pytest.raises(InputError):
        bisection_dl(inst)                                                # an Instance, not a prepared system
    with pytest.raises(InputError):
        run_bisection_dl(inst, estimator="mmse")
    with pytest.raises(InputError):
        run_equal_power_dl(inst, bogus=1)
    stats, beta, rho = _random_stats(4, 3, 2, 0, "lmmse")
    with pytest.raises(InputError):
        F.dl_data(stats=stats._replace(q=None), beta=beta, rho_d=rho)   # no per-AP statistics
    with pytest.raises(InputError):
        F.dl_data(stats=stats, beta=beta, rho_d=-1.0)
    with pytest.raises(InputError):
        F.dl_data(stats=stats, beta=np.full_like(beta, np.nan), rho_d=rho)
    d = F.dl_data(stats=stats, beta=beta, rho_d=rho)
    with pytest.raises(InputError):
        F.build_feasibility(d, t=-1.0)
    with pytest.raises(InputError):
        F.build_feasibility(d, objective="max")
    m = F.build_feasibility(d, t=1.0)
    with pytest.raises(InputError):
        F.set_target(m, float("nan"))
