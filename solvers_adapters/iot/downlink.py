"""Downlink max-min power control methods of paper 003 (Rao, Ashikhmin, Yang, arXiv 2006.10363), problems (18)-(24);
spec ``iot_nonorthogonal.md`` §2.6 (Algorithm 2), §3.7, §3.8. Algorithm 2 itself is
:func:`solvers_adapters.iot.downlink_search.bisection_dl`; the models are :mod:`formulations.iot.downlink`.

Every method returns an :class:`solvers_adapters.algorithms.outcome.Outcome` (point ``{"eta" [M, K],
"estimator"}``) re-scored by the evaluator in :func:`experiments.results.make_result`; ``estimator`` "lmmse" |
"projection":

=========================  ===============  ===========================================================  =========
function                   method           what                                                         certificate
=========================  ===============  ===========================================================  =========
:func:`run_bisection_dl`   ``bisection``    :func:`bisection_dl`, SCIP or Ipopt                          global if
                                                                                                         every hi
                                                                                                         step proved
:func:`run_exact_dl`       ``exact``        SCIP on :func:`formulations.iot.downlink.build_epigraph`     SCIP's
:func:`run_equal_power_dl` ``equal-power``  η_mk = 1/Σ_j γ_mj                                            none
=========================  ===============  ===========================================================  =========

The SCIP option ``heuristics/multistart/freq`` = -1 (in :data:`SCIP_OPTIONS`) keeps SCIP's infeasibility proofs
fast (the heuristic ran on every infeasible model).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from formulations.iot import downlink as F
from instances.errors import InputError
from models.iot import system as iot_models
from solvers_adapters.algorithms.options import scip_options, solver_versions
from solvers_adapters.algorithms.outcome import Outcome
from solvers_adapters.base import solve_model
from solvers_adapters.iot.downlink_search import IPOPT_OPTIONS, SCIP_OPTIONS, VERIFY_RTOL, bisection_dl
from solvers_adapters.result import Certificate, Status

__all__ = ["SCIP_OPTIONS", "IPOPT_OPTIONS", "VERIFY_RTOL", "AGREE_RTOL", "bisection_dl", "run_bisection_dl",
           "run_exact_dl", "run_equal_power_dl"]

PROBLEM = F.PROBLEM
#: relative agreement between SCIP's τ² and the evaluator's min SINR at SCIP's point for keeping SCIP's certificate
AGREE_RTOL = 1e-5


def _system(instance, estimator: str):
    return iot_models.prepare(instance, estimator=estimator)


def _floats(step: dict[str, Any]) -> dict[str, Any]:
    return {k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in step.items()}


def run_bisection_dl(instance, *, estimator: str = "lmmse", solver: str = "ipopt", rel_tol: float = 1e-6,
                     time_limit: float | None = None, seed: int | None = None, step: str = "auto",
                     max_solves: int = 200, **options: Any) -> Outcome:
    """``iot-downlink-maxmin`` by :func:`bisection_dl`. Converged → status ``optimal``; certificate ``global``
    when every upper-bound move was proved (SCIP's infeasibility proofs, or the dual bound from Ipopt's
    multipliers), else ``local``. ``bound`` = hi, ``solver_objective`` = lo, ``gap`` = (hi − lo)/lo;
    ``iterations`` = solves, ``trace`` = lo per solve; ``solution["bracket"]``, ``["brackets"]``, ``["steps"]``.
    A stopped loop → ``limit``/``error`` with the best verified point. ``options``: solver options (SCIP
    parameters or Ipopt options by name)."""
    opts = scip_options(SCIP_OPTIONS, options, seed) if solver == "scip" else dict(options)
    br = bisection_dl(_system(instance, estimator), solver=solver, rel_tol=rel_tol, time_limit=time_limit,
                      step=step, max_solves=max_solves, solver_options=opts)
    if br.converged:
        cert = Certificate.GLOBAL if br.upper_proved else Certificate.LOCAL
    else:
        cert = Certificate.NONE
    return Outcome(status=br.status if br.status in (Status.OPTIMAL, Status.LIMIT) else Status.ERROR,
                   certificate=cert, point={"eta": br.point, "estimator": estimator},
                   context={"estimator": estimator}, formulation="socp-feasibility", solver=solver,
                   solver_version=br.info["solver_version"], solver_versions=br.info["solver_versions"],
                   solver_objective=br.lo, bound=br.hi, gap=max((br.hi - br.value) / br.value, 0.0),
                   iterations=br.iterations, trace=br.trace, message=f"bisection ({solver}): {br.message}",
                   extra={"bracket": [br.lo, br.hi], "brackets": br.history,
                          "steps": [_floats(s) for s in br.records], "certified": br.upper_proved})


def run_exact_dl(instance, *, estimator: str = "lmmse", time_limit: float | None = None, seed: int | None = None,
                 **options: Any) -> Outcome:
    """``iot-downlink-maxmin`` by SCIP on the epigraph :func:`formulations.iot.downlink.build_epigraph` (max τ,
    t = τ²; global). Status and certificate are SCIP's; bound t_hi = τ_bound², gap (t_hi − t)/t at the evaluator's
    t; the evaluator's min SINR at SCIP's point must agree with SCIP's τ² within 1e-5 relative, else the certificate
    is dropped (status ``feasible``). ``options``: SCIP parameters (defaults :data:`SCIP_OPTIONS`) and ``gap_tol``
    (on τ; default 1e-7 so that t is within ~2e-7)."""
    sys_ = _system(instance, estimator)
    data = F.dl_data(sys_)
    model = F.build_epigraph(data)
    opts = scip_options(SCIP_OPTIONS, options, seed)
    opts.setdefault("gap_tol", 1e-7)
    r = solve_model(model, "scip", time_limit=time_limit, **opts)
    point = sobj = bound = gap = None
    if r.has_solution:
        x = F.extract(model)
        eta = data.eta_from_u(data.power_feasible(x["u"], scale_up=False))
        point, sobj, mine = {"eta": eta, "estimator": estimator}, x["tau"] ** 2, float(sys_.downlink_sinr(eta).min())
        if r.bound is not None and math.isfinite(r.bound):
            bound = float(r.bound) ** 2
            gap = max((bound - mine) / mine, 0.0) if mine > 0 else math.inf
    return Outcome(status=r.status, certificate=r.certificate, point=point, context={"estimator": estimator},
                   formulation="epigraph", solver="scip", solver_version=r.solver_version,
                   solver_versions=solver_versions(r, "scip"), solver_objective=sobj, bound=bound, gap=gap,
                   iterations=r.iterations, message=r.message, check_solver_objective=AGREE_RTOL)


def run_equal_power_dl(instance, *, estimator: str = "lmmse", time_limit: float | None = None,
                       seed: int | None = None, **options: Any) -> Outcome:
    """``iot-downlink-maxmin`` baseline: η_mk = 1/Σ_j γ_mj (every AP at full power; Paper B's "no power
    control"); status ``feasible``, certificate ``none``."""
    if options:
        raise InputError("options", f"unknown option(s) for equal-power: {', '.join(sorted(options))}")
    sys_ = _system(instance, estimator)
    return Outcome(status=Status.FEASIBLE, point={"eta": sys_.equal_dl_power(), "estimator": estimator},
                   context={"estimator": estimator}, formulation="closed-form", iterations=0,
                   message="eta_mk = 1/sum_j gamma_mj (every AP at full power)")
