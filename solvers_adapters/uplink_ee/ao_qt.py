"""Paper 000's Algorithm 1 ("ao-qt"): alternating optimisation of powers and AP–UE association with the quadratic
transform, plus two baselines ("all-serve-all", "lsfc-95") and the SE-max end point used by Pareto sweeps.

Problem ``uplink-ee`` (arXiv 2501.01271, Sections III–V; equation numbers are the seed's). Sub-problems (23) and
(24) are the convex Pyomo models of :mod:`formulations.uplink_ee.qt`, built once per run and re-solved with new
mutable Params (:class:`solvers_adapters.uplink_ee.qt_run.QTRun`); the loop is
:func:`solvers_adapters.uplink_ee.qt_steps.qt_loop` over :func:`solvers_adapters.algorithms.iterate`.

Algorithm 1 as implemented by :func:`run_ao_qt` (i = iteration):

1. Initial feasible (η⁰, D⁰) from ``assoc_init`` / ``power_init`` (Section V-C; see :data:`ASSOC_INITS`,
   :data:`POWER_INITS`). If it misses SE^QoS (11d): try D = 1, η = 1; if still short, QT iterations on the sum SE
   with D = 1 until SE^QoS is met or no progress is made; else status ``infeasible`` ("not a proof").
2. z_t by (17) and b by (21) at (η, D) with the optimal LSFD weights a = ``data.lsfd(η, D)`` (held fixed in (23));
   solve (23) → η.
3. z, b recomputed by (17), (21) at (η, D) with the weights a = ``data.lsfd(η, 1)`` over all candidate APs (held
   fixed in (24)); solve (24) → relaxed D; binary recovery with the QoS re-checked
   (:func:`solvers_adapters.uplink_ee.recovery.recover_binary`); the previous D is kept when recovery fails; then
   (``local_search=True``, default) the exact 1-opt search
   :func:`solvers_adapters.uplink_ee.local_search.improve_association` at fixed η.
4. Stop when |f2⁽ⁱ⁺¹⁾ − f2⁽ⁱ⁾| / f2⁽ⁱ⁾ ≤ ``tol`` (5·10⁻³), f2 = optimal value of (24a).

Each runner returns an :class:`solvers_adapters.algorithms.Outcome`; :func:`experiments.results.make_result`
re-scores its point. Reported numbers: ``trace[i]`` is the TRUE EE of (11a) (evaluator, optimal LSFD, decoding
power included) after
iteration i; the returned point is the best feasible iterate (the initial point included). The QT blocks maximise
(12a), which drops the decoding power; (11a) = 1/(1/(12a) + c_rate) is an increasing function of (12a), so both
have the same maximisers (spec §1.7).

Deviations and choices (all recorded in ``solution["history"]`` / the docstrings):

* LSFD weights are not decision variables in the seed; we hold them fixed inside each sub-problem and refresh them
  between blocks (spec §1.6). Every reported SINR uses the optimal weights.
* η = q² with q ∈ [0, 1]: √DS is linear in q and I is a convex quadratic in q.
* Per-UE normalisation of a (I_t = 1 at the current point) — changes no SINR, keeps coefficients O(1).
* The QoS row of each sub-problem is SE^QoS·(1 + 10⁻⁷) so that Ipopt's tolerance cannot cost the evaluator's check.
* Power initialisations are not named in the paper (Fig. 9); ours are documented in :data:`POWER_INITS`.
* Binary recovery = ``recover_binary`` + an exact 1-opt drop/add/swap search at fixed η (:func:`improve_association`).
  Reason: the relaxation (13) is weak (a UE's SINR is invariant to scaling its column of D, so the relaxed optimum
  spreads Σ_m d_mt = 1 over several APs), and the QT surrogate is local: a UE whose current SINR is ≈ 0 has
  z_t ≈ 0 by (17), so (24) sees no gain in giving it a better AP, and the power block then switches it off for good.
  From a random initial association this left the final EE up to 8 % below the other initialisations
  (M = 40, K = 20); with the search every initialisation lands within 1 %. ``local_search=False`` restores the
  plain recovery. The search never lowers the true EE and keeps (11d), (11e).
* Warm starts: within a run Ipopt is warm-started from the previous solve's multipliers of the same sub-problem
  (retried cold on failure); nothing is shared between runs, so a run does not depend on earlier runs.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from instances.errors import InputError
from models.uplink_ee.system import UplinkEE, prepare
from solvers_adapters.algorithms import Clock, Outcome
from solvers_adapters.base import check_time_limit
from solvers_adapters.ipopt import IPOPT_VERSION
from solvers_adapters.result import Certificate, Status
from solvers_adapters.uplink_ee.local_search import Improvement, improve_association
from solvers_adapters.uplink_ee.qt_run import Point, QTRun
from solvers_adapters.uplink_ee.qt_steps import ao_step, asa_step, qt_loop
from solvers_adapters.uplink_ee.starts import (ASSOC_INITS, IPOPT_DEFAULTS, POWER_INITS, PREPARE_OPTIONS,
                                               init_name, initial_association, initial_power, setup, split_options)
from solvers_adapters.uplink_ee.sum_se import SumSEMax, feasible_start, sum_se_iterations

__all__ = ["run_ao_qt", "run_all_serve_all", "run_lsfc95", "run_se_max", "max_sum_se", "SumSEMax",
           "improve_association", "Improvement", "initial_association", "initial_power", "ASSOC_INITS",
           "POWER_INITS", "PREPARE_OPTIONS", "IPOPT_DEFAULTS", "context_of", "FORMULATION"]

FORMULATION = "qt-ao"


def context_of(data: UplinkEE, qos: float) -> dict[str, Any]:
    """The evaluation context of a point of ``data``'s model (the evaluator keywords of ``uplink-ee``)."""
    return {**data.options, "se_qos": float(qos), "lsfd": "optimal"}


