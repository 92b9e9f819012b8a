"""The SCA sub-problem of Algorithm 2 (spec ``unicast_multicast.md`` §7, [G] standard construction) of paper 001:
a convex QCQP, built once and moved to the next linearisation point through mutable Params
(:func:`formulations.components.params.set_params`); solved by Ipopt (a convex model: its KKT point is the global
optimum of the sub-problem).

Scaled data (:mod:`formulations.multicast.data`): X_i = D̃_i = Σ_m g_mi x̃_{m,s(i)} (affine), Y_i = Ĩ_i =
1 + Σ_m h_mi Σ_s x̃_ms² (convex quadratic), SINR_i = X_i²/Y_i. Variables x̃ ∈ [0,1]^{M×S}, a ∈ [0,1]^{M×S}, rates
r_i ≥ 0 (bit/s/Hz), QoS slacks q_i ≥ 0 (the feasibility phase of step 1, penalised by ``lam_s``), stream rates
ϱ_s (only with a fronthaul limit; scaled ϱ̂ = ϱ/U, U = C̄_fh). Rows, around (x̄, ā, ϱ̄):

    con_rate[i]:   r_i ≤ r0_i + k1_i X_i − k2_i (X_i² + Y_i)          (§7 rate bound; convex: k2 ≥ 0)
                   r0 = SE_i(z̄) − ω/ln2 z̄,  k1 = ω/ln2 · 2X̄/Ȳ,  k2 = ω/ln2 · X̄²/(Ȳ(X̄² + Ȳ))
                   (the bound ln(1 + X²/Y) ≥ ln(1 + z̄) − z̄ + 2X̄X/Ȳ − X̄²(X² + Y)/(Ȳ(X̄² + Ȳ)), tight at the point;
                   SE(z̄) comes from models.multicast.system.se_of_sinr: no rate is computed here)
    con_qos[i]:    r_i + q_i ≥ se_min_i                                (31c)
    con_power[m]:  Σ_s x̃_ms² ≤ 1                                      (31b)
    con_link[m,s]: x̃_ms² ≤ a_ms                                       (§7: replaces the product of §6)
    con_cover[s]:  Σ_m a_ms ≥ 1;   con_load[m]: Σ_s a_ms ≤ n_max        (31e), (31f)
    con_stream[i]: sel_i (u0_i + u1_i X_i²/L_i(x̃)) ≤ U ϱ̂_{s(i)},  con_L[i]: L_i ≥ 1     (an upper bound of SE)
                   L_i = 1 + Σ_m h_mi Σ_s (2x̄_ms x̃_ms − x̄_ms²) ≤ Y_i (tangent of the convex Y), so X²/Y ≤ X²/L
                   (quadratic over linear: convex); ln(1+z) ≤ ln(1+z̄) + (z − z̄)/(1+z̄); u0 = SE(z̄) − ω/ln2 ·
                   z̄/(1+z̄), u1 = ω/ln2/(1+z̄). sel marks each stream's weakest receiver at the point, so ϱ_s ≥
                   SE_sel ≥ min_l SE_gl: the load of the evaluator's rate (31d) is bounded, not the scheduled r
    con_fh[m]:     Σ_s ¼[(a_ms + ϱ̂_s)² − 2 d̄_ms (a_ms − ϱ̂_s) + d̄_ms²] ≤ C̄_fh/U,  d̄ = ā − ϱ̄̂
                   + f_m (slack f ≥ 0, penalised by λ_s: the sub-problem stays feasible from any point)
                   (a ϱ̂ = ¼[(a+ϱ̂)² − (a−ϱ̂)²] with the concave −(a−ϱ̂)² linearised: an upper bound)      (31d)
    obj:           max Σ_i w_i r_i − λ_b Σ (a_ms − 2ā_ms a_ms + ā_ms²) − λ_s Σ_i q_i − λ_s Σ_m f_m

Mutable Params: ``r0``, ``k1``, ``k2`` [R], ``abar``, ``dbar``, ``xbar`` [M,S], ``u0``, ``u1``, ``sel`` [R], ``lam_b``, ``lam_s``, ``se_min`` [R],
``n_max``, ``fh_cap`` (fronthaul rows only when the instance has a limit). Size: 2MS + 2R (+ S) variables,
R + 2MS + 2M + S (+ R + M) rows, as in §7's complexity note.
"""
from __future__ import annotations

import math

import numpy as np
import pyomo.environ as pyo

from formulations.components.info import FormulationInfo, ProblemClass, Relation, register_formulation
from formulations.components.params import set_params
from formulations.multicast.data import Scaled, scaled

__all__ = ["INFO", "build", "linearise", "set_point", "current"]

