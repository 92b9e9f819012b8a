"""Hand-computable and property checks of the uplink-ee models (paper 000): PFZF grouping (models/uplink_ee/pfzf.py), the
PFZF SINR by hand, the eq. (10) power model and the evaluator of models/uplink_ee/system.py (EE, pre-log, violations of
(11b)–(11e)), and LSFD properties. The Monte Carlo proof of the PFZF moments is tests/test_pfzf_montecarlo.py."""
from __future__ import annotations

import numpy as np
import pytest

import instances
from instances.instance import Instance
from models.common.estimation import mmse_estimation
from models.uplink_ee.pfzf import DEFAULT_DELTA, pfzf_grouping, pfzf_moments
from models.common.power import seed_power_breakdown, seed_power_terms
from models.uplink_ee.system import prepare
from models.uplink_ee.sinr import sinr, sinr_terms


def _strong(beta_row, pilots, A, delta, tau_p=None):
    beta = np.atleast_2d(np.asarray(beta_row, float))
    tau_p = int(np.max(pilots)) + 1 if tau_p is None else tau_p
    g = pfzf_grouping(beta, pilots, tau_p, A, delta=delta)
    return g, np.flatnonzero(g.strong[0]).tolist()


# ----------------------------------------------------------------------------------------------- grouping
def test_grouping_share_rule():
    # shares 0.5, 0.3, 0.1, 0.1 (orthogonal pilots): running 0.5, 0.8, 0.9, 1.0
    g, s = _strong([5.0, 3.0, 1.0, 1.0], [0, 1, 2, 3], 8, 0.85)
    assert s == [0, 1] and g.n_strong_pilots.tolist() == [2]
    assert g.strong_pilots[0].tolist() == [True, True, False, False]
    # the running share *including* the UE must be ≤ δ: equality selects, just above does not
    assert _strong([5.0, 3.0, 2.0], [0, 1, 2], 8, 0.8)[1] == [0, 1]
    assert _strong([5.0, 3.0, 2.0], [0, 1, 2], 8, 0.79)[1] == [0]
    assert _strong([5.0, 3.0, 2.0], [0, 1, 2], 8, 1.0)[1] == [0, 1, 2]
    # order does not matter, only the gains: UE 2 is the strongest here
    assert _strong([1.0, 3.0, 5.0, 1.0], [0, 1, 2, 3], 8, 0.85)[1] == [1, 2]
    # the strongest UE is always selected, even when its share alone exceeds δ
    g, s = _strong([9.0, 1.0], [0, 1], 4, 0.5)
    assert s == [0] and g.n_strong_pilots.tolist() == [1]
    # the walk stops at the first UE that crosses δ (cumulative shares only grow)
    assert _strong([4.0, 4.0, 1.0, 1.0], [0, 1, 2, 3], 8, 0.5)[1] == [0]
    # a zero-gain UE is never strong, even with δ = 1
    assert _strong([3.0, 0.0, 1.0], [0, 1, 2], 8, 1.0)[1] == [0, 2]


def test_grouping_copilot_block_and_pilot_count():
    # UE 3 is weak by the share rule but shares pilot 0 with the strongest UE: added as a block
    g, s = _strong([5.0, 3.0, 1.0, 1.0], [0, 1, 2, 0], 8, 0.85)
    assert s == [0, 1, 3]
    assert g.n_strong_pilots.tolist() == [2]                       # L_S counts distinct pilots, not UEs
    assert g.strong_pilots[0].tolist() == [True, True, False]
    # two selected UEs on the same pilot use one pilot dimension
    g, s = _strong([5.0, 3.0, 1.0, 1.0], [1, 1, 0, 2], 8, 0.85)
    assert s == [0, 1] and g.n_strong_pilots.tolist() == [1]


