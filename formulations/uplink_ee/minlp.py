"""Exact MINLP of problem ``uplink-ee`` (paper 000, arXiv 2501.01271, problem (11)) and its continuous relaxation
(13), for orthogonal pilots and optimal LSFD weights.

Problem (11): max over η ∈ [0,1]^T (p_t = η_t p_max,t) and D ∈ {0,1}^{M×T} of

    EE = B Σ_t SE_t / P_T                                          (11a), eq. (10), Mbit/J
    SE_t = w log2(1 + SINR_t)                                      (4)
    P_T = const + Σ_t eta_coef_t η_t + Σ_mt d_coef_mt d_mt + c_rate B Σ_t SE_t     (10) (decoding term included)
    s.t. d binary (11b), 0 ≤ η ≤ 1 (11c), Σ_t SE_t ≥ SE^QoS (11d), Σ_m d_mt ≥ 1 (11e).

SINR with optimal LSFD (spec ``uplink_ee.md`` §1.5–1.6; the evaluator :meth:`models.uplink_ee.system.UplinkEE.evaluate`
scores with these weights). With orthogonal pilots (co-pilot mask = identity, PC_t = 0) the LSFD matrix
C_t = diag_m Λ_mt is diagonal, so the generalised Rayleigh quotient p_t b_tᵀ C_t⁻¹ b_t separates over the APs::

    SINR_t = Σ_{m: d_mt = 1} p_t μ_mtt² / Λ_mt(p),      Λ_mt(p) = Σ_i p_i ν_mti + n_mt

(μ, ν, n = ``data.moments``). This is exact; it is *not* exact when pilots are shared (C_t then has the rank-one
coherent terms p_i u_ti u_tiᵀ and the quotient does not separate), so :func:`build` refuses shared pilots with
``InputError("pilots", ...)``.

Formulation (``FORMULATION = "minlp"``, problem class MINLP, relation ``exact``). Variables, all with finite bounds:

    eta[t]    ∈ [0, 1]                                  (11c)
    d[m,t]    ∈ {0, 1}                                  (11b)   ([0, 1] with relax=True: (13))
    rho[m,t]  ∈ [0, 1]      r_mt = R̄_mt rho_mt ≤ p_t μ_mtt² / Λ_mt(p), the SINR contribution of AP m
    sinr[t]   ∈ [0, Σ_m R̄_mt]
    se[t]     ∈ [0, w log2(1 + Σ_m R̄_mt)]             bit/s/Hz
    p_total   ∈ [P_lo, P_hi]                            W, eq. (10)
    ee        ∈ [0, EE_hi]                              Mbit/J (the epigraph variable τ)

with R̄_mt = μ_mtt² p_max,t / (p_max,t ν_mtt + n_mt): since Λ_mt ≥ p_t ν_mtt + n_mt, r_mt ≤ μ² p_t /(p_t ν_mtt + n_mt)
≤ R̄_mt (the brief's μ² p_max/n_mt is also valid; this one is tighter because it keeps the UE's own beamforming
uncertainty BU). Constraints (each divided so that its coefficients are O(1)):

    con_rate[m,t]:   rho_mt (1 + Σ_i c_mti η_i) ≤ (1 + c_mtt) η_t,  c_mti = p_max,i ν_mti / n_mt
                     (r_mt Λ_mt(p) ≤ μ_mtt² p_t divided by n_mt R̄_mt, then by 1 + Σ_i c_mti)    bilinear
    con_link[m,t]:   rho_mt ≤ d_mt                      (r_mt ≤ R̄_mt d_mt)
    con_sinr[t]:     sinr_t = Σ_m R̄_mt rho_mt           (divided by max(1, Σ_m R̄_mt))
    con_se[t]:       se_t ≤ w log(1 + sinr_t) / log 2   (4)  (convex constraint)
    con_qos:         Σ_t se_t ≥ se_qos                   (11d)  ``se_qos`` is a mutable Param
    con_cover[t]:    Σ_m d_mt ≥ 1                        (11e)
    con_power:       p_total = P_T of (10)               (divided by const)
    con_epigraph:    B/1e6 Σ_t se_t ≥ ee · p_total       (11a) as an epigraph (divided by const)   bilinear
    con_sum_se_max:  Σ_t se_t ≤ sum_se_max               mutable Param, default Σ_t se_t's upper bound; tighten it
                     with a proven SE-max bound (:func:`set_sum_se_max`, used by ``run_exact``)
    con_dominance[a,b,t]: d_bt ≤ d_at                    when AP a beats AP b for UE t at every power vector
                     (:func:`dominance_pairs`); keeps the optimum value, removes equivalent associations
    obj:             max ee       (objective="ee")        or   max Σ_t se_t   (objective="sum_se", SE-max end point)

Why it is exact: at any feasible point sinr_t ≤ the true SINR_t of (η, D) (each r_mt is at most AP m's term and is
zero unless d_mt = 1) and ee ≤ B Σ SE_t / P_T is increasing in Σ SE_t, so the model's optimum is attained with every
inequality tight, i.e. at the true EE of (η, D). Conversely every (η, D) of (11) gives a feasible point with those
values. Hence the optimum values coincide.

Size: variables 2 + 3T + 2MT (MT binary); constraints 4 + 3T + 2MT plus the dominance rows (0 to M(M−1)T/2;
≈ MT on the tiny library), of which MT bilinear rows with T products each, one bilinear epigraph row, T log rows
(the epigraph row is inactive and ``ee`` fixed with objective "sum_se"). For M = 5, T = 3: 41 variables, 15
binary, 43 constraints + dominance rows. ``relax=True`` (``FORMULATION = "nlp-relaxed"``,
relation ``relaxation``) is the same model with d ∈ [0, 1] (paper 000 (13)); its global optimum bounds (11) from
above; a local (Ipopt) optimum does not.

The fractional objective is handled exactly by the epigraph, not by the paper's (12a)/(20) transforms.
"""
from __future__ import annotations

