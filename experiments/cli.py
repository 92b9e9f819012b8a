"""The ``cfopt`` command line (DESIGN.md §2 "Command line").

User mistakes (unknown problem/method/solver, malformed instance, bad values) exit with code 2 and print one line
naming the field, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from instances.errors import InputError


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise InputError(self.prog, message)


def _add_solve(sub) -> None:
    p = sub.add_parser("solve", help="solve one problem on one instance with one method")
    p.add_argument("problem", help="problem id, e.g. uplink-ee")
    p.add_argument("--instance", help="library name or path to an instance JSON file")
    p.add_argument("--method", required=True, help="method name, e.g. exact, relaxed, ao-qt")
    p.add_argument("--time-limit", type=float, default=None, help="wall-time limit in seconds")
    p.add_argument("--seed", type=int, default=None, help="seed for randomised methods (recorded in the result)")
    p.add_argument("--json", action="store_true", help="print the SolveResult as JSON")
    p.add_argument("--list-options", action="store_true",
                   help="print the method's declared options (name, type, range or choices, default, unit) and exit")
    _add_option(p)
    p.set_defaults(run=_run_solve)

    p = sub.add_parser("compare", help="run several methods on one instance and tabulate them")
    p.add_argument("problem")
    p.add_argument("--instance", required=True)
    p.add_argument("--methods", required=True, help="comma-separated method names")
    p.add_argument("--time-limit", type=float, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--json", action="store_true", help="print a JSON list of SolveResults")
    _add_option(p)
    p.set_defaults(run=_run_compare)

    p = sub.add_parser("evaluate", help="re-score a saved result (the output of cfopt solve --json) with the "
                                        "models/ evaluator and its recorded context")
    p.add_argument("problem")
    p.add_argument("--instance", required=True, help="library name or path of the instance the result was solved on")
    p.add_argument("--result", required=True, metavar="FILE",
                   help="a SolveResult JSON file (cfopt solve --json), or a list of them (cfopt compare --json)")
    p.add_argument("--json", action="store_true", help="print the re-scored numbers as JSON")
    p.set_defaults(run=_run_evaluate)


def _add_option(p) -> None:
    p.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE",
                   help="a declared method option, repeatable (e.g. estimator=projection, rel_tol=1e-5; see "
                        "--list-options); solver parameters go through solver_options.NAME=VALUE")


def _value(text: str):
    """A solver parameter's value from the command line: numbers and true/false converted, else the string (the
    solver checks it). Declared cfopt options are converted by their declaration instead."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    for conv in (int, float):
        try:
            return conv(text)
        except (ValueError, OverflowError):
            pass
    return text


def _solve_kwargs(args) -> dict:
    from experiments.paths import check_time_limit_arg

    check_time_limit_arg(args.time_limit)
    kw: dict = {}
    if args.time_limit is not None:
        kw["time_limit"] = args.time_limit
    if args.seed is not None:
        if args.seed < 0:
            raise InputError("--seed", f"must be non-negative, got {args.seed}")
        kw["seed"] = args.seed
    for item in getattr(args, "option", []):
        key, sep, val = item.partition("=")
        key = key.strip()
        head, dot, sub = key.partition(".")
        if not sep or not head.isidentifier() or (dot and not sub):
            raise InputError("--option", f"expected KEY=VALUE (or PASS_THROUGH.NAME=VALUE), got {item!r}")
        if head in ("time_limit", "seed"):
            raise InputError("--option", f"use --{head.replace('_', '-')} for {head}")
        if dot:                       # solver_options.limits/gap=1e-6: one solver parameter
            bucket = kw.setdefault(head, {})
            if not isinstance(bucket, dict):
                raise InputError(head, f"given both as {head}=... and {head}.NAME=...")
            bucket[sub] = _value(val.strip())
        else:
            if isinstance(kw.get(head), dict):
                raise InputError(head, f"given both as {head}=... and {head}.NAME=...")
            kw[head] = val.strip()    # converted by the method's declaration
    return kw


def _run_solve(args) -> int:
    import experiments
    from experiments.options import options_table

    problem = experiments.get_problem(args.problem)
    method = problem.method(args.method)
    if args.list_options:
        if args.json:
            print(json.dumps([o.describe() for o in method.options]))
        else:
            print(f"{problem.id} / {method.name} options (-o NAME=VALUE; also --time-limit, --seed):")
            print(options_table(method.options))
        return 0
    if not args.instance:
        raise InputError("--instance", "required (a library name or an instance JSON file)")
    # options are checked before the instance is read, then the instance's QoS fields (experiments.solve)
    res = experiments.solve(problem.id, args.instance, method.name, **_solve_kwargs(args))
    if args.json:
        print(res.to_json())
    else:
        print(_table([res], problem.unit))
    return 0