def test_grouping_caps_strong_pilots_at_A_minus_1():
    beta = [4.0, 3.0, 2.0, 1.0]
    # δ = 1 selects everyone (4 pilots); A = 3 admits the pilots of the two strongest UEs only
    g, s = _strong(beta, [0, 1, 2, 3], 3, 1.0)
    assert s == [0, 1] and g.n_strong_pilots.tolist() == [2]
    # A = 2 admits one pilot: the strongest UE's, with its co-pilot UE 2
    g, s = _strong(beta, [0, 1, 0, 2], 2, 1.0)
    assert s == [0, 2] and g.n_strong_pilots.tolist() == [1]
    # pilots are admitted in the order of their first selected UE, not by pilot index
    g, s = _strong(beta, [3, 2, 1, 0], 3, 1.0)
    assert s == [0, 1] and g.strong_pilots[0].tolist() == [False, False, True, True]
    # A = 1: no spatial degree of freedom to null anything, every UE is weak (MR)
    g, s = _strong(beta, [0, 1, 2, 3], 1, 1.0)
    assert s == [] and g.n_strong_pilots.tolist() == [0]


def test_grouping_is_per_ap():
    beta = np.array([[5.0, 3.0, 1.0, 1.0],
                     [1.0, 1.2, 0.8, 7.0],
                     [4.0, 3.0, 2.0, 1.0]])
    g = pfzf_grouping(beta, [0, 1, 2, 3], 4, [8, 8, 1], delta=0.85)
    assert g.strong.tolist() == [[True, True, False, False], [False, True, False, True], [False] * 4]
    assert g.n_strong_pilots.tolist() == [2, 2, 0]
    assert DEFAULT_DELTA == 0.85


# ----------------------------------------------------------------------------------------------- SINR by hand
def _instance(beta_n, *, antennas, tau_p, pilots, p_max=0.1, p_pilot=0.1, tau_c=200, bandwidth=20e6,
              power_model=None, qos=None):
    beta_n = np.asarray(beta_n, float)
    M, K = beta_n.shape
    noise = 1e-13
    return Instance.create(name=f"hand-M{M}-K{K}", ap_pos=np.arange(2 * M, dtype=float).reshape(M, 2),
                           ue_pos=np.arange(2 * K, dtype=float).reshape(K, 2) + 0.5, beta=beta_n * noise,
                           noise_w=noise, p_ue_max_w=p_max, p_pilot_w=p_pilot, p_ap_max_w=0.2, tau_p=tau_p,
                           tau_c=tau_c, bandwidth_hz=bandwidth, antennas=antennas, power_model=power_model,
                           qos=qos, pilots=pilots)


@pytest.mark.parametrize("A", [1, 2, 8])
def test_single_ap_single_ue_sinr_by_hand(A):
    beta, pp, p, tau_p = 40.0, 0.1, 0.07, 2
    inst = _instance([[beta]], antennas=A, tau_p=tau_p, pilots=[1], p_max=p, p_pilot=pp)
    gamma = tau_p * pp * beta ** 2 / (tau_p * pp * beta + 1.0)
    # MR: DS = p A²γ², BU = p Aγβ, N = Aγ  ->  SINR = p A γ / (p β + 1)
    mr = p * A * gamma / (p * beta + 1.0)
    # ZF (strong, L_S = 1, κ = 1/(A − 1)): DS = p γ², BU = p γ(β − γ)κ, N = γκ -> SINR = p γ (A − 1)/(p(β−γ) + 1)
    zf = p * gamma * (A - 1) / (p * (beta - gamma) + 1.0)
    eta, d = np.ones(1), np.ones((1, 1))
    assert prepare(inst, combining="mr").sinr(eta, d)[0] == pytest.approx(mr, rel=1e-12)
    pf = prepare(inst, combining="pfzf").sinr(eta, d)[0]
    if A == 1:
        assert prepare(inst).grouping.strong.tolist() == [[False]]
        assert pf == pytest.approx(mr, rel=1e-12)                 # no DoF to null: PFZF is MR
    else:
        assert prepare(inst).grouping.strong.tolist() == [[True]]
        assert pf == pytest.approx(zf, rel=1e-12)
        assert pf != pytest.approx(mr, rel=1e-3)


