"""Pyomo models of the IoT downlink max-min power control of paper 003 (Rao, Ashikhmin, Yang, arXiv 2006.10363),
problems (18)-(19) and the SOCP feasibility set (20)-(24); spec ``iot_nonorthogonal.md`` §2.6, §3.7, §3.8.

Problem ``iot-downlink-maxmin``: max_{η ≥ 0} min_k SINR_k^d(η) s.t. Σ_k η_mk γ_mk ≤ 1 (every AP m), with the
general-estimator SINR of Theorem 3 (spec §3.7; :func:`models.common.sinr.downlink_sinr`), s_mk = sqrt(ρ_d,m η_mk)::

    SINR_k = |Σ_m s_mk [Q_m]_kk|² / ( Σ_{j≠k} |Σ_m s_mj [Q_m]_jk|² + Σ_j Σ_m s_mj² γ_mj β_mk + 1 )

in the scaled variables u_mk = sqrt(η_mk γ_mk) of :mod:`models.iot.downlink` (:class:`~models.iot.downlink.DLData`:
a_mk, d_mk, the coherent rows r = (j_r, k_r, c_r); SINR_k = w_k²/‖y_k‖², w_k = a_kᵀu_k). Each coherent row gets an
auxiliary variable ``v[r]`` defined by the linear equality ``v[r] = c_rᵀ u[:, j_r]`` (this keeps every Hessian
diagonal; orthogonal pairs have no row).

=================================  =================  =========  ====================================================
builder                            class              relation   model
=================================  =================  =========  ====================================================
:func:`build_feasibility`          SOCP (for fixed t) exact      the set {SINR_k ≥ t ∀k, per-AP power} for the
                                                                 mutable target ``t`` (Param ``inv_t`` = 1/t), with
                                                                 objective ``"none"`` (feasibility; SCIP),
                                                                 ``"slack"`` (max common margin s; Ipopt) or
                                                                 ``"power"`` (min Σ θ_m²)
:func:`build_epigraph`             nonconvex QCP      exact      max τ (t = τ²) over the same set with τ a variable:
                                                                 problem (19) in one model, for SCIP (tiny sizes)
=================================  =================  =========  ====================================================

Feasibility model (``con_cone[k]`` is (20) squared, ``con_ap[m]`` is (21) squared, (22)-(23) are bounds)::

    con_coh[r]  v[r] − c_rᵀ u[:, j_r] = 0
    con_w[k]    om[k] − a_kᵀ u[:, k] (+ δ_k s) = 0           (om = w_k − δ_k s; δ_k = 1 unless set)
    con_cone[k] Σ_{r: k_r = k} v[r]² + Σ_m d_mk² th[m]² + 1 − inv_t · om[k]² ≤ 0,     om[k] ≥ 0
    con_ap[m]   Σ_k u[m,k]² − th[m]² ≤ 0,     0 ≤ th[m] ≤ 1,  u ≥ 0

**Convexity argument.** With om ≥ 0 and th ≥ 0, ``con_cone[k]`` ⇔ sqrt(t)·‖y_k‖ ≤ om_k and ``con_ap[m]`` ⇔
‖u_m‖ ≤ θ_m: second-order cones, so the feasible set is convex (an SOCP; SCIP receives the cones as these quadratic
constraints). The constraint *functions* are differences of squares, i.e. nonconvex: this is a nonconvex representation
of a convex set. It is nevertheless safe for a KKT method: (i) on the boundary of ``con_cone`` om_k ≥ sqrt(t) > 0
(the noise entry 1 of y_k), so the gradient (2y, −2 om/t) is non-zero and is a positive multiple of the outward
normal of the cone {sqrt(t)‖y‖ ≤ om}; likewise for ``con_ap`` wherever θ_m > 0 (where θ_m = 0 = u_m its gradient
vanishes and the condition below holds trivially). Each active constraint function is
therefore quasiconvex *at* the point relative to the feasible set (g(x) ≤ 0 = g(x̄) ⇒ ∇g(x̄)ᵀ(x − x̄) ≤ 0, by the
supporting hyperplane of the convex cone), and Mangasarian's sufficiency theorem makes every KKT point of the
linear objective a global optimum. (ii) The Hessians are diagonal, which keeps Ipopt's linear algebra cheap; the
smooth convex alternatives (the norm form, whose Hessian is dense over y_k's 2(K−1)+M+1 entries, or the
quadratic-over-linear form ‖y‖²/om ≤ om/t, whose Hessian is an arrow) are larger at M = 100, K = 40.

**Objective of the feasibility model.** ``"slack"`` (used with Ipopt): max s with om_k = w_k − δ_k s, s free. The
model is then *always feasible* (any power-feasible u with s = min_k (w_k − sqrt(t)‖y_k‖)/δ_k), its optimal value
s*(t) is attained (compact power set), and the verdict is its sign: s* ≥ 0 ⇔ t ≤ t*. Ipopt never has to "detect
infeasibility" (a restoration-phase failure, which proves nothing and is slow); the maximiser is interior-like
(every SINR exceeds t when s* > 0), so its min SINR is a better lower bound than t; and the multipliers of
``con_cone`` give a *certified* upper bound by weak duality (:func:`models.iot.downlink.lagrangian_bound`).
``"none"`` (used with SCIP): constant objective; SCIP stops at the first feasible point or proves infeasibility
(its verdict is global). ``"power"``: min Σ θ_m² (a minimum-power point for feasible t; offered for completeness,
not used by the adapters).

The target is the mutable Param ``inv_t`` = 1/t (one coefficient per cone) and the weights ``delta[k]``; only these
change during a bisection, so one model serves every step (the Ipopt bridge re-reads Params without recompiling;
SCIP re-translates each solve). Coefficients are plain floats from numpy.

Epigraph (:func:`build_epigraph`): max τ s.t. ``con_coh``, ``con_ap``, w_k = a_kᵀ u_k, ρ_k² ≥ ‖y_k‖² (ρ_k ≥ 1, a
cone), and the bilinear τ·ρ_k ≤ w_k, with τ ∈ [sqrt(t_lo), sqrt(t_hi)]. The only nonconvexity is the product
τ·ρ_k, so SCIP's spatial branch-and-bound branches on a single variable (τ); t* = τ*².

Bounds: :meth:`models.iot.downlink.DLData.upper_bound` (t_hi) and the min SINR at equal power (t_lo); the
multipliers of ``con_cone`` (:func:`cone_multipliers`) feed the weak-duality bound
:func:`models.iot.downlink.lagrangian_bound`.
"""
from __future__ import annotations

