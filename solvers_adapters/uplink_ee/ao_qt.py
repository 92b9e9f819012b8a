"""Paper 000's Algorithm 1 ("ao-qt"): alternating optimisation of powers and AP–UE association with the quadratic
transform, plus two baselines ("all-serve-all", "lsfc-95") and the SE-max end point used by Pareto sweeps.

Problem ``uplink-ee`` (arXiv 2501.01271, Sections III–V; equation numbers are the seed's). Sub-problems (23) and
(24) are the convex Pyomo models of :mod:`formulations.uplink_ee.qt`, built once per (instance, model options) and
re-solved with new mutable Params (the Ipopt bridge re-reads them without recompiling).

Algorithm 1 as implemented by :func:`run_ao_qt` (i = iteration):

1. Initial feasible (η⁰, D⁰) from ``assoc_init`` / ``power_init`` (Section V-C; see :data:`ASSOC_INITS`,
   :data:`POWER_INITS`). If it misses SE^QoS (11d): try D = 1, η = 1; if still short, QT iterations on the sum SE
   with D = 1 until SE^QoS is met or no progress is made; else status ``infeasible`` ("not a proof").
2. z_t by (17) and b by (21) at (η, D) with the optimal LSFD weights a = ``data.lsfd(η, D)`` (held fixed in (23));
   solve (23) → η.
3. z, b recomputed by (17), (21) at (η, D) with the weights a = ``data.lsfd(η, 1)`` over all candidate APs (held
   fixed in (24)); solve (24) → relaxed D; binary recovery with the QoS re-checked
   (:func:`solvers_adapters.uplink_ee.recovery.recover_binary`); the previous D is kept when recovery fails; then
   (``local_search=True``, default) the exact 1-opt search :func:`improve_association` at fixed η.
4. Stop when |f2⁽ⁱ⁺¹⁾ − f2⁽ⁱ⁾| / f2⁽ⁱ⁾ ≤ ``tol`` (5·10⁻³), f2 = optimal value of (24a).

Reported numbers: ``trace[i]`` is the TRUE EE of (11a) (evaluator, optimal LSFD, decoding power included) after
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
* Speed: sub-problem models are cached per (instance, model options) and re-solved with new Params; within a run
  Ipopt is warm-started from the previous solve's multipliers (retried cold on failure; the multipliers are reset at
  the start of every run, so a run does not depend on earlier runs).
"""
from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Callable, NamedTuple

import numpy as np
import pyomo.environ as pyo

from formulations.uplink_ee import qt as F
from instances.errors import InputError
from models.uplink_ee.system import FEAS_TOL, UplinkEE, prepare
from models.uplink_ee.sinr import lsfd_matrices
from solvers_adapters.base import check_time_limit, dist_version, solve_model
from solvers_adapters.ipopt import IPOPT_VERSION
from solvers_adapters.result import Certificate, SolveResult, Status
from solvers_adapters.uplink_ee.common import uplink_result
from solvers_adapters.uplink_ee.recovery import recover_binary

__all__ = ["run_ao_qt", "run_all_serve_all", "run_lsfc95", "max_sum_se", "SumSEMax", "improve_association",
           "Improvement", "initial_association", "initial_power", "ASSOC_INITS", "POWER_INITS", "PREPARE_OPTIONS",
           "IPOPT_DEFAULTS"]

FORMULATION = "qt-ao"
SOLVER = "cfopt"

#: Section V-C association initialisations (Fig. 8, schemes 1–5)
ASSOC_INITS = {
    "top10-per-ue": "scheme 1: each UE served by its min(10, M) strongest APs (largest β_mt)",
    "top10-per-ap": "scheme 2: each AP serves its min(10, K) strongest UEs; a UE left without AP gets its best AP",
    "all": "scheme 3: all APs serve all UEs",
    "lsfc95": "scheme 4 (the paper's default): d_mt = 1 iff β_mt ≥ 0.95 · max_m β_mt",
    "random": "scheme 5: Bernoulli(0.5) from numpy.random.default_rng(seed); a UE left without AP gets its best AP",
}
#: power initialisations (Fig. 9 does not name them; these are ours)
POWER_INITS = {
    "full": "η = 1 (the paper's default: 100 mW)",
    "half": "η = 0.5",
    "low": "η = 0.1",
    "random": "η ~ U[0.1, 1] from numpy.random.default_rng(seed) (drawn after a random association)",
    "inverse-gain": "η_t ∝ 1 / max_m β_mt, scaled so that max_t η_t = 1",
}
#: keyword options passed to :func:`models.uplink_ee.system.prepare`
PREPARE_OPTIONS = ("combining", "delta", "leakage", "prelog", "power")
#: default Ipopt options of the sub-problems
IPOPT_DEFAULTS: dict[str, Any] = {"tol": 1e-9, "acceptable_tol": 1e-7, "max_iter": 500, "hessian": "exact",
                                  "warm_start": True}

