"""Uplink power control of paper 003 (spec iot_nonorthogonal.md §2.7, §2.8, §3.5, §3.6): max-min SINR (12) by
bisection + LP, the Krause fixed point and SCIP's epigraph; target SINR (13) by Algorithm 1 (soft removal / clip),
the linear system and the min-power LP (HiGHS, SCIP); small-cell max-min."""
from __future__ import annotations

import time

import numpy as np
import pytest

from formulations.iot import uplink as F
from instances import InputError
from instances.generators import rao2020
from experiments.results import run_method
from models.iot.system import prepare
from models.common.sinr import LinearFractional
from models.iot.small_cells import serving_aps, small_cell_downlink_system, small_cell_uplink_system
from solvers_adapters.iot import uplink as U
from solvers_adapters.result import Certificate, Status


def random_lf(K: int, seed: int) -> LinearFractional:
    """a spans 1e-1..1e3 (the range after noise normalisation), B ≥ 0 with strong cross terms, c > 0."""
    rng = np.random.default_rng(seed)
    a = 10 ** rng.uniform(-1, 3, K)
    B = rng.uniform(0, 1, (K, K)) * 10 ** rng.uniform(-2, 1, (K, K))
    c = rng.uniform(0.5, 2.0, K)
    return LinearFractional(a, B, c)


def maxmin(method: str, inst, **kw):
    return run_method("iot-uplink-maxmin", method, inst, **kw)


def target(method: str, inst, **kw):
    return run_method("iot-uplink-target", method, inst, **kw)


def removed_mask(out, K: int) -> np.ndarray:
    m = np.zeros(K, dtype=bool)
    m[out.extra["removed"]] = True
    return m


def spread(x) -> float:
    x = np.asarray(x)
    return float((x.max() - x.min()) / x.min())


INSTANCES = [dict(aps=20, users=8, seed=1, tau_p=4), dict(aps=15, users=10, seed=3, tau_p=5),
             dict(aps=12, users=6, seed=4, tau_p=3)]


@pytest.fixture(scope="module", params=range(len(INSTANCES)), ids=lambda i: "M{aps}-K{users}-s{seed}".format(
    **INSTANCES[i]))
def inst(request):
    return rao2020.generate(**INSTANCES[request.param])


@pytest.fixture(scope="module")
def inst0():
    return rao2020.generate(**INSTANCES[0])


# ------------------------------------------------------------------------------------------------------ max-min
@pytest.mark.parametrize("K,seed", [(5, 0), (12, 1), (30, 2)])
def test_bisection_equal_sinrs_and_matches_fixed_point(K, seed):
    lf = random_lf(K, seed)
    out = U.bisection_maxmin(lf, rel_tol=1e-6)
    fp = U.fixed_point_maxmin(lf, tol=1e-12)
    assert out.converged and fp.converged
    s = lf.sinr(out.point)
    assert spread(s) <= 1e-4
    assert out.point.max() == pytest.approx(1.0, abs=1e-12) and out.point.min() >= 0
    assert out.lo * (1 - 1e-9) <= out.value <= out.hi
    assert (out.hi - out.lo) <= 1e-6 * out.lo
    assert out.value == pytest.approx(fp.value, rel=1e-6)
    # the fixed point's value lies in the bisection's bracket (LP tolerance aside)
    assert out.lo * (1 - 1e-8) <= fp.value <= out.hi * (1 + 1e-8)
    assert spread(lf.sinr(fp.point)) <= 1e-9 and fp.point.max() == 1.0
    # unpacks as (t*, eta, n_lp, trace)
    t, eta, n, trace = out
    assert n == len(trace) == len(out.history) and t == out.value


def test_bisection_traces_monotone_and_deterministic():
    lf = random_lf(15, 7)
    a, b = U.bisection_maxmin(lf), U.bisection_maxmin(lf)
    assert np.array_equal(a.point, b.point) and a.trace == b.trace
    lo = np.array(a.trace)
    assert np.all(np.diff(lo) >= 0)
    br = np.array(a.history)
    assert np.all(np.diff(br[:, 1]) <= 0) and np.all(np.diff(br[:, 1] - br[:, 0]) < 0)
    fp = U.fixed_point_maxmin(lf)
    fb = np.array(fp.history)
    assert np.all(np.diff(fb[:, 0]) >= 0) and np.all(np.diff(fb[:, 1]) <= 0)
    assert np.all(fb[:, 0] <= fp.hi) and np.all(fb[:, 1] >= fp.lo)