import math

import numpy as np
import pyomo.environ as pyo

from formulations.components.info import FormulationInfo, ProblemClass, Relation, register_formulation
from formulations.components.params import set_params as _set_params
from instances.errors import InputError
from models.uplink_ee.diagonal import (diagonal_sinr, dominance_pairs, epigraph_coefficients, point_values,
                                       require_orthogonal)

__all__ = ["PROBLEM", "FORMULATION", "FORMULATION_RELAXED", "PROBLEM_CLASS", "RELATION", "OBJECTIVES", "INFO",
           "INFO_SUM_SE", "INFO_RELAXED", "set_params", "build",
           "extract", "dominance_pairs", "set_point", "set_sum_se_max", "set_objective", "set_se_qos",
           "diagonal_sinr", "sizes", "objective_value"]

PROBLEM = "uplink-ee"
FORMULATION = "minlp"
FORMULATION_RELAXED = "nlp-relaxed"
PROBLEM_CLASS = "MINLP"
RELATION = "exact"
OBJECTIVES = ("ee", "sum_se")
PARAMETERS = ("se_qos", "sum_se_max")

INFO = register_formulation(FormulationInfo(
    PROBLEM, FORMULATION, ProblemClass.MINLP, Relation.EXACT, objectives=OBJECTIVES, parameters=PARAMETERS,
    description="problem (11) with the EE ratio as an epigraph; orthogonal pilots, optimal LSFD (SCIP, global)"))
INFO_SUM_SE = register_formulation(FormulationInfo(
    PROBLEM, f"{FORMULATION}-sum-se", ProblemClass.MINLP, Relation.EXACT, objectives=("sum_se",),
    parameters=PARAMETERS, description="the same model maximising Σ SE: the SE-max end point of the EE–SE front"))
INFO_RELAXED = register_formulation(FormulationInfo(
    PROBLEM, FORMULATION_RELAXED, ProblemClass.NLP, Relation.RELAXATION, objectives=OBJECTIVES,
    parameters=PARAMETERS, description="relaxation (13) of the same model (d ∈ [0, 1]); solved locally by Ipopt"))


