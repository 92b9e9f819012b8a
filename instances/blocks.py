"""Typed optional blocks of an :class:`~instances.instance.Instance` (DESIGN.md §1, instances/).

The core of an instance is small (positions, ``beta``, noise, powers, antennas, pilot length, bandwidth, power
model, QoS, meta); a paper that needs more data adds a **block**: a frozen dataclass registered with
:func:`register_block` under a name, with

* ``check(instance)`` — validate against the core (shapes, ranges); raise InputError naming ``<block>.<field>``;
* ``to_json()`` / ``from_json(data)`` — its JSON form, stored in the instance file under ``"blocks": {name: ...}``;
* ``hash_items()`` — its entries of the canonical payload behind the content hash (default
  ``{"block.<name>": to_json()}``). Every block is in the hash.

Blocks are kept in ``Instance.blocks`` (a read-only mapping name -> block) and read with ``instance.block(name)``.

The ``pilots`` block (:class:`PilotBlock`) holds the complex pilot matrix Ψ [τ_p, K] of non-orthogonal pilots
(Rao–Ashikhmin–Yang 2020). Its hash entry keeps the pre-block key ``pilot_seqs``, so every instance stored before
the block existed keeps its content hash, and files with a top-level ``pilot_seqs`` still load into the block.
(The integer pilot assignment ``Instance.pilots`` [K] stays a core field for now: the uplink-ee models read it.)
"""
from __future__ import annotations

from abc import ABC, abstractmethod

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from instances._convert import _complex_array, _mapping, _thaw, _where
from instances.errors import InputError

#: block name -> block class
BLOCKS: dict[str, type] = {}

#: Allowed deviation of a pilot column's 2-norm from 1 (the ``pilots`` block).
PILOT_NORM_TOL = 1e-9


def register_block(cls: type) -> type:
    """Class decorator: register a block class under its ``NAME``."""
    name = getattr(cls, "NAME", None)
    if not isinstance(name, str) or not name:
        raise ValueError(f"block class {cls.__name__} needs a NAME")
    if name in BLOCKS and BLOCKS[name] is not cls and BLOCKS[name].__qualname__ != cls.__qualname__:
        raise ValueError(f"block {name!r} registered twice")
    BLOCKS[name] = cls
    return cls


class Block(ABC):
    """Base of the blocks: defaults for the hash entry and the equality of frozen array-holding dataclasses. A block
    must give its JSON form (:meth:`to_json`, :meth:`from_json`)."""

    NAME: ClassVar[str] = ""

    def check(self, instance: Any) -> None:  # pragma: no cover - overridden
        """Validate against the instance's core; raise InputError naming the field."""

    @abstractmethod
    def to_json(self) -> dict[str, Any]:
        """The block's JSON form."""

    @classmethod
    @abstractmethod
    def from_json(cls, data: Any) -> "Block":
        """The block from its JSON form; InputError naming the field when malformed."""

    def hash_items(self) -> dict[str, Any]:
        """The block's entries in the canonical payload of the content hash."""
        return {f"block.{self.NAME}": self.to_json()}


@register_block
@dataclass(frozen=True, eq=False)
class PilotBlock(Block):
    """The ``pilots`` block: ``sequences`` = Ψ [τ_p, K], complex, column k = UE k's pilot ψ_k with ‖ψ_k‖₂ = 1
    (may be non-orthogonal). JSON form ``{"sequences": [τ_p][K][2]}`` ((real, imag) pairs, bit for bit)."""

    NAME: ClassVar[str] = "pilots"
    sequences: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "sequences", _complex_array("pilots.sequences", self.sequences))

    def check(self, instance: Any) -> None:
        psi, K, tau_p = self.sequences, instance.K, instance.tau_p
        if psi.shape != (tau_p, K):
            raise InputError("pilot_seqs", f"shape {psi.shape} does not match (tau_p, K) = {(tau_p, K)}")
        if not np.all(np.isfinite(psi)):
            raise InputError("pilot_seqs", f"non-finite entry at (t, k) = {_where(~np.isfinite(psi))}")
        norms = np.linalg.norm(psi, axis=0)
        bad = np.abs(norms - 1.0) > PILOT_NORM_TOL
        if np.any(bad):
            k = int(np.argmax(bad))
            raise InputError("pilot_seqs", f"column {k} (pilot of UE {k}) has norm {float(norms[k])!r}; "
                                           f"every pilot must have unit 2-norm (within {PILOT_NORM_TOL:g})")

    def to_json(self) -> dict[str, Any]:
        return {"sequences": _thaw(self.sequences)}

    @classmethod
    def from_json(cls, data: Any) -> "PilotBlock":
        data = _mapping("blocks.pilots", data)
        unknown = [k for k in data if k != "sequences"]
        if unknown:
            raise InputError(f"blocks.pilots.{unknown[0]}", "unknown field; known: sequences")
        if "sequences" not in data:
            raise InputError("blocks.pilots.sequences", "missing")
        return cls(data["sequences"])

    def hash_items(self) -> dict[str, Any]:
        return {"pilot_seqs": _thaw(self.sequences)}    # the pre-block key: stored hashes stay valid

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PilotBlock) and np.array_equal(self.sequences, other.sequences)

    __hash__ = None  # type: ignore[assignment]


def make_blocks(value: Any, *, pilot_seqs: Any = None) -> Mapping[str, Block]:
    """``{name: block}`` from blocks, their JSON forms (``{"pilots": {"sequences": ...}}``) or None, plus the
    legacy ``pilot_seqs`` array (it becomes the ``pilots`` block). Unknown names raise InputError."""
    from types import MappingProxyType

    out: dict[str, Block] = {}
    for name, blk in dict(_mapping("blocks", value or {})).items():
        cls = BLOCKS.get(name)
        if cls is None:                      # a paper's block registers with its generator module: discover them
            from instances.generators import discover

            discover()
            cls = BLOCKS.get(name)
        if cls is None:
            raise InputError(f"blocks.{name}", f"unknown block; known: {', '.join(sorted(BLOCKS))}")
        if blk is None:
            continue
        out[name] = blk if isinstance(blk, cls) else cls.from_json(blk)
    if pilot_seqs is not None:
        if "pilots" in out:
            raise InputError("pilot_seqs", "given twice (as pilot_seqs and as the pilots block)")
        out["pilots"] = PilotBlock(_complex_array("pilot_seqs", pilot_seqs))
    return MappingProxyType(dict(sorted(out.items())))


__all__ = ["BLOCKS", "Block", "PILOT_NORM_TOL", "PilotBlock", "make_blocks", "register_block"]
