"""Problems ``iot-uplink-maxmin``, ``iot-uplink-target``, ``iot-downlink-maxmin`` (paper 003, Rao–Ashikhmin–Yang,
arXiv 2006.10363): the prepared system of one instance and the evaluators behind every reported number.

* Pilots: the instance's ``pilot_matrix()`` (random unit-norm vectors for the IoT scenario, orthonormal one-hot
  columns for index pilots). Estimator ``lmmse`` (Paper A (2)) or ``projection`` (Paper B (8), the "existing
  cell-free" baseline); a solution names the estimator it was computed for (``solution["estimator"]``, default
  ``lmmse``) and is re-scored with it.
* SNRs: ρ = power / noise with the instance's ``p_pilot_w`` [K], ``p_ue_max_w`` [K], ``p_ap_max_w`` [M] (W).
* Net throughput (Paper A Section VIII): S_k = B (1 − τ_p/τ_c)/2 log2(1 + SINR_k), reported in Mbit/s.
* Energy efficiency (Paper A (11), spec §3.4 / A7): EE = Σ_k S_k^u / Σ_k η_k p̄_u,k — uplink net throughput per watt
  of radiated uplink data power, reported in Mbit/J (no circuit power; the seed's (11) has none).
"""
from __future__ import annotations

from functools import cached_property, lru_cache
from typing import Any, Mapping

import numpy as np

from instances.errors import InputError
from models.common import sinr as S
from models.common.evaluation import FEAS_TOL, Evaluation
from models.common.estimation_vector import ESTIMATORS, estimator_statistics

__all__ = ["IoTSystem", "prepare", "evaluate_uplink_maxmin", "evaluate_uplink_target", "evaluate_downlink_maxmin",
           "targets_of", "check_targets", "energy_efficiency",
           "energy_efficiency_per_thing", "FEAS_TOL"]

_MBIT = 1e-6


class IoTSystem:
    """Statistics of one instance under one estimator. ``ul`` (the uplink (a, B, c)) is computed at once; the
    per-AP statistics of the downlink only when first used."""

    def __init__(self, instance, estimator: str = "lmmse"):
        if estimator not in ESTIMATORS:
            raise InputError("estimator", f"unknown estimator {estimator!r}; known: {', '.join(ESTIMATORS)}")
        self.instance = instance
        self.estimator = estimator
        self.beta = np.asarray(instance.beta, dtype=float)
        self.psi = instance.pilot_matrix()
        noise = float(instance.noise_w)
        self.rho_p = np.asarray(instance.p_pilot_w, dtype=float) / noise
        self.rho_u = np.asarray(instance.p_ue_max_w, dtype=float) / noise
        self.rho_d = np.asarray(instance.p_ap_max_w, dtype=float) / noise
        self.tau_p = int(self.psi.shape[0])
        self.prelog = S.prelog_cell_free(self.tau_p, int(instance.tau_c))
        self.bandwidth_hz = float(instance.bandwidth_hz)

    @property
    def M(self) -> int:
        return self.beta.shape[0]

    @property
    def K(self) -> int:
        return self.beta.shape[1]

    @cached_property
    def ul_stats(self):
        return estimator_statistics(self.beta, self.psi, self.rho_p, kind=self.estimator)

    @cached_property
    def dl_stats(self):
        return estimator_statistics(self.beta, self.psi, self.rho_p, kind=self.estimator, full=True)

    @cached_property
    def ul(self) -> S.LinearFractional:
        """Uplink SINR_k = a_k η_k / (Σ_j B_kj η_j + c_k) (Paper A Theorem 1 / (8))."""
        return S.uplink_coefficients(self.ul_stats, self.beta, self.rho_u)

    @property
    def gamma(self) -> np.ndarray:
        return self.ul_stats.gamma

    # ------------------------------------------------------------------------------------------------ checks
    def check_eta_ul(self, eta) -> np.ndarray:
        eta = np.asarray(eta, dtype=float)
        if eta.shape != (self.K,):
            raise InputError("eta", f"expected {self.K} uplink power coefficients, got shape {eta.shape}")
        if not np.all(np.isfinite(eta)):
            raise InputError("eta", "power coefficients must be finite")
        return eta

    def check_eta_dl(self, eta) -> np.ndarray:
        eta = np.asarray(eta, dtype=float)
        if eta.shape != (self.M, self.K):
            raise InputError("eta", f"expected [M, K] = {(self.M, self.K)} downlink coefficients, got {eta.shape}")
        if not np.all(np.isfinite(eta)):
            raise InputError("eta", "power coefficients must be finite")
        return eta

    # ---------------------------------------------------------------------------------------------- quantities
    def uplink_sinr(self, eta) -> np.ndarray:
        return self.ul.sinr(np.clip(self.check_eta_ul(eta), 0.0, None))

    def downlink_sinr(self, eta) -> np.ndarray:
        return S.downlink_sinr(self.check_eta_dl(eta), self.dl_stats, self.beta, self.rho_d)

    def equal_dl_power(self) -> np.ndarray:
        """η_mk = 1/Σ_j γ_mj: every AP at full power, split evenly in γ (Paper B's "no power control")."""
        return np.broadcast_to(1.0 / self.gamma.sum(axis=1, keepdims=True), (self.M, self.K)).copy()

    def throughput_mbps(self, sinr) -> np.ndarray:
        return self.bandwidth_hz * self.prelog * S.rate_bps_hz(sinr) * _MBIT

    def ee_mbit_per_j(self, eta, sinr) -> float:
        """Paper A (11) of the cell-free uplink at powers η with SINRs ``sinr`` (:func:`energy_efficiency`)."""
        return energy_efficiency(self.throughput_mbps(sinr), eta, self.instance.p_ue_max_w)

    # ------------------------------------------------------------------------------------------------ reports
    def _uplink_report(self, eta) -> tuple[np.ndarray, dict, dict, dict, dict]:
        eta = self.check_eta_ul(eta)
        sinr = self.ul.sinr(np.clip(eta, 0.0, None))
        thr = self.throughput_mbps(sinr)
        per_user = {"eta": eta, "sinr": sinr, "rate_bps_hz": S.rate_bps_hz(sinr), "throughput_mbps": thr}
        objectives = {"min_sinr": float(sinr.min()), "min_rate_bps_hz": float(S.rate_bps_hz(sinr.min())),
                      "min_throughput_mbps": float(thr.min()), "sum_throughput_mbps": float(thr.sum()),
                      "ee_mbit_per_j": self.ee_mbit_per_j(eta, sinr)}
        power = {"ul_data_w": float(np.dot(np.clip(eta, 0, None), self.instance.p_ue_max_w))}
        violations = {"eta_bounds": float(max(0.0, -eta.min(), eta.max() - 1.0))}
        return sinr, per_user, objectives, power, violations


