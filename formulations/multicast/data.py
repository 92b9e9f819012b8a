"""The unified-form data of spec ``unicast_multicast.md`` §4.5 in the scaled units every multicast formulation and
method uses (no physics here: every number is read from the :class:`models.multicast.system.MulticastSystem`).

Scaling. With x_ms = √P_m · x̃_ms (x̃ ∈ [0, 1]; P_m the per-AP amplitude budget, ‖x_m‖² ≤ P_m) the §4.5 SINR
κ D_i² / (Σ_m b_mi S_m(x) + ν) becomes

    SINR_i = D̃_i² / Ĩ_i,    D̃_i = Σ_m g_mi x̃_{m,s(i)},    Ĩ_i = 1 + Σ_m h_mi Σ_s x̃_ms²,
    g_mi = c_mi √(κ P_m / ν),   h_mi = b_mi P_m / ν                                             (§4.5, divided by ν)

so that every coefficient is relative to the noise and the power rows read Σ_s x̃_ms² ≤ 1 (31b).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Scaled", "scaled", "amplitude", "scaled_amplitude"]


def _get(sys_, *names, default=None):
    for n in names:
        if hasattr(sys_, n):
            return getattr(sys_, n)
    return default


def _finite_or_none(v) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class Scaled:
    """Scaled unified-form data (module docstring). Shapes: g, h [M, R]; E [R, S] (E_is = 1 iff s(i) = s)."""

    M: int
    S: int
    R: int
    K_u: int
    stream_of: np.ndarray       # [R] stream decoded by receiver i
    g: np.ndarray               # [M, R]
    h: np.ndarray               # [M, R]
    E: np.ndarray               # [R, S]
    sqrtP: np.ndarray           # [M] √P_m (x = √P x̃)
    w: np.ndarray               # [R] weights of (31a)
    se_min: np.ndarray          # [R] QoS of (31c), bit/s/Hz (0 = none)
    fh_cap: float | None        # C̄_fh of (31d), bit/s/Hz per AP (None = no limit)
    n_max: int | None           # N_max of (31f) (None = no limit)
    omega: float                # pre-log 1 − τ_t/τ_c
    z_hi: np.ndarray            # [R] SINR_i ≤ (Σ_m g_mi)² (x̃ ≤ 1, Ĩ ≥ 1)

    @property
    def multicast(self) -> list[tuple[int, np.ndarray]]:
        """(stream s, its receivers) for every multicast stream s ≥ K_u."""
        return [(s, np.flatnonzero(self.stream_of == s)) for s in range(self.K_u, self.S)]


def scaled(sys_) -> Scaled:
    """:class:`Scaled` of a MulticastSystem (attributes kappa, c, b, nu, P, stream_of, weights, se_min, fh_cap,
    n_max, prelog of API.md / spec §4.5)."""
    c = np.asarray(sys_.c, dtype=float)
    b = np.asarray(sys_.b, dtype=float)
    M, R = c.shape
    P = np.broadcast_to(np.asarray(sys_.P, dtype=float), (M,)).copy()
    kappa, nu = float(sys_.kappa), float(sys_.nu)
    so = np.asarray(sys_.stream_of, dtype=int)
    S = int(_get(sys_, "S", default=int(so.max()) + 1))
    K_u = int(_get(sys_, "K_u", "Ku", default=int(np.sum(np.bincount(so, minlength=S)[:S] == 1))))
    g = c * np.sqrt(kappa * P / nu)[:, None]
    h = b * (P / nu)[:, None]
    E = np.zeros((R, S))
    E[np.arange(R), so] = 1.0
    w = np.broadcast_to(np.asarray(_get(sys_, "weights", "w", default=1.0), dtype=float), (R,)).copy()
    se_min = np.broadcast_to(np.nan_to_num(np.asarray(_get(sys_, "se_min", default=0.0), dtype=float)), (R,)).copy()
    n_max = _get(sys_, "n_max", default=None)
    n_max = None if n_max is None or not math.isfinite(float(n_max)) or int(n_max) >= S else int(n_max)
    omega = float(_get(sys_, "prelog", "omega"))
    return Scaled(M=M, S=S, R=R, K_u=K_u, stream_of=so, g=g, h=h, E=E, sqrtP=np.sqrt(P), w=w, se_min=se_min,
                  fh_cap=_finite_or_none(_get(sys_, "fh_cap", default=None)), n_max=n_max, omega=omega,
                  z_hi=_sinr_hi(g, h))


def _sinr_hi(g: np.ndarray, h: np.ndarray) -> np.ndarray:
    """A bound SINR_i ≤ min((Σ_m g_mi)², Σ_m g_mi²/h_mi) valid for every x̃ ∈ [0, 1] with Σ_s x̃_ms² ≤ 1: the first
    because Ĩ_i ≥ 1, the second by Cauchy–Schwarz, (Σ g x̃)² ≤ (Σ g²/h)(Σ h x̃²) < (Σ g²/h) Ĩ_i (the own stream is
    inside Ĩ_i). For MR the second is N Σ_m γ_mi/β_mi ≤ N M, independent of the SNR."""
    sq = g.sum(axis=0) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        cs = np.where(h > 0, g ** 2 / np.where(h > 0, h, 1.0), np.where(g > 0, np.inf, 0.0)).sum(axis=0)
    return np.minimum(sq, cs)


def amplitude(d: Scaled, xt) -> np.ndarray:
    """Physical amplitudes x [M, S] of the §4.5 SINR from the scaled x̃."""
    return np.asarray(xt, dtype=float) * d.sqrtP[:, None]


def scaled_amplitude(d: Scaled, x) -> np.ndarray:
    """x̃ = x / √P_m."""
    return np.asarray(x, dtype=float) / d.sqrtP[:, None]
