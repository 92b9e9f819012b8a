"""The penalised APG objective F(θ, a) of spec ``unicast_multicast.md`` §6.3 and its gradient §6.4 (paper 001,
problem ``unicast-multicast-sse``); to be **maximised** over the box × ball set Z of §6.1 (the projection lives in
formulations/multicast/apg.py). x = a ⊙ θ is the amplitude seen by the SINR (§6.1 split, ambiguity A4).

    F(θ, a) = W(SE(x)) − λ_b Σ (a − a²) − λ_q Q(x) − λ_f Σ_m [FH_m − C̄_fh]_+² − λ_c Σ_s [1 − Σ_m a_ms]_+²
              − λ_n Σ_m [Σ_s a_ms − N_max]_+²

* W: the weighted SSE (31a) under the system's ``multicast_objective`` option ("per-user" Σ_i w_i SE_i, or
  "group-min" Σ_g (Σ_l w_gl) min_l SE_gl with the argmin as a subgradient).
* Q (``Penalties.qos_form``, a [G] choice): ``"se"`` (default, §6.3) Σ_i [S_i^min − SE_i]_+²; ``"soc"`` (§6.3's
  [L] alternative, Mai et al.) Σ_i [α_i √I_i − D_i]_+² with α_i = √((2^{S_i^min/ω} − 1)/κ), convex in x.
  Receivers without a QoS target (S^min = 0) contribute nothing in either form.
* FH_m = Σ_s a_ms R_s (``rate`` model; R_s = min over members for a group, argmin subgradient) or Σ_s a_ms
  (``count``); the fronthaul term is dropped when the instance has no ``fronthaul_bps_hz``, the N_max term when it
  has no ``max_streams_per_ap``.

Gradient (§6.4), with u_i = 1/(I_i + κD_i²), v_i = 1/I_i and effective weights w̃ (penalties folded in):

    ∂/∂x_ms Σ_i w̃_i SE_i = (2ω/ln 2) [ x_ms Σ_i w̃_i b_mi (u_i − v_i) + κ Σ_{i: s(i)=s} w̃_i c_mi D_i u_i ]
    ∇_θ F = a ⊙ G,   ∇_a F = θ ⊙ G − λ_b(1 − 2a) − 2λ_f [FH_m − C̄]_+ R_s + 2λ_c [1 − Σ_m' a_m's]_+
                                 − 2λ_n [Σ_s' a_ms' − N_max]_+

Everything is matrix products over M × R (no Python loops): O(M R) per evaluation.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from instances.errors import InputError
from models.multicast import system as S

QOS_FORMS = ("se", "soc")


@dataclass(frozen=True)
class Penalties:
    """Penalty weights of §6.3 (defaults: the starting values of the §6.6 continuation) and the QoS form."""

    lambda_b: float = 0.1
    lambda_q: float = 1.0
    lambda_f: float = 1.0
    lambda_c: float = 1.0
    lambda_n: float = 1.0
    qos_form: str = "se"

    def __post_init__(self) -> None:
        if self.qos_form not in QOS_FORMS:
            raise InputError("qos_form", f"unknown {self.qos_form!r}; known: {', '.join(QOS_FORMS)}")

    def scaled(self, factor: float) -> "Penalties":
        """Every λ multiplied by ``factor`` (the ×10 continuation of §6.6)."""
        return replace(self, lambda_b=self.lambda_b * factor, lambda_q=self.lambda_q * factor,
                       lambda_f=self.lambda_f * factor, lambda_c=self.lambda_c * factor,
                       lambda_n=self.lambda_n * factor)


class _State(NamedTuple):
    x: np.ndarray
    D: np.ndarray
    I: np.ndarray
    se: np.ndarray
    rates: np.ndarray
    arg: np.ndarray


def _state(sys_: S.MulticastSystem, x: np.ndarray) -> _State:
    D, I = S.desired(sys_, x), S.interference(sys_, x)
    se = S.se_of_sinr(sys_, sys_.kappa * D * D / I)
    rates, arg = S.stream_rates(sys_, se)
    return _State(x, D, I, se, rates, arg)


def _soc_alpha(sys_: S.MulticastSystem) -> np.ndarray:
    return np.sqrt((np.exp2(sys_.se_min / sys_.prelog) - 1.0) / sys_.kappa) if sys_.kappa > 0 \
        else np.zeros(sys_.R)


def _base_weights(sys_: S.MulticastSystem, st: _State) -> np.ndarray:
    """∂W/∂SE_i: w_i (per-user) or, for group-min, Σ_l w_gl on the argmin member of each group."""
    if sys_.multicast_objective == "per-user":
        return sys_.weights.copy()
    w = np.zeros(sys_.R)
    w[st.arg] = sys_.weights @ sys_.E_stream
    return w


def _fronthaul(sys_: S.MulticastSystem, a: np.ndarray, st: _State) -> tuple[np.ndarray, np.ndarray]:
    """(FH [M], excess [FH − C̄]_+ [M]); zeros when the instance has no fronthaul cap."""
    fh = a.sum(axis=1) if sys_.fronthaul_model == "count" else a @ st.rates
    if sys_.fh_cap is None:
        return fh, np.zeros(sys_.M)
    return fh, np.clip(fh - sys_.fh_cap, 0.0, None)


def terms(sys_: S.MulticastSystem, theta, a, pen: Penalties = Penalties()) -> dict[str, float]:
    """The pieces of F: ``sse`` (W), and the (unweighted) penalty sums ``binary``, ``qos``, ``fronthaul``,
    ``coverage``, ``max_streams``, plus ``value`` = F."""
    theta, a = sys_.check_x(theta, "theta"), sys_.check_x(a, "a")
    st = _state(sys_, a * theta)
    return _terms(sys_, a, st, pen)


def _terms(sys_: S.MulticastSystem, a: np.ndarray, st: _State, pen: Penalties) -> dict[str, float]:
    if pen.qos_form == "se":
        qos = float(np.sum(np.clip(sys_.se_min - st.se, 0.0, None) ** 2 * (sys_.se_min > 0)))
    else:
        qos = float(np.sum(np.clip(_soc_alpha(sys_) * np.sqrt(st.I) - st.D, 0.0, None) ** 2 * (sys_.se_min > 0)))
    _, excess = _fronthaul(sys_, a, st)
    cover = np.clip(1.0 - a.sum(axis=0), 0.0, None)
    over = np.clip(a.sum(axis=1) - sys_.n_max, 0.0, None) if sys_.n_max is not None else np.zeros(sys_.M)
    out = {"sse": S.sse(sys_, st.se), "binary": float(np.sum(a - a * a)), "qos": qos,
           "fronthaul": float(np.sum(excess ** 2)), "coverage": float(np.sum(cover ** 2)),
           "max_streams": float(np.sum(over ** 2))}
    out["value"] = (out["sse"] - pen.lambda_b * out["binary"] - pen.lambda_q * qos
                    - pen.lambda_f * out["fronthaul"] - pen.lambda_c * out["coverage"]
                    - pen.lambda_n * out["max_streams"])
    return out


def value(sys_: S.MulticastSystem, theta, a, pen: Penalties = Penalties()) -> float:
    """F(θ, a) of §6.3."""
    return terms(sys_, theta, a, pen)["value"]


def _grad_x(sys_: S.MulticastSystem, st: _State, wt: np.ndarray) -> np.ndarray:
    """§6.4: ∂/∂x Σ_i w̃_i SE_i  [M, S]."""
    u = 1.0 / (st.I + sys_.kappa * st.D ** 2)
    v = 1.0 / st.I
    k = 2.0 * sys_.prelog / S.LN2
    own = (sys_.c * (wt * st.D * u)[None, :]) @ sys_.E_stream           # Σ_{i: s(i)=s} w̃ c D u   [M, S]
    return k * (st.x * (sys_.b @ (wt * (u - v)))[:, None] + sys_.kappa * own)


def _grad_soc(sys_: S.MulticastSystem, st: _State, lam: float) -> np.ndarray:
    """∂/∂x of −λ_q Σ_i [α_i √I_i − D_i]_+²  [M, S]."""
    h = np.clip(_soc_alpha(sys_) * np.sqrt(st.I) - st.D, 0.0, None) * (sys_.se_min > 0)
    alpha = _soc_alpha(sys_)
    g_int = sys_.b @ (h * alpha / np.sqrt(st.I))                      # Σ_i b_mi h_i α_i/√I_i   [M]
    g_own = (sys_.c * h[None, :]) @ sys_.E_stream                     # Σ_{i: s(i)=s} c_mi h_i   [M, S]
    return -2.0 * lam * (st.x * g_int[:, None] - g_own)


def value_and_grad(sys_: S.MulticastSystem, theta, a, pen: Penalties = Penalties()
                   ) -> tuple[float, np.ndarray, np.ndarray]:
    """(F(θ, a), ∇_θ F [M, S], ∇_a F [M, S]) of §6.3–6.4 (maximisation; x = a ⊙ θ)."""
    theta, a = sys_.check_x(theta, "theta"), sys_.check_x(a, "a")
    st = _state(sys_, a * theta)
    F = _terms(sys_, a, st, pen)["value"]
    wt = _base_weights(sys_, st)
    if pen.qos_form == "se":
        wt += 2.0 * pen.lambda_q * np.clip(sys_.se_min - st.se, 0.0, None) * (sys_.se_min > 0)
    _, excess = _fronthaul(sys_, a, st)
    if sys_.fh_cap is not None and sys_.fronthaul_model == "rate":
        per_stream = excess @ a                                       # Σ_m a_ms [FH_m − C̄]_+   [S]
        wt[st.arg] -= 2.0 * pen.lambda_f * per_stream
    G = _grad_x(sys_, st, wt)
    if pen.qos_form == "soc":
        G += _grad_soc(sys_, st, pen.lambda_q)
    g_theta = a * G
    R_s = np.ones(sys_.S) if sys_.fronthaul_model == "count" else st.rates
    g_a = theta * G - pen.lambda_b * (1.0 - 2.0 * a) - 2.0 * pen.lambda_f * excess[:, None] * R_s[None, :]
    g_a += 2.0 * pen.lambda_c * np.clip(1.0 - a.sum(axis=0), 0.0, None)[None, :]
    if sys_.n_max is not None:
        g_a -= 2.0 * pen.lambda_n * np.clip(a.sum(axis=1) - sys_.n_max, 0.0, None)[:, None]
    return F, g_theta, g_a


__all__ = ["Penalties", "QOS_FORMS", "terms", "value", "value_and_grad"]
