"""One run of a QT method of paper 000 (problem ``uplink-ee``): the convex sub-problems (23), (24) and the sum-SE
power block of :mod:`formulations.uplink_ee.qt`, built once per run and re-solved with new mutable Params (the Ipopt
bridge re-reads them without recompiling), with explicit warm starts.

Warm starts: with Ipopt option ``warm_start`` (default), a solve of a sub-problem starts from the multipliers of the
previous solve of the same sub-problem in this run; :meth:`QTRun.cold` makes the next solve of one sub-problem start
without them (the sum-SE iterations start every call cold). A warm solve that fails is retried cold from the same
primal point. Nothing is shared between runs, so a seed reproduces a run.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pyomo.environ as pyo

from formulations.uplink_ee import qt as F
from models.common.evaluation import FEAS_TOL
from models.uplink_ee.system import UplinkEE
from solvers_adapters.algorithms import Clock
from solvers_adapters.base import solve_model
from solvers_adapters.result import SolveResult, Status

__all__ = ["Point", "QTRun"]

_BUILDERS = {"power": lambda d: F.build_power(d, objective="ee"),
             "power-sum-se": lambda d: F.build_power(d, objective="sum-se"),
             "assoc": F.build_assoc}


class Point(NamedTuple):
    """An iterate (η, D) with its true EE (11a) and sum SE, scored by the evaluator."""

    eta: np.ndarray
    D: np.ndarray
    ee: float
    sum_se: float


def _ok(res: SolveResult) -> bool:
    return res.status in (Status.OPTIMAL, Status.FEASIBLE) or (
        res.status is Status.LIMIT and res.max_violation is not None and res.max_violation <= 1e-7)


class QTRun:
    """The state every QT method shares in one run: the statistics ``data``, SE^QoS ``qos``, the Ipopt options, one
    :class:`Clock` with the run's ``time_limit``, and the sub-problem models (built on first use)."""

    def __init__(self, data: UplinkEE, qos: float, ipopt: dict, time_limit: float | None,
                 clock: Clock | None = None):
        self.data, self.qos, self.ipopt, self.time_limit = data, float(qos), dict(ipopt), time_limit
        self.clock = clock or Clock()
        self._models: dict[str, pyo.ConcreteModel] = {}
        self._warm: dict[str, bool] = {}

    # ---- time
    def expired(self) -> bool:
        return self.clock.expired(self.time_limit)

    def remaining(self) -> float | None:
        return self.clock.remaining(self.time_limit)

    # ---- models
    def model(self, kind: str) -> pyo.ConcreteModel:
        if kind not in self._models:
            self._models[kind] = _BUILDERS[kind](self.data)
        return self._models[kind]

    def cold(self, kind: str) -> None:
        """The next solve of ``kind`` starts without the multipliers of earlier solves."""
        self._warm[kind] = False

    def _solve_once(self, model, warm: bool) -> SolveResult:
        rem = self.remaining()
        opts = {**self.ipopt, "warm_start": warm}
        return solve_model(model, "ipopt", time_limit=None if rem is None else max(rem, 1e-3), **opts)

    def solve(self, kind: str) -> tuple[bool, SolveResult]:
        """Solve sub-problem ``kind`` from its variables' current values (see the module docstring)."""
        model = self.model(kind)
        warm = bool(self.ipopt.get("warm_start", False))
        saved = [v.value for v in model.component_data_objects(pyo.Var)] if warm else None
        res = self._solve_once(model, warm and self._warm.get(kind, False))
        ok = _ok(res)
        if not ok and warm and not self.expired():
            for v, x in zip(model.component_data_objects(pyo.Var), saved):
                v.set_value(x, skip_validation=True)
            res = self._solve_once(model, False)
            ok = _ok(res)
        self._warm[kind] = True
        return ok, res

    # ---- scoring (the evaluator)
    def score(self, eta, D) -> Point:
        ev = self.data.evaluate(eta, D, se_qos=self.qos)
        return Point(np.asarray(eta, float).copy(), np.asarray(D, float).copy(), float(ev.objective),
                     float(ev.objectives["sum_se_bps_hz"]))

    def feasible(self, sum_se: float) -> bool:
        """(11d) within :data:`~models.common.evaluation.FEAS_TOL`, relative to max(SE^QoS, 1)."""
        return (self.qos - sum_se) / max(self.qos, 1.0) <= FEAS_TOL

    def sum_se(self, eta, D) -> float:
        return float(self.data.se(eta, D).sum())