import math

import numpy as np
import pyomo.environ as pyo

from formulations.components.info import FormulationInfo, ProblemClass, Relation, register_formulation
from formulations.components.linear import linear as _linear
from formulations.components.params import set_params
from instances.errors import InputError
from models.iot.downlink import DLData, dl_data

__all__ = ["PROBLEM", "INFO_FEASIBILITY", "INFO_EPIGRAPH", "OBJECTIVES", "DLData", "dl_data", "build_feasibility",
           "set_target", "start", "build_epigraph", "extract", "cone_multipliers"]

PROBLEM = "iot-downlink-maxmin"
INFO_FEASIBILITY = register_formulation(FormulationInfo(
    PROBLEM, "socp-feasibility", ProblemClass.SOCP, Relation.EXACT, objectives=("min_sinr",),
    parameters=("inv_t", "delta"),
    description="the set {SINR_k ≥ t ∀k, per-AP power} (20)-(24) for a fixed t (quadratic form of the cones)"))
INFO_EPIGRAPH = register_formulation(FormulationInfo(
    PROBLEM, "epigraph", ProblemClass.QCP, Relation.EXACT, objectives=("min_sinr",),
    description="max τ (t = τ²) over the same set; nonconvex through the bilinear τ·ρ_k (SCIP, tiny sizes)"))
OBJECTIVES = ("none", "slack", "power")


def _check_data(data) -> DLData:
    if not isinstance(data, DLData):
        if hasattr(data, "dl_stats"):
            return dl_data(data)
        raise InputError("data", f"expected DLData or an IoTSystem, got {type(data).__name__}")
    return data


def _check_t(t) -> float:
    try:
        tv = float(t)
    except (TypeError, ValueError):
        raise InputError("t", f"SINR target must be a positive number, got {t!r}") from None
    if not (tv > 0) or not math.isfinite(tv):
        raise InputError("t", f"SINR target must be finite and > 0, got {t!r}")
    return tv