def _outcome(run: QTRun, status: Status, point: Point | None, *, seed, message: str, certificate=Certificate.NONE,
             extra: dict | None = None, **kw) -> Outcome:
    """The Outcome of a QT method (no point: no extra entries, no bound)."""
    out = Outcome(status=status, certificate=certificate, formulation=FORMULATION, solver="cfopt",
                  solver_versions={"ipopt": IPOPT_VERSION}, message=message, context=context_of(run.data, run.qos),
                  point=None if point is None else {"eta": point.eta, "assoc": point.D},
                  bound=float("inf") if point is not None else None, extra=dict(extra or {}) if point else {},
                  **{"wall_time_s": run.clock.elapsed(), **kw})
    out.seed = seed                 # the seed used (drawn when the caller gave none)
    return out


def _no_start(run: QTRun, seed, how: str) -> Outcome:
    """No feasible start: ``infeasible`` (a heuristic verdict, not a proof), or ``limit`` when the time limit cut
    the search short. Never an EE of 0: the outcome carries no point."""
    if run.expired():
        return _outcome(run, Status.LIMIT, None, seed=seed, iterations=0,
                        message=f"time limit reached before a feasible point was found: {how}")
    return _outcome(run, Status.INFEASIBLE, None, seed=seed, iterations=0,
                    message=f"no feasible point found (not a proof): {how}")


def _finish(run: QTRun, res, state, *, seed, extra: dict, rule: str, max_iter: int, tol: float) -> Outcome:
    """The Outcome after the QT loop: ``feasible``/``stationary`` when the stop rule fired, else ``limit``."""
    if res.converged:
        status, cert = Status.FEASIBLE, Certificate.STATIONARY
        msg = f"stop rule {rule} <= {tol:g} after {res.iterations} iterations"
    elif state.failed:
        status, cert = Status.LIMIT, Certificate.NONE
        msg = f"power sub-problem failed ({state.history[-1]['power_status']}); best iterate returned"
    else:
        status, cert = Status.LIMIT, Certificate.NONE
        msg = "time limit reached" if run.expired() else f"max_iter = {max_iter} reached"
    return _outcome(run, status, state.best, seed=seed, message=msg, certificate=cert, iterations=res.iterations,
                    trace=res.trace, solver_objective=state.f, extra={**extra, "history": state.history})


