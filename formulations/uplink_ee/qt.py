"""Convex sub-problems (23) and (24) of paper 000's Algorithm 1 (quadratic transform + alternating optimisation).

Problem ``uplink-ee`` (paper 000, arXiv 2501.01271, Section IV). Equation numbers are the seed's.

For fixed LSFD weights a[M, K] (the seed treats a_mt as given coefficients; spec §1.6), effective weights a∘d, and
powers p_t = η_t p_max,t, the SINR (4) is Γ_t = DS_t / I_t with I_t = PC_t + BU_t + NI_t + N_t ((5)–(9), written in
the moments of spec §1.5, :mod:`models.uplink_ee.sinr`). The quadratic transform (16) gives, for every real z_t,

    Γ_t = DS_t / I_t  ≥  2 z_t √DS_t − z_t² I_t,      with equality at z_t* = √DS_t / I_t  (17)     (Lemma 1)

and the fractional objective (19a) u/v ≥ 2b√u − b²v with equality at b* = √u / v (21)  (Lemma 2).

**(23) power block** (:func:`build_power`; D, a, z, b fixed). Variables q_t = √η_t ∈ [0, 1], Γ*_t ≥ 0, u, v::

    max  2b√u − b²v                                                       (23a)
    s.t. Γ*_t ≤ 2 z_t G_t q_t − z_t² (Σ_i C_ti q_i² + N_t)          ∀t    (15)
         w Σ_t log2(1 + Γ*_t) ≥ SE^QoS                                    (18b)
         u ≤ (wB/10⁶) Σ_t log2(1 + Γ*_t)          [Mbit/s]                (19c)
         P_T^fix + Σ_m,t c^d_mt d_mt + Σ_t (p_max,t/ζ) q_t² ≤ v   [W]     (19d)
         0 ≤ q_t ≤ 1                                                       (12c) (η = q²)

with √DS_t = G_t q_t, G_t = √p_max,t Σ_m a_mt d_mt μ_mtt (linear in q) and I_t = Σ_i C_ti q_i² + N_t,
C_ti = p_max,i (Σ_m (a_mt d_mt)² ν_mti + 1[i ∈ P_t\\t] (Σ_m a_mt d_mt μ_mti)²) ≥ 0 (a convex quadratic in q, since
every power p_i = q_i² p_max,i enters I_t linearly with a non-negative coefficient).
*Convexity:* the right side of (15) is linear minus a convex quadratic, i.e. concave, so (15) is a convex set;
log2(1 + Γ*) is concave, so (18b) and (19c) are super-level sets of concave functions; (19d) is a convex quadratic
≤ a linear function; the objective 2b√u − b²v is concave for b ≥ 0 (√u concave, −b²v linear). A concave
maximisation over a convex set.

**(24) association block** (:func:`build_assoc`; η, a, z, b fixed), D relaxed to [0, 1] (13)::

    max  2b√u − b²v                                                       (24a)
    s.t. Γ*_t ≤ 2 z_t Σ_m g_mt d_mt − z_t² I_t(d)                    ∀t    (15)
         I_t(d) = Σ_{i∈P_t\\t} c_ti² + Σ_m Q_mt d_mt²,   c_ti = Σ_m h_mti d_mt   (co-pilot pairs only)
         Σ_m d_mt ≥ 1                                                 ∀t    (12e)
         (18b), (19c), (19d) with P_T^c linear in d,   0 ≤ d_mt ≤ 1                (13)

with g_mt = √p_t a_mt μ_mtt (so √DS_t is linear in d), h_mti = √p_i a_mt μ_mti (the coherent co-pilot sums of (6))
and Q_mt = a_mt² (Σ_i p_i ν_mti + n_mt) (the d² terms of (6)–(9); :func:`models.uplink_ee.sinr.association_coefficients`).
The auxiliary c_ti are linear equalities, so every nonlinear term is separable (diagonal Hessian).
*Convexity:* I_t(d) is a sum of squares of linear functions with non-negative weights (Q ≥ 0), hence convex; the
right side of (15) is linear minus convex = concave; (12e), (13) and (19d) (P_T^c = Σ c^d_mt d_mt + const) are
linear; (18b), (19c) and the objective as in (23).

**Scaling.** Γ_t is invariant to a positive per-UE scaling of a_t (√DS_t scales like a_t, I_t like a_t²). The
coefficients are therefore normalised per UE so that I_t = 1 at the current point; then z_t* = √DS_t = √Γ_t and all
coefficients are O(1). :func:`models.uplink_ee.qt.power_coefficients` / :func:`~models.uplink_ee.qt.assoc_coefficients`
build them with numpy (vectorised; K·K and M·(number of ordered co-pilot pairs) numbers); :func:`update_power` / :func:`update_assoc`
store them in the mutable Params together with z (17) and b (21) of the current point and start the variables
there. Both models are built once and re-solved with new Params (the Ipopt bridge caches the compiled program).

Problem class: convex NLP. Relation to ``uplink-ee``: (23) is a *restriction* (feasible points are feasible for (11)
with the same D, because the optimal-LSFD SINR is at least the fixed-weight SINR, which is at least Γ*); (24) is an
*approximation* (relaxed D, fixed weights; its points must be recovered to binary and re-checked).
"""
from __future__ import annotations

