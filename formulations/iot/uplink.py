"""Pyomo models of the IoT uplink power-control problems of paper 003 (Rao, Ashikhmin, Yang, arXiv 2006.10363):
max-min SINR (12) and minimum power under per-thing SINR targets (13). Spec ``iot_nonorthogonal.md`` §2.7, §3.5,
§3.6.

All three builders take the uplink SINR as a :class:`models.common.sinr.LinearFractional` (a, B, c),
SINR_k(η) = a_k η_k / (Σ_j B_kj η_j + c_k), η ∈ [0, 1]^K, and write every SINR constraint SINR_k ≥ t in linear
form with **row k divided by a_k** (spec §3.5 numerics: the raw coefficients are ~1e-10 and fall below LP
tolerances)::

    t (Σ_j Bn_kj η_j + cn_k) − η_k ≤ 0,      Bn = B / a_k (row-wise),  cn = c / a      (``con_sinr[k]``)

This equivalence needs a_k > 0 (checked).  The coefficients are constant numbers taken from numpy (built row by
row with ``LinearExpression``; no K×K Params), only the targets are mutable Params, so a bisection or a sweep
changes ``t`` and re-solves the same model.

=============================  =====  ========  =====================================================================
builder                        class  relation  model
=============================  =====  ========  =====================================================================
:func:`build_maxmin_feasibility` LP   exact     for a fixed t (mutable Param ``t``): min Σ_k η_k s.t. ``con_sinr``,
                                                0 ≤ η ≤ 1. Feasible ⇔ t ≤ t* (the max-min SINR of (12)), so it is
                                                the exact feasibility test of the bisection (§2.7/§3.5). The
                                                objective is bounded and makes the answer unique: the minimal
                                                powers reaching SINR t for every thing (all rows tight there).
:func:`build_maxmin_epigraph`  QCP    exact     max t s.t. ``con_sinr`` with t a variable, 0 ≤ η ≤ 1,
                               (non-            t_lo ≤ t ≤ t_hi: problem (12) in one model; the products t·η_j are
                               convex)          bilinear (nonconvex), for SCIP's spatial branch-and-bound.
:func:`build_min_power`        LP     exact     (13): min Σ_k p_k η_k s.t. ``con_sinr`` with per-thing mutable
                                                targets ``t[k]``, 0 ≤ η ≤ 1 (p: weights, e.g. p̄_u,k in W).
=============================  =====  ========  =====================================================================

Epigraph bounds: t_lo = min_k SINR_k(1) (η = 1 is feasible, so t* ≥ t_lo) and the interference-free bound
t_hi = min_k a_k / (B_kk + c_k) = min_k 1/(Bn_kk + cn_k) (SINR_k ≤ a_k η_k/(B_kk η_k + c_k), increasing in η_k ≤ 1;
B_kk ≥ 0), so the box [t_lo, t_hi] cuts off nothing and tightens SCIP's McCormick relaxations.

"""
from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from formulations.components.info import FormulationInfo, ProblemClass, Relation, register_formulation
from formulations.components.linear import linear as _linear
from formulations.components.params import set_params
from instances.errors import InputError
from models.common.sinr import LinearFractional
from models.iot.system import check_targets

__all__ = ["PROBLEM_MAXMIN", "PROBLEM_TARGET", "INFO_FEASIBILITY", "INFO_EPIGRAPH", "INFO_MIN_POWER", "INFO_SMALLCELL",
           "check_lf", "maxmin_bracket", "build_maxmin_feasibility", "set_target", "build_maxmin_epigraph", "build_min_power",
           "set_targets", "extract"]

PROBLEM_MAXMIN = "iot-uplink-maxmin"
PROBLEM_TARGET = "iot-uplink-target"
INFO_FEASIBILITY = register_formulation(FormulationInfo(
    PROBLEM_MAXMIN, "lp-feasibility", ProblemClass.LP, Relation.EXACT, objectives=("min_sinr",), parameters=("t",),
    description="for a fixed SINR level t: min Σ η s.t. t (Bn η + cn) ≤ η, 0 ≤ η ≤ 1 (feasible ⇔ t ≤ t*)"))
INFO_EPIGRAPH = register_formulation(FormulationInfo(
    PROBLEM_MAXMIN, "epigraph", ProblemClass.QCP, Relation.EXACT, objectives=("min_sinr",),
    description="max t s.t. t (Bn η + cn) ≤ η (bilinear, nonconvex), 0 ≤ η ≤ 1, t in the analytic bracket"))
INFO_MIN_POWER = register_formulation(FormulationInfo(
    PROBLEM_TARGET, "min-power-lp", ProblemClass.LP, Relation.EXACT, objectives=("total_power_w",),
    parameters=("t", "p"), description="(13): min Σ p_k η_k s.t. SINR_k ≥ t_k (linear rows / a_k), 0 ≤ η ≤ 1"))

