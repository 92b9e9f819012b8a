"""The installed ``cfopt`` command: help, errors as one line with exit code 2, the demo, the registry errors."""
import json
import shutil
import subprocess
import sys


from experiments.cli import main
from experiments.registry import Method, Problem, PROBLEMS
from models.common.evaluation import Evaluation
from solvers_adapters import Certificate, SolveResult, Status
from solvers_adapters.algorithms import Outcome

CFOPT = shutil.which("cfopt")


def run(*args, timeout=300):
    cmd = [CFOPT, *args] if CFOPT else [sys.executable, "-m", "experiments.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def assert_user_error(p, field):
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stdout + p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], p.stderr


def test_help_lists_the_commands():
    p = run("--help")
    assert p.returncode == 0
    for cmd in ("demo", "solve", "compare", "instances"):
        assert cmd in p.stdout


def test_bad_generator_parameters_exit_2_naming_the_field(tmp_path):
    p = run("instances", "make", "ngo2017", "--aps", "0", "--users", "4", "--seed", "1", "-o", str(tmp_path / "x.json"))
    assert_user_error(p, "--aps")
    assert not (tmp_path / "x.json").exists()
    p = run("instances", "make", "ngo2017", "--aps", "4", "--users", "4", "--seed", "-3", "-o", str(tmp_path / "x.json"))
    assert_user_error(p, "--seed")
    p = run("instances", "make", "nosuch", "--aps", "4", "--users", "4", "-o", str(tmp_path / "x.json"))
    assert_user_error(p, "scenario")


def test_hand_corrupted_instance_file_exits_2(tmp_path):
    f = tmp_path / "i.json"
    p = run("instances", "make", "ngo2017", "--aps", "5", "--users", "3", "--antennas", "2", "--seed", "4", "-o", str(f))
    assert p.returncode == 0, p.stderr
    assert run("instances", "show", str(f)).returncode == 0
    data = json.loads(f.read_text())
    data["beta"][1][2] *= 1.5                       # a hand edit: the content hash no longer matches
    bad = tmp_path / "edited.json"
    bad.write_text(json.dumps(data))
    assert_user_error(run("instances", "show", str(bad)), "content_hash")
    data = json.loads(f.read_text())
    data["beta"][0][0] = -1.0                      # negative fading, hash removed: rejected by check()
    del data["content_hash"]
    bad.write_text(json.dumps(data))
    assert_user_error(run("instances", "show", str(bad)), "beta")
    bad.write_text("{ not json")
    assert_user_error(run("instances", "show", str(bad)), "file")
    assert_user_error(run("instances", "show", "/no/such/file.json"), "instance")


def test_unknown_problem_method_and_usage_errors():
    assert_user_error(run("solve", "no-such-problem", "--instance", "demo", "--method", "exact"), "problem")
    assert_user_error(run("solve", "no-such-problem", "--instance", "demo"), "cfopt solve")  # missing --method
    assert_user_error(run("no-such-command"), "cfopt")


def test_demo_runs_the_main_job_and_rescored_objective():
    p = run("demo", "--json")
    assert p.returncode == 0, p.stderr
    r = SolveResult.from_dict(json.loads(p.stdout))
    assert r.status is Status.OPTIMAL and r.certificate.value == "local" and r.solver == "ipopt"
    assert r.instance == "demo" and len(r.instance_hash) == 16 and r.seed is not None
    assert r.objective > 0 and r.max_violation < 1e-6
    p = run("demo")
    assert p.returncode == 0 and "all serve all" in p.stdout


def test_solve_and_compare_through_the_registry(capsys, monkeypatch):
    """A registered toy problem goes through `cfopt solve/compare`, printing SolveResult JSON (DESIGN.md §2)."""
    def exact(inst, **kw):
        return Outcome(status=Status.OPTIMAL, certificate=Certificate.GLOBAL, point={"v": 1.0}, formulation="toy",
                       bound=1.0, gap=0.0)

    def heur(inst, **kw):
        return Outcome(status=Status.FEASIBLE, certificate=Certificate.STATIONARY, point={"v": 0.9},
                       formulation="toy", bound=float("inf"))

    def evaluate(inst, solution):          # the toy's evaluator: objective = v, nothing to violate
        v = float(solution["v"])
        return Evaluation(objective=v, unit="1", objectives={"v": v}, per_user={}, power={}, violations={})

    toy = Problem("toy", "none", "a toy", evaluate=evaluate,
                  methods={"exact": Method("exact", exact, "exact"), "greedy": Method("greedy", heur, "heuristic")})
    monkeypatch.setitem(PROBLEMS, "toy", toy)
    assert main(["solve", "toy", "--instance", "demo", "--method", "exact", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["status"] == "optimal" and r["instance"] == "demo" and r["bound"] == 1.0
    assert main(["compare", "toy", "--instance", "demo", "--methods", "exact,greedy", "--seed", "5", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [x["method"] for x in rows] == ["exact", "greedy"] and rows[1]["seed"] == 5
    assert main(["compare", "toy", "--instance", "demo", "--methods", "exact,greedy"]) == 0
    table = capsys.readouterr().out
    assert "1.11e-01" in table.splitlines()[3]   # (1 - 0.9) / 0.9: gap relative to the objective, as SCIP
    assert main(["solve", "toy", "--instance", "demo", "--method", "nope"]) == 2
    assert "known: exact, greedy" in capsys.readouterr().err
