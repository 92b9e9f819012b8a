"""Paper 000's Algorithm 1 (solvers_adapters/uplink_ee/ao_qt.py) and its sub-problems (formulations/uplink_ee/qt.py)."""
from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

import instances
from formulations.uplink_ee import qt as F
from models.uplink_ee.system import prepare
from models.uplink_ee.sinr import sinr_terms
from experiments.results import run_method
from solvers_adapters.uplink_ee.ao_qt import (ASSOC_INITS, POWER_INITS, improve_association, initial_association,
                                    initial_power, max_sum_se)
from solvers_adapters.base import solve_model


# the runners return an Outcome; results come through the registry (re-scored by experiments.results.make_result)
def run_ao_qt(inst, **kw):
    return run_method("uplink-ee", "ao-qt", inst, **kw)


def run_all_serve_all(inst, **kw):
    return run_method("uplink-ee", "all-serve-all", inst, **kw)


def run_lsfc95(inst, **kw):
    return run_method("uplink-ee", "lsfc-95", inst, **kw)


@pytest.fixture(scope="module")
def moderate():
    """M = 20 APs, K = 10 UEs, A = 4, τ_p = 5 (pilot reuse: co-pilot pairs exist)."""
    inst = instances.generate("ngo2017", seed=4, aps=20, users=10, antennas=4, tau_p=5)
    return inst, max_sum_se(inst)


@pytest.fixture(scope="module")
def tiny():
    inst = instances.generate("ngo2017", seed=5, aps=6, users=4, antennas=2, tau_p=2)
    return inst, max_sum_se(inst)


def _check_feasible(inst, r, qos):
    data = prepare(inst, se_qos=qos)
    eta, D = np.array(r.solution["eta"]), np.array(r.solution["assoc"])
    ev = data.evaluate(eta, D)
    assert r.max_violation is not None and r.max_violation <= 1e-6
    assert np.all((D == 0) | (D == 1)) and np.all(D.sum(axis=0) >= 1)
    assert np.all((eta >= 0) & (eta <= 1))
    assert ev.objectives["sum_se_bps_hz"] >= qos * (1 - 1e-9)
    assert r.objective == pytest.approx(ev.objective, rel=1e-12)
    return data, eta, D


# ------------------------------------------------------------------------------------------------ sub-problems
def test_qt_bound_16_holds_and_is_tight_at_17(moderate):
    inst, _ = moderate
    data = prepare(inst, se_qos=0.0)
    rng = np.random.default_rng(0)
    for _ in range(3):
        eta = rng.uniform(0.05, 1.0, data.K)
        D = (rng.random((data.M, data.K)) < 0.4).astype(float)
        D[0] = 1.0
        co = F.power_coefficients(data, eta, D)
        # the coefficients are the physics of models.uplink_ee.sinr (a∘D weights, normalised per UE)
        terms = sinr_terms(data.moments, eta * data.p_max, co.a * co.scale[None, :], D)
        q = np.sqrt(eta)
        assert np.allclose(co.G * q, np.sqrt(terms.DS), rtol=1e-10)
        assert np.allclose(co.C @ (q * q) + co.N, terms.interference, rtol=1e-10)
        assert np.allclose(terms.interference, 1.0)                      # normalised at the current point
        gamma = terms.DS / terms.interference
        assert np.allclose(co.gamma, gamma, rtol=1e-10)
        sqrt_ds, interf = co.G * q, co.C @ (q * q) + co.N
        for z in rng.normal(size=(20, data.K)):                           # (16) for any real z
            assert np.all(F.qt_bound(z, sqrt_ds, interf) <= gamma + 1e-12)
        assert np.allclose(F.qt_bound(co.z, sqrt_ds, interf), gamma, rtol=1e-12, atol=1e-14)   # tight at z* (17)
        assert np.allclose(co.z, F.qt_z(sqrt_ds, interf))
        # association coefficients: same SINR with weights lsfd(η, 1) at D
        ca = F.assoc_coefficients(data, eta, D)
        t2 = sinr_terms(data.moments, eta * data.p_max, ca.a * ca.scale[None, :], D)
        assert np.allclose(t2.interference, 1.0) and np.allclose(ca.gamma, t2.DS / t2.interference, rtol=1e-10)
        # b* of (21) makes (20) tight
        assert 2 * co.b * np.sqrt(co.u) - co.b ** 2 * co.v == pytest.approx(co.u / co.v, rel=1e-12)


