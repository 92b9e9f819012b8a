"""``cfopt validate [--suite NAME] [--json]``: heuristics vs certified optima over the instance library (DESIGN.md §2,
§3 item 3).

For every stored instance of the suite (in ``instances/library`` and in the library directories that plugin papers
register, or in ``--library DIR``) and every problem whose optimum its card certifies, every registered method of
that problem except ``exact`` (the certifier itself) runs once per seed through
:func:`experiments.results.run_method` (``seed=`` is passed; default seeds 0, 1, 2). Per (problem, method) the
report gives the number of runs, the share of feasible runs (status ``optimal`` or ``feasible`` and
``max_violation`` ≤ 1e-6, as re-scored by the models/ evaluator), the median and worst ratio to the certified
optimum (``objective / optimum`` for a max problem, ``optimum / objective`` for a min problem, see
``Problem.sense``: 1 = optimal, < 1 = worse), the method's ``stated_ratio``, the median wall time and the
relation (exact, relaxation, ...) of each formulation used, read from its ``FormulationInfo``.

A (problem, method) pair fails when

* **beats proven optimum** — a feasible result is better than the proven optimum by more than ``tolerance``
  (relative). "Proven" means the solver's proved bound when the card records one (``problems.<problem>.bound``
  of the card schema, :mod:`instances.cards`; SCIP stops at a relative gap of ~1e-6, so a point slightly better
  than the stored incumbent is not a bug, but one beyond the bound is), else the stored optimum. This is a bug in
  the method or the evaluator.
* **misses stated ratio** — the method states a ratio and its worst ratio over its feasible runs is below it, or
  it returned an infeasible / non-solved / error result on an instance the card certifies as feasible.
* **raised** — the method raised an exception instead of returning a ``SolveResult`` (any method, baselines too).

Baselines (and any method without a stated ratio) are reported but never fail on their ratio or feasibility; they
still must not beat the proven optimum.

Exit codes of ``cfopt validate``: 0 all pairs pass, 1 validation failure, 2 bad input (unknown suite, problem or
method; bad ``--seeds``). Progress goes to stderr, one line per (problem, method), unless ``--quiet``.
"""
from __future__ import annotations

import json
import math
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from instances import cards
from instances.errors import InputError
from instances.instance import Instance

__all__ = ["FEASIBILITY_TOL", "SUITES", "Run", "Row", "Report", "validate", "add_parser"]

#: largest evaluator-measured constraint violation of a result counted as feasible
FEASIBILITY_TOL = 1e-6

#: named suites of library instances (``None``: every instance with a certified optimum)
SUITES: dict[str, Callable[[str], bool]] = {
    "tiny": lambda name: name.startswith("tiny-"),
    "all": lambda name: True,
}

BEATS, MISSES, RAISED = "beats proven optimum", "misses stated ratio", "raised"


@dataclass
class Run:
    """One method run on one instance with one seed."""

    instance: str
    seed: int | None
    status: str
    objective: float | None
    max_violation: float | None
    feasible: bool
    ratio: float | None          # to the certified optimum (see the module docstring); None when not feasible
    optimum: float
    proven: float                # the value a feasible result must not beat (bound if recorded, else optimum)
    wall_time_s: float
    message: str = ""


@dataclass
class Row:
    """The verdict for one (problem, method) pair."""

    problem: str
    method: str
    kind: str
    stated_ratio: float | None
    runs: int = 0
    feasible: int = 0
    median_ratio: float | None = None
    worst_ratio: float | None = None
    median_time_s: float | None = None
    failures: list[str] = field(default_factory=list)   # one line per failing run / promise
    details: list[Run] = field(default_factory=list)
    #: formulation name -> its relation to the problem (FormulationInfo.relation: exact, relaxation, ...; None if
    #: the formulation is not registered)
    formulations: dict[str, str | None] = field(default_factory=dict)

    @property
    def feasible_share(self) -> float | None:
        return self.feasible / self.runs if self.runs else None

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def verdict(self) -> str:
        if not self.failures:
            return "pass"
        kinds = []
        for f in self.failures:
            k = f.split(":", 1)[0]
            if k not in kinds:
                kinds.append(k)
        return "FAIL: " + "; ".join(kinds)

    def to_dict(self, *, runs: bool = True) -> dict[str, Any]:
        d = {"problem": self.problem, "method": self.method, "kind": self.kind, "runs": self.runs,
             "feasible": self.feasible, "feasible_share": self.feasible_share, "median_ratio": self.median_ratio,
             "worst_ratio": self.worst_ratio, "stated_ratio": self.stated_ratio,
             "median_time_s": self.median_time_s, "verdict": self.verdict, "passed": self.passed,
             "failures": list(self.failures), "formulations": dict(self.formulations)}
        if runs:
            d["details"] = [asdict(r) for r in self.details]
        return d


