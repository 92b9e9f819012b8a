"""Uplink power-control methods of paper 003 (Rao, Ashikhmin, Yang, arXiv 2006.10363): max-min SINR (12) and
target-SINR minimum power (13), spec ``iot_nonorthogonal.md`` §2.7, §2.8, §3.5, §3.6, §3.9. The algorithms live in
:mod:`solvers_adapters.iot.power_control` (on a LinearFractional), the LP test in :mod:`solvers_adapters.iot.lp_oracle`.

Every method returns an :class:`solvers_adapters.algorithms.outcome.Outcome` with point ``{"eta", "estimator"}``,
re-scored by :mod:`models.iot.system` in :func:`experiments.results.make_result`; each takes ``estimator``
("lmmse" | "projection"), ``time_limit`` (s) and ``seed`` (recorded; SCIP: ``randomization/randomseedshift``):

=====================  ==============================  ================  ============  ==============================
problem                function                        method            certificate   what
=====================  ==============================  ================  ============  ==============================
``iot-uplink-maxmin``  :func:`run_bisection`           ``bisection``     global        bracket ≤ rel_tol, HiGHS LPs
``iot-uplink-maxmin``  :func:`run_exact_uplink`        ``exact``         SCIP's        epigraph (bilinear), SCIP
``iot-uplink-maxmin``  :func:`run_fixed_point_maxmin`  ``fixed-point``   stationary    Krause iteration converged
``iot-uplink-maxmin``  :func:`run_full_power`          ``full-power``    none          η = 1
``iot-uplink-target``  :func:`run_fixed_point_target`  ``fixed-point``   stationary    Algorithm 1 converged, all met
``iot-uplink-target``  :func:`run_exact_target`        ``exact``         SCIP's        min-power LP (13)
``iot-uplink-target``  :func:`run_linear_system_target` ``linear-system`` global       (I − diag(t)Bn)η = diag(t)cn
=====================  ==============================  ================  ============  ==============================

Numerics: everything works on the row-normalised data (Bn = B/a_k, cn = c/a_k; spec §3.5).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from formulations.iot import uplink as F
from instances.errors import InputError
from models.common.evaluation import FEAS_TOL
from models.iot import system as iot_models
from solvers_adapters.algorithms.options import scip_options, solver_versions
from solvers_adapters.algorithms.outcome import Outcome
from solvers_adapters.base import dist_version, solve_model
from solvers_adapters.iot.lp_oracle import HIGHS_OPTIONS, SCIP_OPTIONS, LPFeasibility, _LPFailure, highs_version
from solvers_adapters.iot.power_control import (REMOVED_TOL, bisection_maxmin, fixed_point_maxmin,
                                                min_power_linear_system, small_cell_maxmin, target_fixed_point)
from solvers_adapters.result import Certificate, Status

__all__ = ["HIGHS_OPTIONS", "SCIP_OPTIONS", "REMOVED_TOL", "AGREE_RTOL", "LPFeasibility", "bisection_maxmin",
           "fixed_point_maxmin", "target_fixed_point", "min_power_linear_system", "small_cell_maxmin",
           "run_bisection", "run_exact_uplink", "run_fixed_point_maxmin", "run_full_power", "run_fixed_point_target",
           "run_exact_target", "run_linear_system_target", "_LPFailure"]

#: relative agreement between SCIP's value and the evaluator's at SCIP's point for keeping SCIP's certificate
AGREE_RTOL = 1e-5


def _no_options(options: dict[str, Any], method: str) -> None:
    if options:
        raise InputError("options", f"unknown option(s) for {method}: {', '.join(sorted(options))}")


def _system(instance, estimator: str):
    return iot_models.prepare(instance, estimator=estimator)


def _targets(instance, sys_, targets) -> np.ndarray:
    return iot_models.targets_of(instance, sys_.K, targets)


def _point(eta, estimator: str) -> dict[str, Any]:
    return {"eta": np.asarray(eta, dtype=float), "estimator": estimator}


def _gap(hi: float, value: float) -> float:
    return max((hi - value) / value, 0.0) if value > 0 else math.inf


def run_bisection(instance, *, estimator: str = "lmmse", rel_tol: float = 1e-6, time_limit: float | None = None,
                  seed: int | None = None, interface: str = "direct", solver: str = "highs",
                  **options: Any) -> Outcome:
    """``iot-uplink-maxmin`` by :func:`bisection_maxmin` (HiGHS LPs, rows / a_k). Converged → status ``optimal``,
    certificate ``global`` (quasi-linear problem; bracket ≤ ``rel_tol``), ``bound`` = t_hi, ``solver_objective`` =
    t_lo, ``gap`` = (t_hi − value)/value; the time limit → ``limit`` with the best feasible point; an LP that fails
    (neither optimal nor infeasible) → ``feasible`` with that point and the bracket so far. ``iterations`` = LPs,
    ``trace`` = t_lo after each LP; ``solution["bracket"]``, ``["brackets"]``. ``options``: HiGHS (or SCIP) options
    for the LPs."""
    br = bisection_maxmin(_system(instance, estimator).ul, rel_tol=rel_tol, solver=solver, interface=interface,
                          time_limit=time_limit, solver_options=options)
    status = br.status if br.status in (Status.OPTIMAL, Status.LIMIT) else Status.FEASIBLE
    vers = dict(br.info["solver_versions"])
    if solver == "highs":
        vers.setdefault("highs", highs_version())
        vers.setdefault("highspy", dist_version("highspy"))
    return Outcome(status=status, certificate=Certificate.GLOBAL if br.converged else Certificate.NONE,
                   point=_point(br.point, estimator), context={"estimator": estimator},
                   formulation="lp-feasibility", solver=solver, solver_version=br.info["solver_version"],
                   solver_versions=vers, solver_objective=br.lo, bound=br.hi, gap=_gap(br.hi, br.value),
                   iterations=br.iterations, trace=br.trace, message=f"bisection ({interface} {solver}): {br.message}",
                   extra={"bracket": [br.lo, br.hi], "brackets": br.history,
                          "lp_iterations": br.info["lp_iterations"]})


def run_exact_uplink(instance, *, estimator: str = "lmmse", time_limit: float | None = None,
                     seed: int | None = None, **options: Any) -> Outcome:
    """``iot-uplink-maxmin`` by SCIP on the epigraph :func:`formulations.iot.uplink.build_maxmin_epigraph`
    (bilinear, global). Status, certificate, bound and gap are SCIP's; the evaluator's min SINR at SCIP's η must
    agree with SCIP's t within 1e-5 relative, else the certificate is dropped (status ``feasible``). ``options``:
    SCIP parameters (defaults :data:`SCIP_OPTIONS`), ``gap_tol``."""
    model = F.build_maxmin_epigraph(_system(instance, estimator).ul)
    r = solve_model(model, "scip", time_limit=time_limit, **scip_options(SCIP_OPTIONS, options, seed))
    return Outcome(status=r.status, certificate=r.certificate,
                   point=_point(F.extract(model)["eta"], estimator) if r.has_solution else None,
                   context={"estimator": estimator}, formulation="epigraph", solver="scip",
                   solver_version=r.solver_version, solver_versions=solver_versions(r, "scip"),
                   solver_objective=r.solver_objective, bound=r.bound, gap=r.gap, iterations=r.iterations,
                   message=r.message, check_solver_objective=AGREE_RTOL)


def run_fixed_point_maxmin(instance, *, estimator: str = "lmmse", tol: float = 1e-10, max_iter: int = 10_000,
                           time_limit: float | None = None, seed: int | None = None, **options: Any) -> Outcome:
    """``iot-uplink-maxmin`` by :func:`fixed_point_maxmin`. Converged → status ``optimal``, certificate
    ``stationary`` (Krause's theorem makes the limit the global optimum, which the code does not re-prove beyond
    the bracket); ``bound`` = Λ (the bracket's upper end, valid for every iterate), ``solver_objective`` = λ. Not
    converged → ``limit`` (the point is still feasible: any η ∈ [0,1])."""
    _no_options(options, "fixed-point")
    br = fixed_point_maxmin(_system(instance, estimator).ul, tol=tol, max_iter=max_iter, time_limit=time_limit)
    return Outcome(status=br.status, certificate=Certificate.STATIONARY if br.converged else Certificate.NONE,
                   point=_point(br.point, estimator), context={"estimator": estimator},
                   formulation="krause-normalised", solver_objective=br.lo, bound=br.hi, gap=_gap(br.hi, br.value),
                   iterations=br.iterations, trace=br.trace, message=br.message,
                   extra={"bracket": [br.lo, br.hi]})


def run_full_power(instance, *, estimator: str = "lmmse", time_limit: float | None = None, seed: int | None = None,
                   **options: Any) -> Outcome:
    """``iot-uplink-maxmin`` baseline: η = 1 (no power control); status ``feasible``, certificate ``none``."""
    _no_options(options, "full-power")
    sys_ = _system(instance, estimator)
    return Outcome(status=Status.FEASIBLE, point=_point(np.ones(sys_.K), estimator),
                   context={"estimator": estimator}, formulation="closed-form", iterations=0,
                   message="eta = 1 (no power control)")


def _target_outcome(out: Outcome, sys_, t: np.ndarray, estimator: str, formulation: str) -> Outcome:
    """Algorithm 1's outcome as a result of ``iot-uplink-target`` at targets ``t``: the point, the context, and (not
    converged) the point only if it meets every target."""
    eta = out.point["eta"]
    out.point, out.formulation = _point(eta, estimator), formulation
    out.context = {"estimator": estimator, "targets": t.tolist()}
    out.extra = {**out.extra, "targets": t.tolist()}
    if out.status is Status.LIMIT and not bool(np.all((t - sys_.ul.sinr(eta)) / t <= FEAS_TOL)):
        out.point, out.extra = None, {"eta": eta.tolist(), "estimator": estimator, **out.extra}
    return out


def run_fixed_point_target(instance, *, targets=None, rule: str = "soft-removal", estimator: str = "lmmse",
                           tol: float = 1e-10, max_iter: int = 10_000, eta0=None, time_limit: float | None = None,
                           seed: int | None = None, **options: Any) -> Outcome:
    """``iot-uplink-target`` by Algorithm 1 (:func:`target_fixed_point`); targets from ``targets`` or the
    instance's ``qos["sinr_target"]`` (:func:`models.iot.system.targets_of`); objective = radiated power
    Σ η_k p̄_u,k (W).

    * converged, every target met → ``optimal``, certificate ``stationary`` (the fixed point is the minimal power
      vector, Theorem 2 of the paper; the tests check it against the LP and the linear system);
    * converged, some x_k > 1 → ``infeasible`` with the point kept (``solution["removed"]`` = thing indices,
      message "targets infeasible: things [...] soft-removed" (or "in outage at full power" for ``clip``));
    * not converged → ``limit``; the point is reported only if it meets every target."""
    _no_options(options, "fixed-point")
    sys_ = _system(instance, estimator)
    t = _targets(instance, sys_, targets)
    out = target_fixed_point(sys_.ul, t, rule=rule, eta0=eta0, tol=tol, max_iter=max_iter, time_limit=time_limit)
    return _target_outcome(out, sys_, t, estimator, f"algorithm-1-{rule}")


def run_exact_target(instance, *, targets=None, estimator: str = "lmmse", time_limit: float | None = None,
                     seed: int | None = None, solver: str = "scip", **options: Any) -> Outcome:
    """``iot-uplink-target`` by the min-power LP (13) (:func:`formulations.iot.uplink.build_min_power`, weights
    p̄_u,k in W, so ``solver_objective`` is the radiated power in W), solved by SCIP (default) or HiGHS. Status,
    certificate, bound and gap are the solver's; infeasible targets → status ``infeasible`` (no point)."""
    sys_ = _system(instance, estimator)
    t = _targets(instance, sys_, targets)
    model = F.build_min_power(sys_.ul, t, weights=np.asarray(instance.p_ue_max_w, dtype=float))
    if solver not in ("scip", "highs"):
        raise InputError("solver", f"expected 'scip' or 'highs', got {solver!r}")
    opts = scip_options(SCIP_OPTIONS, options, seed) if solver == "scip" else {**HIGHS_OPTIONS, **options}
    r = solve_model(model, solver, time_limit=time_limit, **opts)
    message = r.message
    if r.status is Status.INFEASIBLE:
        message = f"targets infeasible ({solver} proved the LP infeasible: {r.message})"
    return Outcome(status=r.status, certificate=r.certificate,
                   point=_point(F.extract(model)["eta"], estimator) if r.has_solution else None,
                   context={"estimator": estimator, "targets": t.tolist()}, formulation="min-power-lp",
                   solver=solver, solver_version=r.solver_version, solver_versions=solver_versions(r, "scip", "highs"),
                   solver_objective=r.solver_objective, bound=r.bound, gap=r.gap, iterations=r.iterations,
                   message=message, extra={"targets": t.tolist()} if r.has_solution else {})


