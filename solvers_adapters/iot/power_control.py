"""Power-control algorithms of paper 003 (Rao, Ashikhmin, Yang, arXiv 2006.10363) on a
:class:`models.common.sinr.LinearFractional` (a, B, c), SINR_k(η) = a_k η_k/(Bη + c)_k, η ∈ [0, 1]^K (the cell-free
uplink, and the small-cell ω̄/μ̄ of :mod:`models.iot.small_cells`), with R(η) = (Bη + c)/a the effective
interference of Paper A (13)/Algorithm 1; spec ``iot_nonorthogonal.md`` §2.7, §2.8, §3.5, §3.6, §3.9.

* :func:`bisection_maxmin` — the bracket engine (:func:`solvers_adapters.algorithms.bisection.bracket`, geometric
  steps) over the LP feasibility oracle of :mod:`solvers_adapters.iot.lp_oracle` (rows / a_k). Exact: (12) is
  quasi-linear, so the LP verdicts bracket t* and the final bracket has relative width ≤ ``rel_tol``.
* :func:`fixed_point_maxmin` — the equalising (Krause) fixed point η ← R(η)/max R(η) with the two-sided bracket
  min_k η_k/R_k(η) ≤ t* ≤ max_k η_k/R_k(η).
* :func:`target_fixed_point` — Algorithm 1 (Jacobi x = t∘R(η)) with soft removal (Sung–Leung / Rasti–Sharafat) or
  clipping; :func:`min_power_linear_system` — the minimal powers of (13) from one linear solve.
* :func:`small_cell_maxmin` — :func:`bisection_maxmin` on a small-cell LinearFractional (spec §2.8: the small-cell
  rate e^{1/x}E1(1/x)/ln2 is increasing in x, so max-min rate = max-min ω̄ or μ̄).

Results: the max-min methods return a :class:`solvers_adapters.algorithms.bisection.Bracket` (lo, hi, point = η,
value = min SINR at η), Algorithm 1 an :class:`solvers_adapters.algorithms.outcome.Outcome`.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from formulations.iot import uplink as F
from instances.errors import InputError
from models.common.sinr import LinearFractional
from models.iot.system import check_targets
from solvers_adapters.algorithms.bisection import Bracket, OracleStop, Report, bracket
from solvers_adapters.algorithms.loop import Clock
from solvers_adapters.algorithms.options import check_tol
from solvers_adapters.algorithms.outcome import Outcome
from solvers_adapters.iot.lp_oracle import LPFeasibility, _LPFailure, _LPTimeLimit
from solvers_adapters.result import Certificate, Status

__all__ = ["bisection_maxmin", "fixed_point_maxmin", "small_cell_maxmin", "target_fixed_point",
           "min_power_linear_system", "REMOVED_TOL"]

#: x_k above 1 + this counts as "cannot meet its target" (a floating-point guard on x_k > 1)
REMOVED_TOL = 1e-9


def _check_iter(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(name, f"must be a positive integer, got {value!r}")
    return int(value)


def _check_eta0(eta0, K: int) -> np.ndarray:
    if eta0 is None:
        return np.ones(K)
    x = np.asarray(eta0, dtype=float)
    if x.shape != (K,):
        raise InputError("eta0", f"expected {K} starting power coefficients, got shape {x.shape}")
    if not np.all(np.isfinite(x)) or np.any(x < 0) or np.any(x > 1):
        raise InputError("eta0", "starting power coefficients must be finite and in [0, 1]")
    return x



def _scale_up(lf: LinearFractional, eta: np.ndarray) -> np.ndarray:
    """η / max η when that does not lower min SINR. Scaling all η_k by α ≥ 1 gives
    SINR_k(αη) = a_k η_k / (Bη + c/α)_k ≥ SINR_k(η) since c > 0 (every SINR rises), so the result keeps the level;
    checked numerically (the unscaled point is kept if rounding says otherwise)."""
    eta = np.clip(eta, 0.0, 1.0)
    mx = float(eta.max())
    if mx <= 0:
        return np.ones_like(eta)
    scaled = np.minimum(eta / mx, 1.0)
    if lf.sinr(scaled).min() >= lf.sinr(eta).min() * (1 - 1e-12):
        return scaled
    return eta


def _polish(lf: LinearFractional, lo: float, hi: float, eta_lp: np.ndarray) -> np.ndarray:
    """Final step inside the converged bracket [lo, hi] (lo feasible by LP, hi infeasible by LP).

    The LP's point at lo has every row tight only up to the LP tolerances, and near t* the minimal powers grow
    steeply with t (M = 400, K = 200: max η = 0.9993 at lo = t*(1 − 9e-7)), so scaling that point to max η = 1
    leaves SINRs unequal by ~1e-4. Instead the tight system (I − t Bn) η = t cn (the minimal powers for the common
    target t, Paper A footnote 1; Bn = B/a, cn = c/a) is solved directly and t is bisected inside [lo, hi] to machine
    precision on "η(t) ∈ [0, 1]^K": the result has all SINRs equal to ~1e-15 and max η = 1 to ~1e-12. Each level is
    checked directly, so the point is feasible whatever the LP tolerances; if η(lo) itself is not in [0, 1] the LP
    point is kept."""
    n = lf.normalised()
    eye = np.eye(lf.K)

    def tight(t: float):
        try:
            eta = np.linalg.solve(eye - t * n.B, t * n.c)
        except np.linalg.LinAlgError:
            return None
        ok = np.all(np.isfinite(eta)) and eta.min() >= 0.0 and eta.max() <= 1.0
        return eta if ok else None

    best = tight(lo)
    if best is None:
        return eta_lp
    a, b = lo, hi
    for _ in range(80):
        mid = 0.5 * (a + b)
        if not (a < mid < b):
            break
        eta = tight(mid)
        if eta is None:
            b = mid
        else:
            a, best = mid, eta
    return best if lf.sinr(best).min() >= lf.sinr(eta_lp).min() * (1 - 1e-12) else eta_lp



def _lp_oracle(lp: LPFeasibility, counter: dict[str, int]):
    def oracle(q) -> Report:
        try:
            ok, x, its = lp.test(q.t, q.remaining)
        except _LPTimeLimit:
            raise OracleStop(Status.LIMIT, f"time limit after {q.iteration} LPs") from None
        except _LPFailure as e:
            raise OracleStop(Status.ERROR, f"LP failure after {q.iteration} LPs: {e}") from None
        counter["lp_iterations"] += its
        return Report.feasible(q.t, x) if ok else Report.infeasible(q.t)
    return oracle


def bisection_maxmin(lf: LinearFractional, *, rel_tol: float = 1e-6, solver: str = "highs",
                     interface: str = "direct", time_limit: float | None = None,
                     solver_options: dict[str, Any] | None = None) -> Bracket:
    """max_{η ∈ [0,1]^K} min_k SINR_k(η) by bisection with one LP feasibility model (spec §2.7/§3.5).

    Bracket: t_lo = min_k SINR_k(1) (feasible: η = 1), t_hi = min_k a_k/(B_kk + c_k) (interference-free bound).
    Each step tests t = √(t_lo t_hi) (geometric steps: with rel_tol 1e-6 about 22 LPs for t_hi/t_lo = 500 instead
    of 29) with the LP of :func:`formulations.iot.uplink.build_maxmin_feasibility` (one model, only t changes;
    warm-started simplex with the direct HiGHS interface): feasible → t_lo = t, else t_hi = t (LP infeasibility is a
    proof); stop when t_hi − t_lo ≤ rel_tol·t_lo.

    The LP minimises Σ η, so its solution at t_lo has every row tight: all SINRs equal t_lo. It is then polished
    (:func:`_polish`) and scaled so that max η = 1 (:func:`_scale_up`). If no tested level was feasible the point is
    η = 1 (the t_lo witness). ``time_limit`` (s) ends the loop early (status ``limit``); an LP that ends neither
    optimal nor infeasible gives status ``error`` with the bracket and point so far. ``value`` = min SINR at the
    returned η; ``info``: ``lp_iterations``, ``solver_version``, ``solver_versions``."""
    lf = F.check_lf(lf)
    rel_tol = check_tol("rel_tol", rel_tol)
    clock = Clock()
    lo, hi = F.maxmin_bracket(lf)
    lp = LPFeasibility(lf, solver=solver, interface=interface, solver_options=solver_options)
    counter = {"lp_iterations": 0}
    br = bracket(_lp_oracle(lp, counter), lo, hi, rel_tol=rel_tol, step="geometric", point=np.ones(lf.K),
                 prove_upper=True, clock=clock, time_limit=time_limit)
    lo, hi = br.lo, br.hi
    eta = _scale_up(lf, _polish(lf, lo, hi, br.point) if br.converged else br.point)
    if br.converged:
        message = (f"bracket [{lo:.10g}, {hi:.10g}], relative width {(hi - lo) / lo:.3g} <= rel_tol {rel_tol:g} "
                   f"after {br.iterations} LPs")
    else:
        message = f"{br.message}; bracket [{lo:.10g}, {hi:.10g}] (relative width {(hi - lo) / lo:.3g})"
    info = {**counter, "solver_version": lp.version or "", "solver_versions": dict(lp.versions)}
    return dataclasses.replace(br, point=eta, value=float(lf.sinr(eta).min()), message=message, info=info)


def fixed_point_maxmin(lf: LinearFractional, *, tol: float = 1e-10, max_iter: int = 10_000,
                       eta0=None, time_limit: float | None = None) -> Bracket:
    """The equalising fixed point of (12): η ← T(η)/max_k T_k(η), T(η) = R(η) = (Bη + c)/a (Krause's normalised
    iteration for a concave, monotone map; cf. Yates/Krause, max-min SINR under per-user power limits).

    At the fixed point η_k/R_k(η) = 1/max_k R_k for every k (equal SINRs, max η = 1). Krause's theorem
    (Perron–Frobenius theory for concave monotone maps) says the iteration converges to this point, which is the
    global max-min optimum. What the code *checks* is the two-sided bracket, valid for every iterate η with
    max η = 1:

        λ(η) = min_k η_k/R_k(η) ≤ t* ≤ Λ(η) = max_k η_k/R_k(η)

    (lower: η itself is feasible; upper: with θ = max_k η_k/η*_k ≥ 1 attained at i, R_i(η) ≤ θ R_i(η*) so
    η_i/R_i(η) ≥ η*_i/R_i(η*) = t*). Both ends are monotone along the iteration (λ non-decreasing, Λ
    non-increasing). Stops when Λ − λ ≤ tol·λ (status ``optimal``) or after ``max_iter`` iterations / the time
    limit (``limit``). ``trace`` holds λ per iteration, ``history`` [λ, Λ]."""
    lf = F.check_lf(lf)
    tol = check_tol("tol", tol)
    max_iter = _check_iter("max_iter", max_iter)
    n = lf.normalised()
    Bn, cn = n.B, n.c
    eta = _check_eta0(eta0, lf.K)
    if eta.max() <= 0:
        raise InputError("eta0", "the starting point needs a positive entry")
    eta = eta / eta.max()
    clock = Clock()
    trace: list[float] = []
    history: list[list[float]] = []
    converged = False
    it = 0
    T = Bn @ eta + cn
    r = eta / T
    lo, hi = float(r.min()), float(r.max())
    while True:
        if hi - lo <= tol * lo:
            converged = True
            break
        if it >= max_iter or (time_limit is not None and clock.elapsed() > time_limit):
            break
        eta = T / T.max()
        T = Bn @ eta + cn
        r = eta / T
        it += 1
        # monotone in exact arithmetic; max/min guard against rounding noise at convergence
        lo, hi = max(lo, float(r.min())), min(hi, max(float(r.max()), lo))
        trace.append(lo)
        history.append([lo, hi])
    msg = (f"{'converged' if converged else 'not converged'} after {it} iterations: bracket [{lo:.12g}, {hi:.12g}] "
           f"(relative width {(hi - lo) / lo:.3g}, tol {tol:g})")
    return Bracket(lo=lo, hi=hi, point=eta, iterations=it, trace=trace, history=history, message=msg,
                   status=Status.OPTIMAL if converged else Status.LIMIT, value=float(lf.sinr(eta).min()))


def small_cell_maxmin(lf_sc: LinearFractional, *, rel_tol: float = 1e-6, **kw) -> Bracket:
    """Max-min ω̄ (uplink) or μ̄ (downlink) of the small-cell system (spec §2.8, Paper B (45)-(46), (50); Paper A
    (25)): :func:`bisection_maxmin` on the small-cell LinearFractional (:mod:`models.iot.small_cells`). The rate
    e^{1/x}E1(1/x)/ln2 is increasing in x, so the max-min rate is the rate at the returned ``value``."""
    return bisection_maxmin(lf_sc, rel_tol=rel_tol, **kw)


# ================================================================================================================
# target SINR: Algorithm 1 and the linear system
# ================================================================================================================

def _algorithm1(tB, tc, eta, rule: str, tol: float, max_iter: int, time_limit, clock: Clock):
    trace: list[float] = []
    converged = False
    it = 0
    x = tB @ eta + tc
    while it < max_iter:
        if rule == "soft-removal":
            new = np.where(x <= 1.0, x, 1.0 / x)
        else:
            new = np.minimum(x, 1.0)
        change = float(np.max(np.abs(new - eta) / new))
        eta = new
        it += 1
        trace.append(change)
        x = tB @ eta + tc
        if change < tol:
            converged = True
            break
        if time_limit is not None and clock.elapsed() > time_limit:
            break
    return eta, x, it, trace, converged


def target_fixed_point(lf: LinearFractional, targets, *, rule: str = "soft-removal", eta0=None, tol: float = 1e-10,
                       max_iter: int = 10_000, time_limit: float | None = None) -> Outcome:
    """Algorithm 1 of Paper A for (13) (spec §3.6), Jacobi form (ambiguity A8): from η⁽⁰⁾ (default all 1)

        x_k = t_k R_k(η⁽ⁿ⁾),  R_k(η) = (Bη + c)_k / a_k = η_k / SINR_k(η)
        soft removal:  η_k⁽ⁿ⁺¹⁾ = x_k if x_k ≤ 1 else 1/x_k      (Sung–Leung two-sided scalable map)
        clip:          η_k⁽ⁿ⁺¹⁾ = min(1, x_k)                      (Foschini–Miljanic/Yates with a power cap)

    until max_k |η_k⁽ⁿ⁺¹⁾ − η_k⁽ⁿ⁾| / η_k⁽ⁿ⁺¹⁾ < ``tol`` (relative: the powers span orders of magnitude) or
    ``max_iter``. Both maps are standard/two-sided scalable, so the fixed point is unique and reached from any
    start; for feasible targets it is the componentwise-minimal power vector, i.e. the solution of (13) (Theorem 2
    of the paper; checked against the LP and the linear system in the tests).

    Outcome: converged, every x_k ≤ 1 + 1e-9 → ``optimal``/``stationary``; converged with some x_k > 1 + 1e-9 →
    ``infeasible`` with the point kept (``extra["removed"]`` = their indices); not converged → ``limit``.
    ``point`` = {"eta"}, ``trace`` = relative change per iteration, ``extra``: removed, rule, converged."""
    lf = F.check_lf(lf)
    K = lf.K
    t = check_targets(targets, K)
    if rule not in ("soft-removal", "clip"):
        raise InputError("rule", f"expected 'soft-removal' or 'clip', got {rule!r}")
    tol = check_tol("tol", tol)
    max_iter = _check_iter("max_iter", max_iter)
    eta = _check_eta0(eta0, K)
    n = lf.normalised()
    eta, x, it, trace, converged = _algorithm1(t[:, None] * n.B, t * n.c, eta, rule, tol, max_iter, time_limit,
                                               Clock())
    removed = [int(k) for k in np.flatnonzero(x > 1.0 + REMOVED_TOL)]
    if converged and not removed:
        status, cert, msg = Status.OPTIMAL, Certificate.STATIONARY, f"converged after {it} iterations ({rule})"
    elif converged:
        what = "soft-removed" if rule == "soft-removal" else "in outage at full power"
        status, cert = Status.INFEASIBLE, Certificate.NONE
        msg = f"targets infeasible: things {removed} {what} (fixed point of {rule}, {it} iterations)"
    else:
        status, cert = Status.LIMIT, Certificate.NONE
        msg = f"not converged after {it} iterations (last relative change {trace[-1]:.3g})"
    return Outcome(status=status, certificate=cert, point={"eta": eta}, iterations=it, trace=trace, message=msg,
                   keep_infeasible_point=status is Status.INFEASIBLE,
                   extra={"removed": removed, "rule": rule, "converged": converged})


def min_power_linear_system(lf: LinearFractional, targets) -> tuple[np.ndarray, bool, float]:
    """Minimal powers of (13) in closed form (Paper A footnote 1): with all SINR_k = t_k,
    (I − diag(t)Bn) η = diag(t) cn (Bn = B/a, cn = c/a row-wise), solved by ``numpy.linalg.solve``.

    Returns ``(eta, feasible, rho)``: ρ = spectral radius of diag(t)Bn; the targets are feasible iff ρ < 1 and the
    solution lies in [0, 1]^K (then it is the componentwise-minimal feasible power vector; for ρ ≥ 1 no
    non-negative η meets the targets). ``eta`` is returned even when infeasible (may be negative or > 1)."""
    lf = F.check_lf(lf)
    K = lf.K
    t = check_targets(targets, K)
    n = lf.normalised()
    A = t[:, None] * n.B
    rho = float(np.max(np.abs(np.linalg.eigvals(A)))) if K else 0.0
    try:
        eta = np.linalg.solve(np.eye(K) - A, t * n.c)
    except np.linalg.LinAlgError:
        return np.full(K, np.nan), False, rho
    feasible = bool(rho < 1.0 and np.all(eta >= 0.0) and np.all(eta <= 1.0 + 1e-12))
    return eta, feasible, rho

