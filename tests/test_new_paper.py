"""Adding a paper is cheap (issue 11): the toy paper in ``tests/toy_paper/`` (one generator, one model and
evaluator, one formulation with its FormulationInfo, methods returning Outcomes, one figure, one library card)
is registered only through ``CFOPT_PLUGINS=tests.toy_paper`` — no shared file names it — and ``cfopt solve``,
``validate``, ``reproduce``, ``instances make`` and ``library certify`` see it and give correct numbers.

Everything runs in subprocesses, so the toy registration never leaks into the other tests' registry.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "tests" / "toy_paper"
CARD = json.loads((TOY / "library" / "toy-01.json").read_text())["card"]["problems"]["toy-maxmin"]


def _env(plugins: bool = True) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.pop("CFOPT_PLUGINS", None)
    if plugins:
        env["CFOPT_PLUGINS"] = "tests.toy_paper"
    return env


def cfopt(*args, plugins: bool = True, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "experiments.cli", *map(str, args)], env=_env(plugins),
                          cwd=str(cwd or ROOT), text=True, capture_output=True, timeout=timeout)


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env=_env(), cwd=str(ROOT), text=True, capture_output=True,
                          timeout=300)


def test_solve_sees_the_plugin_and_reaches_the_certified_optimum(tmp_path):
    p = cfopt("solve", "toy-maxmin", "--instance", "toy-01", "--method", "exact", "--json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res["status"] == "optimal" and res["certificate"] == "global" and res["formulation"] == "feasibility-lp"
    assert res["objective"] == pytest.approx(CARD["optimum"], rel=1e-9)
    assert res["max_violation"] == 0.0 and res["solver"] == "highs"
    # the closed form (Perron–Frobenius) agrees with the LP bisection
    p = cfopt("solve", "toy-maxmin", "--instance", "toy-01", "--method", "perron", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["objective"] == pytest.approx(CARD["optimum"], rel=1e-8)
    # re-scoring the card's point with the card's context gives the card's optimum
    p = python("import experiments, json, instances\n"
               "from instances import cards\n"
               "i = instances.load('toy-01'); e = cards.entries(i.card)['toy-maxmin']\n"
               "ev = experiments.evaluate('toy-maxmin', i, {'eta': list(e['solution']['eta'])}, dict(e['context']))\n"
               "print(json.dumps([ev.objective, e['optimum']]))")
    assert p.returncode == 0, p.stderr
    a, b = json.loads(p.stdout)
    assert a == pytest.approx(b, rel=1e-12)


def test_without_the_plugin_nothing_of_it_is_registered():
    p = cfopt("solve", "toy-maxmin", "--instance", "toy-01", "--method", "exact", plugins=False)
    assert p.returncode == 2 and "problem" in p.stderr and "Traceback" not in p.stderr
    p = cfopt("reproduce", "toy-fig1", plugins=False)
    assert p.returncode == 2 and "toy-fig1" in p.stderr


def test_validate_sees_the_plugin_card():
    p = cfopt("validate", "--problems", "toy-maxmin", "--json", "--quiet")
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert rep["passed"] and rep["instances"] == ["toy-01"]
    (row,) = rep["rows"]
    assert row["method"] == "perron" and row["runs"] == 3 and row["feasible"] == 3
    assert row["worst_ratio"] == pytest.approx(1.0, abs=1e-8)
    # the same from the plugin's library directory given explicitly
    p = cfopt("validate", "--problems", "toy-maxmin", "--library", TOY / "library", "--json", "--quiet")
    assert p.returncode == 0 and json.loads(p.stdout)["instances"] == ["toy-01"]


def test_reproduce_runs_the_plugin_figure_in_worker_processes(tmp_path):
    p = cfopt("reproduce", "toy-fig1", "--out", tmp_path, "--workers", "2")
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "toy-fig1.png").stat().st_size > 0
    with (tmp_path / "toy-fig1.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4 and all(r["status"] == "optimal" for r in rows)
    # every row equals the closed form on the same seeded layout
    code = ("import json, instances, experiments\n"
            f"rows = {json.dumps([(int(r['users']), int(r['seed'])) for r in rows])}\n"
            "print(json.dumps([experiments.solve('toy-maxmin', instances.generate('toy2', seed=s, users=k), "
            "'perron').objective for k, s in rows]))")
    q = python(code)
    assert q.returncode == 0, q.stderr
    for r, v in zip(rows, json.loads(q.stdout)):
        assert float(r["min_sinr"]) == pytest.approx(v, rel=1e-8)


def test_generator_signature_drives_instances_make(tmp_path):
    p = cfopt("instances", "make", "toy2", "--list-params")
    assert p.returncode == 0 and "users (int; default 2)" in p.stdout and "area_km (float; default 0.2)" in p.stdout
    out = tmp_path / "t.json"
    p = cfopt("instances", "make", "toy2", "-p", "users=3", "-p", "area_km=0.1", "--seed", "4", "-o", out, "--json")
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert (s["M"], s["K"], s["seed"]) == (2, 3, 4)
    p = cfopt("instances", "make", "toy2", "-p", "users=three", "-o", out)
    assert p.returncode == 2 and p.stderr.strip().splitlines() == [p.stderr.strip()] and "-p users" in p.stderr


def test_library_certify_reproduces_the_stored_card(tmp_path):
    code = ("import json\n"
            "from experiments.certify import certify\n"
            f"(c,) = certify(['toy-01'], out={str(tmp_path)!r})\n"
            "print(json.dumps(dict(c.entries['toy-maxmin'])))")
    p = python(code)
    assert p.returncode == 0, p.stderr
    new = json.loads(p.stdout.strip().splitlines()[-1])
    assert new["optimum"] == pytest.approx(CARD["optimum"], rel=1e-9)
    assert new["certified_by"]["solver"] == "highs" and new["certified_by"]["method"] == "exact"
    written = json.loads((tmp_path / "toy-01.json").read_text())
    assert written["card"]["problems"]["toy-maxmin"]["optimum"] == new["optimum"]


def test_no_shared_file_names_the_toy_paper():
    """The files a new paper must touch: only its own. No code or configuration file outside tests/toy_paper (and
    this test) mentions it."""
    names = ("toy_paper", "toy-maxmin", "toy2", "toy-fig1")
    hits = []
    for path in ROOT.rglob("*"):
        if path.suffix not in (".py", ".toml", ".cfg", ".ini", ".txt", ".json") or not path.is_file():
            continue
        rel = path.relative_to(ROOT)
        if rel.parts[0] in (".git", "results", "cfopt.egg-info") or rel.parts[:2] == ("tests", "toy_paper") \
                or rel == Path("tests/test_new_paper.py"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        hits += [f"{rel}: {n}" for n in names if n in text]
    assert not hits, hits