import math

import numpy as np
import pyomo.environ as pyo

from formulations.components.info import FormulationInfo, ProblemClass, Relation, register_formulation
from formulations.components.linear import linear
from formulations.components.params import set_params
from instances.errors import InputError
from models.uplink_ee.qt import (AssocCoefficients, PowerCoefficients, assoc_coefficients, copilot_pairs,
                                 power_coefficients, qt_b, qt_bound, qt_z)
from models.uplink_ee.system import UplinkEE

__all__ = ["PROBLEM", "PROBLEM_CLASS", "INFO", "INFO_POWER", "INFO_ASSOC", "INFO_SUM_SE", "set_params",
           "PowerCoefficients", "AssocCoefficients", "power_coefficients",
           "assoc_coefficients", "qt_bound", "qt_z", "qt_b", "build_power", "update_power", "extract_power",
           "build_assoc", "update_assoc", "extract_assoc", "copilot_pairs"]

PROBLEM = "uplink-ee"
PROBLEM_CLASS = "NLP (convex)"

#: ``ao-qt`` / ``all-serve-all`` report this formulation: the sequence of sub-problems (23), (24)
INFO = register_formulation(FormulationInfo(
    PROBLEM, "qt-ao", ProblemClass.NLP, Relation.APPROXIMATION, objectives=("ee",), parameters=("se_qos",),
    description="Algorithm 1: alternating convex QT sub-problems (23)/(24) + binary recovery (a local method)"))
INFO_POWER = register_formulation(FormulationInfo(
    PROBLEM, "qt-power", ProblemClass.NLP, Relation.RESTRICTION, objectives=("ee", "sum-se"),
    parameters=("se_qos", "G", "C", "N", "z", "b", "p_fixed"), description="sub-problem (23): powers for fixed D"))
INFO_ASSOC = register_formulation(FormulationInfo(
    PROBLEM, "qt-assoc", ProblemClass.NLP, Relation.APPROXIMATION, objectives=("ee",),
    parameters=("se_qos", "g", "h", "Q", "z", "b", "p_fixed"),
    description="sub-problem (24): relaxed association for fixed η"))
INFO_SUM_SE = register_formulation(FormulationInfo(
    PROBLEM, "qt-sum-se", ProblemClass.NLP, Relation.APPROXIMATION, objectives=("sum_se",), parameters=(),
    description="the SE-max end point: QT iterations on Σ log(1 + Γ) over the powers with D = all ones"))
INV_LN2 = 1.0 / math.log(2.0)
#: lower bound of u (Mbit/s) so that √u stays differentiable
U_MIN = 1e-9


# ---------------------------------------------------------------------------------------------------------------
# Pyomo builders
# ---------------------------------------------------------------------------------------------------------------

def _common(m, data: UplinkEE, se_qos: float) -> None:
    """Scalar Params and Γ*-related pieces shared by (23) and (24)."""
    K = data.K
    m.K = pyo.RangeSet(0, K - 1)
    m.z = pyo.Param(m.K, mutable=True, initialize=0.0)
    m.b = pyo.Param(mutable=True, initialize=0.0)
    m.se_qos = pyo.Param(mutable=True, initialize=float(se_qos))
    m.p_fixed = pyo.Param(mutable=True, initialize=0.0)      # the part of (19d) that the block holds fixed (W)
    m.gam = pyo.Var(m.K, bounds=(0.0, None), initialize=0.0)  # Γ*_t
    w = data.prelog
    m.se = pyo.Expression(m.K, rule=lambda b, t: w * INV_LN2 * pyo.log(1.0 + b.gam[t]))   # bit/s/Hz
    m.sum_se = pyo.Expression(expr=pyo.quicksum(m.se[t] for t in range(K)))
    m.con_qos = pyo.Constraint(expr=m.sum_se >= m.se_qos)                                     # (18b)