def test_pfzf_sinr_with_weak_interferer_by_hand():
    """One AP, A = 4, orthogonal pilots, β = [10, 5, 1], δ = 0.95: UEs 0, 1 strong (L_S = 2, κ = 1/2), UE 2 weak.
    The strong UE's ZF leaks (β − γ) of the strong interferer and the *whole* β of the weak one."""
    beta = np.array([10.0, 5.0, 1.0])
    pp, tau_p, A = 0.2, 3, 4
    p = np.array([0.1, 0.05, 0.08])
    beta_n = beta[None, :]
    pilots = np.array([0, 1, 2])
    grp = pfzf_grouping(beta_n, pilots, tau_p, A, delta=0.95)
    assert grp.strong[0].tolist() == [True, True, False]
    est = mmse_estimation(beta_n, pp, tau_p, pilots)
    gam = tau_p * pp * beta ** 2 / (tau_p * pp * beta + 1.0)
    kappa = 1.0 / (A - 2)
    mom = pfzf_moments(est, beta_n, pilots, A, grp)
    got = sinr(mom, p, np.ones((1, 3)), np.ones((1, 3)))
    leak = p[0] * (beta[0] - gam[0]) + p[1] * (beta[1] - gam[1]) + p[2] * beta[2]
    want0 = p[0] * gam[0] ** 2 / (kappa * gam[0] * leak + kappa * gam[0])
    want2 = p[2] * A * gam[2] / (p @ beta + 1.0)                          # MR
    assert got[0] == pytest.approx(want0, rel=1e-12)
    assert got[2] == pytest.approx(want2, rel=1e-12)
    terms = sinr_terms(mom, p, np.ones((1, 3)), np.ones((1, 3)))
    assert terms.NI[0] == pytest.approx(kappa * gam[0] * (p[1] * (beta[1] - gam[1]) + p[2] * beta[2]), rel=1e-12)
    assert terms.PC[0] == 0.0
    # the seed's printed (8) would leak β − γ for UE 2 as well
    seed = pfzf_moments(est, beta_n, pilots, A, grp, leakage="seed")
    assert seed.nu[0, 0, 2] == pytest.approx(kappa * gam[0] * (beta[2] - gam[2]), rel=1e-12)
    assert mom.nu[0, 0, 2] == pytest.approx(kappa * gam[0] * beta[2], rel=1e-12)


def test_pfzf_copilot_means_by_hand():
    """Co-pilot UEs 0, 1 (pilot 0), both strong at AP 0 (ZF) and both weak at AP 1 (A = 1 → MR):
    μ_ZF = γ_t c_i / c_t, μ_MR = A √(γ_t γ_i); PC = p_1 [(Σ_m μ_m01)² + Σ_m ν_m01]."""
    beta_n = np.array([[8.0, 2.0], [3.0, 6.0]])
    pp = np.array([0.1, 0.3])
    pilots = np.array([0, 0])
    A = np.array([4, 1])
    grp = pfzf_grouping(beta_n, pilots, 1, A)
    assert grp.strong.tolist() == [[True, True], [False, False]]
    est = mmse_estimation(beta_n, pp, 1, pilots)
    mom = pfzf_moments(est, beta_n, pilots, A, grp)
    theta = pp @ beta_n.T + 1.0                                          # τ_p = 1
    c = np.sqrt(pp)[None, :] * beta_n / theta[:, None]
    g = c ** 2 * theta[:, None]
    assert mom.mu[0, 0, 1] == pytest.approx(g[0, 0] * c[0, 1] / c[0, 0], rel=1e-12)
    assert mom.mu[0, 0, 0] == pytest.approx(g[0, 0], rel=1e-12)
    assert mom.mu[1, 0, 1] == pytest.approx(np.sqrt(g[1, 0] * g[1, 1]), rel=1e-12)
    kappa = 1.0 / 3.0
    assert mom.nu[0, 0, 1] == pytest.approx(g[0, 0] * (beta_n[0, 1] - g[0, 1]) * kappa, rel=1e-12)
    p = np.array([0.05, 0.1])
    w = np.array([[1.0, 1.0], [0.5, 2.0]])
    terms = sinr_terms(mom, p, w, np.ones((2, 2)))
    s01 = w[0, 0] * mom.mu[0, 0, 1] + w[1, 0] * mom.mu[1, 0, 1]
    v01 = w[0, 0] ** 2 * mom.nu[0, 0, 1] + w[1, 0] ** 2 * mom.nu[1, 0, 1]
    assert terms.PC[0] == pytest.approx(p[1] * (s01 ** 2 + v01), rel=1e-12)


