"""The relaxed association NLP (formulations/uplink_ee/relaxed.py) equals the models/ evaluator."""
from __future__ import annotations

import time

import numpy as np
import pyomo.environ as pyo

from formulations.uplink_ee import relaxed as F
from models.common.estimation import assign_pilots, mmse_estimation
from models.common.power import CHEN2023, power_consumption
from models.uplink_ee.sinr import lsfd_optimal, mr_moments, se, sinr, sinr_terms

TAU_P, TAU_C, B, PP = 3, 200, 20e6, 0.1


def _setup(seed=0, M=6, K=7, A=4):
    rng = np.random.default_rng(seed)
    beta = 10 ** rng.uniform(-1.0, 2.5, size=(M, K))                # noise-normalised
    pilots = assign_pilots(K, TAU_P, rng, method="balanced")        # K > tau_p: co-pilot pairs exist
    p = rng.uniform(0.02, 0.1, size=K)
    est = mmse_estimation(beta, PP, TAU_P, pilots)
    mom = mr_moments(est.gamma, beta, pilots, A)
    a = lsfd_optimal(mom, p, np.ones((M, K)))
    return rng, beta, pilots, p, a, mom, A


def _set_d(model, d):
    M, K = d.shape
    for m in range(M):
        for k in range(K):
            model.d[m, k].set_value(float(d[m, k]))


def _rel(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    return np.max(np.abs(x - y) / np.maximum(np.abs(y), 1e-300))


def _values(model, name, K):
    return np.array([pyo.value(getattr(model, name)[k]) for k in range(K)])


def test_expressions_equal_numpy_evaluator_at_random_relaxed_d():
    rng, beta, pilots, p, a, mom, A = _setup()
    M, K = beta.shape
    model = F.build(beta, pilots, p, a, A, TAU_P, TAU_C, B, CHEN2023, p_pilot=PP)
    assert len(model.CP) > 0                                              # co-pilot terms are exercised
    for _ in range(3):
        d = rng.uniform(0.0, 1.0, size=(M, K))
        _set_d(model, d)
        t = sinr_terms(mom, p, a, d)
        s = sinr(mom, p, a, d)
        se_np = se(s, TAU_P, TAU_C)
        pb = power_consumption(p, d, se_np, A, TAU_P, TAU_C, B, CHEN2023, p_pilot=PP)
        assert _rel(_values(model, "sqrt_ds", K) ** 2, t.DS) < 1e-10
        assert _rel(_values(model, "interference", K), t.interference) < 1e-10
        assert _rel(_values(model, "sinr", K), s) < 1e-10
        assert _rel(_values(model, "se", K), se_np) < 1e-10
        assert _rel(pyo.value(model.sum_se), se_np.sum()) < 1e-10
        assert _rel(pyo.value(model.p_total), pb.total) < 1e-10
        assert _rel(pyo.value(model.ee), pb.ee_mbit_per_j) < 1e-10
        assert _rel(pyo.value(model.obj), pb.ee_mbit_per_j) < 1e-10
        out = F.extract(model)
        assert out["d"].shape == (M, K) and np.allclose(out["d"], d)
        assert _rel(out["ee_mbit_per_j"], pb.ee_mbit_per_j) < 1e-10


def test_parametric_objective_and_mutable_params():
    rng, beta, pilots, p, a, mom, A = _setup(1)
    M, K = beta.shape
    model = F.build(beta, pilots, p, a, A, TAU_P, TAU_C, B, CHEN2023, p_pilot=PP, objective="parametric",
                    lam=0.05, se_min_sum=3.0)
    d = rng.uniform(size=(M, K))
    _set_d(model, d)
    se_np = se(sinr(mom, p, a, d), TAU_P, TAU_C)
    pb = power_consumption(p, d, se_np, A, TAU_P, TAU_C, B, CHEN2023, p_pilot=PP)
    for lam in (0.05, 0.3):
        model.lam.set_value(lam)
        assert _rel(pyo.value(model.obj), B * se_np.sum() / 1e6 - lam * pb.total) < 1e-10
    assert model.obj.sense == pyo.maximize
    # constraints: one Σ_m d ≥ 1 per UE, the sum-SE floor active with its mutable value
    assert len(model.con_assoc) == K and model.con_sum_se.active
    assert pyo.value(model.con_sum_se.lower) == 3.0
    model.se_min_sum.set_value(5.5)
    assert pyo.value(model.con_sum_se.lower) == 5.5
    assert all(v.lb == 0.0 and v.ub == 1.0 for v in model.d.values())
    assert len(model.d) == M * K
    # without a floor the constraint exists but is inactive
    m2 = F.build(beta, pilots, p, a, A, TAU_P, TAU_C, B, CHEN2023, p_pilot=PP)
    assert not m2.con_sum_se.active


def test_update_refreshes_powers_and_lsfd_weights():
    rng, beta, pilots, p, a, mom, A = _setup(2)
    M, K = beta.shape
    model = F.build(beta, pilots, p, a, A, TAU_P, TAU_C, B, CHEN2023, p_pilot=PP)
    p2 = rng.uniform(0.01, 0.1, K)
    a2 = rng.uniform(0.1, 1.0, (M, K))
    F.update(model, p=p2, a=a2)
    d = rng.uniform(size=(M, K))
    _set_d(model, d)
    s = sinr(mom, p2, a2, d)
    pb = power_consumption(p2, d, se(s, TAU_P, TAU_C), A, TAU_P, TAU_C, B, CHEN2023, p_pilot=PP)
    assert _rel(_values(model, "sinr", K), s) < 1e-10
    assert _rel(pyo.value(model.p_total), pb.total) < 1e-10


def test_fixed_ap_activity_and_prelog_override():
    rng, beta, pilots, p, a, mom, A = _setup(3)
    M, K = beta.shape
    x = np.ones(M)
    x[[1, 4]] = 0.0
    model = F.build(beta, pilots, p, a, A, TAU_P, TAU_C, B, CHEN2023, p_pilot=PP, ap_active=x, prelog=0.5)
    assert all(model.d[1, k].fixed and model.d[1, k].value == 0.0 for k in range(K))
    d = rng.uniform(size=(M, K)) * x[:, None]
    _set_d(model, d)
    se_np = se(sinr(mom, p, a, d), TAU_P, TAU_C, prelog=0.5)
    pb = power_consumption(p, d, se_np, A, TAU_P, TAU_C, B, CHEN2023, p_pilot=PP, all_aps_active=False)
    assert _rel(_values(model, "se", K), se_np) < 1e-10
    assert _rel(pyo.value(model.p_total), pb.total) < 1e-10


def test_build_full_size_is_fast():
    rng = np.random.default_rng(11)
    M, K, tau_p = 100, 50, 10
    beta = 10 ** rng.uniform(-1.0, 3.0, size=(M, K))
    pilots = assign_pilots(K, tau_p, rng, method="balanced")
    p = np.full(K, 0.1)
    est = mmse_estimation(beta, PP, tau_p, pilots)
    a = lsfd_optimal(mr_moments(est.gamma, beta, pilots, 4), p, np.ones((M, K)))
    t0 = time.perf_counter()
    model = F.build(beta, pilots, p, a, 4, tau_p, TAU_C, B, CHEN2023, p_pilot=PP)
    elapsed = time.perf_counter() - t0
    assert len(model.d) == 5000
    assert elapsed < 10.0, f"build took {elapsed:.2f} s"
    assert np.isfinite(pyo.value(model.obj))
