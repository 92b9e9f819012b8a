"""The small-cell baseline of paper 003 (Rao, Ashikhmin, Yang, arXiv 2006.10363, Section VII, eq. (25); Ngo et al.
2017 (38)-(50); spec ``iot_nonorthogonal.md`` §2.8, §3.9), the ``bisection`` methods of the problems
``iot-smallcell-uplink-maxmin`` and ``iot-smallcell-downlink-maxmin``: each thing is served by its strongest
free AP (:mod:`models.iot.small_cells`), max-min
power control by :func:`solvers_adapters.iot.power_control.small_cell_maxmin` (the small-cell rate is increasing in
the effective SINR, so max-min rate = max-min ω̄ or μ̄). The point α [K] is scored by
:func:`models.iot.small_cells.evaluate_small_cells`."""
from __future__ import annotations

from typing import Any

from models.iot import system as iot_models
from models.iot.small_cells import small_cell_downlink_system, small_cell_uplink_system
from solvers_adapters.algorithms.outcome import Outcome
from solvers_adapters.base import dist_version
from solvers_adapters.iot.lp_oracle import highs_version
from solvers_adapters.iot.power_control import small_cell_maxmin
from solvers_adapters.result import Certificate, Status

__all__ = ["run_bisection_ul", "run_bisection_dl"]


def _outcome(br, estimator: str, context: dict[str, Any]) -> Outcome:
    status = br.status if br.status in (Status.OPTIMAL, Status.LIMIT) else Status.FEASIBLE
    return Outcome(status=status, certificate=Certificate.GLOBAL if br.converged else Certificate.NONE,
                   point={"eta": br.point, "estimator": estimator},
                   context={"estimator": estimator, **context},
                   formulation="lp-feasibility", solver="highs", solver_version=br.info["solver_version"],
                   solver_versions={"highs": highs_version(), "highspy": dist_version("highspy")},
                   solver_objective=br.lo, bound=br.hi, iterations=br.iterations, trace=br.trace,
                   message=f"small cells, bisection: {br.message}", extra={"bracket": [br.lo, br.hi]})


def run_bisection_ul(instance, *, estimator: str = "lmmse", rel_tol: float = 1e-6, time_limit: float | None = None,
                       seed: int | None = None) -> Outcome:
    """Small-cell uplink max-min ω̄ (Paper B (45)-(46), Paper A (25)) by the LP bisection."""
    lf = small_cell_uplink_system(iot_models.prepare(instance, estimator=estimator))
    return _outcome(small_cell_maxmin(lf, rel_tol=rel_tol, time_limit=time_limit), estimator, {})


def run_bisection_dl(instance, *, estimator: str = "lmmse", rel_tol: float = 1e-6, sc_pilot_w: float | None = None,
                       time_limit: float | None = None, seed: int | None = None) -> Outcome:
    """Small-cell downlink max-min μ̄ (Paper B (42)-(43), (50)) by the LP bisection; the serving APs send the DL
    pilots with ``sc_pilot_w`` W (None: the things' pilot power, spec ambiguity A6)."""
    sys_ = iot_models.prepare(instance, estimator=estimator)
    rho_p = None if sc_pilot_w is None else sc_pilot_w / instance.noise_w
    lf = small_cell_downlink_system(sys_, rho_p_sc=rho_p)
    context = {} if sc_pilot_w is None else {"sc_pilot_w": float(sc_pilot_w)}
    return _outcome(small_cell_maxmin(lf, rel_tol=rel_tol, time_limit=time_limit), estimator, context)
