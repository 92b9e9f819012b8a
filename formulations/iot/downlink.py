"""Pyomo models of the IoT downlink max-min power control of paper 003 (Rao, Ashikhmin, Yang, arXiv 2006.10363),
problems (18)-(19) and the SOCP feasibility set (20)-(24); spec ``iot_nonorthogonal.md`` §2.6, §3.7, §3.8.

Problem ``iot-downlink-maxmin``: max_{η ≥ 0} min_k SINR_k^d(η) s.t. Σ_k η_mk γ_mk ≤ 1 (every AP m), with the
general-estimator SINR of Theorem 3 (spec §3.7; :func:`models.common.sinr.downlink_sinr`), s_mk = sqrt(ρ_d,m η_mk)::

    SINR_k = |Σ_m s_mk [Q_m]_kk|² / ( Σ_{j≠k} |Σ_m s_mj [Q_m]_jk|² + Σ_j Σ_m s_mj² γ_mj β_mk + 1 )

**Scaled variables** (spec §3.8 numerics: the raw coefficients are ~1e-10). u_mk = sqrt(γ_mk) ς_mk = sqrt(η_mk γ_mk)
≥ 0 is AP m's power amplitude for thing k, so ‖u_m,:‖² = Σ_k η_mk γ_mk is AP m's load and the per-AP constraint
(21)-(22) reads ‖u_m,:‖ ≤ θ_m ≤ 1. Everything is multiplied by sqrt(ρ_d) (noise term = 1)::

    numerator      w_k = a_kᵀ u_k,                a_mk = sqrt(ρ_d,m γ_mk)        ([Q_m]_kk = γ_mk, real > 0 for
                                                                                    both estimators)
    coherent       C_kj = Σ_m c_jk,m u_mj,        c_jk,m = sqrt(ρ_d,m/γ_mj) [Q_m]_jk   (complex)
    non-coherent   Σ_m d_mk² ‖u_m‖² ≤ Σ_m d_mk² θ_m²,   d_mk = sqrt(ρ_d,m β_mk)

and SINR_k = w_k² / (‖y_k‖²) with y_k = [ (Re C_kj, Im C_kj)_{j≠k} ; (d_mk θ_m)_m ; 1 ] (u_k of §3.8 split into
real and imaginary parts: u is real, so |c^T u|² = (Re c^T u)² + (Im c^T u)²). Each real or imaginary part with a
non-zero coefficient vector is one *coherent row* r = (j_r, k_r, c_r ∈ R^M) and gets an auxiliary variable
``v[r]`` defined by the linear equality ``v[r] = c_rᵀ u[:, j_r]`` (this keeps every Hessian diagonal; orthogonal
pairs have no row). The magnitudes are O(1)–O(10²): a_mk ≤ d_mk, |c_jk,m| ≤ d_mk (Cauchy–Schwarz on Γ_m resp. the
projection weights), d_mk² = ρ_d β_mk.

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
``con_cone`` give a *certified* upper bound by weak duality (:func:`lagrangian_bound`). ``"none"`` (used with
SCIP): constant objective; SCIP stops at the first feasible point or proves infeasibility (its verdict is global).
``"power"``: min Σ θ_m² (a minimum-power point for feasible t; offered for completeness, not used by the adapters).

The target is the mutable Param ``inv_t`` = 1/t (one coefficient per cone) and the weights ``delta[k]``; only these
change during a bisection, so one model serves every step (the Ipopt bridge re-reads Params without recompiling;
SCIP re-translates each solve). Coefficients are plain floats from numpy.

Epigraph (:func:`build_epigraph`): max τ s.t. ``con_coh``, ``con_ap``, w_k = a_kᵀ u_k, ρ_k² ≥ ‖y_k‖² (ρ_k ≥ 1, a
cone), and the bilinear τ·ρ_k ≤ w_k, with τ ∈ [sqrt(t_lo), sqrt(t_hi)]. The only nonconvexity is the product
τ·ρ_k, so SCIP's spatial branch-and-bound branches on a single variable (τ); t* = τ*².

Bounds used throughout (:class:`DLData`): t* ≥ min SINR at equal power (a feasible point) and
t* ≤ min_k min( (Σ_m a_mk)², S_k X̄_k/(X̄_k + 1) ) with S_k = Σ_m γ_mk/β_mk, X̄_k = Σ_m d_mk²
(:meth:`DLData.upper_bound`): dropping every interference term except user k's own non-coherent one
(θ_m² ≥ u_mk²), SINR_k ≤ (a_kᵀu_k)²/(Σ_m d_mk² u_mk² + 1) with u_k ∈ [0, 1]^M; the first bound uses the
denominator ≥ 1, the second Cauchy–Schwarz (a_kᵀu)² ≤ S_k Σ_m d_mk² u_mk² and monotonicity in X = Σ d²u² ≤ X̄.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from instances.errors import InputError

__all__ = ["PROBLEM", "FORMULATIONS", "OBJECTIVES", "DLData", "dl_data", "build_feasibility", "set_target",
           "start", "build_epigraph", "extract", "cone_multipliers", "lagrangian_bound", "tau_upper_bound"]

PROBLEM = "iot-downlink-maxmin"
#: formulation name -> (problem, problem class, relation)
FORMULATIONS = {
    "socp-feasibility": (PROBLEM, "SOCP (fixed t; quadratic form of the cones)", "exact"),
    "epigraph": (PROBLEM, "QCP (nonconvex: bilinear τ·ρ_k)", "exact"),
}
OBJECTIVES = ("none", "slack", "power")


# ================================================================================================================
# data (numpy)
# ================================================================================================================

@dataclass(frozen=True)
class DLData:
    """Scaled coefficients of the downlink max-min problem (see the module docstring).

    a, d, gamma : [M, K]     a_mk = sqrt(ρ_d,m γ_mk), d_mk = sqrt(ρ_d,m β_mk), γ_mk
    row_j, row_k : [R]       coherent row r: beam of thing j_r seen by thing k_r (j_r ≠ k_r)
    row_c : [R, M]           its real coefficient vector on u[:, j_r] (the Re or Im part of c_jk)
    active : [M, K]          γ_mk > 0 (u_mk is fixed to 0 where False)
    """

    a: np.ndarray
    d: np.ndarray
    gamma: np.ndarray
    row_j: np.ndarray
    row_k: np.ndarray
    row_c: np.ndarray
    active: np.ndarray

    @property
    def M(self) -> int:
        return self.a.shape[0]

    @property
    def K(self) -> int:
        return self.a.shape[1]

    @property
    def R(self) -> int:
        return int(self.row_j.size)

    # ---------------------------------------------------------------------------------------------- conversions
    def u_from_eta(self, eta) -> np.ndarray:
        """u_mk = sqrt(η_mk γ_mk)."""
        return np.sqrt(np.clip(np.asarray(eta, dtype=float), 0.0, None) * self.gamma)

    def eta_from_u(self, u) -> np.ndarray:
        """η_mk = u_mk²/γ_mk (0 where γ_mk = 0)."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, None)
        out = np.zeros_like(u)
        np.divide(u * u, self.gamma, out=out, where=self.active)
        return out

    def power_feasible(self, u, *, scale_up: bool = True) -> np.ndarray:
        """Project u onto the power set (u ≥ 0, ‖u_m‖ ≤ 1) by clipping and per-AP down-scaling; with ``scale_up``
        also multiply all of u by 1/max_m ‖u_m‖ ≥ 1 (a common scaling α ≥ 1 raises every SINR: numerator and
        interference scale by α², the noise does not)."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, None) * self.active
        n = np.linalg.norm(u, axis=1)
        over = n > 1.0
        u[over] /= n[over, None]
        if scale_up:
            mx = float(np.linalg.norm(u, axis=1).max(initial=0.0))
            if mx > 0:
                u = u / mx
                n = np.linalg.norm(u, axis=1)
                over = n > 1.0                      # rounding
                u[over] /= n[over, None]
        return u

    # ------------------------------------------------------------------------------------------ model quantities
    def coherent(self, u) -> np.ndarray:
        """v_r = c_rᵀ u[:, j_r] for every coherent row [R]."""
        u = np.asarray(u, dtype=float)
        return np.einsum("rm,mr->r", self.row_c, u[:, self.row_j]) if self.R else np.zeros(0)

    def y_norm2(self, u, theta=None) -> np.ndarray:
        """‖y_k‖² = Σ_{r→k} v_r² + Σ_m d_mk² θ_m² + 1 [K] (θ_m = ‖u_m‖ by default)."""
        u = np.asarray(u, dtype=float)
        th = np.linalg.norm(u, axis=1) if theta is None else np.asarray(theta, dtype=float)
        v = self.coherent(u)
        coh = np.bincount(self.row_k, weights=v * v, minlength=self.K) if self.R else np.zeros(self.K)
        return coh + (self.d ** 2).T @ (th ** 2) + 1.0

    def sinr(self, u) -> np.ndarray:
        """SINR_k in the scaled variables (the same number as the evaluator's at η = eta_from_u(u))."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, None)
        w = (self.a * u).sum(axis=0)
        return w * w / self.y_norm2(u)

    # ----------------------------------------------------------------------------------------------- bounds
    def upper_bound(self) -> float:
        """A valid upper bound of the max-min SINR t* (module docstring): min_k min((Σ_m a_mk)², S_k X̄_k/(X̄_k+1))."""
        b1 = self.a.sum(axis=0) ** 2
        ratio = np.zeros_like(self.a)
        np.divide(self.a ** 2, self.d ** 2, out=ratio, where=self.d > 0)
        S = ratio.sum(axis=0)
        X = (self.d ** 2).sum(axis=0)
        b2 = S * X / (X + 1.0)
        return float(np.minimum(b1, b2).min())

    def y_bound(self) -> np.ndarray:
        """D̄_k ≥ max ‖y_k‖ over the power set (|c_rᵀ u_j| ≤ ‖c_r‖₁, θ_m ≤ 1) [K]."""
        l1 = np.abs(self.row_c).sum(axis=1) if self.R else np.zeros(0)
        coh = np.bincount(self.row_k, weights=l1 * l1, minlength=self.K) if self.R else np.zeros(self.K)
        return np.sqrt(coh + (self.d ** 2).sum(axis=0) + 1.0)


def dl_data(system=None, *, stats=None, beta=None, rho_d=None) -> DLData:
    """:class:`DLData` of an :class:`models.iot.system.IoTSystem` (``system.dl_stats``, ``.beta``, ``.rho_d``) or of raw
    statistics (``stats`` from ``estimator_statistics(..., full=True)``, ``beta`` [M, K], ``rho_d`` scalar or [M]).
    Bad input raises :class:`InputError` naming the field."""
    if system is not None:
        stats, beta, rho_d = system.dl_stats, system.beta, system.rho_d
    if stats is None or beta is None or rho_d is None:
        raise InputError("system", "give an IoTSystem or stats=, beta= and rho_d=")
    beta = np.asarray(beta, dtype=float)
    if beta.ndim != 2 or beta.size == 0 or not np.all(np.isfinite(beta)) or np.any(beta < 0):
        raise InputError("beta", "expected a finite, non-negative [M, K] array")
    M, K = beta.shape
    if getattr(stats, "q", None) is None:
        raise InputError("stats", "the downlink needs the per-AP statistics: estimator_statistics(..., full=True)")
    q = np.asarray(stats.q)
    gamma = np.asarray(stats.gamma, dtype=float)
    if q.shape != (M, K, K) or gamma.shape != (M, K):
        raise InputError("stats", f"expected gamma [M, K] = {(M, K)} and q [M, K, K], got {gamma.shape}, {q.shape}")
    if not (np.all(np.isfinite(q)) and np.all(np.isfinite(gamma))) or np.any(gamma < 0):
        raise InputError("stats", "statistics must be finite with gamma >= 0")
    try:
        rho = np.broadcast_to(np.asarray(rho_d, dtype=float), (M,)).copy()
    except ValueError:
        raise InputError("rho_d", f"expected a scalar or {M} values") from None
    if not np.all(np.isfinite(rho)) or np.any(rho <= 0):
        raise InputError("rho_d", "normalised AP powers must be finite and > 0")
    diag = np.diagonal(q, axis1=1, axis2=2)                        # [M, K] = [Q_m]_kk
    scale = max(float(gamma.max(initial=0.0)), 1e-300)
    if np.abs(diag.imag).max(initial=0.0) > 1e-9 * scale or np.any(diag.real < -1e-12 * scale):
        raise InputError("stats", "[Q_m]_kk must be real and non-negative (the SOCP needs a real coherent gain)")
    if np.abs(diag.real - gamma).max(initial=0.0) > 1e-9 * scale:
        raise InputError("stats", "[Q_m]_kk must equal gamma_mk (conjugate beamforming with the same estimate)")
    if np.any((gamma > 0) & ~(beta > 0)):
        raise InputError("stats", "gamma_mk > 0 needs beta_mk > 0")
    active = gamma > 0
    sr = np.sqrt(rho)
    a = sr[:, None] * np.sqrt(gamma)
    d = sr[:, None] * np.sqrt(beta)
    # c_jk,m = sqrt(ρ_m/γ_mj) [Q_m]_jk  -> [M, j, k]
    inv = np.zeros_like(gamma)
    np.divide(sr[:, None], np.sqrt(gamma), out=inv, where=active)
    c = inv[:, :, None] * q                                          # [M, j, k]
    rows_j, rows_k, rows_c = [], [], []
    off = ~np.eye(K, dtype=bool)
    for part in (c.real, c.imag):
        nz = np.any(part != 0.0, axis=0) & off                       # [j, k]
        jj, kk = np.nonzero(nz)
        rows_j.append(jj)
        rows_k.append(kk)
        rows_c.append(part[:, jj, kk].T)                             # [R_part, M]
    row_j = np.concatenate(rows_j).astype(np.int64)
    row_k = np.concatenate(rows_k).astype(np.int64)
    row_c = np.concatenate(rows_c, axis=0) if row_j.size else np.zeros((0, M))
    order = np.lexsort((row_j, row_k))                               # group rows by receiving thing k
    return DLData(a=a, d=d, gamma=gamma, row_j=row_j[order], row_k=row_k[order],
                  row_c=np.ascontiguousarray(row_c[order]), active=active)


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


def _linear(coefs, vars_) -> LinearExpression:
    return LinearExpression([MonomialTermExpression((float(c), v)) for c, v in zip(coefs, vars_)])


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
    :func:`lagrangian_bound`). Change the target with :func:`set_target`.

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
                "problem": PROBLEM, "problem_class": FORMULATIONS["socp-feasibility"][1], "relation": "exact"}
    start(m, data, np.sqrt(data.gamma / np.maximum(data.gamma.sum(axis=1, keepdims=True), 1e-300)))
    set_target(m, t)
    return m


