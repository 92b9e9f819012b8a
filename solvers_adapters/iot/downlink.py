"""Downlink max-min power control of paper 003 (Rao, Ashikhmin, Yang, arXiv 2006.10363), problems (18)-(24);
spec ``iot_nonorthogonal.md`` §2.6 (Algorithm 2), §3.7, §3.8. Models: :mod:`formulations.iot.downlink`.

:func:`bisection_dl` — Algorithm 2 on an :class:`models.iot.system.IoTSystem`: keep a bracket t_lo ≤ t* ≤ t_hi, test a
target t with the SOCP feasibility model (one model, only the mutable target changes), move one end, stop when
t_hi − t_lo ≤ rel_tol·t_lo. Both ends are *proved*, never assumed:

* **t_lo** is always the evaluator's min SINR at a stored, power-feasible point (:meth:`DLData.power_feasible`:
  clipped, per-AP scaled, then scaled up so that the most loaded AP is at full power — a common scaling ≥ 1 raises
  every SINR). Start: equal power η_mk = 1/Σ_j γ_mj. A "feasible" verdict at t is accepted only if the returned
  point's evaluator min SINR is ≥ t(1 − 1e-7); t_lo then becomes that value (≥ t up to 1e-7: the point often
  beats t).
* **t_hi** starts at the analytic bound :meth:`DLData.upper_bound` and moves down only on a proof:
  SCIP's "infeasible" (global), or, with Ipopt, the weak-duality bound :func:`formulations.iot.downlink.
  lagrangian_bound` built from Ipopt's multipliers (numpy, independent of Ipopt's own claims): it proves
  infeasibility of t (a Farkas certificate) and more generally τ* ≤ τ + L̄/Σλ (:func:`tau_upper_bound`), which
  lowers t_hi after *every* Ipopt solve, feasible or not.

Solvers:

* ``"ipopt"`` — the ``"slack"`` model (max s, always feasible; s* ≥ 0 ⇔ t ≤ t*) with exact Hessian (diagonal),
  primal warm start from the previous solution. An infeasible verdict (s* < 0) whose dual bound does not prove
  it (numerically ambiguous, |s*| at the solver tolerance) still moves t_hi, but the outcome is then certified
  only ``local``. Weights δ_k = ‖y_k‖ at the incumbent normalise the slack so that s* ≈ τ* − τ (a Newton-like
  step, see ``step``). ``bound_relax_factor`` = 0 (in :data:`IPOPT_OPTIONS`): Ipopt's default relaxes every bound
  by 1e-8, which inflated s* by ~4e-8 and left the dual bound short of a proof within 1e-6 of t*.
* ``"scip"`` — the ``"none"`` model (pure feasibility; SCIP stops at the first feasible point or proves
  infeasibility), ``numerics/feastol`` 1e-9 (so that its points pass the 1e-7 verification). Tiny instances only.

``step``: ``"bisection"`` — Algorithm 2 proper: t = the bracket's midpoint (geometric while t_hi > 2 t_lo).
``"auto"`` (default; Ipopt) — t = t_lo (always feasible), i.e. the generalised Dinkelbach iteration of
Crouzeix–Ferland–Schaible for max-min of ratios w_k/‖y_k‖ (t_lo rises to the new point's min SINR; with the weights
δ_k it converges superlinearly in practice), until a step gains less than rel_tol/4; then one *probe* at
t_lo(1 + rel_tol/2), whose proved infeasibility closes the bracket (otherwise back to Dinkelbach, or to bisection
after a probe that gained nothing). SCIP always bisects. Every choice keeps the same proofs.

A solve that ends neither feasible nor infeasible (time limit, solver error, a "feasible" point the evaluator
rejects) stops the loop: the outcome is ``limit`` or ``error`` with the best verified point and the bracket so far.

Instance-level methods (``iot-downlink-maxmin``; each returns a :class:`SolveResult` built by
:func:`solvers_adapters.iot.common.iot_result`, re-scored by the evaluator; ``estimator`` "lmmse" | "projection"):

=========================  ===============  ===========================================================  =========
function                   method           what                                                         certificate
=========================  ===============  ===========================================================  =========
:func:`run_bisection_dl`   ``bisection``    :func:`bisection_dl`, SCIP or Ipopt                          global if
                                                                                                         every t_hi
                                                                                                         step proved
:func:`run_exact_dl`       ``exact``        SCIP on :func:`formulations.iot.downlink.build_epigraph`     SCIP's
:func:`run_equal_power_dl` ``equal-power``  η_mk = 1/Σ_j γ_mj                                            none
=========================  ===============  ===========================================================  =========

Measured (one core of this machine, ``rao2020.generate`` with random pilots, seeds 1-2, both estimators, rel_tol
1e-6; wall time of :func:`bisection_dl` including the model build and the first compile of the Ipopt program):

==============  =========  ======================  =============================================================
M, K, τ_p       solver     seconds (solves)        note
==============  =========  ======================  =============================================================
8, 5, 3         ipopt      0.1-0.5 (3-5)           every bracket certified (dual bound)
20, 8, 4        ipopt      0.3-1 (6-7)
40, 16, 8       ipopt      1.7-2.4 (7-8)           ~0.2 s per Ipopt solve
60, 24, 12      ipopt      6-10 (8)                ~0.6-1 s per solve
100, 40, 20     ipopt      33-48 (8-9)             first solve ~8 s (46 iterations, incl. compile), then ~2.5-4 s
8, 5, 3         scip       1.8-4.3 (19-21)         SCIP's infeasibility proofs near t* dominate
12, 6, 3        scip       3.5-88 (19-20)          erratic: proofs at relative distance ~1e-6 from t* are hard
20, 8, 4        scip       > 120 (limit)           bracket 2e-6 to 1.6e-5 after 120 s; use Ipopt beyond tiny sizes
==============  =========  ======================  =============================================================

Per Ipopt iteration at M = 100, K = 40 (7 260 variables, 3 120 coherent rows of 100 coefficients): ~0.13 s inside
Ipopt/MUMPS plus ~0.6 s per solve for the adapter's Pyomo-side checks. The SCIP option
``heuristics/multistart/freq`` = -1 (in :data:`SCIP_OPTIONS`) cut its infeasibility proofs from ~1.2 s to ~0.1 s at
M = 8, K = 5 (the heuristic ran on every infeasible model); proofs still take seconds to minutes within ~1e-6 of t*.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from formulations.iot import downlink as F
from instances.errors import InputError
from models.iot import system as iot_models
from solvers_adapters.base import dist_version, solve_model
from solvers_adapters.iot.common import check_agreement, check_tol, iot_result, remaining, scip_options, solver_versions
from solvers_adapters.result import Certificate, SolveResult, Status

__all__ = ["SCIP_OPTIONS", "IPOPT_OPTIONS", "VERIFY_RTOL", "DLOutcome", "bisection_dl", "run_bisection_dl",
           "run_exact_dl", "run_equal_power_dl"]

PROBLEM = F.PROBLEM
#: SCIP options of every model solved here (overridable per call)
SCIP_OPTIONS = {"numerics/feastol": 1e-9, "display/verblevel": 0, "heuristics/multistart/freq": -1}
#: Ipopt options of the slack model (overridable per call)
IPOPT_OPTIONS = {"tol": 1e-10, "acceptable_iter": 0, "mu_strategy": "adaptive", "bound_relax_factor": 0.0}
#: a "feasible" verdict at t needs the point's evaluator min SINR ≥ t (1 − VERIFY_RTOL)
VERIFY_RTOL = 1e-7
SOLVERS = ("ipopt", "scip")
STEPS = ("auto", "bisection")


@dataclass
class DLOutcome:
    """Result of :func:`bisection_dl`.

    t          evaluator min SINR at ``eta`` (= t_lo)
    eta        [M, K] power coefficients of the best verified point
    status     ``optimal`` (bracket ≤ rel_tol), ``limit`` (time/solve limit) or ``error`` (a solve failed or an
               unverifiable verdict); the point is valid in every case
    certified  every move of t_hi was proved (SCIP infeasibility or the dual bound); False if some Ipopt
               "infeasible" verdict was taken without proof
    t_lo, t_hi final bracket of t*; n solves; trace: t_lo after each solve; brackets: [t_lo, t_hi] after each
    steps      per solve: target t, verdict, solver status, seconds, s* (Ipopt), dual bound on t* (Ipopt)
    """

    t: float
    eta: np.ndarray
    status: str
    certified: bool
    t_lo: float
    t_hi: float
    n: int = 0
    trace: list[float] = field(default_factory=list)
    brackets: list[list[float]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    solver: str = ""
    solver_version: str = ""
    solver_versions: dict[str, str] = field(default_factory=dict)
    build_time_s: float = 0.0
    wall_time_s: float = 0.0

    @property
    def rel_width(self) -> float:
        return (self.t_hi - self.t_lo) / self.t_lo if self.t_lo > 0 else math.inf

    @property
    def converged(self) -> bool:
        return self.status == "optimal"


def _solver_opts(solver: str, options: dict[str, Any] | None) -> dict[str, Any]:
    opts = dict(SCIP_OPTIONS if solver == "scip" else IPOPT_OPTIONS)
    opts.update(options or {})
    return opts


def _versions(solver: str, r=None) -> tuple[str, dict[str, str]]:
    if r is not None and r.solver_version:
        return r.solver_version, solver_versions(r, solver)
    if solver == "scip":
        from solvers_adapters.scip import scip_version
        v = scip_version()
        return v, {"scip": v, "pyscipopt": dist_version("pyscipopt")}
    from solvers_adapters.ipopt import IPOPT_VERSION
    return IPOPT_VERSION, {"ipopt": IPOPT_VERSION}


def bisection_dl(system, *, solver: str = "ipopt", rel_tol: float = 1e-6, time_limit: float | None = None,
                 step: str = "auto", max_solves: int = 200, solver_options: dict[str, Any] | None = None
                 ) -> DLOutcome:
    """max_η min_k SINR_k^d(η) s.t. per-AP power, for an IoTSystem (``prepare(instance, estimator=...)``), by
    Algorithm 2 with proved bracket ends (module docstring). ``solver`` "ipopt" | "scip"; ``rel_tol`` relative
    bracket width; ``time_limit`` seconds for the whole loop; ``step`` "auto" | "bisection";
    ``max_solves`` caps the number of solves (``limit`` when reached); ``solver_options`` override
    :data:`IPOPT_OPTIONS` / :data:`SCIP_OPTIONS`."""
    t0 = time.perf_counter()
    if not (hasattr(system, "dl_stats") and hasattr(system, "equal_dl_power")):
        raise InputError("system", f"expected an IoTSystem (models.iot.system.prepare), got {type(system).__name__}")
    if solver not in SOLVERS:
        raise InputError("solver", f"expected one of {', '.join(SOLVERS)}, got {solver!r}")
    if step not in STEPS:
        raise InputError("step", f"expected one of {', '.join(STEPS)}, got {step!r}")
    rel_tol = check_tol("rel_tol", rel_tol)
    if isinstance(max_solves, bool) or not isinstance(max_solves, (int, np.integer)) or max_solves < 1:
        raise InputError("max_solves", f"must be a positive integer, got {max_solves!r}")
    if time_limit is not None:
        from solvers_adapters.base import check_time_limit
        time_limit = check_time_limit(time_limit)
    data = F.dl_data(system)
    opts = _solver_opts(solver, solver_options)
    ipopt = solver == "ipopt"

    def value(u) -> tuple[float, np.ndarray, np.ndarray]:
        u = data.power_feasible(u)
        eta = data.eta_from_u(u)
        return float(system.downlink_sinr(eta).min()), eta, u

    lo, eta_best, u_best = value(data.u_from_eta(system.equal_dl_power()))
    if not lo > 0:
        raise InputError("system", "min SINR at equal power is 0: some thing has no channel (gamma = 0 everywhere)")
    hi = max(data.upper_bound(), lo)
    model = F.build_feasibility(data, t=lo, objective="slack" if ipopt else "none", duals=ipopt)
    build_time = time.perf_counter() - t0
    certified = True
    status, message = "optimal", ""
    trace: list[float] = []
    brackets: list[list[float]] = []
    steps: list[dict[str, Any]] = []
    last_r = None
    mode = "dinkelbach" if ipopt and step == "auto" else "bisection"
    ambiguous = 0
    probe_frac = 0.5
    while hi - lo > rel_tol * lo:
        if len(steps) >= max_solves:
            status, message = "limit", f"max_solves = {max_solves} reached"
            break
        rem = remaining(t0, time_limit)
        if rem is not None and rem <= 0:
            status, message = "limit", "time limit"
            break
        if mode == "dinkelbach":
            t = lo
        elif mode == "probe":
            t = lo * (1.0 + probe_frac * rel_tol)
        else:
            t = math.sqrt(lo * hi) if hi > 2.0 * lo else 0.5 * (lo + hi)
        tau = math.sqrt(t)
        if ipopt:
            F.set_target(model, t, delta=np.sqrt(data.y_norm2(u_best)))
            if not steps:
                F.start(model, data, u_best)
        else:
            F.set_target(model, t)
        ts = time.perf_counter()
        r = solve_model(model, solver, time_limit=rem, **opts)
        last_r = r
        rec: dict[str, Any] = {"t": t, "mode": mode, "solver_status": r.status.value,
                               "seconds": time.perf_counter() - ts, "iterations": r.iterations}
        steps.append(rec)
        lo_before, stay = lo, False
        if r.status is Status.OPTIMAL:
            x = F.extract(model)
            val, eta, u = value(x["u"])
            rec["point_min_sinr"] = val
            if val > lo:
                lo, eta_best, u_best = val, eta, u
            verified = val >= t * (1.0 - VERIFY_RTOL)
            if not ipopt:                                      # SCIP found a point of the feasibility model
                if not verified:
                    rec["verdict"] = "unverified"
                    status = "error"
                    message = (f"SCIP called t = {t:.10g} feasible but the evaluator gives min SINR {val:.10g} "
                               f"at its point")
                    break
                rec["verdict"] = "feasible"
            else:
                s_opt = x["s"]
                rec["s"] = s_opt
                lam = F.cone_multipliers(model)
                bnd = F.lagrangian_bound(data, tau, lam, x["u"], x["theta"])
                tub = F.tau_upper_bound(data, tau, lam, bnd)
                t_ub = tub * tub if math.isfinite(tub) else math.inf
                rec["dual_bound_t"] = t_ub
                if t_ub < lo * (1.0 - VERIFY_RTOL):            # cannot happen in exact arithmetic
                    rec["dual_bound_rejected"] = True
                elif t_ub < hi:
                    hi = max(t_ub, lo)
                if val >= t or t <= lo_before or (s_opt >= 0.0 and verified):
                    rec["verdict"] = "feasible"                  # (t <= t_lo: the incumbent already proves it)
                elif hi <= t:
                    rec["verdict"] = "infeasible (proved)"
                elif s_opt < 0.0 and mode == "probe" and probe_frac < 1.0:
                    rec["verdict"] = "infeasible (unproved: probe again at rel_tol)"
                    probe_frac, stay = 1.0, True
                elif s_opt < 0.0:                              # Ipopt's verdict, not proved by the dual bound
                    hi = max(t, lo)
                    certified = False
                    rec["verdict"] = "infeasible (local)"
                else:                                          # s* >= 0 but the point misses t: within tolerances
                    rec["verdict"] = "ambiguous"
                    ambiguous += 1
                    if ambiguous > 2:
                        status = "error"
                        message = (f"Ipopt's verdicts stay ambiguous near t = {t:.10g} (s* = {s_opt:.3g}, point "
                                   f"min SINR {val:.10g})")
                        break
                    mode = "bisection"
        elif r.status is Status.INFEASIBLE and not ipopt:
            hi = max(t, lo)
            rec["verdict"] = "infeasible (proved)"
        else:
            rec["verdict"] = r.status.value
            status = "limit" if r.status is Status.LIMIT else "error"
            message = f"{solver} at t = {t:.10g}: status {r.status.value} ({r.message})"
            # whatever point was loaded still gives a verified lower bound, and (Ipopt) any multipliers a valid
            # upper bound; the verdict itself is not used
            if ipopt or r.solver_objective is not None:
                try:
                    x = F.extract(model)
                    val, eta, u = value(x["u"])
                    if val > lo:
                        lo, eta_best, u_best = val, eta, u
                    if ipopt:
                        lam = F.cone_multipliers(model)
                        tub = F.tau_upper_bound(data, tau, lam, F.lagrangian_bound(data, tau, lam, x["u"],
                                                                                   x["theta"]))
                        if lo * (1.0 - VERIFY_RTOL) <= tub * tub < hi:
                            hi = max(tub * tub, lo)
                except (TypeError, ValueError, FloatingPointError):
                    pass
            break
        trace.append(lo)
        brackets.append([lo, hi])
        if lo > lo_before and not stay:
            probe_frac = 0.5
        if ipopt and step == "auto" and rec["verdict"] != "ambiguous" and not stay:
            gain = (lo - lo_before) / lo_before
            if mode == "dinkelbach":
                # converged from below (the gain is below the tolerance): probe just above t_lo for the proof
                mode = "probe" if gain < 0.25 * rel_tol else "dinkelbach"
            elif mode == "probe":
                mode = "dinkelbach" if gain >= 0.25 * rel_tol else "bisection"
            elif rec["verdict"] == "feasible":
                mode = "dinkelbach"
    n = len(steps)
    if status == "optimal":
        message = (f"bracket [{lo:.10g}, {hi:.10g}], relative width {(hi - lo) / lo:.3g} <= rel_tol {rel_tol:g} "
                   f"after {n} {solver} solves")
    else:
        message = f"{message}; bracket [{lo:.10g}, {hi:.10g}] (relative width {(hi - lo) / lo:.3g}) after {n} solves"
    if not certified:
        message += "; some infeasible verdicts are Ipopt's without a dual proof"
    version, vers = _versions(solver, last_r)
    return DLOutcome(t=lo, eta=eta_best, status=status, certified=certified, t_lo=lo, t_hi=hi, n=n, trace=trace,
                     brackets=brackets, steps=steps, message=message, solver=solver, solver_version=version,
                     solver_versions=vers, build_time_s=build_time, wall_time_s=time.perf_counter() - t0)


# ================================================================================================================
# instance-level methods
# ================================================================================================================

def _system(instance, estimator: str):
    return iot_models.prepare(instance, estimator=estimator)


def run_bisection_dl(instance, *, estimator: str = "lmmse", solver: str = "ipopt", rel_tol: float = 1e-6,
                     time_limit: float | None = None, seed: int | None = None, step: str = "auto",
                     max_solves: int = 200, **options: Any) -> SolveResult:
    """``iot-downlink-maxmin`` by :func:`bisection_dl`. Converged → status ``optimal``; certificate ``global``
    when every upper-bound move was proved (SCIP's infeasibility proofs, or the dual bound from Ipopt's
    multipliers), else ``local``. ``bound`` = t_hi, ``solver_objective`` = t_lo, ``gap`` = (t_hi − objective)/
    objective; ``iterations`` = solves, ``trace`` = t_lo per solve; ``solution["bracket"]``, ``["brackets"]``,
    ``["steps"]``. A stopped loop → ``limit``/``error`` with the best verified point. ``options``: solver options
    (SCIP parameters or Ipopt options by name)."""
    t0 = time.perf_counter()
    sys_ = _system(instance, estimator)
    opts = scip_options(SCIP_OPTIONS, options, seed) if solver == "scip" else dict(options)
    out = bisection_dl(sys_, solver=solver, rel_tol=rel_tol, time_limit=time_limit, step=step,
                       max_solves=max_solves, solver_options=opts)
    if out.status == "optimal":
        status = Status.OPTIMAL
        cert = Certificate.GLOBAL if out.certified else Certificate.LOCAL
    else:
        status = Status.LIMIT if out.status == "limit" else Status.ERROR
        cert = Certificate.NONE
    gap = max((out.t_hi - out.t) / out.t, 0.0)
    steps = [{k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in s.items()} for s in out.steps]
    res = iot_result(PROBLEM, instance, method="bisection", formulation="socp-feasibility", solver=solver,
                     solver_version=out.solver_version, status=status, certificate=cert, eta=out.eta,
                     estimator=estimator, solver_objective=out.t_lo, bound=out.t_hi, gap=gap,
                     wall_time_s=time.perf_counter() - t0, iterations=out.n, trace=out.trace, seed=seed,
                     message=f"bisection ({solver}): {out.message}",
                     extra_solution={"bracket": [out.t_lo, out.t_hi], "brackets": out.brackets, "steps": steps,
                                     "certified": out.certified},
                     solver_versions=out.solver_versions)
    return res


def run_exact_dl(instance, *, estimator: str = "lmmse", time_limit: float | None = None, seed: int | None = None,
                 **options: Any) -> SolveResult:
    """``iot-downlink-maxmin`` by SCIP on the epigraph :func:`formulations.iot.downlink.build_epigraph` (max τ,
    t = τ²; global). Status, certificate, bound (t_hi = τ_bound²) and gap are SCIP's (gap converted to t:
    (t_hi − t)/t); ``objective`` is the evaluator's min SINR at SCIP's point. If the evaluator's value and SCIP's τ²
    differ by more than 1e-5 relative, the certificate is dropped (status ``feasible``). ``options``: SCIP
    parameters (defaults :data:`SCIP_OPTIONS`) and ``gap_tol`` (on τ; default 1e-7 so that t is within ~2e-7)."""
    t0 = time.perf_counter()
    sys_ = _system(instance, estimator)
    data = F.dl_data(sys_)
    model = F.build_epigraph(data)
    opts = scip_options(SCIP_OPTIONS, options, seed)
    opts.setdefault("gap_tol", 1e-7)
    r = solve_model(model, "scip", time_limit=time_limit, **opts)
    eta = None
    status, cert, message = r.status, r.certificate, r.message
    sobj = bound = gap = None
    if r.has_solution:
        x = F.extract(model)
        u = data.power_feasible(x["u"], scale_up=False)
        eta = data.eta_from_u(u)
        sobj = x["tau"] ** 2
        mine = float(sys_.downlink_sinr(eta).min())
        if r.bound is not None and math.isfinite(r.bound):
            bound = float(r.bound) ** 2
            gap = max((bound - mine) / mine, 0.0) if mine > 0 else math.inf
        status, cert, message = check_agreement(status, cert, message, mine, sobj, what="SCIP's tau^2")
    vers = solver_versions(r, "scip")
    return iot_result(PROBLEM, instance, method="exact", formulation="epigraph", solver="scip",
                      solver_version=r.solver_version, status=status, certificate=cert, eta=eta,
                      estimator=estimator, solver_objective=sobj, bound=bound, gap=gap,
                      wall_time_s=time.perf_counter() - t0, iterations=r.iterations, seed=seed, message=message,
                      solver_versions=vers)


def run_equal_power_dl(instance, *, estimator: str = "lmmse", time_limit: float | None = None,
                       seed: int | None = None, **options: Any) -> SolveResult:
    """``iot-downlink-maxmin`` baseline: η_mk = 1/Σ_j γ_mj (every AP at full power; Paper B's "no power
    control"); status ``feasible``, certificate ``none``."""
    if options:
        raise InputError("options", f"unknown option(s) for equal-power: {', '.join(sorted(options))}")
    t0 = time.perf_counter()
    sys_ = _system(instance, estimator)
    return iot_result(PROBLEM, instance, method="equal-power", formulation="closed-form", solver="cfopt",
                      solver_version=dist_version("cfopt"), status=Status.FEASIBLE, certificate=Certificate.NONE,
                      eta=sys_.equal_dl_power(), estimator=estimator, wall_time_s=time.perf_counter() - t0,
                      iterations=0, seed=seed, message="eta_mk = 1/sum_j gamma_mj (every AP at full power)")
