"""The :class:`Instance`: frozen, validated data of one cell-free massive MIMO network (DESIGN.md §1, instances/).

An instance holds only SI numbers: positions in m, large-scale fading ``beta`` as a linear dimensionless gain,
powers in W, bandwidth in Hz, pilot and coherence lengths in samples. ``meta["units"]`` records those units
(see :data:`CANONICAL_UNITS`); an instance never converts units itself (use :mod:`instances.units`).

Validation (:meth:`Instance.check`) only raises; it never corrects anything. Every failure is an
:class:`~instances.errors.InputError` that names the field (``beta``, ``p_ue_max_w``, ``meta.units.ap_pos``, ...).

Files are JSON (:meth:`Instance.save` / :meth:`Instance.load`) with a ``content_hash``: the first 16 hex digits of
the SHA-256 of a canonical JSON of the physical data and ``meta`` (``name`` and the library ``card`` are left out,
so renaming an instance or certifying an optimum keeps its hash). A stored hash that does not match the data is
rejected; drop the ``content_hash`` key to load a deliberately hand-edited file. The optional complex pilot
matrix ``pilot_seqs`` enters the hash (and the file) only when it is set, so instances without it hash exactly as
before the field existed.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from instances import units
from instances.errors import InputError

FORMAT = "cfopt-instance"
FORMAT_VERSION = 1

#: Power-consumption constants of Chen, Zhang, Björnson, Demir, Ai, IEEE TWC 2023 (spec uplink_ee.md §1.7),
#: the defaults of every generated instance. Names state the unit; "per_*" says what the value is multiplied by.
DEFAULT_POWER_MODEL: dict[str, float] = {
    "zeta": 0.4,                        # UE power-amplifier efficiency ζ (dimensionless)
    "p_ue_circuit_w": 0.1,              # P^c_ue, W per UE
    "p_ap_circuit_w_per_antenna": 0.2,  # P^c_ap, W per AP antenna (× A)
    "p_proc_w": 0.8,                    # P^proc, W per antenna per served UE (Chen: × A·|D_m|)
    "p_fh_fixed_w": 0.825,              # P^fix_fh, W per active AP
    "p_fh_signal_w": 0.01,              # P^sig, W per served UE per AP (× τ_u/τ_c)
    "p_cpu_fixed_w": 5.0,               # P^fix_cpu, W
    "p_cpu_lsfd_w": 0.2,                # P^lsfd_cpu, W per AP–UE association (× τ_u/τ_c)
    "p_cpu_decode_w_per_gbps": 0.8,     # P^deco_cpu, W per Gbit/s decoded
}
#: Units of the power-model constants above (keys are ``power_model.<name>`` in ``meta["units"]``).
POWER_MODEL_UNITS: dict[str, str] = {
    "zeta": "1", "p_ue_circuit_w": "W", "p_ap_circuit_w_per_antenna": "W", "p_proc_w": "W",
    "p_fh_fixed_w": "W", "p_fh_signal_w": "W", "p_cpu_fixed_w": "W", "p_cpu_lsfd_w": "W",
    "p_cpu_decode_w_per_gbps": "W/(Gbit/s)",
}

#: The unit in which each physical field is stored. ``meta["units"]`` may only repeat these for these fields.
CANONICAL_UNITS: dict[str, str] = {
    "ap_pos": "m", "ue_pos": "m", "beta": "1", "noise_w": "W", "p_ue_max_w": "W", "p_pilot_w": "W",
    "p_ap_max_w": "W", "antennas": "1", "tau_p": "samples", "tau_c": "samples", "bandwidth_hz": "Hz",
}

#: The QoS fields the models read and the values each accepts: ``(shape, minimum, strict)`` with shape "scalar"
#: (one number) or "per_ue" (one number, or a list of K numbers); every value finite and ≥ minimum (> when strict).
#: Other ``qos`` keys only need to be a finite number or a list of finite numbers.
QOS_FIELDS: dict[str, tuple[str, float, bool]] = {
    "sum_se_min_bps_hz": ("scalar", 0.0, False),   # SE^QoS of (11d), bit/s/Hz (models/uplink_ee/system.py)
    "sinr_target": ("per_ue", 0.0, True),          # SINR targets t_k, linear (models/iot/system.py)
    "se_min_bps_hz": ("per_ue", 0.0, False),       # per-UE minimum SE, bit/s/Hz
}

#: Allowed deviation of a pilot column's 2-norm from 1 (``pilot_seqs``).
PILOT_NORM_TOL = 1e-9

_FLOAT_ARRAYS = ("ap_pos", "ue_pos", "beta", "p_ue_max_w", "p_pilot_w", "p_ap_max_w")
_PHYSICAL = ("ap_pos", "ue_pos", "beta", "noise_w", "p_ue_max_w", "p_pilot_w", "p_ap_max_w", "antennas",
             "tau_p", "tau_c", "bandwidth_hz", "power_model", "qos", "pilots")


# ----------------------------------------------------------------------------------------------- conversion helpers
#: Largest magnitude of an integer field (a 64-bit signed integer).
_INT_MAX = 2 ** 63 - 1


def _show(value: Any) -> str:
    """``repr(value)`` for messages, abbreviated when long (a 400-digit integer is "an integer of 400 digits")."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10 ** 30:
        return f"an integer of {len(str(abs(value)))} digits"
    text = repr(value)
    return text if len(text) <= 80 else text[:60] + f"... ({len(text)} characters)"


