"""Uplink power control of paper 003 (Rao, Ashikhmin, Yang, arXiv 2006.10363): max-min SINR (12) and target-SINR
minimum power (13), spec ``iot_nonorthogonal.md`` §2.7, §2.8, §3.5, §3.6, §3.9.

Generic algorithms on a :class:`models.common.sinr.LinearFractional` (a, B, c), SINR_k(η) = a_k η_k/(Bη + c)_k,
η ∈ [0, 1]^K (also the small-cell ω̄/μ̄ of :mod:`models.iot.small_cells`), with R(η) = (Bη + c)/a the effective
interference of Paper A (13)/Algorithm 1:

* :func:`bisection_maxmin` — bisection on t with the LP feasibility test of
  :func:`formulations.iot.uplink.build_maxmin_feasibility` (rows / a_k). Exact: (12) is quasi-linear, so the LP
  verdicts bracket t* and the final bracket [t_lo, t_hi] has relative width ≤ ``rel_tol``.
* :func:`fixed_point_maxmin` — the equalising (Krause) fixed point η ← R(η)/max R(η) with the two-sided bracket
  min_k η_k/R_k(η) ≤ t* ≤ max_k η_k/R_k(η) (see the function).
* :func:`target_fixed_point` — Algorithm 1 (Jacobi x = t∘R(η)) with soft removal (Sung–Leung / Rasti–Sharafat) or
  clipping; :func:`min_power_linear_system` — the minimal powers of (13) from one linear solve.
* :func:`small_cell_maxmin` — :func:`bisection_maxmin` on a small-cell LinearFractional (spec §2.8: the small-cell
  rate e^{1/x}E1(1/x)/ln2 is increasing in x, so max-min rate = max-min ω̄ or μ̄).

Instance-level methods (all return a :class:`SolveResult` re-scored by :mod:`models.iot.system` through
:func:`solvers_adapters.iot.common.iot_result`; each takes ``estimator`` ("lmmse" | "projection"),
``time_limit`` (s) and ``seed`` (recorded; SCIP: ``randomization/randomseedshift``)):

=====================  =====================  ==============  ============  ========================================
problem                function               method          certificate   what
=====================  =====================  ==============  ============  ========================================
``iot-uplink-maxmin``  :func:`run_bisection`  ``bisection``   global        bracket ≤ rel_tol, HiGHS LPs
``iot-uplink-maxmin``  :func:`run_exact_uplink` ``exact``     SCIP's        epigraph (bilinear), SCIP
``iot-uplink-maxmin``  :func:`run_fixed_point_maxmin` ``fixed-point`` stationary Krause iteration converged
``iot-uplink-maxmin``  :func:`run_full_power` ``full-power``  none          η = 1
``iot-uplink-target``  :func:`run_fixed_point_target` ``fixed-point`` stationary Algorithm 1 converged, all met
``iot-uplink-target``  :func:`run_exact_target` ``exact``     SCIP's        min-power LP (13)
``iot-uplink-target``  :func:`run_linear_system_target` ``linear-system`` global (I − diag(t)Bn)η = diag(t)cn
=====================  =====================  ==============  ============  ========================================

Numerics: everything works on the row-normalised data (Bn = B/a_k, cn = c/a_k; spec §3.5). The HiGHS LPs use
``primal_feasibility_tolerance`` = ``dual_feasibility_tolerance`` = 1e-9 (:data:`HIGHS_OPTIONS`; the default 1e-7 is
too loose for a 1e-6 bracket); SCIP uses ``numerics/feastol`` = 1e-9 (:data:`SCIP_OPTIONS`). Every reported point is
re-checked by the evaluator (iot_result).

Measured (this machine, 1 core, rao2020 instances, rel_tol 1e-6): M = 100, K = 40, τ_p = 20: direct HiGHS
bisection 0.02-0.09 s for 22 LPs; through Pyomo (:func:`solvers_adapters.solve_model`, model built once, only the
Param t changes) ≈ 0.85 s. M = 400, K = 200, τ_p = 50: direct ≈ 0.6 s for 21 LPs, Pyomo ≈ 16 s (every solve
re-translates the dense model, ~0.8 s each). Hence ``interface="direct"`` is the default; both give the same
verdicts and brackets (tested). SCIP proves the epigraph at the root node up to K = 40 (≈ 0.4 s).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from formulations.iot import uplink as F
from instances.errors import InputError
from models.iot import system as iot_models
from models.iot.system import check_targets
from models.common.sinr import LinearFractional
from solvers_adapters._stdio import native_stdout_to_stderr
from solvers_adapters.base import dist_version, solve_model
from solvers_adapters.iot.common import check_agreement, check_tol, iot_result, remaining, scip_options, solver_versions
from solvers_adapters.result import Certificate, SolveResult, Status

__all__ = ["HIGHS_OPTIONS", "SCIP_OPTIONS", "MaxMinOutcome", "TargetOutcome", "bisection_maxmin",
           "fixed_point_maxmin", "target_fixed_point", "min_power_linear_system", "small_cell_maxmin",
           "run_bisection", "run_exact_uplink", "run_fixed_point_maxmin", "run_full_power", "run_fixed_point_target",
           "run_exact_target", "run_linear_system_target", "LPFeasibility"]

PROBLEM_MAXMIN = F.PROBLEM_MAXMIN
PROBLEM_TARGET = F.PROBLEM_TARGET

#: HiGHS options of every LP solved here (tighter than the default 1e-7; a 1e-6 bracket needs it)
HIGHS_OPTIONS = {"primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9}
#: SCIP options of every model solved here (overridable per call)
SCIP_OPTIONS = {"numerics/feastol": 1e-9, "numerics/dualfeastol": 1e-9, "display/verblevel": 0}
#: x_k above 1 + this counts as "cannot meet its target" (a floating-point guard on x_k > 1)
REMOVED_TOL = 1e-9
#: relative agreement between SCIP's value and the evaluator's at SCIP's point for keeping SCIP's certificate
AGREE_RTOL = 1e-5


# ================================================================================================================
# helpers
# ================================================================================================================

def _highs_version() -> str:
    from solvers_adapters.highs import highs_version
    return highs_version()


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


def _no_options(options: dict[str, Any], method: str) -> None:
    if options:
        raise InputError("options", f"unknown option(s) for {method}: {', '.join(sorted(options))}")


# ================================================================================================================
# LP feasibility test of the bisection (two interfaces, same LP)
# ================================================================================================================

class LPFeasibility:
    """The LP of :func:`formulations.iot.uplink.build_maxmin_feasibility`, built once, tested at many levels t.

    ``interface="direct"`` (HiGHS only): the same LP handed to highspy as dense column-wise arrays
    (η ∈ [0,1]^K, min Σ η, rows t·Bn − I ≤ −t·cn); each new t re-passes the matrix (numpy, no Python loop) and
    restarts simplex from the previous optimal basis (warm start). ``interface="pyomo"``: the Pyomo model, only its
    mutable Param ``t`` changes, solved by :func:`solvers_adapters.solve_model` (``"highs"`` or ``"scip"``).

    :meth:`test` returns ``(feasible, eta, lp_iterations)``; an LP that ends neither optimal nor infeasible raises
    :class:`_LPFailure` (a time limit raises :class:`_LPTimeLimit`)."""

    def __init__(self, lf: LinearFractional, *, solver: str = "highs", interface: str = "direct",
                 solver_options: dict[str, Any] | None = None):
        lf = F.check_lf(lf)
        if solver not in ("highs", "scip"):
            raise InputError("solver", f"expected 'highs' or 'scip', got {solver!r}")
        if interface not in ("direct", "pyomo"):
            raise InputError("interface", f"expected 'direct' or 'pyomo', got {interface!r}")
        if interface == "direct" and solver != "highs":
            raise InputError("interface", "the direct interface exists for HiGHS only; use interface='pyomo'")
        self.lf, self.solver, self.interface = lf, solver, interface
        self.K = lf.K
        base = dict(HIGHS_OPTIONS if solver == "highs" else SCIP_OPTIONS)
        base.update(solver_options or {})
        self.options = base
        n = lf.normalised()
        self._Bn, self._cn = n.B, n.c
        if interface == "direct":
            import highspy
            self._hs = highspy
            with native_stdout_to_stderr():   # highspy ≥ 1.16 prints a banner from the constructor
                self._h = highspy.Highs()
            self._h.setOptionValue("output_flag", False)
            for k, v in self.options.items():
                if self._h.setOptionValue(k, v) == highspy.HighsStatus.kError:
                    raise InputError(k, f"unknown HiGHS option or bad value {v!r}")
            self._basis = None
            K = self.K
            self._start = np.arange(0, K * K + 1, K, dtype=np.int32)
            self._index = np.tile(np.arange(K, dtype=np.int32), K)
            self._BnF = np.asfortranarray(self._Bn).ravel(order="F")     # column-wise values of Bn
            self._diag = np.arange(K) * (K + 1)                            # positions of Bn_jj in that order
            lp = highspy.HighsLp()
            lp.num_col_, lp.num_row_ = K, K
            lp.col_cost_, lp.col_lower_, lp.col_upper_ = np.ones(K), np.zeros(K), np.ones(K)
            lp.row_lower_ = np.full(K, -highspy.kHighsInf)
            lp.row_upper_ = np.zeros(K)
            lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
            lp.a_matrix_.start_ = self._start
            lp.a_matrix_.index_ = self._index
            lp.a_matrix_.value_ = np.zeros(K * K)
            self._lp = lp
        else:
            self.model = F.build_maxmin_feasibility(lf)
        self.version = _highs_version() if solver == "highs" else None
        self.versions: dict[str, str] = {}

    def test(self, t: float, time_limit: float | None = None) -> tuple[bool, np.ndarray | None, int]:
        if time_limit is not None and time_limit <= 0:
            raise _LPTimeLimit()
        if self.interface == "direct":
            with native_stdout_to_stderr():
                return self._test_direct(t, time_limit)
        return self._test_pyomo(t, time_limit)

    def _test_direct(self, t: float, time_limit: float | None):
        hs, h = self._hs, self._h
        vals = t * self._BnF
        vals[self._diag] -= 1.0
        h.setOptionValue("time_limit", float("inf") if time_limit is None else float(time_limit))
        lp = self._lp
        lp.row_upper_ = -t * self._cn
        lp.a_matrix_.value_ = vals
        h.passModel(lp)
        if self._basis is not None:
            h.setBasis(self._basis)
        h.run()
        st = h.getModelStatus()
        info = h.getInfo()
        its = max(0, int(info.simplex_iteration_count))
        if st == hs.HighsModelStatus.kOptimal:
            self._basis = h.getBasis()
            return True, np.asarray(h.getSolution().col_value, dtype=float), its
        if st in (hs.HighsModelStatus.kInfeasible, hs.HighsModelStatus.kUnboundedOrInfeasible):
            return False, None, its         # the box 0 ≤ η ≤ 1 rules out unboundedness
        if st == hs.HighsModelStatus.kTimeLimit:
            raise _LPTimeLimit()
        raise _LPFailure(f"HiGHS ended with {h.modelStatusToString(st)} at t = {t:.10g}")

    def _test_pyomo(self, t: float, time_limit: float | None):
        F.set_target(self.model, t)
        r = solve_model(self.model, self.solver, time_limit=time_limit, **self.options)
        self.version = r.solver_version
        self.versions = solver_versions(r, "highs", "scip")
        its = int(r.iterations or 0)
        if r.status is Status.OPTIMAL:
            return True, F.extract(self.model), its
        if r.status is Status.INFEASIBLE:
            return False, None, its
        if r.status is Status.LIMIT:
            raise _LPTimeLimit()
        raise _LPFailure(f"{self.solver} ended with {r.status.value} at t = {t:.10g}: {r.message}")


class _LPFailure(RuntimeError):
    pass


class _LPTimeLimit(RuntimeError):
    pass


# ================================================================================================================
# max-min: bisection and the equalising fixed point
# ================================================================================================================

@dataclass
class MaxMinOutcome:
    """Result of :func:`bisection_maxmin` / :func:`fixed_point_maxmin`. Unpacks as ``t, eta, n, trace``.

    t        min_k SINR_k(eta) (the achieved level, ≥ t_lo up to LP tolerances)
    eta      [K] power coefficients, max eta = 1
    n        LP solves (bisection) or fixed-point iterations
    trace    per LP / iteration: the proven lower end t_lo of the bracket (non-decreasing)
    t_lo, t_hi   final bracket of t* (t_hi: the smallest level shown infeasible, or the analytic bound)
    brackets per LP / iteration [t_lo, t_hi]
    converged  bracket relative width ≤ tolerance
    lp_iterations  simplex iterations summed over the LPs (bisection only)
    message  how it ended
    failed   an LP ended neither optimal nor infeasible (the bracket and point so far are still valid)
    """

    t: float
    eta: np.ndarray
    n: int
    trace: list[float]
    t_lo: float = 0.0
    t_hi: float = math.inf
    brackets: list[list[float]] = field(default_factory=list)
    converged: bool = False
    lp_iterations: int = 0
    message: str = ""
    solver_version: str = ""
    solver_versions: dict[str, str] = field(default_factory=dict)
    failed: bool = False

    def __iter__(self):
        return iter((self.t, self.eta, self.n, self.trace))

    @property
    def rel_width(self) -> float:
        return (self.t_hi - self.t_lo) / self.t_lo if self.t_lo > 0 else math.inf


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


def bisection_maxmin(lf: LinearFractional, *, rel_tol: float = 1e-6, solver: str = "highs",
                     interface: str = "direct", time_limit: float | None = None,
                     solver_options: dict[str, Any] | None = None) -> MaxMinOutcome:
    """max_{η ∈ [0,1]^K} min_k SINR_k(η) by bisection with one LP feasibility model (spec §2.7/§3.5).

    Bracket: t_lo = min_k SINR_k(1) (feasible: η = 1), t_hi = min_k a_k/(B_kk + c_k) (interference-free bound).
    Each step tests t = √(t_lo t_hi) (the midpoint in log t: the same halving of the bracket's log-width, fewer LPs
    when t_hi/t_lo is large; with rel_tol 1e-6 about 22 LPs for t_hi/t_lo = 500 instead of 29) with the LP of
    :func:`formulations.iot.uplink.build_maxmin_feasibility` (one model, only t changes; warm-started simplex with
    the direct HiGHS interface): feasible → t_lo = t, else t_hi = t; stop when t_hi − t_lo ≤ rel_tol·t_lo.

    The LP minimises Σ η, so its solution at t_lo has every row tight: all SINRs equal t_lo. It is then scaled so
    that max η = 1 (:func:`_scale_up`: scaling all η up can only raise every SINR, because c > 0); near t* the
    scale factor is 1 + O(rel_tol), so the SINRs stay equal to ~rel_tol. If no tested level was feasible the
    returned point is η = 1 (the t_lo witness). ``time_limit`` (s) ends the loop early (``converged`` False)."""
    lf = F.check_lf(lf)
    rel_tol = check_tol("rel_tol", rel_tol)
    t0 = time.perf_counter()
    lo, hi = F.maxmin_bracket(lf)
    lp = LPFeasibility(lf, solver=solver, interface=interface, solver_options=solver_options)
    eta_best = np.ones(lf.K)
    trace: list[float] = []
    brackets: list[list[float]] = []
    n_lp = lp_its = 0
    message = ""
    failed = False
    while hi - lo > rel_tol * lo:
        t = math.sqrt(lo * hi) if lo > 0 else 0.5 * hi
        if not (lo < t < hi):
            t = 0.5 * (lo + hi)
        try:
            ok, x, its = lp.test(t, remaining(t0, time_limit))
        except _LPTimeLimit:
            message = f"time limit after {n_lp} LPs"
            break
        except _LPFailure as e:
            message, failed = f"LP failure after {n_lp} LPs: {e}", True
            break
        n_lp += 1
        lp_its += its
        if ok:
            lo, eta_best = t, x
        else:
            hi = t
        trace.append(lo)
        brackets.append([lo, hi])
    converged = hi - lo <= rel_tol * lo
    eta = _scale_up(lf, _polish(lf, lo, hi, eta_best) if converged else eta_best)
    val = float(lf.sinr(eta).min())
    if converged:
        message = (f"bracket [{lo:.10g}, {hi:.10g}], relative width {(hi - lo) / lo:.3g} <= rel_tol {rel_tol:g} "
                   f"after {n_lp} LPs")
    else:
        message = f"{message}; bracket [{lo:.10g}, {hi:.10g}] (relative width {(hi - lo) / lo:.3g})"
    return MaxMinOutcome(t=val, eta=eta, n=n_lp, trace=trace, t_lo=lo, t_hi=hi, brackets=brackets,
                         converged=converged, lp_iterations=lp_its, message=message,
                         solver_version=lp.version or "", solver_versions=dict(lp.versions), failed=failed)


def fixed_point_maxmin(lf: LinearFractional, *, tol: float = 1e-10, max_iter: int = 10_000,
                       eta0=None, time_limit: float | None = None) -> MaxMinOutcome:
    """The equalising fixed point of (12): η ← T(η)/max_k T_k(η), T(η) = R(η) = (Bη + c)/a (Krause's normalised
    iteration for a concave, monotone map; cf. Yates/Krause, max-min SINR under per-user power limits).

    At the fixed point η_k/R_k(η) = 1/max_k R_k for every k (equal SINRs, max η = 1). Krause's theorem
    (Perron–Frobenius theory for concave monotone maps) says the iteration converges to this point, which is the
    global max-min optimum. What the code *checks* is the two-sided bracket, valid for every iterate η with
    max η = 1:

        λ(η) = min_k η_k/R_k(η) ≤ t* ≤ Λ(η) = max_k η_k/R_k(η)

    (lower: η itself is feasible; upper: with θ = max_k η_k/η*_k ≥ 1 attained at i, R_i(η) ≤ θ R_i(η*) so
    η_i/R_i(η) ≥ η*_i/R_i(η*) = t*). Both ends are monotone along the iteration (λ non-decreasing, Λ
    non-increasing: from η ≥ λ T(η) and λ·max T ≤ 1 follows η' ≥ λ T(η'), symmetrically for Λ). Stops when
    Λ − λ ≤ tol·λ (``converged``) or after ``max_iter`` iterations. ``trace`` holds λ per iteration,
    ``brackets`` [λ, Λ]."""
    lf = F.check_lf(lf)
    tol = check_tol("tol", tol)
    max_iter = _check_iter("max_iter", max_iter)
    n = lf.normalised()
    Bn, cn = n.B, n.c
    eta = _check_eta0(eta0, lf.K)
    if eta.max() <= 0:
        raise InputError("eta0", "the starting point needs a positive entry")
    eta = eta / eta.max()
    t_start = time.perf_counter()
    trace: list[float] = []
    brackets: list[list[float]] = []
    converged = False
    it = 0
    T = Bn @ eta + cn
    r = eta / T
    lo, hi = float(r.min()), float(r.max())
    while True:
        if hi - lo <= tol * lo:
            converged = True
            break
        if it >= max_iter or (time_limit is not None and time.perf_counter() - t_start > time_limit):
            break
        eta = T / T.max()
        T = Bn @ eta + cn
        r = eta / T
        it += 1
        # monotone in exact arithmetic; max/min guard against rounding noise at convergence
        lo, hi = max(lo, float(r.min())), min(hi, max(float(r.max()), lo))
        trace.append(lo)
        brackets.append([lo, hi])
    val = float(lf.sinr(eta).min())
    msg = (f"{'converged' if converged else 'not converged'} after {it} iterations: bracket [{lo:.12g}, {hi:.12g}] "
           f"(relative width {(hi - lo) / lo:.3g}, tol {tol:g})")
    return MaxMinOutcome(t=val, eta=eta, n=it, trace=trace, t_lo=lo, t_hi=hi, brackets=brackets,
                         converged=converged, message=msg)


def small_cell_maxmin(lf_sc: LinearFractional, *, rel_tol: float = 1e-6, **kw) -> MaxMinOutcome:
    """Max-min ω̄ (uplink) or μ̄ (downlink) of the small-cell system (spec §2.8, Paper B (45)-(46), (50); Paper A
    (25)): :func:`bisection_maxmin` on the small-cell LinearFractional (:mod:`models.iot.small_cells`). The rate
    e^{1/x}E1(1/x)/ln2 is increasing in x, so the max-min rate is ``ei_rate(t)``."""
    return bisection_maxmin(lf_sc, rel_tol=rel_tol, **kw)


# ================================================================================================================
# target SINR: Algorithm 1 and the linear system
# ================================================================================================================

@dataclass
class TargetOutcome:
    """Result of :func:`target_fixed_point`.

    eta [K]; iterations; removed [K] bool (x_k = t_k R_k(η) > 1 at the end: cannot meet its target);
    converged; trace (max_k |Δη_k|/η_k per iteration); x [K] the last x; rule."""

    eta: np.ndarray
    iterations: int
    removed: np.ndarray
    converged: bool
    trace: list[float]
    x: np.ndarray
    rule: str


def target_fixed_point(lf: LinearFractional, targets, *, rule: str = "soft-removal", eta0=None, tol: float = 1e-10,
                       max_iter: int = 10_000, time_limit: float | None = None) -> TargetOutcome:
    """Algorithm 1 of Paper A for (13) (spec §3.6), Jacobi form (ambiguity A8): from η⁽⁰⁾ (default all 1)

        x_k = t_k R_k(η⁽ⁿ⁾),  R_k(η) = (Bη + c)_k / a_k = η_k / SINR_k(η)
        soft removal:  η_k⁽ⁿ⁺¹⁾ = x_k if x_k ≤ 1 else 1/x_k      (Sung–Leung two-sided scalable map)
        clip:          η_k⁽ⁿ⁺¹⁾ = min(1, x_k)                      (Foschini–Miljanic/Yates with a power cap)

    until max_k |η_k⁽ⁿ⁺¹⁾ − η_k⁽ⁿ⁾| / η_k⁽ⁿ⁺¹⁾ < ``tol`` (relative: the powers span orders of magnitude) or
    ``max_iter``. Both maps are standard/two-sided scalable, so the fixed point is unique and reached from any
    start; for feasible targets it is the componentwise-minimal power vector, i.e. the solution of (13) (Theorem 2
    of the paper; checked against the LP and the linear system in the tests). ``removed`` marks x_k > 1 + 1e-9 at
    the end (the things that cannot meet their target)."""
    lf = F.check_lf(lf)
    K = lf.K
    t = check_targets(targets, K)
    if rule not in ("soft-removal", "clip"):
        raise InputError("rule", f"expected 'soft-removal' or 'clip', got {rule!r}")
    tol = check_tol("tol", tol)
    max_iter = _check_iter("max_iter", max_iter)
    eta = _check_eta0(eta0, K)
    n = lf.normalised()
    tB, tc = t[:, None] * n.B, t * n.c
    t_start = time.perf_counter()
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
        if time_limit is not None and time.perf_counter() - t_start > time_limit:
            break
    removed = x > 1.0 + REMOVED_TOL
    return TargetOutcome(eta=eta, iterations=it, removed=removed, converged=converged, trace=trace, x=x, rule=rule)


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


# ================================================================================================================
# instance-level methods
# ================================================================================================================

def _system(instance, estimator: str):
    return iot_models.prepare(instance, estimator=estimator)


def _highs_versions(out) -> dict[str, str]:
    v = dict(out.solver_versions)
    v.setdefault("highs", _highs_version())
    v.setdefault("highspy", dist_version("highspy"))
    return v


def run_bisection(instance, *, estimator: str = "lmmse", rel_tol: float = 1e-6, time_limit: float | None = None,
                  seed: int | None = None, interface: str = "direct", solver: str = "highs",
                  **options: Any) -> SolveResult:
    """``iot-uplink-maxmin`` by :func:`bisection_maxmin` (HiGHS LPs, rows / a_k). Converged → status ``optimal``,
    certificate ``global`` (quasi-linear problem; bracket ≤ ``rel_tol``), ``bound`` = t_hi, ``solver_objective`` =
    t_lo, ``gap`` = (t_hi − objective)/objective; the time limit → ``limit`` with the best feasible point; an LP
    that fails (neither optimal nor infeasible) → ``feasible`` with that point and the bracket so far.
    ``iterations`` = number of LPs, ``trace`` = t_lo after each LP; ``solution["bracket"]``, ``["brackets"]``.
    ``options``: HiGHS (or SCIP) options for the LPs."""
    t0 = time.perf_counter()
    sys_ = _system(instance, estimator)
    out = bisection_maxmin(sys_.ul, rel_tol=rel_tol, solver=solver, interface=interface, time_limit=time_limit,
                           solver_options=options)
    status = Status.OPTIMAL if out.converged else (Status.FEASIBLE if out.failed else Status.LIMIT)
    cert = Certificate.GLOBAL if out.converged else Certificate.NONE
    obj = out.t
    gap = (out.t_hi - obj) / obj if obj > 0 else math.inf
    vers = _highs_versions(out) if solver == "highs" else dict(out.solver_versions)
    return iot_result(PROBLEM_MAXMIN, instance, method="bisection", formulation="lp-feasibility", solver=solver,
                      solver_version=out.solver_version or "", status=status, certificate=cert, eta=out.eta,
                      estimator=estimator, solver_objective=out.t_lo, bound=out.t_hi, gap=max(gap, 0.0),
                      wall_time_s=time.perf_counter() - t0, iterations=out.n, trace=out.trace, seed=seed,
                      message=f"bisection ({interface} {solver}): {out.message}",
                      extra_solution={"bracket": [out.t_lo, out.t_hi], "brackets": out.brackets,
                                      "lp_iterations": out.lp_iterations},
                      solver_versions=vers)


def run_exact_uplink(instance, *, estimator: str = "lmmse", time_limit: float | None = None,
                     seed: int | None = None, **options: Any) -> SolveResult:
    """``iot-uplink-maxmin`` by SCIP on the epigraph :func:`formulations.iot.uplink.build_maxmin_epigraph`
    (bilinear, global). Status, certificate, bound and gap are SCIP's; ``objective`` is the evaluator's min SINR at
    SCIP's η. If that differs from SCIP's t by more than 1e-5 relative, the certificate is dropped (status
    ``feasible``). ``options``: SCIP parameters (defaults :data:`SCIP_OPTIONS`), ``gap_tol``."""
    t0 = time.perf_counter()
    sys_ = _system(instance, estimator)
    model = F.build_maxmin_epigraph(sys_.ul)
    r = solve_model(model, "scip", time_limit=time_limit, **scip_options(SCIP_OPTIONS, options, seed))
    eta = F.extract(model) if r.has_solution else None
    status, cert, message = r.status, r.certificate, r.message
    if eta is not None:
        status, cert, message = check_agreement(status, cert, message,
                                                float(sys_.ul.sinr(np.clip(eta, 0.0, None)).min()),
                                                r.solver_objective, what="SCIP's t", rtol=AGREE_RTOL)
    vers = solver_versions(r, "scip")
    return iot_result(PROBLEM_MAXMIN, instance, method="exact", formulation="epigraph", solver="scip",
                      solver_version=r.solver_version, status=status, certificate=cert, eta=eta,
                      estimator=estimator, solver_objective=r.solver_objective, bound=r.bound, gap=r.gap,
                      wall_time_s=time.perf_counter() - t0, iterations=r.iterations, seed=seed, message=message,
                      solver_versions=vers)


def run_fixed_point_maxmin(instance, *, estimator: str = "lmmse", tol: float = 1e-10, max_iter: int = 10_000,
                           time_limit: float | None = None, seed: int | None = None, **options: Any) -> SolveResult:
    """``iot-uplink-maxmin`` by :func:`fixed_point_maxmin`. Converged → status ``optimal``, certificate
    ``stationary`` (the iteration converged; Krause's theorem makes the limit the global optimum, which the code
    does not re-prove beyond the bracket); ``bound`` = Λ (the bracket's upper end, valid for every iterate),
    ``solver_objective`` = λ. Not converged → ``limit`` (the point is still feasible: any η ∈ [0,1])."""
    _no_options(options, "fixed-point")
    t0 = time.perf_counter()
    sys_ = _system(instance, estimator)
    out = fixed_point_maxmin(sys_.ul, tol=tol, max_iter=max_iter, time_limit=time_limit)
    status = Status.OPTIMAL if out.converged else Status.LIMIT
    cert = Certificate.STATIONARY if out.converged else Certificate.NONE
    gap = max((out.t_hi - out.t) / out.t, 0.0) if out.t > 0 else math.inf
    return iot_result(PROBLEM_MAXMIN, instance, method="fixed-point", formulation="krause-normalised",
                      solver="cfopt", solver_version=dist_version("cfopt"), status=status, certificate=cert,
                      eta=out.eta, estimator=estimator, solver_objective=out.t_lo, bound=out.t_hi, gap=gap,
                      wall_time_s=time.perf_counter() - t0, iterations=out.n, trace=out.trace, seed=seed,
                      message=out.message, extra_solution={"bracket": [out.t_lo, out.t_hi]})


def run_full_power(instance, *, estimator: str = "lmmse", time_limit: float | None = None, seed: int | None = None,
                   **options: Any) -> SolveResult:
    """``iot-uplink-maxmin`` baseline: η = 1 (no power control); status ``feasible``, certificate ``none``."""
    _no_options(options, "full-power")
    t0 = time.perf_counter()
    sys_ = _system(instance, estimator)
    return iot_result(PROBLEM_MAXMIN, instance, method="full-power", formulation="closed-form", solver="cfopt",
                      solver_version=dist_version("cfopt"), status=Status.FEASIBLE, certificate=Certificate.NONE,
                      eta=np.ones(sys_.K), estimator=estimator, wall_time_s=time.perf_counter() - t0, iterations=0,
                      seed=seed, message="eta = 1 (no power control)")


def _targets(instance, sys_, targets) -> np.ndarray:
    return iot_models.targets_of(instance, sys_.K, targets)


def run_fixed_point_target(instance, *, targets=None, rule: str = "soft-removal", estimator: str = "lmmse",
                           tol: float = 1e-10, max_iter: int = 10_000, eta0=None, time_limit: float | None = None,
                           seed: int | None = None, **options: Any) -> SolveResult:
    """``iot-uplink-target`` by Algorithm 1 (:func:`target_fixed_point`); targets from ``targets`` or the
    instance's ``qos["sinr_target"]`` (:func:`models.iot.system.targets_of`); objective = radiated power Σ η_k p̄_u,k (W).

    * converged, every target met → ``optimal``, certificate ``stationary`` (the fixed point is the minimal power
      vector, Theorem 2 of the paper; the tests check it against the LP and the linear system);
    * converged, some x_k > 1 → ``infeasible`` with the point kept (``solution["removed"]`` = thing indices,
      message "targets infeasible: things [...] soft-removed" (or "in outage at full power" for ``clip``));
    * not converged → ``limit``; the point is reported only if it meets every target."""
    _no_options(options, "fixed-point")
    t0 = time.perf_counter()
    sys_ = _system(instance, estimator)
    t = _targets(instance, sys_, targets)
    out = target_fixed_point(sys_.ul, t, rule=rule, eta0=eta0, tol=tol, max_iter=max_iter, time_limit=time_limit)
    removed = [int(k) for k in np.flatnonzero(out.removed)]
    extra = {"removed": removed, "rule": rule, "converged": out.converged, "targets": t.tolist()}
    common = dict(method="fixed-point", formulation=f"algorithm-1-{rule}", solver="cfopt",
                  solver_version=dist_version("cfopt"), estimator=estimator, wall_time_s=0.0,
                  iterations=out.iterations, trace=out.trace, seed=seed, targets=t, extra_solution=extra)
    sinr = sys_.ul.sinr(out.eta)
    met = bool(np.all((t - sinr) / t <= iot_models.FEAS_TOL))
    if out.converged and not removed:
        res = iot_result(PROBLEM_TARGET, instance, status=Status.OPTIMAL, certificate=Certificate.STATIONARY,
                         eta=out.eta, message=f"converged after {out.iterations} iterations ({rule})", **common)
    elif out.converged:
        what = "soft-removed" if rule == "soft-removal" else "in outage at full power"
        res = iot_result(PROBLEM_TARGET, instance, status=Status.INFEASIBLE, certificate=Certificate.NONE,
                         eta=out.eta, keep_infeasible_point=True,
                         message=f"targets infeasible: things {removed} {what} (fixed point of {rule}, "
                                 f"{out.iterations} iterations)", **common)
    else:
        msg = f"not converged after {out.iterations} iterations (last relative change {out.trace[-1]:.3g})"
        res = iot_result(PROBLEM_TARGET, instance, status=Status.LIMIT, certificate=Certificate.NONE,
                         eta=out.eta if met else None, message=msg, **common)
        if not met:
            res.solution = {"eta": out.eta.tolist(), "estimator": estimator, **extra}
    res.wall_time_s = time.perf_counter() - t0
    return res


def run_exact_target(instance, *, targets=None, estimator: str = "lmmse", time_limit: float | None = None,
                     seed: int | None = None, solver: str = "scip", **options: Any) -> SolveResult:
    """``iot-uplink-target`` by the min-power LP (13) (:func:`formulations.iot.uplink.build_min_power`, weights
    p̄_u,k in W, so ``solver_objective`` is the radiated power in W), solved by SCIP (default) or HiGHS. Status,
    certificate, bound and gap are the solver's; infeasible targets → status ``infeasible`` (no point)."""
    t0 = time.perf_counter()
    sys_ = _system(instance, estimator)
    t = _targets(instance, sys_, targets)
    model = F.build_min_power(sys_.ul, t, weights=np.asarray(instance.p_ue_max_w, dtype=float))
    if solver == "scip":
        opts = scip_options(SCIP_OPTIONS, options, seed)
    elif solver == "highs":
        opts = {**HIGHS_OPTIONS, **options}
    else:
        raise InputError("solver", f"expected 'scip' or 'highs', got {solver!r}")
    r = solve_model(model, solver, time_limit=time_limit, **opts)
    eta = F.extract(model) if r.has_solution else None
    message = r.message
    if r.status is Status.INFEASIBLE:
        message = f"targets infeasible ({solver} proved the LP infeasible: {r.message})"
    vers = solver_versions(r, "scip", "highs")
    return iot_result(PROBLEM_TARGET, instance, method="exact", formulation="min-power-lp", solver=solver,
                      solver_version=r.solver_version, status=r.status, certificate=r.certificate, eta=eta,
                      estimator=estimator, solver_objective=r.solver_objective, bound=r.bound, gap=r.gap,
                      wall_time_s=time.perf_counter() - t0, iterations=r.iterations, seed=seed, message=message,
                      targets=t, extra_solution={"targets": t.tolist()}, solver_versions=vers)


def run_linear_system_target(instance, *, targets=None, estimator: str = "lmmse", time_limit: float | None = None,
                             seed: int | None = None, **options: Any) -> SolveResult:
    """``iot-uplink-target`` by :func:`min_power_linear_system`: feasible → ``optimal``/``global`` (the unique
    minimal power vector); infeasible (ρ ≥ 1 or a power outside [0, 1]) → ``infeasible`` (no point), with ρ and the
    offending things in the message."""
    _no_options(options, "linear-system")
    t0 = time.perf_counter()
    sys_ = _system(instance, estimator)
    t = _targets(instance, sys_, targets)
    eta, feasible, rho = min_power_linear_system(sys_.ul, t)
    common = dict(method="linear-system", formulation="linear-system", solver="numpy",
                  solver_version=np.__version__, estimator=estimator, iterations=1, seed=seed, targets=t)
    if feasible:
        res = iot_result(PROBLEM_TARGET, instance, status=Status.OPTIMAL, certificate=Certificate.GLOBAL,
                         eta=np.clip(eta, 0.0, 1.0), message=f"spectral radius {rho:.6g} < 1",
                         extra_solution={"targets": t.tolist(), "spectral_radius": rho}, **common)
    else:
        if rho >= 1:
            why = f"spectral radius of diag(t)B/a is {rho:.6g} >= 1"
        else:
            bad = [int(k) for k in np.flatnonzero((eta > 1.0 + 1e-12) | (eta < 0))]
            why = f"minimal powers exceed 1 for things {bad}"
        res = iot_result(PROBLEM_TARGET, instance, status=Status.INFEASIBLE, certificate=Certificate.NONE, eta=None,
                         message=f"targets infeasible: {why}", **common)
        res.solution = {"spectral_radius": rho, "targets": t.tolist()}
    res.wall_time_s = time.perf_counter() - t0
    return res
