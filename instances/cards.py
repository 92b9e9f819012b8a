"""Library cards: one schema for every paper (DESIGN.md §2 "Library cards").

A card (``Instance.card``, not part of the content hash) is::

    {"problems": {PROBLEM: {"optimum": float, "bound": float | None, "gap": float | None,
                            "certified_by": {"solver": str, "version": str, "method": str, "seconds": float},
                            "solution": {key: array}, "context": {evaluator keyword: value},
                            "front": {...} (optional: points and reference point of a certified front),
                            "generated_by": str, "notes": {...} (optional, free)}},
     "notes": {...}}                                            (optional, free)

An entry without ``optimum`` says the instance serves the problem without a certified value; ``certified_by``
needs an ``optimum``. ``bound`` is the solver's proved bound on the optimum (one key for every paper; it replaced
``bound_mbit_per_j``), ``gap`` its relative gap, ``context`` the evaluator keywords the ``solution`` is scored under
(re-scoring ``solution`` with it gives ``optimum``).

Cards of the pre-issue-11 form ``{problems: [..], optimum: {p: v}, certified_by: {p: "solver version"},
details: {p: {...}}}`` are upgraded on load (:func:`upgrade`); :func:`optimum`, :func:`certified` and
:func:`certified_label` read either.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from instances.errors import InputError

#: keys of a card entry (per problem)
ENTRY_KEYS = ("optimum", "bound", "gap", "certified_by", "solution", "context", "front", "generated_by", "notes")
#: keys of ``certified_by``
CERTIFIED_BY_KEYS = ("solver", "version", "method", "seconds")


def is_legacy(card: Mapping) -> bool:
    """True for a card of the pre-issue-11 form (a list of problems and top-level ``optimum``/``certified_by``)."""
    return any(k in card for k in ("optimum", "certified_by", "details")) or \
        isinstance(card.get("problems"), (list, tuple))


def _legacy_entry(p: str, card: Mapping) -> dict[str, Any]:
    """One problem's entry from a legacy card; unknown detail keys go to ``notes`` (no number is dropped)."""
    if p not in (card.get("optimum") or {}):
        return {}
    details = dict((card.get("details") or {}).get(p) or {})
    label = (card.get("certified_by") or {}).get(p)
    entry: dict[str, Any] = {"optimum": card["optimum"][p]}
    bound_keys = [k for k in details if k == "bound" or str(k).startswith("bound_")]
    entry["bound"] = details.pop(bound_keys[0]) if bound_keys else None
    for k in bound_keys[1:]:
        details.pop(k)
    entry["gap"] = details.pop("gap", None)
    if isinstance(label, str) and label:
        solver, _, version = label.partition(" ")
        seconds = details.pop("scip_time_s", None)
        notes_time = seconds if isinstance(seconds, Mapping) else None
        if isinstance(seconds, Mapping):
            seconds = seconds.get("ee", max(seconds.values()) if seconds else None)
        runner = details.pop("method", None)      # pre-schema cards name a Python runner; all were method exact
        if runner is not None and "." not in str(runner):
            method = str(runner)
        else:
            method = "exact"
            if runner is not None:
                details["runner"] = runner
        entry["certified_by"] = {"solver": solver, "version": version, "method": method, "seconds": seconds}
        if notes_time is not None:
            details["solver_time_s"] = dict(notes_time)
    entry["solution"] = dict(details.pop("solution", None) or {})
    entry["context"] = dict(details.pop("context", None) or {})
    entry["generated_by"] = details.pop("generated_by", "")
    if details:
        entry["notes"] = details
    return entry


def _check_legacy(card: Mapping) -> None:
    """The pre-issue-11 checks, naming the legacy fields (``card.optimum.<p>``, ``card.certified_by.<p>``)."""
    from instances._convert import _show

    problems = card.get("problems", ())
    if not isinstance(problems, (list, tuple)) or not all(isinstance(p, str) for p in problems):
        raise InputError("card.problems", "expected a list of problem ids (strings)")
    optimum = card.get("optimum") or {}
    if not isinstance(optimum, Mapping):
        raise InputError("card.optimum", f"expected a mapping (JSON object), got {type(optimum).__name__}")
    for p, v in optimum.items():
        if p not in problems:
            raise InputError("card.optimum", f"problem {p!r} is not in card.problems {list(problems)}")
        if not _finite_number(v):
            raise InputError(f"card.optimum.{p}", f"expected a finite number, got {_show(v)}")
    certified_by = card.get("certified_by") or {}
    if not isinstance(certified_by, Mapping):
        raise InputError("card.certified_by", f"expected a mapping (JSON object), got {type(certified_by).__name__}")
    for p, v in certified_by.items():
        if p not in optimum:
            raise InputError("card.certified_by", f"problem {p!r} has no card.optimum to certify")
        if not isinstance(v, str) or not v:
            raise InputError(f"card.certified_by.{p}", f"expected 'solver version', got {v!r}")


