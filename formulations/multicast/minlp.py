"""The exact MINLP of problem (31) of paper 001 (``unicast-multicast-sse``; spec ``unicast_multicast.md`` §4.5, §5),
in stream form (S = K_u + G streams, R receivers), for SCIP's spatial branch-and-bound.

Data: :func:`formulations.multicast.data.scaled` (x_ms = √P_m x̃_ms; SINR_i = D̃_i²/Ĩ_i). Variables, all bounded:

    a[m,s]    ∈ {0, 1}           association, unicast a_mk (s < K_u) then group b_mg (31g)
    xt[m,s]   ∈ [0, 1]           scaled amplitude (η_ms = x_ms²/γ_ms for MR, x_ms² for ZF: §4.5)
    p[m]      ∈ [0, 1]           scaled AP power Σ_s x̃_ms²
    zeta[i]   ∈ [0, 1]           normalised SINR (below; z_hi: :func:`formulations.multicast.data._sinr_hi`)
    se[i]     ∈ [0, se_hi_i]     bit/s/Hz,  se_hi_i = ω log2(1 + z_hi_i)

Constraints:

    con_power[m]:  Σ_s x̃_ms² ≤ 1                                        (31b)
    con_link[m,s]: x̃_ms ≤ a_ms                                          (a = 0 ⇒ no power; binary a: exact)
    con_p[m]:      p_m ≥ Σ_s x̃_ms²        (= with a fronthaul row)
    SINR and SE rows, two forms (``form``):
      "soc" (default):  y[i] ∈ [1/Y_i, 1], Y_i = √(1 + Σ_m h_mi);  con_y[i]: y_i² ≥ (1 + Σ_m h_mi Σ_s x̃_ms²)/Y_i²
                        (a second-order cone in x̃);  con_sinr[i]: ζ_i y_i ≤ Σ_m ĝ_mi x̃_{m,s(i)} / Y_i
                        (bilinear; ζ_i = √(SINR_i / z_hi_i));  con_se[i]: se_i ≤ ω/ln2 · log(1 + z_hi_i ζ_i²)
      "bilinear":       con_sinr[i]: ζ_i (1 + Σ_m h_mi p_m) ≤ (Σ_m ĝ_mi x̃_{m,s(i)})² (ζ_i = SINR_i / z_hi_i);
                        con_se[i]: se_i ≤ ω/ln2 · log(1 + z_hi_i ζ_i)
      "exact":          "bilinear" with every epigraph row (con_p, con_sinr, con_se) an equality
      ĝ = g / √z_hi.  On the tiny MR cards the SOC form proves optimality 10–100× faster than "bilinear".
    con_qos[i]:    se_i ≥ se_min[i]                                       (31c)  mutable Param ``se_min``
    con_cover[s]:  Σ_m a_ms ≥ 1                                           (31e)
    con_load[m]:   Σ_s a_ms ≤ n_max                                       (31f)  mutable Param ``n_max``
    fronthaul (31d), only when C̄_fh is finite:
      rate[s] ≥ se_gl − U_s (1 − λ_gl), Σ_l λ_gl = 1 (λ binary)          rate_s = min_l SE_gl (= se_k unicast)
      f[m,s] ≥ rate_s − U_s (1 − a_ms), f ≥ 0;  Σ_s f_ms ≤ fh_cap          a_ms·rate_s, big-M exact for binary a
    obj: max Σ_i w_i se_i                                                 (31a)

Why it is exact: without a fronthaul row every feasible point has se_i ≤ SE_i(x) (y, p, ζ, se only lower the
rate) and the point with se = SE is feasible, so the optima coincide. With a fronthaul row the "soc" and "bilinear"
forms count the scheduled rate se_i ≤ SE_i(x) in the load, a relaxation of (31d) (its optimum is (31)'s only if the
evaluator confirms the point: :func:`solvers_adapters.multicast.exact.run_exact` checks); the "exact" form makes
se_i = SE_i(x), so the load is that of the evaluator, and the selector λ makes rate_s the group minimum (fronthaul
pressure drives rate_s down to min_l se_gl). No rate is computed in numpy here: ``log`` is Pyomo's, the constants
come from the system data (the bounds se_hi use numpy's natural log of the SINR bound only).
"""
from __future__ import annotations

import math

import numpy as np
import pyomo.environ as pyo

from formulations.components.info import FormulationInfo, ProblemClass, Relation, register_formulation
from formulations.components.params import set_params as _set_params
from formulations.multicast.data import Scaled, amplitude, scaled
from instances.errors import InputError

__all__ = ["PROBLEM", "FORMULATION", "INFO", "build", "extract", "set_params", "set_point"]