def _prepare(data_or_instance, se_qos):
    """An :class:`models.uplink_ee.system.UplinkEE` from itself or from an Instance."""
    from models.uplink_ee.system import UplinkEE, prepare

    if isinstance(data_or_instance, UplinkEE):
        return data_or_instance
    return prepare(data_or_instance, se_qos=se_qos)


def build(data, *, relax: bool = False, objective: str = "ee", se_qos: float | None = None,
          dominance: bool = True, eta_init=None, d_init=None) -> pyo.ConcreteModel:
    """The exact MINLP (11) (``relax=False``) or its relaxation (13) (``relax=True``); see the module docstring.

    data      : :class:`models.uplink_ee.system.UplinkEE` (from :func:`models.uplink_ee.system.prepare`), or an Instance
                (prepared with default options and ``se_qos``).
    objective : ``"ee"`` (max EE, Mbit/J, (11a)) or ``"sum_se"`` (max Σ_t SE_t, bit/s/Hz: the SE-max end point of an
                EE–SE front). Switch later with :func:`set_objective`.
    se_qos    : SE^QoS of (11d) in bit/s/Hz; default ``data.se_qos``. Stored in the mutable Param ``se_qos``
                (change with :func:`set_se_qos`; no rebuild).
    dominance : add ``con_dominance[a, b, t]: d[b,t] ≤ d[a,t]`` for the pairs of :func:`dominance_pairs`. Valid for
                the optimum *value* (an exchange argument: moving UE t's link from AP b to AP a never lowers SINR_t,
                never raises P_T^fix + P_T^c, so EE and Σ SE do not drop and (11d), (11e) still hold), not for every
                optimal point; it removes many equivalent associations (timings: benchmarks/README.md).
    eta_init, d_init : starting point (default η = 1, D = all ones); every auxiliary variable is set consistently
                (:func:`set_point`).

    Raises ``InputError("pilots", ...)`` when two UEs share a pilot, ``InputError("objective", ...)`` for an unknown
    objective.
    """
    data = _prepare(data, se_qos)
    if objective not in OBJECTIVES:
        raise InputError("objective", f"expected one of {', '.join(OBJECTIVES)}, got {objective!r}")
    require_orthogonal(data)
    qos = float(data.se_qos if se_qos is None else se_qos)
    if not math.isfinite(qos) or qos < 0:
        raise InputError("se_qos", f"the sum-SE threshold must be finite and >= 0, got {qos}")
    co = epigraph_coefficients(data)
    M, K = co["M"], co["K"]
    mdl = pyo.ConcreteModel(name="uplink_ee_minlp_relaxed" if relax else "uplink_ee_minlp")
    _variables(mdl, co, qos, relax)
    _sinr_rows(mdl, co)
    _qos_rows(mdl, co, dominance_pairs(data) if dominance else [])
    _power_rows(mdl, co)
    for m, t in _mk(M, K):
        if not co["usable"][m, t]:
            mdl.rho[m, t].fix(0.0)
    mdl._cfopt = {"data": data, "coef": co, "shape": (M, K), "relax": bool(relax), "problem": PROBLEM,
                  "formulation": FORMULATION_RELAXED if relax else FORMULATION,
                  "problem_class": "NLP" if relax else PROBLEM_CLASS,
                  "relation": "relaxation" if relax else RELATION, "objective": objective}
    set_objective(mdl, objective)
    set_point(mdl, np.ones(K) if eta_init is None else eta_init, np.ones((M, K)) if d_init is None else d_init)
    return mdl


def _mk(M: int, K: int) -> list[tuple[int, int]]:
    return [(m, t) for m in range(M) for t in range(K)]


