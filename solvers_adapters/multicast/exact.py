"""Method ``exact`` of paper 001: SCIP on the MINLP (31) of :mod:`formulations.multicast.minlp` (spatial
branch-and-bound; certificate ``global`` only with a proven gap ≤ ``gap_tol``, 10⁻⁴ relative by default).

Form: ``form="soc"`` (default) writes the SINR as u_i y_i ≤ D̃_i with y_i ≥ √Ĩ_i (a second-order cone) and
SE_i ≤ ω log2(1 + z_hi u_i²); it is exact without a fronthaul limit. With a fronthaul limit the epigraph counts the
scheduled rate (≤ the achievable one), so the SOC model is a relaxation of (31d): its optimum is certified only if
the evaluator confirms the extracted point (feasible, same value within 10⁻⁵ — a relaxation's optimum attained by a
feasible point is the optimum); otherwise the equality form (``form="exact"``: every epigraph row an equality, the
load of the achievable rate) is solved in the remaining time. Infeasible QoS/fronthaul targets → SCIP's
``infeasible`` (no point). SCIP defaults :data:`SCIP_OPTIONS` (each overridable; ``gap_tol``, ``tee``).
"""
from __future__ import annotations

from typing import Any

from formulations.multicast import minlp as F
from solvers_adapters.algorithms import Clock, Outcome
from solvers_adapters.algorithms.options import scip_options, solver_versions
from solvers_adapters.base import solve_model
from solvers_adapters.multicast.common import evaluate_point, point, system
from solvers_adapters.result import Status

__all__ = ["run_exact", "SCIP_OPTIONS", "AGREE_RTOL"]

SCIP_OPTIONS = {"numerics/feastol": 1e-8, "propagating/obbt/freq": 1, "display/verblevel": 0, "gap_tol": 1e-4}
#: relative agreement between SCIP's value and the evaluator's at SCIP's point for keeping SCIP's certificate
AGREE_RTOL = 1e-5


def _solve(sys_, form: str, time_limit, opts):
    model = F.build(sys_, form=form)
    r = solve_model(model, "scip", time_limit=time_limit, **opts)
    return model, r


def run_exact(instance, *, precoding: str | None = None, time_limit: float | None = None, seed: int | None = None,
              form: str = "soc", **options: Any) -> Outcome:
    """SCIP on (31) (module docstring)."""
    clock, (sys_, prec) = Clock(), system(instance, precoding)
    opts = scip_options(SCIP_OPTIONS, options, seed)
    model, r = _solve(sys_, form, time_limit, opts)
    pt = point(sys_, **F.extract(model)) if r.has_solution else None
    note = ""
    if pt is not None and sys_.fh_cap is not None and form == "soc":
        ev = evaluate_point(instance, pt, prec)
        agree = abs(ev.objective - (r.solver_objective or 0.0)) <= AGREE_RTOL * max(1.0, abs(ev.objective))
        if not (ev.feasible and agree):
            note = "SOC relaxation's point misses (31d); re-solved with the equality form. "
            model, r = _solve(sys_, "exact", clock.remaining(time_limit), opts)
            pt = point(sys_, **F.extract(model)) if r.has_solution else None
    message = r.message
    if r.status is Status.INFEASIBLE:
        message = f"targets infeasible (SCIP proved (31) infeasible: {r.message})"
    return Outcome(status=r.status, certificate=r.certificate, point=pt, context={"precoding": prec},
                   formulation=F.FORMULATION, solver="scip", solver_version=r.solver_version,
                   solver_versions=solver_versions(r, "scip"), solver_objective=r.solver_objective, bound=r.bound,
                   gap=r.gap, iterations=r.iterations, message=note + message, check_solver_objective=AGREE_RTOL,
                   wall_time_s=clock.elapsed())