PROBLEM = "unicast-multicast-sse"
INFO = register_formulation(FormulationInfo(
    PROBLEM, "sca-subproblem", ProblemClass.QCP, Relation.APPROXIMATION, objectives=("sse",),
    parameters=("r0", "k1", "k2", "abar", "dbar", "xbar", "u0", "u1", "sel", "lam_b", "lam_s", "se_min", "n_max", "fh_cap"),
    description="§7 convex QCQP around a point: concave rate minorant, x² ≤ P a link, DC fronthaul bound"))


def build(sys_, *, lam_s: float = 1e3) -> pyo.ConcreteModel:
    """The sub-problem (module docstring) for a MulticastSystem; linearise with :func:`linearise` before solving."""
    d = scaled(sys_)
    Ms, Ss, Rs = range(d.M), range(d.S), range(d.R)
    m = pyo.ConcreteModel(name="multicast_sca")
    m.M, m.S, m.R = pyo.RangeSet(0, d.M - 1), pyo.RangeSet(0, d.S - 1), pyo.RangeSet(0, d.R - 1)
    m.xt = pyo.Var(m.M, m.S, bounds=(0.0, 1.0), initialize=1.0 / math.sqrt(d.S))
    m.a = pyo.Var(m.M, m.S, bounds=(0.0, 1.0), initialize=0.5)
    m.r = pyo.Var(m.R, bounds=(0.0, None), initialize=0.0)
    m.q = pyo.Var(m.R, bounds=(0.0, None), initialize=0.0)
    zeros_r = dict.fromkeys(Rs, 0.0)
    for name in ("r0", "k1", "k2"):
        m.add_component(name, pyo.Param(m.R, mutable=True, initialize=zeros_r, within=pyo.Reals))
    m.se_min = pyo.Param(m.R, mutable=True, initialize=dict(enumerate(d.se_min.tolist())), within=pyo.Reals)
    m.abar = pyo.Param(m.M, m.S, mutable=True, initialize=0.5, within=pyo.Reals)
    m.lam_b = pyo.Param(mutable=True, initialize=0.1, within=pyo.Reals)
    m.lam_s = pyo.Param(mutable=True, initialize=float(lam_s), within=pyo.Reals)
    m.n_max = pyo.Param(mutable=True, initialize=float(d.S if d.n_max is None else d.n_max), within=pyo.Reals)
    g, h, so = d.g.tolist(), d.h.tolist(), d.stream_of.tolist()
    m.X = pyo.Expression(m.R, rule=lambda b, i: sum(g[j][i] * b.xt[j, so[i]] for j in Ms if g[j][i] != 0.0))
    m.pw = pyo.Expression(m.M, rule=lambda b, j: sum(b.xt[j, s] ** 2 for s in Ss))
    m.Y = pyo.Expression(m.R, rule=lambda b, i: 1.0 + sum(h[j][i] * b.pw[j] for j in Ms if h[j][i] != 0.0))
    m.con_rate = pyo.Constraint(m.R, rule=lambda b, i: b.r[i] <= b.r0[i] + b.k1[i] * b.X[i]
                                - b.k2[i] * (b.X[i] ** 2 + b.Y[i]))
    m.con_qos = pyo.Constraint(m.R, rule=lambda b, i: b.r[i] + b.q[i] >= b.se_min[i])
    m.con_power = pyo.Constraint(m.M, rule=lambda b, j: b.pw[j] <= 1.0)
    m.con_link = pyo.Constraint(m.M, m.S, rule=lambda b, j, s: b.xt[j, s] ** 2 <= b.a[j, s])
    m.con_cover = pyo.Constraint(m.S, rule=lambda b, s: sum(b.a[j, s] for j in Ms) >= 1.0)
    m.con_load = pyo.Constraint(m.M, rule=lambda b, j: sum(b.a[j, s] for s in Ss) <= b.n_max)
    if d.fh_cap is not None:
        _fronthaul(m, d)
    w = d.w.tolist()
    fh_pen = m.lam_s * sum(m.f[j] for j in Ms) if d.fh_cap is not None else 0.0
    m.obj = pyo.Objective(expr=sum(w[i] * m.r[i] for i in Rs) - m.lam_s * sum(m.q[i] for i in Rs) - fh_pen
                          - m.lam_b * sum(m.a[j, s] * (1.0 - 2.0 * m.abar[j, s]) + m.abar[j, s] ** 2
                                          for j in Ms for s in Ss), sense=pyo.maximize)
    m._cfopt = {"data": d, "fronthaul": d.fh_cap is not None, "problem": PROBLEM, "formulation": INFO.name}
    return m


