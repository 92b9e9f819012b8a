"""Formulations of paper 001 (``unicast-multicast-sse``): the exact MINLP (31) certified by SCIP on tiny MR and ZF
instances, the §6.5 projection (a projection: idempotent, feasible, variational inequality), the SCA sub-problem
(a minorant tight at its point; Params moved without a rebuild) and the registered FormulationInfo."""
from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

import instances
from formulations.components.info import ProblemClass, Relation, formulation_info
from formulations.multicast import apg as FA
from formulations.multicast import minlp as FM
from formulations.multicast import sca as FS
from formulations.multicast.data import scaled
from models.multicast import system as S
from solvers_adapters import solve_model
from solvers_adapters.multicast.common import point
from solvers_adapters.result import Certificate, Status

PROBLEM = "unicast-multicast-sse"
SCIP = {"numerics/feastol": 1e-8, "propagating/obbt/freq": 1, "gap_tol": 1e-4}


def tiny(precoding: str, seed: int = 1, **kw):
    M, N, Ku = (2, 2, 1) if precoding == "mr" else (3, 4, 2)
    return instances.generate("multicast", seed=seed, aps=kw.pop("aps", M), antennas=N, unicast=kw.pop("unicast", Ku),
                              groups=1, group_size=2, area_km=0.25, precoding=precoding, **kw)


def test_formulations_registered():
    assert formulation_info(PROBLEM, "minlp").relation is Relation.EXACT
    assert formulation_info(PROBLEM, "minlp").problem_class is ProblemClass.MINLP
    assert formulation_info(PROBLEM, "apg-penalty").relation is Relation.APPROXIMATION
    assert formulation_info(PROBLEM, "sca-subproblem").problem_class is ProblemClass.QCP


@pytest.mark.parametrize("precoding", ["mr", "zf"])
def test_scip_certifies_tiny_minlp(precoding):
    inst = tiny(precoding)
    sys_ = S.prepare(inst, precoding=precoding)
    m = FM.build(sys_)
    r = solve_model(m, "scip", time_limit=60, **SCIP)
    assert r.status is Status.OPTIMAL and r.certificate is Certificate.GLOBAL
    ev = S.evaluate(inst, point(sys_, **FM.extract(m)), precoding=precoding)
    assert ev.feasible
    assert ev.objective == pytest.approx(r.solver_objective, rel=1e-5)
    # every feasible point is below the proven bound: equal power, all APs serving
    a = np.ones((sys_.M, sys_.S))
    eq = S.evaluate(inst, {"assoc": a, "eta": sys_.equal_power_eta(a)}, precoding=precoding).objective
    assert eq <= r.bound * (1 + 1e-6)


def test_minlp_qos_infeasible_is_proved():
    inst = tiny("zf", se_min_unicast_bps_hz=50.0)
    m = FM.build(S.prepare(inst, precoding="zf"))
    r = solve_model(m, "scip", time_limit=30, **SCIP)
    assert r.status is Status.INFEASIBLE


def test_minlp_params_are_mutable():
    inst = tiny("zf", se_min_unicast_bps_hz=0.1)
    m = FM.build(S.prepare(inst, precoding="zf"))
    FM.set_params(m, se_min=[0.3] * len(m.R), n_max=2)
    assert pyo.value(m.se_min[0]) == 0.3 and pyo.value(m.n_max) == 2
    with pytest.raises(ValueError):
        FM.build(S.prepare(inst, precoding="zf"), form="nope")


def test_sinr_bound_is_valid():
    """z_hi of the scaled data bounds the SINR at random feasible amplitudes (the MINLP's variable bounds)."""
    inst = tiny("mr", aps=5, unicast=2)
    sys_ = S.prepare(inst, precoding="mr")
    d = scaled(sys_)
    rng = np.random.default_rng(0)
    for _ in range(200):
        x = FA.project_theta(rng.random((sys_.M, sys_.S)) * 2, sys_.P)
        assert np.all(S.sinr(sys_, x) <= d.z_hi * (1 + 1e-9))


def _vi(proj, v, feasible_points):
    p = proj(v)
    return max(float(np.vdot(v - p, w - p)) for w in feasible_points)


def test_projection_is_a_projection():
    inst = tiny("mr", aps=6, unicast=3)
    sys_ = S.prepare(inst, precoding="mr")
    P = np.asarray(sys_.P)
    rng = np.random.default_rng(3)
    feas = [FA.project(rng.normal(size=(sys_.M, sys_.S)), rng.random((sys_.M, sys_.S)), P) for _ in range(50)]
    for _ in range(20):
        th, a = rng.normal(scale=2, size=(2, sys_.M, sys_.S))
        pt, pa = FA.project(th, a, P)
        assert np.all(pt >= 0) and np.all((pt ** 2).sum(axis=1) <= P * (1 + 1e-12))
        assert np.all((pa >= 0) & (pa <= 1))
        qt, qa = FA.project(pt, pa, P)
        np.testing.assert_allclose(qt, pt), np.testing.assert_allclose(qa, pa)
        # variational inequality <v − P(v), w − P(v)> ≤ 0 for every w in Z (KKT of the projection)
        assert _vi(lambda v: FA.project_theta(v, P), th, [f[0] for f in feas]) <= 1e-10
        assert _vi(lambda v: np.clip(v, 0, 1), a, [f[1] for f in feas]) <= 1e-10
    mask = rng.random((sys_.M, sys_.S)) < 0.5
    po = FA.project_power_only(rng.normal(size=(sys_.M, sys_.S)), mask, P)
    assert np.all(po[~mask] == 0) and np.all((po ** 2).sum(axis=1) <= P * (1 + 1e-12))


def test_sca_minorant_tight_and_below():
    inst = tiny("zf", aps=4, fronthaul_bps_hz=5.0)
    sys_ = S.prepare(inst, precoding="zf")
    m = FS.build(sys_)
    d = m._cfopt["data"]
    rng = np.random.default_rng(1)
    bar = FA.project_theta(rng.random((d.M, d.S)), np.ones(d.M))
    FS.linearise(m, bar, np.full((d.M, d.S), 0.5), lambda z: S.se_of_sinr(sys_, z), lam_b=1.0)
    assert pyo.value(m.lam_b) == 1.0                    # moved by set_params, not rebuilt

    def bound_at(xt):
        FS.set_point(m, xt, np.ones((d.M, d.S)))
        return np.array([pyo.value(m.con_rate[i].body) for i in range(d.R)])   # r − minorant (r = 0)

    se_bar = S.se(sys_, bar * d.sqrtP[:, None])
    np.testing.assert_allclose(-bound_at(bar), se_bar, rtol=1e-9, atol=1e-12)
    for _ in range(30):
        xt = FA.project_theta(rng.random((d.M, d.S)), np.ones(d.M))
        assert np.all(-bound_at(xt) <= S.se(sys_, xt * d.sqrtP[:, None]) + 1e-9)
