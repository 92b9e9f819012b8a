"""Uplink power consumption and energy efficiency (spec ``uplink_ee.md`` §1.7; paper 000 eq. (10) and the P_T
model below it, following Chen–Zhang–Björnson–Demir–Ai, IEEE TWC 2023)::

    P_UE  = Σ_t [ (τ_p p^p_t + τ_u p_t) / (τ_c ζ) + P^c_ue ]
    P_AP  = Σ_m x_m [ A_m P^c_ap + A_m |D_m| P^proc ]
    P_FH  = Σ_m x_m [ P^fix_fh + (τ_u/τ_c) |D_m| P^sig ]
    P_CPU = P^fix_cpu + (τ_u/τ_c) P^lsfd_cpu Σ_m |D_m| + B P^deco_cpu Σ_t SE_t
    EE    = B Σ_t SE_t / (P_UE + P_AP + P_FH + P_CPU)          [bit/J]

with τ_u = τ_c − τ_p, |D_m| = Σ_t d_mt (d binary or relaxed in [0,1]) and x_m the AP-active indicator.
Powers in W, bandwidth in Hz, SE in bit/s/Hz. The total is affine in d for fixed x:
P_total = P_const + Σ_{m,t} coef_mt d_mt + c_rate · B Σ_t SE_t (:func:`power_linear_coefficients`), which is what
the Pyomo formulations use so that their expression equals :func:`power_consumption` exactly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from instances.errors import InputError
from instances.instance import DEFAULT_POWER_MODEL

__all__ = ["CHEN2023", "POWER_KEYS", "PowerBreakdown", "PowerLinear", "SeedPowerTerms", "power_consumption",
           "power_linear_coefficients", "seed_power_terms", "seed_power_breakdown",
           "energy_efficiency"]

#: Constants of §1.7 (Chen et al. TWC 2023 code values), SI units. The one copy lives with the instance data
#: (an Instance carries its own ``power_model``); this name is the physics' view of the same defaults.
CHEN2023: dict[str, float] = dict(DEFAULT_POWER_MODEL)
POWER_KEYS = tuple(CHEN2023)


def _consts(consts: dict) -> dict:
    missing = [k for k in POWER_KEYS if k not in consts]
    if missing:
        raise InputError("power_model", f"missing constants: {', '.join(missing)}")
    out = {k: float(consts[k]) for k in POWER_KEYS}
    if not out["zeta"] > 0:
        raise InputError("power_model", "zeta must be positive")
    if any(v < 0 for v in out.values()):
        raise InputError("power_model", "power constants must be non-negative")
    return out


def _frac(tau_p: int, tau_c: int) -> float:
    if not 0 <= tau_p < tau_c:
        raise InputError("tau_p", f"need 0 <= tau_p < tau_c (tau_p={tau_p}, tau_c={tau_c})")
    return (tau_c - tau_p) / tau_c


@dataclass(frozen=True)
class PowerBreakdown:
    """Result of :func:`power_consumption`. Powers in W, throughput in bit/s, EE in bit/J and Mbit/J."""

    ue: float
    ap: float
    fh: float
    cpu: float
    total: float
    sum_se: float
    throughput_bps: float
    ee_bit_per_j: float
    ap_active: np.ndarray       # x_m used, [M]

    @property
    def ee_mbit_per_j(self) -> float:
        return self.ee_bit_per_j / 1e6


@dataclass(frozen=True)
class PowerLinear:
    """P_total(d, SE) = const + Σ_mt coef[m,t] d_mt + c_rate · B Σ_t SE_t  (W; c_rate in W per bit/s)."""

    const: float
    coef: np.ndarray            # [M, K]
    c_rate: float


def _ue_power(p, p_pilot, tau_p, tau_c, c) -> float:
    p = np.asarray(p, dtype=float)
    if p.ndim != 1:
        raise InputError("p", "data powers must be a 1-D array [K]")
    pp = np.broadcast_to(np.asarray(p_pilot, dtype=float), p.shape)
    if np.any(p < 0) or np.any(pp < 0) or not np.all(np.isfinite(p)) or not np.all(np.isfinite(pp)):
        raise InputError("p", "powers must be finite and non-negative")
    tau_u = tau_c - tau_p
    return float(np.sum((tau_p * pp + tau_u * p) / (tau_c * c["zeta"]) + c["p_ue_circuit_w"]))


def power_linear_coefficients(p, antennas, tau_p: int, tau_c: int, consts: dict, *, p_pilot, M: int | None = None,
                              ap_active=None) -> PowerLinear:
    """Affine form of the total power in d for fixed data powers p[K] and fixed AP activity ``ap_active[M]``
    (None = all APs active, x ≡ 1)::

        const     = P_UE(p) + Σ_m x_m (A_m P^c_ap + P^fix_fh) + P^fix_cpu
        coef[m,t] = x_m (A_m P^proc + (τ_u/τ_c) P^sig) + (τ_u/τ_c) P^lsfd_cpu
        c_rate    = P^deco_cpu / 1e9            (W per bit/s)
    """
    c = _consts(consts)
    frac = _frac(tau_p, tau_c)
    p = np.asarray(p, dtype=float)
    K = p.shape[0]
    A_in = np.asarray(antennas, dtype=float)
    if M is None:
        M = A_in.shape[0] if A_in.ndim == 1 else (np.shape(ap_active)[0] if ap_active is not None else None)
        if M is None:
            raise InputError("antennas", "give antennas as [M] or pass M")
    A = np.broadcast_to(A_in, (M,))
    x = np.ones(M) if ap_active is None else np.broadcast_to(np.asarray(ap_active, dtype=float), (M,))
    const = _ue_power(p, p_pilot, tau_p, tau_c, c) + float(np.sum(x * (A * c["p_ap_circuit_w_per_antenna"]
                                                                       + c["p_fh_fixed_w"]))) + c["p_cpu_fixed_w"]
    coef_m = x * (A * c["p_proc_w"] + frac * c["p_fh_signal_w"]) + frac * c["p_cpu_lsfd_w"]
    coef = np.repeat(coef_m[:, None], K, axis=1)
    return PowerLinear(const=const, coef=coef, c_rate=c["p_cpu_decode_w_per_gbps"] / 1e9)


def power_consumption(p, d, se, antennas, tau_p: int, tau_c: int, bandwidth_hz: float, consts: dict, *, p_pilot,
                      all_aps_active: bool = True, ap_active=None) -> PowerBreakdown:
    """§1.7 power breakdown and EE.

    p : [K] data powers (W);  d : [M, K] association (binary or relaxed);  se : [K] SE (bit/s/Hz);
    antennas : scalar or [M];  p_pilot : scalar or [K] pilot power (W);  consts : dict with :data:`POWER_KEYS`.
    all_aps_active : True → x_m = 1 for every AP (use this for relaxed d); False → x_m = 1[Σ_t d_mt > 0].
    ap_active : optional explicit x[M] (0/1 or relaxed); overrides ``all_aps_active``.
    """
    c = _consts(consts)
    frac = _frac(tau_p, tau_c)
    d = np.asarray(d, dtype=float)
    if d.ndim != 2:
        raise InputError("d", f"expected [M, K], got shape {d.shape}")
    M, K = d.shape
    if np.any(d < 0) or not np.all(np.isfinite(d)):
        raise InputError("d", "association values must be finite and non-negative")
    se = np.broadcast_to(np.asarray(se, dtype=float), (K,))
    p = np.broadcast_to(np.asarray(p, dtype=float), (K,))
    A = np.broadcast_to(np.asarray(antennas, dtype=float), (M,))
    if bandwidth_hz <= 0:
        raise InputError("bandwidth_hz", "must be positive")
    load = d.sum(axis=1)                                        # |D_m|
    if ap_active is not None:
        x = np.broadcast_to(np.asarray(ap_active, dtype=float), (M,)).copy()
    else:
        x = np.ones(M) if all_aps_active else (load > 0).astype(float)
    P_ue = _ue_power(p, p_pilot, tau_p, tau_c, c)
    P_ap = float(np.sum(x * (A * c["p_ap_circuit_w_per_antenna"] + A * load * c["p_proc_w"])))
    P_fh = float(np.sum(x * (c["p_fh_fixed_w"] + frac * load * c["p_fh_signal_w"])))
    sum_se = float(np.sum(se))
    rate = float(bandwidth_hz) * sum_se
    P_cpu = c["p_cpu_fixed_w"] + frac * c["p_cpu_lsfd_w"] * float(load.sum()) \
        + c["p_cpu_decode_w_per_gbps"] / 1e9 * rate
    total = P_ue + P_ap + P_fh + P_cpu
    return PowerBreakdown(ue=P_ue, ap=P_ap, fh=P_fh, cpu=P_cpu, total=total, sum_se=sum_se, throughput_bps=rate,
                          ee_bit_per_j=rate / total, ap_active=x)


def energy_efficiency(p, d, se, antennas, tau_p: int, tau_c: int, bandwidth_hz: float, consts: dict, *, p_pilot,
                      all_aps_active: bool = True, ap_active=None) -> float:
    """EE in Mbit/J (shortcut for ``power_consumption(...).ee_mbit_per_j``)."""
    return power_consumption(p, d, se, antennas, tau_p, tau_c, bandwidth_hz, consts, p_pilot=p_pilot,
                             all_aps_active=all_aps_active, ap_active=ap_active).ee_mbit_per_j


# ---------------------------------------------------------------------------------------------------------------
# Paper 000's own power model (seed eq. (10)), the default of problem ``uplink-ee``.
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SeedPowerTerms:
    """Paper 000 eq. (10) written as P_T = const + eta_coef·η + Σ_mt d_coef[m,t] d_mt + c_rate · B Σ_t SE_t::

        P_T^fix = T P^c_ue + M A P^c_ap + M P^fix_fh + P^fix_cpu                     (const; every AP counted)
        P_T^c   = Σ_t η_t p_u,t / ζ + Σ_{m,t} d_mt (P^lsfd_cpu + A_m P^proc + P^sig)   (eta_coef, d_coef)
        deco    = P^deco_cpu B Σ_t SE_t                                               (c_rate in W per bit/s)

    ``const + eta_coef·η + Σ d_coef∘d`` is the denominator of (12a)/(19d) ("P_T^fix + P_T^c")."""

    const: float
    eta_coef: np.ndarray        # [K] W per unit η (p_max,t / ζ)
    d_coef: np.ndarray          # [M, K] W per association
    c_rate: float

    def static(self, eta, d) -> float:
        """P_T^fix + P_T^c (W), the denominator of (12a)."""
        return float(self.const + np.dot(self.eta_coef, eta) + np.sum(self.d_coef * d))

    def total(self, eta, d, throughput_bps: float) -> float:
        """P_T of eq. (10) (W)."""
        return self.static(eta, d) + self.c_rate * float(throughput_bps)


def seed_power_terms(antennas, p_max, consts: dict, *, M: int | None = None) -> SeedPowerTerms:
    """Coefficients of paper 000 eq. (10). ``antennas``: scalar or [M]; ``p_max``: [K] maximum UE powers p_u (W).

    Reading of the printed equation (recorded in ``models/uplink_ee/system.py``): the dangling index in
    "Σ_t (η_t p_u/ζ + d_mt P^lsfd_cpu)" is a sum over APs, i.e. P^lsfd_cpu is paid per association, like P^proc and
    P^sig; unlike §1.7 (Chen 2023) there is no τ_u/τ_c factor, no pilot energy and no AP sleep: all M APs pay their
    circuit and fixed fronthaul power."""
    c = _consts(consts)
    p_max = np.asarray(p_max, dtype=float)
    if p_max.ndim != 1 or np.any(p_max < 0) or not np.all(np.isfinite(p_max)):
        raise InputError("p_ue_max_w", "maximum UE powers must be a finite non-negative [K] array")
    K = p_max.shape[0]
    A_in = np.asarray(antennas, dtype=float)
    if M is None:
        if A_in.ndim != 1:
            raise InputError("antennas", "give antennas as [M] or pass M")
        M = A_in.shape[0]
    A = np.broadcast_to(A_in, (M,))
    const = K * c["p_ue_circuit_w"] + float(np.sum(A)) * c["p_ap_circuit_w_per_antenna"] + M * c["p_fh_fixed_w"] \
        + c["p_cpu_fixed_w"]
    d_coef = np.repeat((c["p_cpu_lsfd_w"] + A * c["p_proc_w"] + c["p_fh_signal_w"])[:, None], K, axis=1)
    return SeedPowerTerms(const=float(const), eta_coef=p_max / c["zeta"], d_coef=d_coef,
                          c_rate=c["p_cpu_decode_w_per_gbps"] / 1e9)


def seed_power_breakdown(eta, d, se, antennas, p_max, bandwidth_hz: float, consts: dict) -> PowerBreakdown:
    """Eq. (10) split into the same four parts as :func:`power_consumption` (UE: data/ζ + circuit; AP: circuit +
    processing; FH: fixed + signalling; CPU: fixed + LSFD + decoding). Powers W, EE bit/J."""
    c = _consts(consts)
    d = np.asarray(d, dtype=float)
    if d.ndim != 2:
        raise InputError("d", f"expected [M, K], got shape {d.shape}")
    M, K = d.shape
    eta = np.broadcast_to(np.asarray(eta, dtype=float), (K,))
    p_max = np.broadcast_to(np.asarray(p_max, dtype=float), (K,))
    A = np.broadcast_to(np.asarray(antennas, dtype=float), (M,))
    if bandwidth_hz <= 0:
        raise InputError("bandwidth_hz", "must be positive")
    load = d.sum(axis=1)
    sum_se = float(np.sum(se))
    rate = float(bandwidth_hz) * sum_se
    P_ue = float(np.sum(eta * p_max) / c["zeta"] + K * c["p_ue_circuit_w"])
    P_ap = float(np.sum(A * c["p_ap_circuit_w_per_antenna"] + A * load * c["p_proc_w"]))
    P_fh = float(M * c["p_fh_fixed_w"] + c["p_fh_signal_w"] * load.sum())
    P_cpu = c["p_cpu_fixed_w"] + c["p_cpu_lsfd_w"] * float(load.sum()) + c["p_cpu_decode_w_per_gbps"] / 1e9 * rate
    total = P_ue + P_ap + P_fh + P_cpu
    return PowerBreakdown(ue=P_ue, ap=P_ap, fh=P_fh, cpu=P_cpu, total=total, sum_se=sum_se, throughput_bps=rate,
                          ee_bit_per_j=rate / total, ap_active=np.ones(M))
