"""Methods ``exact`` and ``relaxed`` of problem ``uplink-ee`` (paper 000, problem (11) and relaxation (13)).

``run_exact(instance, ...)``
    The MINLP of :mod:`formulations.uplink_ee.minlp` (epigraph of (11a), exact for orthogonal pilots and optimal
    LSFD) solved to global optimality by SCIP. Status, certificate, bound and gap are SCIP's (through
    :func:`solvers_adapters.solve_model`); ``bound`` is SCIP's dual bound on EE in Mbit/J; ``solver_objective`` is
    SCIP's incumbent value; ``objective`` is the evaluator's EE of the extracted (η, D)
    (:func:`solvers_adapters.uplink_ee.common.uplink_result`). An SE^QoS that no point meets comes back as status
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
``propagating/obbt/freq`` = 1 (optimisation-based bound tightening at every node: on the tiny grid M ∈ {3,4,5},
T ∈ {2,3}, A ∈ {2,4} it halves the total time and cuts the worst case from 87 s to 16 s); ``display/verblevel`` = 0
(see the note in :func:`run_exact`).
"""
from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from formulations.uplink_ee import minlp as F
from models.uplink_ee.system import prepare
from solvers_adapters.base import solve_model
from solvers_adapters.result import Certificate, SolveResult, Status
from solvers_adapters.uplink_ee.common import uplink_result
from solvers_adapters.uplink_ee.recovery import recover_binary

__all__ = ["run_exact", "run_relaxed", "MODEL_OPTIONS"]

#: keyword options that configure the system model (:func:`models.uplink_ee.system.prepare`), not the solver
MODEL_OPTIONS = ("combining", "delta", "leakage", "prelog", "power")
#: relative agreement required between SCIP's value and the evaluator's at SCIP's point for a global certificate
AGREE_RTOL = 1e-5


def _split(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    model_opts = {k: options.pop(k) for k in MODEL_OPTIONS if k in options}
    return model_opts, options


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-12)


def run_exact(instance, *, time_limit: float | None = None, seed: int | None = None, se_qos: float | None = None,
              objective: str = "ee", se_bound: bool = True, **options: Any) -> SolveResult:
    """Global optimum of (11) by SCIP (see the module docstring).

    ``se_bound`` (objective "ee" only): first solve the SE-max problem (same model, objective Σ SE, QoS row active)
    and tighten the EE model with SCIP's proven bound U on Σ SE (:func:`formulations.uplink_ee.minlp.set_sum_se_max`:
    Σ SE ≤ U, hence tighter bounds on SE_t, P_T and EE). This phase also proves an unreachable SE^QoS infeasible in
    a fraction of the time the EE objective needs. Both phases share ``time_limit``."""
    t0 = time.perf_counter()
    model_opts, solver_opts = _split(dict(options))
    data = prepare(instance, se_qos=se_qos, **model_opts)
    model = F.build(data, objective=objective)
    solver_opts.setdefault("numerics/feastol", 1e-8)
    solver_opts.setdefault("propagating/obbt/freq", 1)
    # SCIP's log goes through a pipe that Pyomo drains from a Python thread while pyscipopt's optimize() holds the
    # GIL: a long log (> 64 KiB) blocks SCIP forever. Keep SCIP quiet unless the caller asks for the log.
    solver_opts.setdefault("display/verblevel", 4 if solver_opts.get("tee") else 0)
    if seed is not None:
        solver_opts.setdefault("randomization/randomseedshift", int(seed))
    formulation = F.FORMULATION if objective == "ee" else f"{F.FORMULATION}-sum-se"
    vers: dict[str, str] = {}
    nodes = 0
    notes: list[str] = []
    r = None
    if objective == "ee" and se_bound:
        F.set_objective(model, "sum_se")
        r1 = solve_model(model, "scip", time_limit=time_limit, **solver_opts)
        nodes += r1.iterations or 0
        vers = {k: v for k, v in r1.versions.items() if k in ("scip", "pyscipopt")}
        F.set_objective(model, "ee")
        if r1.status is Status.INFEASIBLE:
            r = r1
        elif r1.bound is not None and math.isfinite(r1.bound):
            u = r1.bound * (1 + 1e-6) + 1e-9           # SCIP's bound holds up to its feasibility tolerance
            F.set_sum_se_max(model, u)
            notes.append(f"phase 1 (SE-max) bound sum SE <= {u:.8g} bit/s/Hz ({r1.status.value}, "
                         f"{r1.wall_time_s:.2f} s)")
        else:
            notes.append(f"phase 1 (SE-max) gave no bound ({r1.status.value}: {r1.message})")
        if r is None and time_limit is not None:
            left = time_limit - (time.perf_counter() - t0)
            if left <= 0:
                # no time for the EE solve: report phase 1's incumbent (it meets SE^QoS) as the limit's point
                r = r1
                inc = r1.solver_objective is not None and r1.status in (Status.OPTIMAL, Status.FEASIBLE, Status.LIMIT)
                r.status, r.certificate, r.gap = Status.LIMIT, Certificate.NONE, None
                r.solver_objective = F.objective_value(model) if inc else None
                r.bound = math.inf
                r.message = ("time limit reached in phase 1 (SE-max)"
                             + ("; the point is phase 1's incumbent" if inc else ", no point"))
            time_limit = max(left, 1e-3)
    if r is None:
        r = solve_model(model, "scip", time_limit=time_limit, **solver_opts)
        nodes += r.iterations or 0
        vers = {k: v for k, v in r.versions.items() if k in ("scip", "pyscipopt")}
    has_point = r.status in (Status.OPTIMAL, Status.FEASIBLE) or (r.status is Status.LIMIT
                                                                  and r.solver_objective is not None)
    eta = assoc = None
    status, cert, message = r.status, r.certificate, r.message
    extra: dict[str, Any] = {}
    if has_point:
        eta, assoc = F.extract(model)
        ev = data.evaluate(eta, assoc)
        mine = ev.objective if objective == "ee" else ev.objectives["sum_se_bps_hz"]
        if objective == "sum_se":
            message = f"objective sum_se: solver_objective and bound are sum SE in bit/s/Hz; {message}"
        if status is Status.OPTIMAL and r.solver_objective is not None and \
                _rel(mine, r.solver_objective) > AGREE_RTOL:
            status, cert = Status.FEASIBLE, Certificate.NONE
            message = (f"evaluator value {mine:.10g} differs from SCIP's {r.solver_objective:.10g} by more than "
                       f"{AGREE_RTOL:g} relative; optimality not certified ({message})")
    elif r.status is Status.INFEASIBLE:
        message = f"SE^QoS = {data.se_qos:g} bit/s/Hz cannot be met (SCIP proved infeasibility: {r.message})"
    if notes:
        message = f"{message}; {'; '.join(notes)}"
    return uplink_result(data, method="exact", formulation=formulation, solver="scip",
                         solver_version=r.solver_version, status=status, certificate=cert, eta=eta, assoc=assoc,
                         solver_objective=r.solver_objective, bound=r.bound, gap=r.gap,
                         wall_time_s=time.perf_counter() - t0, iterations=nodes, seed=seed,
                         message=message, extra_solution=extra, solver_versions=vers)


