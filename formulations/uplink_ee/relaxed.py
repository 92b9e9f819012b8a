"""Relaxed AP–UE association NLP with fixed UE powers and fixed LSFD weights (problem ``uplink-ee``, paper 000).

Structure of spec ``uplink_ee.md`` §1.9 "Sub-problem (24)" / paper 000 eqs. (11)–(13) with d relaxed to [0, 1]:

    variables   d[m,k] ∈ [0, 1]                                   (M·K)
    sqrt_ds[k]  = √p_k Σ_m a_mk μ_mkk d_mk                          linear in d
    coh[k,i]    = Σ_m a_mk μ_mki d_mk,   i ∈ P_k \\ k               linear in d (one per co-pilot pair)
    interf[k]   = Σ_{i∈P_k\\k} p_i coh[k,i]² + Σ_m q_mk d_mk²        convex quadratic,
                  q_mk = a_mk² (Σ_i p_i ν_mki + n_mk)  (inner sums over i precomputed with numpy)
    sinr[k]     = sqrt_ds[k]² / interf[k]
    se[k]       = w · log(1 + sinr[k]) / log(2),  w = 1 − τ_p/τ_c
    p_total     = P_const + Σ_mk coef_mk d_mk + c_rate · B Σ_k se[k]   (models.common.power.power_linear_coefficients)
    constraints Σ_m d_mk ≥ 1 ∀k;   Σ_k se[k] ≥ se_min_sum (mutable Param; deactivated when not given)
    objective   "ratio":      max  B Σ se / p_total / 1e6          (EE in Mbit/J)
                "epigraph":   max  t  s.t.  B Σ se / 1e6 − t · p_total ≥ 0   (the same optimum as "ratio"; its
                              Hessian stays block-sparse where the ratio's is dense in all M·K variables)
                "parametric": max  B Σ se / 1e6 − λ · p_total        (Dinkelbach; λ mutable, in Mbit/J)

Problem class: NLP (non-convex as written: the SINR ratio and the EE ratio; the QT/Dinkelbach transforms of §1.9
make it concave). Relation to ``uplink-ee``: a *relaxation* of the association (d ∈ [0,1]) and a *restriction*
in (p, a), which are held fixed; hence neither a bound nor a feasible point of (11) in general.

All coefficient arrays are computed with numpy (from :mod:`models`); the expressions are exact copies of
:func:`models.uplink_ee.sinr.sinr_terms` with effective weights a∘d and of :func:`models.common.power.power_consumption`
(x ≡ 1, or a fixed ``ap_active``), which the tests check to 1e-10.
Size: M·K variables; Pyomo terms ≈ 3·M·K + M·(number of ordered co-pilot pairs).
"""
from __future__ import annotations

import math

import numpy as np
import pyomo.environ as pyo

from formulations.components.info import FormulationInfo, ProblemClass, Relation, register_formulation
from formulations.components.linear import linear
from formulations.components.params import set_params
from instances.errors import InputError
from models.common.estimation import mmse_estimation
from models.common.power import power_linear_coefficients
from models.uplink_ee.sinr import Moments, association_coefficients, mr_moments, prelog_factor

__all__ = ["PROBLEM", "PROBLEM_CLASS", "RELATION", "INFO", "build", "update", "extract", "set_params"]

PROBLEM = "uplink-ee"
FORMULATION = "assoc-relaxed"
PROBLEM_CLASS = "NLP"
RELATION = "relaxation"   # of the association; p and a are fixed (a restriction in those)

INFO = register_formulation(FormulationInfo(
    PROBLEM, FORMULATION, ProblemClass.NLP, Relation.RELAXATION, objectives=("ratio", "epigraph", "parametric"),
    parameters=("se_min_sum", "lam", "p", "g", "q", "h", "coef", "P_const", "c_rate", "bandwidth", "prelog"),
    description="relaxed AP–UE association (d ∈ [0, 1]) for fixed powers and LSFD weights"))