# ================================================================================================================
# Pyomo builders
# ================================================================================================================

def _core(m: pyo.ConcreteModel, data: DLData) -> None:
    """Sets, u, th, v and the constraints shared by both builders: con_coh (coherent rows), con_ap (21)-(22)."""
    M, K, R = data.M, data.K, data.R
    m.M = pyo.RangeSet(0, M - 1)
    m.K = pyo.RangeSet(0, K - 1)
    m.R = pyo.RangeSet(0, R - 1) if R else pyo.Set(initialize=[])
    m.u = pyo.Var(m.M, m.K, bounds=(0.0, 1.0), initialize=0.0)
    for (mm, k), act in np.ndenumerate(data.active):
        if not act:
            m.u[mm, k].fix(0.0)
    m.th = pyo.Var(m.M, bounds=(0.0, 1.0), initialize=1.0)
    l1 = np.abs(data.row_c).sum(axis=1) if R else np.zeros(0)
    m.v = pyo.Var(m.R, bounds=lambda b, r: (-float(l1[r]), float(l1[r])), initialize=0.0)
    u, v = m.u, m.v
    rows = [np.flatnonzero(data.row_c[r]) for r in range(R)]
    m.con_coh = pyo.Constraint(m.R, rule=lambda b, r: (v[r] - _linear(
        data.row_c[r, rows[r]], [u[int(mm), int(data.row_j[r])] for mm in rows[r]]) == 0.0))
    m.con_ap = pyo.Constraint(m.M, rule=lambda b, mm: pyo.quicksum(
        u[mm, k] ** 2 for k in range(K) if data.active[mm, k]) - b.th[mm] ** 2 <= 0.0)
    m._rows_of_k = [np.flatnonzero(data.row_k == k) for k in range(K)]


def _interference(m: pyo.ConcreteModel, data: DLData, k: int):
    """‖y_k‖² = Σ_{r→k} v_r² + Σ_m d_mk² θ_m² + 1 as a Pyomo expression."""
    d2 = data.d[:, k] ** 2
    terms = [m.v[int(r)] ** 2 for r in m._rows_of_k[k]]
    terms += [float(d2[mm]) * m.th[mm] ** 2 for mm in range(data.M) if d2[mm] > 0]
    return pyo.quicksum(terms) + 1.0


def build_feasibility(data, *, t: float = 1.0, objective: str = "slack", duals: bool = False) -> pyo.ConcreteModel:
    """The feasibility set {SINR_k ≥ t ∀k, per-AP power} of (20)-(24) in scaled variables (module docstring).

    ``data``: :class:`DLData` or an IoTSystem. ``objective``: ``"slack"`` (max s; Ipopt), ``"none"`` (constant;
    SCIP), ``"power"`` (min Σ θ_m²). ``duals``: add an IMPORT ``dual`` Suffix (Ipopt's multipliers, for
    :func:`models.iot.downlink.lagrangian_bound`). Change the target with :func:`set_target`.

    Components: Var ``u[m,k]`` ∈ [0,1], ``th[m]`` ∈ [0,1], ``v[r]``, ``om[k]`` ≥ 0 (and ``s`` for ``"slack"``);
    mutable Params ``inv_t`` (= 1/t), ``delta[k]`` (slack weights, default 1); Constraints ``con_coh[r]``,
    ``con_w[k]``, ``con_cone[k]``, ``con_ap[m]``; Objective ``obj``. Size: MK + M + R + K (+1) variables,
    R ≤ 2K(K−1) coherent rows with ≤ M coefficients each.
    """
    data = _check_data(data)
    t = _check_t(t)
    if objective not in OBJECTIVES:
        raise InputError("objective", f"expected one of {', '.join(OBJECTIVES)}, got {objective!r}")
    M, K = data.M, data.K
    m = pyo.ConcreteModel(name=f"iot_downlink_feasibility_{objective}")
    _core(m, data)
    m.inv_t = pyo.Param(mutable=True, initialize=1.0 / t)
    m.delta = pyo.Param(m.K, mutable=True, initialize=1.0)
    wmax = data.a.sum(axis=0)
    u = m.u
    if objective == "slack":
        m.s = pyo.Var(bounds=(None, float(wmax.max())), initialize=0.0)
        m.om = pyo.Var(m.K, bounds=(0.0, None), initialize=0.0)
    else:
        m.om = pyo.Var(m.K, bounds=lambda b, k: (0.0, float(wmax[k])), initialize=0.0)

    def _w(b, k):
        act = np.flatnonzero(data.active[:, k])
        lin = _linear(data.a[act, k], [u[int(mm), k] for mm in act])
        if objective == "slack":
            return b.om[k] - lin + b.delta[k] * b.s == 0.0
        return b.om[k] - lin == 0.0

    m.con_w = pyo.Constraint(m.K, rule=_w)
    m.con_cone = pyo.Constraint(m.K, rule=lambda b, k: _interference(b, data, k) - b.inv_t * b.om[k] ** 2 <= 0.0)
    if objective == "slack":
        m.obj = pyo.Objective(expr=m.s, sense=pyo.maximize)
    elif objective == "power":
        m.obj = pyo.Objective(expr=pyo.quicksum(m.th[mm] ** 2 for mm in range(M)), sense=pyo.minimize)
    else:
        m.obj = pyo.Objective(expr=0.0 * m.th[0], sense=pyo.minimize)
    if duals:
        m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    m._cfopt = {"kind": "feasibility", "objective": objective, "shape": (M, K), "data": data,
                "problem": PROBLEM, "formulation": INFO_FEASIBILITY.name,
                "problem_class": INFO_FEASIBILITY.problem_class.value, "relation": INFO_FEASIBILITY.relation.value}
    start(m, data, np.sqrt(data.gamma / np.maximum(data.gamma.sum(axis=1, keepdims=True), 1e-300)))
    set_target(m, t)
    return m