@dataclass
class Report:
    suite: str | None
    seeds: list[int | None]
    tolerance: float
    instances: list[str]
    rows: list[Row]
    wall_time_s: float = 0.0

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    @property
    def failures(self) -> list[str]:
        return [f"{r.problem} / {r.method}: {f}" for r in self.rows for f in r.failures]

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def to_dict(self, *, runs: bool = True) -> dict[str, Any]:
        from solvers_adapters.result import _jsonable

        return _jsonable({"suite": self.suite, "seeds": list(self.seeds), "tolerance": self.tolerance,
                          "feasibility_tol": FEASIBILITY_TOL, "instances": list(self.instances),
                          "passed": self.passed, "wall_time_s": self.wall_time_s,
                          "failures": self.failures, "rows": [r.to_dict(runs=runs) for r in self.rows]})

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, **kw)

    def table(self) -> str:
        def f(x, spec):
            return "-" if x is None else format(x, spec)

        head = (f"{'problem':<20}{'method':<15}{'kind':<11}{'runs':>5}{'feasible':>9}{'median':>9}{'worst':>9}"
                f"{'stated':>9}{'time [s]':>10}  verdict")
        lines = [head, "-" * (len(head) + 20)]
        for r in self.rows:
            lines.append(f"{r.problem:<20}{r.method:<15}{r.kind:<11}{r.runs:>5}{f(r.feasible_share, '.0%'):>9}"
                         f"{f(r.median_ratio, '.4f'):>9}{f(r.worst_ratio, '.4f'):>9}{f(r.stated_ratio, '.5g'):>9}"
                         f"{f(r.median_time_s, '.3f'):>10}  {r.verdict}")
        n_inst = len(self.instances)
        lines.append("")
        lines.append(f"{n_inst} instance(s), seeds {list(self.seeds)}, ratio = objective/optimum (max) or "
                     f"optimum/objective (min); {sum(r.runs for r in self.rows)} runs in {self.wall_time_s:.1f} s")
        if self.passed:
            lines.append("validation passed")
        else:
            lines.append(f"validation FAILED ({len(self.failures)} failure(s)):")
            lines += [f"  {x}" for x in self.failures]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------- helpers
def _proven_bound(card: Any, problem: str) -> float | None:
    """The solver's proved bound for ``problem`` recorded in the card (``problems.<problem>.bound``)."""
    v = cards.entries(card).get(problem, {}).get("bound")
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def _ratio(objective: float, optimum: float, sense: str) -> float:
    """1 = optimal, < 1 = worse, > 1 = better than the optimum."""
    num, den = (objective, optimum) if sense == "max" else (optimum, objective)
    if den == 0:
        return 1.0 if num == 0 else math.copysign(math.inf, num)
    return num / den


def _beats(objective: float, proven: float, sense: str, tolerance: float) -> bool:
    slack = tolerance * max(abs(proven), 1e-12)
    return objective > proven + slack if sense == "max" else objective < proven - slack


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.6g}"


def _certified(suite: str | None, library: str | None = None) -> list[tuple[str, Any, dict[str, float]]]:
    """(name, instance, {problem: optimum}) for the suite's instances with at least one certified optimum, from
    ``library`` (a directory) or else every registered library directory (the main one first; a plugin paper's
    own directory is registered when the paper is discovered)."""
    from instances.library import library_dirs, library_names

    if suite is not None and suite not in SUITES:
        raise InputError("--suite", f"unknown suite {suite!r}; known: {', '.join(sorted(SUITES))}")
    if library is not None and not Path(library).is_dir():
        raise InputError("--library", f"no such directory {library}")
    keep = SUITES[suite] if suite is not None else SUITES["all"]
    out, seen = [], set()
    for d in ([Path(library)] if library is not None else library_dirs()):
        for name in library_names(d):
            if name in seen or not keep(name):
                continue
            seen.add(name)
            inst = Instance.load(d / f"{name}.json")
            opt = cards.certified(inst.card)
            if opt:
                out.append((name, inst, opt))
    if not out:
        raise InputError("--suite", f"no library instance with a certified optimum in suite {suite!r}")
    return sorted(out, key=lambda t: t[0])


