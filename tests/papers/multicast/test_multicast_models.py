"""Paper 001 models (spec unicast_multicast.md): the §11 unit-test vector (estimates, unified §4.5 form and the
term-by-term §4.1–4.4 closed forms), the evaluator of (31) with its named violations, and the [G] options."""
from __future__ import annotations

import numpy as np
import pytest

import instances
from instances import InputError, Instance
from instances.generators.multicast import MulticastBlock
from models.multicast import closed_forms as C
from models.multicast import system as S

BETA = np.array([[1.0, 0.2, 0.5, 1.5], [0.3, 2.0, 1.0, 0.1]])      # receivers u1, u2, (1,1), (1,2)
THETA = np.array([[0.2, 0.1, 0.3], [0.05, 0.25, 0.2]])
GAMMA_STREAM = [[0.967742, 0.171429, 1.967213], [0.27, 1.967213, 1.067647]]
GAMMA_RX = [[0.967742, 0.171429, 0.122951, 1.106557], [0.27, 1.967213, 0.882353, 0.008824]]
EXPECTED = {"mr": (4, 1.0, [0.895855, 2.134738, 1.526833, 1.653242], [0.909006, 1.623620, 1.317270, 1.386640]),
            "zf": (6, 2.0, [2.580787, 8.027200, 2.237740, 2.925298], [1.812672, 3.126664, 1.669563, 1.943210])}


def vector_instance(N: int, qos=None) -> Instance:
    """§11: M = 2, K_u = 2, G = 1, K_g = 2, ρ_t = 10, τ_t = 3, ρ_d = 5, τ_c = 200 (noise 1 W)."""
    return Instance.create(name=f"vec-N{N}", ap_pos=np.zeros((2, 2)), ue_pos=np.zeros((4, 2)), beta=BETA,
                           noise_w=1.0, p_ue_max_w=1.0, p_pilot_w=10.0, p_ap_max_w=5.0, tau_p=3, tau_c=200,
                           bandwidth_hz=1.0, antennas=N, pilots=[0, 1, 2, 2], qos=qos,
                           blocks={"multicast": MulticastBlock([-1, -1, 0, 0], [1.0, 1.0, 1.0, 1.0])})


@pytest.mark.parametrize("precoding", ["mr", "zf"])
def test_unit_test_vector_of_section_11(precoding):
    N, scale, sinr, se = EXPECTED[precoding]
    sys_ = S.prepare(vector_instance(N), precoding=precoding)
    np.testing.assert_allclose(sys_.gamma_stream, GAMMA_STREAM, atol=1e-6)
    np.testing.assert_allclose(sys_.gamma_rx, GAMMA_RX, atol=1e-6)
    x = scale * THETA
    np.testing.assert_allclose(S.sinr(sys_, x), sinr, atol=1e-6)
    np.testing.assert_allclose(S.se(sys_, x), se, atol=1e-6)
    # the same numbers from the term-by-term closed forms, in the physical (a, η)
    eta = sys_.eta_from_x(x)
    np.testing.assert_allclose(C.sinr_terms(sys_, np.ones_like(x), eta)["sinr"], sinr, atol=1e-6)
    np.testing.assert_allclose(sys_.x_from_eta(np.ones_like(x), eta), x, rtol=1e-12)


@pytest.mark.parametrize("precoding", ["mr", "zf"])
def test_unified_form_equals_closed_forms_on_generated_instances(precoding):
    inst = instances.generate("multicast", seed=7, aps=9, antennas=10, unicast=4, groups=3, group_size=3)
    sys_ = S.prepare(inst, precoding=precoding)
    rng = np.random.default_rng(1)
    a = (rng.uniform(size=(sys_.M, sys_.S)) < 0.6).astype(float)
    eta = sys_.equal_power_eta(a) * rng.uniform(0.2, 1.0, a.shape)
    terms = C.sinr_terms(sys_, a, eta)
    np.testing.assert_allclose(S.sinr(sys_, sys_.x_from_eta(a, eta)), terms["sinr"], rtol=1e-10)
    # a multicast member gets no intra-group interference: zero power on its group removes its DS and BU only
    g_col = sys_.K_u
    eta0 = eta.copy()
    eta0[:, g_col] = 0.0
    t0 = C.sinr_terms(sys_, a, eta0)
    members = np.flatnonzero(sys_.stream_of == g_col)
    assert np.all(t0["DS"][members] == 0) and np.all(t0["BU"][members] == 0)
    np.testing.assert_allclose(t0["MI"][members], terms["MI"][members], rtol=1e-12)


