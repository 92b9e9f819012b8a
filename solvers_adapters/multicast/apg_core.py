"""Algorithm 1 of paper 001 (spec ``unicast_multicast.md`` §6.6): the nonmonotone accelerated proximal gradient of Li
& Lin (NeurIPS 2015, Alg. 2) in maximisation form [L], on the smooth formulation
:mod:`formulations.multicast.apg` (F of §6.3, gradient §6.4, projection §6.5).

One step, z = (θ, a) stacked as an array [2, M, S]:

1. y = x_n + t_{n−1}/t_n (z_n − x_n) + (t_{n−1} − 1)/t_n (x_n − x_{n−1})                          (extrapolation)
2. z_{n+1} = P_Z(y + α_y ∇F(y)), α_y a Barzilai–Borwein step |max(sᵀs/sᵀr, sᵀr/rᵀr)| halved until
   F(z) ≥ F(y) + δ‖z − y‖² (at most ``max_halvings``; Mai et al. code [L])
3. F(z_{n+1}) ≥ c_n + δ‖z_{n+1} − y‖²  ⇒  x_{n+1} = z_{n+1}                                       (c/q acceptance)
4. otherwise the correction step v = P_Z(x_n + α_x ∇F(x_n)) (BB + backtracking from x_n) and
   x_{n+1} = argmax{F(z_{n+1}), F(v)}; if backtracking fails, v = x_n
5. t_{n+1} = (√(4t_n² + 1) + 1)/2;  q_{n+1} = η q_n + 1;  c_{n+1} = (η q_n c_n + F(x_{n+1}))/q_{n+1}

Guarantee (checked by the tests on the recorded series): F(x_{n+1}) ≥ c_n and c_n is non-decreasing (Li & Lin's
nonmonotone reference); F(x_n) itself may decrease. Stop when |F(x_n) − F(x_{n−W})| ≤ ε |F(x_{n−W})| (W = 10,
ε = 10⁻³, Mai code) or at ``max_iter`` (1000) or the time limit, all on the shared loop
(:func:`solvers_adapters.algorithms.loop.iterate`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from formulations.multicast import apg as FA
from solvers_adapters.algorithms.loop import AnyOf, Clock, MaxIter, TimeLimit, iterate

__all__ = ["APGSettings", "APGState", "WindowRelChange", "run_algorithm1"]


@dataclass(frozen=True)
class APGSettings:
    """Algorithm 1 constants (§6.6, §9.2 [L]/[G])."""

    eta: float = 0.8            # nonmonotone weight η ∈ [0, 1)
    delta: float = 1e-5         # sufficient increase δ
    max_iter: int = 1000        # n_max
    tol: float = 1e-3           # ε of the windowed stop
    window: int = 10            # W
    max_halvings: int = 20
    alpha0: float = 1e-2        # first step (Farooq code's fixed step) before a BB pair exists


class WindowRelChange:
    """Stop when |F_n − F_{n−W}| ≤ tol |F_{n−W}| (§6.6 step 7)."""

    converges = True

    def __init__(self, tol: float, window: int) -> None:
        self.tol, self.window = float(tol), int(window)

    def __call__(self, state) -> str | None:
        tr = state.trace
        if len(tr) <= self.window:
            return None
        old, new = tr[-1 - self.window], tr[-1]
        ch = abs(new - old) / max(abs(old), 1e-12)
        return f"relative change {ch:.3g} over {self.window} iterations <= tol {self.tol:g}" if ch <= self.tol else None


@dataclass
class APGState:
    x: np.ndarray
    x_prev: np.ndarray
    z: np.ndarray
    Fx: float
    gx: np.ndarray
    t: float = 1.0
    t_prev: float = 0.0
    q: float = 1.0
    c: float = 0.0
    alpha_y: float = 1e-2
    alpha_x: float = 1e-2
    y_prev: np.ndarray | None = None
    gy_prev: np.ndarray | None = None
    gx_prev: np.ndarray | None = None
    accepted: int = 0
    corrected: int = 0
    c_trace: list = field(default_factory=list)
    evals: int = 0


class _Problem:
    """F, ∇F and P_Z on stacked z [2, M, S]; ``mask`` (fixed association) freezes a and zeroes θ off it."""

    def __init__(self, sys_, pen, mask=None) -> None:
        self.sys, self.pen, self.P = sys_, pen, np.asarray(sys_.P, dtype=float)
        self.mask = None if mask is None else np.asarray(mask, dtype=float)
        self.evals = 0

    def vg(self, z: np.ndarray) -> tuple[float, np.ndarray]:
        self.evals += 1
        F, gt, ga = FA.value_and_grad(self.sys, z[0], z[1], self.pen)
        if self.mask is not None:
            ga = np.zeros_like(ga)
        return float(F), np.stack([gt, ga])

    def proj(self, z: np.ndarray) -> np.ndarray:
        if self.mask is not None:
            return np.stack([FA.project_power_only(z[0], self.mask > 0.5, self.P), self.mask])
        th, a = FA.project(z[0], z[1], self.P)
        return np.stack([th, a])


def _bb(s: np.ndarray | None, r: np.ndarray | None, fallback: float) -> float:
    """|max(sᵀs/sᵀr, sᵀr/rᵀr)| (spec §6.6), clamped; ``fallback`` without a usable pair."""
    if s is None or r is None:
        return fallback
    ss, sr, rr = float(np.vdot(s, s)), float(np.vdot(s, r)), float(np.vdot(r, r))
    if sr == 0.0 or rr == 0.0 or not math.isfinite(ss / sr):
        return fallback
    a = abs(max(ss / sr, sr / rr))
    return float(min(max(a, 1e-10), 1e6)) if math.isfinite(a) and a > 0 else fallback


def _ascent(pb: _Problem, u, Fu, gu, alpha, st: APGSettings):
    """P_Z(u + α∇F(u)) with α halved until F(z) ≥ F(u) + δ‖z − u‖²; (z, F(z), ∇F(z), α, success)."""
    for _ in range(st.max_halvings + 1):
        z = pb.proj(u + alpha * gu)
        Fz, gz = pb.vg(z)
        if Fz >= Fu + st.delta * float(np.vdot(z - u, z - u)):
            return z, Fz, gz, alpha, True
        alpha *= 0.5
    return z, Fz, gz, alpha, False


def _step(pb: _Problem, s: APGState, st: APGSettings) -> APGState:
    """One iteration of Algorithm 1 (module docstring)."""
    y = s.x + (s.t_prev / s.t) * (s.z - s.x) + ((s.t_prev - 1.0) / s.t) * (s.x - s.x_prev)
    y = pb.proj(y)
    Fy, gy = pb.vg(y)
    ay = _bb(None if s.y_prev is None else y - s.y_prev, None if s.gy_prev is None else gy - s.gy_prev, s.alpha_y)
    z, Fz, gz, ay, _ = _ascent(pb, y, Fy, gy, ay, st)
    x_new, F_new, g_new = z, Fz, gz
    if Fz >= s.c + st.delta * float(np.vdot(z - y, z - y)):
        s.accepted += 1
    else:
        s.corrected += 1
        ax = _bb(s.x - s.x_prev if s.gx_prev is not None else None,
                 s.gx - s.gx_prev if s.gx_prev is not None else None, s.alpha_x)
        v, Fv, gv, ax, ok = _ascent(pb, s.x, s.Fx, s.gx, ax, st)
        if not ok:
            v, Fv, gv = s.x, s.Fx, s.gx
        if Fv > Fz:
            x_new, F_new, g_new = v, Fv, gv
        s.alpha_x = ax
    s.c_trace.append(s.c)
    t_next = (math.sqrt(4.0 * s.t * s.t + 1.0) + 1.0) / 2.0
    q_next = st.eta * s.q + 1.0
    c_next = (st.eta * s.q * s.c + F_new) / q_next
    return APGState(x=x_new, x_prev=s.x, z=z, Fx=F_new, gx=g_new, t=t_next, t_prev=s.t, q=q_next, c=c_next,
                    alpha_y=ay, alpha_x=s.alpha_x, y_prev=y, gy_prev=gy, gx_prev=s.gx, accepted=s.accepted,
                    corrected=s.corrected, c_trace=s.c_trace, evals=pb.evals)


def run_algorithm1(sys_, theta0, a0, pen, *, settings: APGSettings = APGSettings(), mask=None,
                   clock: Clock | None = None, time_limit: float | None = None):
    """Algorithm 1 from (θ0, a0) (projected first) with penalties ``pen``; returns the loop result (its state an
    :class:`APGState`; ``trace`` = F(x_n), ``state.c_trace`` = c_n before each step)."""
    pb = _Problem(sys_, pen, mask)
    z0 = pb.proj(np.stack([np.asarray(theta0, dtype=float), np.asarray(a0, dtype=float)]))

    def start() -> APGState:
        F0, g0 = pb.vg(z0)
        return APGState(x=z0, x_prev=z0, z=z0, Fx=F0, gx=g0, c=F0, alpha_y=settings.alpha0,
                        alpha_x=settings.alpha0)

    until = AnyOf(WindowRelChange(settings.tol, settings.window), MaxIter(settings.max_iter),
                  TimeLimit(time_limit, clock))
    return iterate(start, lambda s: _step(pb, s, settings), value=lambda s: s.Fx, until=until, clock=clock)
