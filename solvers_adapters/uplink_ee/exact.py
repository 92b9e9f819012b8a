"""Methods ``exact`` and ``relaxed`` of problem ``uplink-ee`` (paper 000, problem (11) and relaxation (13)).

``run_exact(instance, ...)``
    The MINLP of :mod:`formulations.uplink_ee.minlp` (epigraph of (11a), exact for orthogonal pilots and optimal
    LSFD) solved to global optimality by SCIP. Status, certificate, bound and gap are SCIP's (through
    :func:`solvers_adapters.solve_model`); ``bound`` is SCIP's dual bound on EE in Mbit/J; ``solver_objective`` is
    SCIP's incumbent value; ``objective`` is the evaluator's EE of the extracted (η, D) (re-scored by
    :func:`experiments.results.make_result`; an optimum the evaluator does not confirm to 10⁻⁵ loses its certificate). An SE^QoS that no point meets comes back as status
    ``infeasible``, proved by SCIP (never as EE = 0). With ``objective="sum_se"`` the model maximises Σ SE (the
    SE-max end point of an EE–SE front): the formulation is reported as ``minlp-sum-se`` and ``solver_objective``,
    ``bound`` are then Σ SE in bit/s/Hz (``objective`` stays the evaluator's EE of that point).

``run_relaxed(instance, ...)``
    The relaxation (13) (the same model with d ∈ [0, 1]) solved *locally* by Ipopt from η = 1, D = all ones (every
    auxiliary variable set consistently, :func:`formulations.uplink_ee.minlp.set_point`; if Ipopt stops at a point
    of local infeasibility it is restarted with ``mu_strategy="adaptive"``, then from η = 1/2), then the relaxed
    association is turned binary by :func:`solvers_adapters.uplink_ee.recovery.recover_binary` at Ipopt's powers.
    Reported: the recovered binary point (status ``feasible``, certificate ``none``), ``solver_objective`` = the
    relaxed NLP value (a local optimum, hence no bound: ``bound`` = +inf). If recovery finds no association meeting
    SE^QoS, status ``infeasible`` with certificate ``none`` and a message saying that this is not a proof.

Options of both: ``se_qos`` (bit/s/Hz, overrides the instance's SE^QoS), ``time_limit`` (s), ``seed`` (recorded; for
``exact`` also passed to SCIP as ``randomization/randomseedshift``), ``objective`` (``"ee"`` | ``"sum_se"``),
``se_bound`` (``exact`` only, default True: the SE-max phase described in :func:`run_exact`);
the model options of :func:`models.uplink_ee.system.prepare` (``combining``, ``delta``, ``leakage``, ``prelog``, ``power``);
everything else goes to the solver (SCIP parameters and ``gap_tol``/``tee`` for ``exact``; Ipopt options and
``hessian`` for ``relaxed``). SCIP defaults of ``exact`` (each overridable by passing the parameter):
``numerics/feastol`` = 1e-8 (the evaluator's EE at SCIP's point then agrees with SCIP's value to ~1e-7 relative);
``propagating/obbt/freq`` = 1 (optimisation-based bound tightening at every node; timings in benchmarks/README.md);
``display/verblevel`` = 0 (see the note in :func:`_scip_options`).

Both return an :class:`solvers_adapters.algorithms.Outcome`. The sweep entry points :func:`exact_session` and
:func:`relaxed_session` build the model once; ``experiments.pareto`` changes SE^QoS with
:func:`formulations.uplink_ee.minlp.set_params` and re-solves it, warm-started from the previous point.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from formulations.uplink_ee import minlp as F
from models.uplink_ee.system import UplinkEE, prepare
from solvers_adapters.algorithms import Clock, Outcome
from solvers_adapters.base import solve_model
from solvers_adapters.result import Certificate, SolveResult, Status
from solvers_adapters.uplink_ee.recovery import recover_binary

__all__ = ["run_exact", "run_relaxed", "exact_session", "relaxed_session", "ExactSession", "RelaxedSession",
           "MODEL_OPTIONS"]

#: keyword options that configure the system model (:func:`models.uplink_ee.system.prepare`), not the solver
MODEL_OPTIONS = ("combining", "delta", "leakage", "prelog", "power")
#: relative agreement required between SCIP's value and the evaluator's at SCIP's point for a global certificate
AGREE_RTOL = 1e-5
_SCIP_VERSIONS = ("scip", "pyscipopt")


def _split(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    model_opts = {k: options.pop(k) for k in MODEL_OPTIONS if k in options}
    return model_opts, options


def _context(data: UplinkEE, qos: float | None = None) -> dict[str, Any]:
    return {**data.options, "se_qos": float(data.se_qos if qos is None else qos), "lsfd": "optimal"}


def _scip_options(solver_opts: dict[str, Any], seed: int | None) -> dict[str, Any]:
    """SCIP defaults of ``exact``. SCIP's log goes through a pipe that Pyomo drains from a Python thread while
    pyscipopt's optimize() holds the GIL: a long log (> 64 KiB) blocks SCIP forever. Keep SCIP quiet unless the
    caller asks for the log."""
    solver_opts.setdefault("numerics/feastol", 1e-8)
    solver_opts.setdefault("propagating/obbt/freq", 1)
    solver_opts.setdefault("display/verblevel", 4 if solver_opts.get("tee") else 0)
    if seed is not None:
        solver_opts.setdefault("randomization/randomseedshift", int(seed))
    return solver_opts


class ExactSession:
    """One MINLP model of (11) for ``data`` solved by SCIP, possibly several times with a new SE^QoS (the
    ε-constraint sweep). The SE-max phase (``se_bound``) runs once: on the first EE solve, or as
    :meth:`max_endpoint` (the SE-max end point of the front, from the same model)."""

    def __init__(self, data: UplinkEE, *, objective: str, se_bound: bool, solver_opts: dict[str, Any],
                 time_limit: float | None):
        self.data, self.objective, self.time_limit = data, objective, time_limit
        self.model = F.build(data, objective=objective)
        self.opts = solver_opts
        self.phase1 = objective == "ee" and se_bound
        self.notes: list[str] = []
        self.nodes, self.vers = 0, {}

    def _scip(self, time_limit: float | None) -> SolveResult:
        r = solve_model(self.model, "scip", time_limit=time_limit, **self.opts)
        self.nodes += r.iterations or 0
        self.vers = {k: v for k, v in r.versions.items() if k in _SCIP_VERSIONS}
        return r

    def _se_max(self) -> tuple[SolveResult, dict | None]:
        """Max Σ SE with the QoS row (the point extracted), then tighten the EE model with SCIP's bound."""
        self.phase1 = False
        F.set_objective(self.model, "sum_se")
        r1 = self._scip(self.time_limit)
        point = self._point(r1)
        F.set_objective(self.model, self.objective)
        if r1.status is not Status.INFEASIBLE and r1.bound is not None and math.isfinite(r1.bound):
            u = r1.bound * (1 + 1e-6) + 1e-9           # SCIP's bound holds up to its feasibility tolerance
            F.set_sum_se_max(self.model, u)
            self.notes.append(f"phase 1 (SE-max) bound sum SE <= {u:.8g} bit/s/Hz ({r1.status.value}, "
                              f"{r1.wall_time_s:.2f} s)")
        elif r1.status is not Status.INFEASIBLE:
            self.notes.append(f"phase 1 (SE-max) gave no bound ({r1.status.value}: {r1.message})")
        return r1, point

    def _phase1_limit(self, r1: SolveResult) -> SolveResult:
        """No time for the EE solve: report phase 1's incumbent (it meets SE^QoS) as the limit's point."""
        inc = r1.solver_objective is not None and r1.status in (Status.OPTIMAL, Status.FEASIBLE, Status.LIMIT)
        r1.status, r1.certificate, r1.gap = Status.LIMIT, Certificate.NONE, None
        r1.solver_objective = F.objective_value(self.model) if inc else None
        r1.bound = math.inf
        r1.message = "time limit reached in phase 1 (SE-max)" + ("; the point is phase 1's incumbent" if inc
                                                                 else ", no point")
        return r1

    def max_endpoint(self) -> Outcome:
        """The SE-max end point (max Σ SE at the current SE^QoS, as ``run_exact(objective="sum_se")``); with
        ``se_bound`` its proven bound then tightens the EE model of later solves."""
        self.nodes, clock = 0, Clock()
        if self.objective == "ee" and self.phase1:
            r, point = self._se_max()
        else:
            F.set_objective(self.model, "sum_se")
            r = self._scip(self.time_limit)
            point = self._point(r)
            F.set_objective(self.model, self.objective)
        out = self._outcome(r, float(self.model.se_qos.value), "sum_se", point, notes=False)
        out.wall_time_s = clock.elapsed()
        return out

    def solve(self, se_qos: float | None = None) -> Outcome:
        """Solve at ``se_qos`` (None: the current one) and return the Outcome."""
        clock = Clock()
        if se_qos is not None:
            F.set_params(self.model, se_qos=se_qos)
        qos = float(self.model.se_qos.value)
        self.nodes, r, left = 0, None, self.time_limit
        if self.phase1:
            r1, _ = self._se_max()
            if r1.status is Status.INFEASIBLE:
                r = r1
            elif self.time_limit is not None:
                left = clock.remaining(self.time_limit)
                r = self._phase1_limit(r1) if left <= 0 else None
                left = max(left, 1e-3)
        if r is None:
            r = self._scip(left)
        out = self._outcome(r, qos, self.objective, self._point(r))
        out.wall_time_s = clock.elapsed()
        return out

    def _point(self, r: SolveResult) -> dict | None:
        if r.status in (Status.OPTIMAL, Status.FEASIBLE) or (r.status is Status.LIMIT and r.solver_objective
                                                             is not None):
            return F.extract(self.model)
        return None

    def _outcome(self, r: SolveResult, qos: float, objective: str, point, *, notes: bool = True) -> Outcome:
        message = r.message
        if point is not None and objective == "sum_se":
            message = f"objective sum_se: solver_objective and bound are sum SE in bit/s/Hz; {message}"
        elif point is None and r.status is Status.INFEASIBLE:
            message = f"SE^QoS = {qos:g} bit/s/Hz cannot be met (SCIP proved infeasibility: {r.message})"
        if notes and self.notes:
            message = f"{message}; {'; '.join(self.notes)}"
        return Outcome(status=r.status, certificate=r.certificate, point=point,
                       formulation=F.FORMULATION if objective == "ee" else f"{F.FORMULATION}-sum-se",
                       solver="scip", solver_version=r.solver_version, solver_versions=dict(self.vers),
                       solver_objective=r.solver_objective, bound=r.bound, gap=r.gap, iterations=self.nodes,
                       message=message, context=_context(self.data, qos), check_solver_objective=AGREE_RTOL,
                       check_against=None if objective == "ee" else "sum_se_bps_hz")