def _ee_objective(m, data: UplinkEE) -> None:
    bw = data.bandwidth_hz / 1e6
    m.u = pyo.Var(bounds=(U_MIN, None), initialize=1.0)      # Mbit/s
    m.v = pyo.Var(bounds=(0.0, None), initialize=1.0)        # W
    m.con_rate = pyo.Constraint(expr=m.u <= bw * m.sum_se)                                    # (19c)
    m.con_power = pyo.Constraint(expr=m.p_total_static <= m.v)                                # (19d)
    m.obj = pyo.Objective(expr=2.0 * m.b * pyo.sqrt(m.u) - m.b ** 2 * m.v, sense=pyo.maximize)  # (23a)/(24a)


def build_power(data: UplinkEE, *, objective: str = "ee", se_qos: float | None = None) -> pyo.ConcreteModel:
    """Sub-problem (23) for ``data`` (built once; refresh with :func:`update_power`).

    objective: ``"ee"`` — (23a) 2b√u − b²v with (18b), (19c), (19d); ``"sum-se"`` — max Σ_t log(1 + Γ*_t) under (15)
    only (the QT machinery applied to the sum SE, used for the SE-max end point and for finding a feasible start).

    Components: Var ``q[t]`` (√η), ``gam[t]`` (Γ*), ``u``, ``v``; mutable Params ``G[t]``, ``C[t,i]``, ``N[t]``,
    ``z[t]``, ``b``, ``se_qos``, ``p_fixed`` (P_T^fix + Σ c^d∘D, W); Expressions ``sqrt_ds[t]``,
    ``interference[t]``, ``qt_rhs[t]``, ``se[t]``, ``sum_se``, ``p_total_static``; Constraints ``con_qt[t]`` (15),
    ``con_qos`` (18b), ``con_rate`` (19c), ``con_power`` (19d); Objective ``obj``.
    """
    if objective not in ("ee", "sum-se"):
        raise InputError("objective", f"expected 'ee' or 'sum-se', got {objective!r}")
    K = data.K
    m = pyo.ConcreteModel(name=f"uplink_ee_qt_power_{objective}")
    _common(m, data, data.se_qos if se_qos is None else se_qos)
    KK = [(t, i) for t in range(K) for i in range(K)]
    m.G = pyo.Param(m.K, mutable=True, initialize=0.0)
    m.C = pyo.Param(m.K, m.K, mutable=True, initialize=0.0)
    m.N = pyo.Param(m.K, mutable=True, initialize=0.0)
    m.q = pyo.Var(m.K, bounds=(0.0, 1.0), initialize=1.0)                                     # (12c)
    q = m.q
    m.sqrt_ds = pyo.Expression(m.K, rule=lambda b, t: b.G[t] * q[t])
    m.interference = pyo.Expression(
        m.K, rule=lambda b, t: pyo.quicksum((b.C[t, i] * q[i] ** 2 for i in range(K))) + b.N[t])
    m.qt_rhs = pyo.Expression(m.K, rule=lambda b, t: 2.0 * b.z[t] * b.sqrt_ds[t] - b.z[t] ** 2 * b.interference[t])
    m.con_qt = pyo.Constraint(m.K, rule=lambda b, t: b.gam[t] <= b.qt_rhs[t])                 # (15)
    eta_coef = data.power.eta_coef
    m.p_total_static = pyo.Expression(
        expr=m.p_fixed + pyo.quicksum((float(eta_coef[t]) * q[t] ** 2 for t in range(K))))
    if objective == "ee":
        _ee_objective(m, data)
    else:
        m.con_qos.deactivate()
        m.obj = pyo.Objective(expr=pyo.quicksum(pyo.log(1.0 + m.gam[t]) for t in range(K)), sense=pyo.maximize)
    m._cfopt = {"kind": "power", "objective": objective, "shape": (data.M, K), "KK": KK,
                "problem": PROBLEM, "problem_class": PROBLEM_CLASS, "relation": "restriction"}
    return m


