"""The parameters of a registered generator, read from its signature (annotations and defaults).

``cfopt instances make SCENARIO -p key=value`` (:mod:`experiments.cli_instances`) and the study checker
(:mod:`experiments.study`) both use :func:`parameters`: a parameter's type comes from its annotation
(``int``, ``float``, ``str``, ``bool``, a mapping; ``X | None`` accepts ``none``), else from its default.
:func:`parse` converts command-line text, :func:`check` a value read from a file; both raise InputError naming the
field the caller gives.
"""
from __future__ import annotations

import inspect
import json
import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from instances.errors import InputError

_KINDS = {int: "int", float: "float", str: "str", bool: "bool"}


@dataclass(frozen=True)
class Param:
    """One generator parameter."""

    name: str
    kind: str                   # "int", "float", "str", "bool", "mapping" or "any"
    required: bool
    default: Any = None
    nullable: bool = False

    def describe(self) -> str:
        kind = self.kind + (" | none" if self.nullable else "")
        return f"{self.name} ({kind}; {'required' if self.required else f'default {self.default!r}'})"


def _kind(annotation: Any, default: Any, required: bool) -> tuple[str, bool]:
    """(kind, nullable) of an annotation (a type or a ``X | None`` union), else of the default's type."""
    nullable = not required and default is None
    args = typing.get_args(annotation)
    if args:                                        # a union such as int | None
        nullable = nullable or type(None) in args
        rest = [a for a in args if a is not type(None)]
        annotation = rest[0] if len(rest) == 1 else Any
    origin = typing.get_origin(annotation) or annotation
    if isinstance(origin, type) and issubclass(origin, Mapping):
        return "mapping", nullable
    if origin in _KINDS:
        return _KINDS[origin], nullable
    if default is not None and type(default) in _KINDS:
        return _KINDS[type(default)], nullable
    return "any", nullable


def parameters(generator: Any) -> dict[str, Param]:
    """``{name: Param}`` of a generator function (``seed`` included), in signature order."""
    try:
        hints = typing.get_type_hints(generator)
    except Exception:  # unresolvable annotations: fall back to the defaults' types
        hints = {}
    out = {}
    for name, p in inspect.signature(generator).parameters.items():
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        required = p.default is inspect.Parameter.empty
        default = None if required else p.default
        kind, nullable = _kind(hints.get(name, Any), default, required)
        out[name] = Param(name, kind, required, default, nullable)
    return out


def parse(param: Param, text: str, field: str) -> Any:
    """The value of ``param`` from command-line ``text``; InputError(``field``) naming what it accepts."""
    if param.nullable and text.strip().lower() in ("none", "null"):
        return None
    kind = param.kind
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
            return value
        if kind == "bool":
            low = text.strip().lower()
            if low not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return low in ("true", "1", "yes")
        if kind == "mapping":
            value = json.loads(text)
            if not isinstance(value, dict):
                raise ValueError
            return value
    except (ValueError, json.JSONDecodeError):
        want = {"int": "an integer", "float": "a finite number", "bool": "true or false",
                "mapping": "a JSON object"}[kind]
        raise InputError(field, f"expected {want}{' or none' if param.nullable else ''}, got {text!r}") from None
    return text


def check(param: Param, value: Any, field: str) -> Any:
    """``value`` (from a TOML/JSON file) checked against ``param``'s kind; InputError(``field``) otherwise."""
    if value is None and param.nullable:
        return value
    kind = param.kind
    ok = {"int": isinstance(value, int) and not isinstance(value, bool),
          "float": isinstance(value, (int, float)) and not isinstance(value, bool),
          "str": isinstance(value, str), "bool": isinstance(value, bool),
          "mapping": isinstance(value, Mapping), "any": True}[kind]
    if not ok:
        raise InputError(field, f"expected {kind}{' or none' if param.nullable else ''} for {param.name}, "
                                f"got {value!r}")
    return value


def help_text(scenario: str, generator: Any) -> str:
    """The parameter table of ``scenario`` printed by ``cfopt instances make SCENARIO --list-params``."""
    doc = (inspect.getdoc(generator) or "").split("\n\n")[0].replace("\n", " ")
    lines = [f"{scenario}: {doc}" if doc else scenario, "parameters (-p NAME=VALUE):"]
    for p in parameters(generator).values():
        lines.append(f"  {p.describe()}")
    return "\n".join(lines)


__all__ = ["Param", "check", "help_text", "parameters", "parse"]
