"""``cfopt instances list|show|make``: the instance part of the command line (DESIGN.md §2, Command line).

The main CLI (``experiments/cli.py``) calls :func:`add_parser` with its sub-parser collection and dispatches to
``args.run`` (= :func:`run`). :func:`run` returns the exit code and raises
:class:`~instances.errors.InputError` for user mistakes, with the field named as the user typed it
(``--aps``, ``--tau-p``, ``-o``); the main CLI turns that into exit code 2 and one line.
"""
from __future__ import annotations

import argparse
import json
from typing import Any

import instances
from instances import InputError, Instance

from experiments.paths import check_writable

#: The flags of ``instances make`` kept as aliases of ``-p NAME=VALUE``: (flag, parameter, metavar, help).
_ALIASES = (
    ("--aps", "aps", "M", "= -p aps=M: number of APs"),
    ("--users", "users", "K", "= -p users=K: number of single-antenna UEs"),
    ("--antennas", "antennas", "N", "= -p antennas=N: antennas per AP (default 1; ngo2017 only)"),
    ("--seed", "seed", "S", "= -p seed=S: random seed, ≥ 0 (default 0)"),
    ("--tau-p", "tau_p", "P", "= -p tau_p=P: pilot length (default: = users)"),
    ("--tau-c", "tau_c", "C", "= -p tau_c=C: coherence length in samples (default 200)"),
    ("--area-km", "area_km", "KM", "= -p area_km=KM: side of the wrap-around square in km (default 1)"),
    ("--shadowing", "shadowing", "MODE", "= -p shadowing=MODE: correlated (ngo2017 default), uncorrelated, none"),
    ("--pilot-assignment", "pilot_assignment", "MODE",
     "= -p pilot_assignment=MODE: orthogonal or random (default: orthogonal if tau_p ≥ users, else random)"),
    ("--pilots", "pilots", "MODE", "= -p pilots=MODE: rao2020 pilot vectors: random (default), qpsk, orthonormal"),
    ("--name", "name", "NAME", "= -p name=NAME: instance name (default: SCENARIO-M..-K..-s<seed>)"),
)


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

    mk = sub.add_parser("make", help="generate a seeded instance and write it as JSON",
                        description="Generate a seeded instance of SCENARIO. Parameters come from the generator's "
                                    "signature: -p NAME=VALUE (repeatable; see --list-params SCENARIO for the "
                                    "names, types and defaults). The named flags below are aliases of -p.")
    mk.add_argument("scenario", metavar="SCENARIO", help="a registered generator (see --list-params)")
    mk.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                    help="a generator parameter, repeatable (type from the generator's signature)")
    mk.add_argument("--list-params", action="store_true",
                    help="print SCENARIO's parameters (type, default) and exit")
    for flag, param, meta, text in _ALIASES:
        mk.add_argument(flag, dest=f"alias_{param}", metavar=meta, help=text)
    mk.add_argument("-o", "--output", metavar="FILE", help="JSON file to write (required)")
    mk.add_argument("--json", action="store_true", help="print the summary as a JSON object")

    p.set_defaults(run=run)
    return p


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


def _given(args, gen) -> tuple[dict[str, Any], dict[str, str]]:
    """(parameters, parameter -> the field the user typed) from the aliases and ``-p NAME=VALUE``, each converted
    by the generator's signature (:mod:`instances.params`); unknown names and bad values raise InputError."""
    from instances import params as gparams

    sig = gparams.parameters(gen)
    texts: dict[str, tuple[str, str]] = {}
    for flag, param, _, _ in _ALIASES:
        value = getattr(args, f"alias_{param}", None)
        if value is not None:
            texts[param] = (value, flag)
    for item in args.param:
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise InputError("-p", f"expected NAME=VALUE, got {item!r}")
        if key in texts:
            raise InputError(f"-p {key}", f"given twice (also as {texts[key][1]})")
        texts[key] = (value, f"-p {key}")
    values, fields = {}, {}
    for key, (text, where) in texts.items():
        if key not in sig:
            raise InputError(where, f"not a parameter of {args.scenario}; accepted: {', '.join(sig)}")
        values[key], fields[key] = gparams.parse(sig[key], text, where), where
    values.setdefault("seed", 0)
    fields.setdefault("seed", "--seed")
    for name, p in sig.items():
        if p.required and name not in values:
            alias = next((f for f, q, _, _ in _ALIASES if q == name), f"-p {name}")
            raise InputError(alias, f"missing: a required parameter of {args.scenario}")
    return values, fields


def _make(args) -> int:
    gen = instances.GENERATORS.get(args.scenario)
    if gen is None:
        raise InputError("SCENARIO", f"unknown scenario {args.scenario!r}; known: "
                                     f"{', '.join(sorted(instances.GENERATORS))}")
    if args.list_params:
        from instances.params import help_text

        print(help_text(args.scenario, gen))
        return 0
    if not args.output:
        raise InputError("-o", "the file to write is required (-o FILE)")
    check_writable(args.output, "-o")              # before generating
    values, fields = _given(args, gen)
    seed = values.pop("seed")
    try:
        inst = instances.generate(args.scenario, seed=seed, **values)
        inst.save(args.output)
    except InputError as exc:
        field = {"seed": fields["seed"], "file": "-o", "scenario": "SCENARIO"}.get(exc.field, fields.get(exc.field))
        raise InputError(field or exc.field, exc.message) from None
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