def update_power(model: pyo.ConcreteModel, data: UplinkEE, eta, D, *, a=None, se_qos: float | None = None,
                 qos_margin: float = 1e-7) -> PowerCoefficients:
    """Store (23)'s coefficients for the current point (η, D) (weights ``a``, default ``data.lsfd(eta, D)``), z*
    (17) and b* (21) of that point, SE^QoS (times 1 + ``qos_margin``, so that solver tolerances cannot cost the
    evaluator's QoS check) and the fixed block of (19d); start the variables at the current point."""
    co = power_coefficients(data, eta, D, a)
    K = data.K
    model.G.store_values(dict(enumerate(co.G.tolist())))
    model.C.store_values(dict(zip(model._cfopt["KK"], co.C.ravel().tolist())))
    model.N.store_values(dict(enumerate(co.N.tolist())))
    model.z.store_values(dict(enumerate(co.z.tolist())))
    model.b.set_value(co.b)
    qos = data.se_qos if se_qos is None else float(se_qos)
    set_params(model, se_qos=qos * (1.0 + qos_margin))
    D = np.asarray(D, dtype=float)
    model.p_fixed.set_value(float(data.power.const + np.sum(data.power.d_coef * D)))
    for t in range(K):
        model.q[t].set_value(float(co.q0[t]))
        model.gam[t].set_value(float(max(co.gamma[t], 0.0)))
    if model._cfopt["objective"] == "ee":
        model.u.set_value(max(co.u, U_MIN))
        model.v.set_value(co.v)
    return co


def extract_power(model: pyo.ConcreteModel) -> dict:
    """η = q² [K], Γ* [K], the model's sum SE (of Γ*) and objective value."""
    K = model._cfopt["shape"][1]
    q = np.array([model.q[t].value for t in range(K)], dtype=float)
    gam = np.array([model.gam[t].value for t in range(K)], dtype=float)
    return {"eta": np.clip(q * q, 0.0, 1.0), "q": q, "gamma_star": gam,
            "sum_se": float(pyo.value(model.sum_se)), "objective": float(pyo.value(model.obj))}


def build_assoc(data: UplinkEE, *, se_qos: float | None = None) -> pyo.ConcreteModel:
    """Sub-problem (24) for ``data`` (built once; refresh with :func:`update_assoc`).

    Components: Var ``d[m,t]`` ∈ [0,1] (13), ``coh[p]`` (coherent co-pilot sums, one per ordered pair),
    ``gam[t]``, ``u``, ``v``; mutable Params ``g[m,t]``, ``h[m,p]``, ``Q[m,t]``, ``z[t]``, ``b``, ``se_qos``,
    ``p_fixed`` (P_T^fix + Σ_t η_t p_max,t/ζ, W); Constraints ``con_coh[p]`` (definition of c_ti), ``con_qt[t]``
    (15), ``con_cover[t]`` (12e), ``con_qos`` (18b), ``con_rate`` (19c), ``con_power`` (19d); Objective ``obj``.
    Size: M·K + P + K + 2 variables, P = number of ordered co-pilot pairs; M·(K + P) mutable coefficients.
    """
    M, K = data.M, data.K
    t_idx, i_idx = copilot_pairs(data)
    P = len(t_idx)
    m = pyo.ConcreteModel(name="uplink_ee_qt_assoc")
    _common(m, data, data.se_qos if se_qos is None else se_qos)
    m.M = pyo.RangeSet(0, M - 1)
    m.P = pyo.RangeSet(0, P - 1) if P else pyo.Set(initialize=[])
    MK = [(mm, t) for mm in range(M) for t in range(K)]
    MP = [(mm, pp) for mm in range(M) for pp in range(P)]
    m.g = pyo.Param(m.M, m.K, mutable=True, initialize=0.0)
    m.Q = pyo.Param(m.M, m.K, mutable=True, initialize=0.0)
    m.h = pyo.Param(m.M, m.P, mutable=True, initialize=0.0)
    m.d = pyo.Var(m.M, m.K, bounds=(0.0, 1.0), initialize=1.0)                                # (13)
    m.coh = pyo.Var(m.P, initialize=0.0)
    d = m.d
    m.con_coh = pyo.Constraint(m.P, rule=lambda b, pp: linear(
        [b.h[mm, pp] for mm in range(M)], [d[mm, int(t_idx[pp])] for mm in range(M)]) - b.coh[pp] == 0.0)
    m.sqrt_ds = pyo.Expression(m.K, rule=lambda b, t: linear([b.g[mm, t] for mm in range(M)],
                                                             [d[mm, t] for mm in range(M)]))
    partners = [[] for _ in range(K)]
    for pp, t in enumerate(t_idx.tolist()):
        partners[t].append(pp)

    def _interf(b, t):
        terms = [b.Q[mm, t] * d[mm, t] ** 2 for mm in range(M)] + [b.coh[pp] ** 2 for pp in partners[t]]
        return pyo.quicksum(terms)

    m.interference = pyo.Expression(m.K, rule=_interf)
    m.qt_rhs = pyo.Expression(m.K, rule=lambda b, t: 2.0 * b.z[t] * b.sqrt_ds[t] - b.z[t] ** 2 * b.interference[t])
    m.con_qt = pyo.Constraint(m.K, rule=lambda b, t: b.gam[t] <= b.qt_rhs[t])                 # (15)
    m.con_cover = pyo.Constraint(m.K, rule=lambda b, t: pyo.quicksum(d[mm, t] for mm in range(M)) >= 1.0)  # (12e)
    dc = data.power.d_coef
    m.p_total_static = pyo.Expression(expr=m.p_fixed + linear(dc.ravel().tolist(), [d[k] for k in MK]))
    _ee_objective(m, data)
    m._cfopt = {"kind": "assoc", "objective": "ee", "shape": (M, K), "MK": MK, "MP": MP, "pairs": (t_idx, i_idx),
                "problem": PROBLEM, "problem_class": PROBLEM_CLASS, "relation": "approximation"}
    return m