PROBLEM = "unicast-multicast-sse"
FORMULATION = "minlp"
INFO = register_formulation(FormulationInfo(
    PROBLEM, FORMULATION, ProblemClass.MINLP, Relation.EXACT, objectives=("sse",),
    parameters=("se_min", "fh_cap", "n_max"),
    description="(31) in stream form: binary a_ms, scaled amplitudes, SINR and SE epigraphs (equalities under a "
                "fronthaul limit), big-M fronthaul load; SCIP global"))


def _se_hi(d: Scaled) -> np.ndarray:
    return d.omega * np.log(1.0 + d.z_hi) / math.log(2.0)


def build(sys_, *, start=None, form: str = "soc") -> pyo.ConcreteModel:
    """The MINLP (module docstring) of a :class:`models.multicast.system.MulticastSystem`. ``start``: optional
    (assoc [M,S], x [M,S]) physical starting point (only the variables' initial values)."""
    d = scaled(sys_)
    if form not in ("soc", "bilinear", "exact"):
        raise InputError("form", f"expected 'soc', 'bilinear' or 'exact', got {form!r}")
    exact = form == "exact" or (form == "bilinear" and d.fh_cap is not None)
    form = "bilinear" if form == "exact" else form
    m = pyo.ConcreteModel(name="multicast_minlp")
    m.M, m.S, m.R = pyo.RangeSet(0, d.M - 1), pyo.RangeSet(0, d.S - 1), pyo.RangeSet(0, d.R - 1)
    se_hi = _se_hi(d)
    m.a = pyo.Var(m.M, m.S, within=pyo.Binary, initialize=1)
    m.xt = pyo.Var(m.M, m.S, bounds=(0.0, 1.0), initialize=1.0 / math.sqrt(d.S))
    m.p = pyo.Var(m.M, bounds=(0.0, 1.0), initialize=1.0)
    m.zeta = pyo.Var(m.R, bounds=(0.0, 1.0), initialize=0.0)
    m.se = pyo.Var(m.R, bounds=lambda b, i: (0.0, float(se_hi[i])), initialize=0.0)
    m.se_min = pyo.Param(m.R, mutable=True, initialize=dict(enumerate(d.se_min.tolist())), within=pyo.Reals)
    m.n_max = pyo.Param(mutable=True, initialize=float(d.S if d.n_max is None else d.n_max), within=pyo.Reals)
    _core_rows(m, d, exact, form)
    if d.fh_cap is not None:
        _fronthaul_rows(m, d, se_hi)
    w = d.w.tolist()
    m.obj = pyo.Objective(expr=sum(w[i] * m.se[i] for i in range(d.R) if w[i] != 0.0), sense=pyo.maximize)
    m._cfopt = {"data": d, "sys": sys_, "exact_rates": exact, "problem": PROBLEM, "formulation": FORMULATION,
                "problem_class": INFO.problem_class.value, "relation": INFO.relation.value}
    if start is not None:
        set_point(m, *start)
    return m


def _core_rows(m, d: Scaled, exact: bool, form: str) -> None:
    """(31b), link, p, SINR, SE, (31c), (31e), (31f)."""
    Ms, Ss = range(d.M), range(d.S)
    gh = (d.g / np.sqrt(np.maximum(d.z_hi, 1e-300))).tolist()
    h, so, zhi = d.h.tolist(), d.stream_of.tolist(), d.z_hi.tolist()
    c_ln = d.omega / math.log(2.0)
    m.con_power = pyo.Constraint(m.M, rule=lambda b, i: sum(b.xt[i, s] ** 2 for s in Ss) <= 1.0)
    m.con_link = pyo.Constraint(m.M, m.S, rule=lambda b, i, s: b.xt[i, s] <= b.a[i, s])

    def _p(b, i):
        e = sum(b.xt[i, s] ** 2 for s in Ss)
        return b.p[i] == e if exact else b.p[i] >= e

    if form == "soc":
        Y = np.sqrt(1.0 + d.h.sum(axis=0))
        sy = (1.0 / Y ** 2).tolist()
        gy = (np.asarray(gh) / Y[None, :]).tolist()
        m.y = pyo.Var(m.R, bounds=lambda b, i: (float(1.0 / Y[i]), 1.0), initialize=1.0)
        m.con_y = pyo.Constraint(m.R, rule=lambda b, i: b.y[i] ** 2 >= sy[i] * (1.0 + sum(
            h[j][i] * b.xt[j, s] ** 2 for j in Ms for s in Ss if h[j][i] != 0.0)))
        m.con_sinr = pyo.Constraint(m.R, rule=lambda b, i: b.zeta[i] * b.y[i] <= sum(
            gy[j][i] * b.xt[j, so[i]] for j in Ms if gy[j][i] != 0.0))

        def _se(b, i):
            return b.se[i] <= c_ln * pyo.log(1.0 + zhi[i] * b.zeta[i] ** 2)
    else:
        def _sinr(b, i):
            lhs = b.zeta[i] * (1.0 + sum(h[j][i] * b.p[j] for j in Ms if h[j][i] != 0.0))
            rhs = sum(gh[j][i] * b.xt[j, so[i]] for j in Ms if gh[j][i] != 0.0) ** 2
            return lhs == rhs if exact else lhs <= rhs

        def _se(b, i):
            rhs = c_ln * pyo.log(1.0 + zhi[i] * b.zeta[i])
            return b.se[i] == rhs if exact else b.se[i] <= rhs
        m.con_sinr = pyo.Constraint(m.R, rule=_sinr)

    m.con_p = pyo.Constraint(m.M, rule=_p)
    m.con_se = pyo.Constraint(m.R, rule=_se)
    m.con_qos = pyo.Constraint(m.R, rule=lambda b, i: b.se[i] >= b.se_min[i])
    m.con_cover = pyo.Constraint(m.S, rule=lambda b, s: sum(b.a[i, s] for i in Ms) >= 1.0)
    m.con_load = pyo.Constraint(m.M, rule=lambda b, i: sum(b.a[i, s] for s in Ss) <= b.n_max)


