"""Methods of paper 001 (``unicast-multicast-sse``): ``exact`` certifies tiny MR/ZF instances; ``apg`` and ``sca`` are
feasible, never above the proven optimum and reach ≥ 0.95 of it in median on fresh seeded tiny instances;
Algorithm 1's nonmonotone guarantee and Algorithm 2's monotone sub-problem values; seeds; infeasible targets are a
status; the baselines' order."""
from __future__ import annotations

import numpy as np
import pytest

import instances
from formulations.multicast import apg as FA
from models.multicast import system as S
from solvers_adapters.multicast import run_apg, run_apg_power_only, run_epa_ras, run_exact, run_opa_ras, run_sca
from solvers_adapters.multicast.apg_core import APGSettings, run_algorithm1
from solvers_adapters.result import Certificate, Status


def gen(precoding, seed, aps, unicast, **kw):
    N = kw.pop("antennas", 2 if precoding == "mr" else 4)
    return instances.generate("multicast", seed=seed, aps=aps, antennas=N, unicast=unicast, groups=kw.pop("groups", 1),
                              group_size=kw.pop("group_size", 2), area_km=kw.pop("area_km", 0.25),
                              precoding=precoding, **kw)


def value(inst, out):
    ev = S.evaluate(inst, out.point, **out.context)
    assert ev.feasible, ev.violations
    return ev.objective


#: fresh tiny instances (seeds not used by the library): MR with S = 2, ZF up to M = 3, K_u = 2; one with QoS and
#: two with a binding fronthaul cap (0.7 × the largest per-AP load at the unconstrained optimum)
TINY = [("mr", 11, 2, 1, {}), ("mr", 12, 3, 1, {}), ("zf", 13, 3, 2, {}), ("zf", 14, 3, 1, {}),
        ("zf", 15, 3, 2, {"se_min_unicast_bps_hz": 1.0}), ("zf", 16, 3, 1, {"fronthaul_bps_hz": 5.941}),
        ("mr", 17, 3, 1, {"fronthaul_bps_hz": 2.002})]


@pytest.fixture(scope="module")
def optima():
    out = []
    for prec, seed, M, Ku, kw in TINY:
        inst = gen(prec, seed, M, Ku, **kw)
        ex = run_exact(inst, time_limit=60)
        assert ex.status is Status.OPTIMAL and ex.certificate is Certificate.GLOBAL, ex.message
        assert ex.context == {"precoding": prec}                 # the instance's own precoding, resolved
        out.append((inst, ex, value(inst, ex)))
    return out


def test_exact_is_global_and_agrees(optima):
    for inst, ex, v in optima:
        assert v == pytest.approx(ex.solver_objective, rel=1e-5)
        assert v <= ex.bound * (1 + 1e-9)


@pytest.mark.parametrize("run", [run_apg, run_sca], ids=["apg", "sca"])
def test_heuristics_feasible_below_optimum_and_close(optima, run):
    ratios = []
    for inst, ex, opt in optima:
        out = run(inst)
        assert out.status is Status.FEASIBLE, out.message
        v = value(inst, out)
        assert v <= ex.bound * (1 + 1e-6) + 1e-9
        ratios.append(v / opt)
    assert np.median(ratios) >= 0.95, ratios


def test_fronthaul_cards_bind(optima):
    for inst, ex, v in optima:
        if "fronthaul_bps_hz" in inst.qos:
            ev = S.evaluate(inst, ex.point, **ex.context)
            assert max(ev.extra["fronthaul_bps_hz"]) == pytest.approx(inst.qos["fronthaul_bps_hz"], rel=1e-4)


def test_apg_nonmonotone_guarantee():
    """Li & Lin: F(x_{n+1}) ≥ c_n and c_n non-decreasing (F itself may drop)."""
    inst = gen("mr", 3, 12, 3, antennas=4, area_km=1.0, fronthaul_bps_hz=4.0)
    sys_ = S.prepare(inst, precoding="mr")
    th, a = FA.initial_point(sys_, 0.5)
    res = run_algorithm1(sys_, th, a, FA.Penalties(), settings=APGSettings(max_iter=300, tol=1e-6))
    F, c = np.array(res.trace), np.array(res.state.c_trace)
    assert len(F) == len(c) > 20
    assert np.all(F >= c - 1e-9 * np.abs(c))
    assert np.all(np.diff(c) >= -1e-9 * np.abs(c[1:]))
    assert res.state.accepted > 0


def test_sca_stage_values_are_monotone():
    inst = gen("zf", 4, 8, 2, antennas=6, area_km=1.0)
    out = run_sca(inst)
    tr, lam = np.array(out.trace), np.array(out.series["lambda_b"])
    for lb in np.unique(lam):
        t = tr[lam == lb]
        assert np.all(np.diff(t) >= -1e-6 * np.abs(t[1:])), (lb, t)


def test_same_seed_same_result():
    inst = gen("mr", 5, 10, 2, antennas=4, area_km=1.0)
    for run in (run_epa_ras, run_opa_ras):
        a, b, c = run(inst, seed=7), run(inst, seed=7), run(inst, seed=8)
        np.testing.assert_array_equal(a.point["assoc"], b.point["assoc"])
        np.testing.assert_allclose(a.point["eta"], b.point["eta"])
        assert a.seed == 7 and not np.array_equal(a.point["assoc"], c.point["assoc"])
    assert run_epa_ras(inst).seed is not None                   # a drawn seed is recorded
    x, y = run_apg(inst, seed=1), run_apg(inst, seed=2)
    np.testing.assert_allclose(x.point["eta"], y.point["eta"])


def test_unmeetable_targets_are_infeasible():
    inst = gen("zf", 6, 3, 2, se_min_unicast_bps_hz=40.0)
    assert run_exact(inst, time_limit=30).status is Status.INFEASIBLE
    for run in (run_apg, run_sca, run_apg_power_only, run_epa_ras, run_opa_ras):
        out = run(inst)
        assert out.status is Status.INFEASIBLE and "qos_unicast" in out.message, (run.__name__, out.message)


def test_joint_beats_random_selection_baselines():
    """Reduced-size trend: apg ≥ opa-ras ≥ epa-ras (seeded), apg ≥ apg-power-only − tolerance."""
    for prec, N in (("mr", 4), ("zf", 8)):
        inst = gen(prec, 21, 30, 4, antennas=N, groups=2, group_size=3, area_km=1.0)
        apg, po = value(inst, run_apg(inst)), value(inst, run_apg_power_only(inst))
        opa, epa = value(inst, run_opa_ras(inst, seed=3)), value(inst, run_epa_ras(inst, seed=3))
        assert apg >= opa >= epa, (prec, apg, opa, epa)
        assert apg >= 0.99 * po


@pytest.mark.slow
def test_apg_scales_to_400_aps():
    inst = gen("mr", 0, 400, 60, antennas=4, groups=4, group_size=10, area_km=2.0)
    out = run_apg(inst, time_limit=600)
    assert out.status is Status.FEASIBLE and value(inst, out) > 0