def _select(names: Iterable[str] | None, known: Sequence[str], field_name: str, what: str) -> list[str]:
    if names is None:
        return list(known)
    names = list(names)
    bad = [n for n in names if n not in known]
    if bad:
        raise InputError(field_name, f"unknown {what} {', '.join(map(repr, bad))}; known: {', '.join(known)}")
    return [n for n in known if n in names]


# ---------------------------------------------------------------------------------------------------------- validate
def validate(suite: str | None = None, *, seeds: Iterable[int | None] = (0, 1, 2),
             methods: Iterable[str] | None = None, problems: Iterable[str] | None = None, tolerance: float = 1e-6,
             time_limit: float | None = None, progress: bool = False, library: str | None = None) -> Report:
    """Run every non-certifier method on every certified (instance, problem) of ``suite`` and check the promises
    (see the module docstring). ``methods``/``problems`` restrict the pairs (unknown names raise InputError);
    ``library`` reads one directory instead of every registered library; ``progress`` prints one line per
    (problem, method) to stderr."""
    from experiments.registry import load_all

    t_start = time.perf_counter()
    seeds = list(seeds)
    if not seeds:
        raise InputError("--seeds", "give at least one seed")
    if not (tolerance >= 0 and math.isfinite(tolerance)):
        raise InputError("--tolerance", f"must be a non-negative number, got {tolerance}")
    if time_limit is not None and not time_limit > 0:
        raise InputError("--time-limit", f"must be positive seconds, got {time_limit}")
    from experiments.papers import discover

    discover()                 # plugin papers register their problems and library directories
    registry = load_all()
    certified = _certified(suite, library)
    served = [p for p in registry if any(p in opt for _, _, opt in certified)]
    if problems is not None:
        problems = list(problems)
        unknown = [p for p in problems if p not in registry]
        if unknown:
            raise InputError("--problems", f"unknown problem {', '.join(map(repr, unknown))}; "
                                           f"known: {', '.join(sorted(registry))}")
        served = [p for p in served if p in problems]
        if not served:
            raise InputError("--problems", f"no certified instance of {', '.join(problems)} in suite {suite!r}")
    all_methods = sorted({m for p in served for m in registry[p].methods if m != "exact"})
    wanted = None if methods is None else set(_select(methods, all_methods, "--methods", "method"))

    rows: list[Row] = []
    used: set[str] = set()
    kw: dict[str, Any] = {} if time_limit is None else {"time_limit": time_limit}
    for pid in served:
        prob = registry[pid]
        cases = [(name, inst, opt[pid]) for name, inst, opt in certified if pid in opt]
        for mname, method in prob.methods.items():
            if mname == "exact" or (wanted is not None and mname not in wanted):
                continue
            row = Row(problem=pid, method=mname, kind=method.kind, stated_ratio=method.stated_ratio)
            t0 = time.perf_counter()
            for name, inst, optimum in cases:
                used.add(name)
                bound = _proven_bound(inst.card, pid)
                if bound is None:
                    proven = optimum
                else:
                    proven = max(optimum, bound) if prob.sense == "max" else min(optimum, bound)
                for seed in seeds:
                    row.details.append(_one(row, prob, method, inst, name, seed, optimum, proven, tolerance, kw))
            _summarise(row)
            rows.append(row)
            if progress:
                print(f"validate: {pid} / {mname}: {row.runs} runs in {time.perf_counter() - t0:.1f} s, "
                      f"{row.verdict}", file=sys.stderr, flush=True)
    return Report(suite=suite, seeds=seeds, tolerance=tolerance, instances=sorted(used), rows=rows,
                  wall_time_s=time.perf_counter() - t_start)