def build(beta_n, pilots, p, a, antennas, tau_p: int, tau_c: int, bandwidth_hz: float, power_consts: dict, *,
          p_pilot, se_min_sum: float | None = None, objective: str = "ratio", lam: float = 0.0,
          moments: Moments | None = None, ap_active=None, prelog: float | None = None,
          d_init=None) -> pyo.ConcreteModel:
    """Build the relaxed association NLP.

    beta_n : [M, K] noise-normalised large-scale gains (1/W);  pilots : [K];  p : [K] data powers (W), fixed;
    a : [M, K] LSFD weights (real), fixed;  antennas : scalar or [M];  tau_p, tau_c : samples;
    bandwidth_hz : B;  power_consts : dict of :data:`models.common.power.POWER_KEYS` (e.g. ``CHEN2023``).

    Keyword-only:
      p_pilot     : scalar or [K] pilot power (W) — needed by the estimator and by P_UE (not in the brief's list).
      se_min_sum  : sum-SE floor (bit/s/Hz); stored in the mutable Param ``se_min_sum``; the constraint
                    ``con_sum_se`` is deactivated when None.
      objective   : ``"ratio"`` (EE, Mbit/J), ``"epigraph"`` (EE through an epigraph variable ``t`` and the
                    bilinear constraint ``con_epigraph``) or ``"parametric"`` (B ΣSE/1e6 − λ P_total; λ = mutable ``lam``).
      moments     : precomputed :class:`models.uplink_ee.sinr.Moments` (e.g. PFZF); default MR moments from
                    MMSE estimation with (beta_n, p_pilot, tau_p, pilots).
      ap_active   : fixed AP activity x[M] (0/1). None → all APs on (x ≡ 1). d[m,·] is fixed to 0 where x_m = 0.
      prelog      : override of the pre-log 1 − τ_p/τ_c (e.g. the seed's (1 − τ_p/τ_c)/2).
      d_init      : [M, K] starting point (default all ones, i.e. all-serve-all).

    Components: Var ``d``; Params ``p, g, h, q, P_const, coef, c_rate, bandwidth, prelog, se_min_sum, lam``
    (all mutable, see :func:`update`); Expressions ``sqrt_ds[k], coh[k,i], ds[k], interference[k], sinr[k],
    se[k], sum_se, throughput, p_rest, p_total, ee``; Constraints ``con_assoc[k], con_sum_se``;
    Objective ``obj``.
    """
    beta_n = np.asarray(beta_n, dtype=float)
    if beta_n.ndim != 2:
        raise InputError("beta", f"expected [M, K], got shape {beta_n.shape}")
    M, K = beta_n.shape
    p = np.broadcast_to(np.asarray(p, dtype=float), (K,)).copy()
    a = np.asarray(a, dtype=float)
    _check(M, K, p, a, objective)
    if moments is None:
        est = mmse_estimation(beta_n, p_pilot, tau_p, pilots)
        moments = mr_moments(est.gamma, beta_n, pilots, antennas)
    if moments.shape != (M, K):
        raise InputError("moments", f"moments are for {moments.shape}, data for {(M, K)}")
    w = prelog_factor(tau_p, tau_c) if prelog is None else float(prelog)
    x = None if ap_active is None else np.broadcast_to(np.asarray(ap_active, dtype=float), (M,)).copy()
    lin = power_linear_coefficients(p, antennas, tau_p, tau_c, power_consts, p_pilot=p_pilot, M=M, ap_active=x)
    off = moments.copilot & ~np.eye(K, dtype=bool)
    pairs = [tuple(int(v) for v in kv) for kv in np.argwhere(off)]          # (k, i), i ∈ P_k \ k
    d_init = np.broadcast_to(np.asarray(np.ones((M, K)) if d_init is None else d_init, dtype=float), (M, K))
    m = pyo.ConcreteModel(name="uplink_assoc_relaxed")
    _params(m, M, K, pairs, d_init, p, association_coefficients(moments, p, a), lin,
            dict(bandwidth=float(bandwidth_hz), prelog=w, se_min_sum=0.0 if se_min_sum is None else float(se_min_sum),
                 lam=float(lam)))
    _expressions(m, M, K, pairs)
    _rows(m, M, objective, se_min_sum is None)
    if x is not None:
        for mm in np.flatnonzero(x <= 0):
            for k in range(K):
                m.d[int(mm), k].fix(0.0)
    # numpy data kept for update()/extract(); plain attribute, not a Pyomo component
    m._cfopt = {"moments": moments, "p": p, "a": a, "antennas": antennas, "tau_p": int(tau_p), "tau_c": int(tau_c),
                "power_consts": dict(power_consts), "p_pilot": p_pilot, "ap_active": x, "pairs": pairs,
                "objective": objective, "problem": PROBLEM, "formulation": FORMULATION,
                "problem_class": PROBLEM_CLASS, "relation": RELATION, "shape": (M, K)}
    return m


def _check(M: int, K: int, p, a, objective: str) -> None:
    if a.shape != (M, K):
        raise InputError("a", f"expected shape ({M}, {K}), got {a.shape}")
    if np.any(p < 0):
        raise InputError("p", "data powers must be non-negative")
    if objective not in ("ratio", "epigraph", "parametric"):
        raise InputError("objective", f"expected 'ratio', 'epigraph' or 'parametric', got {objective!r}")


