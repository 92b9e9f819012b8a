"""Library certification: the one loop that writes library cards (DESIGN.md §1 experiments/, §2 "Library cards").

A paper registers its tiny certified instances as data plus one small function::

    register_library_spec(LibrarySpec(
        paper="iot", names=("tiny-iot-01", ...),
        certify=certify_one,      # (name, time_limit) -> Certified(instance, {problem: entry}, notes, report)
        time_limit=600.0, library_dir=None))

``certify_one`` generates the instance, runs the certifying methods through :func:`experiments.solve` (so through
:func:`experiments.results.run_method`) and turns each certified :class:`SolveResult` into a card entry with
:func:`entry`. This module does the rest once for every paper: select names, run, check the card schema
(:mod:`instances.cards`), write ``<library_dir>/<name>.json``, print a table. A plugin paper gives its own
``library_dir``; it is registered with :func:`instances.library.register_library_dir`, so ``instances.load``,
``cfopt validate`` and the contract tests see its cards.

Command line: ``cfopt library certify [--only NAME ...] [--dry-run] [--out DIR] [--time-limit S]`` and
``cfopt library upgrade [--library DIR] [--dry-run]`` (rewrites cards of the pre-issue-11 form into the schema
without solving anything: the numbers are kept, ``bound_*`` becomes ``bound``, the evaluation context is added
by the paper's ``legacy_context`` hook).
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from instances import cards
from instances.errors import InputError

__all__ = ["Certified", "LIBRARY_SPECS", "LibrarySpec", "add_parser", "certify", "entry", "register_library_spec",
           "specs", "upgrade_cards"]


@dataclass
class Certified:
    """What a paper's ``certify`` function returns for one library instance."""

    instance: Any                                   # the instance to store (with its QoS; its card is replaced)
    entries: dict[str, dict[str, Any]]              # problem -> card entry (see :func:`entry`)
    notes: dict[str, Any] = field(default_factory=dict)     # card-level free notes
    report: dict[str, Any] = field(default_factory=dict)    # one printed row (numbers, times)


@dataclass(frozen=True)
class LibrarySpec:
    """A paper's certified library: instance names and the function that certifies one of them."""

    paper: str
    names: tuple[str, ...]
    certify: Callable[[str, float | None], Certified]
    time_limit: float | None = 300.0                # default per solve, seconds
    library_dir: Path | None = None                 # None: instances/library
    #: (instance, problem, legacy entry) -> the evaluation context of a pre-schema card (``cfopt library upgrade``)
    legacy_context: Callable[[Any, str, Mapping[str, Any]], dict[str, Any]] | None = None

    def directory(self) -> Path:
        from instances.library import LIBRARY_DIR

        return Path(LIBRARY_DIR if self.library_dir is None else self.library_dir)


#: paper slug -> its library spec
LIBRARY_SPECS: dict[str, LibrarySpec] = {}


def register_library_spec(spec: LibrarySpec) -> LibrarySpec:
    """Register ``spec`` (one per paper); a plugin's own ``library_dir`` becomes searchable by name."""
    LIBRARY_SPECS[spec.paper] = spec
    if spec.library_dir is not None:
        from instances.library import register_library_dir

        register_library_dir(spec.library_dir)
    return spec


def specs() -> dict[str, LibrarySpec]:
    """Every registered library spec (papers are discovered first)."""
    from experiments.papers import discover

    discover()
    return LIBRARY_SPECS


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None


def entry(result: Any, *, generated_by: str, solution_keys: Sequence[str] = ("eta",),
          notes: Mapping[str, Any] | None = None, require: str | None = "global") -> dict[str, Any]:
    """The card entry of a certifying :class:`~solvers_adapters.result.SolveResult`: ``optimum`` = the evaluator's
    objective, the solver's ``bound`` and ``gap``, ``certified_by`` {solver, version, method, seconds}, the
    ``solution`` keys named, the evaluation ``context``. ``require`` (a certificate) is checked first."""
    if require is not None:
        result.require(certificate=require)
    out: dict[str, Any] = {
        "optimum": float(result.objective), "bound": _num(result.bound), "gap": _num(result.gap),
        "certified_by": {"solver": result.solver, "version": result.solver_version, "method": result.method,
                         "seconds": round(float(result.wall_time_s), 3)},
        "solution": {k: result.solution[k] for k in solution_keys},
        "context": dict(result.context or {}), "generated_by": generated_by}
    if notes:
        out["notes"] = dict(notes)
    return out


def _select(only: Sequence[str] | None) -> list[tuple[LibrarySpec, str]]:
    chosen = [(s, n) for s in specs().values() for n in s.names if not only or n in only]
    known = [n for s in LIBRARY_SPECS.values() for n in s.names]
    bad = [n for n in (only or ()) if n not in known]
    if bad:
        raise InputError("--only", f"unknown name {', '.join(map(repr, bad))}; known: {', '.join(known)}")
    return chosen