# ----------------------------------------------------------------------------------------------- power, EE
POWER_HAND = {"zeta": 0.5, "p_ue_circuit_w": 0.1, "p_ap_circuit_w_per_antenna": 0.2, "p_proc_w": 0.8,
              "p_fh_fixed_w": 1.0, "p_fh_signal_w": 0.01, "p_cpu_fixed_w": 5.0, "p_cpu_lsfd_w": 0.2,
              "p_cpu_decode_w_per_gbps": 0.8}


def _hand_2x2(**kw):
    beta_n = np.array([[30.0, 2.0], [1.5, 20.0]])
    return _instance(beta_n, antennas=2, tau_p=2, pilots=[0, 1], p_max=[0.1, 0.2], p_pilot=0.1, tau_c=100,
                     bandwidth=10e6, power_model=POWER_HAND, **kw)


def test_power_eq10_by_hand_2x2():
    inst = _hand_2x2()
    data = prepare(inst)
    eta = np.array([0.5, 1.0])
    d = np.array([[1.0, 0.0], [1.0, 1.0]])
    ev = data.evaluate(eta, d)
    # eq. (10): P_fix = T P^c_ue + M A P^c_ap + M P^fix_fh + P^fix_cpu = 0.2 + 0.8 + 2 + 5 = 8
    # P^c = Σ η p_u / ζ + Σ d (P^lsfd + A P^proc + P^sig) = (0.05 + 0.2)/0.5 + 3 (0.2 + 1.6 + 0.01) = 0.5 + 5.43
    sum_se = float(np.sum(ev.per_user["se_bps_hz"]))
    deco = 0.8e-9 * 10e6 * sum_se
    total = 8.0 + 0.5 + 5.43 + deco
    assert ev.power["total_w"] == pytest.approx(total, rel=1e-12)
    assert ev.power["ue_w"] == pytest.approx(0.5 + 0.2, rel=1e-12)
    assert ev.power["ap_w"] == pytest.approx(0.8 + 2 * 3 * 0.8, rel=1e-12)
    assert ev.power["fronthaul_w"] == pytest.approx(2.0 + 3 * 0.01, rel=1e-12)
    assert ev.power["cpu_w"] == pytest.approx(5.0 + 3 * 0.2 + deco, rel=1e-12)
    assert ev.power["throughput_bps"] == pytest.approx(10e6 * sum_se, rel=1e-12)
    # EE = B Σ SE / P_T in Mbit/J
    assert sum_se > 0.5
    assert ev.objective == pytest.approx(10e6 * sum_se / total / 1e6, rel=1e-12)
    assert ev.objectives["ee_mbit_per_j"] == ev.objective and ev.unit == "Mbit/J"
    assert ev.objectives["sum_se_bps_hz"] == pytest.approx(sum_se, rel=1e-12)
    # the affine form used by the formulations agrees, and (12a) -> (11a) conversion is exact
    pt = seed_power_terms(inst.antennas, inst.p_ue_max_w, POWER_HAND)
    assert pt.static(eta, d) == pytest.approx(8.0 + 0.5 + 5.43, rel=1e-12)
    assert pt.total(eta, d, 10e6 * sum_se) == pytest.approx(total, rel=1e-12)
    assert data.power.static(eta, d) == pytest.approx(13.93, rel=1e-12)
    ee12 = data.ee_static(eta, d, sum_se)
    assert ee12 == pytest.approx(10e6 * sum_se / 13.93 / 1e6, rel=1e-12)
    assert data.ee_from_static(ee12) == pytest.approx(ev.objective, rel=1e-12)
    bd = seed_power_breakdown(eta, d, ev.per_user["se_bps_hz"], inst.antennas, inst.p_ue_max_w, 10e6, POWER_HAND)
    assert bd.total == pytest.approx(total, rel=1e-12) and bd.ee_mbit_per_j == pytest.approx(ev.objective)
    # every AP pays circuit + fixed fronthaul power even when idle (no AP sleep in eq. (10))
    ev0 = data.evaluate(eta, np.array([[0.0, 0.0], [1.0, 1.0]]))
    deco0 = 0.8e-9 * ev0.power["throughput_bps"]
    assert ev0.power["total_w"] - deco0 == pytest.approx(8.0 + 0.5 + 2 * 1.81, rel=1e-12)
    assert ev0.power["fronthaul_w"] == pytest.approx(2.0 + 2 * 0.01, rel=1e-12)