def _too_large(value: Any) -> str:
    return f"{_show(value)} is too large for a 64-bit float (max ~1.8e308)"


def _numeric_array(name: str, value: Any) -> np.ndarray:
    """``np.asarray(value)`` for the array helpers: ragged lists are an InputError; an object array (numbers that
    do not fit numpy's integer types, e.g. 10**400 or a mix of such integers and floats) becomes float64 when every
    entry is a real number, and an integer beyond the float range is an InputError naming ``name``."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise InputError(name, f"not a rectangular array of numbers ({exc})") from None
    if arr.dtype.kind != "O":
        return arr
    out = np.empty(arr.shape, dtype=float)
    for idx, v in np.ndenumerate(arr):
        where = idx[0] if len(idx) == 1 else idx
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise InputError(name, f"expected numbers, got {type(v).__name__} {_show(v)} at index {where}")
        try:
            out[idx] = float(v)
        except OverflowError:
            raise InputError(name, f"entry at index {where}: {_too_large(v)}") from None
    return out


def _float_array(name: str, value: Any) -> np.ndarray:
    if isinstance(value, (str, bytes, Mapping)) or value is None:
        raise InputError(name, f"expected an array of numbers, got {type(value).__name__}")
    arr = _numeric_array(name, value)
    if arr.dtype.kind not in "iuf":
        raise InputError(name, f"expected numbers, got array of dtype {arr.dtype}")
    arr = arr.astype(float, copy=True)
    arr.setflags(write=False)
    return arr


def _complex_array(name: str, value: Any) -> np.ndarray:
    """A read-only complex128 copy of ``value``: a complex (or real) array, or the JSON form, a real array whose
    last axis holds (real, imag) pairs (so the JSON [tau_p][K][2] of ``pilot_seqs`` becomes [tau_p, K])."""
    if isinstance(value, (str, bytes, Mapping)) or value is None:
        raise InputError(name, f"expected an array of complex numbers, got {type(value).__name__}")
    arr = _numeric_array(name, value)
    if arr.dtype.kind == "c":
        out = arr.astype(np.complex128, copy=True)
    elif arr.dtype.kind in "iuf":
        if arr.ndim == 3 and arr.shape[-1] == 2:      # JSON form: (real, imag) pairs
            arr = arr.astype(float)
            out = arr[..., 0] + 1j * arr[..., 1]
        else:                                          # real entries
            out = arr.astype(np.complex128, copy=True)
    else:
        raise InputError(name, f"expected numbers, got array of dtype {arr.dtype}")
    out.setflags(write=False)
    return out


def _int_array(name: str, value: Any) -> np.ndarray:
    arr = _float_array(name, value)
    if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
        raise InputError(name, "expected integers")
    if np.any(np.abs(arr) > _INT_MAX):
        bad = np.abs(arr) > _INT_MAX
        raise InputError(name, f"integer {arr[bad][0]:g} at index {_where(bad)} is too large (max 2**63 - 1)")
    out = arr.astype(np.int64)
    out.setflags(write=False)
    return out


def _finite(value: int | float) -> bool:
    """math.isfinite, False (not OverflowError) for an integer beyond the float range."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _float_scalar(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(name, f"expected a number, got {type(value).__name__} {_show(value)}")
    try:
        return float(value)
    except OverflowError:
        raise InputError(name, _too_large(value)) from None