def run_relaxed(instance, *, time_limit: float | None = None, seed: int | None = None, se_qos: float | None = None,
                objective: str = "ee", **options: Any) -> SolveResult:
    """Relaxation (13) by Ipopt, then binary recovery (see the module docstring)."""
    t0 = time.perf_counter()
    model_opts, solver_opts = _split(dict(options))
    data = prepare(instance, se_qos=se_qos, **model_opts)
    model = F.build(data, relax=True, objective=objective)
    solver_opts.setdefault("tol", 1e-8)
    solver_opts.setdefault("max_iter", 3000)
    # Ipopt is local: when it stops at a point of local infeasibility (e.g. a QoS near the SE-max end point that
    # needs a UE switched off), restart from the same start with the adaptive barrier update, then from η = 1/2.
    attempts = [({}, 1.0), ({"mu_strategy": "adaptive"}, 1.0), ({"mu_strategy": "adaptive"}, 0.5)]
    tried = []
    for extra_opts, eta0 in attempts:
        F.set_point(model, np.full(data.K, eta0), np.ones((data.M, data.K)))
        left = None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 1e-3)
        r = solve_model(model, "ipopt", time_limit=left, **{**solver_opts, **extra_opts})
        eta, d_rel = F.extract(model)
        usable = (r.status in (Status.OPTIMAL, Status.FEASIBLE, Status.LIMIT) and np.all(np.isfinite(eta))
                  and np.all(np.isfinite(d_rel)))
        tried.append(f"start eta = {eta0:g}{', ' + str(extra_opts) if extra_opts else ''}: {r.status.value}")
        if usable or (time_limit is not None and time.perf_counter() - t0 >= time_limit):
            break
    if not usable:
        note = (f"Ipopt gave no usable point ({'; '.join(tried)}: {r.message}); recovery from eta = 1, "
                f"D = all ones")
        eta, d_rel = np.ones(data.K), np.ones((data.M, data.K))
        relaxed_value = None
    else:
        relaxed_value = r.solver_objective
        what = "EE in Mbit/J" if objective == "ee" else "sum SE in bit/s/Hz"
        restarts = f" after {len(tried) - 1} restart(s)" if len(tried) > 1 else ""
        where = "an Ipopt local optimum" if r.status is not Status.LIMIT else "Ipopt's last iterate (limit)"
        note = (f"solver_objective is the relaxed NLP (13) value ({what}) at {where}{restarts} "
                f"({r.status.value}: {r.message}), not a bound; the reported point is the recovered binary "
                f"association at Ipopt's powers")
    rec = recover_binary(data, d_rel, eta)
    vers = {"ipopt": r.solver_version}
    common = dict(method="relaxed", formulation=F.FORMULATION_RELAXED, solver="ipopt",
                  solver_version=r.solver_version, solver_objective=relaxed_value, bound=math.inf,
                  iterations=r.iterations, trace=r.trace, seed=seed, solver_versions=vers)
    if rec is None:
        return uplink_result(data, status=Status.INFEASIBLE, certificate=Certificate.NONE,
                             message=(f"binary recovery found no association meeting SE^QoS = {data.se_qos:g} "
                                      f"bit/s/Hz at the relaxed powers; this is not a proof of infeasibility. "
                                      f"{note}"),
                             wall_time_s=time.perf_counter() - t0, **common)
    extra = {"assoc_relaxed": d_rel.tolist(), "relaxed_value": relaxed_value, "recovery_threshold": rec.threshold,
             "recovery_added": rec.added, "recovery_pruned": rec.pruned}
    return uplink_result(data, status=Status.FEASIBLE, certificate=Certificate.NONE, eta=eta, assoc=rec.assoc,
                         message=note, extra_solution=extra, wall_time_s=time.perf_counter() - t0, **common)
