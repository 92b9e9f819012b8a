"""Algorithm 2 of paper 003 (Rao, Ashikhmin, Yang, arXiv 2006.10363; spec ``iot_nonorthogonal.md`` §2.6, §3.7,
§3.8): the downlink max-min SINR by the bracket engine (:func:`solvers_adapters.algorithms.bisection.bracket`) over
the SOCP feasibility model of :mod:`formulations.iot.downlink` (one model, only the mutable target changes).

Both ends are *proved*, never assumed:

* **lo** is always the evaluator's min SINR at a stored, power-feasible point (:meth:`DLData.power_feasible`:
  clipped, per-AP scaled, then scaled up so that the most loaded AP is at full power — a common scaling ≥ 1 raises
  every SINR). Start: equal power η_mk = 1/Σ_j γ_mj. A "feasible" verdict at t is accepted only if the returned
  point's evaluator min SINR is ≥ t(1 − 1e-7); lo then becomes that value (≥ t up to 1e-7: the point often beats t).
* **hi** starts at the analytic bound :meth:`DLData.upper_bound` and moves down only on a proof: SCIP's
  "infeasible" (global), or, with Ipopt, the weak-duality bound :func:`models.iot.downlink.lagrangian_bound` built
  from Ipopt's multipliers (numpy, independent of Ipopt's own claims): it proves infeasibility of t (a Farkas
  certificate) and more generally τ* ≤ τ + L̄/Σλ (:func:`models.iot.downlink.tau_upper_bound`), which lowers hi
  after *every* Ipopt solve, feasible or not.

Solvers: ``"ipopt"`` — the ``"slack"`` model (max s, always feasible; s* ≥ 0 ⇔ t ≤ t*) with exact Hessian, primal
warm start from the previous solution; an infeasible verdict (s* < 0) whose dual bound does not prove it still moves
hi, but the bracket is then not ``upper_proved`` (certificate ``local``). Weights δ_k = ‖y_k‖ at the incumbent
normalise the slack so that s* ≈ τ* − τ. ``bound_relax_factor`` = 0 (:data:`IPOPT_OPTIONS`): Ipopt's default relaxes
every bound by 1e-8, which left the dual bound short of a proof within 1e-6 of t*. ``"scip"`` — the ``"none"``
model (pure feasibility), ``numerics/feastol`` 1e-9 (so that its points pass the 1e-7 verification); tiny instances.

``step``: ``"bisection"`` — Algorithm 2 proper: the engine's ``"mixed"`` rule (geometric while hi > 2 lo, then the
midpoint). ``"auto"`` (default; Ipopt) — the Dinkelbach hook :class:`_Search`: t = lo (always feasible), i.e. the
generalised Dinkelbach iteration of Crouzeix–Ferland–Schaible for max-min of ratios w_k/‖y_k‖, until a step gains
less than rel_tol/4; then one *probe* at lo(1 + rel_tol/2), whose proved infeasibility closes the bracket (otherwise
back to Dinkelbach, or to bisection after a probe that gained nothing). SCIP always bisects.

A solve that ends neither feasible nor infeasible (time limit, solver error, a "feasible" point the evaluator
rejects) stops the loop: status ``limit`` or ``error`` with the best verified point and the bracket so far.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from formulations.iot import downlink as F
from instances.errors import InputError
from models.iot import downlink as D
from solvers_adapters.algorithms.bisection import Bracket, Report, bracket, mixed
from solvers_adapters.algorithms.loop import Clock
from solvers_adapters.algorithms.options import check_tol, solver_versions
from solvers_adapters.base import check_time_limit, dist_version, solve_model
from solvers_adapters.result import Status

__all__ = ["SCIP_OPTIONS", "IPOPT_OPTIONS", "VERIFY_RTOL", "SOLVERS", "STEPS", "bisection_dl"]

#: SCIP options of every model solved here (overridable per call)
SCIP_OPTIONS = {"numerics/feastol": 1e-9, "display/verblevel": 0, "heuristics/multistart/freq": -1}
#: Ipopt options of the slack model (overridable per call)
IPOPT_OPTIONS = {"tol": 1e-10, "acceptable_iter": 0, "mu_strategy": "adaptive", "bound_relax_factor": 0.0}
#: a "feasible" verdict at t needs the point's evaluator min SINR ≥ t (1 − VERIFY_RTOL)
VERIFY_RTOL = 1e-7
SOLVERS = ("ipopt", "scip")
STEPS = ("auto", "bisection")


def _versions(solver: str, r=None) -> tuple[str, dict[str, str]]:
    if r is not None and r.solver_version:
        return r.solver_version, solver_versions(r, solver)
    if solver == "scip":
        from solvers_adapters.scip import scip_version
        v = scip_version()
        return v, {"scip": v, "pyscipopt": dist_version("pyscipopt")}
    from solvers_adapters.ipopt import IPOPT_VERSION
    return IPOPT_VERSION, {"ipopt": IPOPT_VERSION}


class _Search:
    """The oracle (one feasibility solve at t, with its proofs) and the step rule of :func:`bisection_dl`; they
    share the step mode (``dinkelbach`` / ``probe`` / ``bisection``), the incumbent u and the probe fraction."""

    def __init__(self, system, data: D.DLData, model, solver: str, opts: dict[str, Any], rel_tol: float,
                 step: str, u_best: np.ndarray):
        self.system, self.data, self.model, self.solver, self.opts = system, data, model, solver, opts
        self.ipopt, self.rel_tol = solver == "ipopt", rel_tol
        self.auto = self.ipopt and step == "auto"
        self.mode = "dinkelbach" if self.auto else "bisection"
        self.u_best, self.last_r = u_best, None
        self.ambiguous, self.probe_frac, self.stay = 0, 0.5, False

    def value(self, u) -> tuple[float, np.ndarray, np.ndarray]:
        u = self.data.power_feasible(u)
        eta = self.data.eta_from_u(u)
        return float(self.system.downlink_sinr(eta).min()), eta, u

    # ------------------------------------------------------------------------------------------ step rule
    def __call__(self, lo: float, hi: float) -> float:
        if self.mode == "dinkelbach":
            return lo
        if self.mode == "probe":
            return lo * (1.0 + self.probe_frac * self.rel_tol)
        return mixed(lo, hi)

    def observe(self, rep: Report, lo_before: float, lo: float, hi: float) -> None:
        verdict = rep.record["verdict"]
        if lo > lo_before and not self.stay:
            self.probe_frac = 0.5
        if not self.auto or verdict == "ambiguous" or self.stay:
            return
        gain = (lo - lo_before) / lo_before
        if self.mode == "dinkelbach":
            # converged from below (the gain is below the tolerance): probe just above lo for the proof
            self.mode = "probe" if gain < 0.25 * self.rel_tol else "dinkelbach"
        elif self.mode == "probe":
            self.mode = "dinkelbach" if gain >= 0.25 * self.rel_tol else "bisection"
        elif verdict == "feasible":
            self.mode = "dinkelbach"

    # ------------------------------------------------------------------------------------------ oracle
    def oracle(self, q) -> Report:
        t, self.stay = q.t, False
        if self.ipopt:
            F.set_target(self.model, t, delta=np.sqrt(self.data.y_norm2(self.u_best)))
            if q.iteration == 0:
                F.start(self.model, self.data, self.u_best)
        else:
            F.set_target(self.model, t)
        clock = Clock()
        r = solve_model(self.model, self.solver, time_limit=q.remaining, **self.opts)
        self.last_r = r
        rec: dict[str, Any] = {"t": t, "mode": self.mode, "solver_status": r.status.value,
                               "seconds": clock.elapsed(), "iterations": r.iterations}
        if r.status is Status.OPTIMAL:
            return self._solved(q, rec)
        if r.status is Status.INFEASIBLE and not self.ipopt:
            rec["verdict"] = "infeasible (proved)"
            return Report.infeasible(t, record=rec)
        return self._stopped(q, rec, r)

    def _point(self, x, lo: float, rep: Report) -> tuple[float, float]:
        val, eta, u = self.value(x["u"])
        if val > lo:
            lo, self.u_best = val, u
            rep.lower, rep.point = val, eta
        return val, lo

    def _dual_bound(self, x, tau: float) -> float:
        lam = F.cone_multipliers(self.model)
        tub = D.tau_upper_bound(self.data, tau, lam, D.lagrangian_bound(self.data, tau, lam, x["u"], x["theta"]))
        return tub * tub if math.isfinite(tub) else math.inf

    def _solved(self, q, rec: dict[str, Any]) -> Report:
        t, rep = q.t, Report(record=rec)
        x = F.extract(self.model)
        val, lo = self._point(x, q.lo, rep)
        rec["point_min_sinr"] = val
        verified = val >= t * (1.0 - VERIFY_RTOL)
        if not self.ipopt:                                     # SCIP found a point of the feasibility model
            rec["verdict"] = "feasible" if verified else "unverified"
            if not verified:
                rep.stop = Status.ERROR
                rep.message = (f"SCIP called t = {t:.10g} feasible but the evaluator gives min SINR {val:.10g} "
                               f"at its point")
            return rep
        s_opt = rec["s"] = x["s"]
        t_ub = rec["dual_bound_t"] = self._dual_bound(x, math.sqrt(t))
        hi = q.hi
        if t_ub < lo * (1.0 - VERIFY_RTOL):                    # cannot happen in exact arithmetic
            rec["dual_bound_rejected"] = True
        elif t_ub < hi:
            hi, rep.upper = max(t_ub, lo), t_ub
        if val >= t or t <= q.lo or (s_opt >= 0.0 and verified):
            rec["verdict"] = "feasible"                        # (t <= lo: the incumbent already proves it)
        elif hi <= t:
            rec["verdict"] = "infeasible (proved)"
        elif s_opt < 0.0 and self.mode == "probe" and self.probe_frac < 1.0:
            rec["verdict"] = "infeasible (unproved: probe again at rel_tol)"
            self.probe_frac, self.stay = 1.0, True
        elif s_opt < 0.0:                                      # Ipopt's verdict, not proved by the dual bound
            rep.upper, rep.proved = t, False
            rec["verdict"] = "infeasible (local)"
        else:                                                  # s* >= 0 but the point misses t: within tolerances
            rec["verdict"] = "ambiguous"
            self.ambiguous += 1
            if self.ambiguous > 2:
                rep.stop = Status.ERROR
                rep.message = (f"Ipopt's verdicts stay ambiguous near t = {t:.10g} (s* = {s_opt:.3g}, point "
                               f"min SINR {val:.10g})")
            self.mode = "bisection"
        return rep

    def _stopped(self, q, rec: dict[str, Any], r) -> Report:
        """Neither verdict: stop; whatever point was loaded still gives a verified lower bound, and (Ipopt) any
        multipliers a valid upper bound; the verdict itself is not used."""
        rec["verdict"] = r.status.value
        rep = Report(stop=Status.LIMIT if r.status is Status.LIMIT else Status.ERROR, record=rec,
                     message=f"{self.solver} at t = {q.t:.10g}: status {r.status.value} ({r.message})")
        if self.ipopt or r.solver_objective is not None:
            try:
                x = F.extract(self.model)
                _, lo = self._point(x, q.lo, rep)
                if self.ipopt:
                    t_ub = self._dual_bound(x, math.sqrt(q.t))
                    if lo * (1.0 - VERIFY_RTOL) <= t_ub < q.hi:
                        rep.upper = t_ub
            except (TypeError, ValueError, FloatingPointError):
                pass
        return rep


def _check(system, solver, step, rel_tol, max_solves, time_limit):
    if not (hasattr(system, "dl_stats") and hasattr(system, "equal_dl_power")):
        raise InputError("system", f"expected an IoTSystem (models.iot.system.prepare), got {type(system).__name__}")
    if solver not in SOLVERS:
        raise InputError("solver", f"expected one of {', '.join(SOLVERS)}, got {solver!r}")
    if step not in STEPS:
        raise InputError("step", f"expected one of {', '.join(STEPS)}, got {step!r}")
    rel_tol = check_tol("rel_tol", rel_tol)
    if isinstance(max_solves, bool) or not isinstance(max_solves, (int, np.integer)) or max_solves < 1:
        raise InputError("max_solves", f"must be a positive integer, got {max_solves!r}")
    return rel_tol, (check_time_limit(time_limit) if time_limit is not None else None)


def bisection_dl(system, *, solver: str = "ipopt", rel_tol: float = 1e-6, time_limit: float | None = None,
                 step: str = "auto", max_solves: int = 200, solver_options: dict[str, Any] | None = None
                 ) -> Bracket:
    """max_η min_k SINR_k^d(η) s.t. per-AP power, for an IoTSystem (``prepare(instance, estimator=...)``), by
    Algorithm 2 with proved bracket ends (module docstring). ``solver`` "ipopt" | "scip"; ``rel_tol`` relative
    bracket width; ``time_limit`` seconds for the whole loop; ``step`` "auto" | "bisection"; ``max_solves`` caps
    the solves (``limit`` when reached); ``solver_options`` override :data:`IPOPT_OPTIONS` / :data:`SCIP_OPTIONS`.
    Returns the :class:`Bracket`: point η [M, K] (lo = its evaluator min SINR), ``upper_proved`` (every move of hi
    was proved), ``records`` per solve (target t, verdict, solver status, seconds, s* and dual bound with Ipopt),
    ``info``: solver, solver_version(s), build_time_s."""
    clock = Clock()
    rel_tol, time_limit = _check(system, solver, step, rel_tol, max_solves, time_limit)
    data = D.dl_data(system)
    opts = {**(SCIP_OPTIONS if solver == "scip" else IPOPT_OPTIONS), **(solver_options or {})}
    u0 = data.power_feasible(data.u_from_eta(system.equal_dl_power()))
    eta0 = data.eta_from_u(u0)
    lo = float(system.downlink_sinr(eta0).min())
    if not lo > 0:
        raise InputError("system", "min SINR at equal power is 0: some thing has no channel (gamma = 0 everywhere)")
    ipopt = solver == "ipopt"
    model = F.build_feasibility(data, t=lo, objective="slack" if ipopt else "none", duals=ipopt)
    build_time = clock.elapsed()
    search = _Search(system, data, model, solver, opts, rel_tol, step, u0)
    br = bracket(search.oracle, lo, max(data.upper_bound(), lo), rel_tol=rel_tol, step=search, point=eta0,
                 clock=clock, time_limit=time_limit, max_steps=max_solves)
    lo, hi, n = br.lo, br.hi, br.iterations
    if br.converged:
        message = (f"bracket [{lo:.10g}, {hi:.10g}], relative width {(hi - lo) / lo:.3g} <= rel_tol {rel_tol:g} "
                   f"after {n} {solver} solves")
    else:
        why = f"max_solves = {max_solves} reached" if br.message.startswith("max_steps") else br.message
        message = f"{why}; bracket [{lo:.10g}, {hi:.10g}] (relative width {(hi - lo) / lo:.3g}) after {n} solves"
    if not br.upper_proved:
        message += "; some infeasible verdicts are Ipopt's without a dual proof"
    version, vers = _versions(solver, search.last_r)
    return dataclasses.replace(br, message=message, info={"solver": solver, "solver_version": version,
                                                          "solver_versions": vers, "build_time_s": build_time})