def run_linear_system_target(instance, *, targets=None, estimator: str = "lmmse", time_limit: float | None = None,
                             seed: int | None = None, **options: Any) -> Outcome:
    """``iot-uplink-target`` by :func:`min_power_linear_system`: feasible → ``optimal``/``global`` (the unique
    minimal power vector); infeasible (ρ ≥ 1 or a power outside [0, 1]) → ``infeasible`` (no point), with ρ and the
    offending things in the message."""
    _no_options(options, "linear-system")
    sys_ = _system(instance, estimator)
    t = _targets(instance, sys_, targets)
    eta, feasible, rho = min_power_linear_system(sys_.ul, t)
    common = dict(context={"estimator": estimator, "targets": t.tolist()}, formulation="linear-system",
                  solver="numpy", solver_version=np.__version__, iterations=1)
    if feasible:
        return Outcome(status=Status.OPTIMAL, certificate=Certificate.GLOBAL,
                       point=_point(np.clip(eta, 0.0, 1.0), estimator), message=f"spectral radius {rho:.6g} < 1",
                       extra={"targets": t.tolist(), "spectral_radius": rho}, **common)
    if rho >= 1:
        why = f"spectral radius of diag(t)B/a is {rho:.6g} >= 1"
    else:
        why = f"minimal powers exceed 1 for things {[int(k) for k in np.flatnonzero((eta > 1.0 + 1e-12) | (eta < 0))]}"
    return Outcome(status=Status.INFEASIBLE, message=f"targets infeasible: {why}",
                   extra={"spectral_radius": rho, "targets": t.tolist()}, **common)
