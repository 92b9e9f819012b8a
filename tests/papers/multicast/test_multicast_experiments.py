"""Paper 001 end to end: the registration of ``unicast-multicast-sse`` (methods, declared options), the certified
tiny-mc library (`cfopt solve … --method exact` proves every card global, `cfopt validate` holds the stated
ratios), every reproduced figure at a tiny size, and the paper's trends at reduced size on fresh seeded instances
(joint optimisation beats EPA-RAS and OPA-RAS, SSE rises with M, ZF beats MR at small M)."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import experiments
import instances
from experiments.papers.multicast.library import PROBLEM, SPECS
from solvers_adapters.result import Certificate, Status

NAMES = [s.name for s in SPECS]
METHODS = ("exact", "apg", "sca", "epa-ras", "opa-ras", "apg-power-only")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "experiments.cli", *args], capture_output=True, text=True,
                          timeout=600)


def _card(name: str) -> dict:
    return instances.load(name).card["problems"][PROBLEM]


# ------------------------------------------------------------------------------------------- registration
def test_problem_registration_and_declared_options():
    p = experiments.get_problem(PROBLEM)
    assert p.sense == "max" and p.unit == "bit/s/Hz" and p.paper.startswith("001")
    assert set(p.methods) == set(METHODS)
    assert set(p.qos_fields) == {"se_min_unicast_bps_hz", "se_min_multicast_bps_hz", "fronthaul_bps_hz",
                                 "max_streams_per_ap"}
    assert "precoding" in p.context_keys
    for name, m in p.methods.items():
        prec = m.option("precoding")
        assert prec is not None and prec.choices == ("mr", "zf"), name
    assert p.methods["exact"].kind == "exact" and p.methods["epa-ras"].kind == "baseline"
    for name in ("apg", "sca"):
        assert p.methods[name].stated_ratio is not None and 0.8 <= p.methods[name].stated_ratio <= 1.0, name
        assert p.methods[name].option("max_iter") is not None, name
    with pytest.raises(instances.errors.InputError, match="precoding"):
        p.methods["apg"].resolve({"precoding": "mmse"})


# ------------------------------------------------------------------------------------------- library
def test_library_has_ten_certified_cards_mr_and_zf_half_binding():
    assert len(NAMES) >= 10
    precs, binding = set(), 0
    for name in NAMES:
        inst = instances.load(name)
        e = inst.card["problems"][PROBLEM]
        assert e["certified_by"]["solver"].lower().startswith("scip"), name
        assert inst.M <= 4 and e["context"]["precoding"] in ("mr", "zf"), name
        precs.add(e["context"]["precoding"])
        notes = e.get("notes", {})
        if notes.get("binding", "none") != "none":
            assert e["optimum"] < notes["unconstrained_optimum"] * (1 - 1e-4), name   # the limit binds
            assert inst.qos, name
            binding += 1
    assert precs == {"mr", "zf"} and 2 * binding >= len(NAMES)


@pytest.mark.parametrize("name", NAMES[:2] + NAMES[-2:])
def test_cli_exact_returns_global_with_the_stored_optimum(name):
    out = _cli("solve", PROBLEM, "--instance", name, "--method", "exact", "--json")
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["certificate"] == "global" and r["status"] == "optimal", r["message"]
    assert r["context"]["precoding"] == _card(name)["context"]["precoding"]
    assert r["objective"] == pytest.approx(_card(name)["optimum"], rel=1e-5)


def test_validate_apg_and_sca_on_the_cards():
    from experiments.validate import validate

    rep = validate(problems=[PROBLEM], methods=["apg", "sca", "epa-ras"], seeds=[0])
    rows = {r.method: r for r in rep.rows}
    for m in ("apg", "sca"):
        assert rows[m].verdict == "pass", rows[m].failures
        assert rows[m].feasible_share == 1.0 and rows[m].median_ratio >= 0.95, m
    assert not rows["epa-ras"].failures or all("beats" not in f for f in rows["epa-ras"].failures)


def test_infeasible_qos_is_a_status_not_a_value():
    inst = instances.load(NAMES[0]).replace(qos={"se_min_unicast_bps_hz": 50.0, "se_min_multicast_bps_hz": 50.0})
    for m in ("apg", "epa-ras"):
        r = experiments.solve(PROBLEM, inst, m)
        assert r.status is Status.INFEASIBLE and r.objective is None, (m, r.status, r.objective)


# ------------------------------------------------------------------------------------------- figures (tiny)
TINY = {"M": 6, "N": 4, "Ku": 2, "G": 1, "Kg": 2}


@pytest.mark.parametrize("figure", ["multicast-fig2", "multicast-fig3", "multicast-fig4", "multicast-fig5",
                                    "multicast-fig6", "multicast-fig7", "multicast-fig8", "multicast-table2"])
def test_every_figure_runs_at_a_tiny_size(figure, tmp_path):
    from experiments.reproduce import get_figure

    fig = get_figure(figure)
    tasks = fig.tasks(False)
    picked = [tasks[0], tasks[-1]] if len(tasks) > 1 else tasks
    rows = []
    for t in picked:
        t = {**t, **TINY}                       # N = 4 > K_u + G = 3: ZF is defined
        rows += fig.run_task(t)
    assert rows and all("status" in r or r.get("x") == "assoc" for r in rows)
    for r in rows:
        if r.get("status") not in (None, "optimal", "feasible"):
            assert r.get("sse_bps_hz") is None                   # a failed run carries its status, no number
    summary = fig.summarise(rows)
    fig.plot(rows, summary, tmp_path / f"{figure}.png", False)
    assert (tmp_path / f"{figure}.png").stat().st_size > 0 and summary


# ------------------------------------------------------------------------------------------- trends
def _mean_sse(method: str, seeds, **size) -> float:
    """Mean SSE of ``method`` on fresh seeded instances without QoS floors (so that every method is feasible and
    the SSEs compare on the same instances)."""
    from experiments.papers.multicast.figures import make_instance
    from experiments.results import run_method

    vals = []
    for s in seeds:
        task = {"seed": 7000 + s, "se_min": None, **size}
        r = run_method(PROBLEM, method, make_instance(task), precoding=size["precoding"],
                       **({"seed": s} if method.endswith("ras") else {}))
        assert r.status in (Status.OPTIMAL, Status.FEASIBLE), (method, s, r.status, r.message)
        vals.append(r.objective)
    return float(np.mean(vals))


def test_trends_joint_optimisation_beats_the_random_selection_baselines():
    size = {"M": 20, "N": 4, "Ku": 4, "G": 2, "Kg": 3, "precoding": "mr"}
    apg = _mean_sse("apg", range(3), **size)
    assert apg > _mean_sse("opa-ras", range(3), **size) > 0
    assert apg > 1.1 * _mean_sse("epa-ras", range(3), **size)


def test_trends_sse_rises_with_m_and_zf_beats_mr_at_small_m():
    base = {"N": 8, "Ku": 4, "G": 2, "Kg": 3}
    small_mr = _mean_sse("apg", range(3), M=10, precoding="mr", **base)
    small_zf = _mean_sse("apg", range(3), M=10, precoding="zf", **base)
    large_mr = _mean_sse("apg", range(3), M=40, precoding="mr", **base)
    assert large_mr > small_mr
    assert small_zf > small_mr