def _variables(mdl, co: dict, qos: float, relax: bool) -> None:
    """Index sets, the mutable SE^QoS and the variables (all with finite bounds)."""
    mdl.M = pyo.RangeSet(0, co["M"] - 1)
    mdl.K = pyo.RangeSet(0, co["K"] - 1)
    mdl.se_qos = pyo.Param(mutable=True, initialize=qos, within=pyo.NonNegativeReals)
    mdl.eta = pyo.Var(mdl.K, bounds=(0.0, 1.0))
    mdl.d = pyo.Var(mdl.M, mdl.K, bounds=(0.0, 1.0), within=pyo.Reals if relax else pyo.Binary)
    mdl.rho = pyo.Var(mdl.M, mdl.K, bounds=(0.0, 1.0))
    sinr_hi = co["sinr_hi"].tolist()
    se_hi = co["se_hi"].tolist()
    mdl.sinr = pyo.Var(mdl.K, bounds=lambda b, t: (0.0, sinr_hi[t]))
    mdl.se = pyo.Var(mdl.K, bounds=lambda b, t: (0.0, se_hi[t]))
    mdl.p_total = pyo.Var(bounds=(co["p_lo"], co["p_hi"]))
    mdl.ee = pyo.Var(bounds=(0.0, co["ee_hi"]))


def _sinr_rows(mdl, co: dict) -> None:
    """con_rate (r_mt Λ_mt(p) ≤ μ_mtt² p_t in ρ and η, divided by n_mt R̄_mt (1 + Σ_i c_mti)), con_link, con_sinr,
    con_se (4)."""
    Ks, Ms = range(co["K"]), range(co["M"])
    scale, usable = co["scale"], co["usable"]
    cs = co["c"] * scale[:, :, None]                                            # c_mti/(1 + Σ_i c_mti) ∈ [0, 1]
    rhs = (1.0 + co["c_tt"]) * scale
    cs_l, sc_l, rhs_l = cs.tolist(), scale.tolist(), rhs.tolist()
    eta, d, rho = mdl.eta, mdl.d, mdl.rho

    def _rate(b, m, t):
        if not usable[m, t]:
            return pyo.Constraint.Skip
        row = cs_l[m][t]
        return (sc_l[m][t] * rho[m, t] + sum(row[i] * rho[m, t] * eta[i] for i in Ks if row[i] != 0.0)
                <= rhs_l[m][t] * eta[t])

    mdl.con_rate = pyo.Constraint(mdl.M, mdl.K, rule=_rate)
    mdl.con_link = pyo.Constraint(mdl.M, mdl.K, rule=lambda b, m, t: rho[m, t] <= d[m, t])
    rb_l = co["rbar"].tolist()
    sinr_scale = (1.0 / np.maximum(1.0, co["sinr_hi"])).tolist()
    mdl.con_sinr = pyo.Constraint(mdl.K, rule=lambda b, t: sinr_scale[t] * b.sinr[t] == sum(
        (sinr_scale[t] * rb_l[m][t]) * rho[m, t] for m in Ms if rb_l[m][t] > 0.0))
    w_ln2 = co["w"] / math.log(2.0)
    mdl.con_se = pyo.Constraint(mdl.K, rule=lambda b, t: b.se[t] <= w_ln2 * pyo.log(1.0 + b.sinr[t]))


def _qos_rows(mdl, co: dict, dom: list) -> None:
    """sum_se, con_qos (11d), con_sum_se_max, con_cover (11e), con_dominance."""
    Ks, Ms, d = range(co["K"]), range(co["M"]), mdl.d
    mdl.sum_se = pyo.Expression(expr=sum(mdl.se[t] for t in Ks))
    mdl.con_qos = pyo.Constraint(expr=mdl.sum_se >= mdl.se_qos)
    mdl.sum_se_max = pyo.Param(mutable=True, initialize=float(co["se_hi"].sum()), within=pyo.NonNegativeReals)
    mdl.con_sum_se_max = pyo.Constraint(expr=mdl.sum_se <= mdl.sum_se_max)
    mdl.con_cover = pyo.Constraint(mdl.K, rule=lambda b, t: sum(d[m, t] for m in Ms) >= 1.0)
    mdl.DOM = pyo.Set(dimen=3, initialize=dom, ordered=True)
    mdl.con_dominance = pyo.Constraint(mdl.DOM, rule=lambda b, a_, b_, t: d[b_, t] <= d[a_, t])


