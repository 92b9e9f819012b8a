"""Baselines of paper 001 (spec ``unicast_multicast.md`` §8 [G]): ``epa-ras`` (equal power, random AP selection)
and ``opa-ras`` (random AP selection, powers optimised by the power-only Algorithm 1).

Random AP selection [G]: every AP serves every stream independently with probability ``p_select`` (0.5); a stream
left without an AP gets one uniformly at random (31e); an AP over N_max keeps a random N_max of its streams, never
a stream's last AP (31f). All draws from ``numpy.random.default_rng(seed)``; without a seed one is drawn from
fresh entropy and recorded in ``Outcome.seed``. Equal power (§8 (i) on the served set): every AP at full power
split evenly over its streams (:meth:`models.multicast.system.MulticastSystem.equal_power_eta`).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from formulations.multicast import apg as FA
from solvers_adapters.algorithms import Clock, Outcome
from solvers_adapters.multicast.apg import continuation
from solvers_adapters.multicast.apg_core import APGSettings
from solvers_adapters.multicast.common import finish, no_options, system, with_margin

__all__ = ["random_selection", "run_epa_ras", "run_opa_ras"]


def _seed(seed: int | None) -> int:
    return int(seed) if seed is not None else int(np.random.SeedSequence().entropy % (2 ** 63))


def random_selection(sys_, rng: np.random.Generator, p_select: float = 0.5) -> np.ndarray:
    """A random association [M, S] meeting (31e) and (31f) (module docstring)."""
    a = (rng.random((sys_.M, sys_.S)) < p_select).astype(float)
    for s in np.flatnonzero(a.sum(axis=0) < 1):
        a[rng.integers(sys_.M), s] = 1.0
    if sys_.n_max is not None:
        for m in np.flatnonzero(a.sum(axis=1) > sys_.n_max):
            for s in rng.permutation(np.flatnonzero(a[m])):
                if a[m].sum() > sys_.n_max and a[:, s].sum() > 1:
                    a[m, s] = 0.0
    return a


def run_epa_ras(instance, *, precoding: str | None = None, time_limit: float | None = None,
                seed: int | None = None, p_select: float = 0.5, **options: Any) -> Outcome:
    """Equal power on a random association (module docstring)."""
    no_options(options, "epa-ras")
    clock, (sys_, prec), sd = Clock(), system(instance, precoding), _seed(seed)
    a = random_selection(sys_, np.random.default_rng(sd), p_select)
    x = sys_.x_from_eta(a, sys_.equal_power_eta(a))
    return finish(instance, sys_, prec, a, x, formulation="closed-form", iterations=0, seed=sd,
                  wall_time_s=clock.elapsed(), message=f"equal power, random selection (p={p_select}, seed {sd})")


def run_opa_ras(instance, *, precoding: str | None = None, time_limit: float | None = None,
                seed: int | None = None, p_select: float = 0.5, max_iter: int = 1000, tol: float = 1e-3,
                max_outer: int = 8, margin: float = 2e-3, **options: Any) -> Outcome:
    """Random association, powers by the power-only APG continuation with that association fixed."""
    no_options(options, "opa-ras")
    clock, (sys_, prec), sd = Clock(), system(instance, precoding), _seed(seed)
    a = random_selection(sys_, np.random.default_rng(sd), p_select)
    th0 = FA.project_power_only(FA.initial_point(sys_)[0], a > 0.5, sys_.P)
    r = continuation(with_margin(sys_, margin), th0, a, FA.Penalties(0.0, 1.0, 1.0, 0.0, 0.0),
                     settings=APGSettings(max_iter=int(max_iter), tol=float(tol)), mask=a, max_outer=max_outer,
                     clock=clock, time_limit=time_limit)
    return finish(instance, sys_, prec, a, a * r["theta"], formulation="apg-penalty", iterations=len(r["trace"]),
                  trace=r["trace"], seed=sd, wall_time_s=clock.elapsed(),
                  message=f"random selection (p={p_select}, seed {sd}), APG power only")