def _one(row: Row, prob, method, inst, name: str, seed, optimum: float, proven: float, tolerance: float,
         kw: dict[str, Any]) -> Run:
    from experiments.results import run_method

    where, sense = f"{name} seed {seed}", prob.sense
    t0 = time.perf_counter()
    try:
        res = run_method(prob, method, inst, **method.resolve({"seed": seed, **kw}))
    except Exception as exc:  # a crash is recorded as a failure of the pair, the validation goes on
        el = time.perf_counter() - t0
        row.failures.append(f"{RAISED}: {where}: {type(exc).__name__}: {exc}")
        return Run(name, seed, "error", None, None, False, None, optimum, proven, el, f"{type(exc).__name__}: {exc}")
    el = time.perf_counter() - t0
    status = getattr(res.status, "value", str(res.status))
    obj = res.objective
    viol = res.max_violation
    feasible = (status in ("optimal", "feasible") and obj is not None and math.isfinite(obj)
                and viol is not None and viol <= FEASIBILITY_TOL)
    ratio = _ratio(obj, optimum, sense) if feasible else None
    wall = res.wall_time_s if res.wall_time_s and res.wall_time_s > 0 else el
    _note_formulation(row, prob.id, res.formulation)
    run = Run(name, seed, status, obj, viol, feasible, ratio, optimum, proven, wall, res.message or "")
    if feasible and _beats(obj, proven, sense, tolerance):
        row.failures.append(f"{BEATS}: {where}: objective {_fmt(obj)} vs proven {_fmt(proven)} "
                            f"(optimum {_fmt(optimum)}, ratio {ratio:.8g})")
    if row.stated_ratio is not None:
        if not feasible:
            row.failures.append(f"{MISSES}: {where}: not a feasible result on a certified-feasible instance "
                                f"(status {status}, max_violation {_fmt(viol)})")
        elif ratio < row.stated_ratio:
            row.failures.append(f"{MISSES}: {where}: ratio {ratio:.6g} < stated {row.stated_ratio:.6g}")
    return run


def _note_formulation(row: Row, problem: str, name: str | None) -> None:
    """Record the relation (exact / relaxation / ...) of the result's formulation, read from its FormulationInfo."""
    if not name or name in row.formulations:
        return
    from formulations.components.info import FORMULATIONS

    info = FORMULATIONS.get((problem, name))
    row.formulations[name] = None if info is None else info.relation.name.lower()


def _summarise(row: Row) -> None:
    row.runs = len(row.details)
    ok = [r for r in row.details if r.feasible]
    row.feasible = len(ok)
    ratios = [r.ratio for r in ok]
    row.median_ratio = statistics.median(ratios) if ratios else None
    row.worst_ratio = min(ratios) if ratios else None
    times = [r.wall_time_s for r in row.details]
    row.median_time_s = statistics.median(times) if times else None


# ---------------------------------------------------------------------------------------------------------- CLI
def _names(text: str | None, flag: str) -> list[str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise InputError(flag, "give at least one name")
    return names


def add_parser(sub) -> None:
    p = sub.add_parser("validate", help="heuristics vs certified optima over the instance library "
                                        "(exit 1 when a method beats a proven optimum or misses its stated ratio)",
                       description="Run every method except 'exact' on the library's certified instances and check "
                                   "that no feasible result beats a proven optimum and that each method reaches its "
                                   "stated ratio. Exit codes: 0 pass, 1 validation failure, 2 bad input.")
    p.add_argument("--suite", default=None,
                   help=f"instance suite: {', '.join(sorted(SUITES))} (default: every certified instance)")
    p.add_argument("--seeds", type=int, default=3, help="run each method with seeds 0..N-1 (default: %(default)s)")
    p.add_argument("--problems", default=None, help="comma-separated problem ids (default: all served)")
    p.add_argument("--methods", default=None, help="comma-separated method names (default: all but exact)")
    p.add_argument("--tolerance", type=float, default=1e-6,
                   help="relative tolerance for 'beats the proven optimum' (default: %(default)s)")
    p.add_argument("--time-limit", type=float, default=None, help="per-run wall-time limit in seconds")
    p.add_argument("--library", metavar="DIR", default=None,
                   help="read this library directory only (default: instances/library and the directories that "
                        "plugin papers register)")
    p.add_argument("--json", action="store_true", help="print the report (with every run) as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(run=_run)


def _run(args) -> int:
    if args.seeds < 1:
        raise InputError("--seeds", f"must be >= 1, got {args.seeds}")
    report = validate(args.suite, seeds=range(args.seeds), methods=_names(args.methods, "--methods"),
                      problems=_names(args.problems, "--problems"), tolerance=args.tolerance,
                      time_limit=args.time_limit, progress=not args.quiet, library=args.library)
    print(report.to_json() if args.json else report.table())
    return report.exit_code