def test_scaling_up_never_lowers_sinr():
    """Quasi-linearity: SINR_k(α η) ≥ SINR_k(η) for α ≥ 1 (c > 0), the reason the final η may be scaled to max 1."""
    lf = random_lf(10, 3)
    eta = np.random.default_rng(0).uniform(0.01, 0.5, 10)
    for alpha in (1.0, 1.5, 1 / eta.max()):
        assert np.all(lf.sinr(alpha * eta) >= lf.sinr(eta) * (1 - 1e-15))


def test_direct_and_pyomo_lp_give_same_verdicts():
    lf = random_lf(12, 4)
    t_star = U.fixed_point_maxmin(lf, tol=1e-12).value
    t_lo, t_hi = F.maxmin_bracket(lf)
    direct = U.LPFeasibility(lf, interface="direct")
    pyomo = U.LPFeasibility(lf, interface="pyomo")
    levels = [t_lo, 0.5 * t_star, t_star * (1 - 1e-4), t_star * (1 - 1e-6), t_star * (1 + 1e-6),
              t_star * (1 + 1e-4), 0.5 * (t_star + t_hi), t_hi]
    for t in levels:
        ok1, x1, _ = direct.test(t)
        ok2, x2, _ = pyomo.test(t)
        assert ok1 == ok2 == (t <= t_star), t
        if ok1:   # unique minimal powers: every row tight
            np.testing.assert_allclose(x1, x2, rtol=1e-7, atol=1e-12)
            np.testing.assert_allclose(lf.sinr(x1), t, rtol=1e-6)
    b1 = U.bisection_maxmin(lf, interface="direct")
    b2 = U.bisection_maxmin(lf, interface="pyomo")
    np.testing.assert_allclose(np.array(b1.history), np.array(b2.history), rtol=1e-12)


def test_feasibility_model_builds_fast_for_K_200():
    lf = random_lf(200, 5)
    t0 = time.perf_counter()
    m = F.build_maxmin_feasibility(lf)
    assert time.perf_counter() - t0 < 5.0
    assert len(m.con_sinr) == 200 and m._cfopt["problem_class"] == "LP" and m._cfopt["relation"] == "exact"
    out = U.bisection_maxmin(lf)        # direct HiGHS path
    assert out.converged and spread(lf.sinr(out.point)) <= 1e-4


def test_instance_bisection_fixed_point_and_scip_agree(inst):
    b = maxmin("bisection", inst, seed=11)
    assert b.status is Status.OPTIMAL and b.certificate is Certificate.GLOBAL
    assert b.problem == "iot-uplink-maxmin" and b.method == "bisection" and b.solver == "highs"
    assert b.solver_version and b.seed == 11 and "bracket" in b.message
    assert b.iterations == len(b.trace) > 0 and b.max_violation <= 1e-9
    assert b.bound >= b.objective and b.gap <= 2e-6
    eta = np.array(b.solution["eta"])
    assert eta.max() == pytest.approx(1.0) and spread(b.solution["sinr"]) <= 1e-4
    f = maxmin("fixed-point", inst)
    assert f.status is Status.OPTIMAL and f.certificate is Certificate.STATIONARY
    assert f.objective == pytest.approx(b.objective, rel=1e-6) and f.bound >= f.objective
    x = maxmin("exact", inst, time_limit=60)
    assert x.status is Status.OPTIMAL and x.certificate is Certificate.GLOBAL
    assert x.objective == pytest.approx(b.objective, rel=1e-5)
    full = maxmin("full-power", inst)
    assert full.status is Status.FEASIBLE and full.certificate is Certificate.NONE
    assert full.objective == pytest.approx(prepare(inst).ul.sinr(np.ones(inst.K)).min())
    assert full.objective <= b.objective


def test_projection_estimator_is_worse(inst0):
    lm = maxmin("bisection", inst0, estimator="lmmse")
    pr = maxmin("bisection", inst0, estimator="projection")
    assert pr.solution["estimator"] == "projection" and pr.status is Status.OPTIMAL
    assert pr.objective <= lm.objective * (1 + 1e-6)


def test_bisection_time_limit_gives_limit(inst0):
    r = maxmin("bisection", inst0, time_limit=1e-9)
    assert r.status is Status.LIMIT and r.certificate is Certificate.NONE
    assert r.objective == pytest.approx(prepare(inst0).ul.sinr(np.ones(inst0.K)).min())   # η = 1, t_lo witness


def test_bisection_with_scip_lps_matches_highs(inst0):
    h = maxmin("bisection", inst0)
    s = maxmin("bisection", inst0, solver="scip", interface="pyomo")
    assert s.status is Status.OPTIMAL and s.solver == "scip" and s.versions.get("scip")
    assert s.objective == pytest.approx(h.objective, rel=1e-6)