def energy_efficiency(throughput_mbps, eta, p_max_w) -> float:
    """Paper A (11): Σ_k S_k / Σ_k η_k p̄_u,k in Mbit/J (S in Mbit/s, p̄ in W); nan when no power is radiated.
    Any uplink system: the cell-free one, or the small cells of :mod:`models.iot.small_cells`."""
    p = float(np.dot(np.clip(np.asarray(eta, dtype=float), 0.0, None), p_max_w))
    return float(np.sum(throughput_mbps) / p) if p > 0 else float("nan")


def energy_efficiency_per_thing(throughput_mbps, eta, p_max_w) -> np.ndarray:
    """S_k / (η_k p̄_u,k) in Mbit/J: each thing's own energy efficiency (nan for a thing that radiates nothing)."""
    p = np.clip(np.asarray(eta, dtype=float), 0.0, None) * np.asarray(p_max_w, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, np.asarray(throughput_mbps, dtype=float) / p, np.nan)


@lru_cache(maxsize=16)
def _prepare(instance, estimator: str) -> IoTSystem:
    return IoTSystem(instance, estimator)


def prepare(instance, *, estimator: str = "lmmse") -> IoTSystem:
    """The (cached) :class:`IoTSystem` of ``instance`` under ``estimator``."""
    return _prepare(instance, estimator)


def _estimator_of(solution: Mapping[str, Any], estimator: str | None) -> str:
    est = estimator if estimator is not None else solution.get("estimator", "lmmse")
    if est not in ESTIMATORS:
        raise InputError("estimator", f"unknown estimator {est!r}; known: {', '.join(ESTIMATORS)}")
    return est


def _eta(solution: Mapping[str, Any]) -> np.ndarray:
    if "eta" not in solution:
        raise InputError("solution", "missing 'eta' (power coefficients)")
    return np.asarray(solution["eta"], dtype=float)