def _power_rows(mdl, co: dict) -> None:
    """con_power (10) (divided by const), the epigraph row of (11a) and both objectives."""
    Ks, MK, eta, d = range(co["K"]), _mk(co["M"], co["K"]), mdl.eta, mdl.d
    P0 = co["const"]
    ec = (co["eta_coef"] / P0).tolist()
    dc = (co["d_coef"] / P0).tolist()
    cr = co["c_rate"] * co["B"] / P0
    mdl.con_power = pyo.Constraint(expr=mdl.p_total / P0 == 1.0 + sum(ec[t] * eta[t] for t in Ks)
                                   + sum(dc[m][t] * d[m, t] for m, t in MK) + cr * mdl.sum_se)
    mdl.throughput = pyo.Expression(expr=co["B"] / 1e6 * mdl.sum_se)                       # Mbit/s
    mdl.con_epigraph = pyo.Constraint(expr=(co["B"] / 1e6 / P0) * mdl.sum_se - (1.0 / P0) * mdl.ee * mdl.p_total
                                      >= 0.0)
    mdl.obj_ee = pyo.Objective(expr=mdl.ee, sense=pyo.maximize)
    mdl.obj_sum_se = pyo.Objective(expr=mdl.sum_se, sense=pyo.maximize)


def set_objective(model: pyo.ConcreteModel, objective: str) -> None:
    """Activate ``"ee"`` (max EE, with the epigraph row) or ``"sum_se"`` (max Σ SE; the epigraph row and the
    variable ``ee`` are dropped from the solve) without rebuilding."""
    if objective not in OBJECTIVES:
        raise InputError("objective", f"expected one of {', '.join(OBJECTIVES)}, got {objective!r}")
    ee_obj = objective == "ee"
    model.obj_ee.activate() if ee_obj else model.obj_ee.deactivate()
    model.obj_sum_se.deactivate() if ee_obj else model.obj_sum_se.activate()
    model.con_epigraph.activate() if ee_obj else model.con_epigraph.deactivate()
    if ee_obj:
        model.ee.unfix()
    else:
        model.ee.fix(0.0)
    model._cfopt["objective"] = objective


def set_params(model: pyo.ConcreteModel, **params) -> pyo.ConcreteModel:
    """The sweep entry point: change the mutable Params ``se_qos`` (SE^QoS of (11d), bit/s/Hz) and/or
    ``sum_se_max`` in place (no rebuild); a threshold that is not finite and >= 0 is an InputError naming it."""
    if "sum_se_max" in params:
        set_sum_se_max(model, params.pop("sum_se_max"))
    if "se_qos" in params:
        v = float(params["se_qos"])
        if not math.isfinite(v) or v < 0:
            raise InputError("se_qos", f"the sum-SE threshold must be finite and >= 0, got {v}")
        params["se_qos"] = v
    return _set_params(model, **params)


def set_se_qos(model: pyo.ConcreteModel, se_qos: float) -> None:
    """Change SE^QoS of (11d) (bit/s/Hz) in place: ``set_params(model, se_qos=...)``."""
    set_params(model, se_qos=se_qos)