def set_target(model: pyo.ConcreteModel, t: float, *, delta=None) -> None:
    """Set the SINR target t (``inv_t`` = 1/t) and optionally the slack weights ``delta`` [K] (> 0)."""
    t = _check_t(t)
    set_params(model, inv_t=1.0 / t)
    if delta is not None:
        K = model._cfopt["shape"][1]
        dl = np.broadcast_to(np.asarray(delta, dtype=float), (K,))
        if not np.all(np.isfinite(dl)) or np.any(dl <= 0):
            raise InputError("delta", "slack weights must be finite and > 0")
        set_params(model, delta=dl)


def start(model: pyo.ConcreteModel, data: DLData, u) -> None:
    """Set every variable consistently from a power-feasible u [M, K] (θ = ‖u_m‖, v, om = w, s = the margin)."""
    u = np.clip(np.asarray(u, dtype=float), 0.0, None) * data.active
    th = np.minimum(np.linalg.norm(u, axis=1), 1.0)
    K = data.K
    for (mm, k), val in np.ndenumerate(u):
        if not model.u[mm, k].fixed:
            model.u[mm, k].set_value(float(min(val, 1.0)))
    model.th.set_values(dict(enumerate(th.tolist())))
    if data.R:
        model.v.set_values(dict(enumerate(data.coherent(u).tolist())))
    w = (data.a * u).sum(axis=0)
    if hasattr(model, "om"):
        if hasattr(model, "s"):
            t = 1.0 / float(pyo.value(model.inv_t))
            dl = np.array([pyo.value(model.delta[k]) for k in range(K)])
            s = float(np.min((w - math.sqrt(t) * np.sqrt(data.y_norm2(u, th))) / dl))
            model.s.set_value(s)
            model.om.set_values(dict(enumerate((w - dl * s).tolist())))
        else:
            model.om.set_values(dict(enumerate(w.tolist())))
    if hasattr(model, "w"):
        model.w.set_values(dict(enumerate(w.tolist())))
    if hasattr(model, "rho"):
        model.rho.set_values(dict(enumerate(np.sqrt(data.y_norm2(u, th)).tolist())))


def extract(model: pyo.ConcreteModel) -> dict[str, np.ndarray | float]:
    """The loaded point: u [M, K], θ [M], η [M, K] (= u²/γ, raw) and s (slack model) / τ (epigraph)."""
    data: DLData = model._cfopt["data"]
    M, K = data.M, data.K
    u = np.array([[model.u[mm, k].value or 0.0 for k in range(K)] for mm in range(M)], dtype=float)
    th = np.array([model.th[mm].value or 0.0 for mm in range(M)], dtype=float)
    out = {"u": u, "theta": th, "eta": data.eta_from_u(u)}
    if hasattr(model, "s"):
        out["s"] = float(model.s.value)
    if hasattr(model, "tau"):
        out["tau"] = float(model.tau.value)
    return out