def _fronthaul_rows(m, d: Scaled, se_hi: np.ndarray) -> None:
    """(31d) with rate_s = min_l se_gl (selector λ) and f_ms = a_ms rate_s (big-M, exact for binary a)."""
    so = d.stream_of
    U = np.array([float(se_hi[so == s].max()) for s in range(d.S)])
    m.fh_cap = pyo.Param(mutable=True, initialize=float(d.fh_cap), within=pyo.Reals)
    m.rate = pyo.Var(m.S, bounds=lambda b, s: (0.0, float(U[s])), initialize=0.0)
    m.f = pyo.Var(m.M, m.S, bounds=lambda b, i, s: (0.0, float(U[s])), initialize=0.0)
    members = {s: np.flatnonzero(so == s).tolist() for s in range(d.S)}
    multi = [i for s in range(d.S) for i in members[s] if len(members[s]) > 1]
    m.LAM = pyo.Set(initialize=multi, ordered=True)
    m.lam = pyo.Var(m.LAM, within=pyo.Binary, initialize=0)

    def _rate(b, i):
        s = int(so[i])
        if len(members[s]) == 1:
            return b.rate[s] >= b.se[i]
        return b.rate[s] >= b.se[i] - float(U[s]) * (1.0 - b.lam[i])

    m.con_rate = pyo.Constraint(m.R, rule=_rate)
    m.con_select = pyo.Constraint(m.S, rule=lambda b, s: (sum(b.lam[i] for i in members[s]) == 1.0
                                                          if len(members[s]) > 1 else pyo.Constraint.Skip))
    m.con_f = pyo.Constraint(m.M, m.S, rule=lambda b, i, s: b.f[i, s] >= b.rate[s] - float(U[s]) * (1.0 - b.a[i, s]))
    m.con_fronthaul = pyo.Constraint(m.M, rule=lambda b, i: sum(b.f[i, s] for s in range(d.S)) <= b.fh_cap)


def set_params(model: pyo.ConcreteModel, **params) -> pyo.ConcreteModel:
    """Sweep entry point: mutable Params ``se_min`` [R] (bit/s/Hz), ``n_max`` and ``fh_cap`` (only in a model built
    with a fronthaul limit); no rebuild."""
    return _set_params(model, **params)


def set_point(model: pyo.ConcreteModel, assoc, x) -> None:
    """Initial values from a physical point (assoc [M,S] in {0,1}, amplitudes x [M,S]); the auxiliary variables are
    left to the solver."""
    d: Scaled = model._cfopt["data"]
    xt = np.clip(np.asarray(x, dtype=float) / d.sqrtP[:, None], 0.0, 1.0)
    a = np.asarray(assoc, dtype=float)
    for i in range(d.M):
        for s in range(d.S):
            model.a[i, s].set_value(float(round(a[i, s])), skip_validation=True)
            model.xt[i, s].set_value(float(xt[i, s] * round(a[i, s])), skip_validation=True)


def extract(model: pyo.ConcreteModel) -> dict[str, np.ndarray]:
    """``{"assoc": a [M,S] rounded to {0,1}, "x": physical amplitudes [M,S]}`` (x = 0 where a = 0) at the model's
    current values; NaN where a variable has no value."""
    d: Scaled = model._cfopt["data"]

    def val(v):
        return np.nan if v.value is None else float(v.value)

    a = np.array([[val(model.a[i, s]) for s in range(d.S)] for i in range(d.M)])
    xt = np.array([[val(model.xt[i, s]) for s in range(d.S)] for i in range(d.M)])
    a = np.round(np.clip(a, 0.0, 1.0))
    xt = np.clip(xt, 0.0, 1.0) * a
    norm = np.sqrt((xt ** 2).sum(axis=1, keepdims=True))
    xt = xt / np.maximum(norm, 1.0)
    return {"assoc": a, "x": amplitude(d, xt)}