def update_assoc(model: pyo.ConcreteModel, data: UplinkEE, eta, D, *, a=None, se_qos: float | None = None,
                 qos_margin: float = 1e-7) -> AssocCoefficients:
    """Store (24)'s coefficients for fixed η (weights ``a``, default ``data.lsfd(eta, ones)``) normalised at the
    current association D, z* (17) and b* (21) of (η, D), SE^QoS and the fixed block of (19d); start at D."""
    info = model._cfopt
    co = assoc_coefficients(data, eta, D, a, pairs=info["pairs"])
    model.g.store_values(dict(zip(info["MK"], co.g.ravel().tolist())))
    model.Q.store_values(dict(zip(info["MK"], co.Q.ravel().tolist())))
    if info["MP"]:
        model.h.store_values(dict(zip(info["MP"], co.h.ravel().tolist())))
    model.z.store_values(dict(enumerate(co.z.tolist())))
    model.b.set_value(co.b)
    qos = data.se_qos if se_qos is None else float(se_qos)
    set_params(model, se_qos=qos * (1.0 + qos_margin))
    eta = np.clip(np.asarray(eta, dtype=float), 0.0, 1.0)
    model.p_fixed.set_value(float(data.power.const + np.dot(data.power.eta_coef, eta)))
    D = np.asarray(D, dtype=float)
    model.d.set_values(dict(zip(info["MK"], D.ravel().tolist())))
    t_idx = info["pairs"][0]
    coh = np.einsum("mp,mp->p", co.h, D[:, t_idx])
    model.coh.set_values(dict(enumerate(coh.tolist())))
    model.gam.set_values(dict(enumerate(np.maximum(co.gamma, 0.0).tolist())))
    model.u.set_value(max(co.u, U_MIN))
    model.v.set_value(co.v)
    return co


def extract_assoc(model: pyo.ConcreteModel) -> dict:
    """Relaxed D [M, K], Γ* [K], the model's sum SE and objective value f2 of (24a)."""
    M, K = model._cfopt["shape"]
    d = np.array([v.value for v in model.d.values()], dtype=float).reshape(M, K)
    gam = np.array([model.gam[t].value for t in range(K)], dtype=float)
    return {"d": np.clip(d, 0.0, 1.0), "gamma_star": gam, "sum_se": float(pyo.value(model.sum_se)),
            "objective": float(pyo.value(model.obj))}
