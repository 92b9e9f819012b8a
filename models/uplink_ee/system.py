"""Problem ``uplink-ee`` (paper 000, Khan–Karthik R.M.–Agnihotri, arXiv 2501.01271): system model and evaluator.

Everything a formulation or an algorithm needs about an instance is in :class:`UplinkEE` (built by :func:`prepare`),
and every reported number comes from :meth:`UplinkEE.evaluate`.

Choices where the seed and the spec differ or the seed is silent (seed text wins; equation numbers are the seed's):

* **Pre-log (4):** w = (1 − τ_p/τ_c)/2, as printed (the seed splits the block between UL and DL). ``prelog="uplink"``
  gives the spec's 1 − τ_p/τ_c.
* **Power (10):** the seed's P_T (no τ_u/τ_c factors, no pilot energy, all M APs always on; P^lsfd_cpu paid per
  association, reading the dangling d_mt in "Σ_t (η_t p_u/ζ + d_mt P^lsfd_cpu)" as Σ_m). Constants: spec §1.7
  (Chen et al. 2023), carried by the instance. ``power="chen2023"`` switches to the §1.7 model (x_m ≡ 1).
* **Objective:** EE of (10)/(11a) including the decoding power P^deco_cpu B Σ SE, in Mbit/J. (12a) drops that term;
  the algorithms may use (12a) internally, but the evaluator always scores (11a).
* **Combining:** PFZF with grouping share δ = 0.85 (spec §1.4; the seed's 95 % is the initial association) and the
  physically exact ZF leakage (``models/uplink_ee/pfzf.py`` explains the two departures from (6) and (8), both settled by
  Monte Carlo). ``combining="mr"`` is local MR at every AP.
* **LSFD weights a_mt (2):** the seed treats them as given coefficients and never states them. We score every
  solution with the optimal weights of spec §1.6 (a_t = C_t⁻¹ b_t on the serving set 𝓜_t = {m : d_mt = 1}), which
  maximise each UE's SINR for the given (η, D) (Chen et al. [3]); ``lsfd="equal"`` scores with a_mt = 1 instead.
* **Powers:** p_t = η_t p_u,t with p_u,t the instance's ``p_ue_max_w`` (W); noise-normalised units (β/σ²).
* **QoS (11d):** SE^QoS from the ``se_qos`` argument, else the instance's ``qos["sum_se_min_bps_hz"]``, else 0.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping

import numpy as np

from instances.errors import InputError
from models.common.estimation import ChannelEstimates, mmse_estimation
from models.common.evaluation import FEAS_TOL, Evaluation
from models.uplink_ee.pfzf import DEFAULT_DELTA, Grouping, pfzf_grouping, pfzf_moments
from models.common.power import SeedPowerTerms, _consts, seed_power_breakdown, seed_power_terms
from models.uplink_ee.sinr import Moments, lsfd_optimal, mr_moments, sinr as _sinr

__all__ = ["UplinkEE", "prepare", "evaluate", "solution_arrays", "PRELOG_MODES", "POWER_MODES", "COMBINING_MODES",
           "FEAS_TOL"]

PRELOG_MODES = ("seed", "uplink")
POWER_MODES = ("seed", "chen2023")
COMBINING_MODES = ("pfzf", "mr")
LSFD_MODES = ("optimal", "equal")
# FEAS_TOL (models.common.evaluation) is the tolerance of the feasibility verdict; QoS is relative to max(SE^QoS, 1)


@dataclass(frozen=True, eq=False)
class UplinkEE:
    """Precomputed statistics of one instance for problem ``uplink-ee``. Arrays: [M, K] unless stated."""

    instance: Any
    beta_n: np.ndarray            # β/σ² (1/W)
    p_max: np.ndarray             # [K] p_u,t (W)
    antennas: np.ndarray          # [M]
    est: ChannelEstimates
    grouping: Grouping | None     # None for MR
    moments: Moments
    prelog: float                 # w of (4)
    bandwidth_hz: float
    power: SeedPowerTerms         # P_T = const + eta_coef·η + Σ d_coef∘d + c_rate·B·ΣSE (eq. (10))
    se_qos: float                 # SE^QoS of (11d), bit/s/Hz
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def M(self) -> int:
        return self.beta_n.shape[0]

    @property
    def K(self) -> int:
        return self.beta_n.shape[1]

    # ---- SINR / SE -------------------------------------------------------------------------------------------
    def check_solution(self, eta, d) -> tuple[np.ndarray, np.ndarray]:
        eta = np.asarray(eta, dtype=float)
        d = np.asarray(d, dtype=float)
        if eta.shape != (self.K,):
            raise InputError("eta", f"expected [{self.K}] power coefficients, got shape {eta.shape}")
        if d.shape != (self.M, self.K):
            raise InputError("assoc", f"expected [{self.M}, {self.K}] association, got shape {d.shape}")
        if not (np.all(np.isfinite(eta)) and np.all(np.isfinite(d))):
            raise InputError("solution", "eta and assoc must be finite")
        return eta, d

    def lsfd(self, eta, d) -> np.ndarray:
        """Optimal LSFD weights a[M, K] of spec §1.6 on the serving sets of d (normalised: max |a_mt| = 1 per UE)."""
        return lsfd_optimal(self.moments, np.clip(eta, 0, None) * self.p_max, d, normalize="max")

    def sinr(self, eta, d, *, lsfd: str = "optimal") -> np.ndarray:
        """Γ_t of (4) for powers η[K] and association d[M, K] with optimal (or equal) LSFD weights."""
        eta, d = self.check_solution(eta, d)
        p = np.clip(eta, 0, None) * self.p_max
        if lsfd == "optimal":
            a = self.lsfd(eta, d)
        elif lsfd == "equal":
            a = np.ones((self.M, self.K))
        else:
            raise InputError("lsfd", f"unknown LSFD mode {lsfd!r}; known: {', '.join(LSFD_MODES)}")
        return _sinr(self.moments, p, a, d)

    def se(self, eta, d, **kw) -> np.ndarray:
        """SE_t = w log2(1 + Γ_t) (4), bit/s/Hz, [K]."""
        return self.prelog * np.log2(1.0 + self.sinr(eta, d, **kw))

    # ---- the evaluator ---------------------------------------------------------------------------------------
    def evaluate(self, eta, d, *, lsfd: str = "optimal", se_qos: float | None = None) -> Evaluation:
        """Objective (11a) (EE in Mbit/J), per-UE SINR and SE, the power breakdown of (10) and the violations of
        (11b) binary, (11c) 0 ≤ η ≤ 1, (11d) Σ SE ≥ SE^QoS (relative to max(SE^QoS, 1)), (11e) Σ_m d_mt ≥ 1."""
        eta, d = self.check_solution(eta, d)
        qos = self.se_qos if se_qos is None else float(se_qos)
        s = self.sinr(eta, d, lsfd=lsfd)
        se_k = self.prelog * np.log2(1.0 + s)
        sum_se = float(se_k.sum())
        if self.options.get("power") == "chen2023":
            from models.common.power import power_consumption

            inst = self.instance
            pw = power_consumption(np.clip(eta, 0, None) * self.p_max, np.clip(d, 0, None), se_k, self.antennas,
                                   inst.tau_p, inst.tau_c, self.bandwidth_hz, dict(inst.power_model),
                                   p_pilot=np.asarray(inst.p_pilot_w))
        else:
            pw = seed_power_breakdown(np.clip(eta, 0, None), np.clip(d, 0, None), se_k, self.antennas, self.p_max,
                                      self.bandwidth_hz, dict(self.instance.power_model))
        viol = {
            "binary_assoc_11b": float(np.max(np.minimum(np.abs(d), np.abs(1.0 - d)), initial=0.0)),
            "assoc_box_11b": float(np.max(np.maximum(-d, d - 1.0), initial=0.0).clip(0)),
            "eta_box_11c": float(np.max(np.maximum(-eta, eta - 1.0), initial=0.0).clip(0)),
            "sum_se_qos_11d": max(0.0, (qos - sum_se) / max(qos, 1.0)),
            "coverage_11e": float(np.max(1.0 - d.sum(axis=0), initial=0.0).clip(0)),
        }
        ee = pw.ee_mbit_per_j
        return Evaluation(
            objective=ee, unit="Mbit/J",
            objectives={"ee_mbit_per_j": ee, "sum_se_bps_hz": sum_se},
            per_user={"sinr": s, "se_bps_hz": se_k, "power_w": np.clip(eta, 0, None) * self.p_max},
            power={"ue_w": pw.ue, "ap_w": pw.ap, "fronthaul_w": pw.fh, "cpu_w": pw.cpu, "total_w": pw.total,
                   "throughput_bps": pw.throughput_bps},
            violations=viol,
            extra={"se_qos": qos, "associations": int(np.round(np.sum(d))), "lsfd": lsfd})

    def ee_static(self, eta, d, sum_se: float) -> float:
        """The (12a) objective B Σ SE / (P_T^fix + P_T^c) in Mbit/J (no decoding power)."""
        return self.bandwidth_hz * sum_se / self.power.static(eta, d) / 1e6

    def ee_from_static(self, ee_static_mbit: float) -> float:
        """(11a) from (12a): EE = 1 / (1/EE_static + c_rate) (spec §1.7 trick), both in Mbit/J."""
        if ee_static_mbit <= 0:
            return 0.0
        return 1.0 / (1.0 / ee_static_mbit + self.power.c_rate * 1e6)


def _power_terms(instance, p_max, antennas, mode: str) -> SeedPowerTerms:
    consts = dict(instance.power_model)
    if mode == "seed":
        return seed_power_terms(antennas, p_max, consts)
    c = _consts(consts)                                    # §1.7 with x_m ≡ 1, as an affine function of (η, d)
    frac = (instance.tau_c - instance.tau_p) / instance.tau_c
    pp = np.asarray(instance.p_pilot_w, dtype=float)
    K = p_max.shape[0]
    const = float(np.sum(instance.tau_p * pp / (instance.tau_c * c["zeta"]) + c["p_ue_circuit_w"])
                  + np.sum(antennas * c["p_ap_circuit_w_per_antenna"] + c["p_fh_fixed_w"]) + c["p_cpu_fixed_w"])
    d_coef = np.repeat((antennas * c["p_proc_w"] + frac * (c["p_fh_signal_w"] + c["p_cpu_lsfd_w"]))[:, None], K, 1)
    return SeedPowerTerms(const=const, eta_coef=frac * p_max / c["zeta"], d_coef=d_coef,
                          c_rate=c["p_cpu_decode_w_per_gbps"] / 1e9)


@lru_cache(maxsize=16)
def _prepare(instance, combining: str, delta: float, leakage: str, prelog: str, power: str,
             se_qos: float | None) -> UplinkEE:
    inst = instance
    beta_n = np.asarray(inst.noise_normalised_beta, dtype=float)
    M, K = beta_n.shape
    if inst.pilots is None:
        raise InputError("pilots", "uplink-ee needs pilot indices into τ_p orthogonal pilots (e.g. an ngo2017 "
                                   "instance); this instance stores none")
    pilots = np.asarray(inst.pilots, dtype=np.int64)
    est = mmse_estimation(beta_n, np.asarray(inst.p_pilot_w, dtype=float), inst.tau_p, pilots)
    antennas = np.asarray(inst.antennas, dtype=float).reshape(-1)
    antennas = np.broadcast_to(antennas, (M,)).copy()
    if combining == "pfzf":
        grouping = pfzf_grouping(beta_n, pilots, inst.tau_p, antennas, delta=delta)
        moments = pfzf_moments(est, beta_n, pilots, antennas, grouping, leakage=leakage)
    else:
        grouping = None
        moments = mr_moments(est.gamma, beta_n, pilots, antennas)
    w = 1.0 - inst.tau_p / inst.tau_c
    if prelog == "seed":
        w /= 2.0
    p_max = np.asarray(inst.p_ue_max_w, dtype=float)
    if se_qos is None:
        se_qos = float(np.sum(inst.qos.get("sum_se_min_bps_hz", 0.0)))
    return UplinkEE(instance=inst, beta_n=beta_n, p_max=p_max, antennas=antennas, est=est, grouping=grouping,
                    moments=moments, prelog=w, bandwidth_hz=float(inst.bandwidth_hz),
                    power=_power_terms(inst, p_max, antennas, power), se_qos=float(se_qos),
                    options={"combining": combining, "delta": delta, "leakage": leakage, "prelog": prelog,
                             "power": power})


def prepare(instance, *, combining: str = "pfzf", delta: float = DEFAULT_DELTA, leakage: str = "exact",
            prelog: str = "seed", power: str = "seed", se_qos: float | None = None) -> UplinkEE:
    """Statistics of ``instance`` for ``uplink-ee`` (cached per instance and options; see the module docstring)."""
    for name, value, known in (("combining", combining, COMBINING_MODES), ("prelog", prelog, PRELOG_MODES),
                               ("power", power, POWER_MODES)):
        if value not in known:
            raise InputError(name, f"unknown {name} {value!r}; known: {', '.join(known)}")
    if se_qos is not None:
        se_qos = float(se_qos)
        if not np.isfinite(se_qos) or se_qos < 0:
            raise InputError("se_qos", f"the sum-SE threshold must be finite and >= 0, got {se_qos}")
    return _prepare(instance, combining, float(delta), leakage, prelog, power, se_qos)


def solution_arrays(solution: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(eta[K], assoc[M, K]) from a solution mapping with keys ``eta`` and ``assoc``."""
    try:
        return np.asarray(solution["eta"], dtype=float), np.asarray(solution["assoc"], dtype=float)
    except KeyError as exc:
        raise InputError("solution", f"an uplink-ee solution needs 'eta' and 'assoc' (missing {exc})") from None


def evaluate(instance, solution: Mapping[str, Any], **options) -> Evaluation:
    """The ``uplink-ee`` evaluator: ``solution = {"eta": [K], "assoc": [M][K]}``; options as :func:`prepare` plus
    ``lsfd`` ("optimal" | "equal")."""
    lsfd = options.pop("lsfd", "optimal")
    data = prepare(instance, **options)
    eta, d = solution_arrays(solution)
    return data.evaluate(eta, d, lsfd=lsfd)