def run_ao_qt(instance, *, time_limit: float | None = None, seed: int | None = None, se_qos: float | None = None,
              assoc_init="lsfc95", power_init="full", max_iter: int = 50, tol: float = 5e-3,
              progress: Callable[[int, float, float], Any] | None = None, local_search: bool = True,
              **options) -> Outcome:
    """Paper 000's Algorithm 1 (see the module docstring).

    instance   : an :class:`instances.Instance`.
    se_qos     : SE^QoS of (11d) in bit/s/Hz (default: the instance's ``qos["sum_se_min_bps_hz"]``, else 0).
    assoc_init : a key of :data:`ASSOC_INITS` or a 0/1 array [M, K];  power_init : a key of :data:`POWER_INITS` or
                 an array [K] in [0, 1].
    seed       : seed of the "random" initialisations (drawn and recorded when None and one is needed).
    max_iter, tol : iteration cap and the stop rule |Δf2| / f2 ≤ tol of Algorithm 1 (ε = 5·10⁻³).
    time_limit : wall seconds (status ``limit`` with the incumbent when hit).
    progress   : callable(iteration, true EE [Mbit/J], sum SE [bit/s/Hz]) called after every iteration.
    local_search : after the binary recovery of step 13, run :func:`improve_association` (exact 1-opt
                 drop/add/swap search at fixed η; then ``recover_binary`` skips its own pruning). False = the
                 recovery of ``recover_binary`` alone (with its pruning).
    options    : model options of :func:`models.uplink_ee.system.prepare` (``combining``, ``delta``, ``leakage``,
                 ``prelog``, ``power``); ``ipopt`` (dict of Ipopt options for the sub-problems);
                 ``recovery`` (dict of keyword options of :func:`recover_binary`).

    Outcome: status ``feasible`` + certificate ``stationary`` when the stop rule fired, ``limit`` (incumbent) when
    ``max_iter`` or ``time_limit`` was hit, ``infeasible`` (certificate ``none``) when no feasible point was found.
    ``trace`` = true EE (11a) after each iteration, ``iterations`` = iterations done, ``extra["history"]`` =
    per-iteration f1, f2, EE, sum SE, links, recovery outcome and timings (s).
    """
    clock = Clock()
    limit = check_time_limit(time_limit)
    data, ipopt, recovery, D0, eta0, seed = setup(instance, se_qos, seed, assoc_init, power_init, options)
    if max_iter < 1:
        raise InputError("max_iter", "must be >= 1")
    run = QTRun(data, data.se_qos, ipopt, limit, clock)
    inits = {"assoc_init": init_name(assoc_init), "power_init": init_name(power_init)}
    start, how = feasible_start(run, eta0, D0, max_iter=max_iter)
    if start is None:
        return _no_start(run, seed, how)
    res, state = qt_loop(run, start, ao_step(run, local_search=local_search, recovery=recovery),
                         max_iter=max_iter, tol=tol, progress=progress)
    return _finish(run, res, state, seed=seed, rule="|Δf2|/f2", max_iter=max_iter, tol=tol,
                   extra={**inits, "start": how, "initial_ee": start.ee})


def run_all_serve_all(instance, *, time_limit: float | None = None, seed: int | None = None,
                      se_qos: float | None = None, power_init="full", max_iter: int = 50, tol: float = 5e-3,
                      progress: Callable[[int, float, float], Any] | None = None, **options) -> Outcome:
    """Baseline "all-serve-all": D = all ones, powers by the (23)/(17)/(21) iterations of Algorithm 1 restricted to
    the power block (LSFD weights refreshed between solves); stop when |Δf1|/f1 ≤ ``tol``. Statuses as
    :func:`run_ao_qt`."""
    clock = Clock()
    limit = check_time_limit(time_limit)
    data, ipopt, _, _, eta0, seed = setup(instance, se_qos, seed, "all", power_init, options)
    run = QTRun(data, data.se_qos, ipopt, limit, clock)
    start, how = feasible_start(run, eta0, np.ones((data.M, data.K)), max_iter=max_iter)
    if start is None:
        return _no_start(run, seed, how)
    res, state = qt_loop(run, start, asa_step(run), max_iter=max_iter, tol=tol, progress=progress,
                         stop_on_failure=True)
    return _finish(run, res, state, seed=seed, rule="|Δf1|/f1", max_iter=max_iter, tol=tol,
                   extra={"power_init": init_name(power_init), "start": how, "initial_ee": start.ee})