def build_epigraph(data, *, t_lo: float | None = None, t_hi: float | None = None) -> pyo.ConcreteModel:
    """Problem (19) as one model for SCIP: max τ (t = τ²) s.t. con_coh, con_ap, ``con_wdef[k]`` w_k = a_kᵀu_k,
    ``con_rho[k]`` ‖y_k‖² ≤ ρ_k² (ρ_k ∈ [1, D̄_k]), ``con_ratio[k]`` τ·ρ_k ≤ w_k (bilinear), τ ∈ [√t_lo, √t_hi].

    Defaults: t_lo = min SINR at equal power (feasible), t_hi = :meth:`DLData.upper_bound`; the box therefore
    cuts off no optimum. For tiny instances only (M ≤ ~6, K ≤ ~4: SCIP's spatial branch-and-bound)."""
    data = _check_data(data)
    M, K = data.M, data.K
    u_eq = np.sqrt(data.gamma / np.maximum(data.gamma.sum(axis=1, keepdims=True), 1e-300))
    lo = float(data.sinr(u_eq).min()) if t_lo is None else _check_t(t_lo)
    hi = data.upper_bound() if t_hi is None else _check_t(t_hi)
    if hi < lo:
        raise InputError("t_hi", f"t_hi = {hi} is below t_lo = {lo}")
    m = pyo.ConcreteModel(name="iot_downlink_epigraph")
    _core(m, data)
    ybar = data.y_bound()
    wmax = data.a.sum(axis=0)
    m.tau = pyo.Var(bounds=(math.sqrt(lo), math.sqrt(hi)), initialize=math.sqrt(lo))
    m.w = pyo.Var(m.K, bounds=lambda b, k: (0.0, float(wmax[k])), initialize=0.0)
    m.rho = pyo.Var(m.K, bounds=lambda b, k: (1.0, float(ybar[k])), initialize=1.0)
    u = m.u

    def _w(b, k):
        act = np.flatnonzero(data.active[:, k])
        return b.w[k] - _linear(data.a[act, k], [u[int(mm), k] for mm in act]) == 0.0

    m.con_wdef = pyo.Constraint(m.K, rule=_w)
    m.con_rho = pyo.Constraint(m.K, rule=lambda b, k: _interference(b, data, k) - b.rho[k] ** 2 <= 0.0)
    m.con_ratio = pyo.Constraint(m.K, rule=lambda b, k: b.tau * b.rho[k] - b.w[k] <= 0.0)
    m.obj = pyo.Objective(expr=m.tau, sense=pyo.maximize)
    m._cfopt = {"kind": "epigraph", "objective": "tau", "shape": (M, K), "data": data, "problem": PROBLEM,
                "formulation": INFO_EPIGRAPH.name, "problem_class": INFO_EPIGRAPH.problem_class.value,
                "relation": INFO_EPIGRAPH.relation.value, "bracket": (lo, hi)}
    start(m, data, u_eq)
    m.tau.set_value(math.sqrt(lo))
    return m


# ================================================================================================================
# certified bounds from multipliers (weak duality; numpy)
# ================================================================================================================

def cone_multipliers(model: pyo.ConcreteModel) -> np.ndarray | None:
    """λ'_k ≥ 0 of the norm form sqrt(t)‖y_k‖ ≤ om_k from the multipliers λ_k of ``con_cone[k]`` (squared form)
    in the model's ``dual`` Suffix: ∇g = (2ω/t)·∇h on the cone's boundary, so λ' = λ·2ω_k/t. None without duals."""
    dual = getattr(model, "dual", None)
    if not isinstance(dual, pyo.Suffix):
        return None
    K = model._cfopt["shape"][1]
    t = 1.0 / float(pyo.value(model.inv_t))
    lam = np.array([abs(float(dual.get(model.con_cone[k], 0.0) or 0.0)) for k in range(K)])
    om = np.array([float(model.om[k].value or 0.0) for k in range(K)])
    return lam * 2.0 * np.maximum(om, 0.0) / t
