"""One way for every paper-003 method (``iot-uplink-maxmin``, ``iot-uplink-target``, ``iot-downlink-maxmin``) to turn
a point into a :class:`SolveResult` re-scored by the models/ evaluators (:mod:`models.iot.system`).

Rules (DESIGN.md §2): ``objective`` is the evaluator's number (min SINR for the max-min problems, radiated uplink
power in W for the target problem); ``max_violation`` is the evaluator's largest violation; a point claimed
``optimal``/``feasible`` that violates a constraint is downgraded to ``error`` with the violation named. Without a
point (infeasible without a usable point, error, limit without incumbent) ``objective`` is None — an infeasible
target is a status, never a number.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from instances.errors import InputError

from models.iot import system as iot_models
from solvers_adapters.base import versions as _versions
from solvers_adapters.result import Certificate, SolveResult, Status

EVALUATORS = {
    "iot-uplink-maxmin": iot_models.evaluate_uplink_maxmin,
    "iot-uplink-target": iot_models.evaluate_uplink_target,
    "iot-downlink-maxmin": iot_models.evaluate_downlink_maxmin,
}

#: relative tolerance on SINR targets and absolute tolerance on bounds for a point to count as feasible
FEAS_TOL = iot_models.FEAS_TOL


def iot_result(problem: str, instance, *, method: str, formulation: str, solver: str, solver_version: str,
               status: Status | str, certificate: Certificate | str, eta=None, estimator: str = "lmmse",
               solver_objective: float | None = None, bound: float | None = None, gap: float | None = None,
               wall_time_s: float = 0.0, iterations: int | None = None, trace: list[float] | None = None,
               seed: int | None = None, message: str = "", extra_solution: dict[str, Any] | None = None,
               solver_versions: dict[str, str] | None = None, targets=None,
               keep_infeasible_point: bool = False) -> SolveResult:
    """Build the result of ``problem``. ``eta`` None = no point. For ``iot-uplink-target`` a status ``infeasible``
    may still carry the soft-removal point (``keep_infeasible_point``): its objective stays None (the problem has no
    value), the point and the evaluator's per-thing verdict go into ``solution``."""
    status, certificate = Status(status), Certificate(certificate)
    res = SolveResult(problem=problem, formulation=formulation, method=method, solver=solver,
                      solver_version=solver_version, instance=instance.name, instance_hash=instance.content_hash,
                      status=status, certificate=certificate, solver_objective=solver_objective, bound=bound,
                      gap=gap, wall_time_s=float(wall_time_s), iterations=iterations, trace=list(trace or []),
                      seed=seed, versions=_versions(**(solver_versions or {})), message=message,
                      context={"estimator": estimator})
    if problem == "iot-uplink-target":
        # the targets the evaluator holds the point to, explicit: the result re-scores without the instance's qos
        res.context["targets"] = iot_models.targets_of(instance, instance.K, targets).tolist()
    if eta is None:
        return res
    eta = np.asarray(eta, dtype=float)
    solution = {"eta": eta, "estimator": estimator}
    ev = EVALUATORS[problem](instance, solution, **res.context)
    res.solution = {"eta": eta.tolist(), "estimator": estimator,
                    **{k: np.asarray(v).tolist() for k, v in ev.per_user.items() if k != "eta"},
                    "objectives": dict(ev.objectives), **(extra_solution or {})}
    res.max_violation = ev.max_violation
    if status is Status.INFEASIBLE and keep_infeasible_point:
        return res
    if status in (Status.OPTIMAL, Status.FEASIBLE, Status.LIMIT):
        res.objective = ev.objective
    if res.max_violation > FEAS_TOL and status in (Status.OPTIMAL, Status.FEASIBLE):
        viol = dict(ev.violations)
        worst = max(viol, key=viol.get)
        res.status, res.certificate = Status.ERROR, Certificate.NONE
        res.objective = None
        res.message = f"evaluator: {worst} violated by {viol[worst]:.3g}" + (f"; {message}" if message else "")
    return res


def check_tol(name: str, value, *, upper: float = 1.0) -> float:
    """A tolerance in (0, upper); InputError(name) otherwise."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(name, f"must be a number in (0, {upper}), got {value!r}") from None
    if not (0.0 < v < upper):
        raise InputError(name, f"must be in (0, {upper}), got {value!r}")
    return v


def remaining(t0: float, time_limit: float | None) -> float | None:
    """Seconds left of ``time_limit`` counted from ``time.perf_counter()`` value ``t0`` (None: no limit)."""
    return None if time_limit is None else time_limit - (time.perf_counter() - t0)


#: package names of each solver's versions (what a paper-003 result records from a solve_model result)
SOLVER_PACKAGES = {"scip": ("scip", "pyscipopt"), "highs": ("highs", "highspy"), "ipopt": ("ipopt",)}


def solver_versions(r: SolveResult, *solvers: str) -> dict[str, str]:
    """The versions of ``solvers`` (keys of :data:`SOLVER_PACKAGES`) among ``r.versions``."""
    keep = {p for s in solvers for p in SOLVER_PACKAGES[s]}
    return {k: v for k, v in r.versions.items() if k in keep}


def scip_options(defaults: dict[str, Any], options: dict[str, Any], seed: int | None) -> dict[str, Any]:
    """``defaults`` overridden by ``options``; SCIP's log on (verblevel 4) with ``tee``; ``seed`` → SCIP's
    ``randomization/randomseedshift`` unless given."""
    opts = {**defaults, **options}
    if opts.get("tee"):
        opts["display/verblevel"] = options.get("display/verblevel", 4)
    if seed is not None:
        opts.setdefault("randomization/randomseedshift", int(seed))
    return opts


def check_agreement(status: Status, certificate: Certificate, message: str, evaluator_value: float,
                    solver_value: float | None, *, what: str = "the solver's value",
                    rtol: float = 1e-5) -> tuple[Status, Certificate, str]:
    """An ``optimal`` exact solve keeps its certificate only if the evaluator's value at the solver's point agrees
    with the solver's own value within ``rtol`` (relative); otherwise it becomes ``feasible``/``none`` with the
    reason in the message."""
    if status is not Status.OPTIMAL or solver_value is None:
        return status, certificate, message
    if abs(evaluator_value - solver_value) <= rtol * max(abs(evaluator_value), abs(solver_value), 1e-300):
        return status, certificate, message
    return (Status.FEASIBLE, Certificate.NONE,
            f"evaluator value {evaluator_value:.10g} differs from {what} {solver_value:.10g} by more than {rtol:g} "
            f"relative; optimality not certified ({message})")