def _card(cert: Certified) -> dict[str, Any]:
    card: dict[str, Any] = {"problems": cert.entries}
    if cert.notes:
        card["notes"] = cert.notes
    cards.check(card)
    return card


def certify(only: Sequence[str] | None = None, *, time_limit: float | None = None, dry_run: bool = False,
            out: str | Path | None = None, echo: Callable[[str], None] | None = None) -> list[Certified]:
    """Certify the named library instances (default: all registered) and write their files (unless ``dry_run``)
    to ``out`` or the paper's library directory; ``echo`` gets one line per instance."""
    done = []
    for spec, name in _select(only):
        limit = spec.time_limit if time_limit is None else time_limit
        cert = spec.certify(name, limit)
        inst = cert.instance.replace(card=_card(cert))
        cert.instance = inst
        if not dry_run:
            target = Path(out) if out is not None else spec.directory()
            inst.save(target / f"{name}.json")
        if echo is not None:
            echo(_row(spec.paper, name, cert.report))
        done.append(cert)
    return done


def _row(paper: str, name: str, report: Mapping[str, Any]) -> str:
    def fmt(v: Any) -> str:
        return f"{v:.6g}" if isinstance(v, float) else str(v)

    return f"{paper:10} {name:14} " + " ".join(f"{k}={fmt(v)}" for k, v in report.items())


# ------------------------------------------------------------------------------------------ legacy cards (no solve)
def upgrade_cards(library_dir: str | Path | None = None, *, dry_run: bool = False) -> list[str]:
    """Rewrite every card of ``library_dir`` (default: every registered library) that has the pre-issue-11 form
    into the schema, keeping every number (no solve); the names rewritten. The instance data (and so the content
    hash) is untouched; files written before the pilots block get the block form."""
    import json

    from instances.instance import Instance
    from instances.library import library_dirs

    spec_of = {n: s for s in specs().values() for n in s.names}
    dirs = [Path(library_dir)] if library_dir is not None else library_dirs()
    changed = []
    for d in dirs:
        for path in sorted(d.glob("*.json")):
            raw = json.loads(path.read_text(encoding="utf-8"))
            card = raw.get("card") or {}
            if not cards.is_legacy(card):
                continue
            inst = Instance.load(path)                 # upgrades the card in memory
            new = _thaw_card(inst.card)
            spec = spec_of.get(path.stem)
            for p, e in new.get("problems", {}).items():
                if spec is not None and spec.legacy_context is not None and "optimum" in e and not e["context"]:
                    e["context"] = spec.legacy_context(inst, p, e)
                if e.get("generated_by", "").startswith("python -m experiments.library_"):
                    e.setdefault("notes", {})["first_generated_by"] = e["generated_by"]
                    e["generated_by"] = f"cfopt library certify --only {path.stem}"
            cards.check(new)
            if not dry_run:
                inst.replace(card=new).save(path)
            changed.append(path.stem)
    return changed


def _thaw_card(card: Mapping[str, Any]) -> dict[str, Any]:
    from instances._convert import _thaw

    return _thaw(card)


# ---------------------------------------------------------------------------------------------------------- CLI
def add_parser(sub) -> None:
    """``cfopt library certify|upgrade``."""
    p = sub.add_parser("library", help="certify the instance library's optima (write the cards)",
                       description="Certify library instances with their papers' exact methods and write their "
                                   "cards (one schema for every paper), or upgrade old cards without solving.")
    lsub = p.add_subparsers(dest="library_command", metavar="{certify,upgrade}", required=True)
    c = lsub.add_parser("certify", help="generate, certify and write library instances")
    c.add_argument("--only", nargs="+", metavar="NAME", help="instance names (default: every registered one)")
    c.add_argument("--out", metavar="DIR", help="directory to write to (default: each paper's library)")
    c.add_argument("--time-limit", type=float, default=None, help="per solve, seconds (default: the paper's)")
    c.add_argument("--dry-run", action="store_true", help="certify but do not write files")
    c.set_defaults(run=_run_certify)
    u = lsub.add_parser("upgrade", help="rewrite pre-schema cards into the card schema (no solve)")
    u.add_argument("--library", metavar="DIR", help="library directory (default: every registered library)")
    u.add_argument("--dry-run", action="store_true", help="check but do not write files")
    u.set_defaults(run=_run_upgrade)


def _run_certify(args) -> int:
    from experiments.paths import check_time_limit_arg, check_writable

    check_time_limit_arg(args.time_limit)
    if args.out is not None and not args.dry_run:
        check_writable(args.out, "--out", directory=True)
    certify(args.only, time_limit=args.time_limit, dry_run=args.dry_run, out=args.out,
            echo=lambda line: print(line, flush=True))
    return 0


def _run_upgrade(args) -> int:
    names = upgrade_cards(args.library, dry_run=args.dry_run)
    print(f"{'would upgrade' if args.dry_run else 'upgraded'} {len(names)} card(s): {', '.join(names) or '-'}",
          file=sys.stderr)
    return 0