def test_prelog_seed_and_uplink():
    inst = _hand_2x2()
    eta, d = np.array([0.5, 1.0]), np.ones((2, 2))
    seed, up = prepare(inst), prepare(inst, prelog="uplink")
    assert seed.prelog == pytest.approx((1 - 2 / 100) / 2, rel=1e-15)
    assert up.prelog == pytest.approx(1 - 2 / 100, rel=1e-15)
    s = seed.sinr(eta, d)
    assert seed.se(eta, d) == pytest.approx(0.49 * np.log2(1 + s), rel=1e-12)
    assert up.se(eta, d) == pytest.approx(0.98 * np.log2(1 + s), rel=1e-12)
    ev_s, ev_u = seed.evaluate(eta, d), up.evaluate(eta, d)
    assert ev_s.per_user["se_bps_hz"] == pytest.approx(0.49 * np.log2(1 + ev_s.per_user["sinr"]), rel=1e-12)
    assert ev_u.objectives["sum_se_bps_hz"] == pytest.approx(2 * ev_s.objectives["sum_se_bps_hz"], rel=1e-12)
    assert ev_u.objective > ev_s.objective


# ----------------------------------------------------------------------------------------------- violations
FEASIBLE_ETA = np.array([0.5, 1.0])
FEASIBLE_D = np.array([[1.0, 0.0], [1.0, 1.0]])


def _only(ev, key):
    nonzero = {k for k, v in ev.violations.items() if v > 1e-12}
    assert nonzero == {key}, ev.violations
    assert not ev.feasible
    return ev.violations[key]


def test_feasible_reference_solution():
    ev = prepare(_hand_2x2()).evaluate(FEASIBLE_ETA, FEASIBLE_D)
    assert ev.feasible and ev.max_violation == 0.0


def test_violation_11b_binary():
    d = FEASIBLE_D.copy()
    d[1, 0] = 0.3                                                     # UE 0 still covered by AP 0
    assert _only(prepare(_hand_2x2()).evaluate(FEASIBLE_ETA, d), "binary_assoc_11b") == pytest.approx(0.3)
    d[1, 0] = 0.6
    assert _only(prepare(_hand_2x2()).evaluate(FEASIBLE_ETA, d), "binary_assoc_11b") == pytest.approx(0.4)


