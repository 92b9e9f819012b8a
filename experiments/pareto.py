"""ε-constraint trade-off sweeps (``cfopt pareto``): one objective maximised while a second one is held above a
threshold that runs from its value at the unconstrained optimum to its largest attainable value.

For ``uplink-ee`` (paper 000): maximise EE (11a) s.t. Σ SE ≥ SE^QoS (11d). The sweep

1. solves the SE-max end point first (the problem's :attr:`ParetoSpec.max_endpoint`; SCIP for ``exact``), which
   fixes the largest attainable sum SE, SE_max;
2. solves the method with the threshold at 0: its achieved sum SE, SE_min, is where the constraint starts to bind
   (any threshold below gives the same point);
3. solves the method at ``points`` thresholds evenly spaced in [SE_min, SE_max] (the last one pulled in by a relative
   1e-6 so that the solver's own tolerance cannot make the end point infeasible), and at ``beyond`` thresholds above
   SE_max (+5 %, +10 %, ...) which must come back ``infeasible`` — with a proof from SCIP for ``exact``. Such a point
   carries its status and no EE; it is never drawn as EE = 0.

Where the problem offers a session for the method (:attr:`ParetoSpec.session`: ``exact`` via SCIP, ``relaxed`` via
Ipopt), ONE model serves the whole front: the threshold is changed with the formulation's ``set_params`` and the
model re-solved (warm-started from the previous point where the solver can use it); otherwise the method re-runs per
threshold. Every point is an Outcome turned into a re-scored SolveResult by :func:`experiments.results.make_result`
(:func:`experiments.results.run_method` for the re-runs).

Each row records the threshold, status, certificate, objective (EE re-scored by the evaluator), the achieved sum SE,
bound, gap and wall time. :func:`non_dominated` checks the front.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from instances.errors import InputError
from experiments.csvio import write_csv as _write_csv
from experiments.paths import check_time_limit_arg, check_writable
from experiments.results import make_result, run_method
from solvers_adapters.algorithms import Clock

__all__ = ["ParetoSpec", "sweep", "non_dominated", "write_csv", "plot_front", "add_parser"]


@dataclass(frozen=True)
class ParetoSpec:
    """How a problem's trade-off is swept. ``max_endpoint(instance, method, **kw)`` returns the Outcome at the
    largest attainable value of the constrained quantity (read from the result's ``solution[achieved_key]``).
    ``session(instance, method, **kw)`` (optional) returns an object with ``solve(threshold) -> Outcome`` (and
    optionally ``max_endpoint() -> Outcome``) that keeps one model for the whole sweep, or None for a method that
    re-runs per threshold."""

    parameter: str                    # the threshold option of the problem's methods, e.g. "se_qos"
    parameter_label: str
    objective_label: str
    achieved_key: str                 # where a result's solution stores the achieved value, e.g. "sum_se_bps_hz"
    achieved_label: str
    max_endpoint: Callable[..., Any]
    session: Callable[..., Any] | None = None


FIELDS = ["threshold", "method", "status", "certificate", "objective", "achieved", "bound", "gap", "wall_time_s",
          "message"]


def _achieved(res, key: str) -> float | None:
    if not res.has_solution:
        return None
    v = res.solution.get(key)
    return None if v is None else float(v)


def _row(threshold: float, res, key: str) -> dict[str, Any]:
    return {"threshold": float(threshold), "method": res.method, "status": res.status.value,
            "certificate": res.certificate.value, "objective": res.objective if res.has_solution else None,
            "achieved": _achieved(res, key), "bound": res.bound, "gap": res.gap,
            "wall_time_s": round(float(res.wall_time_s), 4), "message": res.message}


def _check(points, beyond, seed, spec, options) -> None:
    if not isinstance(points, int) or points < 2:
        raise InputError("--points", f"need at least 2 points, got {points}")
    if beyond < 0:
        raise InputError("--beyond", f"must be >= 0, got {beyond}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise InputError("--seed", f"must be a non-negative integer, got {seed!r}")
    if spec.parameter in options:
        raise InputError(spec.parameter, "set by the sweep (it is the ε-constraint threshold)")


class _Runner:
    """Solves the sweep's points: through the session's one model when there is one, else by re-running the
    method (:func:`run_method`); every point is a re-scored SolveResult."""

    def __init__(self, problem, method, inst, spec: ParetoSpec, kw: dict):
        self.problem, self.method, self.inst, self.spec, self.kw = problem, method, inst, spec, kw
        self.session = spec.session(inst, method.name, **kw) if spec.session is not None else None

    def _result(self, make_outcome):
        clock = Clock()
        outcome = make_outcome()
        return make_result(self.problem, self.inst, self.method, outcome, seed=self.kw.get("seed"),
                           wall_time_s=clock.elapsed())

    def top(self):
        if self.session is not None and hasattr(self.session, "max_endpoint"):
            return self._result(self.session.max_endpoint)
        return self._result(lambda: self.spec.max_endpoint(self.inst, self.method.name, **self.kw))

    def at(self, threshold: float):
        if self.session is not None:
            return self._result(lambda: self.session.solve(float(threshold)))
        return run_method(self.problem, self.method, self.inst, **{self.spec.parameter: float(threshold)}, **self.kw)


def sweep(problem_id: str, instance, method: str, points: int, *, beyond: int = 1, time_limit: float | None = None,
          seed: int | None = None, progress: Callable[[str], None] | None = None, **options) -> dict[str, Any]:
    """Run the ε-constraint sweep; returns ``{"rows": [...], "spec": ParetoSpec, "max_endpoint": SolveResult,
    "min_threshold": float, "max_threshold": float}``. ``progress`` receives one line per solve."""
    import experiments

    problem = experiments.get_problem(problem_id)
    spec: ParetoSpec | None = problem.pareto
    if spec is None:
        raise InputError("problem", f"{problem_id} has no trade-off to sweep")
    m = problem.method(method)
    _check(points, beyond, seed, spec, options)
    kw = m.resolve(dict(options))            # the method's declared options, before any solve
    inst = experiments._instance(instance)
    problem.check_instance(inst)
    if time_limit is not None:
        kw["time_limit"] = time_limit
    if seed is not None:
        kw["seed"] = seed
    say = progress or (lambda s: None)
    clock = Clock()
    runner = _Runner(problem, m, inst, spec, kw)
    top = runner.top()
    hi = _achieved(top, spec.achieved_key)
    say(f"max end point: {spec.achieved_label} = {hi} ({top.status.value}/{top.certificate.value}, "
        f"{top.wall_time_s:.1f} s)")
    if hi is None:
        raise InputError("instance", f"the {spec.achieved_label} end point could not be solved "
                                     f"({top.status.value}: {top.message})")
    base = runner.at(0.0)
    lo = _achieved(base, spec.achieved_key)
    say(f"unconstrained optimum: {spec.objective_label} = {base.objective}, {spec.achieved_label} = {lo}")
    lo = min(0.0 if lo is None else lo, hi * (1 - 1e-6))
    grid = list(np.linspace(lo, hi * (1 - 1e-6), points)) + [hi * (1 + 0.05 * j) for j in range(1, beyond + 1)]
    rows = []
    for i, thr in enumerate(grid, 1):
        res = base if i == 1 and thr == lo and lo == _achieved(base, spec.achieved_key) else runner.at(thr)
        rows.append(_row(thr, res, spec.achieved_key))
        obj = "-" if rows[-1]["objective"] is None else f"{rows[-1]['objective']:.5g}"
        say(f"[{i}/{len(grid)}] {spec.parameter} = {thr:.4g}: {res.status.value}/{res.certificate.value} "
            f"objective {obj} ({res.wall_time_s:.1f} s, elapsed {clock.elapsed():.0f} s)")
    return {"rows": rows, "spec": spec, "max_endpoint": top, "min_threshold": lo, "max_threshold": hi}


def non_dominated(rows: list[dict[str, Any]]) -> bool:
    """True when no solved point is dominated by another (higher-or-equal objective AND achieved value, one strictly;
    relative tolerance 1e-6)."""
    pts = [(r["objective"], r["achieved"]) for r in rows if r["objective"] is not None and r["achieved"] is not None]
    for i, (f1, s1) in enumerate(pts):
        for j, (f2, s2) in enumerate(pts):
            if i != j and f2 >= f1 * (1 + 1e-6) and s2 >= s1 * (1 + 1e-6):
                return False
    return True


def write_csv(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """The front as CSV, columns :data:`FIELDS` only."""
    path = Path(path)
    _write_csv([{k: r.get(k) for k in FIELDS} for r in rows], path, FIELDS)
    return path


def plot_front(rows: list[dict[str, Any]], spec: ParetoSpec, path: str | Path, *, title: str = "") -> Path:
    """Objective vs threshold; infeasible thresholds drawn as crosses on the axis and labelled, never as zeros."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok = [r for r in rows if r["objective"] is not None]
    bad = [r for r in rows if r["objective"] is None]
    fig, ax = plt.subplots(figsize=(6, 4))
    if ok:
        ax.plot([r["threshold"] for r in ok], [r["objective"] for r in ok], "o-", label="solved")
    if bad:
        y0 = min((r["objective"] for r in ok), default=1.0) * 0.95
        ax.plot([r["threshold"] for r in bad], [y0] * len(bad), "x", color="tab:red", ms=9,
                label=", ".join(sorted({r["status"] for r in bad})) + " (no point)")
    ax.set_xlabel(spec.parameter_label)
    ax.set_ylabel(spec.objective_label)
    ax.grid(True, alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _table(rows: list[dict[str, Any]], spec: ParetoSpec) -> str:
    head = f"{'threshold':>12}{'objective':>14}{'achieved':>12}  {'status':<11}{'certificate':<12}{'time [s]':>9}"
    out = [f"# {spec.parameter} vs {spec.objective_label}", head, "-" * len(head)]
    for r in rows:
        obj = "-" if r["objective"] is None else f"{r['objective']:.6g}"
        ach = "-" if r["achieved"] is None else f"{r['achieved']:.6g}"
        out.append(f"{r['threshold']:>12.6g}{obj:>14}{ach:>12}  {r['status']:<11}{r['certificate']:<12}"
                   f"{r['wall_time_s']:>9.2f}")
    return "\n".join(out)


def add_parser(sub) -> None:
    p = sub.add_parser("pareto", help="trace a trade-off by ε-constraint (e.g. EE vs SE^QoS for uplink-ee)")
    p.add_argument("problem")
    p.add_argument("--instance", required=True, help="library name or path to an instance JSON file")
    p.add_argument("--method", required=True, help="e.g. exact or ao-qt")
    p.add_argument("--points", type=int, default=8, help="thresholds between the two end points (default 8)")
    p.add_argument("--beyond", type=int, default=1, help="extra thresholds above the attainable maximum (+5 %% "
                                                         "each), expected infeasible (default 1)")
    p.add_argument("--out", help="write the front as CSV")
    p.add_argument("--plot", help="write the front as PNG")
    p.add_argument("--time-limit", type=float, default=None, help="per solve, seconds")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(run=_run)


def _run(args) -> int:
    import json

    check_time_limit_arg(args.time_limit)
    for path, option in ((args.out, "--out"), (args.plot, "--plot")):   # before the front is computed
        if path is not None:
            check_writable(path, option)
    say = None if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    out = sweep(args.problem, args.instance, args.method, args.points, beyond=args.beyond,
                time_limit=args.time_limit, seed=args.seed, progress=say)
    rows, spec = out["rows"], out["spec"]
    if args.out:
        write_csv(rows, args.out)
    if args.plot:
        plot_front(rows, spec, args.plot, title=f"{args.problem} on {args.instance} ({args.method})")
    if args.json:
        print(json.dumps([{k: (v if not (isinstance(v, float) and not math.isfinite(v)) else str(v))
                           for k, v in r.items()} for r in rows]))
    else:
        print(_table(rows, spec))
        print(f"non-dominated: {non_dominated(rows)}")
    return 0