def test_lp_failure_keeps_point_and_bracket(inst0, monkeypatch):
    calls = {"n": 0}
    real = U.LPFeasibility.test

    def flaky(self, t, time_limit=None):
        calls["n"] += 1
        if calls["n"] == 4:
            raise U._LPFailure("simulated numerical trouble")
        return real(self, t, time_limit)

    monkeypatch.setattr(U.LPFeasibility, "test", flaky)
    r = maxmin("bisection", inst0)
    assert r.status is Status.FEASIBLE and r.certificate is Certificate.NONE and r.iterations == 3
    assert "LP failure" in r.message and r.objective is not None and r.bound >= r.objective


# ------------------------------------------------------------------------------------------------------- target
def _lp_eta(res):
    return np.array(res.solution["eta"])


def test_feasible_targets_all_methods_agree(inst):
    lf = prepare(inst).ul
    t_star = U.fixed_point_maxmin(lf).value
    tg = 0.5 * t_star * np.linspace(0.8, 1.2, inst.K)      # per-thing targets below t*
    ref, feasible, rho = U.min_power_linear_system(lf, tg)
    assert feasible and rho < 1
    np.testing.assert_allclose(lf.sinr(ref), tg, rtol=1e-10)
    for rule in ("soft-removal", "clip"):
        fp = U.target_fixed_point(lf, tg, rule=rule)
        assert fp.extra["converged"] and not removed_mask(fp, inst.K).any()
        np.testing.assert_allclose(fp.point["eta"], ref, rtol=1e-6)
    p = np.asarray(inst.p_ue_max_w)
    results = [target("fixed-point", inst, targets=tg), target("linear-system", inst, targets=tg),
               target("exact", inst, targets=tg), target("exact", inst, targets=tg, solver="highs")]
    want = float(p @ ref)
    for r in results:
        assert r.status is Status.OPTIMAL, (r.method, r.message)
        assert r.problem == "iot-uplink-target" and r.max_violation <= 1e-6
        np.testing.assert_allclose(_lp_eta(r), ref, rtol=1e-6)
        assert r.objective == pytest.approx(want, rel=1e-6)
    assert results[0].certificate is Certificate.STATIONARY
    assert results[1].certificate is Certificate.GLOBAL and results[2].certificate is Certificate.GLOBAL
    assert results[2].solver == "scip" and results[3].solver == "highs"


def test_infeasible_targets_detected(inst):
    lf = prepare(inst).ul
    tg = 1.5 * U.fixed_point_maxmin(lf).value
    _, feasible, _ = U.min_power_linear_system(lf, tg)
    assert not feasible
    soft = U.target_fixed_point(lf, tg, rule="soft-removal")
    clip = U.target_fixed_point(lf, tg, rule="clip")
    assert soft.extra["converged"] and clip.extra["converged"]
    soft_removed, clip_removed = removed_mask(soft, inst.K), removed_mask(clip, inst.K)
    soft_eta, clip_eta = soft.point["eta"], clip.point["eta"]
    soft_x = np.full(inst.K, tg) * lf.interference(soft_eta)          # x_k = t_k R_k(η) at the fixed point
    assert soft_removed.any() and clip_removed.any()
    # removed things: soft removal lowers their power to 1/x_k, clipping keeps them at full power
    np.testing.assert_allclose(soft_eta[soft_removed], 1 / soft_x[soft_removed], rtol=1e-8)
    assert np.all(clip_eta[clip_removed] == 1.0)
    # spec §3.6: soft removal uses less total power than clipping (held on every instance tried: ratio 0.71-0.80)
    p = np.asarray(inst.p_ue_max_w)
    assert p @ soft_eta < p @ clip_eta
    r = target("fixed-point", inst, targets=tg)
    assert r.status is Status.INFEASIBLE and r.objective is None
    assert r.solution["removed"] == [int(k) for k in np.flatnonzero(soft_removed)] and r.solution["removed"]
    assert "targets infeasible: things" in r.message and "soft-removed" in r.message
    rc = target("fixed-point", inst, targets=tg, rule="clip")
    assert rc.status is Status.INFEASIBLE and rc.solution["removed"]
    for r in (target("exact", inst, targets=tg), target("exact", inst, targets=tg, solver="highs"),
              target("linear-system", inst, targets=tg)):
        assert r.status is Status.INFEASIBLE and r.objective is None, (r.method, r.solver)


