"""The penalised APG objective of spec unicast_multicast.md §6.3 and its gradient §6.4 (models/multicast/apg_terms):
the gradient against central finite differences (relative 1e-6) with every penalty active, for MR and ZF and each
[G] option; the value's pieces against the evaluator."""
from __future__ import annotations

import numpy as np
import pytest

import instances
from instances import InputError
from models.multicast import apg_terms as T
from models.multicast import system as S

QOS = {"se_min_unicast_bps_hz": 2.0, "se_min_multicast_bps_hz": 1.5, "fronthaul_bps_hz": 1.0,
       "max_streams_per_ap": 2}
PEN = dict(lambda_b=0.3, lambda_q=2.0, lambda_f=1.5, lambda_c=1.2, lambda_n=0.7)


def _instance():
    return instances.generate("multicast", seed=3, aps=5, antennas=8, unicast=3, groups=2, group_size=3,
                              se_min_unicast_bps_hz=QOS["se_min_unicast_bps_hz"],
                              se_min_multicast_bps_hz=QOS["se_min_multicast_bps_hz"],
                              fronthaul_bps_hz=QOS["fronthaul_bps_hz"], max_streams_per_ap=QOS["max_streams_per_ap"])


def _point(sys_, seed: int, a_range):
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0.2, 1.0, (sys_.M, sys_.S)) * np.sqrt(sys_.P / sys_.S)[:, None]
    return theta, rng.uniform(*a_range, (sys_.M, sys_.S))


def _central(f, z, h):
    out = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        e = np.zeros_like(z)
        e[idx] = h[idx]
        out[idx] = (f(z + e) - f(z - e)) / (2 * h[idx])
    return out


@pytest.mark.parametrize("precoding", ["mr", "zf"])
@pytest.mark.parametrize("options", [{}, {"multicast_objective": "group-min"}, {"fronthaul_model": "count"},
                                     {"qos_form": "soc"}])
@pytest.mark.parametrize("a_range", [(0.3, 0.9), (0.02, 0.15)], ids=["fh-nmax", "coverage"])
def test_gradient_matches_central_differences(precoding, options, a_range):
    opts = dict(options)
    pen = T.Penalties(**PEN, qos_form=opts.pop("qos_form", "se"))
    sys_ = S.prepare(_instance(), precoding=precoding, **opts)
    theta, a = _point(sys_, 11, a_range)
    t = T.terms(sys_, theta, a, pen)
    active = {"qos", "fronthaul", "max_streams"} if a_range[0] > 0.2 else {"qos", "coverage"}
    assert all(t[k] > 0 for k in active), t                     # every penalty under test is active
    F, g_theta, g_a = T.value_and_grad(sys_, theta, a, pen)
    assert F == pytest.approx(t["value"], rel=1e-12)
    num_theta = _central(lambda z: T.value(sys_, z, a, pen), theta, 1e-6 * theta)
    num_a = _central(lambda z: T.value(sys_, theta, z, pen), a, np.full(a.shape, 1e-7))
    for g, num in ((g_theta, num_theta), (g_a, num_a)):
        assert np.linalg.norm(g - num) <= 1e-6 * np.linalg.norm(num)


def test_value_pieces_and_penalty_scaling():
    inst = _instance()
    sys_ = S.prepare(inst, precoding="mr")
    theta, a = _point(sys_, 5, (0.3, 0.9))
    pen = T.Penalties(**PEN)
    t = T.terms(sys_, theta, a, pen)
    eta = sys_.eta_from_x(a * theta) / a                       # evaluator power a η ⇔ APG amplitude x = a θ
    ev = S.evaluate(inst, {"assoc": a, "eta": eta}, precoding="mr")
    assert t["sse"] == pytest.approx(ev.objective, rel=1e-12)
    se = ev.per_user["se_bps_hz"]
    assert t["qos"] == pytest.approx(np.sum(np.clip(sys_.se_min - se, 0, None) ** 2), rel=1e-12)
    assert t["fronthaul"] == pytest.approx(np.sum(np.clip(ev.extra["fronthaul_bps_hz"] - 1.0, 0, None) ** 2))
    assert t["binary"] == pytest.approx(np.sum(a - a ** 2))
    big = pen.scaled(10.0)
    assert big.lambda_b == pytest.approx(3.0) and big.lambda_n == pytest.approx(7.0)
    assert T.value(sys_, theta, a, big) < T.value(sys_, theta, a, pen)
    with pytest.raises(InputError):
        T.Penalties(qos_form="log")
    with pytest.raises(InputError):
        T.value_and_grad(sys_, theta[:, :2], a, pen)
