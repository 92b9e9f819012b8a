"""Problem ``unicast-multicast-sse`` (paper 001): the prepared system of one instance in the unified stream form of
spec ``unicast_multicast.md`` §4.5, and the physics every method and evaluator shares.

Streams s = 0..S−1, S = K_u + G: the unicast users (instance order), then multicast groups 0..G−1. Receivers
i = 0..R−1 are the instance's users (R = K); receiver i decodes stream ``stream_of[i]``. With per-AP amplitudes
x [M, S] ≥ 0 (association folded in; MR x_ms = √(a_ms η_ms γ_ms), ZF x_ms = √(a_ms η_ms)):

    SINR_i(x) = κ D_i² / I_i,   D_i = Σ_m c_mi x_{m,s(i)},   I_i = Σ_m b_mi ‖x_m‖² + ν        (§4.5 boxed)

    MR: κ = N²,    c_mi = √γ_mi,  b_mi = N β_mi,        ν = 1/ρ_d,  ‖x_m‖² ≤ P_m = 1/N   (§4.1, §4.2, (31b))
    ZF: κ = N − S, c_mi = √γ_mi,  b_mi = β_mi − γ_mi,   ν = 1/ρ_d,  ‖x_m‖² ≤ P_m = 1      (§4.3, §4.4, (31b))
    (the spec's table; stored scaled by ρ_d, see below)

γ_mi, β_mi are the receiver's (γ_mgl, not ζ_mg, for a multicast user). ρ_d,m = p_ap_max_w / noise_w. The stored
coefficients are the table's multiplied through by ρ_d (numerator and denominator alike, so every SINR is
unchanged): c_mi = √(ρ_d,m γ_mi), b_mi = ρ_d,m × (N β_mi | β_mi − γ_mi), ν = 1. This keeps D_i and I_i of order
one whatever the units of β (β ~ 1e-12 in generated instances), which the SOC-form QoS penalty and the SCA bounds
need; it also covers APs with different budgets exactly (identical to the table for
equal budgets). ZF is the local full-pilot ZF of §3.2 (ambiguity A3's chosen reading): every AP nulls all S
streams, so N > S is required (InputError("antennas")); ZF over the served set only is not implemented.

[G] choices (each a :func:`prepare` option; the docstring of each says which reading it implements):

* ``prelog``: ``"dl"`` (default) ω = 1 − τ_t/τ_c, spec §4 (all non-pilot samples carry downlink data);
  ``"split"`` ω = (1 − τ_t/τ_c)/2 (UL and DL data share the block, as models/common/sinr.prelog_cell_free);
  or a number in (0, 1].
* ``multicast_objective``: ``"per-user"`` (default, ambiguity A1) Σ_i w_i SE_i with every multicast member counted;
  ``"group-min"``: each group contributes (Σ_l w_gl) min_l SE_gl.
* ``fronthaul_model``: ``"rate"`` (default, (31d) / A2) FH_m = Σ_s a_ms R_s with R_s = SE_k for a unicast stream
  and R_s = min_l SE_gl (the group rate) for a multicast stream; ``"count"``: FH_m = Σ_s a_ms (streams served).
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Mapping

import numpy as np

from instances.errors import InputError
from instances.generators.multicast import MulticastBlock, check_zf_antennas
from models.multicast.estimation import mmse_estimates

PRECODINGS = ("mr", "zf")
PRELOGS = ("dl", "split")
MULTICAST_OBJECTIVES = ("per-user", "group-min")
FRONTHAUL_MODELS = ("rate", "count")
LN2 = math.log(2.0)


class MulticastSystem:
    """The unified-form data of one instance under one precoder (attributes documented in the module docstring):
    M, N, K_u, G, S, R; group [R], stream_of [R], is_unicast [R], E_stream [R, S] (one-hot of stream_of);
    beta [M, R], gamma_rx [M, R], zeta [M, G], gamma_stream [M, S]; rho_d [M], rho_t [R], tau_t, tau_c;
    kappa, c [M, R], b [M, R], nu, P [M]; weights [R], se_min [R] (0 = no QoS), fh_cap (C̄_fh or None),
    n_max (N_max or None); prelog ω; precoding, prelog_mode, multicast_objective, fronthaul_model."""

    def __init__(self, instance, precoding: str = "mr", prelog: Any = "dl", multicast_objective: str = "per-user",
                 fronthaul_model: str = "rate"):
        blk = instance.block("multicast")
        if not isinstance(blk, MulticastBlock):
            raise InputError("blocks.multicast", "the instance has no multicast block (generator 'multicast')")
        if precoding not in PRECODINGS:
            raise InputError("precoding", f"unknown precoding {precoding!r}; known: {', '.join(PRECODINGS)}")
        if multicast_objective not in MULTICAST_OBJECTIVES:
            raise InputError("multicast_objective", f"unknown {multicast_objective!r}; known: "
                                                    f"{', '.join(MULTICAST_OBJECTIVES)}")
        if fronthaul_model not in FRONTHAUL_MODELS:
            raise InputError("fronthaul_model", f"unknown {fronthaul_model!r}; known: {', '.join(FRONTHAUL_MODELS)}")
        self.instance, self.precoding = instance, precoding
        self.multicast_objective, self.fronthaul_model = multicast_objective, fronthaul_model
        self._sizes(instance, blk)
        self._statistics(instance)
        self._unified()
        self._qos(instance, blk)
        self.prelog_mode, self.prelog = _prelog(prelog, self.tau_t, self.tau_c)

    def _sizes(self, instance, blk: MulticastBlock) -> None:
        ant = np.asarray(instance.antennas)
        if np.any(ant != ant[0]):
            raise InputError("antennas", "the closed forms of §4 need the same number of antennas at every AP")
        self.group = np.asarray(blk.group)
        self.M, self.R, self.N = instance.M, instance.K, int(ant[0])
        self.unicast_idx = np.flatnonzero(self.group < 0)
        self.is_unicast = self.group < 0
        self.K_u, self.G = int(self.unicast_idx.size), blk.G
        self.S = self.K_u + self.G
        stream = np.empty(self.R, dtype=np.int64)
        stream[self.unicast_idx] = np.arange(self.K_u)
        stream[~self.is_unicast] = self.K_u + self.group[~self.is_unicast]
        stream.setflags(write=False)
        self.stream_of = stream
        self.E_stream = (stream[:, None] == np.arange(self.S)[None, :]).astype(float)
        if self.precoding == "zf":
            check_zf_antennas(self.N, self.S)

    def _statistics(self, instance) -> None:
        noise = float(instance.noise_w)
        self.beta = np.asarray(instance.beta, dtype=float)
        self.rho_t = np.asarray(instance.p_pilot_w, dtype=float) / noise
        self.rho_d = np.asarray(instance.p_ap_max_w, dtype=float) / noise
        self.tau_t, self.tau_c = int(instance.tau_p), int(instance.tau_c)
        est = mmse_estimates(self.beta, self.rho_t, self.tau_t, self.group)
        self.gamma_rx, self.zeta, self.gamma_stream = est.gamma_rx, est.zeta, est.gamma_stream

    def _unified(self) -> None:
        """κ, c, b, ν, P of the §4.5 table multiplied through by ρ_d (module docstring): ν = 1."""
        scale = self.rho_d[:, None]
        self.nu = 1.0
        self.c = np.sqrt(self.gamma_rx * scale)
        if self.precoding == "mr":
            self.kappa = float(self.N ** 2)
            self.b = scale * self.N * self.beta
            self.P = np.full(self.M, 1.0 / self.N)
        else:
            self.kappa = float(self.N - self.S)
            self.b = scale * np.clip(self.beta - self.gamma_rx, 0.0, None)
            self.P = np.ones(self.M)

    def _qos(self, instance, blk: MulticastBlock) -> None:
        q = instance.qos
        self.weights = np.asarray(blk.weights, dtype=float)
        su = float(q.get("se_min_unicast_bps_hz", 0.0))
        sm = float(q.get("se_min_multicast_bps_hz", 0.0))
        self.se_min = np.where(self.is_unicast, su, sm)
        self.fh_cap = float(q["fronthaul_bps_hz"]) if "fronthaul_bps_hz" in q else None
        self.n_max = int(q["max_streams_per_ap"]) if "max_streams_per_ap" in q else None

    # ----------------------------------------------------------------------------------------------- conversions
    def check_x(self, x, name: str = "x") -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if x.shape != (self.M, self.S):
            raise InputError(name, f"expected [M, S] = {(self.M, self.S)}, got shape {x.shape}")
        if not np.all(np.isfinite(x)):
            raise InputError(name, "entries must be finite")
        return x

    def x_from_eta(self, assoc, eta) -> np.ndarray:
        """§4.5: MR x = √(a η γ_ms), ZF x = √(a η) (negative η clipped to 0)."""
        a, eta = self.check_x(assoc, "assoc"), self.check_x(eta, "eta")
        p = np.clip(a * eta, 0.0, None)
        return np.sqrt(p * self.gamma_stream) if self.precoding == "mr" else np.sqrt(p)

    def eta_from_x(self, x) -> np.ndarray:
        """§4.5 inverse: MR η = x²/γ_ms (0 where γ_ms = 0), ZF η = x²."""
        x2 = self.check_x(x) ** 2
        if self.precoding == "zf":
            return x2
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.gamma_stream > 0, x2 / self.gamma_stream, 0.0)

    def equal_power_eta(self, assoc) -> np.ndarray:
        """Spec §8 (i) on the served set: every AP at full power split evenly, MR η = 1/(N Σ_s a γ_ms),
        ZF η = 1/Σ_s a_ms (zero for unserved streams and for APs serving nothing)."""
        a = (self.check_x(assoc, "assoc") > 0.5).astype(float)
        per = (a * self.gamma_stream).sum(1) * self.N if self.precoding == "mr" else a.sum(1)
        with np.errstate(divide="ignore"):
            inv = np.where(per > 0, 1.0 / per, 0.0)
        return a * inv[:, None]


# --------------------------------------------------------------------------------------------------- physics
def _prelog(value: Any, tau_t: int, tau_c: int) -> tuple[str, float]:
    if value == "dl":
        return "dl", 1.0 - tau_t / tau_c
    if value == "split":
        return "split", (1.0 - tau_t / tau_c) / 2.0
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 1:
        return "value", float(value)
    raise InputError("prelog", f"expected 'dl', 'split' or a number in (0, 1], got {value!r}")


def desired(sys: MulticastSystem, x) -> np.ndarray:
    """D_i = Σ_m c_mi x_{m,s(i)}  [R]."""
    return np.einsum("mr,mr->r", sys.c, np.asarray(x)[:, sys.stream_of])


def interference(sys: MulticastSystem, x) -> np.ndarray:
    """I_i = Σ_m b_mi ‖x_m‖² + ν  [R]."""
    return sys.b.T @ np.square(np.asarray(x)).sum(axis=1) + sys.nu


def sinr(sys: MulticastSystem, x) -> np.ndarray:
    """Unified §4.5 SINR_i = κ D_i² / I_i for amplitudes ``x`` [M, S]; returns [R] (instance user order)."""
    D = desired(sys, x)
    return sys.kappa * D * D / interference(sys, x)


def se_of_sinr(sys: MulticastSystem, sinr_values) -> np.ndarray:
    """SE = ω log2(1 + SINR) bit/s/Hz (spec §4; ω from the ``prelog`` option)."""
    return sys.prelog * np.log2(1.0 + np.asarray(sinr_values, dtype=float))


def se(sys: MulticastSystem, x) -> np.ndarray:
    """Per-receiver SE [R] in bit/s/Hz at amplitudes ``x`` [M, S]."""
    return se_of_sinr(sys, sinr(sys, x))


def stream_rates(sys: MulticastSystem, se_values) -> tuple[np.ndarray, np.ndarray]:
    """(R_s [S], arg [S]): R_s = SE of the unicast user of stream s, or min over the group's members (spec §5: the
    group rate every member decodes); arg = the receiver attaining it (first on ties)."""
    se_values = np.asarray(se_values, dtype=float)
    order = np.lexsort((np.arange(sys.R), se_values, sys.stream_of))   # by stream, then SE, then index
    first = np.ones(sys.R, dtype=bool)
    first[1:] = sys.stream_of[order][1:] != sys.stream_of[order][:-1]
    arg = order[first]
    return se_values[arg], arg


def fronthaul_load(sys: MulticastSystem, a, x) -> np.ndarray:
    """(31d) per-AP fronthaul load [M] in bit/s/Hz: ``rate`` model Σ_s a_ms R_s(x) (group rate = min over members),
    ``count`` model Σ_s a_ms."""
    a = np.asarray(a, dtype=float)
    if sys.fronthaul_model == "count":
        return a.sum(axis=1)
    return a @ stream_rates(sys, se(sys, x))[0]


def power_load(sys: MulticastSystem, x) -> np.ndarray:
    """(31b) per-AP power as a fraction of the budget [M]: ‖x_m‖²/P_m (MR: N Σ_s a η γ; ZF: Σ_s a η)."""
    return np.square(np.asarray(x)).sum(axis=1) / sys.P


def sse(sys: MulticastSystem, se_values) -> float:
    """(31a) weighted SSE under the ``multicast_objective`` option (module docstring)."""
    se_values = np.asarray(se_values, dtype=float)
    if sys.multicast_objective == "per-user":
        return float(np.dot(sys.weights, se_values))
    rates, _ = stream_rates(sys, se_values)
    w_stream = sys.weights @ sys.E_stream
    return float(np.dot(w_stream, rates))


@lru_cache(maxsize=32)
def _prepare(instance, precoding: str, prelog: Any, multicast_objective: str, fronthaul_model: str):
    return MulticastSystem(instance, precoding, prelog, multicast_objective, fronthaul_model)


def resolve_precoding(instance, precoding: str | None = None) -> str:
    """``precoding``, or (None) the instance's own — the generator's ``precoding`` parameter — else "mr". The one
    place the default is decided: the evaluator and every method use it."""
    if precoding is not None:
        return str(precoding)
    params = (getattr(instance, "meta", None) or {}).get("params", {}) or {}
    return params.get("precoding") or "mr"


def prepare(instance, *, precoding: str | None = None, prelog: Any = "dl", multicast_objective: str = "per-user",
            fronthaul_model: str = "rate") -> MulticastSystem:
    """The (cached) :class:`MulticastSystem` of ``instance``; options as in the module docstring (``precoding``
    None: :func:`resolve_precoding`). ZF with N ≤ K_u + G raises InputError("antennas")."""
    return _prepare(instance, resolve_precoding(instance, precoding), prelog, multicast_objective, fronthaul_model)


def evaluate(instance, solution: Mapping[str, Any], **context) -> Any:
    """Problem (31): see :func:`models.multicast.evaluation.evaluate_sse`."""
    from models.multicast.evaluation import evaluate_sse

    return evaluate_sse(instance, solution, **context)


__all__ = ["FRONTHAUL_MODELS", "MULTICAST_OBJECTIVES", "MulticastSystem", "PRECODINGS", "PRELOGS", "desired",
           "evaluate", "fronthaul_load", "interference", "power_load", "prepare", "resolve_precoding", "se", "se_of_sinr", "sinr", "sse",
           "stream_rates"]