def _int_scalar(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(name, f"expected an integer, got {type(value).__name__} {_show(value)}")
    if isinstance(value, (int, np.integer)):
        if abs(int(value)) > _INT_MAX:
            raise InputError(name, f"{_show(value)} is too large (max 2**63 - 1)")
        return int(value)
    if not math.isfinite(float(value)) or float(value) != int(value):
        raise InputError(name, f"expected an integer, got {value!r}")
    if abs(value) > _INT_MAX:
        raise InputError(name, f"{value!r} is too large (max 2**63 - 1)")
    return int(value)


def _freeze(name: str, obj: Any) -> Any:
    """A read-only, JSON-shaped copy: mappings -> MappingProxyType, sequences -> tuple, numpy -> Python."""
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise InputError(name, f"keys must be strings, got {k!r}")
            out[k] = _freeze(f"{name}.{k}", v)
        return MappingProxyType(out)
    if isinstance(obj, np.ndarray):
        return _freeze(name, obj.tolist())
    if isinstance(obj, (list, tuple)):
        return tuple(_freeze(name, v) for v in obj)
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise InputError(name, f"value of type {type(obj).__name__} cannot be stored in JSON")


def _thaw(obj: Any) -> Any:
    """Inverse of :func:`_freeze` (and numpy arrays -> lists): plain JSON-ready Python objects. Complex numbers
    become (real, imag) pairs: a complex [tau_p, K] array -> nested lists [tau_p][K][2] (read back by
    :func:`_complex_array`, bit for bit)."""
    if isinstance(obj, Mapping):
        return {k: _thaw(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind == "c":
            return np.stack([obj.real, obj.imag], axis=-1).tolist()
        return obj.tolist()
    if isinstance(obj, (complex, np.complexfloating)):
        return [float(obj.real), float(obj.imag)]
    if isinstance(obj, (list, tuple)):
        return [_thaw(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _mapping(name: str, value: Any) -> Mapping:
    if not isinstance(value, Mapping):
        raise InputError(name, f"expected a mapping (JSON object), got {type(value).__name__}")
    return value


def _where(mask: np.ndarray) -> str:
    idx = tuple(int(i) for i in np.argwhere(mask)[0])
    return str(idx[0]) if len(idx) == 1 else str(idx)


def _dump(value: Any) -> str:
    """JSON text of one top-level value: matrices one row per line, objects indented."""
    if isinstance(value, list) and value and all(isinstance(r, list) for r in value):
        rows = ",\n    ".join(json.dumps(r, allow_nan=False) for r in value)
        return f"[\n    {rows}\n  ]"
    if isinstance(value, dict) and value:
        return json.dumps(value, indent=2, allow_nan=False).replace("\n", "\n  ")
    return json.dumps(value, allow_nan=False)


# ------------------------------------------------------------------------------------------------------- Instance
@dataclass(frozen=True, eq=False, repr=False)
class Instance:
    """One network: M APs, K single-antenna UEs, and everything the models need (all SI units).

    Fields (shapes; units):
      name            str, free label (not hashed)
      ap_pos          [M, 2] AP positions, m
      ue_pos          [K, 2] UE positions, m
      beta            [M, K] large-scale fading, linear dimensionless gain (≥ 0)
      noise_w         receiver noise power per antenna over the bandwidth, W
      p_ue_max_w      [K] maximum uplink data power per UE, W
      p_pilot_w       [K] uplink pilot power per UE, W
      p_ap_max_w      [M] maximum downlink power per AP, W
      antennas        [M] antennas per AP, int ≥ 1
      tau_p           pilot length (= number of orthogonal pilots), samples, 1 ≤ τ_p ≤ τ_c
      tau_c           coherence-block length, samples
      bandwidth_hz    system bandwidth, Hz
      power_model     constants of the power-consumption model (default :data:`DEFAULT_POWER_MODEL`)
      qos             QoS targets, e.g. ``{"se_min_bps_hz": 0.5}`` or a per-UE list
      pilots          [K] pilot index of each UE in 0..τ_p−1, or None (no assignment stored: the model decides)
      pilot_seqs      [τ_p, K] complex pilot matrix Ψ, column k = UE k's pilot ψ_k with ‖ψ_k‖₂ = 1 (may be
                      non-orthogonal, Rao–Ashikhmin–Yang 2020), or None. When both are given ``pilot_seqs`` wins
                      for the models; ``pilots`` is then informative only. Stored in JSON as [τ_p][K][2]
                      (real, imag) floats, and only when set (see :meth:`pilot_matrix`)
      meta            provenance: generator, generator_version, seed, source, units {field: unit}, parameters
      card            library card: problems [..], optimum {problem: value}, certified_by {problem: "solver ver"}

    Arrays are read-only; mappings are read-only views (nested lists become tuples). Construct with
    ``Instance(...)`` (strict: every shape must already match) or :meth:`create` (broadcasts scalar powers and
    antenna counts, fills default units). Both validate through :meth:`check`.
    """

    name: str
    ap_pos: np.ndarray
    ue_pos: np.ndarray
    beta: np.ndarray
    noise_w: float
    p_ue_max_w: np.ndarray
    p_pilot_w: np.ndarray
    p_ap_max_w: np.ndarray
    antennas: np.ndarray
    tau_p: int
    tau_c: int
    bandwidth_hz: float
    power_model: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_POWER_MODEL))
    qos: Mapping[str, Any] = field(default_factory=dict)
    pilots: np.ndarray | None = None
    pilot_seqs: np.ndarray | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    card: Mapping[str, Any] = field(default_factory=dict)

    # -------------------------------------------------------------------------------------------- construction
    def __post_init__(self) -> None:
        put = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen dataclass)
        if not isinstance(self.name, str) or not self.name.strip():
            raise InputError("name", f"expected a non-empty string, got {self.name!r}")
        for k in _FLOAT_ARRAYS:
            put(k, _float_array(k, getattr(self, k)))
        put("antennas", _int_array("antennas", self.antennas))
        put("pilots", None if self.pilots is None else _int_array("pilots", self.pilots))
        put("pilot_seqs", None if self.pilot_seqs is None else _complex_array("pilot_seqs", self.pilot_seqs))
        put("noise_w", _float_scalar("noise_w", self.noise_w))
        put("bandwidth_hz", _float_scalar("bandwidth_hz", self.bandwidth_hz))
        put("tau_p", _int_scalar("tau_p", self.tau_p))
        put("tau_c", _int_scalar("tau_c", self.tau_c))

        pm = _mapping("power_model", self.power_model)
        put("power_model", MappingProxyType({k: _float_scalar(f"power_model.{k}", v) for k, v in pm.items()}))
        qos = {}
        for k, v in _mapping("qos", self.qos).items():
            qos[k] = (_float_array(f"qos.{k}", v) if isinstance(v, (list, tuple, np.ndarray))
                      else _float_scalar(f"qos.{k}", v))
        put("qos", MappingProxyType(qos))
        for k in ("meta", "card"):
            try:
                put(k, _freeze(k, _mapping(k, getattr(self, k))))
            except RecursionError:
                raise InputError(k, "nested too deeply") from None
        self.check()

    @classmethod
    def create(cls, *, name: str, ap_pos, ue_pos, beta, noise_w: float, p_ue_max_w, p_pilot_w, p_ap_max_w,
               tau_p: int, tau_c: int, bandwidth_hz: float, antennas=1, power_model: Mapping | None = None,
               qos: Mapping | None = None, pilots=None, pilot_seqs=None, meta: Mapping | None = None,
               card: Mapping | None = None) -> "Instance":
        """Build a validated instance, broadcasting scalar ``p_ue_max_w``/``p_pilot_w`` to [K] and
        ``p_ap_max_w``/``antennas`` to [M], using :data:`DEFAULT_POWER_MODEL` when ``power_model`` is None and
        filling ``meta["units"]`` with :data:`CANONICAL_UNITS` (plus the power-model units) where not given."""
        def n_rows(pos):
            try:
                return np.shape(pos)[0] if np.ndim(pos) == 2 else None
            except (ValueError, TypeError):
                return None

        def bcast(v, n):
            return np.full(n, v, dtype=float) if n is not None and np.ndim(v) == 0 else v

        M, K = n_rows(ap_pos), n_rows(ue_pos)
        power_model = dict(DEFAULT_POWER_MODEL if power_model is None else power_model)
        meta = dict(meta or {})
        unit_map = {**CANONICAL_UNITS,
                    **{f"power_model.{k}": u for k, u in POWER_MODEL_UNITS.items() if k in power_model}}
        meta["units"] = {**unit_map, **dict(meta.get("units") or {})}
        return cls(name=name, ap_pos=ap_pos, ue_pos=ue_pos, beta=beta, noise_w=noise_w,
                   p_ue_max_w=bcast(p_ue_max_w, K), p_pilot_w=bcast(p_pilot_w, K),
                   p_ap_max_w=bcast(p_ap_max_w, M), antennas=bcast(antennas, M), tau_p=tau_p, tau_c=tau_c,
                   bandwidth_hz=bandwidth_hz, power_model=power_model, qos=dict(qos or {}), pilots=pilots,
                   pilot_seqs=pilot_seqs, meta=meta, card=dict(card or {}))

    def replace(self, **changes) -> "Instance":
        """A new validated instance with some fields changed (``name``, ``card`` and ``meta`` are kept unless
        given). Unknown field names raise InputError naming them."""
        known = {f.name for f in dataclasses.fields(self)}
        for k in changes:
            if k not in known:
                raise InputError(k, f"not an Instance field; known: {', '.join(sorted(known))}")
        return dataclasses.replace(self, **changes)

    # ---------------------------------------------------------------------------------------------- validation
    def check(self) -> "Instance":
        """Validate everything; raise InputError naming the first bad field. Never corrects. Returns self."""
        for k in ("ap_pos", "ue_pos"):
            a = getattr(self, k)
            if a.ndim != 2 or a.shape[1] != 2 or a.shape[0] < 1:
                raise InputError(k, f"shape {a.shape}; expected ({'M' if k == 'ap_pos' else 'K'}, 2) "
                                    "with at least one row")
            if not np.all(np.isfinite(a)):
                raise InputError(k, f"non-finite coordinate at {_where(~np.isfinite(a))}")
        M, K = self.M, self.K
        origin = f"from ap_pos {self.ap_pos.shape} and ue_pos {self.ue_pos.shape}"
        if self.beta.shape != (M, K):
            raise InputError("beta", f"shape {self.beta.shape} does not match (M, K) = {(M, K)} {origin}")
        if np.any(np.isnan(self.beta)):
            raise InputError("beta", f"NaN at (m, k) = {_where(np.isnan(self.beta))}")
        if np.any(np.isinf(self.beta)):
            raise InputError("beta", f"infinite value at (m, k) = {_where(np.isinf(self.beta))}")
        if np.any(self.beta < 0):
            bad = self.beta < 0
            raise InputError("beta", f"negative gain {self.beta[bad][0]!r} at (m, k) = {_where(bad)}; "
                                     "beta is a linear gain ≥ 0 (not dB)")
        for k in ("noise_w", "bandwidth_hz"):
            v = getattr(self, k)
            if not (math.isfinite(v) and v > 0):
                raise InputError(k, f"must be positive and finite, got {v!r}")
        for k, n, who in (("p_ue_max_w", K, "K"), ("p_pilot_w", K, "K"), ("p_ap_max_w", M, "M"),
                          ("antennas", M, "M")):
            a = getattr(self, k)
            if a.shape != (n,):
                raise InputError(k, f"shape {a.shape} does not match ({who},) = {(n,)} {origin}")
            bad = ~np.isfinite(a) | (a <= 0)
            if np.any(bad):
                what = "antenna count" if k == "antennas" else "power"
                raise InputError(k, f"non-positive or non-finite {what} {a[bad][0]!r} at index {_where(bad)}")
        if self.tau_c < 1:
            raise InputError("tau_c", f"must be ≥ 1, got {self.tau_c}")
        if self.tau_p < 1:
            raise InputError("tau_p", f"must be ≥ 1, got {self.tau_p}")
        if self.tau_p > self.tau_c:
            raise InputError("tau_p", f"{self.tau_p} exceeds tau_c = {self.tau_c}")
        if self.pilots is not None:
            if self.pilots.shape != (K,):
                raise InputError("pilots", f"shape {self.pilots.shape} does not match (K,) = {(K,)} {origin}")
            bad = (self.pilots < 0) | (self.pilots >= self.tau_p)
            if np.any(bad):
                raise InputError("pilots", f"pilot index {int(self.pilots[bad][0])} at UE {_where(bad)} is "
                                           f"outside 0..tau_p-1 = 0..{self.tau_p - 1}")
        if self.pilot_seqs is not None:
            psi = self.pilot_seqs
            if psi.shape != (self.tau_p, K):
                raise InputError("pilot_seqs", f"shape {psi.shape} does not match (tau_p, K) = {(self.tau_p, K)}")
            if not np.all(np.isfinite(psi)):
                raise InputError("pilot_seqs", f"non-finite entry at (t, k) = {_where(~np.isfinite(psi))}")
            norms = np.linalg.norm(psi, axis=0)
            bad = np.abs(norms - 1.0) > PILOT_NORM_TOL
            if np.any(bad):
                k = int(np.argmax(bad))
                raise InputError("pilot_seqs", f"column {k} (pilot of UE {k}) has norm {float(norms[k])!r}; "
                                               f"every pilot must have unit 2-norm (within {PILOT_NORM_TOL:g})")
        for k, v in self.power_model.items():
            if not (math.isfinite(v) and v >= 0):
                raise InputError(f"power_model.{k}", f"must be finite and ≥ 0, got {v!r}")
        if "zeta" in self.power_model and not 0 < self.power_model["zeta"] <= 1:
            raise InputError("power_model.zeta", f"an efficiency in (0, 1], got {self.power_model['zeta']!r}")
        for k, v in self.qos.items():
            self._check_qos(k, np.asarray(v))
        self._check_meta()
        self._check_card()
        return self

    def _check_qos(self, key: str, a: np.ndarray) -> None:
        name = f"qos.{key}"
        rule = QOS_FIELDS.get(key)
        if rule is None:
            if a.ndim > 1 or not np.all(np.isfinite(a)):
                raise InputError(name, "must be a finite number or a list of finite numbers")
            return
        shape, minimum, strict = rule
        if shape == "scalar" and a.ndim != 0:
            raise InputError(name, f"expected one number, got a list of shape {a.shape}")
        if shape == "per_ue" and a.ndim != 0 and a.shape != (self.K,):
            raise InputError(name, f"expected one number or a list of K = {self.K} numbers (one per UE), "
                                   f"got a list of shape {a.shape}")
        if not np.all(np.isfinite(a)):
            raise InputError(name, f"must be finite, got {float(a.ravel()[~np.isfinite(a.ravel())][0])!r}"
                                   + ("" if a.ndim == 0 else f" at index {_where(~np.isfinite(a))}"))
        bad = a <= minimum if strict else a < minimum
        if np.any(bad):
            op = ">" if strict else "≥"
            raise InputError(name, f"must be {op} {minimum:g}, got {float(a.ravel()[bad.ravel()][0])!r}"
                                   + ("" if a.ndim == 0 else f" at index {_where(bad)}"))

    def _check_meta(self) -> None:
        unit_map = self.meta.get("units", {})
        if not isinstance(unit_map, Mapping):
            raise InputError("meta.units", f"expected a mapping field -> unit, got {type(unit_map).__name__}")
        for k, u in unit_map.items():
            units.check_unit(f"meta.units.{k}", u)
            if k in CANONICAL_UNITS and u != CANONICAL_UNITS[k]:
                raise InputError(f"meta.units.{k}", f"says {u!r} but an Instance stores {k} in "
                                                    f"{CANONICAL_UNITS[k]!r}; convert with instances.units")
        try:
            json.dumps(_thaw(self.meta), allow_nan=False)
        except ValueError as exc:
            raise InputError("meta", f"not storable as JSON ({exc})") from None

    def _check_card(self) -> None:
        card = self.card
        problems = card.get("problems", ())
        if not isinstance(problems, tuple) or not all(isinstance(p, str) for p in problems):
            raise InputError("card.problems", "expected a list of problem ids (strings)")
        optimum = _mapping("card.optimum", card.get("optimum", {}))
        for p, v in optimum.items():
            if p not in problems:
                raise InputError("card.optimum", f"problem {p!r} is not in card.problems {list(problems)}")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not _finite(v):
                raise InputError(f"card.optimum.{p}", f"expected a finite number, got {_show(v)}")
        certified = _mapping("card.certified_by", card.get("certified_by", {}))
        for p, v in certified.items():
            if p not in optimum:
                raise InputError("card.certified_by", f"problem {p!r} has no card.optimum to certify")
            if not isinstance(v, str) or not v:
                raise InputError(f"card.certified_by.{p}", f"expected 'solver version', got {v!r}")
        try:
            json.dumps(_thaw(card), allow_nan=False)
        except ValueError as exc:
            raise InputError("card", f"not storable as JSON ({exc})") from None

    # ---------------------------------------------------------------------------------------------- properties
    @property
    def M(self) -> int:
        """Number of APs."""
        return int(self.ap_pos.shape[0])

    @property
    def K(self) -> int:
        """Number of UEs."""
        return int(self.ue_pos.shape[0])

    @property
    def beta_db(self) -> np.ndarray:
        """10 log10(beta), dB ([M, K]; −inf where beta is 0)."""
        return units.lin_to_db(self.beta)

    @property
    def noise_normalised_beta(self) -> np.ndarray:
        """beta / noise_w, in 1/W ([M, K]): multiply by a transmit power in W to get the received SNR per antenna.

        (The reference MATLAB codes use β/σ² with powers in mW; divide this by 1000 to get that convention.)"""
        return self.beta / self.noise_w

    @property
    def noise_dbm(self) -> float:
        """Noise power in dBm."""
        return float(units.w_to_dbm(self.noise_w))

    @property
    def sizes(self) -> dict[str, Any]:
        """``{M, K, antennas, tau_p, tau_c}``; antennas is one int when all APs have the same count, else a list."""
        ant = self.antennas
        return {"M": self.M, "K": self.K,
                "antennas": int(ant[0]) if np.all(ant == ant[0]) else ant.tolist(),
                "tau_p": self.tau_p, "tau_c": self.tau_c}

    def pilot_matrix(self) -> np.ndarray:
        """The pilot matrix Ψ [τ_p, K] (complex, unit-norm columns; spec iot_nonorthogonal.md §1, §3.1).

        ``pilot_seqs`` when set (it wins over ``pilots``); otherwise the one-hot columns e_{pilots[k]} of the
        identity book (τ_p orthonormal pilots, Ngo 2017 reuse) when ``pilots`` is set; otherwise
        ``InputError("pilots", ...)``. Returns a read-only array."""
        if self.pilot_seqs is not None:
            return self.pilot_seqs
        if self.pilots is None:
            raise InputError("pilots", "no pilots stored (neither pilots nor pilot_seqs is set)")
        psi = np.eye(self.tau_p, dtype=np.complex128)[:, self.pilots]
        psi.setflags(write=False)
        return psi

    @cached_property
    def _canonical(self) -> str:
        payload = {k: _thaw(getattr(self, k)) for k in _PHYSICAL}
        if self.pilot_seqs is not None:  # absent key when None: older instances keep their hash
            payload["pilot_seqs"] = _thaw(self.pilot_seqs)
        payload["meta"] = _thaw(self.meta)
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=True)

    @cached_property
    def content_hash(self) -> str:
        """First 16 hex digits of SHA-256 over the canonical JSON of the physical data and meta
        (``name`` and ``card`` excluded)."""
        return hashlib.sha256(self._canonical.encode("ascii")).hexdigest()[:16]

    def summary(self) -> dict[str, Any]:
        """Compact description (used by ``cfopt instances show``)."""
        bdb = self.beta_db
        return {"name": self.name, "content_hash": self.content_hash, **self.sizes,
                "beta_db_min": float(bdb.min()), "beta_db_max": float(bdb.max()),
                "noise_dbm": self.noise_dbm, "seed": self.meta.get("seed"),
                "generator": self.meta.get("generator"),
                "problems": list(self.card.get("problems", ())), "optimum": _thaw(self.card.get("optimum", {})),
                "certified_by": _thaw(self.card.get("certified_by", {}))}

    # ------------------------------------------------------------------------------------------------- equality
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Instance):
            return NotImplemented
        return (self.name == other.name and self._canonical == other._canonical
                and _thaw(self.card) == _thaw(other.card))

    def __hash__(self) -> int:
        return hash((self.name, self._canonical))

    def __reduce__(self):
        # mappingproxy fields do not pickle; rebuild (and re-validate) from plain data instead (Dask, processes)
        return (_rebuild, ({f.name: _thaw(getattr(self, f.name)) for f in dataclasses.fields(self)},))

    def __repr__(self) -> str:
        return (f"Instance(name={self.name!r}, M={self.M}, K={self.K}, tau_p={self.tau_p}, tau_c={self.tau_c}, "
                f"content_hash={self.content_hash!r})")

    # ----------------------------------------------------------------------------------------------- (de)serialise
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict: format tags, name, content_hash, every field, meta and card."""
        d: dict[str, Any] = {"format": FORMAT, "format_version": FORMAT_VERSION, "name": self.name,
                             "content_hash": self.content_hash}
        for k in _PHYSICAL:
            d[k] = _thaw(getattr(self, k))
            if k == "pilots" and self.pilot_seqs is not None:  # written only when set (hash compatibility)
                d["pilot_seqs"] = _thaw(self.pilot_seqs)
        d["meta"] = _thaw(self.meta)
        d["card"] = _thaw(self.card)
        return d

    @classmethod
    def from_dict(cls, data: Any) -> "Instance":
        """Inverse of :meth:`to_dict`. Missing or unknown keys, wrong types, bad values and a ``content_hash``
        that does not match the data all raise InputError naming the field."""
        data = _mapping("instance", data)
        fmt = data.get("format", FORMAT)
        if fmt != FORMAT:
            raise InputError("format", f"expected {FORMAT!r}, got {fmt!r}")
        ver = data.get("format_version", FORMAT_VERSION)
        if isinstance(ver, bool) or not isinstance(ver, int) or not 1 <= ver <= FORMAT_VERSION:
            raise InputError("format_version", f"unsupported version {_show(ver)} (this cfopt reads "
                                               f"1..{FORMAT_VERSION})")
        names = [f.name for f in dataclasses.fields(cls)]
        optional = {"power_model", "qos", "pilots", "pilot_seqs", "meta", "card"}
        for k in names:
            if k not in data and k not in optional:
                raise InputError(k, "missing")
        for k in data:
            if k not in names and k not in ("format", "format_version", "content_hash"):
                raise InputError(k, f"unknown field; known: {', '.join(names)}")
        inst = cls(**{k: data[k] for k in names if k in data})
        stored = data.get("content_hash")
        if stored is not None:
            if not isinstance(stored, str):
                raise InputError("content_hash", f"expected a string, got {type(stored).__name__}")
            if stored != inst.content_hash:
                raise InputError("content_hash", f"stored {stored} but the data hash to {inst.content_hash}: "
                                                 "the file was edited or corrupted (remove content_hash to accept "
                                                 "a deliberate hand edit)")
        return inst

    def to_json(self) -> str:
        """The file text written by :meth:`save` (one matrix row per line)."""
        items = list(self.to_dict().items())
        body = ",\n".join(f"  {json.dumps(k)}: {_dump(v)}" for k, v in items)
        return "{\n" + body + "\n}\n"

    def save(self, path: str | Path) -> Path:
        """Write the instance as JSON to ``path`` (overwrites). Raises InputError('file', ...) if it cannot."""
        path = Path(path)
        try:
            path.write_text(self.to_json(), encoding="utf-8")
        except OSError as exc:
            raise InputError("file", f"cannot write {path}: {exc.strerror or exc}") from None
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Instance":
        """Read an instance written by :meth:`save`. Unreadable or non-JSON files raise InputError('file', ...);
        bad content raises InputError naming the field (the message adds the path)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise InputError("file", f"cannot read {path}: {reason}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError("file", f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}, "
                                     f"column {exc.colno})") from None
        except RecursionError:
            raise InputError("file", f"{path} is nested too deeply to be an instance file") from None
        try:
            return cls.from_dict(data)
        except InputError as exc:
            raise InputError(exc.field, f"{exc.message} (in {path})") from None
        except RecursionError:   # JSON nested just below json's own limit, too deep for the checks
            raise InputError("file", f"{path} is nested too deeply to be an instance file") from None


def _rebuild(fields: dict[str, Any]) -> Instance:
    """Unpickling helper (see :meth:`Instance.__reduce__`)."""
    return Instance(**fields)