@pytest.mark.parametrize("eta, amount", [([1.25, 1.0], 0.25), ([0.5, -0.1], 0.1)])
def test_violation_11c_eta_box(eta, amount):
    ev = prepare(_hand_2x2()).evaluate(np.array(eta), FEASIBLE_D)
    assert _only(ev, "eta_box_11c") == pytest.approx(amount)


def test_violation_11d_sum_se_qos():
    inst = _hand_2x2()
    sum_se = prepare(inst).evaluate(FEASIBLE_ETA, FEASIBLE_D).objectives["sum_se_bps_hz"]
    qos = sum_se + 2.0
    ev = prepare(inst, se_qos=qos).evaluate(FEASIBLE_ETA, FEASIBLE_D)
    assert ev.extra["se_qos"] == qos
    assert _only(ev, "sum_se_qos_11d") == pytest.approx(2.0 / qos, rel=1e-12)   # relative to max(SE^QoS, 1)
    assert prepare(inst, se_qos=0.5 * sum_se).evaluate(FEASIBLE_ETA, FEASIBLE_D).feasible
    # the per-call override and the instance's own QoS target feed the same check
    assert _only(prepare(inst).evaluate(FEASIBLE_ETA, FEASIBLE_D, se_qos=qos), "sum_se_qos_11d") > 0
    inst_q = _hand_2x2(qos={"sum_se_min_bps_hz": qos})
    assert _only(prepare(inst_q).evaluate(FEASIBLE_ETA, FEASIBLE_D), "sum_se_qos_11d") == pytest.approx(2.0 / qos)


def test_violation_11e_coverage():
    d = np.array([[1.0, 0.0], [1.0, 0.0]])                            # UE 1 served by no AP
    ev = prepare(_hand_2x2()).evaluate(FEASIBLE_ETA, d)
    assert _only(ev, "coverage_11e") == pytest.approx(1.0)
    assert ev.per_user["sinr"][1] == 0.0 and ev.per_user["sinr"][0] > 0


# ----------------------------------------------------------------------------------------------- LSFD properties
def _random_cases():
    for seed in range(4):
        inst = instances.generate("ngo2017", seed=seed, aps=8, users=6, antennas=4, tau_p=3, area_km=0.4)
        rng = np.random.default_rng(500 + seed)
        eta = rng.uniform(0.1, 1.0, inst.K)
        d = (rng.uniform(size=(inst.M, inst.K)) < 0.5).astype(float)
        d[np.argmax(inst.beta, axis=0), np.arange(inst.K)] = 1.0
        yield inst, rng, eta, d


def test_optimal_lsfd_beats_equal_and_random_weights():
    gains = []
    for inst, rng, eta, d in _random_cases():
        for combining in ("pfzf", "mr"):
            data = prepare(inst, combining=combining)
            opt = data.sinr(eta, d)
            eq = data.sinr(eta, d, lsfd="equal")
            assert np.all(opt >= eq * (1 - 1e-9))
            gains.append(np.max(opt / eq))
            p = eta * data.p_max
            for _ in range(5):
                a = rng.uniform(0.01, 1.0, (inst.M, inst.K))
                assert np.all(opt >= sinr(data.moments, p, a, d) * (1 - 1e-9))
    assert max(gains) > 1.05                                          # the optimum is not the equal weighting


def test_adding_a_serving_ap_never_lowers_sinr():
    strict = 0
    for inst, rng, eta, d in _random_cases():
        data = prepare(inst)
        base = data.sinr(eta, d)
        for t in range(inst.K):
            for m in np.flatnonzero(d[:, t] == 0):
                d2 = d.copy()
                d2[m, t] = 1.0
                new = data.sinr(eta, d2)
                assert new[t] >= base[t] * (1 - 1e-9)
                others = np.arange(inst.K) != t
                assert new[others] == pytest.approx(base[others], rel=1e-9)   # d_mt only enters UE t's SINR
                strict += new[t] > base[t] * (1 + 1e-6)
    assert strict > 10
