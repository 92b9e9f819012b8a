"""The :class:`Instance`: frozen, validated data of one cell-free massive MIMO network (DESIGN.md §1, instances/).

An instance holds only SI numbers: positions in m, large-scale fading ``beta`` as a linear dimensionless gain,
powers in W, bandwidth in Hz, pilot and coherence lengths in samples. ``meta["units"]`` records those units
(see :data:`CANONICAL_UNITS`); an instance never converts units itself (use :mod:`instances.units`).

Validation (:meth:`Instance.check`) only raises; it never corrects anything. Every failure is an
:class:`~instances.errors.InputError` that names the field (``beta``, ``p_ue_max_w``, ``meta.units.ap_pos``, ...).

Beyond the small core, a paper's extra data lives in typed optional **blocks** (:mod:`instances.blocks`), e.g. the
``pilots`` block with the complex pilot matrix of non-orthogonal pilots (``Instance.pilot_seqs`` reads it).

Files are JSON (:meth:`Instance.save` / :meth:`Instance.load`, :mod:`instances._io`) with a ``content_hash``: the
first 16 hex digits of the SHA-256 of a canonical JSON of the physical data, the blocks and ``meta`` (``name`` and
the library ``card`` are left out, so renaming an instance or certifying an optimum keeps its hash). A stored hash
that does not match the data is rejected; drop the ``content_hash`` key to load a deliberately hand-edited file.
A block enters the hash (and the file) only when it is set, so instances without it hash exactly as before the
block existed; the ``pilots`` block hashes under its pre-block key ``pilot_seqs`` (stored hashes stay valid).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from instances import _checks, _io, cards, units
from instances._convert import (_float_array, _float_scalar, _freeze, _int_array, _int_scalar, _mapping,
                                _thaw)
from instances.blocks import PILOT_NORM_TOL, Block, make_blocks
from instances.errors import InputError

FORMAT = _io.FORMAT
FORMAT_VERSION = _io.FORMAT_VERSION

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


_FLOAT_ARRAYS = ("ap_pos", "ue_pos", "beta", "p_ue_max_w", "p_pilot_w", "p_ap_max_w")
_PHYSICAL = ("ap_pos", "ue_pos", "beta", "noise_w", "p_ue_max_w", "p_pilot_w", "p_ap_max_w", "antennas",
             "tau_p", "tau_c", "bandwidth_hz", "power_model", "qos", "pilots")


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
      blocks          typed optional blocks ``{name: block}`` (:mod:`instances.blocks`), e.g. ``"pilots"``: the
                      :class:`~instances.blocks.PilotBlock` with Ψ [τ_p, K] (read as :attr:`pilot_seqs`). When
                      both are given the block's Ψ wins for the models; ``pilots`` is then informative only
      meta            provenance: generator, generator_version, seed, source, units {field: unit}, parameters
      card            library card (:mod:`instances.cards`): ``{problems: {problem: {optimum, bound, gap,
                      certified_by, solution, context, generated_by, ...}}, notes}``

    Arrays are read-only; mappings are read-only views (nested lists become tuples). Construct with
    ``Instance(...)`` (strict: every shape must already match) or :meth:`create` (broadcasts scalar powers and
    antenna counts, fills default units). Both validate through :meth:`check`. ``pilot_seqs=`` is still accepted
    by :meth:`create` and :meth:`replace` (it sets the ``pilots`` block).
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
    blocks: Mapping[str, Block] = field(default_factory=dict)
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
        put("blocks", make_blocks(self.blocks))
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
        put("card", cards.upgrade(_mapping("card", self.card)))
        for k in ("meta", "card"):
            try:
                put(k, _freeze(k, _mapping(k, getattr(self, k))))
            except RecursionError:
                raise InputError(k, "nested too deeply") from None
        self.check()

    @classmethod
    def create(cls, *, name: str, ap_pos, ue_pos, beta, noise_w: float, p_ue_max_w, p_pilot_w, p_ap_max_w,
               tau_p: int, tau_c: int, bandwidth_hz: float, antennas=1, power_model: Mapping | None = None,
               qos: Mapping | None = None, pilots=None, pilot_seqs=None, blocks: Mapping | None = None,
               meta: Mapping | None = None, card: Mapping | None = None) -> "Instance":
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
                   blocks=make_blocks(blocks, pilot_seqs=pilot_seqs), meta=meta, card=dict(card or {}))

    def replace(self, **changes) -> "Instance":
        """A new validated instance with some fields changed (``name``, ``card`` and ``meta`` are kept unless
        given). ``pilot_seqs=`` sets (an array) or removes (None) the ``pilots`` block. Unknown field names raise
        InputError naming them."""
        known = {f.name for f in dataclasses.fields(self)}
        for k in changes:
            if k not in known and k != "pilot_seqs":
                raise InputError(k, f"not an Instance field; known: {', '.join(sorted(known))}")
        if "pilot_seqs" in changes:
            seqs = changes.pop("pilot_seqs")
            rest = {k: v for k, v in dict(changes.get("blocks", self.blocks)).items() if k != "pilots"}
            changes["blocks"] = make_blocks(rest, pilot_seqs=seqs)
        return dataclasses.replace(self, **changes)

    # ---------------------------------------------------------------------------------------------- validation
    # ---------------------------------------------------------------------------------------------- validation
    def check(self) -> "Instance":
        """Validate everything; raise InputError naming the first bad field. Never corrects. Returns self."""
        _checks.check_geometry(self)
        _checks.check_pilots(self)
        for blk in self.blocks.values():
            blk.check(self)
        _checks.check_power_model(self)
        for k, v in self.qos.items():
            _checks.check_qos(self, k, np.asarray(v), QOS_FIELDS)
        _checks.check_meta(self, CANONICAL_UNITS)
        cards.check(self.card)
        return self

    def block(self, name: str) -> Block | None:
        """The block ``name`` (e.g. ``"pilots"``), or None when the instance has none."""
        return self.blocks.get(name)

    @property
    def pilot_seqs(self) -> np.ndarray | None:
        """The pilot matrix Ψ [τ_p, K] of the ``pilots`` block (read-only, complex), or None (no block)."""
        blk = self.blocks.get("pilots")
        return None if blk is None else blk.sequences

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
        for blk in self.blocks.values():   # absent when unset: instances without a block keep their hash
            payload.update(blk.hash_items())
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
                **cards.summary(self.card)}

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
        fields = {f.name: _thaw(getattr(self, f.name)) for f in dataclasses.fields(self) if f.name != "blocks"}
        fields["blocks"] = {name: blk.to_json() for name, blk in self.blocks.items()}
        return (_rebuild, (fields,))

    def __repr__(self) -> str:
        return (f"Instance(name={self.name!r}, M={self.M}, K={self.K}, tau_p={self.tau_p}, tau_c={self.tau_c}, "
                f"content_hash={self.content_hash!r})")

    # ----------------------------------------------------------------------------------------------- (de)serialise
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict: format tags, name, content_hash, every field, blocks (when set), meta, card."""
        return _io.to_dict(self, _PHYSICAL)

    @classmethod
    def from_dict(cls, data: Any) -> "Instance":
        """Inverse of :meth:`to_dict` (also reads files with a top-level ``pilot_seqs``). Missing or unknown keys,
        wrong types, bad values and a ``content_hash`` that does not match the data all raise InputError naming
        the field."""
        return _io.from_dict(cls, data)

    def to_json(self) -> str:
        """The file text written by :meth:`save` (one matrix row per line)."""
        return _io.to_json(self)

    def save(self, path: str | Path) -> Path:
        """Write the instance as JSON to ``path`` (overwrites). Raises InputError('file', ...) if it cannot."""
        return _io.save(self, path)

    @classmethod
    def load(cls, path: str | Path) -> "Instance":
        """Read an instance written by :meth:`save`. Unreadable or non-JSON files raise InputError('file', ...);
        bad content raises InputError naming the field (the message adds the path)."""
        return _io.load(cls, path)


def _rebuild(fields: dict[str, Any]) -> Instance:
    """Unpickling helper (see :meth:`Instance.__reduce__`)."""
    return Instance(**fields)