def evaluate_uplink_maxmin(instance, solution: Mapping[str, Any], *, estimator: str | None = None) -> Evaluation:
    """Problem (12): objective min_k SINR_k^u (linear); η_k ∈ [0, 1]."""
    sys_ = prepare(instance, estimator=_estimator_of(solution, estimator))
    sinr, per_user, objectives, power, violations = sys_._uplink_report(_eta(solution))
    return Evaluation(objective=float(sinr.min()), unit="1 (SINR)", objectives=objectives, per_user=per_user,
                      power=power, violations=violations, extra={"estimator": sys_.estimator})


def targets_of(instance, K: int, targets=None) -> np.ndarray:
    """Per-thing SINR targets t_k: ``targets`` if given, else the instance's ``qos["sinr_target"]`` (scalar or [K]);
    InputError('targets') when neither exists or a value is not > 0."""
    if targets is None:
        if "sinr_target" not in instance.qos:
            raise InputError("targets", "no SINR targets: give targets= or store qos.sinr_target in the instance")
        targets = instance.qos["sinr_target"]
    return check_targets(targets, K)


def check_targets(targets, K: int) -> np.ndarray:
    """SINR targets as a [K] array (a scalar is broadcast); InputError('targets') unless finite and > 0."""
    t = np.asarray(targets, dtype=float)
    if t.ndim == 0:
        t = np.full(K, float(t))
    if t.shape != (K,):
        raise InputError("targets", f"expected a scalar or {K} SINR targets, got shape {t.shape}")
    if not np.all(np.isfinite(t)) or np.any(t <= 0):
        raise InputError("targets", "SINR targets must be finite and > 0")
    return t


def evaluate_uplink_target(instance, solution: Mapping[str, Any], *, estimator: str | None = None,
                           targets=None) -> Evaluation:
    """Problem (13): objective Σ_k η_k p̄_u,k (W, radiated uplink data power) subject to SINR_k^u ≥ t_k for every
    thing. ``violations["sinr_target"]`` is the largest relative shortfall max_k (t_k − SINR_k)/t_k; a solution that
    soft-removed things therefore does not satisfy (13) and says so."""
    sys_ = prepare(instance, estimator=_estimator_of(solution, estimator))
    sinr, per_user, objectives, power, violations = sys_._uplink_report(_eta(solution))
    t = targets_of(instance, sys_.K, targets if targets is not None else solution.get("targets"))
    short = (t - sinr) / t
    violations["sinr_target"] = float(max(0.0, short.max()))
    met = short <= FEAS_TOL
    per_user.update({"target": t, "met": met.astype(float)})
    objectives.update({"total_power_w": power["ul_data_w"], "things_meeting_target": float(met.sum())})
    return Evaluation(objective=power["ul_data_w"], unit="W", objectives=objectives, per_user=per_user, power=power,
                      violations=violations, extra={"estimator": sys_.estimator, "met": met})


def evaluate_downlink_maxmin(instance, solution: Mapping[str, Any], *, estimator: str | None = None) -> Evaluation:
    """Problems (18)/(19): objective min_k SINR_k^d (linear) subject to Σ_k η_mk γ_mk ≤ 1 per AP and η ≥ 0."""
    sys_ = prepare(instance, estimator=_estimator_of(solution, estimator))
    eta = sys_.check_eta_dl(_eta(solution))
    sinr = sys_.downlink_sinr(np.clip(eta, 0.0, None))
    thr = sys_.throughput_mbps(sinr)
    load = S.downlink_power_load(np.clip(eta, 0.0, None), sys_.gamma)
    p_ap = load * np.asarray(instance.p_ap_max_w)
    per_user = {"sinr": sinr, "rate_bps_hz": S.rate_bps_hz(sinr), "throughput_mbps": thr}
    objectives = {"min_sinr": float(sinr.min()), "min_rate_bps_hz": float(S.rate_bps_hz(sinr.min())),
                  "min_throughput_mbps": float(thr.min()), "sum_throughput_mbps": float(thr.sum()),
                  "max_ap_load": float(load.max())}
    violations = {"ap_power": float(max(0.0, load.max() - 1.0)), "eta_nonneg": float(max(0.0, -eta.min()))}
    return Evaluation(objective=float(sinr.min()), unit="1 (SINR)", objectives=objectives, per_user=per_user,
                      power={"dl_total_w": float(p_ap.sum())}, violations=violations,
                      extra={"estimator": sys_.estimator, "ap_load": load})