def set_sum_se_max(model: pyo.ConcreteModel, sum_se_max: float) -> None:
    """Tighten the model with a proven upper bound ``sum_se_max`` on Σ_t SE_t (bit/s/Hz), e.g. SCIP's bound from an
    SE-max solve: sets the Param of ``con_sum_se_max`` and shrinks the bounds of ``se[t]``, ``p_total`` and ``ee``
    accordingly (EE ≤ B U / (P_lo + c_rate B U)). A valid bound keeps the model exact; it only helps the solver."""
    co = model._cfopt["coef"]
    u = float(sum_se_max)
    if not math.isfinite(u) or u < 0:
        raise InputError("sum_se_max", f"must be finite and >= 0, got {u}")
    u = min(u, float(co["se_hi"].sum()))
    model.sum_se_max.set_value(u)
    for t in model.K:
        model.se[t].setub(min(float(co["se_hi"][t]), u))
    rate_hi = co["B"] * u
    model.p_total.setub(co["const"] + float(co["eta_coef"].sum()) + float(co["d_coef"].sum()) + co["c_rate"] * rate_hi)
    model.ee.setub(rate_hi / (co["p_lo"] + co["c_rate"] * rate_hi) / 1e6 if rate_hi > 0 else 0.0)
    if not model.ee.fixed and model.ee.value is not None and model.ee.value > model.ee.ub:
        model.ee.set_value(model.ee.ub)


def set_point(model: pyo.ConcreteModel, eta, d) -> None:
    """Load (η, D) and set every auxiliary variable to its largest feasible value at that point (r_mt = d_mt ×
    AP m's SINR term, the SINR, SE, P_T and EE of (η, D)); a consistent starting point for Ipopt or SCIP."""
    info = model._cfopt
    M, K = info["shape"]
    pt = point_values(info["coef"], eta, d)
    eta, d, rho, sinr, se = pt["eta"], pt["d"], pt["rho"], pt["sinr"], pt["se"]
    for t in range(K):
        model.eta[t].set_value(float(eta[t]), skip_validation=True)
        model.sinr[t].set_value(float(sinr[t]), skip_validation=True)
        model.se[t].set_value(float(se[t]), skip_validation=True)
        for m in range(M):
            model.d[m, t].set_value(float(d[m, t]), skip_validation=True)
            if not model.rho[m, t].fixed:
                model.rho[m, t].set_value(float(rho[m, t]), skip_validation=True)
    model.p_total.set_value(pt["p_total"])
    if not model.ee.fixed:
        model.ee.set_value(pt["ee"])


def extract(model: pyo.ConcreteModel) -> dict[str, np.ndarray]:
    """The evaluator's solution keys ``{"eta": [K], "assoc": [M, K]}`` at the model's current values: η clipped to
    [0, 1]; d rounded to {0, 1} for the MINLP, clipped to [0, 1] for the relaxation. Missing values are NaN.
    Reported figures come from the evaluator."""
    M, K = model._cfopt["shape"]
    eta = np.array([np.nan if model.eta[t].value is None else model.eta[t].value for t in range(K)], dtype=float)
    d = np.array([[np.nan if model.d[m, t].value is None else model.d[m, t].value for t in range(K)]
                  for m in range(M)], dtype=float)
    eta = np.clip(eta, 0.0, 1.0)
    d = np.clip(d, 0.0, 1.0)
    if not model._cfopt["relax"]:
        d = np.round(d)
    return {"eta": eta, "assoc": d}


def objective_value(model: pyo.ConcreteModel) -> float | None:
    """EE (Mbit/J, eq. (11a)) of the model's current (η, D) by the evaluator, or None without values."""
    x = extract(model)
    eta, d = x["eta"], x["assoc"]
    if not (np.all(np.isfinite(eta)) and np.all(np.isfinite(d))):
        return None
    return float(model._cfopt["data"].evaluate(eta, d).objective)


def sizes(model: pyo.ConcreteModel) -> dict[str, int]:
    """Counts of the active model: variables (of which binary), constraints (of which nonlinear)."""
    from pyomo.core.expr.numvalue import polynomial_degree

    vars_ = [v for v in model.component_data_objects(pyo.Var, descend_into=True) if not v.fixed]
    cons = list(model.component_data_objects(pyo.Constraint, active=True, descend_into=True))
    return {"variables": len(vars_), "binary": sum(1 for v in vars_ if v.is_binary()),
            "constraints": len(cons), "nonlinear": sum(1 for c in cons if polynomial_degree(c.body) != 1)}
