"""Conversion and freezing helpers of :class:`instances.instance.Instance` (read-only numpy arrays and mappings,
JSON forms, error-message formatting). Every failure is an :class:`~instances.errors.InputError` naming the field."""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from instances.errors import InputError

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
