"""``cfopt instances list|show|make``: the instance part of the command line (DESIGN.md §2, Command line).

The main CLI (``experiments/cli.py``) calls :func:`add_parser` with its sub-parser collection and dispatches to
``args.run`` (= :func:`run`). :func:`run` returns the exit code and raises
:class:`~instances.errors.InputError` for user mistakes, with the field named as the user typed it
(``--aps``, ``--tau-p``, ``-o``); the main CLI turns that into exit code 2 and one line.
"""
from __future__ import annotations

import argparse
import inspect
import json
import math
from typing import Any

import instances
from instances import InputError, Instance

from experiments.paths import check_writable

#: Generator parameter -> the option the user typed (for error messages).
_OPTION = {"aps": "--aps", "users": "--users", "antennas": "--antennas", "seed": "--seed", "tau_p": "--tau-p",
           "tau_c": "--tau-c", "area_km": "--area-km", "shadowing": "--shadowing",
           "pilot_assignment": "--pilot-assignment", "pilots": "--pilots", "name": "--name", "scenario": "SCENARIO", "file": "-o"}


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``instances`` command (with ``list``, ``show``, ``make``) to an argparse sub-parser collection."""
    p = subparsers.add_parser("instances", help="list, show and generate problem instances",
                              description="List the instance library, show an instance, or generate a new one.")
    sub = p.add_subparsers(dest="instances_command", metavar="{list,show,make}", required=True)

    ls = sub.add_parser("list", help="the instance library: sizes, problems, certified optima")
    ls.add_argument("--json", action="store_true", help="print a JSON list {name, problems, sizes, optimum, "
                                                        "certified_by}")
    ls.add_argument("--library", metavar="DIR", help="library directory (default: instances/library)")

    sh = sub.add_parser("show", help="one instance: sizes, fading range, noise, hash, seed, card")
    sh.add_argument("instance", metavar="NAME|PATH", help="a library name or a path to an instance JSON file")
    sh.add_argument("--json", action="store_true", help="print the summary as a JSON object")
    sh.add_argument("--library", metavar="DIR", help="library directory (default: instances/library)")

    mk = sub.add_parser("make", help="generate a seeded instance and write it as JSON")
    mk.add_argument("scenario", metavar="SCENARIO", help=f"one of: {', '.join(sorted(instances.GENERATORS))}")
    mk.add_argument("--aps", required=True, metavar="M", help="number of APs")
    mk.add_argument("--users", required=True, metavar="K", help="number of single-antenna UEs")
    mk.add_argument("--antennas", metavar="N", help="antennas per AP (default 1; ngo2017 only)")
    mk.add_argument("--seed", metavar="S", default="0", help="random seed, ≥ 0 (default 0)")
    mk.add_argument("--tau-p", metavar="P", help="pilot length (default: = users)")
    mk.add_argument("--tau-c", metavar="C", help="coherence length in samples (default 200)")
    mk.add_argument("--area-km", metavar="KM", help="side of the wrap-around square in km (default 1)")
    mk.add_argument("--shadowing", metavar="MODE", help="correlated (default), uncorrelated or none")
    mk.add_argument("--pilot-assignment", metavar="MODE",
                    help="orthogonal or random (default: orthogonal if tau_p ≥ users, else random)")
    mk.add_argument("--pilots", metavar="MODE",
                    help="rao2020 pilot vectors: random (default, uniform on the unit sphere), qpsk or orthonormal")
    mk.add_argument("--name", help="instance name (default: SCENARIO-M..-K..-N..-s<seed>)")
    mk.add_argument("-o", "--output", required=True, metavar="FILE", help="JSON file to write")
    mk.add_argument("--json", action="store_true", help="print the summary as a JSON object")

    p.set_defaults(run=run)
    return p


def _int(option: str, text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise InputError(option, f"expected an integer, got {text!r}") from None


def _float(option: str, text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(option, f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise InputError(option, f"expected a finite number, got {text!r}")
    return value


def _fmt_antennas(a: Any) -> str:
    return str(a) if isinstance(a, int) else f"{min(a)}-{max(a)}"


def _table(rows: list[dict[str, str]]) -> str:
    cols = list(rows[0])
    width = {c: max(len(c), *(len(r[c]) for r in rows)) for c in cols}
    lines = ["  ".join(c.ljust(width[c]) for c in cols)]
    lines += ["  ".join(r[c].ljust(width[c]) for c in cols) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def _instance_row(inst: Instance) -> dict[str, str]:
    s = inst.summary()
    seed = s["seed"]
    return {"name": s["name"], "M": str(s["M"]), "K": str(s["K"]), "N": _fmt_antennas(s["antennas"]),
            "tau_p": str(s["tau_p"]), "tau_c": str(s["tau_c"]),
            "beta_dB": f"{s['beta_db_min']:.1f}..{s['beta_db_max']:.1f}", "noise_dBm": f"{s['noise_dbm']:.2f}",
            "hash": s["content_hash"], "seed": "-" if seed is None else str(seed)}


def _card_lines(inst: Instance) -> list[str]:
    card = inst.summary()
    if not card["problems"]:
        return ["card: no problems listed"]
    lines = [f"problems: {', '.join(card['problems'])}"]
    for prob in card["problems"]:
        if prob in card["optimum"]:
            by = card["certified_by"].get(prob)
            lines.append(f"  {prob}: optimum {card['optimum'][prob]:.10g}"
                         + (f" (certified by {by})" if by else " (not certified)"))
    return lines


def _list(args) -> int:
    entries = instances.list_library(args.library)
    if args.json:
        print(json.dumps(entries, indent=2))
        return 0
    if not entries:
        print(f"the instance library is empty ({args.library or instances.library.LIBRARY_DIR})")
        return 0
    rows = [{"name": e["name"], "M": str(e["sizes"]["M"]), "K": str(e["sizes"]["K"]),
             "N": _fmt_antennas(e["sizes"]["antennas"]), "tau_p": str(e["sizes"]["tau_p"]),
             "problems": ",".join(e["problems"]) or "-",
             "optimum": " ".join(f"{p}={v:.6g}{'' if p in e['certified_by'] else '?'}"
                                 for p, v in e["optimum"].items()) or "-",
             "hash": e["content_hash"]} for e in entries]
    print(_table(rows))
    if any("?" in r["optimum"] for r in rows):
        print("(? = optimum not certified)")
    return 0


def _show(args) -> int:
    inst = instances.load(args.instance, library_dir=args.library)
    if args.json:
        print(json.dumps({**inst.summary(), "source": args.instance}, indent=2))
        return 0
    print(_table([_instance_row(inst)]))
    for line in _card_lines(inst):
        print(line)
    return 0


def _make(args) -> int:
    check_writable(args.output, "-o")              # before generating
    params: dict[str, Any] = {
        "aps": _int("--aps", args.aps), "users": _int("--users", args.users),
        "antennas": _int("--antennas", args.antennas), "tau_p": _int("--tau-p", args.tau_p),
        "tau_c": _int("--tau-c", args.tau_c), "area_km": _float("--area-km", args.area_km),
        "shadowing": args.shadowing, "pilot_assignment": args.pilot_assignment, "name": args.name,
        "pilots": args.pilots,
    }
    seed = _int("--seed", args.seed)
    # Leave unset options to the generator's documented defaults (tau_p and pilot_assignment accept None).
    # Options the scenario does not take are dropped when unset (a given one is reported by the generator).
    gen = instances.GENERATORS.get(args.scenario)
    accepted = set(inspect.signature(gen).parameters) if gen is not None else set()
    params = {k: v for k, v in params.items()
              if v is not None or (k in ("tau_p", "pilot_assignment", "name") and k in accepted)}
    try:
        inst = instances.generate(args.scenario, seed=seed, **params)
        inst.save(args.output)
    except InputError as exc:
        field = _OPTION.get(exc.field, exc.field)
        if exc.field not in _OPTION and exc.field in params:
            field = "--" + exc.field.replace("_", "-")
        raise InputError(field, exc.message) from None
    if args.json:
        print(json.dumps({**inst.summary(), "path": str(args.output)}, indent=2))
        return 0
    print(_table([_instance_row(inst)]))
    print(f"wrote {args.output}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``cfopt instances <list|show|make>``; returns the exit code, raises InputError on user mistakes."""
    cmd = getattr(args, "instances_command", None)
    if cmd == "list":
        return _list(args)
    if cmd == "show":
        return _show(args)
    if cmd == "make":
        return _make(args)
    raise InputError("instances", f"unknown sub-command {cmd!r}; known: list, show, make")