def _fronthaul(m, d: Scaled) -> None:
    """(31d) on an upper bound of the achievable stream rate (module docstring), so the evaluator's load holds."""
    U = float(d.fh_cap) if d.fh_cap > 0 else 1.0
    so, h = d.stream_of.tolist(), d.h.tolist()
    Ms, Ss = range(d.M), range(d.S)
    m.U = U
    m.fh_cap = pyo.Param(mutable=True, initialize=float(d.fh_cap), within=pyo.Reals)
    m.rho = pyo.Var(m.S, bounds=(0.0, None), initialize=0.0)
    m.dbar = pyo.Param(m.M, m.S, mutable=True, initialize=0.5, within=pyo.Reals)
    m.xbar = pyo.Param(m.M, m.S, mutable=True, initialize=0.0, within=pyo.Reals)
    for name in ("u0", "u1", "sel"):
        m.add_component(name, pyo.Param(m.R, mutable=True, initialize=0.0, within=pyo.Reals))
    m.L = pyo.Expression(m.R, rule=lambda b, i: 1.0 + sum(h[j][i] * sum(
        2.0 * b.xbar[j, s] * b.xt[j, s] - b.xbar[j, s] ** 2 for s in Ss) for j in Ms if h[j][i] != 0.0))
    m.con_L = pyo.Constraint(m.R, rule=lambda b, i: b.L[i] >= 1.0)
    m.con_stream = pyo.Constraint(m.R, rule=lambda b, i: b.sel[i] * (b.u0[i] + b.u1[i] * b.X[i] ** 2 / b.L[i])
                                  <= U * b.rho[so[i]])
    m.f = pyo.Var(m.M, bounds=(0.0, None), initialize=0.0)       # fronthaul slack (penalised: always feasible)
    m.con_fh = pyo.Constraint(m.M, rule=lambda b, j: 0.25 * sum(
        (b.a[j, s] + b.rho[s]) ** 2 - 2.0 * b.dbar[j, s] * (b.a[j, s] - b.rho[s]) + b.dbar[j, s] ** 2
        for s in range(d.S)) <= b.fh_cap / U + b.f[j])


def linearise(model: pyo.ConcreteModel, xt, a, se_of_sinr, *, rho=None, lam_b: float | None = None) -> np.ndarray:
    """Move the sub-problem to the point (x̃, a, ϱ̂): sets r0, k1, k2, abar (and dbar) and returns z̄ = SINR [R].
    ``se_of_sinr``: the models/ function SINR [R] → SE [R] (bit/s/Hz)."""
    d: Scaled = model._cfopt["data"]
    xt, a = np.asarray(xt, dtype=float), np.asarray(a, dtype=float)
    X = (d.g * xt[:, d.stream_of]).sum(axis=0)
    Y = 1.0 + d.h.T @ (xt ** 2).sum(axis=1)
    z = X ** 2 / Y
    cw = d.omega / math.log(2.0)
    params = {"r0": np.asarray(se_of_sinr(z)) - cw * z, "k1": cw * 2.0 * X / Y, "k2": cw * X ** 2 / (Y * (X ** 2 + Y)),
              "abar": a}
    if lam_b is not None:
        params["lam_b"] = float(lam_b)
    if model._cfopt["fronthaul"]:
        rho = np.zeros(d.S) if rho is None else np.asarray(rho, dtype=float)
        se_bar = np.asarray(se_of_sinr(z), dtype=float)
        sel = np.zeros(d.R)
        for s in range(d.S):                                  # the weakest receiver of each stream at the point
            members = np.flatnonzero(d.stream_of == s)
            sel[members[np.argmin(se_bar[members])]] = 1.0
        params.update(dbar=a - rho[None, :], xbar=xt, u0=se_bar - cw * z / (1.0 + z), u1=cw / (1.0 + z), sel=sel)
    set_params(model, **params)
    return z


def set_point(model: pyo.ConcreteModel, xt, a) -> None:
    """Variables' values (Ipopt's primal start) at (x̃, a)."""
    d: Scaled = model._cfopt["data"]
    xt, a = np.asarray(xt, dtype=float), np.asarray(a, dtype=float)
    for j in range(d.M):
        for s in range(d.S):
            model.xt[j, s].set_value(float(xt[j, s]), skip_validation=True)
            model.a[j, s].set_value(float(a[j, s]), skip_validation=True)


def current(model: pyo.ConcreteModel) -> dict[str, np.ndarray]:
    """(x̃ [M,S], a [M,S], ϱ̂ [S] or None) at the model's values."""
    d: Scaled = model._cfopt["data"]
    v = lambda c: 0.0 if c.value is None else float(c.value)  # noqa: E731
    xt = np.array([[v(model.xt[j, s]) for s in range(d.S)] for j in range(d.M)])
    a = np.array([[v(model.a[j, s]) for s in range(d.S)] for j in range(d.M)])
    rho = np.array([v(model.rho[s]) for s in range(d.S)]) if model._cfopt["fronthaul"] else None
    return {"xt": np.clip(xt, 0.0, 1.0), "a": np.clip(a, 0.0, 1.0), "rho": rho}
