"""Monte Carlo check of the exact UatF closed forms (spec unicast_multicast.md §4, §11): real Rayleigh channels,
noisy shared-pilot training, MMSE estimates, MR and local full-pilot ZF precoders; every closed-form SINR within
2 % of the simulated one, on three seeded generator instances, random association and powers."""
from __future__ import annotations

import numpy as np
import pytest

import instances
from models.multicast import montecarlo as MC
from models.multicast import system as S

DRAWS = 40000
TOL = 0.02


def _case(seed: int, precoding: str):
    inst = instances.generate("multicast", seed=seed, aps=5, antennas=8, unicast=3, groups=2, group_size=2,
                              area_km=0.5)
    sys_ = S.prepare(inst, precoding=precoding)
    rng = np.random.default_rng(100 + seed)
    a = (rng.uniform(size=(sys_.M, sys_.S)) < 0.7).astype(float)
    a[0] = 1.0
    eta = sys_.equal_power_eta(a) * rng.uniform(0.3, 1.0, a.shape)
    return sys_, a, eta


@pytest.mark.parametrize("precoding", ["mr", "zf"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_closed_form_sinr_matches_monte_carlo(seed, precoding):
    sys_, a, eta = _case(seed, precoding)
    closed = S.sinr(sys_, sys_.x_from_eta(a, eta))
    simulated = MC.simulate_sinr(sys_, a, eta, draws=DRAWS, seed=seed)
    rel = np.abs(closed / simulated - 1.0)
    assert rel.max() <= TOL, (rel, closed, simulated)


def test_monte_carlo_detects_a_wrong_closed_form():
    """The check has teeth: ZF with κ = N instead of N − S, or MR without the own-stream BU term, misses by > 2 %."""
    sys_, a, eta = _case(1, "zf")
    simulated = MC.simulate_sinr(sys_, a, eta, draws=DRAWS // 4, seed=1)
    x = sys_.x_from_eta(a, eta)
    wrong = S.sinr(sys_, x) * sys_.N / (sys_.N - sys_.S)
    assert np.abs(wrong / simulated - 1.0).min() > TOL
    mr, a, eta = _case(2, "mr")
    simulated = MC.simulate_sinr(mr, a, eta, draws=DRAWS // 4, seed=2)
    x = mr.x_from_eta(a, eta)
    D, I = S.desired(mr, x), S.interference(mr, x)
    bu = np.einsum("mr,mr->r", mr.b, x[:, mr.stream_of] ** 2)          # own-stream power term
    no_bu = mr.kappa * D ** 2 / (I - bu)
    assert np.abs(no_bu / simulated - 1.0).max() > TOL
