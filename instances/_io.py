"""JSON (de)serialisation of an :class:`~instances.instance.Instance` (:meth:`Instance.to_dict`,
:meth:`Instance.from_dict`, :meth:`Instance.save`, :meth:`Instance.load` delegate here).

File form: ``format``, ``format_version``, ``name``, ``content_hash``, every core field, ``blocks`` (only when the
instance has one: ``{name: block JSON}``), ``meta``, ``card``. Files written before the blocks existed, with a
top-level ``pilot_seqs`` [τ_p][K][2], load into the ``pilots`` block with the same content hash; cards of the
pre-issue-11 form are upgraded (:func:`instances.cards.upgrade`).
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from instances._convert import _dump, _mapping, _show, _thaw
from instances.errors import InputError

FORMAT = "cfopt-instance"
FORMAT_VERSION = 1
#: top-level keys a file may hold besides the dataclass fields
_EXTRA_KEYS = ("format", "format_version", "content_hash", "pilot_seqs")
_OPTIONAL = {"power_model", "qos", "pilots", "blocks", "meta", "card"}


def to_dict(inst: Any, physical: tuple[str, ...]) -> dict[str, Any]:
    d: dict[str, Any] = {"format": FORMAT, "format_version": FORMAT_VERSION, "name": inst.name,
                         "content_hash": inst.content_hash}
    for k in physical:
        d[k] = _thaw(getattr(inst, k))
    if inst.blocks:
        d["blocks"] = {name: blk.to_json() for name, blk in inst.blocks.items()}
    d["meta"] = _thaw(inst.meta)
    d["card"] = _thaw(inst.card)
    return d


def from_dict(cls: type, data: Any) -> Any:
    data = _mapping("instance", data)
    fmt = data.get("format", FORMAT)
    if fmt != FORMAT:
        raise InputError("format", f"expected {FORMAT!r}, got {fmt!r}")
    ver = data.get("format_version", FORMAT_VERSION)
    if isinstance(ver, bool) or not isinstance(ver, int) or not 1 <= ver <= FORMAT_VERSION:
        raise InputError("format_version", f"unsupported version {_show(ver)} (this cfopt reads "
                                           f"1..{FORMAT_VERSION})")
    names = [f.name for f in dataclasses.fields(cls)]
    for k in names:
        if k not in data and k not in _OPTIONAL:
            raise InputError(k, "missing")
    for k in data:
        if k not in names and k not in _EXTRA_KEYS:
            raise InputError(k, f"unknown field; known: {', '.join(names)}")
    kwargs = {k: data[k] for k in names if k in data}
    if data.get("pilot_seqs") is not None:       # a file written before the pilots block existed
        from instances.blocks import make_blocks

        kwargs["blocks"] = make_blocks(data.get("blocks"), pilot_seqs=data["pilot_seqs"])
    inst = cls(**kwargs)
    stored = data.get("content_hash")
    if stored is not None:
        if not isinstance(stored, str):
            raise InputError("content_hash", f"expected a string, got {type(stored).__name__}")
        if stored != inst.content_hash:
            raise InputError("content_hash", f"stored {stored} but the data hash to {inst.content_hash}: "
                                             "the file was edited or corrupted (remove content_hash to accept "
                                             "a deliberate hand edit)")
    return inst


def to_json(inst: Any) -> str:
    items = list(inst.to_dict().items())
    body = ",\n".join(f"  {json.dumps(k)}: {_dump(v)}" for k, v in items)
    return "{\n" + body + "\n}\n"


def save(inst: Any, path: str | Path) -> Path:
    path = Path(path)
    try:
        path.write_text(inst.to_json(), encoding="utf-8")
    except OSError as exc:
        raise InputError("file", f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def load(cls: type, path: str | Path) -> Any:
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