def test_pyomo_expressions_equal_numpy(tiny):
    inst, _ = tiny
    data = prepare(inst, se_qos=0.0)
    rng = np.random.default_rng(1)
    eta = rng.uniform(0.2, 1.0, data.K)
    D = np.ones((data.M, data.K))
    D[rng.random(D.shape) < 0.3] = 0
    D[0] = 1
    mp = F.build_power(data)
    co = F.update_power(mp, data, eta, D)
    assert np.allclose([pyo.value(mp.qt_rhs[t]) for t in range(data.K)], co.gamma, rtol=1e-10)
    assert pyo.value(mp.obj) == pytest.approx(co.u / co.v, rel=1e-10)
    ma = F.build_assoc(data)
    assert len(ma.P) > 0                                                   # co-pilot pairs exercised
    ca = F.update_assoc(ma, data, eta, D)
    assert np.allclose([pyo.value(ma.qt_rhs[t]) for t in range(data.K)], ca.gamma, rtol=1e-10)
    assert np.allclose([pyo.value(ma.interference[t]) for t in range(data.K)], 1.0)
    assert pyo.value(ma.obj) == pytest.approx(ca.u / ca.v, rel=1e-10)


def test_power_block_23_is_monotone(moderate):
    inst, _ = moderate
    qos = 5.0
    data = prepare(inst, se_qos=qos)
    D = initial_association(data, "lsfc95")
    eta = np.ones(data.K)
    model = F.build_power(data)
    ee = data.evaluate(eta, D).objective
    for _ in range(3):
        F.update_power(model, data, eta, D)
        start = pyo.value(model.obj)
        assert start == pytest.approx(data.ee_static(eta, D, data.se(eta, D).sum()), rel=1e-9)
        r = solve_model(model, "ipopt", tol=1e-10)
        assert r.status.value == "optimal"
        out = F.extract_power(model)
        assert out["objective"] >= start - 1e-9                            # f1 never below the current point
        se_new = data.se(out["eta"], D).sum()
        assert se_new >= out["sum_se"] - 1e-7 and se_new >= qos           # Γ ≥ Γ* (Lemma 1): (18b) carries over
        assert data.ee_static(out["eta"], D, se_new) >= out["objective"] - 1e-9   # Lemma 2 chain
        ee_new = data.evaluate(out["eta"], D).objective
        assert ee_new >= ee - 1e-9                                         # true EE (11a) non-decreasing
        eta, ee = out["eta"], ee_new


def test_assoc_block_24_improves_the_surrogate(moderate):
    inst, _ = moderate
    data = prepare(inst, se_qos=0.0)
    eta = np.full(data.K, 0.7)
    D = initial_association(data, "top10-per-ue")
    model = F.build_assoc(data)
    F.update_assoc(model, data, eta, D)
    start = pyo.value(model.obj)
    r = solve_model(model, "ipopt")
    assert r.status.value == "optimal"
    out = F.extract_assoc(model)
    assert out["objective"] >= start - 1e-9
    assert np.all(out["d"] >= 0) and np.all(out["d"] <= 1) and np.all(out["d"].sum(axis=0) >= 1 - 1e-7)


def test_local_search_is_exact_and_locally_optimal(tiny):
    inst, _ = tiny
    data = prepare(inst, se_qos=0.0)
    rng = np.random.default_rng(3)
    eta = rng.uniform(0.1, 1.0, data.K)
    D = initial_association(data, "random", rng)
    imp = improve_association(data, eta, D)
    assert imp.ee >= data.evaluate(eta, D).objective - 1e-12
    for m in range(data.M):                                                # no single flip improves
        for t in range(data.K):
            D2 = imp.assoc.copy()
            D2[m, t] = 1 - D2[m, t]
            if D2[:, t].sum() >= 1:
                assert data.evaluate(eta, D2).objective <= imp.ee * (1 + 1e-9)


