"""Check that a refactoring changed no number (issue 11's acceptance "no behaviour change").

    python benchmarks/check_no_change.py [--figures iot-fig1 iot-fig7 khan-fig7] [--workers 2] [--skip-validate]

1. Runs ``cfopt reproduce FIGURE`` (reduced size) for each figure into a fresh directory and compares its
   ``<figure>_summary.csv`` with the committed ``docs/figures/<figure>_summary.csv`` **byte for byte** (every
   cell identical as text, so every float identical to the last bit). A difference prints the first differing cells.
2. Runs ``cfopt validate --suite tiny --json`` and compares every run's objective (instance, seed, problem,
   method) with ``benchmarks/baselines/validate_tiny_before_issue11.json`` (the same command on the code before the
   layout move, commit 69c085f) to 1e-9 relative, and every status and verdict exactly.

Exit 0 when everything agrees, 1 otherwise. Progress goes to stderr, the verdict to stdout.
"""
from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "benchmarks" / "baselines" / "validate_tiny_before_issue11.json"
REL_TOL = 1e-9


def _cfopt(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "experiments.cli", *args], cwd=ROOT, text=True,
                          capture_output=True)


def check_figure(name: str, workers: int) -> list[str]:
    with tempfile.TemporaryDirectory() as out:
        proc = _cfopt("reproduce", name, "--out", out, "--workers", str(workers))
        if proc.returncode != 0:
            return [f"{name}: cfopt reproduce exited {proc.returncode}: {proc.stderr.strip()[-400:]}"]
        new = (Path(out) / f"{name}_summary.csv").read_text()
    old = (ROOT / "docs" / "figures" / f"{name}_summary.csv").read_text()
    if new == old:
        return []
    rows_new, rows_old = list(csv.reader(new.splitlines())), list(csv.reader(old.splitlines()))
    diffs = [f"{name}: row {i} column {j}: committed {a!r}, now {b!r}"
             for i, (ro, rn) in enumerate(zip(rows_old, rows_new))
             for j, (a, b) in enumerate(zip(ro, rn)) if a != b]
    if len(rows_new) != len(rows_old):
        diffs.append(f"{name}: {len(rows_old)} committed rows, {len(rows_new)} now")
    return diffs[:10] or [f"{name}: summaries differ"]


def _runs(report: dict) -> dict[tuple, dict]:
    return {(row["problem"], row["method"], d["instance"], d["seed"]): d
            for row in report["rows"] for d in row["details"]}


def check_validate() -> list[str]:
    proc = _cfopt("validate", "--suite", "tiny", "--json")
    if proc.returncode not in (0, 1):
        return [f"validate exited {proc.returncode}: {proc.stderr.strip()[-400:]}"]
    new, old = json.loads(proc.stdout), json.loads(BASELINE.read_text())
    problems = []
    verdicts_old = {(r["problem"], r["method"]): r["verdict"] for r in old["rows"]}
    verdicts_new = {(r["problem"], r["method"]): r["verdict"] for r in new["rows"]}
    if verdicts_old != verdicts_new:
        problems.append(f"verdicts differ: before {verdicts_old}, now {verdicts_new}")
    runs_old, runs_new = _runs(old), _runs(new)
    if set(runs_old) != set(runs_new):
        problems.append(f"runs differ: missing {sorted(set(runs_old) - set(runs_new))[:5]}, "
                        f"new {sorted(set(runs_new) - set(runs_old))[:5]}")
    worst = 0.0
    for key in sorted(set(runs_old) & set(runs_new)):
        a, b = runs_old[key], runs_new[key]
        if a["status"] != b["status"]:
            problems.append(f"{key}: status {a['status']} before, {b['status']} now")
        if (a["objective"] is None) != (b["objective"] is None):
            problems.append(f"{key}: objective {a['objective']} before, {b['objective']} now")
        elif a["objective"] is not None:
            rel = abs(a["objective"] - b["objective"]) / max(abs(a["objective"]), 1e-300)
            worst = max(worst, rel)
            if rel > REL_TOL:
                problems.append(f"{key}: objective {a['objective']!r} before, {b['objective']!r} now (rel {rel:.2e})")
    print(f"validate: {len(runs_new)} runs compared, largest relative objective change {worst:.2e}", file=sys.stderr)
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--figures", nargs="*", default=["iot-fig1", "iot-fig7", "khan-fig7"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-validate", action="store_true")
    args = ap.parse_args(argv)
    problems: list[str] = []
    for name in args.figures:
        print(f"reproducing {name} …", file=sys.stderr)
        found = check_figure(name, args.workers)
        print(f"{name}: {'identical' if not found else 'DIFFERENT'}", file=sys.stderr)
        problems += found
    if not args.skip_validate:
        print("validate --suite tiny …", file=sys.stderr)
        problems += check_validate()
    for p in problems:
        print(p)
    print("no change" if not problems else f"{len(problems)} difference(s)")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