def exact_session(instance, *, time_limit: float | None = None, seed: int | None = None,
                  se_qos: float | None = None, objective: str = "ee", se_bound: bool = True,
                  **options: Any) -> ExactSession:
    """The model of :func:`run_exact`, built once (see :class:`ExactSession`)."""
    model_opts, solver_opts = _split(dict(options))
    data = prepare(instance, se_qos=se_qos, **model_opts)
    return ExactSession(data, objective=objective, se_bound=se_bound, solver_opts=_scip_options(solver_opts, seed),
                        time_limit=time_limit)


def run_exact(instance, *, time_limit: float | None = None, seed: int | None = None, se_qos: float | None = None,
              objective: str = "ee", se_bound: bool = True, **options: Any) -> Outcome:
    """Global optimum of (11) by SCIP (see the module docstring).

    ``se_bound`` (objective "ee" only): first solve the SE-max problem (same model, objective Σ SE, QoS row active)
    and tighten the EE model with SCIP's proven bound U on Σ SE (:func:`formulations.uplink_ee.minlp.set_sum_se_max`:
    Σ SE ≤ U, hence tighter bounds on SE_t, P_T and EE). This phase also proves an unreachable SE^QoS infeasible in
    a fraction of the time the EE objective needs. Both phases share ``time_limit``."""
    clock = Clock()
    out = exact_session(instance, time_limit=time_limit, seed=seed, se_qos=se_qos, objective=objective,
                        se_bound=se_bound, **options).solve()
    out.wall_time_s = clock.elapsed()            # the model build included
    return out


