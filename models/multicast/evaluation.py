"""The evaluator of problem (31) (paper 001, spec ``unicast_multicast.md`` §5): the number behind every reported
``unicast-multicast-sse`` result.

Solution keys: ``assoc`` [M][S] (a_ms / b_mg; columns = the K_u unicast users in instance order, then the G groups;
0/1, a fractional value is scored as given and reported by the ``binary`` violation) and ``eta`` [M][S] (power
coefficients η_ms of §3; the radiated power is a_ms η_ms). Optional solution keys ``precoding`` (and the [G]
options below) are used when the context does not give them.

Context keys: ``precoding`` ("mr" default / "zf"), ``prelog`` ("dl" / "split" / number), ``multicast_objective``
("per-user" / "group-min"), ``fronthaul_model`` ("rate" / "count") — see :mod:`models.multicast.system`.

Violations (each the largest violation, 0 when it holds; bit/s/Hz for SE and fronthaul, fractions of the budget
for power, counts for association). The spec's labels first, then the seed's (the seed numbers the same
constraints (31b) QoS, (17) power, (31e) fronthaul, (31f) coverage, (31g) max per AP):

* ``ap_power``       (31b) spec / (17) seed: max_m ‖x_m‖²/P_m − 1
* ``qos_unicast``    (31c) / (31b): max_k S^u_min − SE_k       (only when ``qos.se_min_unicast_bps_hz`` is set)
* ``qos_multicast``  (31c) / (31b): max_gl S^mc_min − SE_gl    (only when ``qos.se_min_multicast_bps_hz`` is set)
* ``fronthaul``      (31d) / (31e): max_m FH_m − C̄_fh           (only when ``qos.fronthaul_bps_hz`` is set)
* ``coverage``       (31e) / (31f): max_s 1 − Σ_m a_ms
* ``max_streams``    (31f) / (31g): max_m Σ_s a_ms − N_max     (only when ``qos.max_streams_per_ap`` is set)
* ``binary``         (31g): max |a − round(a)|;  ``eta_nonneg``: max −η; ``assoc_bounds``: a outside [0, 1]
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from instances.errors import InputError
from models.common.evaluation import Evaluation
from models.multicast import system as S

CONTEXT_KEYS = ("precoding", "prelog", "multicast_objective", "fronthaul_model")
#: evaluation defaults (precoding None: the instance's own, :func:`models.multicast.system.resolve_precoding`)
_DEFAULTS = {"precoding": None, "prelog": "dl", "multicast_objective": "per-user", "fronthaul_model": "rate"}


def system_for(instance, solution: Mapping[str, Any] | None = None, **context) -> S.MulticastSystem:
    """The prepared system for ``context`` (falling back on the solution's keys, then the defaults)."""
    unknown = [k for k in context if k not in CONTEXT_KEYS]
    if unknown:
        raise InputError(unknown[0], f"not a context key of unicast-multicast-sse; known: {', '.join(CONTEXT_KEYS)}")
    sol = solution or {}
    opts = {k: context[k] if context.get(k) is not None else sol.get(k, _DEFAULTS[k]) for k in CONTEXT_KEYS}
    return S.prepare(instance, **opts)


def _matrix(sys_: S.MulticastSystem, solution: Mapping[str, Any], key: str) -> np.ndarray:
    if key not in solution:
        raise InputError("solution", f"missing {key!r} ([M][S] = [{sys_.M}][{sys_.S}])")
    try:
        arr = np.asarray(solution[key], dtype=float)
    except (TypeError, ValueError):
        raise InputError(key, "expected an [M][S] array of numbers") from None
    return sys_.check_x(arr, key)


def violations(sys_: S.MulticastSystem, a: np.ndarray, eta: np.ndarray, x: np.ndarray,
               se_values: np.ndarray, fh: np.ndarray) -> dict[str, float]:
    """The named violations of (31b)–(31g) (module docstring) at association ``a``, powers ``eta``."""
    q = sys_.instance.qos
    pos = lambda v: float(max(0.0, np.max(v))) if np.size(v) else 0.0  # noqa: E731
    out = {"ap_power": pos(S.power_load(sys_, x) - 1.0),
           "coverage": pos(1.0 - a.sum(axis=0)),
           "binary": float(np.max(np.abs(a - np.round(a)))),
           "assoc_bounds": pos(np.maximum(-a, a - 1.0)),
           "eta_nonneg": pos(-eta)}
    if "se_min_unicast_bps_hz" in q:
        out["qos_unicast"] = pos((sys_.se_min - se_values)[sys_.is_unicast])
    if "se_min_multicast_bps_hz" in q:
        out["qos_multicast"] = pos((sys_.se_min - se_values)[~sys_.is_unicast])
    if sys_.fh_cap is not None:
        out["fronthaul"] = pos(fh - sys_.fh_cap)
    if sys_.n_max is not None:
        out["max_streams"] = pos(a.sum(axis=1) - sys_.n_max)
    return out


def evaluate_sse(instance, solution: Mapping[str, Any], **context) -> Evaluation:
    """Problem (31): objective = weighted SSE (31a) in bit/s/Hz; per-user SE/SINR, per-AP power (W) and fronthaul
    load, and the violations of (31b)–(31g). ``extra`` holds x, the per-AP arrays and the stream rates."""
    sys_ = system_for(instance, solution, **context)
    a, eta = _matrix(sys_, solution, "assoc"), _matrix(sys_, solution, "eta")
    x = sys_.x_from_eta(a, eta)
    sinr = S.sinr(sys_, x)
    se_values = S.se_of_sinr(sys_, sinr)
    rates, _ = S.stream_rates(sys_, se_values)
    fh = a.sum(axis=1) if sys_.fronthaul_model == "count" else a @ rates
    load = S.power_load(sys_, x)
    p_ap = load * np.asarray(instance.p_ap_max_w, dtype=float)
    objective = S.sse(sys_, se_values)
    uni, mc = se_values[sys_.is_unicast], se_values[~sys_.is_unicast]
    per_user = {"se_bps_hz": se_values, "sinr": sinr, "weight": sys_.weights, "se_min_bps_hz": sys_.se_min,
                "stream": sys_.stream_of.astype(float), "is_unicast": sys_.is_unicast.astype(float)}
    objectives = {"sse_weighted_bps_hz": objective, "sse_bps_hz": float(se_values.sum()),
                  "se_unicast_sum_bps_hz": float(uni.sum()), "se_multicast_sum_bps_hz": float(mc.sum()),
                  "max_ap_power_load": float(load.max()), "max_fronthaul_bps_hz": float(fh.max()),
                  "links": float(np.sum(a > 0.5))}
    if uni.size:                                               # (absent, not NaN, without such users)
        objectives["min_se_unicast_bps_hz"] = float(uni.min())
    if mc.size:
        objectives["min_se_multicast_bps_hz"] = float(mc.min())
    power = {"dl_total_w": float(p_ap.sum()), "dl_max_ap_w": float(p_ap.max())}
    extra = {"precoding": sys_.precoding, "prelog": sys_.prelog, "prelog_mode": sys_.prelog_mode,
             "multicast_objective": sys_.multicast_objective, "fronthaul_model": sys_.fronthaul_model,
             "x": x, "ap_power_w": p_ap, "ap_power_load": load, "fronthaul_bps_hz": fh, "stream_rate_bps_hz": rates,
             "streams_per_ap": a.sum(axis=1)}
    return Evaluation(objective=objective, unit="bit/s/Hz", objectives=objectives, per_user=per_user, power=power,
                      violations=violations(sys_, a, eta, x, se_values, fh), extra=extra)


__all__ = ["CONTEXT_KEYS", "evaluate_sse", "system_for", "violations"]