def run_lsfc95(instance, *, time_limit: float | None = None, seed: int | None = None, se_qos: float | None = None,
               **options) -> Outcome:
    """Baseline "lsfc-95": d_mt = 1 iff β_mt ≥ 0.95 max_m β_mt (Section V, scheme 4) with full power η = 1. Status
    ``feasible`` (certificate ``none``) when it meets SE^QoS, else ``infeasible`` with a message."""
    check_time_limit(time_limit)
    prep, _, _ = split_options(dict(options))
    data = prepare(instance, se_qos=se_qos, **prep)
    run = QTRun(data, data.se_qos, {}, None)
    p = run.score(np.ones(data.K), initial_association(data, "lsfc95"))
    if not run.feasible(p.sum_se):
        return _outcome(run, Status.INFEASIBLE, None, seed=seed, iterations=0,
                        message=f"lsfc-95 with full power reaches sum SE {p.sum_se:.6g} < SE^QoS = {run.qos:.6g} "
                                "bit/s/Hz")
    return _outcome(run, Status.FEASIBLE, p, seed=seed, iterations=0, message="fixed rule, nothing optimised")


def max_sum_se(instance, *, time_limit: float | None = None, max_iter: int = 50, tol: float = 1e-4,
               eta0=None, se_qos: float | None = None, **options) -> SumSEMax:
    """Largest sum SE found by the QT machinery: D = all ones (with optimal LSFD, adding an AP never lowers a SINR,
    so full association is SE-optimal for any powers) and QT iterations on Σ log(1 + Γ*) over the powers from
    η = 1 (or ``eta0``), until the relative gain is ≤ ``tol``. A stationary point, not a proven maximum.
    ``options``: model options of :func:`models.uplink_ee.system.prepare` and ``ipopt`` (dict); ``se_qos`` is
    accepted and ignored (the SE-max point has no floor)."""
    clock = Clock()
    limit = check_time_limit(time_limit)
    prep, ipopt, _ = split_options(dict(options))
    data = prepare(instance, se_qos=0.0, **prep)
    run = QTRun(data, 0.0, ipopt, limit, clock)
    D = np.ones((data.M, data.K))
    eta = np.ones(data.K) if eta0 is None else initial_power(data, eta0)
    r = sum_se_iterations(run, eta, D, max_iter=max_iter, tol=tol)
    ee = float(data.evaluate(r.eta, D, se_qos=0.0).objective)
    return SumSEMax(eta=r.eta, assoc=D, sum_se=r.sum_se, ee=ee, iterations=r.iterations, trace=r.trace,
                    converged=r.converged, wall_time_s=clock.elapsed())


def run_se_max(instance, *, time_limit: float | None = None, seed: int | None = None, **options) -> Outcome:
    """The SE-max end point of the EE–SE trade-off by :func:`max_sum_se`, as an Outcome (status ``feasible``,
    certificate ``stationary`` when the iterations converged; scored with SE^QoS = 0)."""
    prep = {k: options[k] for k in PREPARE_OPTIONS if k in options}
    top = max_sum_se(instance, time_limit=time_limit, **options)
    run = QTRun(prepare(instance, se_qos=0.0, **prep), 0.0, {}, None)
    out = _outcome(run, Status.FEASIBLE, Point(top.eta, top.assoc, top.ee, top.sum_se), seed=seed,
                   certificate=Certificate.STATIONARY if top.converged else Certificate.NONE,
                   iterations=top.iterations, trace=list(top.trace), wall_time_s=top.wall_time_s,
                   message="SE-max end point by QT iterations on the powers with D = all ones (not a proof)")
    out.formulation, out.bound, out.solver_versions = "qt-sum-se", None, {}
    return out