#: Ipopt is local: when it stops at a point of local infeasibility (e.g. a QoS near the SE-max end point that needs
#: a UE switched off), restart from the same start with the adaptive barrier update, then from η = 1/2
_ATTEMPTS = (({}, 1.0), ({"mu_strategy": "adaptive"}, 1.0), ({"mu_strategy": "adaptive"}, 0.5))


class RelaxedSession:
    """One relaxation (13) model for ``data`` solved by Ipopt, then binary recovery; re-solvable with a new SE^QoS,
    warm-started from the previous relaxed solution (then the cold starts of :data:`_ATTEMPTS`)."""

    def __init__(self, data: UplinkEE, *, objective: str, solver_opts: dict[str, Any], time_limit: float | None):
        self.data, self.objective, self.time_limit = data, objective, time_limit
        self.model = F.build(data, relax=True, objective=objective)
        solver_opts.setdefault("tol", 1e-8)
        solver_opts.setdefault("max_iter", 3000)
        self.opts = solver_opts
        self.previous = None                      # (η, d) of the last usable relaxed solution

    def _try(self, clock: Clock, start, extra_opts: dict) -> tuple[SolveResult, np.ndarray, np.ndarray, bool]:
        F.set_point(self.model, *start)
        left = None if self.time_limit is None else max(clock.remaining(self.time_limit), 1e-3)
        r = solve_model(self.model, "ipopt", time_limit=left, **{**self.opts, **extra_opts})
        x = F.extract(self.model)
        eta, d_rel = x["eta"], x["assoc"]
        usable = (r.status in (Status.OPTIMAL, Status.FEASIBLE, Status.LIMIT) and np.all(np.isfinite(eta))
                  and np.all(np.isfinite(d_rel)))
        return r, eta, d_rel, usable

    def _relax(self, clock: Clock, warm: bool):
        M, K = self.data.M, self.data.K
        attempts = [(self.previous, {}, "the previous relaxed solution")] if warm and self.previous else []
        attempts += [((np.full(K, e0), np.ones((M, K))), o, f"eta = {e0:g}") for o, e0 in _ATTEMPTS]
        tried = []
        for start, extra_opts, what in attempts:
            r, eta, d_rel, usable = self._try(clock, start, extra_opts)
            tried.append(f"start {what}{', ' + str(extra_opts) if extra_opts else ''}: {r.status.value}")
            if usable or clock.expired(self.time_limit):
                break
        return r, eta, d_rel, usable, tried

    def _note(self, r: SolveResult, usable: bool, tried: list[str]) -> str:
        if not usable:
            return (f"Ipopt gave no usable point ({'; '.join(tried)}: {r.message}); recovery from eta = 1, "
                    f"D = all ones")
        what = "EE in Mbit/J" if self.objective == "ee" else "sum SE in bit/s/Hz"
        restarts = f" after {len(tried) - 1} restart(s)" if len(tried) > 1 else ""
        where = "an Ipopt local optimum" if r.status is not Status.LIMIT else "Ipopt's last iterate (limit)"
        return (f"solver_objective is the relaxed NLP (13) value ({what}) at {where}{restarts} "
                f"({r.status.value}: {r.message}), not a bound; the reported point is the recovered binary "
                f"association at Ipopt's powers")

    def solve(self, se_qos: float | None = None, *, warm: bool = True) -> Outcome:
        """Solve at ``se_qos`` (None: the current one); see :func:`run_relaxed`."""
        clock = Clock()
        if se_qos is not None:
            F.set_params(self.model, se_qos=se_qos)
        qos = float(self.model.se_qos.value)
        r, eta, d_rel, usable, tried = self._relax(clock, warm)
        note = self._note(r, usable, tried)
        if usable:
            self.previous = (eta.copy(), d_rel.copy())
        else:
            eta, d_rel = np.ones(self.data.K), np.ones((self.data.M, self.data.K))
        rec = recover_binary(self.data, d_rel, eta, se_qos=qos)
        common = dict(formulation=F.FORMULATION_RELAXED, solver="ipopt", solver_version=r.solver_version,
                      solver_versions={"ipopt": r.solver_version}, solver_objective=r.solver_objective if usable
                      else None, bound=math.inf, iterations=r.iterations, trace=r.trace,
                      context=_context(self.data, qos))
        if rec is None:
            return Outcome(status=Status.INFEASIBLE, message=(
                f"binary recovery found no association meeting SE^QoS = {qos:g} bit/s/Hz at the relaxed powers; "
                f"this is not a proof of infeasibility. {note}"), wall_time_s=clock.elapsed(), **common)
        extra = {"assoc_relaxed": d_rel.tolist(), "relaxed_value": common["solver_objective"],
                 "recovery_threshold": rec.threshold, "recovery_added": rec.added, "recovery_pruned": rec.pruned}
        return Outcome(status=Status.FEASIBLE, point={"eta": eta, "assoc": rec.assoc}, message=note, extra=extra,
                       wall_time_s=clock.elapsed(), **common)


def relaxed_session(instance, *, time_limit: float | None = None, seed: int | None = None,
                    se_qos: float | None = None, objective: str = "ee", **options: Any) -> RelaxedSession:
    """The model of :func:`run_relaxed`, built once (see :class:`RelaxedSession`)."""
    model_opts, solver_opts = _split(dict(options))
    data = prepare(instance, se_qos=se_qos, **model_opts)
    return RelaxedSession(data, objective=objective, solver_opts=solver_opts, time_limit=time_limit)


def run_relaxed(instance, *, time_limit: float | None = None, seed: int | None = None, se_qos: float | None = None,
                objective: str = "ee", **options: Any) -> Outcome:
    """Relaxation (13) by Ipopt, then binary recovery (see the module docstring)."""
    clock = Clock()
    out = relaxed_session(instance, time_limit=time_limit, seed=seed, se_qos=se_qos, objective=objective,
                          **options).solve(warm=False)
    out.wall_time_s = clock.elapsed()            # the model build included
    return out