# ------------------------------------------------------------------------------------------------ Algorithm 1
def test_initialisations(moderate):
    inst, _ = moderate
    data = prepare(inst)
    M, K = data.M, data.K
    b = data.beta_n
    assert set(ASSOC_INITS) == {"top10-per-ue", "top10-per-ap", "all", "lsfc95", "random"}
    assert set(POWER_INITS) == {"full", "half", "low", "random", "inverse-gain"}
    D = initial_association(data, "top10-per-ue")
    assert np.all(D.sum(axis=0) == min(10, M))
    assert np.all(np.where(D > 0, b, np.inf).min(axis=0) >= np.where(D > 0, -np.inf, b).max(axis=0))  # the top 10
    D = initial_association(data, "top10-per-ap")
    assert np.all(D.sum(axis=1) >= min(10, K)) and np.all(D.sum(axis=0) >= 1)
    assert np.all(np.where(D > 0, b, np.inf).min(axis=1)[D.sum(axis=1) == min(10, K)]
                  >= np.where(D > 0, -np.inf, b).max(axis=1)[D.sum(axis=1) == min(10, K)])
    D = initial_association(data, "lsfc95")
    assert np.array_equal(D > 0, b >= 0.95 * b.max(axis=0))
    assert np.all(initial_association(data, "all") == 1)
    D = initial_association(data, "random", np.random.default_rng(0))
    assert np.all(D.sum(axis=0) >= 1)
    eta = initial_power(data, "inverse-gain")
    assert eta.max() == pytest.approx(1.0) and np.argmax(eta) == np.argmin(b.max(axis=0))
    assert np.all(initial_power(data, "low") == 0.1)
    e = initial_power(data, "random", np.random.default_rng(0))
    assert np.all((e >= 0.1) & (e <= 1))


@pytest.mark.parametrize("frac", [0.5, 0.9, 0.97])
def test_ao_qt_feasible_converges_and_traces_true_ee(moderate, frac):
    inst, smax = moderate
    qos = frac * smax.sum_se
    seen = []
    r = run_ao_qt(inst, se_qos=qos, progress=lambda i, ee, se: seen.append((i, ee, se)))
    assert r.status.value == "feasible" and r.certificate.value == "stationary", r.message
    assert r.method == "ao-qt" and r.formulation == "qt-ao" and r.solver == "cfopt"
    assert "ipopt" in r.versions
    _check_feasible(inst, r, qos)
    assert 1 <= r.iterations <= 10
    assert len(r.trace) == r.iterations
    assert [s[1] for s in seen] == r.trace and [s[0] for s in seen] == list(range(1, r.iterations + 1))
    hist = r.solution["history"]
    assert [h["ee"] for h in hist] == r.trace and all(h["sum_se"] >= qos * (1 - 1e-9) for h in hist)
    assert r.objective == pytest.approx(max([r.solution["initial_ee"]] + r.trace), rel=1e-12)
    assert r.objective >= r.solution["initial_ee"] - 1e-12


def test_ee_falls_as_qos_rises(moderate):
    inst, smax = moderate
    ees = [run_ao_qt(inst, se_qos=f * smax.sum_se).objective for f in (0.3, 0.8, 0.9, 0.97, 0.995)]
    assert all(b <= a * (1 + 1e-3) for a, b in zip(ees, ees[1:])), ees
    assert ees[-1] < ees[0]


@pytest.mark.parametrize("frac", [0.5, 0.6])
def test_final_ee_robust_to_the_five_initialisations(moderate, frac):
    """Section V-C (Figs. 8, 9): the final EE varies by < 3 % across the five association initialisations (full
    power) and across the five power initialisations (association "top10-per-ue", which most power levels keep
    feasible; an infeasible start falls back to D = 1, η = 1, so it would not test the initialisation)."""
    inst, smax = moderate
    qos = frac * smax.sum_se
    runs_a = [run_ao_qt(inst, se_qos=qos, assoc_init=a, seed=11) for a in ASSOC_INITS]
    runs_p = [run_ao_qt(inst, se_qos=qos, assoc_init="top10-per-ue", power_init=p, seed=11) for p in POWER_INITS]
    for runs in (runs_a, runs_p):
        assert sum(r.solution["start"] == "initial" for r in runs) >= 4      # the starts really differ
        ees = [r.objective for r in runs]
        assert all(r.status.value == "feasible" for r in runs)
        assert (max(ees) - min(ees)) / max(ees) < 0.03, ees


