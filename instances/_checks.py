"""Validation of an :class:`~instances.instance.Instance`'s core fields (:meth:`Instance.check` calls these).

Every check only raises (an :class:`~instances.errors.InputError` naming the field); it never corrects.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from instances import units
from instances._convert import _thaw, _where
from instances.errors import InputError


def check_geometry(inst: Any) -> None:
    """Positions, ``beta`` and the per-UE / per-AP arrays against M and K."""
    for k in ("ap_pos", "ue_pos"):
        a = getattr(inst, k)
        if a.ndim != 2 or a.shape[1] != 2 or a.shape[0] < 1:
            raise InputError(k, f"shape {a.shape}; expected ({'M' if k == 'ap_pos' else 'K'}, 2) "
                                "with at least one row")
        if not np.all(np.isfinite(a)):
            raise InputError(k, f"non-finite coordinate at {_where(~np.isfinite(a))}")
    M, K = inst.M, inst.K
    origin = f"from ap_pos {inst.ap_pos.shape} and ue_pos {inst.ue_pos.shape}"
    if inst.beta.shape != (M, K):
        raise InputError("beta", f"shape {inst.beta.shape} does not match (M, K) = {(M, K)} {origin}")
    if np.any(np.isnan(inst.beta)):
        raise InputError("beta", f"NaN at (m, k) = {_where(np.isnan(inst.beta))}")
    if np.any(np.isinf(inst.beta)):
        raise InputError("beta", f"infinite value at (m, k) = {_where(np.isinf(inst.beta))}")
    if np.any(inst.beta < 0):
        bad = inst.beta < 0
        raise InputError("beta", f"negative gain {inst.beta[bad][0]!r} at (m, k) = {_where(bad)}; "
                                 "beta is a linear gain ≥ 0 (not dB)")
    for k in ("noise_w", "bandwidth_hz"):
        v = getattr(inst, k)
        if not (math.isfinite(v) and v > 0):
            raise InputError(k, f"must be positive and finite, got {v!r}")
    for k, n, who in (("p_ue_max_w", K, "K"), ("p_pilot_w", K, "K"), ("p_ap_max_w", M, "M"),
                      ("antennas", M, "M")):
        a = getattr(inst, k)
        if a.shape != (n,):
            raise InputError(k, f"shape {a.shape} does not match ({who},) = {(n,)} {origin}")
        bad = ~np.isfinite(a) | (a <= 0)
        if np.any(bad):
            what = "antenna count" if k == "antennas" else "power"
            raise InputError(k, f"non-positive or non-finite {what} {a[bad][0]!r} at index {_where(bad)}")


def check_pilots(inst: Any) -> None:
    """``tau_c``, ``tau_p`` and the pilot assignment ``pilots`` [K] (indices in 0..tau_p-1)."""
    if inst.tau_c < 1:
        raise InputError("tau_c", f"must be ≥ 1, got {inst.tau_c}")
    if inst.tau_p < 1:
        raise InputError("tau_p", f"must be ≥ 1, got {inst.tau_p}")
    if inst.tau_p > inst.tau_c:
        raise InputError("tau_p", f"{inst.tau_p} exceeds tau_c = {inst.tau_c}")
    if inst.pilots is not None:
        K = inst.K
        origin = f"from ap_pos {inst.ap_pos.shape} and ue_pos {inst.ue_pos.shape}"
        if inst.pilots.shape != (K,):
            raise InputError("pilots", f"shape {inst.pilots.shape} does not match (K,) = {(K,)} {origin}")
        bad = (inst.pilots < 0) | (inst.pilots >= inst.tau_p)
        if np.any(bad):
            raise InputError("pilots", f"pilot index {int(inst.pilots[bad][0])} at UE {_where(bad)} is "
                                       f"outside 0..tau_p-1 = 0..{inst.tau_p - 1}")


def check_power_model(inst: Any) -> None:
    for k, v in inst.power_model.items():
        if not (math.isfinite(v) and v >= 0):
            raise InputError(f"power_model.{k}", f"must be finite and ≥ 0, got {v!r}")
    if "zeta" in inst.power_model and not 0 < inst.power_model["zeta"] <= 1:
        raise InputError("power_model.zeta", f"an efficiency in (0, 1], got {inst.power_model['zeta']!r}")


def check_qos(inst: Any, key: str, a: np.ndarray, qos_fields: Mapping) -> None:
    name = f"qos.{key}"
    rule = qos_fields.get(key)
    if rule is None:
        if a.ndim > 1 or not np.all(np.isfinite(a)):
            raise InputError(name, "must be a finite number or a list of finite numbers")
        return
    shape, minimum, strict = rule
    if shape == "scalar" and a.ndim != 0:
        raise InputError(name, f"expected one number, got a list of shape {a.shape}")
    if shape == "per_ue" and a.ndim != 0 and a.shape != (inst.K,):
        raise InputError(name, f"expected one number or a list of K = {inst.K} numbers (one per UE), "
                               f"got a list of shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise InputError(name, f"must be finite, got {float(a.ravel()[~np.isfinite(a.ravel())][0])!r}"
                               + ("" if a.ndim == 0 else f" at index {_where(~np.isfinite(a))}"))
    bad = a <= minimum if strict else a < minimum
    if np.any(bad):
        op = ">" if strict else "≥"
        raise InputError(name, f"must be {op} {minimum:g}, got {float(a.ravel()[bad.ravel()][0])!r}"
                               + ("" if a.ndim == 0 else f" at index {_where(bad)}"))


def check_meta(inst: Any, canonical_units: Mapping) -> None:
    unit_map = inst.meta.get("units", {})
    if not isinstance(unit_map, Mapping):
        raise InputError("meta.units", f"expected a mapping field -> unit, got {type(unit_map).__name__}")
    for k, u in unit_map.items():
        units.check_unit(f"meta.units.{k}", u)
        if k in canonical_units and u != canonical_units[k]:
            raise InputError(f"meta.units.{k}", f"says {u!r} but an Instance stores {k} in "
                                                f"{canonical_units[k]!r}; convert with instances.units")
    try:
        json.dumps(_thaw(inst.meta), allow_nan=False)
    except ValueError as exc:
        raise InputError("meta", f"not storable as JSON ({exc})") from None
