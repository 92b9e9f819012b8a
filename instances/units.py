"""Unit conversions: the one place in cfopt where dB, dBm, mW, km and friends are turned into SI numbers.

Every function is vectorised (accepts scalars or numpy arrays and returns ``numpy`` values of the same shape).
Instances store SI values only (W, m, Hz, linear gains); the strings in :data:`KNOWN_UNITS` are what an
``Instance.meta["units"]`` entry may say about a field, and :func:`check_unit` is how that is validated.
"""
from __future__ import annotations

import numpy as np

from instances.errors import InputError

#: Thermal noise power spectral density at 290 K, dBm/Hz (Ngo et al. 2017; spec propagation_ngo2017.md).
THERMAL_NOISE_DBM_PER_HZ = -174.0
#: Multiples used when reading papers' tables.
MILLI = 1e-3
KILO = 1e3
MEGA = 1e6
GIGA = 1e9
M_PER_KM = 1e3

#: Unit strings an instance may declare in ``meta["units"]``, with a one-line meaning each.
KNOWN_UNITS: dict[str, str] = {
    "1": "dimensionless (linear gain, ratio, efficiency, count)",
    "dB": "decibel ratio",
    "m": "metre",
    "km": "kilometre",
    "W": "watt",
    "mW": "milliwatt",
    "dBm": "decibel-milliwatt",
    "dBW": "decibel-watt",
    "Hz": "hertz",
    "MHz": "megahertz",
    "samples": "channel uses (symbols) per coherence block",
    "s": "second",
    "bit/s": "bit per second",
    "bit/s/Hz": "spectral efficiency",
    "bit/J": "energy efficiency",
    "W/(Gbit/s)": "watt per gigabit per second (traffic-dependent power)",
}


def check_unit(field: str, unit: object) -> str:
    """Return ``unit`` if it is one of :data:`KNOWN_UNITS`; otherwise raise ``InputError(field, ...)``."""
    if not isinstance(unit, str) or unit not in KNOWN_UNITS:
        raise InputError(field, f"unknown unit {unit!r}; known: {', '.join(KNOWN_UNITS)}")
    return unit


def _f(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def db_to_lin(x_db):
    """10^(x/10): a power ratio in dB to a linear ratio."""
    return np.power(10.0, _f(x_db) / 10.0)


def lin_to_db(x):
    """10 log10(x): a linear power ratio to dB (0 maps to -inf without a warning)."""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(_f(x))


def dbm_to_w(x_dbm):
    """Power in dBm to watts: 10^((x - 30)/10)."""
    return np.power(10.0, (_f(x_dbm) - 30.0) / 10.0)


def w_to_dbm(x_w):
    """Power in watts to dBm: 10 log10(x) + 30 (0 W maps to -inf)."""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(_f(x_w)) + 30.0


def mw_to_w(x_mw):
    """Milliwatts to watts."""
    return _f(x_mw) * MILLI


def w_to_mw(x_w):
    """Watts to milliwatts."""
    return _f(x_w) / MILLI


def km_to_m(x_km):
    """Kilometres to metres."""
    return _f(x_km) * M_PER_KM


def m_to_km(x_m):
    """Metres to kilometres."""
    return _f(x_m) / M_PER_KM


def noise_power_w(bandwidth_hz, noise_figure_db):
    """Receiver noise power in W: -174 dBm/Hz + 10 log10(B) + NF (spec propagation_ngo2017.md, table).

    With B = 20 MHz and NF = 9 dB this is -91.99 dBm (about 6.3e-13 W).
    """
    b = _f(bandwidth_hz)
    nf = _f(noise_figure_db)
    if not np.all(np.isfinite(b)) or np.any(b <= 0):
        raise InputError("bandwidth_hz", f"must be a positive finite number of Hz, got {bandwidth_hz!r}")
    if not np.all(np.isfinite(nf)):
        raise InputError("noise_figure_db", f"must be finite, got {noise_figure_db!r}")
    return dbm_to_w(THERMAL_NOISE_DBM_PER_HZ + 10.0 * np.log10(b) + nf)