def _run_compare(args) -> int:
    import experiments

    problem = experiments.get_problem(args.problem)
    names = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not names:
        raise InputError("--methods", "give at least one method")
    methods = [problem.method(n) for n in names]
    given = _solve_kwargs(args)
    # an option goes to the methods that declare it; one that no method declares is an error
    for key in given:
        if key not in ("time_limit", "seed") and not any(m.option(key) for m in methods):
            known = sorted({o.name for m in methods for o in m.options})
            raise InputError(key, f"unknown option for methods {', '.join(names)}; their options: "
                                  f"{', '.join(known)} (and time_limit, seed)")
    plans = []
    for m in methods:
        mine = {k: v for k, v in given.items() if k in ("time_limit", "seed") or m.option(k)}
        skipped = sorted(set(given) - set(mine))
        if skipped:
            print(f"cfopt compare: {m.name} takes no option {', '.join(skipped)}; run without it", file=sys.stderr)
        plans.append((m, m.resolve(mine)))
    inst = experiments._instance(args.instance)
    problem.check_instance(inst)
    from experiments.results import run_method

    results = [run_method(problem, m, inst, **kw) for m, kw in plans]
    if args.json:
        print(json.dumps([r.to_dict() for r in results], allow_nan=False))
    else:
        print(_table(results, problem.unit))
    return 0


def _run_evaluate(args) -> int:
    from experiments.rescore import rescore_file

    rows, is_list = rescore_file(args.problem, args.instance, args.result)
    if args.json:
        print(json.dumps(rows if is_list else rows[0], allow_nan=False))
    else:
        for r in rows:
            verdict = "agrees" if r["agrees"] else "DIFFERS"
            head = f"{r['method'] or '?'} on {r['instance']}: "
            if r["max_violation"] is None:
                print(f"{head}{r['note']}; stored objective {r['stored_objective']!s}: {verdict}")
                continue
            unit = f" {r['unit']}" if r["unit"] else ""
            obj = f"objective {r['objective']:.10g}{unit}" if r["objective"] is not None else "no objective"
            print(f"{head}{obj}, max violation {r['max_violation']:.3g} (status {r['status']}; stored "
                  f"{r['stored_objective']!s}, {r['stored_max_violation']!s}: {verdict})")
    return 0 if all(r["agrees"] for r in rows) else 1


def _fmt(x, spec=".6g") -> str:
    return "-" if x is None else format(x, spec)


def _is_max(results) -> bool | None:
    """The sense of the problem as the results' bounds tell it: a maximisation's bound lies above its objective."""
    import math

    for r in results:
        if r.bound is None or math.isnan(r.bound):
            continue
        if math.isinf(r.bound):
            return r.bound > 0
        if r.objective is not None and r.bound != r.objective:
            return r.bound > r.objective
    return None


def _table(results, unit: str = "") -> str:
    """One row per result: objective (in ``unit``), gap to the best proven bound among the rows, status,
    certificate, time."""
    import math

    is_max = _is_max(results)
    finite = [r.bound for r in results if r.bound is not None and math.isfinite(r.bound)]
    best = None if not finite or is_max is None else (min(finite) if is_max else max(finite))
    label = f"objective [{unit}]" if unit else "objective"
    width = max(14, len(label) + 2)
    head = (f"{'method':<16}{label:>{width}}{'gap to bound':>14}  {'status':<11}{'certificate':<12}"
            f"{'time [s]':>9}")
    rows = [head, "-" * len(head)]
    for r in results:
        gap = None
        if best is not None and r.objective is not None:
            gap = abs(best - r.objective) / max(abs(r.objective), 1e-10)
        rows.append(f"{(r.method or r.solver):<16}{_fmt(r.objective):>{width}}{_fmt(gap, '.2e'):>14}  "
                    f"{r.status.value:<11}{r.certificate.value:<12}{r.wall_time_s:>9.3f}")
    return "\n".join(rows)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cfopt", description="Resource allocation in cell-free massive MIMO: exact optima, "
                     "relaxations and the papers' algorithms behind one interface.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    from experiments import cli_instances, demo, pareto, reproduce
    from experiments import sweep
    from experiments import certify, validate

    demo.add_parser(sub)
    _add_solve(sub)
    pareto.add_parser(sub)
    reproduce.add_parser(sub)
    sweep.add_parser(sub)
    validate.add_parser(sub)
    certify.add_parser(sub)
    cli_instances.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if getattr(args, "run", None) is None:
            parser.print_help()
            return 0 if args.command is None else 2
        from solvers_adapters._stdio import native_stdout_to_stderr

        # whatever a native library prints during the command goes to stderr; our own output keeps stdout
        with native_stdout_to_stderr():
            return int(args.run(args) or 0)
    except InputError as exc:
        print(f"cfopt: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cfopt: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