_MODEL_CACHE: "OrderedDict[tuple, dict]" = OrderedDict()
_MODEL_CACHE_SIZE = 2


# ---------------------------------------------------------------------------------------------------------------
# initialisations
# ---------------------------------------------------------------------------------------------------------------

def _cover(D: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """(12e): a UE without any AP gets its strongest AP."""
    empty = ~D.any(axis=0)
    if empty.any():
        cols = np.flatnonzero(empty)
        D[np.argmax(beta[:, cols], axis=0), cols] = True
    return D


def initial_association(data: UplinkEE, scheme, rng: np.random.Generator | None = None) -> np.ndarray:
    """D⁰ [M, K] (0/1 floats) for a scheme of :data:`ASSOC_INITS` or an explicit array."""
    beta = data.beta_n
    M, K = beta.shape
    if not isinstance(scheme, str):
        D = np.asarray(scheme, dtype=float)
        if D.shape != (M, K) or not np.all((D == 0) | (D == 1)):
            raise InputError("assoc_init", f"an explicit initial association must be a 0/1 array of shape {(M, K)}")
        return _cover(D.astype(bool), beta).astype(float)
    if scheme == "top10-per-ue":
        n = min(10, M)
        D = np.zeros((M, K), dtype=bool)
        D[np.argsort(-beta, axis=0)[:n], np.arange(K)[None, :]] = True
    elif scheme == "top10-per-ap":
        n = min(10, K)
        D = np.zeros((M, K), dtype=bool)
        D[np.arange(M)[:, None], np.argsort(-beta, axis=1)[:, :n]] = True
    elif scheme == "all":
        D = np.ones((M, K), dtype=bool)
    elif scheme == "lsfc95":
        D = beta >= 0.95 * beta.max(axis=0, keepdims=True)
    elif scheme == "random":
        if rng is None:
            raise InputError("seed", "the random association needs a generator")
        D = rng.random((M, K)) < 0.5
    else:
        raise InputError("assoc_init", f"unknown association initialisation {scheme!r}; known: "
                                       f"{', '.join(ASSOC_INITS)} (or a 0/1 array)")
    return _cover(D, beta).astype(float)


def initial_power(data: UplinkEE, scheme, rng: np.random.Generator | None = None) -> np.ndarray:
    """η⁰ [K] for a scheme of :data:`POWER_INITS` or an explicit array in [0, 1]."""
    K = data.K
    if not isinstance(scheme, str):
        eta = np.asarray(scheme, dtype=float)
        if eta.shape != (K,) or np.any(eta < 0) or np.any(eta > 1) or not np.all(np.isfinite(eta)):
            raise InputError("power_init", f"an explicit initial power must be [{K}] values in [0, 1]")
        return eta.copy()
    if scheme == "full":
        return np.ones(K)
    if scheme == "half":
        return np.full(K, 0.5)
    if scheme == "low":
        return np.full(K, 0.1)
    if scheme == "random":
        if rng is None:
            raise InputError("seed", "the random power initialisation needs a generator")
        return rng.uniform(0.1, 1.0, size=K)
    if scheme == "inverse-gain":
        g = data.beta_n.max(axis=0)
        return g.min() / g
    raise InputError("power_init", f"unknown power initialisation {scheme!r}; known: {', '.join(POWER_INITS)} "
                                   "(or an array)")


# ---------------------------------------------------------------------------------------------------------------
# shared machinery
# ---------------------------------------------------------------------------------------------------------------

def _split_options(options: dict) -> tuple[dict, dict, dict]:
    prep = {k: options.pop(k) for k in list(options) if k in PREPARE_OPTIONS}
    ipopt = dict(IPOPT_DEFAULTS)
    ipopt.update(options.pop("ipopt", None) or {})
    recovery = dict(options.pop("recovery", None) or {})
    if options:
        raise InputError(next(iter(options)), f"unknown option(s) {', '.join(sorted(options))}; accepted: "
                                              f"{', '.join(PREPARE_OPTIONS)}, ipopt (dict), recovery (dict)")
    return prep, ipopt, recovery


def _models(data: UplinkEE) -> dict:
    """Sub-problem models for ``data``'s instance and model options (built lazily, cached for the last few
    instances: a sweep over SE^QoS or initialisations reuses the compiled programs)."""
    key = (id(data.instance), data.instance.content_hash, tuple(sorted(data.options.items())))
    entry = _MODEL_CACHE.get(key)
    if entry is None or entry["instance"] is not data.instance:
        entry = {"instance": data.instance}
        _MODEL_CACHE[key] = entry
        while len(_MODEL_CACHE) > _MODEL_CACHE_SIZE:
            _MODEL_CACHE.popitem(last=False)
    _MODEL_CACHE.move_to_end(key)
    return entry


def _model(data: UplinkEE, kind: str):
    entry = _models(data)
    if kind not in entry:
        if kind == "power":
            entry[kind] = F.build_power(data, objective="ee")
        elif kind == "power-sum-se":
            entry[kind] = F.build_power(data, objective="sum-se")
        else:
            entry[kind] = F.build_assoc(data)
    return entry[kind]


class _Clock:
    def __init__(self, time_limit: float | None):
        self.t0 = time.perf_counter()
        self.limit = time_limit

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def remaining(self) -> float | None:
        return None if self.limit is None else self.limit - self.elapsed()

    def expired(self) -> bool:
        return self.limit is not None and self.elapsed() >= self.limit


def _reset_warm_start(*models) -> None:
    """Forget the multipliers of earlier solves (cached models are shared between runs; a run must not depend
    on what ran before it, or a seed would not reproduce it)."""
    for model in models:
        cache = getattr(model, "_cfopt_nlp", None)
        if cache is not None:
            cache[1].last_multipliers = None


def _solve(model, clock: _Clock, ipopt: dict) -> tuple[bool, SolveResult]:
    """Solve a sub-problem from the variables' current values. With ``warm_start`` (default) Ipopt also starts from
    the multipliers of the previous solve of the same model in this run; if that fails, it is retried cold from
    the same primal point."""
    opts = dict(ipopt)
    warm = bool(opts.get("warm_start", False))
    saved = [v.value for v in model.component_data_objects(pyo.Var)] if warm else None
    rem = clock.remaining()
    res = solve_model(model, "ipopt", time_limit=None if rem is None else max(rem, 1e-3), **opts)
    ok = _ok(res)
    if not ok and warm and not clock.expired():
        for v, x in zip(model.component_data_objects(pyo.Var), saved):
            v.set_value(x, skip_validation=True)
        _reset_warm_start(model)
        opts["warm_start"] = False
        rem = clock.remaining()
        res = solve_model(model, "ipopt", time_limit=None if rem is None else max(rem, 1e-3), **opts)
        ok = _ok(res)
    return ok, res


def _ok(res: SolveResult) -> bool:
    return res.status in (Status.OPTIMAL, Status.FEASIBLE) or (
        res.status is Status.LIMIT and res.max_violation is not None and res.max_violation <= 1e-7)


def _feasible(data: UplinkEE, sum_se: float, qos: float) -> bool:
    return (qos - sum_se) / max(qos, 1.0) <= FEAS_TOL


class _Point(NamedTuple):
    eta: np.ndarray
    D: np.ndarray
    ee: float
    sum_se: float


def _score(data: UplinkEE, eta, D, qos) -> _Point:
    ev = data.evaluate(eta, D, se_qos=qos)
    return _Point(np.asarray(eta, float).copy(), np.asarray(D, float).copy(), float(ev.objective),
                  float(ev.objectives["sum_se_bps_hz"]))


def _drop_user(data: UplinkEE, eta, D, clock: _Clock, ipopt: dict, *, max_iter: int, tol: float,
               candidates: int = 2) -> tuple[np.ndarray, float, int] | None:
    """Active-set step of the sum-SE iterations. Problem (11) has no per-UE SE floor, and QT iterations never reach
    the corner η_t = 0 by themselves (with η_t > 0 the surrogate keeps the UE on); e.g. tiny-ulee-08's SE maximum is
    η = (1, 1, 0). For the ``candidates`` UEs whose switch-off raises the true sum SE most (scored with the other
    powers kept, and with the other active UEs at full power), re-run the QT iterations from both starts with that
    UE off; return the best (η, sum SE, iterations used) if it beats the current sum SE, else None."""
    eta = np.asarray(eta, float)
    active = np.flatnonzero(eta > 0)
    if active.size <= 1:
        return None
    base = float(data.se(eta, D).sum())
    starts = []
    for t in active:
        a = eta.copy()
        a[t] = 0.0
        b = (eta > 0).astype(float)
        b[t] = 0.0
        starts.append((max(float(data.se(a, D).sum()), float(data.se(b, D).sum())), a, b))
    starts.sort(key=lambda x: -x[0])
    best, used = None, 0
    for _, a, b in starts[:candidates]:
        for st in (a, b):
            if clock.expired():
                break
            e, se, it, _, _ = _sum_se_iterations(data, st, D, clock, ipopt, max_iter=max_iter, tol=tol, drops=False)
            used += it
            if se > base * (1 + 1e-6) and (best is None or se > best[1]):
                best = (e, se)
    return None if best is None else (best[0], best[1], used)


def _sum_se_iterations(data: UplinkEE, eta, D, clock: _Clock, ipopt: dict, *, max_iter: int, tol: float,
                       target: float | None = None, drops: bool = True) -> tuple[np.ndarray, float, int, list[float], bool]:
    """QT iterations on Σ_t log(1 + Γ_t) over the powers for a fixed D (weights refreshed to the optimal LSFD
    between solves). Stops when the true sum SE reaches ``target`` (if given), when it improves by less than
    ``tol`` (relative), or at ``max_iter`` / the time limit. At a stationary point, ``drops`` tries switching one
    UE off (:func:`_drop_user`) and, if that raises the sum SE, iterates again from there.
    Returns (η, sum SE, iterations, trace, converged)."""
    model = _model(data, "power-sum-se")
    _reset_warm_start(model)
    eta = np.asarray(eta, float).copy()
    se = float(data.se(eta, D).sum())
    trace: list[float] = []
    it = 0
    converged = False
    for _ in range(data.K):
        converged = False
        while it < max_iter and not clock.expired():
            if target is not None and se >= target:
                break
            it += 1
            F.update_power(model, data, eta, D)
            ok, _ = _solve(model, clock, ipopt)
            if not ok:
                break
            new = F.extract_power(model)["eta"]
            se_new = float(data.se(new, D).sum())
            if se_new >= se:
                eta, improvement = new, (se_new - se) / max(se, 1e-12)
                se = se_new
            else:
                improvement = 0.0
            trace.append(se)
            if improvement <= tol:
                converged = True
                break
        if not drops or clock.expired() or (target is not None and se >= target) or it >= max_iter:
            break
        step = _drop_user(data, eta, D, clock, ipopt, max_iter=max(max_iter - it, 1), tol=tol)
        if step is None:
            break
        eta, se, used = step
        it += used
        trace.append(se)
    return eta, se, it, trace, converged


class SumSEMax(NamedTuple):
    """The SE-max end point of the EE–SE trade-off (:func:`max_sum_se`)."""

    eta: np.ndarray        # [K]
    assoc: np.ndarray      # [M, K] (all ones)
    sum_se: float          # bit/s/Hz, evaluator (optimal LSFD)
    ee: float              # Mbit/J at that point, eq. (11a)
    iterations: int
    trace: list            # true sum SE after each iteration
    converged: bool
    wall_time_s: float


def max_sum_se(instance, *, time_limit: float | None = None, max_iter: int = 50, tol: float = 1e-4,
               eta0=None, se_qos: float | None = None, **options) -> SumSEMax:
    """Largest sum SE found by the QT machinery: D = all ones (with optimal LSFD, adding an AP never lowers a SINR,
    so full association is SE-optimal for any powers) and QT iterations on Σ log(1 + Γ*) over the powers from
    η = 1 (or ``eta0``), until the relative gain is ≤ ``tol``. A stationary point, not a proven maximum.
    ``options``: model options of :func:`models.uplink_ee.system.prepare` and ``ipopt`` (dict); ``se_qos`` is accepted and
    ignored (the SE-max point has no floor)."""
    clock = _Clock(check_time_limit(time_limit))
    prep, ipopt, _ = _split_options(dict(options))
    data = prepare(instance, se_qos=0.0, **prep)
    D = np.ones((data.M, data.K))
    eta = np.ones(data.K) if eta0 is None else initial_power(data, eta0)
    eta, se, it, trace, conv = _sum_se_iterations(data, eta, D, clock, ipopt, max_iter=max_iter, tol=tol)
    ee = float(data.evaluate(eta, D, se_qos=0.0).objective)
    return SumSEMax(eta=eta, assoc=D, sum_se=se, ee=ee, iterations=it, trace=trace, converged=conv,
                    wall_time_s=clock.elapsed())


def _result(data: UplinkEE, qos: float, *, method: str, status, certificate, point: _Point | None, clock: _Clock,
            iterations: int | None = None, trace=None, seed=None, message: str = "", extra=None,
            solver_objective=None) -> SolveResult:
    return uplink_result(
        data, method=method, formulation=FORMULATION, solver=SOLVER, solver_version=dist_version("cfopt"),
        status=status, certificate=certificate, eta=None if point is None else point.eta,
        assoc=None if point is None else point.D, solver_objective=solver_objective,
        bound=float("inf") if point is not None else None, wall_time_s=clock.elapsed(), iterations=iterations,
        trace=trace, seed=seed, message=message, se_qos=qos, extra_solution=extra,
        solver_versions={"ipopt": IPOPT_VERSION})


def _feasible_start(data: UplinkEE, eta0, D0, qos, clock, ipopt, *, max_iter: int) -> tuple[_Point | None, str]:
    """Step 1's fallback chain; returns (point, how) with point None when nothing feasible was found."""
    p0 = _score(data, eta0, D0, qos)
    if _feasible(data, p0.sum_se, qos):
        return p0, "initial"
    ones = np.ones((data.M, data.K))
    p1 = _score(data, np.ones(data.K), ones, qos)
    if _feasible(data, p1.sum_se, qos):
        return p1, "fallback: all-ones association, full power"
    target = qos * (1.0 + 1e-9)
    eta, se, it, _, _ = _sum_se_iterations(data, np.ones(data.K), ones, clock, ipopt, max_iter=max_iter, tol=1e-4,
                                           target=target)
    p2 = _score(data, eta, ones, qos)
    if _feasible(data, p2.sum_se, qos):
        return p2, f"fallback: all-ones association, powers from {it} sum-SE QT iterations"
    return None, f"sum-SE QT iterations reached {p2.sum_se:.6g} < SE^QoS = {qos:.6g} bit/s/Hz"


def _no_start(data: UplinkEE, qos: float, method: str, clock: _Clock, seed, how: str, extra: dict) -> SolveResult:
    """No feasible start: ``infeasible`` (a heuristic verdict, not a proof), or ``limit`` when the time limit cut
    the search short. Never an EE of 0: the result carries no point."""
    if clock.expired():
        return _result(data, qos, method=method, status=Status.LIMIT, certificate=Certificate.NONE, point=None,
                       clock=clock, iterations=0, seed=seed, extra=extra,
                       message=f"time limit reached before a feasible point was found: {how}")
    return _result(data, qos, method=method, status=Status.INFEASIBLE, certificate=Certificate.NONE, point=None,
                   clock=clock, iterations=0, seed=seed, extra=extra,
                   message=f"no feasible point found (not a proof): {how}")


def _setup(instance, se_qos, seed, assoc_init, power_init, options):
    prep, ipopt, recovery = _split_options(dict(options))
    data = prepare(instance, se_qos=se_qos, **prep)
    needs_rng = (isinstance(assoc_init, str) and assoc_init == "random") or (
        isinstance(power_init, str) and power_init == "random")
    if needs_rng and seed is None:
        seed = int(np.random.SeedSequence().entropy % (2 ** 32))   # recorded in the result
    rng = np.random.default_rng(seed) if seed is not None else None
    D0 = initial_association(data, assoc_init, rng)
    eta0 = initial_power(data, power_init, rng)
    return data, ipopt, recovery, D0, eta0, seed


def _init_name(x) -> str:
    return x if isinstance(x, str) else "explicit"


# ---------------------------------------------------------------------------------------------------------------
# exact 1-opt local search on the association (part of the binary recovery of step 13)
# ---------------------------------------------------------------------------------------------------------------

class Improvement(NamedTuple):
    assoc: np.ndarray      # [M, K] binary
    ee: float              # Mbit/J, evaluator
    sum_se: float          # bit/s/Hz, evaluator
    moves: int             # accepted moves
    kinds: dict            # accepted moves per kind


def improve_association(data: UplinkEE, eta, D, *, se_qos: float | None = None, max_moves: int | None = None,
                        swap_limit: int = 16) -> Improvement:
    """Greedy 1-opt local search on a binary association for fixed powers η, exact under the evaluator.

    With optimal LSFD weights, SINR_t = p_t b_S^T C_S^{-1} b_S depends only on UE t's serving set S (spec §1.5–1.6),
    and P_T^fix + P_T^c is linear in D, so the true EE (11a) after a single move is known in closed form:

    * drop m ∈ S (|S| > 1, keeps (12e)): f' = f − x_m² / [C_S^{-1}]_mm  (x = C_S^{-1} b_S);
    * add m ∉ S: f' = f + (b_m − c_mᵀx)² / (C_mm − c_mᵀ C_S^{-1} c_m)  (Schur complement);
    * swap m ∈ S for m' ∉ S: a drop followed by an add (only for UEs with |S| ≤ ``swap_limit``).

    Each round takes every UE's best move whose Dinkelbach score ΔR − λΔP (λ = R / (P_T^fix + P_T^c)) is positive
    and applies them in decreasing score while Σ SE ≥ SE^QoS (11d) holds; as SINRs of different UEs do not interact
    and the score is linear, the EE rises in every round. It stops when no single move raises the EE (a 1-opt local
    optimum). The final point is re-scored by the evaluator."""
    eta = np.clip(np.asarray(eta, dtype=float), 0.0, 1.0)
    Db = np.asarray(D, dtype=float) > 0.5
    M, K = Db.shape
    qos = data.se_qos if se_qos is None else float(se_qos)
    qos_eff = qos + 1e-9 * max(qos, 1.0)
    p = eta * data.p_max
    bvec, C = lsfd_matrices(data.moments, p)
    lam = np.einsum("tmm->tm", C)
    valid = lam > 0                                                     # APs that can help UE t
    w, B = data.prelog, data.bandwidth_hz
    dcoef = data.power.d_coef
    P_s = data.power.static(eta, Db.astype(float))
    f = np.zeros(K)
    moves: list = [None] * K                                            # per UE: (f_new, dP, kind, m_out, m_in)

    def state(t: int) -> None:
        links = np.flatnonzero(Db[:, t])
        S = links[valid[t, links]]
        bt, Ct = bvec[t], C[t]
        notS = np.flatnonzero(~Db[:, t] & valid[t])
        fn, dp, kind, mo, mi = [], [], [], [], []
        if S.size:
            Ci = np.linalg.inv(Ct[np.ix_(S, S)])
            x = Ci @ bt[S]
            ft = float(bt[S] @ x)
        else:
            Ci, x, ft = None, None, 0.0
        f[t] = ft
        if links.size > 1:                                              # drop (keeps Σ_m d_mt ≥ 1)
            fd = np.full(links.size, ft)
            pos = np.searchsorted(links, S)
            if S.size:
                fd[pos] = ft - x * x / np.diagonal(Ci)
            fn.append(fd); dp.append(-dcoef[links, t]); kind.append(np.zeros(links.size, int))
            mo.append(links); mi.append(np.full(links.size, -1))
        if notS.size:                                                   # add
            cd = Ct[notS, notS]
            if S.size:
                Cc = Ct[np.ix_(S, notS)]
                fa = ft + (bt[notS] - Cc.T @ x) ** 2 / np.maximum(cd - np.sum(Cc * (Ci @ Cc), axis=0), 1e-300)
            else:
                fa = bt[notS] ** 2 / cd
            fn.append(fa); dp.append(dcoef[notS, t]); kind.append(np.ones(notS.size, int))
            mo.append(np.full(notS.size, -1)); mi.append(notS)
            if 1 <= S.size <= swap_limit and links.size == S.size:      # swap
                for j in range(S.size):
                    keep = np.delete(np.arange(S.size), j)
                    if keep.size:
                        Ci2 = Ci[np.ix_(keep, keep)] - np.outer(Ci[keep, j], Ci[j, keep]) / Ci[j, j]
                        Sk = S[keep]
                        x2 = Ci2 @ bt[Sk]
                        f2 = ft - x[j] ** 2 / Ci[j, j]
                        Cc = Ct[np.ix_(Sk, notS)]
                        fs = f2 + (bt[notS] - Cc.T @ x2) ** 2 / np.maximum(cd - np.sum(Cc * (Ci2 @ Cc), axis=0),
                                                                           1e-300)
                    else:
                        fs = bt[notS] ** 2 / cd
                    fn.append(fs); dp.append(dcoef[notS, t] - dcoef[S[j], t])
                    kind.append(np.full(notS.size, 2)); mo.append(np.full(notS.size, S[j])); mi.append(notS)
        if fn:
            moves[t] = (np.concatenate(fn), np.concatenate(dp), np.concatenate(kind), np.concatenate(mo),
                        np.concatenate(mi))
        else:
            moves[t] = None

    for t in range(K):
        state(t)
    se = w * np.log2(1.0 + p * f)
    cap = M * K if max_moves is None else int(max_moves)
    n_moves, kinds = 0, {"drop": 0, "add": 0, "swap": 0}
    while n_moves < cap:
        # a move (ΔR, ΔP) raises EE = R/(P_s + c R) iff ΔR − λ ΔP > 0 with λ = R/P_s (Dinkelbach): the score is
        # linear, so improving moves of different UEs (whose SINRs do not interact) also improve together.
        R = B * se.sum()
        lam_d = R / P_s
        picks = []
        for t in range(K):
            mv = moves[t]
            if mv is None:
                continue
            dse = w * np.log2(1.0 + p[t] * np.maximum(mv[0], 0.0)) - se[t]
            score = B * dse - lam_d * mv[1]
            j = int(np.argmax(score))
            if score[j] > 1e-12 * R:
                picks.append((score[j], t, j, dse[j]))
        tot = se.sum()
        applied = []
        for _, t, j, dse in sorted(picks, reverse=True):
            if tot + dse < qos_eff:
                continue
            _, dpj, kj, moj, mij = (a[j] for a in moves[t])
            if moj >= 0:
                Db[moj, t] = False
            if mij >= 0:
                Db[mij, t] = True
            P_s += dpj
            tot += dse
            kinds[("drop", "add", "swap")[kj]] += 1
            n_moves += 1
            applied.append(t)
            if n_moves >= cap:
                break
        if not applied:
            break
        for t in applied:
            state(t)
            se[t] = w * np.log2(1.0 + p[t] * f[t])
    Df = Db.astype(float)
    ev = data.evaluate(eta, Df, se_qos=qos)
    return Improvement(assoc=Df, ee=float(ev.objective), sum_se=float(ev.objectives["sum_se_bps_hz"]),
                       moves=n_moves, kinds=kinds)


# ---------------------------------------------------------------------------------------------------------------
# Algorithm 1
# ---------------------------------------------------------------------------------------------------------------

def run_ao_qt(instance, *, time_limit: float | None = None, seed: int | None = None, se_qos: float | None = None,
              assoc_init="lsfc95", power_init="full", max_iter: int = 50, tol: float = 5e-3,
              progress: Callable[[int, float, float], Any] | None = None, local_search: bool = True,
              **options) -> SolveResult:
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

    Result: status ``feasible`` + certificate ``stationary`` when the stop rule fired, ``limit`` (incumbent) when
    ``max_iter`` or ``time_limit`` was hit, ``infeasible`` (certificate ``none``) when no feasible point was found.
    ``trace`` = true EE (11a) after each iteration, ``iterations`` = iterations done, ``solution["history"]`` =
    per-iteration f1, f2, EE, sum SE, links, recovery outcome and timings (s).
    """
    clock = _Clock(check_time_limit(time_limit))
    data, ipopt, recovery, D0, eta0, seed = _setup(instance, se_qos, seed, assoc_init, power_init, options)
    qos = data.se_qos
    if max_iter < 1:
        raise InputError("max_iter", "must be >= 1")
    inits = {"assoc_init": _init_name(assoc_init), "power_init": _init_name(power_init)}
    start, how = _feasible_start(data, eta0, D0, qos, clock, ipopt, max_iter=max_iter)
    if start is None:
        return _no_start(data, qos, "ao-qt", clock, seed, how, inits)
    m_pow = _model(data, "power")
    m_asc = _model(data, "assoc")
    _reset_warm_start(m_pow, m_asc)
    eta, D = start.eta, start.D
    best = start
    trace: list[float] = []
    history: list[dict] = []
    f2_prev: float | None = None
    stopped = False
    it = 0
    while it < max_iter and not clock.expired():
        it += 1
        h: dict[str, Any] = {"iteration": it}
        t_it = time.perf_counter()
        # steps 4-8: z (17), b (21) at (η, D) with a = LSFD*(η, D); solve (23)
        t = time.perf_counter()
        F.update_power(m_pow, data, eta, D, se_qos=qos)
        ok, r = _solve(m_pow, clock, ipopt)
        h["t_power_s"] = time.perf_counter() - t
        h["power_status"] = r.status.value
        if ok:
            out = F.extract_power(m_pow)
            h["f1"] = out["objective"]
            p = _score(data, out["eta"], D, qos)
            if _feasible(data, p.sum_se, qos):
                eta = p.eta
            else:
                h["power_rejected"] = f"sum SE {p.sum_se:.6g} < SE^QoS"
        # steps 9-13: z, b at (η, D) with a = LSFD*(η, 1); solve (24) → relaxed D; binary recovery
        if not clock.expired():
            t = time.perf_counter()
            F.update_assoc(m_asc, data, eta, D, se_qos=qos)
            ok, r = _solve(m_asc, clock, ipopt)
            h["t_assoc_s"] = time.perf_counter() - t
            h["assoc_status"] = r.status.value
            if ok:
                out = F.extract_assoc(m_asc)
                f2 = out["objective"]
                h["f2"] = f2
                t = time.perf_counter()
                rec = recover_binary(data, out["d"], eta, se_qos=qos, **{"prune": not local_search, **recovery})
                if rec is not None:
                    D = rec.assoc
                    h["recovery"] = {"threshold": rec.threshold, "added": rec.added, "pruned": rec.pruned}
                else:
                    h["recovery"] = "failed: previous association kept"
                if local_search:
                    imp = improve_association(data, eta, D, se_qos=qos)
                    if _feasible(data, imp.sum_se, qos):
                        D = imp.assoc
                        h["local_search"] = imp.kinds
                h["t_recovery_s"] = time.perf_counter() - t
                if f2_prev is not None and abs(f2 - f2_prev) / max(abs(f2_prev), 1e-300) <= tol:
                    stopped = True
                f2_prev = f2
        p = _score(data, eta, D, qos)
        if not _feasible(data, p.sum_se, qos):      # cannot happen by construction; never report it
            h["infeasible_iterate"] = p.sum_se
        elif p.ee > best.ee:
            best = p
        trace.append(p.ee)
        h.update(ee=p.ee, sum_se=p.sum_se, links=int(p.D.sum()), t_iter_s=time.perf_counter() - t_it)
        history.append(h)
        if progress is not None:
            progress(it, p.ee, p.sum_se)
        if stopped:
            break
    extra = {**inits, "start": how, "initial_ee": start.ee, "history": history}
    if stopped:
        status, cert, msg = Status.FEASIBLE, Certificate.STATIONARY, f"stop rule |Δf2|/f2 <= {tol:g} after {it} iterations"
    else:
        status, cert = Status.LIMIT, Certificate.NONE
        msg = "time limit reached" if clock.expired() else f"max_iter = {max_iter} reached"
    return _result(data, qos, method="ao-qt", status=status, certificate=cert, point=best, clock=clock,
                   iterations=it, trace=trace, seed=seed, message=msg, extra=extra,
                   solver_objective=f2_prev)


# ---------------------------------------------------------------------------------------------------------------
# baselines
# ---------------------------------------------------------------------------------------------------------------

def run_all_serve_all(instance, *, time_limit: float | None = None, seed: int | None = None,
                      se_qos: float | None = None, power_init="full", max_iter: int = 50, tol: float = 5e-3,
                      progress: Callable[[int, float, float], Any] | None = None, **options) -> SolveResult:
    """Baseline "all-serve-all": D = all ones, powers by the (23)/(17)/(21) iterations of Algorithm 1 restricted to
    the power block (LSFD weights refreshed between solves); stop when |Δf1|/f1 ≤ ``tol``. Statuses as
    :func:`run_ao_qt`."""
    clock = _Clock(check_time_limit(time_limit))
    data, ipopt, _, _, eta0, seed = _setup(instance, se_qos, seed, "all", power_init, options)
    qos = data.se_qos
    D = np.ones((data.M, data.K))
    start, how = _feasible_start(data, eta0, D, qos, clock, ipopt, max_iter=max_iter)
    inits = {"power_init": _init_name(power_init)}
    if start is None:
        return _no_start(data, qos, "all-serve-all", clock, seed, how, inits)
    model = _model(data, "power")
    _reset_warm_start(model)
    eta, best = start.eta, start
    trace: list[float] = []
    history: list[dict] = []
    f1_prev = None
    stopped = False
    it = 0
    while it < max_iter and not clock.expired():
        it += 1
        t = time.perf_counter()
        F.update_power(model, data, eta, D, se_qos=qos)
        ok, r = _solve(model, clock, ipopt)
        h: dict[str, Any] = {"iteration": it, "power_status": r.status.value}
        if ok:
            out = F.extract_power(model)
            p = _score(data, out["eta"], D, qos)
            if _feasible(data, p.sum_se, qos):
                eta = p.eta
            f1 = out["objective"]
            h["f1"] = f1
            if f1_prev is not None and abs(f1 - f1_prev) / max(abs(f1_prev), 1e-300) <= tol:
                stopped = True
            f1_prev = f1
        p = _score(data, eta, D, qos)
        if p.ee > best.ee:
            best = p
        trace.append(p.ee)
        h.update(ee=p.ee, sum_se=p.sum_se, t_iter_s=time.perf_counter() - t)
        history.append(h)
        if progress is not None:
            progress(it, p.ee, p.sum_se)
        if stopped or not ok:
            break
    extra = {**inits, "start": how, "initial_ee": start.ee, "history": history}
    if stopped:
        status, cert, msg = Status.FEASIBLE, Certificate.STATIONARY, f"stop rule |Δf1|/f1 <= {tol:g} after {it} iterations"
    elif history and "f1" not in history[-1]:
        status, cert = Status.LIMIT, Certificate.NONE
        msg = f"power sub-problem failed ({history[-1]['power_status']}); best iterate returned"
    else:
        status, cert = Status.LIMIT, Certificate.NONE
        msg = "time limit reached" if clock.expired() else f"max_iter = {max_iter} reached"
    return _result(data, qos, method="all-serve-all", status=status, certificate=cert, point=best, clock=clock,
                   iterations=it, trace=trace, seed=seed, message=msg, extra=extra, solver_objective=f1_prev)


def run_lsfc95(instance, *, time_limit: float | None = None, seed: int | None = None, se_qos: float | None = None,
               **options) -> SolveResult:
    """Baseline "lsfc-95": d_mt = 1 iff β_mt ≥ 0.95 max_m β_mt (Section V, scheme 4) with full power η = 1. Status
    ``feasible`` (certificate ``none``) when it meets SE^QoS, else ``infeasible`` with a message."""
    clock = _Clock(check_time_limit(time_limit))
    prep, _, _ = _split_options(dict(options))
    data = prepare(instance, se_qos=se_qos, **prep)
    qos = data.se_qos
    p = _score(data, np.ones(data.K), initial_association(data, "lsfc95"), qos)
    if not _feasible(data, p.sum_se, qos):
        return _result(data, qos, method="lsfc-95", status=Status.INFEASIBLE, certificate=Certificate.NONE,
                       point=None, clock=clock, iterations=0, seed=seed,
                       message=f"lsfc-95 with full power reaches sum SE {p.sum_se:.6g} < SE^QoS = {qos:.6g} bit/s/Hz",
                       extra=None)
    return _result(data, qos, method="lsfc-95", status=Status.FEASIBLE, certificate=Certificate.NONE, point=p,
                   clock=clock, iterations=0, seed=seed, message="fixed rule, nothing optimised")
