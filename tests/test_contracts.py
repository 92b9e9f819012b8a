"""The command-line and result contracts over the whole registry (DESIGN.md §2), for every registered paper problem
and every one of its methods:

* ``cfopt solve … --json`` and ``cfopt compare … --json`` print exactly one JSON document on stdout, whatever the
  native solvers print (highspy 1.16 prints a banner from its constructor: it must land on stderr);
* every result can be re-scored: the evaluator, given the result's ``solution`` and ``context``, returns its
  ``objective`` and ``max_violation`` (on every certified library instance, with default and non-default options);
* every method declares its options, and a bad one exits 2 with one line naming it, before any work.
"""
from __future__ import annotations

import inspect
import json
import shutil
import subprocess
import sys

import pytest

import experiments
from experiments.cli import main
from experiments.options import Option
from experiments.rescore import rescore
import instances
from instances import cards
from instances.library import list_library

LIBRARY = list_library()
experiments.load_all()
#: the paper problems (those with certified library instances; test-only problems have none)
PROBLEM_IDS = sorted({p for e in LIBRARY for p in e["problems"] if p in experiments.PROBLEMS})
PAIRS = [(pid, m) for pid in PROBLEM_IDS for m in experiments.PROBLEMS[pid].methods]
CERTIFIED = [(pid, e["name"]) for e in LIBRARY for pid in e["problems"]
             if pid in experiments.PROBLEMS and e["optimum"].get(pid) is not None]


#: one non-default evaluation option per problem (each changes the number the evaluator returns), declared by the
#: paper's registration (``Problem.example_options``)
NON_DEFAULT = {pid: dict(experiments.PROBLEMS[pid].example_options) for pid in PROBLEM_IDS}


def _quickest(pid: str) -> str:
    """The first certified library card of ``pid`` by name (the libraries number their quickest cards first) whose
    certified context does not already hold the problem's example options."""
    def differs(name: str) -> bool:
        context = cards.entries(instances.load(name).card).get(pid, {}).get("context") or {}
        return all(context.get(k) != v for k, v in NON_DEFAULT[pid].items())

    return min(e["name"] for e in LIBRARY if e["optimum"].get(pid) is not None and differs(e["name"]))


#: a quickly certified instance per paper problem, read from the cards (no list names the papers)
QUICK = {pid: _quickest(pid) for pid in PROBLEM_IDS}

CFOPT = shutil.which("cfopt")


