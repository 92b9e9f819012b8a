"""One way for every ``uplink-ee`` method to turn a point (η, D) into a :class:`SolveResult` re-scored by the
models/ evaluator (:meth:`models.uplink_ee.system.UplinkEE.evaluate`).

Rules (DESIGN.md §2): ``objective`` is the evaluator's EE (Mbit/J, eq. (11a)); ``max_violation`` is the evaluator's
largest violation of (11b)–(11e); a point that violates them is never reported as ``optimal``/``feasible`` — its
status becomes ``error`` with the violation named (a method that claims a feasible point it does not have is a bug).
Without a point (infeasible, error, limit without incumbent) ``objective`` is None.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from models.uplink_ee.system import UplinkEE
from solvers_adapters.base import versions as _versions
from solvers_adapters.result import Certificate, SolveResult, Status

PROBLEM = "uplink-ee"


def uplink_result(data: UplinkEE, *, method: str, formulation: str, solver: str, solver_version: str,
                  status: Status | str, certificate: Certificate | str, eta=None, assoc=None,
                  solver_objective: float | None = None, bound: float | None = None, gap: float | None = None,
                  wall_time_s: float = 0.0, iterations: int | None = None, trace: list[float] | None = None,
                  seed: int | None = None, message: str = "", se_qos: float | None = None,
                  extra_solution: dict[str, Any] | None = None, solver_versions: dict[str, str] | None = None,
                  binary: bool = True) -> SolveResult:
    """Build the result. ``eta``/``assoc`` None = no point. ``binary=False`` for a relaxation's fractional point
    (then (11b) integrality is not held against it). ``se_qos`` overrides the instance's SE^QoS."""
    status, certificate = Status(status), Certificate(certificate)
    inst = data.instance
    qos = data.se_qos if se_qos is None else float(se_qos)
    res = SolveResult(problem=PROBLEM, formulation=formulation, method=method, solver=solver,
                      solver_version=solver_version, instance=inst.name, instance_hash=inst.content_hash,
                      status=status, certificate=certificate, solver_objective=solver_objective, bound=bound,
                      gap=gap, wall_time_s=float(wall_time_s), iterations=iterations, trace=list(trace or []),
                      seed=seed, versions=_versions(**(solver_versions or {})), message=message,
                      context={**data.options, "se_qos": qos, "lsfd": "optimal"})
    if eta is None or assoc is None:
        return res
    eta = np.asarray(eta, dtype=float)
    assoc = np.asarray(assoc, dtype=float)
    ev = data.evaluate(eta, assoc, se_qos=qos)
    viol = dict(ev.violations)
    if not binary:
        viol.pop("binary_assoc_11b")
    res.objective = ev.objective
    res.max_violation = float(max(viol.values(), default=0.0))
    res.solution = {"eta": eta.tolist(), "assoc": assoc.tolist(), "power_w": (eta * data.p_max).tolist(),
                    "se_bps_hz": ev.per_user["se_bps_hz"].tolist(), "sum_se_bps_hz": ev.objectives["sum_se_bps_hz"],
                    "se_qos_bps_hz": qos, "lsfd": data.lsfd(eta, assoc).tolist(), **(extra_solution or {})}
    if res.max_violation > 1e-6 and status in (Status.OPTIMAL, Status.FEASIBLE):
        worst = max(viol, key=viol.get)
        res.status, res.certificate = Status.ERROR, Certificate.NONE
        res.message = (f"evaluator: {worst} violated by {viol[worst]:.3g}" + (f"; {message}" if message else ""))
    return res