def _params(m, M: int, K: int, pairs, d_init, p, ghq, lin, scalars: dict) -> None:
    """Index sets, the variable d and the mutable Params (coefficients from numpy)."""
    g, h, q = ghq
    m.M = pyo.RangeSet(0, M - 1)
    m.K = pyo.RangeSet(0, K - 1)
    m.CP = pyo.Set(dimen=2, initialize=pairs, ordered=True)
    MK = [(mm, k) for mm in range(M) for k in range(K)]
    m.d = pyo.Var(m.M, m.K, bounds=(0.0, 1.0), initialize=dict(zip(MK, d_init.ravel().tolist())))

    def _mk(arr):
        return dict(zip(MK, np.asarray(arr, dtype=float).ravel().tolist()))

    m.p = pyo.Param(m.K, mutable=True, initialize=dict(enumerate(p.tolist())))
    m.g = pyo.Param(m.M, m.K, mutable=True, initialize=_mk(g))
    m.q = pyo.Param(m.M, m.K, mutable=True, initialize=_mk(q))
    hd = {(mm, k, i): float(h[mm, k, i]) for (k, i) in pairs for mm in range(M)}
    m.h = pyo.Param(m.M, m.CP, mutable=True, initialize=hd)
    m.coef = pyo.Param(m.M, m.K, mutable=True, initialize=_mk(lin.coef))
    m.P_const = pyo.Param(mutable=True, initialize=lin.const)
    m.c_rate = pyo.Param(mutable=True, initialize=lin.c_rate)
    for name in ("bandwidth", "prelog", "se_min_sum", "lam"):
        setattr(m, name, pyo.Param(mutable=True, initialize=scalars[name]))


def _expressions(m, M: int, K: int, pairs) -> None:
    """√DS, coherent sums, DS, interference, SINR, SE (4), sum SE, throughput, P_total, EE."""
    d = m.d
    MK = [(mm, k) for mm in range(M) for k in range(K)]
    partners = [[] for _ in range(K)]
    for k, i in pairs:
        partners[k].append(i)
    m.sqrt_ds = pyo.Expression(m.K, rule=lambda b, k: linear([b.g[mm, k] for mm in range(M)],
                                                             [d[mm, k] for mm in range(M)]))
    m.coh = pyo.Expression(m.CP, rule=lambda b, k, i: linear([b.h[mm, k, i] for mm in range(M)],
                                                             [d[mm, k] for mm in range(M)]))
    m.ds = pyo.Expression(m.K, rule=lambda b, k: b.sqrt_ds[k] ** 2)

    def _interf(b, k):
        diag = pyo.quicksum((b.q[mm, k] * d[mm, k] ** 2 for mm in range(M)))
        coh = [b.p[i] * b.coh[k, i] ** 2 for i in partners[k]]
        return pyo.quicksum(coh) + diag if coh else diag

    m.interference = pyo.Expression(m.K, rule=_interf)
    m.sinr = pyo.Expression(m.K, rule=lambda b, k: b.ds[k] / b.interference[k])
    inv_ln2 = 1.0 / math.log(2.0)
    m.se = pyo.Expression(m.K, rule=lambda b, k: b.prelog * inv_ln2 * pyo.log(1.0 + b.sinr[k]))
    m.sum_se = pyo.Expression(expr=pyo.quicksum((m.se[k] for k in range(K))))
    m.throughput = pyo.Expression(expr=m.bandwidth * m.sum_se)                      # bit/s
    m.p_rest = pyo.Expression(expr=m.P_const + linear([m.coef[mm, k] for mm, k in MK], [d[mm, k] for mm, k in MK]))
    m.p_total = pyo.Expression(expr=m.p_rest + m.c_rate * m.throughput)             # W
    m.ee = pyo.Expression(expr=m.throughput / m.p_total / 1e6)                      # Mbit/J


def _rows(m, M: int, objective: str, no_floor: bool) -> None:
    """con_assoc (every UE served), con_sum_se (the floor, deactivated without one) and the objective."""
    d = m.d
    m.con_assoc = pyo.Constraint(m.K, rule=lambda b, k: pyo.quicksum(d[mm, k] for mm in range(M)) >= 1.0)
    m.con_sum_se = pyo.Constraint(expr=m.sum_se >= m.se_min_sum)
    if no_floor:
        m.con_sum_se.deactivate()
    if objective == "ratio":
        m.obj = pyo.Objective(expr=m.ee, sense=pyo.maximize)
    elif objective == "epigraph":
        m.t = pyo.Var(bounds=(0.0, None), initialize=0.0)                          # EE, Mbit/J
        m.con_epigraph = pyo.Constraint(expr=m.throughput / 1e6 - m.t * m.p_total >= 0.0)
        m.obj = pyo.Objective(expr=m.t, sense=pyo.maximize)
    else:
        m.obj = pyo.Objective(expr=m.throughput / 1e6 - m.lam * m.p_total, sense=pyo.maximize)


