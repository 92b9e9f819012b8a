"""Declared method options (DESIGN.md §1 experiments: ``Method`` with declared options).

Each method declares what it accepts: name, type, range or choices, default, unit and a one-line doc. The same
declaration

* validates and converts the values of :func:`experiments.solve`, ``cfopt solve/compare -o KEY=VALUE`` (strings from
  the command line become the declared type) and a study's ``[options]`` before any task runs;
* prints ``cfopt solve PROBLEM --method M --list-options``;
* names the real options when one is unknown.

Solver pass-through stays explicit: a ``kind="dict"`` option (``solver_options``) carries the solver's own parameters
(``-o solver_options.limits/gap=1e-6`` on the command line) and is either spread into the runner's keyword arguments
(``to="**"``) or passed under another name (``to="ipopt"``). A pass-through key that is a cfopt-level keyword
(``solver``, ``time_limit``, ``seed``, a declared option) is refused rather than silently shadowing it.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from instances.errors import InputError

KINDS = ("float", "int", "bool", "choice", "str", "floats", "dict", "array", "callable")
#: accepted by every method and validated here; not declared per method
COMMON = ("time_limit", "seed")
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")
_NONE = ("none", "null")


def _fmt(x: float) -> str:
    return format(x, "g")


@dataclass(frozen=True)
class Option:
    """One declared option of a method.

    ``kind``: ``float``/``int`` (range ``low``..``high``, open ends with ``low_open``/``high_open``), ``bool``,
    ``choice`` (``choices``), ``str``, ``floats`` (a number or a list of numbers, each in the range), ``dict`` (a
    pass-through mapping), ``array`` (numbers, Python API or a comma-separated list) and ``callable`` (Python API
    only). ``nullable``: ``None`` (``none`` on the command line) means "the default behaviour" (e.g. the instance's own
    value). ``to``: the runner's keyword (default: ``name``; ``"**"`` spreads a dict into the keywords).
    """

    name: str
    kind: str
    default: Any = None
    doc: str = ""
    unit: str = ""
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    nullable: bool = False
    to: str | None = None
    #: a ``choice`` that also takes an explicit array from the Python API (e.g. an initial association)
    array_ok: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"option {self.name!r}: unknown kind {self.kind!r}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"option {self.name!r}: a choice needs choices")

    # ------------------------------------------------------------------ description
    def _range(self) -> str:
        if self.low is None and self.high is None:
            return ""
        if self.low is not None and self.high is not None:
            return (f" in {'(' if self.low_open else '['}{_fmt(self.low)}, {_fmt(self.high)}"
                    f"{')' if self.high_open else ']'}")
        if self.low is not None:
            return f" {'>' if self.low_open else '≥'} {_fmt(self.low)}"
        return f" {'<' if self.high_open else '≤'} {_fmt(self.high)}"

    def accepts(self) -> str:
        """What the option accepts, in words (used in every error message and in ``--list-options``)."""
        k = self.kind
        if k == "float":
            text = "a number" + self._range()
        elif k == "int":
            text = "an integer" + self._range()
        elif k == "bool":
            text = "true or false"
        elif k == "choice":
            text = "one of: " + ", ".join(self.choices) + (" (or an explicit array in Python)" if self.array_ok
                                                           else "")
        elif k == "str":
            text = "a string"
        elif k == "floats":
            text = "a number or a list of numbers" + (f", each{self._range()}" if self._range() else "")
        elif k == "dict":
            text = f"named parameters, given one by one as -o {self.name}.NAME=VALUE (a dict in Python)"
        elif k == "array":
            text = "a list of numbers" + (f", each{self._range()}" if self._range() else "")
        else:
            text = "a Python callable (Python API only)"
        return text + (" or none" if self.nullable else "")

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.kind, "accepts": self.accepts(), "default": self.default,
                "unit": self.unit, "doc": self.doc}

    # ------------------------------------------------------------------ conversion
    def _bad(self, value: Any, owner: str) -> InputError:
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return InputError(self.name, f"{owner} accepts {self.accepts()}; got {shown}")

    def _in_range(self, x: float) -> bool:
        if not math.isfinite(x):
            return False
        if self.low is not None and (x < self.low or (self.low_open and x == self.low)):
            return False
        if self.high is not None and (x > self.high or (self.high_open and x == self.high)):
            return False
        return True

    def _number(self, value: Any, owner: str, *, integer: bool = False) -> float | int:
        given = value
        if isinstance(value, bool):
            raise self._bad(value, owner)
        if isinstance(value, str):
            text = value.strip()
            try:
                value = int(text) if integer else float(text)
            except ValueError:
                if integer:
                    try:                       # "1e3" or "10.0" for an integer option: exact integers only
                        f = float(text)
                    except ValueError:
                        raise self._bad(value, owner) from None
                    if not (math.isfinite(f) and f == int(f)):
                        raise self._bad(value, owner) from None
                    value = int(f)
                else:
                    raise self._bad(value, owner) from None
        if integer:
            if isinstance(value, numbers.Integral):
                x = int(value)
            elif isinstance(value, numbers.Real) and math.isfinite(float(value)) and float(value) == int(value):
                x = int(value)
            else:
                raise self._bad(value, owner)
        elif isinstance(value, numbers.Real):
            try:
                x = float(value)
            except OverflowError:
                raise self._bad(value, owner) from None
        else:
            raise self._bad(value, owner)
        if not self._in_range(float(x)):
            raise self._bad(given, owner)
        return x

    def _numbers(self, value: Any, owner: str) -> list[float]:
        if isinstance(value, str):
            parts = [p for p in value.replace("[", "").replace("]", "").split(",") if p.strip()]
        else:
            try:
                import numpy as np

                arr = np.asarray(value, dtype=object).reshape(-1)
            except (TypeError, ValueError):
                raise self._bad(value, owner) from None
            parts = list(arr)
        if not parts:
            raise self._bad(value, owner)
        return [self._number(p, owner) for p in parts]

    def coerce(self, value: Any, owner: str = "this method") -> Any:
        """``value`` converted to the declared type; InputError naming the option and what it accepts."""
        if value is None or (isinstance(value, str) and value.strip().lower() in _NONE):
            if self.nullable or self.kind in ("dict", "callable"):
                return None
            raise self._bad(value, owner)
        k = self.kind
        if k == "float":
            return self._number(value, owner)
        if k == "int":
            return self._number(value, owner, integer=True)
        if k == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
                return value.strip().lower() in _TRUE
            raise self._bad(value, owner)
        if k == "choice":
            if isinstance(value, str) and value.strip() in self.choices:
                return value.strip()
            if self.array_ok and not isinstance(value, (str, bytes, Mapping, numbers.Number)):
                return value        # the runner checks the explicit array's shape and values
            raise self._bad(value, owner)
        if k == "str":
            if isinstance(value, str):
                return value
            raise self._bad(value, owner)
        if k == "floats":
            if isinstance(value, (numbers.Real, str)) and not isinstance(value, bool) and (
                    not isinstance(value, str) or "," not in value):
                return self._number(value, owner)
            return self._numbers(value, owner)
        if k == "array":
            return self._numbers(value, owner)
        if k == "dict":
            if not isinstance(value, Mapping):
                raise self._bad(value, owner)
            return {str(key): v for key, v in value.items()}
        if not callable(value):
            raise self._bad(value, owner)
        return value


def _common(name: str, value: Any, owner: str) -> Any:
    if name == "time_limit":
        return Option("time_limit", "float", low=0.0, low_open=True, nullable=True, unit="s").coerce(value, owner)
    return Option("seed", "int", low=0, nullable=True).coerce(value, owner)


def resolve_options(declared: Iterable[Option], given: Mapping[str, Any], *, owner: str) -> dict[str, Any]:
    """``given`` checked against ``declared`` and turned into runner keyword arguments (see the module docstring)."""
    decl = {o.name: o for o in declared}
    runner_names = {o.to or o.name for o in decl.values()} | set(decl) | set(COMMON) | {"solver"}
    out: dict[str, Any] = {}
    spread: dict[str, Any] = {}
    for name, value in given.items():
        if name in COMMON:
            v = _common(name, value, owner)
            if v is not None:
                out[name] = v
            continue
        opt = decl.get(name)
        if opt is None:
            known = ", ".join(sorted(decl)) or "none"
            raise InputError(name, f"unknown option for {owner}; its options: {known} (and time_limit, seed)")
        v = opt.coerce(value, owner)
        if opt.to == "**":
            for key in v or {}:
                if key in runner_names:
                    raise InputError(f"{name}.{key}", f"{key!r} is not a solver parameter of {owner}"
                                     + (f"; use -o {key}=VALUE" if key in decl else ""))
            spread.update(v or {})
        else:
            out[opt.to or name] = v
    out.update(spread)
    return out


def options_table(declared: Iterable[Option]) -> str:
    """The declared options as a text table (``--list-options``)."""
    rows = [o.describe() for o in declared]
    if not rows:
        return "(no options besides --time-limit and --seed)"
    out = []
    for r in rows:
        default = "none" if r["default"] is None else r["default"]
        unit = f" [{r['unit']}]" if r["unit"] else ""
        out.append(f"{r['name']}{unit}  ({r['type']}, default {default}): {r['doc']}\n    accepts {r['accepts']}")
    return "\n".join(out)