def set_target(model: pyo.ConcreteModel, t: float, *, delta=None) -> None:
    """Set the SINR target t (``inv_t`` = 1/t) and optionally the slack weights ``delta`` [K] (> 0)."""
    t = _check_t(t)
    model.inv_t.set_value(1.0 / t)
    if delta is not None:
        K = model._cfopt["shape"][1]
        dl = np.broadcast_to(np.asarray(delta, dtype=float), (K,))
        if not np.all(np.isfinite(dl)) or np.any(dl <= 0):
            raise InputError("delta", "slack weights must be finite and > 0")
        model.delta.store_values(dict(enumerate(dl.tolist())))


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


def extract(model: pyo.ConcreteModel) -> dict:
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
                "problem_class": FORMULATIONS["epigraph"][1], "relation": "exact", "bracket": (lo, hi)}
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


def lagrangian_bound(data: DLData, tau: float, lam, u, theta=None) -> float:
    """max over the power set X = {u ≥ 0, ‖u_m‖ ≤ θ_m ≤ 1} of the Lagrangian
    L(x) = Σ_k λ_k (a_kᵀu_k − τ ẑ_kᵀ y_k(u, θ)), with ẑ_k = y_k/‖y_k‖ at the given point (u, θ) (any unit
    vectors are valid) and any λ ≥ 0.

    For every x ∈ X with sqrt(t)‖y_k‖ ≤ w_k (all k) and τ = sqrt(t), each summand is ≥ λ_k(w_k − τ‖y_k‖) ≥ 0
    (Cauchy–Schwarz), so a negative value *proves* that the target t = τ² is infeasible (a Farkas certificate of
    the SOCP); in general it bounds t* through :func:`tau_upper_bound`. L is affine in (u, θ), so the maximum over X
    is exact: Σ_m max(0, ‖(G_u[m,:])⁺‖ + G_θ[m]) + const."""
    lam = np.clip(np.asarray(lam, dtype=float), 0.0, None)
    u = np.clip(np.asarray(u, dtype=float), 0.0, None)
    th = np.linalg.norm(u, axis=1) if theta is None else np.clip(np.asarray(theta, dtype=float), 0.0, None)
    v = data.coherent(u)
    ny = np.sqrt(data.y_norm2(u, th))                                      # ‖y_k‖ ≥ 1
    # unit-vector entries: coherent rows v_r/‖y_k_r‖, θ part d_mk θ_m/‖y_k‖, constant 1/‖y_k‖
    zr = v / ny[data.row_k] if data.R else np.zeros(0)
    G_u = data.a * lam[None, :]
    if data.R:
        wr = -tau * lam[data.row_k] * zr                                   # weight of row r's linear form
        np.add.at(G_u.T, data.row_j, wr[:, None] * data.row_c)             # G_u[:, j_r] += wr c_r
    G_u *= data.active
    G_th = -tau * ((data.d ** 2) * th[:, None] * (lam / ny)[None, :]).sum(axis=1)
    const = -tau * float(np.sum(lam / ny))
    per_ap = np.linalg.norm(np.clip(G_u, 0.0, None), axis=1) + G_th
    return float(np.clip(per_ap, 0.0, None).sum() + const)


def tau_upper_bound(data: DLData, tau: float, lam, bound: float) -> float:
    """Certified upper bound of τ* = sqrt(t*) from ``bound`` = :func:`lagrangian_bound` (λ, τ):

    with x* optimal, L(x*) ≥ Σ_k λ_k (τ* − τ)‖y_k(x*)‖ and 1 ≤ ‖y_k‖ ≤ D̄_k, hence
    τ* ≤ τ + bound/Σλ_k when bound ≥ 0 and τ* ≤ τ + bound/Σ_k λ_k D̄_k < τ when bound < 0. +inf when λ = 0."""
    lam = np.clip(np.asarray(lam, dtype=float), 0.0, None)
    tot = float(lam.sum())
    if not tot > 0 or not math.isfinite(bound):
        return math.inf
    # a relative guard of 1e-12 for the floating-point evaluation of the bound
    guard = 1e-12 * (tau * tot + float((lam * data.a.sum(axis=0)).sum()))
    b = bound + guard
    if b >= 0:
        return tau + b / tot
    return tau + b / float((lam * data.y_bound()).sum())
