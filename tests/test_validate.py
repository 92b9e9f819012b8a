"""``cfopt validate`` (DESIGN.md §2, §3 item 3): heuristics vs certified optima over the instance library.

The full tiny suite runs once (module fixture, through the command line); the deliberately broken methods are
registered for ``iot-uplink-maxmin`` only and validated on that problem alone.
"""
import dataclasses
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from experiments.registry import Method, load_all
from experiments.validate import validate
from instances.library import list_library

CFOPT = shutil.which("cfopt")


def run(*args, timeout=600):
    cmd = [CFOPT, *args] if CFOPT else [sys.executable, "-m", "experiments.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def tiny():
    p = run("validate", "--suite", "tiny", "--json")
    return p, (json.loads(p.stdout) if p.stdout.strip() else None)


def test_tiny_suite_passes_and_covers_every_pair(tiny):
    p, report = tiny
    assert p.returncode == 0, (p.stdout[-3000:], p.stderr[-3000:])
    assert report["passed"] is True and report["failures"] == []
    assert report["seeds"] == [0, 1, 2]
    # every (problem, method) pair except the certifier 'exact', for each problem the tiny cards certify
    registry = load_all()
    served = {pr for e in list_library() if e["name"].startswith("tiny-") for pr in e["optimum"]}
    want = {(pr, m) for pr in served for m in registry[pr].methods if m != "exact"}
    got = {(r["problem"], r["method"]) for r in report["rows"]}
    assert got == want
    n_inst = {pr: sum(1 for e in list_library() if e["name"].startswith("tiny-") and pr in e["optimum"])
              for pr in served}
    for r in report["rows"]:
        assert r["runs"] == 3 * n_inst[r["problem"]], r
        assert r["verdict"] == "pass"
        assert len(r["details"]) == r["runs"]
        if r["kind"] != "baseline":
            assert r["feasible_share"] == 1.0, r
            assert r["stated_ratio"] is not None and r["worst_ratio"] >= r["stated_ratio"], r
        if r["worst_ratio"] is not None:
            assert r["median_ratio"] >= r["worst_ratio"]
    # progress: one line per (problem, method) on stderr
    assert sum(1 for line in p.stderr.splitlines() if line.startswith("validate: ")) == len(want)


def test_stated_ratios_are_declared():
    registry = load_all()
    assert registry["iot-uplink-target"].sense == "min"
    assert registry["uplink-ee"].sense == "max"
    assert registry["uplink-ee"].methods["ao-qt"].stated_ratio == 0.85
    for prob in registry.values():
        for m in prob.methods.values():
            if m.kind == "baseline" or m.name == "exact":
                assert m.stated_ratio is None, (prob.id, m.name)
            else:
                assert m.stated_ratio is not None and 0 < m.stated_ratio <= 1, (prob.id, m.name)
                assert "stated ratio" in m.description


SCALE = "_test_objective_scale"   # a point key the test's evaluator wrapper reads (the real evaluator ignores it)


def _exact_scaled(factor):
    """The exact method's point, marked so that the wrapped evaluator reports objective × ``factor`` (a method
    cannot fake its objective: make_result re-scores every point)."""
    def run_(instance, **kw):
        out = load_all()["iot-uplink-maxmin"].methods["exact"].run(instance, **kw)
        return dataclasses.replace(out, point={**out.point, SCALE: factor})

    return run_


def _scaling_evaluator(evaluate):
    def scaled(instance, solution, **context):
        ev = evaluate(instance, {k: v for k, v in solution.items() if k != SCALE}, **context)
        factor = solution.get(SCALE)
        return ev if factor is None else dataclasses.replace(ev, objective=ev.objective * factor)

    return scaled


@pytest.fixture
def broken(monkeypatch):
    problem = load_all()["iot-uplink-maxmin"]
    monkeypatch.setattr(problem, "evaluate", _scaling_evaluator(problem.evaluate))
    methods = problem.methods
    monkeypatch.setitem(methods, "too-good", Method("too-good", _exact_scaled(1.01), "heuristic",
                                                    "the exact point with its objective × 1.01", stated_ratio=0.5))
    monkeypatch.setitem(methods, "too-weak", Method("too-weak", _exact_scaled(0.5), "heuristic",
                                                    "half the optimum", stated_ratio=0.9))
    monkeypatch.setitem(methods, "weak-baseline", Method("weak-baseline", _exact_scaled(0.5), "baseline",
                                                         "half the optimum, no promise"))


def test_broken_heuristics_fail(broken):
    rep = validate("tiny", seeds=(0,), problems=["iot-uplink-maxmin"])
    assert not rep.passed and rep.exit_code == 1
    rows = {r.method: r for r in rep.rows}
    assert rows["too-good"].verdict == "FAIL: beats proven optimum"
    assert rows["too-good"].worst_ratio == pytest.approx(1.01, rel=1e-5)
    assert rows["too-weak"].verdict == "FAIL: misses stated ratio"
    assert rows["too-weak"].worst_ratio == pytest.approx(0.5, rel=1e-5)
    assert rows["weak-baseline"].passed        # a baseline promises no ratio
    for m in ("bisection", "fixed-point", "full-power"):
        assert rows[m].passed
    assert any("beats proven optimum" in f and "too-good" in f for f in rep.failures)
    assert "validation FAILED" in rep.table()


def test_broken_heuristic_exits_1_on_the_command_line(broken, capsys):
    from experiments.cli import main

    code = main(["validate", "--suite", "tiny", "--problems", "iot-uplink-maxmin", "--methods", "too-good",
                 "--seeds", "1", "--json", "--quiet"])
    out = capsys.readouterr()
    assert code == 1
    report = json.loads(out.out)
    assert [r["method"] for r in report["rows"]] == ["too-good"]
    assert report["rows"][0]["verdict"] == "FAIL: beats proven optimum"
    assert out.err == ""


def test_infeasible_or_raising_methods_fail(monkeypatch):
    methods = load_all()["iot-uplink-maxmin"].methods

    def infeasible(instance, **kw):
        out = methods["full-power"].run(instance, **kw)      # η = 1; 1.001 violates η ≤ 1 by 1e-3
        return dataclasses.replace(out, point={**out.point, "eta": np.asarray(out.point["eta"]) * 1.001})

    def crash(instance, **kw):
        raise RuntimeError("boom")

    monkeypatch.setitem(methods, "violates", Method("violates", infeasible, "heuristic", "", stated_ratio=0.01))
    monkeypatch.setitem(methods, "crashes", Method("crashes", crash, "baseline", ""))
    rep = validate("tiny", seeds=(0,), problems=["iot-uplink-maxmin"], methods=["violates", "crashes"])
    rows = {r.method: r for r in rep.rows}
    assert rows["violates"].feasible == 0 and rows["violates"].verdict == "FAIL: misses stated ratio"
    assert rows["crashes"].verdict == "FAIL: raised" and "boom" in rows["crashes"].failures[0]
    assert rep.exit_code == 1


def test_bad_input_exits_2_naming_the_field():
    for args, field in ((["--suite", "nosuch"], "--suite"), (["--seeds", "0"], "--seeds"),
                        (["--problems", "nosuch"], "--problems"), (["--methods", "nosuch"], "--methods")):
        p = run("validate", *args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert "Traceback" not in p.stdout + p.stderr
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and field in lines[0], p.stderr