def test_prelog_and_objective_options():
    inst = vector_instance(4)
    x = THETA
    dl = S.prepare(inst, precoding="mr")
    split = S.prepare(inst, precoding="mr", prelog="split")
    assert dl.prelog == pytest.approx(1 - 3 / 200) and split.prelog == pytest.approx((1 - 3 / 200) / 2)
    np.testing.assert_allclose(S.se(split, x), S.se(dl, x) / 2, rtol=1e-12)
    se = S.se(dl, x)
    gmin = S.prepare(inst, precoding="mr", multicast_objective="group-min")
    assert S.sse(dl, se) == pytest.approx(se.sum())
    assert S.sse(gmin, se) == pytest.approx(se[0] + se[1] + 2 * min(se[2], se[3]))
    rates, arg = S.stream_rates(dl, se)
    np.testing.assert_allclose(rates, [se[0], se[1], min(se[2], se[3])])
    assert arg.tolist() == [0, 1, 2 + int(np.argmin(se[2:]))]
    for bad in ({"prelog": "half"}, {"multicast_objective": "max"}, {"fronthaul_model": "bits"},
                {"precoding": "mmse"}):
        with pytest.raises(InputError):
            S.prepare(inst, **{"precoding": "mr", **bad})


def test_zf_needs_more_antennas_than_streams():
    with pytest.raises(InputError) as exc:
        S.prepare(vector_instance(3), precoding="zf")          # N = 3 = K_u + G
    assert exc.value.field == "antennas"
    S.prepare(vector_instance(3), precoding="mr")              # MR has no such limit
    S.prepare(vector_instance(4), precoding="zf")


def _evaluate(inst, a, eta, **ctx):
    return S.evaluate(inst, {"assoc": np.asarray(a).tolist(), "eta": np.asarray(eta).tolist()}, **ctx)


def test_evaluator_objective_power_and_fronthaul():
    inst = vector_instance(4, qos={"fronthaul_bps_hz": 10.0})
    sys_ = S.prepare(inst, precoding="mr")
    a = np.ones((2, 3))
    eta = sys_.eta_from_x(THETA)
    ev = _evaluate(inst, a, eta, precoding="mr")
    se = S.se(sys_, THETA)
    assert ev.unit == "bit/s/Hz" and ev.objective == pytest.approx(se.sum())
    np.testing.assert_allclose(ev.per_user["se_bps_hz"], se)
    fh = a @ S.stream_rates(sys_, se)[0]
    np.testing.assert_allclose(ev.extra["fronthaul_bps_hz"], fh)
    np.testing.assert_allclose(S.fronthaul_load(sys_, a, THETA), fh)
    load = 4 * np.sum(THETA ** 2, axis=1)                      # N Σ_s η γ = N ‖x_m‖²
    np.testing.assert_allclose(ev.extra["ap_power_load"], load)
    np.testing.assert_allclose(ev.extra["ap_power_w"], 5.0 * load)
    assert ev.feasible and set(ev.violations) >= {"ap_power", "coverage", "binary", "fronthaul"}
    assert "qos_unicast" not in ev.violations and "max_streams" not in ev.violations


def test_evaluator_names_each_violation():
    qos = {"se_min_unicast_bps_hz": 1.0, "se_min_multicast_bps_hz": 1.5, "fronthaul_bps_hz": 2.0,
           "max_streams_per_ap": 1}
    inst = vector_instance(4, qos=qos)
    sys_ = S.prepare(inst, precoding="mr")
    eta = sys_.eta_from_x(THETA)
    a = np.ones((2, 3))
    a[:, 2] = 0.0                                              # group unserved: coverage, and its QoS fails
    ev = _evaluate(inst, a, 5.0 * eta)                          # 5 ‖x_m‖²: AP 1 beyond P_m
    v = ev.violations
    se = ev.per_user["se_bps_hz"]
    assert v["coverage"] == 1.0 and v["max_streams"] == 1.0
    assert v["qos_multicast"] == pytest.approx(1.5)             # SE of unserved members = 0
    assert v["qos_unicast"] == pytest.approx(max(0.0, 1.0 - se[:2].min()))
    assert v["ap_power"] == pytest.approx(5 * 4 * np.sum(THETA[:, :2] ** 2, axis=1).max() - 1) == 0.3
    assert v["fronthaul"] == pytest.approx(max(0.0, se[:2].sum() - 2.0))
    assert not ev.feasible
    frac = np.full((2, 3), 0.5)
    assert _evaluate(inst, frac, eta).violations["binary"] == pytest.approx(0.5)
    cnt = _evaluate(inst, np.ones((2, 3)), eta, fronthaul_model="count")
    np.testing.assert_allclose(cnt.extra["fronthaul_bps_hz"], [3.0, 3.0])
    with pytest.raises(InputError):
        _evaluate(inst, a, eta, estimator="lmmse")             # not a context key
    with pytest.raises(InputError):
        S.evaluate(inst, {"assoc": a.tolist()})                # eta missing
    with pytest.raises(InputError):
        _evaluate(inst, np.ones((3, 3)), np.ones((3, 3)))      # wrong shape


def test_equal_power_fills_every_ap_budget():
    inst = instances.generate("multicast", seed=2, aps=6, antennas=7, unicast=3, groups=2, group_size=2)
    for precoding in ("mr", "zf"):
        sys_ = S.prepare(inst, precoding=precoding)
        a = np.ones((sys_.M, sys_.S))
        a[0] = 0.0
        load = S.power_load(sys_, sys_.x_from_eta(a, sys_.equal_power_eta(a)))
        np.testing.assert_allclose(load, [0.0] + [1.0] * (sys_.M - 1), atol=1e-12)