def test_target_from_instance_qos_and_clip_trace_monotone(inst0):
    lf = prepare(inst0).ul
    tg = 0.4 * U.fixed_point_maxmin(lf).value
    with_qos = inst0.replace(qos={"sinr_target": tg})
    r = target("fixed-point", with_qos)
    assert r.status is Status.OPTIMAL and r.solution["targets"] == pytest.approx([tg] * inst0.K)
    with pytest.raises(InputError) as e:
        U.run_fixed_point_target(inst0)                 # no targets anywhere
    assert e.value.field == "targets"
    # clipped iteration from η = 1 is monotone decreasing (standard interference function with I(1) ≤ 1 after
    # clipping), and runs are deterministic
    sums = [U.target_fixed_point(lf, tg, rule="clip", max_iter=n).point["eta"].sum() for n in range(1, 15)]
    assert np.all(np.diff(sums) <= 1e-15)
    a, b = U.target_fixed_point(lf, tg), U.target_fixed_point(lf, tg)
    assert a.trace == b.trace and np.array_equal(a.point["eta"], b.point["eta"])


# ---------------------------------------------------------------------------------------------------- bad input
def test_bad_input_names_the_field(inst0):
    lf = random_lf(4, 0)
    cases = [
        (lambda: U.target_fixed_point(lf, [-1.0, 1, 1, 1]), "targets"),
        (lambda: U.target_fixed_point(lf, [1.0, 1.0]), "targets"),
        (lambda: U.target_fixed_point(lf, 0.1, eta0=np.ones(3)), "eta0"),
        (lambda: U.target_fixed_point(lf, 0.1, rule="hard"), "rule"),
        (lambda: U.fixed_point_maxmin(lf, eta0=np.ones((2, 2))), "eta0"),
        (lambda: U.min_power_linear_system(lf, -0.5), "targets"),
        (lambda: U.bisection_maxmin(lf, rel_tol=0), "rel_tol"),
        (lambda: U.bisection_maxmin(lf, solver="cplex"), "solver"),
        (lambda: U.bisection_maxmin(LinearFractional(lf.a, lf.B[:3], lf.c)), "B"),
        (lambda: U.bisection_maxmin(LinearFractional(-lf.a, lf.B, lf.c)), "a"),
        (lambda: F.build_min_power(lf, [0.1, 0.1, np.nan, 0.1]), "targets"),
        (lambda: U.run_fixed_point_target(inst0, targets=-1.0), "targets"),
        (lambda: U.run_exact_target(inst0, targets=np.ones(inst0.K + 1)), "targets"),
        (lambda: U.run_bisection(inst0, estimator="mmse"), "estimator"),
        (lambda: U.run_full_power(inst0, bogus=1), "options"),
        (lambda: serving_aps(prepare(inst0), serving=np.zeros(inst0.K, dtype=int)), "serving"),
    ]
    for fn, field in cases:
        with pytest.raises(InputError) as e:
            fn()
        assert e.value.field == field


# --------------------------------------------------------------------------------------------------- small cells
@pytest.mark.parametrize("link", ["uplink", "downlink"])
def test_small_cell_maxmin_equalises(inst, link):
    sys_ = prepare(inst)
    lf = small_cell_uplink_system(sys_) if link == "uplink" else small_cell_downlink_system(sys_)
    assert lf.K == inst.K and np.all(lf.a > 0) and np.all(lf.B >= 0)
    out = U.small_cell_maxmin(lf)
    assert out.converged and spread(lf.sinr(out.point)) <= 1e-4 and out.point.max() == pytest.approx(1.0)
    assert out.value == pytest.approx(U.fixed_point_maxmin(lf).value, rel=1e-6)
    assert out.value >= lf.sinr(np.ones(inst.K)).min()


def test_small_cell_uses_system_estimator(inst0):
    lm, pr = prepare(inst0, estimator="lmmse"), prepare(inst0, estimator="projection")
    m = serving_aps(lm)
    assert len(set(m.tolist())) == inst0.K
    ul_lm, ul_pr = small_cell_uplink_system(lm), small_cell_uplink_system(pr)
    np.testing.assert_allclose(ul_lm.a, lm.rho_u * lm.gamma[m, np.arange(inst0.K)])
    assert np.all(ul_lm.a >= ul_pr.a * (1 - 1e-12))    # LMMSE estimates are at least as good
    dl = small_cell_downlink_system(lm, rho_d_sc=2 * lm.rho_d)
    dl1 = small_cell_downlink_system(lm)
    assert np.allclose(dl.a, 2 * dl1.a)