def upgrade(card: Mapping | None) -> dict[str, Any]:
    """A card in the current schema (a current card is returned as a plain dict, unchanged)."""
    card = dict(card or {})
    if not is_legacy(card):
        return card
    _check_legacy(card)
    problems = list(card.get("problems") or [])
    out: dict[str, Any] = {"problems": {p: _legacy_entry(p, card) for p in problems}}
    extra = {k: v for k, v in card.items() if k not in ("problems", "optimum", "certified_by", "details")}
    if extra:
        out["notes"] = {**dict(extra.pop("notes", {}) or {}), **extra}
    return out


def _finite_number(v: Any) -> bool:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def check(card: Mapping) -> None:
    """Validate a (current-schema) card; InputError naming ``card.problems.<p>.<key>`` otherwise."""
    problems = card.get("problems", {})
    if not isinstance(problems, Mapping):
        raise InputError("card.problems", "expected a mapping problem id -> entry")
    for k in card:
        if k not in ("problems", "notes"):
            raise InputError(f"card.{k}", "unknown card key; known: problems, notes")
    for p, e in problems.items():
        where = f"card.problems.{p}"
        if not isinstance(e, Mapping):
            raise InputError(where, f"expected a mapping, got {type(e).__name__}")
        for k in e:
            if k not in ENTRY_KEYS:
                raise InputError(f"{where}.{k}", f"unknown key; known: {', '.join(ENTRY_KEYS)}")
        if "optimum" in e and not _finite_number(e["optimum"]):
            from instances._convert import _show

            raise InputError(f"{where}.optimum", f"expected a finite number, got {_show(e['optimum'])}")
        for k in ("bound", "gap"):
            if e.get(k) is not None and (isinstance(e[k], bool) or not isinstance(e[k], (int, float))):
                raise InputError(f"{where}.{k}", f"expected a number or null, got {e[k]!r}"[:200])
        by = e.get("certified_by")
        if by is not None:
            if "optimum" not in e:
                raise InputError(f"{where}.certified_by", f"problem {p!r} has no optimum to certify")
            if not isinstance(by, Mapping) or not isinstance(by.get("solver"), str) or not by.get("solver"):
                raise InputError(f"{where}.certified_by", f"expected {{solver, version, method, seconds}}, "
                                                          f"got {by!r}"[:200])
    try:
        json.dumps(_plain(card), allow_nan=False)
    except ValueError as exc:
        raise InputError("card", f"not storable as JSON ({exc})") from None


def _plain(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def entries(card: Mapping | None) -> dict[str, Mapping]:
    """``{problem: entry}`` of a card of either form."""
    card = card or {}
    if is_legacy(card):
        card = upgrade(card)
    return dict(card.get("problems") or {})


def optimum(card: Mapping | None, problem: str) -> float | None:
    """The certified (or stored) optimum of ``problem``; None when the card has none."""
    v = entries(card).get(problem, {}).get("optimum")
    return float(v) if _finite_number(v) else None


def certified_label(entry: Mapping) -> str | None:
    """``"scip 10.0.2"`` for an entry certified by SCIP 10.0.2 (the ``cfopt instances list`` form); None."""
    by = entry.get("certified_by")
    if not by:
        return None
    return " ".join(str(x) for x in (by.get("solver"), by.get("version")) if x)


def summary(card: Mapping | None) -> dict[str, Any]:
    """``{problems: [ids], optimum: {p: v}, certified_by: {p: "solver version"}}``: the card as ``cfopt instances
    show/list`` print it (the same shape as before the card schema)."""
    es = entries(card)
    return {"problems": list(es),
            "optimum": {p: e["optimum"] for p, e in es.items() if "optimum" in e},
            "certified_by": {p: certified_label(e) for p, e in es.items() if certified_label(e)}}


def certified(card: Mapping | None) -> dict[str, float]:
    """``{problem: optimum}`` of the problems whose optimum is certified."""
    return {p: float(e["optimum"]) for p, e in entries(card).items()
            if e.get("certified_by") and _finite_number(e.get("optimum"))}


__all__ = ["CERTIFIED_BY_KEYS", "ENTRY_KEYS", "certified", "certified_label", "check", "entries", "is_legacy",
           "optimum", "summary", "upgrade"]
