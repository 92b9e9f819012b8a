"""``cfopt sweep`` / ``cfopt results``: studies, seeds, the SQLite store, resume, Dask, SIGKILL, faults, bad files.

Real worker processes, a real Dask LocalCluster and a real SQLite file; tiny rao2020 instances (methods take ms).
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import instances
from experiments import store as store_mod
from experiments.cli import main
from experiments.study import expand, instance_seed, load_study, parse_study
from experiments.sweep import run_sweep
from instances.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "studies" / "iot_uplink_small.toml"
if str(ROOT) not in sys.path:            # spawned workers inherit sys.path: they import tests.sweep_fixtures
    sys.path.insert(0, str(ROOT))


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return env


def cli(*args, timeout=120, **kw):
    return subprocess.run([sys.executable, "-m", "experiments.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, env=_env(), **kw)


def db_rows(path):
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM results ORDER BY task_key")]
    finally:
        con.close()


SLEEP_STUDY = """
name = "{name}"
problem = "test-sleep"
modules = ["tests.sweep_fixtures"]
methods = {methods}
realisations = {realisations}
base_seed = 3
[generator]
scenario = "rao2020"
params = {{ tau_p = 2, users = 3 }}
[grid]
aps = [4]
[options]
sleep_s = {sleep_s}
"""


def write_sleep_study(tmp_path, *, name="sleepy", methods=("sleep",), realisations=6, sleep_s=0.0):
    p = tmp_path / f"{name}.toml"
    p.write_text(SLEEP_STUDY.format(name=name, methods=json.dumps(list(methods)), realisations=realisations,
                                    sleep_s=sleep_s))
    return p


# ---------------------------------------------------------------------------------------------------- studies / seeds
def test_study_expands_with_order_independent_seeds():
    st = load_study(STUDY)
    tasks = expand(st)
    assert len(tasks) == 2 * 1 * 3 * 3 and len({t.key for t in tasks}) == len(tasks)
    assert st.default_db == STUDY.with_suffix(".sqlite")
    by_real = {}
    for t in tasks:          # one instance seed per (grid point, realisation), shared by every method
        by_real.setdefault((t.point["aps"], t.realisation), set()).add(t.instance_seed)
        assert t.gen_params == {"tau_p": 4, "area_km": 0.5, "aps": t.point["aps"], "users": 6}
        assert json.loads(t.key) == ["iot-uplink-small", t.point, t.realisation, t.method]
    assert all(len(s) == 1 for s in by_real.values())
    assert len({next(iter(s)) for s in by_real.values()}) == len(by_real)
    # reordering / extending the grid and adding realisations leaves every existing task's seed unchanged
    data = {"name": "iot-uplink-small", "problem": "iot-uplink-maxmin", "methods": ["full-power", "bisection"],
            "realisations": 5, "base_seed": 7,
            "generator": {"scenario": "rao2020", "params": {"tau_p": 4, "area_km": 0.5}},
            "grid": {"users": [6, 3], "aps": [30, 20, 10]}}
    other = {t.key: t.instance_seed for t in expand(parse_study(data))}
    for t in tasks:
        if t.method != "fixed-point":
            assert other[t.key] == t.instance_seed
    assert tasks[0].instance_seed == instance_seed(7, {"aps": 10, "users": 6}, 0)
    assert instance_seed(8, {"aps": 10, "users": 6}, 0) != tasks[0].instance_seed


@pytest.mark.parametrize("patch, field", [
    ({"problem": "nope"}, "problem"),
    ({"methods": ["bisection", "nope"]}, "methods"),
    ({"methods": "bisection"}, "methods"),
    ({"realisations": 0}, "realisations"),
    ({"realisations": "3"}, "realisations"),
    ({"base_seed": -1}, "base_seed"),
    ({"grid": {"apps": [10]}}, "grid.apps"),
    ({"grid": {"aps": []}}, "grid.aps"),
    ({"grid": {"aps": 10}}, "grid.aps"),
    ({"grid": {"aps": [10], "tau_p": [2]}}, "grid.tau_p"),
    ({"generator": {"scenario": "rao2020", "params": {"tau_p": 4, "colour": 1}}}, "generator.params.colour"),
    ({"generator": {"scenario": "rao2020", "params": {}}}, "generator.params.tau_p"),
    ({"generator": {"scenario": "nope"}}, "generator.scenario"),
    ({"options": {"seed": 1}}, "options.seed"),
    ({"method_options": {"exact": {"gap_tol": 0.1}}}, "method_options.exact"),
    ({"modules": ["no_such_module_xyz"]}, "modules"),
    ({"colour": "red"}, "colour"),
    ({"name": None}, "name"),
])
def test_bad_study_fields_are_named(patch, field):
    data = {"name": "s", "problem": "iot-uplink-maxmin", "methods": ["bisection"], "realisations": 2,
            "base_seed": 1, "generator": {"scenario": "rao2020", "params": {"tau_p": 4}},
            "grid": {"aps": [10], "users": [4]}}
    data.update(patch)
    if patch.get("name", 1) is None:
        del data["name"]
    with pytest.raises(InputError) as ei:
        parse_study(data)
    assert ei.value.field == field, str(ei.value)


def test_malformed_study_files_exit_2_naming_the_field(tmp_path):
    text = STUDY.read_text()
    cases = [(text.replace('problem = "iot-uplink-maxmin"', 'problem = "iot-uplink-nope"'), "problem"),
             (text.replace("aps = [10, 20]", "apps = [10, 20]"), "grid.apps"),
             (text.replace("realisations = 3", "realisations = -2"), "realisations")]
    for i, (t, field) in enumerate(cases):
        p = tmp_path / f"bad{i}.toml"
        p.write_text(t)
        r = cli("sweep", p, "--db", tmp_path / "x.sqlite")
        assert r.returncode == 2, (r.stdout, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and f"error: {field}:" in lines[0] and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "x.sqlite").exists()
    # in-process: malformed TOML, a bad generator value caught before anything runs, a missing file
    p = tmp_path / "broken.toml"
    p.write_text("name = 'x'\nproblem = [\n")
    assert main(["sweep", str(p)]) == 2
    p.write_text(text.replace("aps = [10, 20]", "aps = [10, 0]"))
    assert main(["sweep", str(p), "--db", str(tmp_path / "y.sqlite"), "--quiet"]) == 2
    assert main(["sweep", str(tmp_path / "missing.toml")]) == 2
    assert main(["results", str(STUDY), "--db", str(tmp_path / "none.sqlite")]) == 2


# ---------------------------------------------------------------------------------------------------- local + Dask
@pytest.fixture(scope="module")
def local_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("sweep") / "local.sqlite"
    rep = run_sweep(STUDY, db=db, workers=2, quiet=True)
    assert rep.ran == 18 and rep.complete and rep.failed == 0
    return db


def test_stored_rows_carry_their_context_and_rescore(local_db):
    """Each row keeps the result's evaluation context; regenerating the row's instance from its seed and re-scoring
    the stored solution with that context gives the stored objective (DESIGN.md §2: every result can be re-scored)."""
    import experiments
    import instances
    from experiments.store import rows as decoded_rows

    rows = decoded_rows(local_db, load_study(STUDY))
    assert rows and all(r["context"] == {"estimator": "lmmse"} for r in rows)
    for r in rows[:6]:
        inst = instances.generate(r["scenario"], seed=r["instance_seed"], **r["gen_params"])
        assert inst.content_hash == r["instance_hash"]
        ev = experiments.evaluate(r["problem"], inst, r["solution"], r["context"])
        assert ev.objective == r["objective"] and ev.max_violation == r["max_violation"]


def test_a_database_from_before_the_context_column_gains_it_on_open(tmp_path):
    from experiments.store import COLUMNS, Store

    db = tmp_path / "old.sqlite"
    con = sqlite3.connect(db)
    old = [(n, t) for n, t in COLUMNS if n != "context"]
    con.execute(f"CREATE TABLE results (id INTEGER PRIMARY KEY, {', '.join(f'{n} {t}' for n, t in old)})")
    con.commit()
    con.close()
    st = Store(db)
    assert "context" in {r[1] for r in st.con.execute("PRAGMA table_info(results)")}
    st.close()


def test_local_sweep_stores_one_row_per_task_and_resumes(local_db):
    st = load_study(STUDY)
    tasks = {t.key: t for t in expand(st)}
    rows = db_rows(local_db)
    assert sorted(r["task_key"] for r in rows) == sorted(tasks)
    for r in rows:
        t = tasks[r["task_key"]]
        assert r["instance_seed"] == t.instance_seed and r["method"] == t.method
        assert r["realisation"] == t.realisation and json.loads(r["point"]) == t.point
        assert r["status"] in ("optimal", "feasible") and r["objective"] > 0 and r["engine_wall_s"] > 0
        assert len(json.loads(r["solution"])["sinr"]) == 6 and json.loads(r["versions"])
        assert all(r[c] is not None for c in store_mod.REQUIRED)
    con = sqlite3.connect(local_db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()
    # bisection and the fixed point reach the same max-min SINR on the same instance
    by = {(r["point"], r["realisation"], r["method"]): r["objective"] for r in rows}
    for (p, k, m), v in by.items():
        if m == "bisection":
            assert v == pytest.approx(by[(p, k, "fixed-point")], rel=1e-5)
            assert v >= by[(p, k, "full-power")] * (1 - 1e-9)

    # resume: nothing to do; then delete four rows and get exactly those back
    rep = run_sweep(STUDY, db=local_db, workers=2, quiet=True)
    assert rep.ran == 0 and rep.stored_before == 18
    gone = sorted(tasks)[3:7]
    con = sqlite3.connect(local_db)
    with con:
        con.executemany("DELETE FROM results WHERE task_key = ?", [(k,) for k in gone])
    con.close()
    before = {r["task_key"]: r["id"] for r in db_rows(local_db)}
    rep = run_sweep(STUDY, db=local_db, workers=2, quiet=True)
    assert rep.ran == 4 and rep.stored_before == 14
    after = db_rows(local_db)
    assert len(after) == 18 and {r["task_key"] for r in after if r["task_key"] not in before} == set(gone)
    assert all(before[r["task_key"]] == r["id"] for r in after if r["task_key"] in before)
    restored = {r["task_key"]: r for r in after}
    for k in gone:
        assert restored[k]["objective"] == by[(restored[k]["point"], restored[k]["realisation"],
                                                restored[k]["method"])]


def test_dask_cluster_gives_the_same_rows(local_db, tmp_path):
    from dask.distributed import LocalCluster

    db = tmp_path / "dask.sqlite"
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        rc = main(["sweep", str(STUDY), "--scheduler", cluster.scheduler_address, "--db", str(db), "--quiet"])
    assert rc == 0
    a = {r["task_key"]: r for r in db_rows(local_db)}
    b = {r["task_key"]: r for r in db_rows(db)}
    assert set(a) == set(b) and len(b) == 18
    for k in a:
        for c in ("instance_seed", "seed", "status", "certificate", "objective", "instance_hash", "point",
                  "gen_params", "options"):
            assert a[k][c] == b[k][c], (k, c)
    assert len({r["worker"] for r in b.values()}) == 2    # both Dask workers ran tasks


def test_results_csv_summary_and_ecdf(local_db, tmp_path, capsys):
    out, summ = tmp_path / "rows.csv", tmp_path / "summary.csv"
    assert main(["results", str(STUDY), "--db", str(local_db), "--csv", str(out), "--summary",
                 "--summary-csv", str(summ)]) == 0
    text = capsys.readouterr().out
    assert "18 of 18 tasks stored" in text and text.count("bisection") == 2
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 18 and {r["aps"] for r in rows} == {"10", "20"} and {r["users"] for r in rows} == {"6"}
    assert {"objective", "status", "instance_seed", "method", "wall_time_s", "engine_wall_s"} <= set(rows[0])
    with summ.open() as fh:
        s = list(csv.DictReader(fh))
    assert len(s) == 6 and all(r["n"] == "3" for r in s)
    fp = [r for r in s if r["method"] == "fixed-point" and r["aps"] == "20"][0]
    objs = [float(r["objective"]) for r in rows if r["method"] == "fixed-point" and r["aps"] == "20"]
    assert float(fp["mean_objective"]) == pytest.approx(np.mean(objs))
    assert float(fp["ci95"]) == pytest.approx(1.96 * np.std(objs, ddof=1) / np.sqrt(3))
    x, F = store_mod.ecdf(local_db, "iot-uplink-small", "fixed-point", "sinr")
    assert len(x) == 2 * 3 * 6 and np.all(np.diff(x) >= 0) and F[-1] == 1.0 and np.all(np.diff(F) > 0)
    x20, _ = store_mod.ecdf(local_db, "iot-uplink-small", "fixed-point", "sinr", point={"aps": 20})
    assert len(x20) == 18 and x20.min() == pytest.approx(min(objs))   # max-min: every user at the minimum


# ---------------------------------------------------------------------------------------------------- faults
def test_raising_method_is_stored_as_error_and_limit_as_limit(tmp_path, capsys):
    p = write_sleep_study(tmp_path, name="faulty", methods=("sleep", "boom", "limit"), realisations=2)
    db = tmp_path / "faulty.sqlite"
    assert main(["sweep", str(p), "--workers", "1", "--quiet"]) == 0      # default db next to the study
    assert "6 tasks, 6 run now (2 failed)" in capsys.readouterr().out
    rows = {(r["method"], r["realisation"]): r for r in db_rows(db)}
    assert len(rows) == 6
    for k in range(2):
        assert rows[("boom", k)]["status"] == "error"
        assert rows[("boom", k)]["message"] == "RuntimeError: boom on purpose"
        assert rows[("limit", k)]["status"] == "limit" and rows[("limit", k)]["objective"] is None
        assert rows[("limit", k)]["bound"] == float("inf") and "gave up" in rows[("limit", k)]["message"]
        assert rows[("sleep", k)]["status"] == "optimal"
        assert rows[("sleep", k)]["instance_seed"] == rows[("boom", k)]["instance_seed"]
    # --retry-errors runs exactly the failed tasks again (they fail again)
    rep = run_sweep(p, workers=0, quiet=True, retry_errors=True)
    assert rep.ran == 2 and rep.failed == 2 and rep.stored_before == 4
    # a changed fixed setting is refused instead of mixing rows
    p.write_text(p.read_text().replace("tau_p = 2", "tau_p = 3"))
    assert main(["sweep", str(p), "--workers", "0", "--quiet"]) == 2


def test_sigkill_loses_only_in_flight_tasks_then_resumes(tmp_path):
    p = write_sleep_study(tmp_path, name="killme", realisations=12, sleep_s=0.4)
    db = tmp_path / "killme.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "experiments.cli", "sweep", str(p), "--db", str(db),
                             "--workers", "1", "--quiet"], cwd=ROOT, env=_env(), start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        n = 0
        while time.time() < deadline:
            if db.exists():
                try:
                    con = sqlite3.connect(db, timeout=5)
                    n = con.execute("SELECT COUNT(*) FROM results").fetchone()[0]
                    con.close()
                except sqlite3.OperationalError:
                    n = 0
            if n >= 2 or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        assert n >= 2
        os.killpg(proc.pid, signal.SIGKILL)        # the parent and its worker
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    rows = db_rows(db)
    assert 2 <= len(rows) < 12 and len({r["task_key"] for r in rows}) == len(rows)
    for r in rows:
        assert all(r[c] is not None for c in store_mod.REQUIRED) and r["status"] == "optimal"
    # re-run to completion with two workers: every task exactly once
    r = cli("sweep", p, "--db", db, "--workers", "2", "--quiet")
    assert r.returncode == 0, r.stderr
    assert f"{12 - len(rows)} run now (0 failed), {len(rows)} already stored" in r.stdout
    final = db_rows(db)
    assert len(final) == 12 and len({x["task_key"] for x in final}) == 12
    assert {x["task_key"] for x in final} == {t.key for t in expand(load_study(p))}


# ---------------------------------------------------------------------------------------- databases of older code
#: ``studies/iot_uplink_small.toml`` swept by the code before issue 11's layout move (commit 69c085f):
#: ``cfopt sweep studies/iot_uplink_small.toml --db tests/sweep_db_before_issue11.sqlite``
OLD_DB = Path(__file__).parent / "sweep_db_before_issue11.sqlite"


def test_database_written_before_the_move_still_loads(tmp_path, capsys):
    db = tmp_path / "old.sqlite"
    shutil.copy(OLD_DB, db)
    study = Path(__file__).parents[1] / "studies" / "iot_uplink_small.toml"
    assert main(["results", str(study), "--db", str(db), "--summary"]) == 0
    assert "18 of 18 tasks stored" in capsys.readouterr().out
    rep = run_sweep(study, db=db, workers=0, quiet=True)        # every task is recognised as already stored
    assert rep.total == 18 and rep.stored_before == 18 and rep.ran == 0 and rep.complete
    rows = db_rows(db)
    assert len(rows) == 18 and all(r["status"] == "optimal" for r in rows if r["method"] != "full-power")
    # the instances regenerated today are the ones the old rows were computed on (same content hash)
    by_key = {r["task_key"]: r for r in rows}
    for task in expand(load_study(study))[:6]:
        inst = instances.generate(task.scenario, seed=task.instance_seed, **task.gen_params)
        assert inst.content_hash == by_key[task.key]["instance_hash"]