#: the small-cell baseline's max-min problems (Paper A (25)) use the same LP on their own LinearFractional
INFO_SMALLCELL = tuple(register_formulation(FormulationInfo(
    problem, "lp-feasibility", ProblemClass.LP, Relation.EXACT, objectives=("min_sinr",), parameters=("t",),
    description="the LP feasibility test on the small-cell effective SINRs ω̄ / μ̄ (feasible ⇔ t ≤ t*)"))
    for problem in ("iot-smallcell-uplink-maxmin", "iot-smallcell-downlink-maxmin"))


def _meta(info: FormulationInfo, K: int) -> dict:
    return {"problem": info.problem, "formulation": info.name, "problem_class": info.problem_class.value,
            "relation": info.relation.value, "K": K}


def check_lf(lf) -> LinearFractional:
    """``lf`` as a float :class:`LinearFractional` with a > 0, B ≥ 0, c > 0 finite, a [K], B [K, K], c [K];
    InputError naming ``a``, ``B`` or ``c`` otherwise."""
    try:
        a, B, c = (np.asarray(x, dtype=float) for x in lf)
    except (TypeError, ValueError):
        raise InputError("lf", "expected a LinearFractional (a, B, c) of numbers") from None
    if a.ndim != 1 or a.size == 0:
        raise InputError("a", f"expected a non-empty vector, got shape {a.shape}")
    K = a.size
    if B.shape != (K, K):
        raise InputError("B", f"expected shape {(K, K)}, got {B.shape}")
    if c.shape != (K,):
        raise InputError("c", f"expected shape {(K,)}, got {c.shape}")
    for name, x in (("a", a), ("B", B), ("c", c)):
        if not np.all(np.isfinite(x)):
            raise InputError(name, "entries must be finite")
    if np.any(a <= 0):
        raise InputError("a", "desired-signal coefficients must be > 0")
    if np.any(B < 0):
        raise InputError("B", "interference coefficients must be ≥ 0")
    if np.any(c <= 0):
        raise InputError("c", "noise terms must be > 0")
    return LinearFractional(a, B, c)


def maxmin_bracket(lf: LinearFractional) -> tuple[float, float]:
    """(t_lo, t_hi) with t_lo ≤ t* ≤ t_hi: t_lo = min_k SINR_k(η = 1) (a feasible point), t_hi = min_k a_k/(B_kk+c_k)
    (interference-free SINR at full power)."""
    lf = check_lf(lf)
    t_lo = float(lf.sinr(np.ones(lf.K)).min())
    t_hi = float((lf.a / (np.diagonal(lf.B) + lf.c)).min())
    return t_lo, max(t_hi, t_lo)


def _rows(lf: LinearFractional):
    n = lf.normalised()
    return n.B.tolist(), n.c.tolist()


def _eta(m, K: int) -> list:
    m.K = pyo.RangeSet(0, K - 1)
    m.eta = pyo.Var(m.K, bounds=(0.0, 1.0), initialize=1.0)
    return [m.eta[k] for k in range(K)]


def _sinr_rows(m, target, Bn, cn, eta, per_thing: bool) -> None:
    """``con_sinr[k]``: t (Σ_j Bn_kj η_j + cn_k) − η_k ≤ 0 (t = ``target`` or ``target[k]``)."""
    def rule(b, k):
        tk = target[k] if per_thing else target
        return tk * (_linear(Bn[k], eta) + cn[k]) - eta[k] <= 0.0
    m.con_sinr = pyo.Constraint(m.K, rule=rule)


def build_maxmin_feasibility(lf: LinearFractional, *, t: float | None = None) -> pyo.ConcreteModel:
    """LP feasibility test of the bisection for (12) at SINR level ``t`` (mutable Param ``t``; default t_lo).

    Components: Var ``eta[k]`` ∈ [0, 1]; mutable Param ``t`` ≥ 0; Constraints ``con_sinr[k]``; Objective ``obj``
    = min Σ_k η_k (bounded; at the optimum every row is tight, i.e. all SINRs equal t — the minimal powers).
    Problem class LP, relation ``exact`` (feasible ⇔ t ≤ t*). Change the level with :func:`set_target`."""
    lf = check_lf(lf)
    K = lf.K
    Bn, cn = _rows(lf)
    t0 = maxmin_bracket(lf)[0] if t is None else float(t)
    if not (t0 >= 0 and np.isfinite(t0)):
        raise InputError("t", f"SINR level must be finite and ≥ 0, got {t!r}")
    m = pyo.ConcreteModel(name="iot_uplink_maxmin_feasibility")
    eta = _eta(m, K)
    m.t = pyo.Param(mutable=True, initialize=t0, within=pyo.NonNegativeReals)
    _sinr_rows(m, m.t, Bn, cn, eta, per_thing=False)
    m.obj = pyo.Objective(expr=_linear([1.0] * K, eta), sense=pyo.minimize)
    m._cfopt = _meta(INFO_FEASIBILITY, K)
    return m