def update(model: pyo.ConcreteModel, *, p=None, a=None) -> None:
    """Refresh the mutable coefficient Params for new fixed powers ``p[K]`` and/or LSFD weights ``a[M,K]``
    (the alternating scheme of §1.9) without rebuilding the model."""
    info = model._cfopt
    M, K = info["shape"]
    if p is not None:
        info["p"] = np.broadcast_to(np.asarray(p, dtype=float), (K,)).copy()
    if a is not None:
        a = np.asarray(a, dtype=float)
        if a.shape != (M, K):
            raise InputError("a", f"expected shape ({M}, {K}), got {a.shape}")
        info["a"] = a.copy()
    g, h, q = association_coefficients(info["moments"], info["p"], info["a"])
    lin = power_linear_coefficients(info["p"], info["antennas"], info["tau_p"], info["tau_c"], info["power_consts"],
                                    p_pilot=info["p_pilot"], M=M, ap_active=info["ap_active"])
    MK = [(mm, k) for mm in range(M) for k in range(K)]
    model.p.store_values(dict(enumerate(info["p"].tolist())))
    model.g.store_values(dict(zip(MK, g.ravel().tolist())))
    model.q.store_values(dict(zip(MK, q.ravel().tolist())))
    model.h.store_values({(mm, k, i): float(h[mm, k, i]) for (k, i) in info["pairs"] for mm in range(M)})
    model.coef.store_values(dict(zip(MK, lin.coef.ravel().tolist())))
    model.P_const.set_value(lin.const)


def extract(model: pyo.ConcreteModel) -> dict:
    """Solution arrays at the model's current variable values: ``d`` [M, K], and the model's own ``sinr``, ``se``
    [K], ``sum_se``, ``p_total`` (W), ``ee_mbit_per_j``, ``objective``. (Reported figures must be re-scored by the
    models/ evaluator; these are the model's values.)"""
    M, K = model._cfopt["shape"]
    d = np.array([np.nan if v.value is None else v.value for v in model.d.values()], dtype=float).reshape(M, K)
    out = {"d": d}
    try:
        out["sinr"] = np.array([pyo.value(model.sinr[k]) for k in range(K)])
        out["se"] = np.array([pyo.value(model.se[k]) for k in range(K)])
        out["sum_se"] = float(pyo.value(model.sum_se))
        out["p_total"] = float(pyo.value(model.p_total))
        out["ee_mbit_per_j"] = float(pyo.value(model.ee))
        out["objective"] = float(pyo.value(model.obj))
    except (ValueError, ZeroDivisionError):
        pass
    return out


def build_from_instance(instance, *, p=None, a=None, **options) -> pyo.ConcreteModel:
    """:func:`build` with the data of an :class:`instances.Instance`: noise-normalised gains ``beta / noise_w``,
    the instance's pilots (orthogonal by index when it has none), its maximum UE powers when ``p`` is not given,
    and, when ``a`` is not given, the optimal LSFD weights (spec §1.6) for full association at those powers."""
    from models.common.estimation import assign_pilots
    from models.uplink_ee.sinr import lsfd_optimal

    beta_n = np.asarray(instance.beta) / instance.noise_w
    M, K = beta_n.shape
    pilots = (np.asarray(instance.pilots) if instance.pilots is not None
              else assign_pilots(K, instance.tau_p, method="balanced"))
    p = np.asarray(instance.p_ue_max_w, dtype=float) if p is None else p
    p_pilot = np.asarray(instance.p_pilot_w, dtype=float)
    moments = options.pop("moments", None)
    if moments is None:
        est = mmse_estimation(beta_n, p_pilot, instance.tau_p, pilots)
        moments = mr_moments(est.gamma, beta_n, pilots, np.asarray(instance.antennas))
    if a is None:
        a = lsfd_optimal(moments, p, np.ones((M, K)), normalize="max")
    return build(beta_n, pilots, p, a, np.asarray(instance.antennas), instance.tau_p, instance.tau_c,
                 instance.bandwidth_hz, dict(instance.power_model), p_pilot=p_pilot, moments=moments, **options)
