"""The Ngo 2017 generator reproduces the spec's statistics (spec propagation_ngo2017.md).

Statistical tolerances are 4 standard errors of the estimator at the sample size used; the seeds are fixed, so
the tests are deterministic.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import instances
from instances import InputError, Instance
from instances.generators import ngo2017
from instances.generators.ngo2017 import D0_KM, D1_KM, DELTA, L_DB, SIGMA_SH_DB, path_loss_db, sample_shadowing, wrap_distance

SIDE_M = 1000.0


def link_distance_km(inst: Instance) -> np.ndarray:
    return wrap_distance(inst.ap_pos, inst.ue_pos, SIDE_M) / 1000.0


def shadowing_db(inst: Instance) -> np.ndarray:
    """beta_dB minus the deterministic path loss: the shadowing term σ_sh z (0 where not applied)."""
    return inst.beta_db - path_loss_db(link_distance_km(inst))


# --------------------------------------------------------------------------------------------------- path loss
def test_hata_constant():
    lf = math.log10(1900.0)
    expected = 46.3 + 33.9 * lf - 13.82 * math.log10(15.0) - ((1.1 * lf - 0.7) * 1.65 - (1.56 * lf - 0.8))
    assert L_DB == pytest.approx(expected, abs=1e-12)
    assert L_DB == pytest.approx(140.7, abs=0.05)


@pytest.fixture(scope="module")
def no_shadow() -> Instance:
    return ngo2017.generate(aps=300, users=300, seed=7, tau_p=20, shadowing="none")


def _fit(inst, mask):
    d = link_distance_km(inst)[mask]
    slope, intercept = np.polyfit(np.log10(d), inst.beta_db[mask], 1)
    return slope, intercept, int(mask.sum())


def test_path_loss_slopes_per_segment(no_shadow):
    d = link_distance_km(no_shadow)
    slope, icpt, n = _fit(no_shadow, d > D1_KM)
    assert n > 80000
    assert slope == pytest.approx(-35.0, abs=1e-9)
    assert icpt == pytest.approx(-L_DB, abs=1e-8)           # β(1 km) = −L
    assert icpt == pytest.approx(-140.7, abs=0.05)

    slope, icpt, n = _fit(no_shadow, (d > D0_KM) & (d <= D1_KM))
    assert n > 100
    assert slope == pytest.approx(-20.0, abs=1e-9)
    assert icpt == pytest.approx(-L_DB - 15 * math.log10(D1_KM), abs=1e-8)

    near = d <= D0_KM
    assert near.sum() >= 5
    flat = no_shadow.beta_db[near]
    np.testing.assert_allclose(flat, -L_DB - 15 * math.log10(D1_KM) - 20 * math.log10(D0_KM), atol=1e-9)


def test_path_loss_is_continuous_at_breakpoints():
    for b in (D0_KM, D1_KM):
        left, mid, right = path_loss_db([b * (1 - 1e-12), b, b * (1 + 1e-12)])
        assert left == pytest.approx(mid, abs=1e-9) and right == pytest.approx(mid, abs=1e-9)
    assert path_loss_db(0.0) == path_loss_db(D0_KM)      # flat below d0, no log(0)
    with pytest.raises(InputError) as exc:
        path_loss_db([-1.0])
    assert exc.value.field == "d_km"


# --------------------------------------------------------------------------------------------------- geometry
def test_positions_and_wrap_around_distance():
    inst = ngo2017.generate(aps=40, users=30, seed=3)
    assert np.all(np.abs(inst.ap_pos) <= SIDE_M / 2) and np.all(np.abs(inst.ue_pos) <= SIDE_M / 2)
    d = wrap_distance(inst.ap_pos, inst.ue_pos, SIDE_M)
    shifts = np.array([(sx, sy) for sx in (-SIDE_M, 0, SIDE_M) for sy in (-SIDE_M, 0, SIDE_M)])
    copies = inst.ue_pos[None, :, :] + shifts[:, None, :]                      # [9, K, 2]
    brute = np.linalg.norm(inst.ap_pos[None, :, None, :] - copies[:, None, :, :], axis=-1).min(axis=0)
    np.testing.assert_allclose(d, brute, rtol=0, atol=1e-9)
    assert d.max() <= SIDE_M / math.sqrt(2) + 1e-9
    assert wrap_distance([[-490.0, 0.0]], [[490.0, 0.0]], SIDE_M)[0, 0] == pytest.approx(20.0)


# -------------------------------------------------------------------------------------------------- shadowing
def test_shadowing_std_beyond_d1_correlated():
    """One link (AP 0, UE 0) per independent instance: 8 dB standard deviation, zero mean."""
    samples = []
    for seed in range(3000):
        inst = ngo2017.generate(aps=2, users=2, seed=seed)
        if link_distance_km(inst)[0, 0] > D1_KM:
            samples.append(shadowing_db(inst)[0, 0])
    x = np.asarray(samples)
    n = len(x)
    assert n > 2900
    assert abs(x.mean()) < 4 * SIGMA_SH_DB / math.sqrt(n)
    assert abs(x.std(ddof=1) - SIGMA_SH_DB) < 4 * SIGMA_SH_DB / math.sqrt(2 * (n - 1))


def test_shadowing_std_beyond_d1_uncorrelated():
    inst = ngo2017.generate(aps=100, users=100, seed=5, tau_p=20, shadowing="uncorrelated")
    x = shadowing_db(inst)[link_distance_km(inst) > D1_KM]
    n = len(x)
    assert abs(x.mean()) < 4 * SIGMA_SH_DB / math.sqrt(n)
    assert abs(x.std(ddof=1) - SIGMA_SH_DB) < 4 * SIGMA_SH_DB / math.sqrt(2 * (n - 1))


@pytest.mark.parametrize("mode", ["correlated", "uncorrelated"])
def test_no_shadowing_within_d1(mode):
    inst = ngo2017.generate(aps=150, users=150, seed=9, tau_p=20, shadowing=mode)
    d = link_distance_km(inst)
    s = shadowing_db(inst)
    assert (d <= D1_KM).sum() > 20
    np.testing.assert_allclose(s[d <= D1_KM], 0.0, atol=1e-9)
    assert np.all(s[d > D1_KM] != 0.0)


def test_same_seed_same_positions_across_modes():
    a = ngo2017.generate(aps=10, users=6, seed=4, shadowing="correlated")
    b = ngo2017.generate(aps=10, users=6, seed=4, shadowing="none")
    np.testing.assert_array_equal(a.ap_pos, b.ap_pos)
    np.testing.assert_array_equal(a.ue_pos, b.ue_pos)


def test_generate_uses_sample_shadowing_in_documented_order():
    inst = ngo2017.generate(aps=12, users=8, seed=21)
    rng = np.random.default_rng(21)
    ap = rng.uniform(-500, 500, (12, 2))
    ue = rng.uniform(-500, 500, (8, 2))
    z = sample_shadowing(ap, ue, rng, side_m=SIDE_M)
    far = link_distance_km(inst) > D1_KM
    np.testing.assert_allclose(shadowing_db(inst)[far], SIGMA_SH_DB * z[far], atol=1e-9)


# Fixed geometry (m) on the 1 km wrap-around square. AP 0 and AP 1 are 950 m apart in the plane but 50 m apart
# on the torus; UE 0–UE 1 are 80 m apart, UE 0–UE 2 680 m in the plane, 320 m on the torus.
AP_FIXED = np.array([[-480.0, 0.0], [470.0, 0.0]])
UE_FIXED = np.array([[0.0, 200.0], [0.0, 280.0], [0.0, -480.0]])
C_AP = np.array([[1.0, 2 ** -0.5], [2 ** -0.5, 1.0]])
d_ue = np.array([[0.0, 80.0, 320.0], [80.0, 0.0, 240.0], [320.0, 240.0, 0.0]])
C_UE = 2.0 ** (-d_ue / 100.0)


def test_shadowing_correlation_matches_two_component_model():
    """E[z_mk z_m'k'] = δ 2^{−d(m,m')/100} + (1−δ) 2^{−d(k,k')/100}, each entry within 4 standard errors."""
    n = 20000
    z = np.stack([sample_shadowing(AP_FIXED, UE_FIXED, np.random.default_rng(s), side_m=SIDE_M).ravel()
                  for s in range(n)])                                          # [n, M*K], link (m, k) at m*K+k
    M, K = C_AP.shape[0], C_UE.shape[0]
    m_idx, k_idx = np.divmod(np.arange(M * K), K)
    expected = DELTA * C_AP[np.ix_(m_idx, m_idx)] + (1 - DELTA) * C_UE[np.ix_(k_idx, k_idx)]
    np.testing.assert_allclose(np.diag(expected), 1.0)

    var = z.var(axis=0, ddof=1)
    assert np.all(np.abs(var - 1.0) < 4 * math.sqrt(2.0 / (n - 1)))
    assert np.all(np.abs(z.mean(axis=0)) < 4 / math.sqrt(n))
    corr = np.corrcoef(z, rowvar=False)
    se = (1 - expected ** 2) / math.sqrt(n)                     # standard error of a sample correlation
    off = ~np.eye(M * K, dtype=bool)
    assert np.all(np.abs(corr - expected)[off] <= 4 * se[off] + 1e-12), np.abs(corr - expected).max()
    # spot checks against the hand-derived values
    assert expected[0, 1] == pytest.approx(0.5 + 0.5 * 2 ** -0.8)       # same AP, UEs 80 m apart
    assert expected[0, 3] == pytest.approx(0.5 * 2 ** -0.5 + 0.5)       # same UE, APs 50 m apart (wrapped)
    assert expected[0, 5] == pytest.approx(0.5 * 2 ** -0.5 + 0.5 * 2 ** -3.2)  # nothing shared


def test_uncorrelated_and_none_modes():
    rng = np.random.default_rng(0)
    z = np.stack([sample_shadowing(AP_FIXED, UE_FIXED, rng, side_m=SIDE_M, mode="uncorrelated").ravel()
                  for _ in range(5000)])
    corr = np.corrcoef(z, rowvar=False)
    off = ~np.eye(6, dtype=bool)
    assert np.all(np.abs(corr[off]) < 4 / math.sqrt(5000))
    assert not sample_shadowing(AP_FIXED, UE_FIXED, rng, side_m=SIDE_M, mode="none").any()


def test_coincident_nodes_need_jitter_and_say_so():
    ap = np.array([[0.0, 0.0], [0.0, 0.0], [300.0, 0.0]])
    notes: dict = {}
    z = sample_shadowing(ap, UE_FIXED, np.random.default_rng(1), side_m=SIDE_M, notes=notes)
    assert np.all(np.isfinite(z)) and "jitter" in notes["ap"] and "ue" not in notes
    np.testing.assert_allclose(z[0], z[1], atol=1e-4)          # same place, same AP component


# ---------------------------------------------------------------------------------------------- determinism
def test_same_seed_same_instance_different_seed_different(tmp_path):
    a = ngo2017.generate(aps=16, users=8, antennas=2, seed=123)
    b = instances.generate("ngo2017", seed=123, aps=16, users=8, antennas=2)
    assert a == b and a.content_hash == b.content_hash
    np.testing.assert_array_equal(a.beta, b.beta)
    assert Instance.load(a.save(tmp_path / "a.json")).content_hash == a.content_hash
    c = ngo2017.generate(aps=16, users=8, antennas=2, seed=124)
    assert c.content_hash != a.content_hash
    assert not np.array_equal(c.beta, a.beta)
    assert a.meta["seed"] == 123 and a.meta["generator"] == "ngo2017" and a.meta["generator_version"]


# ------------------------------------------------------------------------------------------ spec constants
def test_noise_powers_and_block_lengths():
    inst = ngo2017.generate(aps=4, users=3, seed=0)
    assert inst.noise_dbm == pytest.approx(-92.0, abs=0.05)
    assert inst.noise_dbm == pytest.approx(-174 + 10 * math.log10(20e6) + 9, abs=1e-9)
    assert inst.bandwidth_hz == 20e6 and inst.tau_c == 200
    np.testing.assert_array_equal(inst.p_ue_max_w, 0.1)
    np.testing.assert_array_equal(inst.p_pilot_w, 0.1)
    np.testing.assert_array_equal(inst.p_ap_max_w, 0.2)
    np.testing.assert_array_equal(inst.antennas, 1)
    assert inst.power_model["zeta"] == 0.4 and inst.power_model["p_cpu_fixed_w"] == 5.0
    assert inst.meta["units"]["beta"] == "1" and inst.meta["units"]["noise_w"] == "W"


def test_pilot_assignment():
    orth = ngo2017.generate(aps=3, users=6, seed=1)
    assert orth.tau_p == 6 and orth.pilots.tolist() == list(range(6))
    rnd = ngo2017.generate(aps=3, users=40, seed=1, tau_p=5)
    assert rnd.tau_p == 5 and rnd.meta["params"]["pilot_assignment"] == "random"
    assert rnd.pilots.min() >= 0 and rnd.pilots.max() <= 4 and len(set(rnd.pilots.tolist())) == 5
    forced = ngo2017.generate(aps=3, users=6, seed=1, pilot_assignment="random")
    assert forced.pilots.max() < 6


@pytest.mark.parametrize("kwargs, field", [
    (dict(aps=0), "aps"),
    (dict(aps=2.5), "aps"),
    (dict(users=0), "users"),
    (dict(users=True), "users"),
    (dict(antennas=0), "antennas"),
    (dict(seed=-1), "seed"),
    (dict(seed=None), "seed"),
    (dict(tau_p=201), "tau_p"),
    (dict(tau_p=0), "tau_p"),
    (dict(users=250), "tau_p"),                       # default tau_p = users > tau_c
    (dict(tau_p=2, pilot_assignment="orthogonal"), "tau_p"),
    (dict(tau_c=0), "tau_c"),
    (dict(shadowing="lognormal"), "shadowing"),
    (dict(pilot_assignment="greedy"), "pilot_assignment"),
    (dict(area_km=0.0), "area_km"),
    (dict(ue_power_w=-0.1), "ue_power_w"),
    (dict(noise_figure_db=float("nan")), "noise_figure_db"),
])
def test_bad_parameters_name_the_parameter(kwargs, field):
    params = dict(aps=4, users=3, seed=0)
    params.update(kwargs)
    with pytest.raises(InputError) as exc:
        ngo2017.generate(**params)
    assert exc.value.field == field
