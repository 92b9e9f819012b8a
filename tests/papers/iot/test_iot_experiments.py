"""Paper 003 end to end: the stored tiny-iot library, `cfopt solve` / `cfopt compare` on it, and the acceptance
lines of the IoT issue (equal SINRs, a power at its maximum, certificates, exact vs bisection, two downlink solvers,
target-SINR fixed point vs the linear system, soft removal reported)."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import experiments
import instances
from experiments.papers.iot.library import PROBLEMS, SPECS
from models.iot import system as iot_models
from solvers_adapters.iot.uplink import min_power_linear_system
from solvers_adapters.result import Certificate, Status

NAMES = [s.name for s in SPECS]


def _optimum(inst, problem: str) -> float:
    """The certified optimum of ``problem`` on a library instance (its card, experiments.certify's schema)."""
    return inst.card["problems"][problem]["optimum"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "experiments.cli", *args], capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module", params=NAMES)
def inst(request):
    return instances.load(request.param)


def test_library_lists_at_least_five_certified_instances_per_problem():
    out = _cli("instances", "list", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    for p in PROBLEMS:
        certified = [r for r in rows if p in r["problems"] and p in r["optimum"] and "scip" in r["certified_by"][p]]
        assert len(certified) >= 5, p
    assert set(NAMES) <= {r["name"] for r in rows}


def test_instances_have_nonorthogonal_pilots(inst):
    psi = inst.pilot_matrix()
    assert psi.shape[0] < inst.K                       # fewer pilot dimensions than things
    gram = psi.conj().T @ psi
    assert np.max(np.abs(gram - np.diag(np.diag(gram)))) > 1e-3


def test_uplink_bisection_equal_sinrs_full_power_global(inst):
    r = experiments.solve("iot-uplink-maxmin", inst, "bisection")
    assert r.status is Status.OPTIMAL and r.certificate is Certificate.GLOBAL
    sinr = np.asarray(r.solution["sinr"])
    assert (sinr.max() - sinr.min()) / sinr.min() <= 1e-4
    assert max(r.solution["eta"]) == pytest.approx(1.0, abs=1e-9)
    opt = _optimum(inst, "iot-uplink-maxmin")
    assert r.objective == pytest.approx(opt, rel=1e-5)
    assert r.max_violation <= 1e-9


def test_uplink_exact_reproves_the_stored_optimum(inst):
    r = experiments.solve("iot-uplink-maxmin", inst, "exact")
    assert r.status is Status.OPTIMAL and r.certificate is Certificate.GLOBAL
    assert r.objective == pytest.approx(_optimum(inst, "iot-uplink-maxmin"), rel=1e-5)


def test_uplink_fixed_point_agrees(inst):
    r = experiments.solve("iot-uplink-maxmin", inst, "fixed-point")
    assert r.objective == pytest.approx(_optimum(inst, "iot-uplink-maxmin"), rel=1e-5)
    full = experiments.solve("iot-uplink-maxmin", inst, "full-power")
    assert full.objective <= r.objective * (1 + 1e-9)      # a baseline never beats the proven optimum


def test_target_fixed_point_reaches_minimal_powers(inst):
    sys_ = iot_models.prepare(inst)
    t = iot_models.targets_of(inst, inst.K)
    eta_ls, feasible, _ = min_power_linear_system(sys_.ul, t)
    assert feasible
    fp = experiments.solve("iot-uplink-target", inst, "fixed-point")
    ex = experiments.solve("iot-uplink-target", inst, "exact")
    assert fp.status is Status.OPTIMAL and ex.certificate is Certificate.GLOBAL
    assert np.max(np.abs(np.asarray(fp.solution["eta"]) - eta_ls)) <= 1e-6
    assert fp.objective == pytest.approx(_optimum(inst, "iot-uplink-target"), rel=1e-6)
    assert ex.objective == pytest.approx(_optimum(inst, "iot-uplink-target"), rel=1e-6)


def test_infeasible_targets_are_a_status_with_soft_removal(inst):
    t_star = _optimum(inst, "iot-uplink-maxmin")
    t = np.full(inst.K, 2.0 * t_star)
    t[0] = 0.3 * t_star                                   # one easy thing
    fp = experiments.solve("iot-uplink-target", inst, "fixed-point", targets=t, max_iter=200_000)
    assert fp.status is Status.INFEASIBLE and fp.objective is None
    assert fp.solution["removed"] and "soft-removed" in fp.message
    ex = experiments.solve("iot-uplink-target", inst, "exact", targets=t)
    assert ex.status is Status.INFEASIBLE and ex.objective is None


def test_downlink_two_solvers_agree_and_power_holds(inst):
    opt = _optimum(inst, "iot-downlink-maxmin")
    res = {s: experiments.solve("iot-downlink-maxmin", inst, "bisection", solver=s) for s in ("scip", "ipopt")}
    for s, r in res.items():
        assert r.status is Status.OPTIMAL, (s, r.message)
        assert r.objective == pytest.approx(opt, rel=1e-5), s
        ev = experiments.evaluate("iot-downlink-maxmin", inst, r.solution)
        assert ev.violations["ap_power"] <= 1e-9 and ev.violations["eta_nonneg"] == 0.0
        assert ev.extra["ap_load"].max() == pytest.approx(1.0, abs=1e-4)
    assert res["scip"].objective == pytest.approx(res["ipopt"].objective, rel=1e-5)


def test_cli_solve_and_compare_on_a_stored_instance():
    name = NAMES[0]
    out = _cli("solve", "iot-uplink-maxmin", "--instance", name, "--method", "bisection", "--json")
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["certificate"] == "global" and r["status"] == "optimal"
    sinr = np.asarray(r["solution"]["sinr"])
    assert (sinr.max() - sinr.min()) / sinr.min() <= 1e-4 and max(r["solution"]["eta"]) == pytest.approx(1.0)
    out = _cli("compare", "iot-uplink-maxmin", "--instance", name, "--methods", "exact,bisection", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [row["method"] for row in rows] == ["exact", "bisection"]
    assert rows[0]["objective"] == pytest.approx(rows[1]["objective"], rel=1e-5)


def test_cli_bad_estimator_exits_2():
    out = _cli("solve", "iot-uplink-maxmin", "--instance", NAMES[0], "--method", "bisection", "-o", "estimator=mmse")
    assert out.returncode == 2
    assert out.stderr.strip().startswith("cfopt: error: estimator:") and "Traceback" not in out.stderr
    out = _cli("solve", "iot-uplink-maxmin", "--instance", NAMES[0], "--method", "bisection",
               "-o", "estimator=projection", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["solution"]["estimator"] == "projection"


@pytest.mark.parametrize("name", [n for n in NAMES if n != "tiny-iot-04"])   # 04 takes SCIP ~30 s
def test_downlink_exact_reproves_the_stored_optimum(name):
    inst = instances.load(name)
    r = experiments.solve("iot-downlink-maxmin", inst, "exact")
    assert r.status is Status.OPTIMAL and r.certificate is Certificate.GLOBAL
    assert r.objective == pytest.approx(_optimum(inst, "iot-downlink-maxmin"), rel=1e-5)
    eq = experiments.solve("iot-downlink-maxmin", inst, "equal-power")
    assert eq.objective <= r.objective * (1 + 1e-9)


# ------------------------------------------------------------------------------------------- reproduced figures
def _summary(rows):
    from experiments.papers.iot.figures import summarise

    return {r["series"]: r for r in summarise(rows)}


def test_iot_fig1_writes_png_csv_and_replots(tmp_path):
    from experiments.reproduce import replot, run_figure

    paths = run_figure("iot-fig1", out=tmp_path, workers=1, quiet=True, limit_tasks=3)
    for k in ("csv", "summary", "png"):
        assert paths[k].is_file() and paths[k].stat().st_size > 0
    before = paths["summary"].read_text()
    paths["png"].unlink()
    again = replot("iot-fig1", out=tmp_path)
    assert again["png"].is_file() and again["summary"].read_text() == before


def test_uplink_claims_hold_on_a_few_setups():
    """The paper's orderings on 4 setups at the paper's size (10 mW): LMMSE beats the Ngo estimator under max-min,
    cell-free beats small cells at least threefold in median, max-min lifts the 5th percentile over no power
    control, and LMMSE at the baseline's service level needs much less power (higher EE)."""
    from experiments.papers.iot.figures import fig1_tasks, run_uplink_task

    rows = [row for t in fig1_tasks(False)[:4] for row in run_uplink_task(t)]
    s = _summary(rows)
    mm, ngo = s["CF LMMSE, max-min"], s["CF Ngo-2017 est., max-min"]
    assert mm["throughput_p5_mbps"] > 1.1 * ngo["throughput_p5_mbps"]
    assert mm["throughput_median_mbps"] > 3 * s["small cells, max-min"]["throughput_median_mbps"]
    assert mm["throughput_p5_mbps"] > s["CF LMMSE, no PC"]["throughput_p5_mbps"]
    same = s["CF LMMSE, min power at the Ngo-est. max-min SINR"]
    assert same["throughput_median_mbps"] == pytest.approx(ngo["throughput_median_mbps"], rel=1e-6)
    assert same["ee_median_mbit_per_j"] > 1.5 * ngo["ee_median_mbit_per_j"]


def test_drop_target_drops_at_most_five_percent():
    from experiments.papers.iot.figures import _drop_target

    inst = instances.generate("rao2020", seed=7, aps=100, users=40, tau_p=20, ue_power_w=0.01, pilot_power_w=0.01)
    lf = iot_models.prepare(inst).ul
    t_star = experiments.solve("iot-uplink-maxmin", inst, "bisection").objective
    t, res = _drop_target(inst, "lmmse", 2)
    removed = np.zeros(inst.K, dtype=bool)
    removed[res.solution["removed"]] = True
    assert t > t_star                                       # dropping 2 things raises the others' common target
    assert 1 <= int(removed.sum()) <= 2
    met = lf.sinr(np.asarray(res.solution["eta"])) >= t * (1 - 1e-6)
    assert met.sum() >= 38 and np.all(met | removed)


def test_ngo_baseline_cell_free_beats_small_cells():
    from experiments.papers.iot.figures import ngo_tasks, run_ngo_task

    tasks = [t for t in ngo_tasks(False) if t["r"] < 2]
    rows = [row for t in tasks for row in run_ngo_task(t)]
    s = _summary(rows)
    for sh in ("uncorrelated", "correlated"):
        for link in ("UL", "DL"):
            assert (s[f"cell-free {link}, {sh}"]["throughput_p5_mbps"]
                    > s[f"small cells {link}, {sh}"]["throughput_p5_mbps"]), (link, sh)


def test_reproduce_resumes_from_its_store(tmp_path):
    """Figures run on the sweep engine with a resumable store: rows deleted from it are recomputed, nothing else."""
    import sqlite3

    from experiments.reproduce import run_figure

    first = run_figure("iot-fig1", out=tmp_path, workers=0, quiet=True, limit_tasks=3)
    summary = first["summary"].read_text()
    con = sqlite3.connect(tmp_path / "iot-fig1.sqlite")
    assert con.execute("SELECT COUNT(*) FROM figure_rows").fetchone()[0] == 3
    con.execute("DELETE FROM figure_rows WHERE rowid = (SELECT MIN(rowid) FROM figure_rows)")
    con.commit()
    con.close()
    again = run_figure("iot-fig1", out=tmp_path, workers=0, quiet=True, limit_tasks=3)
    assert again["summary"].read_text() == summary
    con = sqlite3.connect(tmp_path / "iot-fig1.sqlite")
    assert con.execute("SELECT COUNT(DISTINCT task_key), COUNT(*) FROM figure_rows").fetchone() == (3, 3)


def test_energy_efficiency_and_small_cell_throughput_by_hand():
    from scipy.special import exp1

    from models.iot.small_cells import small_cell_throughput_mbps

    thr, eta, p = np.array([2.0, 4.0]), np.array([0.5, 0.0]), np.array([0.1, 0.1])
    assert iot_models.energy_efficiency(thr, eta, p) == pytest.approx(6.0 / 0.05)
    per = iot_models.energy_efficiency_per_thing(thr, eta, p)
    assert per[0] == pytest.approx(40.0) and np.isnan(per[1])
    assert np.isnan(iot_models.energy_efficiency(thr, np.zeros(2), p))
    inst = instances.load(NAMES[0])                       # τ_p = 2, τ_c = 200, 20 MHz
    x = np.array([0.5, 3.0])
    expected = 20e6 * (1 - 4 / 200) / 2 * np.exp(1 / x) * exp1(1 / x) / np.log(2) / 1e6
    np.testing.assert_allclose(small_cell_throughput_mbps(inst, x), expected, rtol=1e-12)


UPLINK_SERIES = ["CF LMMSE, max-min", "CF LMMSE, target (5% dropped)", "CF LMMSE, no PC",
                 "CF Ngo-2017 est., max-min", "CF Ngo-2017 est., target (5% dropped)", "CF Ngo-2017 est., no PC",
                 "CF LMMSE, min power at the Ngo-est. max-min SINR", "small cells, max-min"]
DOWNLINK_SERIES = ["CF LMMSE, max-min", "CF LMMSE, equal power", "CF Ngo-2017 est., max-min", "small cells, max-min"]
NGO_SERIES = [f"{a} {l}, {sh}" for a in ("cell-free", "small cells") for l in ("UL", "DL")
              for sh in ("uncorrelated", "correlated")]


@pytest.mark.parametrize("series", [UPLINK_SERIES, DOWNLINK_SERIES, NGO_SERIES], ids=["fig1", "fig7", "ngo-95"])
def test_iot_cdf_series_have_pairwise_distinct_styles(series):
    """iot-fig1 drew 'CF LMMSE, max-min' and 'CF LMMSE, min power at the Ngo-est. max-min SINR' both solid blue."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgba

    from experiments.papers.iot.plots import cdf_axes as _cdf_axes

    rows = [{"series": s, "x": "thing", "realisation": 0, "throughput_mbps": 1.0 + j + 0.1 * k}
            for j, s in enumerate(series) for k in range(20)]
    fig, ax = plt.subplots()
    try:
        _cdf_axes(ax, rows, key="throughput_mbps", x_filter="thing", xlabel="x", title="t")
        lines = [ln for ln in ax.get_lines() if ln.get_label() in series]
        assert sorted(ln.get_label() for ln in lines) == sorted(series)
        styles = {(to_rgba(ln.get_color()), ln.get_linestyle(), ln.get_marker()) for ln in lines}
        assert len(styles) == len(lines), [(ln.get_label(), ln.get_color(), ln.get_linestyle()) for ln in lines]
    finally:
        plt.close(fig)


def test_distinct_styles_keeps_free_semantic_styles_and_resolves_clashes():
    from experiments.figure_style import STYLE_CYCLE, distinct_styles, style_key

    assert len({style_key(s) for s in STYLE_CYCLE}) == len(STYLE_CYCLE) == 40
    st = distinct_styles(["a", "b", "c"], lambda s: {"color": "C0", "linestyle": "-", "marker": "o"})
    assert st["a"] == {"color": "C0", "linestyle": "-", "marker": "o"}
    assert len({style_key(v) for v in st.values()}) == 3 and st["b"]["color"] == "C0"   # marker freed first