def _cli(*args, timeout=600):
    cmd = [CFOPT, *args] if CFOPT else [sys.executable, "-m", "experiments.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def test_every_paper_problem_is_covered():
    assert {"uplink-ee", "iot-uplink-maxmin", "iot-uplink-target", "iot-downlink-maxmin"} <= set(PROBLEM_IDS)
    assert len(PAIRS) >= 15 and {pid for pid, _ in CERTIFIED} == set(PROBLEM_IDS)
    for pid in PROBLEM_IDS:                # each problem with cards names a non-default evaluation option
        p = experiments.PROBLEMS[pid]
        assert NON_DEFAULT[pid] and set(NON_DEFAULT[pid]) <= set(p.context_keys), pid


# ------------------------------------------------------------------------------------------- one JSON document
@pytest.mark.parametrize("pid,method", PAIRS)
def test_solve_json_is_exactly_one_document_on_stdout(pid, method, capfd):
    """In-process with fd-level capture: anything a native library writes to file descriptor 1 would be in ``out``."""
    rc = main(["solve", pid, "--instance", QUICK[pid], "--method", method, "--json"])
    out, err = capfd.readouterr()
    assert rc == 0, err
    d = json.loads(out)                     # the whole of stdout is one JSON document
    assert isinstance(d, dict) and d["problem"] == pid and d["method"] == method, out[:200]
    assert d["status"] in ("optimal", "feasible", "infeasible", "limit"), d["message"]
    assert isinstance(d["context"], dict) and d["context"], "every result records its evaluation context"


@pytest.mark.parametrize("pid", PROBLEM_IDS)
def test_compare_json_is_exactly_one_document_in_a_fresh_process(pid):
    """A fresh process per problem: a banner printed once per process (at the first solver object) is caught too."""
    methods = list(experiments.PROBLEMS[pid].methods)
    p = _cli("compare", pid, "--instance", QUICK[pid], "--methods", ",".join(methods), "--json")
    assert p.returncode == 0, p.stderr
    docs = json.loads(p.stdout)
    assert [d["method"] for d in docs] == methods
    # and the text table, also on stdout, carries no native output either: header, rule, one row per method
    p = _cli("compare", pid, "--instance", QUICK[pid], "--methods", ",".join(methods))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 2 + len(methods), p.stdout
    unit = experiments.PROBLEMS[pid].unit
    assert unit and f"objective [{unit}]" in lines[0]


# ------------------------------------------------------------------------------------------- the method contract
@pytest.mark.parametrize("pid,method", PAIRS)
def test_every_method_returns_an_outcome(pid, method):
    """``Method.run`` returns an Outcome (why it stopped, the point, the evaluation context), never a finished
    SolveResult: only experiments.results.make_result re-scores a point (DESIGN.md §1)."""
    from solvers_adapters.algorithms import Outcome
    from solvers_adapters.result import Certificate, Status

    m = experiments.PROBLEMS[pid].method(method)
    out = m.run(experiments._instance(QUICK[pid]), **m.resolve({}))
    assert isinstance(out, Outcome), (pid, method, type(out).__name__)
    assert isinstance(out.status, Status) and isinstance(out.certificate, Certificate)
    assert out.formulation and out.context, (pid, method)


# ------------------------------------------------------------------------------------------------- re-scoring
def _assert_rescores(pid, name, res):
    """The result re-scores to its own numbers: via the Python API, and via its JSON form (what cfopt evaluate reads)."""
    if not res.solution:
        assert res.objective is None, (pid, name, res.method, res.status)
        return
    ev = experiments.evaluate(pid, name, res.solution, res.context)
    if res.objective is not None:
        assert ev.objective == res.objective, (pid, name, res.method, ev.objective, res.objective)
    assert ev.max_violation == res.max_violation, (pid, name, res.method, ev.max_violation, res.max_violation)
    row = rescore(pid, name, json.loads(res.to_json()))
    assert row["agrees"], row


@pytest.mark.parametrize("pid,name", CERTIFIED)
def test_every_method_rescores_to_its_objective_on_every_certified_instance(pid, name):
    for method in experiments.PROBLEMS[pid].methods:
        res = experiments.solve(pid, name, method)
        assert res.context, (pid, name, method)
        _assert_rescores(pid, name, res)


@pytest.mark.parametrize("pid", PROBLEM_IDS)
def test_non_default_options_are_recorded_and_rescore(pid):
    """With a non-default evaluation option the context carries it; re-scoring with the defaults instead would not
    give the result's numbers (which is why the context exists)."""
    name = QUICK[pid]
    opts = NON_DEFAULT[pid]
    for method in experiments.PROBLEMS[pid].methods:
        res = experiments.solve(pid, name, method, **opts)
        for k, v in opts.items():
            assert res.context[k] == v, (method, res.context)
        _assert_rescores(pid, name, res)
    # the difference matters: the default context re-scores the same point to another number
    method = experiments.PROBLEMS[pid].method(next(iter(experiments.PROBLEMS[pid].methods)))
    res = experiments.solve(pid, name, method.name, **opts)
    if res.objective is not None:
        defaults = {k: method.option(k).default for k in opts}
        default = experiments.evaluate(pid, name, res.solution, {**res.context, **defaults})
        # (the target problem's objective is radiated power: there the SINR verdict is what changes)
        assert (default.objective, default.max_violation) != (res.objective, res.max_violation)


def test_cfopt_evaluate_rescores_the_lsfc95_example(tmp_path, capsys):
    """The issue's example: lsfc-95 with MR and SE^QoS = 0 on tiny-ulee-04 is 2.2425 Mbit/J; re-scoring it with the
    evaluator's defaults (PFZF, the instance's QoS) gave 3.0196 with a violation of 0.056."""
    res = experiments.solve("uplink-ee", "tiny-ulee-04", "lsfc-95", combining="mr", se_qos=0.0)
    assert round(res.objective, 4) == 2.2425 and res.max_violation == 0.0
    path = tmp_path / "r.json"
    path.write_text(res.to_json())
    assert main(["evaluate", "uplink-ee", "--instance", "tiny-ulee-04", "--result", str(path), "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["objective"] == res.objective and row["max_violation"] == 0.0 and row["agrees"]
    assert main(["evaluate", "uplink-ee", "--instance", "tiny-ulee-04", "--result", str(path)]) == 0
    out = capsys.readouterr().out
    assert "2.242485278 Mbit/J" in out and "max violation 0 " in out and "agrees" in out
    # a result for another instance, or without a solution, is refused with one line
    assert main(["evaluate", "uplink-ee", "--instance", "tiny-ulee-05", "--result", str(path)]) == 2
    assert "--instance" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["evaluate", "uplink-ee", "--instance", "tiny-ulee-04", "--result", str(bad)]) == 2


def test_a_tampered_result_does_not_rescore(tmp_path, capsys):
    res = experiments.solve("iot-uplink-maxmin", "tiny-iot-01", "full-power")
    d = json.loads(res.to_json())
    d["objective"] *= 1.01
    path = tmp_path / "r.json"
    path.write_text(json.dumps(d))
    assert main(["evaluate", "iot-uplink-maxmin", "--instance", "tiny-iot-01", "--result", str(path)]) == 1
    assert "DIFFERS" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------- declared options
def _runner(method):
    """The solvers_adapters function behind a registered method (to compare declared defaults with its signature)."""
    import importlib

    run = method.run
    cv = inspect.getclosurevars(run)
    if "module" in cv.nonlocals and "name" in cv.nonlocals:          # experiments.papers.iot._lazy
        return getattr(importlib.import_module(cv.nonlocals["module"]), cv.nonlocals["name"])
    table = {"_exact": ("solvers_adapters.uplink_ee.exact", "run_exact"),
             "_relaxed": ("solvers_adapters.uplink_ee.exact", "run_relaxed"),
             "_ao_qt": ("solvers_adapters.uplink_ee.ao_qt", "run_ao_qt"),
             "_all_serve_all": ("solvers_adapters.uplink_ee.ao_qt", "run_all_serve_all"),
             "_lsfc95": ("solvers_adapters.uplink_ee.ao_qt", "run_lsfc95")}
    mod, fn = table[run.__name__]
    return getattr(importlib.import_module(mod), fn)


@pytest.mark.parametrize("pid,method", PAIRS)
def test_declared_options_match_the_runner(pid, method):
    """Each method declares its options, with a doc line and a default equal to the runner's own."""
    m = experiments.PROBLEMS[pid].method(method)
    assert m.options, (pid, method)
    sig = inspect.signature(_runner(m)).parameters
    for o in m.options:
        assert isinstance(o, Option) and o.doc, o
        if o.name in sig and sig[o.name].default is not inspect.Parameter.empty:
            assert sig[o.name].default == o.default, (pid, method, o.name, sig[o.name].default, o.default)
        elif o.kind != "dict":
            assert o.name in ("combining", "delta", "leakage", "prelog", "power"), (pid, method, o.name)
            from models.uplink_ee.system import prepare

            assert inspect.signature(prepare).parameters[o.name].default == o.default, o.name


def _one_line_exit_2(capsys, argv, field):
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cfopt: error: ") and field in lines[0], err
    return lines[0]


@pytest.mark.parametrize("argv,field,accepts", [
    (["solve", "uplink-ee", "--instance", "tiny-ulee-01", "--method", "ao-qt", "-o", "delta=abc"], "delta",
     "a number in (0, 1]"),
    (["solve", "iot-uplink-target", "--instance", "tiny-iot-01", "--method", "fixed-point", "-o", "targets=abc"],
     "targets", "a number or a list of numbers"),
    (["solve", "uplink-ee", "--instance", "tiny-ulee-01", "--method", "ao-qt", "-o", "local_search=maybe"],
     "local_search", "true or false"),
    (["solve", "uplink-ee", "--instance", "tiny-ulee-01", "--method", "ao-qt", "-o", "recovery=x"], "recovery",
     "-o recovery.NAME=VALUE"),
    (["solve", "uplink-ee", "--instance", "no-such-instance", "--method", "exact", "-o", "max_iter=3"], "max_iter",
     "its options: combining"),
    (["solve", "iot-downlink-maxmin", "--instance", "tiny-iot-01", "--method", "bisection",
      "-o", "solver_options.solver=scip"], "solver_options.solver", "use -o solver=VALUE"),
    (["compare", "uplink-ee", "--instance", "tiny-ulee-01", "--methods", "exact,ao-qt", "-o", "nonexistent=1"],
     "nonexistent", "methods exact, ao-qt; their options: assoc_init"),
])
def test_bad_options_exit_2_naming_the_option_and_what_it_accepts(capsys, argv, field, accepts):
    line = _one_line_exit_2(capsys, argv, field)
    assert accepts in line, line


@pytest.mark.parametrize("pid", PROBLEM_IDS)
def test_solver_option_on_exact_is_an_error_not_a_crash(capsys, pid):
    """``-o solver=scip`` on an exact method used to crash with 'got multiple values for argument solver'."""
    m = experiments.PROBLEMS[pid].method("exact")
    argv = ["solve", pid, "--instance", QUICK[pid], "--method", "exact", "-o", "solver=scip"]
    if m.option("solver") is None:
        line = _one_line_exit_2(capsys, argv, "solver")
        assert "solver_options" in line                      # the message lists the real options
    else:
        assert main(argv + ["--json"]) == 0
        assert json.loads(capsys.readouterr().out)["solver"] == "scip"


def test_ao_qt_unknown_option_lists_every_real_option(capsys):
    line = _one_line_exit_2(capsys, ["solve", "uplink-ee", "--instance", "tiny-ulee-01", "--method", "ao-qt",
                                     "-o", "nonexistent=1"], "nonexistent")
    for name in ("power_init", "assoc_init", "max_iter", "tol", "se_qos", "local_search", "solver_options"):
        assert name in line, name


def test_solver_pass_through_reaches_the_solver(capsys):
    """solver_options.NAME=VALUE goes to the solver as its own parameter (SCIP rejects a bad one by name)."""
    assert main(["solve", "iot-uplink-maxmin", "--instance", "tiny-iot-01", "--method", "exact",
                 "-o", "solver_options.limits/nodes=1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] in ("optimal", "limit")
    _one_line_exit_2(capsys, ["solve", "iot-uplink-maxmin", "--instance", "tiny-iot-01", "--method", "exact",
                              "-o", "solver_options.no/such/param=1"], "no/such/param")


@pytest.mark.parametrize("pid,method", [("uplink-ee", "ao-qt"), ("iot-downlink-maxmin", "bisection")])
def test_list_options_prints_the_declarations(capsys, pid, method):
    assert main(["solve", pid, "--method", method, "--list-options"]) == 0
    out = capsys.readouterr().out
    for o in experiments.PROBLEMS[pid].method(method).options:
        assert o.name in out and o.doc in out and o.accepts() in out
    assert main(["solve", pid, "--method", method, "--list-options", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == [o.name for o in experiments.PROBLEMS[pid].method(method).options]


def test_python_api_validates_options_too():
    from instances.errors import InputError

    with pytest.raises(InputError, match="local_search"):
        experiments.solve("uplink-ee", "tiny-ulee-01", "ao-qt", local_search="maybe")
    with pytest.raises(InputError, match="its options"):
        experiments.solve("iot-uplink-maxmin", "tiny-iot-01", "bisection", nonexistent=1)
    # strings from the command line or a study are converted to the declared type
    res = experiments.solve("iot-uplink-maxmin", "tiny-iot-01", "bisection", rel_tol="1e-5", estimator="projection")
    assert res.status.value == "optimal" and res.context["estimator"] == "projection"


def test_compare_passes_an_option_only_to_the_methods_that_declare_it(capsys):
    assert main(["compare", "uplink-ee", "--instance", "tiny-ulee-01", "--methods", "lsfc-95,ao-qt",
                 "-o", "local_search=false", "-o", "combining=mr", "--json"]) == 0
    cap = capsys.readouterr()
    docs = json.loads(cap.out)
    assert [d["context"]["combining"] for d in docs] == ["mr", "mr"]
    assert "lsfc-95 takes no option local_search" in cap.err


# ---------------------------------------------------------------------------------------------- QoS the problem ignores
def test_a_qos_field_the_problem_ignores_is_an_error(tmp_path, capsys):
    import instances

    inst = instances.load("tiny-ulee-01")
    path = tmp_path / "extra-qos.json"
    inst.replace(qos={**inst.qos, "se_min_bps_hz": 0.5}).save(path)
    _one_line_exit_2(capsys, ["solve", "uplink-ee", "--instance", str(path), "--method", "lsfc-95"],
                     "qos.se_min_bps_hz")
    from instances.errors import InputError

    with pytest.raises(InputError, match="qos.se_min_bps_hz"):
        experiments.solve("uplink-ee", str(path), "lsfc-95")


# ---------------------------------------------------------------------------------------------- studies
def test_a_study_with_an_unknown_or_ill_typed_option_exits_2_before_running(tmp_path, capsys):
    base = ('name = "s"\nproblem = "iot-uplink-maxmin"\nmethods = ["bisection", "full-power"]\nrealisations = 2\n'
            'base_seed = 1\n[generator]\nscenario = "rao2020"\nparams = { tau_p = 2, aps = 4, users = 3 }\n')
    for extra, field in (('[options]\nnonexistent = 1\n', "options.nonexistent"),
                         ('[options]\nestimator = 3\n', "options.estimator"),
                         ('[option_grid]\nrel_tol = [1e-6, "abc"]\n', "option_grid.rel_tol"),
                         ('[method_options.bisection]\ninterface = "nope"\n', "method_options.bisection.interface")):
        study = tmp_path / "s.toml"
        study.write_text(base + extra)
        db = tmp_path / "s.sqlite"
        _one_line_exit_2(capsys, ["sweep", str(study), "--db", str(db)], field)
        assert not db.exists(), "nothing may run (or be created) before the options are checked"


def test_pareto_api_checks_method_options_before_solving():
    from experiments import pareto
    from instances.errors import InputError

    with pytest.raises(InputError, match="local_search"):
        pareto.sweep("uplink-ee", "tiny-ulee-01", "ao-qt", 3, local_search="maybe")
    with pytest.raises(InputError, match="set by the sweep"):
        pareto.sweep("uplink-ee", "tiny-ulee-01", "ao-qt", 3, se_qos=1.0)


def test_cfopt_evaluate_takes_a_compare_list_and_results_without_a_value(tmp_path, capsys):
    """A list (cfopt compare --json) is re-scored row by row; a result without a point (lsfc-95 cannot meet
    tiny-ulee-04's SE floor) has nothing to re-score and keeps its status; an infeasible target result keeps its
    point's violation and no objective."""
    assert main(["compare", "uplink-ee", "--instance", "tiny-ulee-04", "--methods", "lsfc-95,ao-qt", "--json"]) == 0
    path = tmp_path / "c.json"
    path.write_text(capsys.readouterr().out)
    assert main(["evaluate", "uplink-ee", "--instance", "tiny-ulee-04", "--result", str(path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["method"] for r in rows] == ["lsfc-95", "ao-qt"] and all(r["agrees"] for r in rows)
    assert rows[0]["status"] == "infeasible" and rows[0]["objective"] is None and rows[0]["max_violation"] is None
    assert rows[1]["objective"] > 0
    res = experiments.solve("iot-uplink-target", "tiny-iot-03", "fixed-point", targets=2.0)
    assert res.status.value == "infeasible" and res.objective is None and res.max_violation > 0
    row = rescore("iot-uplink-target", "tiny-iot-03", json.loads(res.to_json()))
    assert row["agrees"] and row["objective"] is None and row["max_violation"] == res.max_violation
