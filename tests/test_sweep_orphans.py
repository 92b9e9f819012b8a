"""``cfopt sweep`` leaves no orphans: after ``kill -9`` of the sweep process alone (not its process group), its worker
processes and multiprocessing's resource tracker exit within seconds, the rows already stored are intact and a re-run
completes the study with every task exactly once.

A real ``cfopt sweep`` subprocess with two spawn workers on the sleeping test problem of tests/sweep_fixtures.py.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

psutil = pytest.importorskip("psutil")

from experiments.study import expand, load_study  # noqa: E402

pytestmark = pytest.mark.skipif(os.name != "posix", reason="kill -9 of the parent alone: POSIX")

ROOT = Path(__file__).resolve().parents[1]

STUDY = """
name = "orphans"
problem = "test-sleep"
modules = ["tests.sweep_fixtures"]
methods = ["sleep"]
realisations = 16
base_seed = 5
[generator]
scenario = "rao2020"
params = { tau_p = 2, users = 3 }
[grid]
aps = [4]
[options]
sleep_s = 0.4
"""


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return env


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(db, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:      # the table is not created yet
        return 0


def _alive(p) -> bool:
    """Running and not a zombie (an orphan's zombie waits for whoever adopted it to reap it)."""
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _is_worker(p) -> bool:
    try:
        return "spawn_main" in " ".join(p.cmdline())
    except psutil.Error:
        return False


def test_kill_9_of_the_sweep_leaves_no_orphans(tmp_path):
    study = tmp_path / "orphans.toml"
    study.write_text(STUDY)
    db = tmp_path / "orphans.sqlite"
    cmd = [sys.executable, "-m", "experiments.cli", "sweep", str(study), "--db", str(db), "--workers", "2", "--quiet"]
    with (tmp_path / "stderr.txt").open("w") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=_env(), start_new_session=True, stdout=subprocess.DEVNULL,
                                stderr=err)
    parent = psutil.Process(proc.pid)
    procs: list = []
    try:
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            try:
                procs = parent.children(recursive=True)
            except psutil.NoSuchProcess:
                break
            if sum(map(_is_worker, procs)) >= 2 and _count(db) >= 1:
                break
            time.sleep(0.05)
        assert proc.poll() is None, (tmp_path / "stderr.txt").read_text()
        procs = parent.children(recursive=True)             # both workers and the resource tracker
        assert sum(map(_is_worker, procs)) >= 2, procs

        os.kill(proc.pid, signal.SIGKILL)                   # the sweep process only, not its process group
        proc.wait(timeout=10)
        t0 = time.time()
        while any(map(_alive, procs)) and time.time() - t0 < 10:
            time.sleep(0.05)
        left = [(p.pid, " ".join(p.cmdline())[:80]) for p in procs if _alive(p)]
        assert not left, f"orphans still alive {time.time() - t0:.1f} s after kill -9 of the sweep: {left}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for p in sorted(procs, key=lambda p: not _is_worker(p)):   # workers first: the tracker then sees EOF
            if _alive(p):
                try:
                    p.kill()
                    p.wait(timeout=5)
                except psutil.Error:
                    pass
    assert proc.returncode == -signal.SIGKILL

    # the rows stored before the kill are intact, each task once; a re-run stores exactly the missing ones
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        keys = [k for (k,) in con.execute("SELECT task_key FROM results")]
        assert all(s == "optimal" for (s,) in con.execute("SELECT status FROM results"))
    finally:
        con.close()
    assert 1 <= len(keys) < 16 and len(set(keys)) == len(keys)
    r = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"{16 - len(keys)} run now (0 failed), {len(keys)} already stored" in r.stdout, r.stdout
    con = sqlite3.connect(db)
    try:
        final = [k for (k,) in con.execute("SELECT task_key FROM results")]
    finally:
        con.close()
    assert len(final) == 16 and set(final) == {t.key for t in expand(load_study(study))}
