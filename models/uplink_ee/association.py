"""Evaluator of an uplink AP–UE association (spec uplink_ee.md §1.5–§1.7): the number behind every reported EE.

Given an instance, the SINR moments, fixed powers p[K] (W), LSFD weights a[M,K] and an association d[M,K]
(binary or relaxed), it returns per-UE SINR and SE (eq. (4)), the sum SE, the total power (§1.7) and the EE.
"""
from __future__ import annotations

import numpy as np

from models.common.power import power_consumption
from models.uplink_ee.sinr import Moments, se, sinr


def evaluate_association(instance, moments: Moments, p, a, d) -> dict:
    """Per-UE ``sinr`` and ``se`` [K] (bit/s/Hz), ``sum_se``, ``p_total_w`` (W) and ``ee_mbit_per_j`` (Mbit/J) for
    association ``d`` with powers ``p`` and LSFD weights ``a``; every AP counted as active (x ≡ 1)."""
    s = sinr(moments, p, a, d)
    se_k = se(s, instance.tau_p, instance.tau_c)
    pw = power_consumption(p, d, se_k, np.asarray(instance.antennas), instance.tau_p, instance.tau_c,
                           instance.bandwidth_hz, dict(instance.power_model), p_pilot=np.asarray(instance.p_pilot_w))
    return {"sinr": s, "se": se_k, "sum_se": float(se_k.sum()), "p_total_w": pw.total,
            "ee_mbit_per_j": pw.ee_mbit_per_j}