def set_target(model: pyo.ConcreteModel, t: float) -> None:
    """Set the SINR level ``t`` of a :func:`build_maxmin_feasibility` model (no rebuild)."""
    t = float(t)
    if not (t >= 0 and np.isfinite(t)):
        raise InputError("t", f"SINR level must be finite and ≥ 0, got {t!r}")
    set_params(model, t=t)


def build_maxmin_epigraph(lf: LinearFractional, *, t_bounds: tuple[float, float] | None = None) -> pyo.ConcreteModel:
    """Problem (12) as one model: max t s.t. t (Σ_j Bn_kj η_j + cn_k) ≤ η_k, 0 ≤ η ≤ 1, t_lo ≤ t ≤ t_hi.

    Components: Var ``t`` (bounds :func:`maxmin_bracket` unless ``t_bounds`` given), ``eta[k]``; Constraints
    ``con_sinr[k]`` (bilinear in (t, η)); Objective ``obj`` = max t. Nonconvex QCP, relation ``exact``: SCIP proves
    it globally for small K. Starts at η = 1, t = t_lo (feasible)."""
    lf = check_lf(lf)
    K = lf.K
    Bn, cn = _rows(lf)
    lo, hi = maxmin_bracket(lf) if t_bounds is None else (float(t_bounds[0]), float(t_bounds[1]))
    if not (0 <= lo <= hi < np.inf):
        raise InputError("t_bounds", f"expected 0 ≤ t_lo ≤ t_hi < inf, got {(lo, hi)}")
    m = pyo.ConcreteModel(name="iot_uplink_maxmin_epigraph")
    eta = _eta(m, K)
    m.t = pyo.Var(bounds=(lo, hi), initialize=lo)
    _sinr_rows(m, m.t, Bn, cn, eta, per_thing=False)
    m.obj = pyo.Objective(expr=m.t, sense=pyo.maximize)
    m._cfopt = _meta(INFO_EPIGRAPH, K)
    return m


def build_min_power(lf: LinearFractional, targets, *, weights=None) -> pyo.ConcreteModel:
    """Problem (13): min Σ_k p_k η_k s.t. SINR_k(η) ≥ t_k (linear, rows / a_k), 0 ≤ η ≤ 1.

    ``targets`` scalar or [K] (> 0); ``weights`` p [K] ≥ 0 (default 1: Σ η_k; pass p̄_u,k in W for the radiated
    power of (13)). Components: Var ``eta[k]``; mutable Params ``t[k]`` (targets, :func:`set_targets`) and ``p[k]``;
    Constraints ``con_sinr[k]``; Objective ``obj``. LP, relation ``exact``; infeasible ⇔ the targets cannot be met."""
    lf = check_lf(lf)
    K = lf.K
    t = check_targets(targets, K)
    p = np.ones(K) if weights is None else np.asarray(weights, dtype=float)
    if p.shape != (K,) or not np.all(np.isfinite(p)) or np.any(p < 0):
        raise InputError("weights", f"expected {K} finite non-negative power weights")
    Bn, cn = _rows(lf)
    m = pyo.ConcreteModel(name="iot_uplink_min_power")
    eta = _eta(m, K)
    m.t = pyo.Param(m.K, mutable=True, initialize=dict(enumerate(t.tolist())), within=pyo.PositiveReals)
    m.p = pyo.Param(m.K, mutable=True, initialize=dict(enumerate(p.tolist())), within=pyo.NonNegativeReals)
    _sinr_rows(m, m.t, Bn, cn, eta, per_thing=True)
    m.obj = pyo.Objective(expr=pyo.quicksum(m.p[k] * eta[k] for k in range(K)), sense=pyo.minimize)
    m._cfopt = _meta(INFO_MIN_POWER, K)
    return m


def set_targets(model: pyo.ConcreteModel, targets) -> None:
    """New per-thing targets for a :func:`build_min_power` model (no rebuild)."""
    set_params(model, t=check_targets(targets, model._cfopt["K"]))


def extract(model: pyo.ConcreteModel) -> dict[str, np.ndarray]:
    """``{"eta": η [K]}`` at the model's current values (None values -> nan)."""
    K = model._cfopt["K"]
    return {"eta": np.array([np.nan if model.eta[k].value is None else float(model.eta[k].value)
                             for k in range(K)])}