def test_seed_reproduces_random_initialisation(moderate):
    inst, smax = moderate
    qos = 0.8 * smax.sum_se
    r1 = run_ao_qt(inst, se_qos=qos, assoc_init="random", power_init="random", seed=7)
    r2 = run_ao_qt(inst, se_qos=qos, assoc_init="random", power_init="random", seed=7)
    assert r1.seed == 7 and r1.trace == r2.trace and r1.solution["assoc"] == r2.solution["assoc"]
    assert r1.solution["eta"] == r2.solution["eta"] and r1.solution["initial_ee"] == r2.solution["initial_ee"]
    r3 = run_ao_qt(inst, se_qos=qos, assoc_init="random", power_init="random")      # seed drawn and recorded
    assert isinstance(r3.seed, int)
    r4 = run_ao_qt(inst, se_qos=qos, assoc_init="random", power_init="random", seed=r3.seed)
    assert r4.trace == r3.trace and r4.solution["initial_ee"] == r3.solution["initial_ee"]


def test_infeasible_above_max_sum_se_and_limits(tiny):
    inst, smax = tiny
    r = run_ao_qt(inst, se_qos=1.05 * smax.sum_se)
    assert r.status.value == "infeasible" and r.certificate.value == "none"
    assert r.objective is None and "not a proof" in r.message
    r = run_ao_qt(inst, se_qos=0.5 * smax.sum_se, max_iter=1, tol=0.0)
    assert r.status.value == "limit" and r.iterations == 1 and r.objective is not None
    assert r.max_violation <= 1e-6
    assert '"status": "limit"' in r.to_json()                              # JSON-serialisable, history included


def test_plain_recovery_without_local_search(tiny):
    """local_search=False: Algorithm 1 with recover_binary alone (its own pruning)."""
    inst, smax = tiny
    qos = 0.7 * smax.sum_se
    r = run_ao_qt(inst, se_qos=qos, local_search=False)
    assert r.status.value == "feasible", r.message
    _check_feasible(inst, r, qos)
    assert all("local_search" not in h for h in r.solution["history"])


def test_infeasible_start_falls_back(moderate):
    inst, smax = moderate
    qos = 0.95 * smax.sum_se
    data = prepare(inst, se_qos=qos)
    assert data.se(np.full(data.K, 0.1), initial_association(data, "lsfc95")).sum() < qos
    r = run_ao_qt(inst, se_qos=qos, power_init="low")
    assert r.status.value == "feasible" and r.solution["start"].startswith("fallback")
    _check_feasible(inst, r, qos)


def test_max_sum_se(moderate):
    inst, smax = moderate
    data = prepare(inst, se_qos=0.0)
    ones = np.ones((data.M, data.K))
    assert smax.converged and np.all(smax.assoc == 1)
    assert smax.sum_se >= data.se(np.ones(data.K), ones).sum() - 1e-9
    assert smax.sum_se == pytest.approx(data.se(smax.eta, ones).sum(), rel=1e-12)
    assert all(b >= a for a, b in zip(smax.trace, smax.trace[1:]))


def test_baselines(moderate):
    inst, smax = moderate
    data = prepare(inst, se_qos=0.0)
    lsfc_se = data.se(np.ones(data.K), initial_association(data, "lsfc95")).sum()
    low, high = 0.9 * lsfc_se, min(1.05 * lsfc_se, 0.99 * smax.sum_se)
    assert high > lsfc_se
    r = run_lsfc95(inst, se_qos=low)
    assert r.status.value == "feasible" and r.certificate.value == "none" and r.method == "lsfc-95"
    d2, eta, D = _check_feasible(inst, r, low)
    assert np.all(eta == 1) and np.array_equal(D, initial_association(d2, "lsfc95"))
    r = run_lsfc95(inst, se_qos=high)
    assert r.status.value == "infeasible" and r.certificate.value == "none" and r.objective is None and r.message
    for qos in (low, high):
        a = run_all_serve_all(inst, se_qos=qos)
        assert a.method == "all-serve-all" and a.status.value == "feasible", a.message
        _, _, D = _check_feasible(inst, a, qos)
        assert np.all(D == 1)
        assert run_ao_qt(inst, se_qos=qos).objective > a.objective          # association matters
