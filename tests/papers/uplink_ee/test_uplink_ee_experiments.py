"""uplink-ee end to end: the command line, heuristics validated against the certified optima of the tiny library,
the ε-constraint trade-off and the reproduced trends of paper 000 Section V (reduced sizes)."""
import csv
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

import experiments
import instances
from experiments import pareto
from instances.library import list_library

CFOPT = shutil.which("cfopt")
TINY = [e for e in list_library() if "uplink-ee" in e["problems"] and e["name"].startswith("tiny-")]


def cli(*args, timeout=600):
    cmd = [CFOPT, *args] if CFOPT else [sys.executable, "-m", "experiments.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def test_library_has_ten_certified_tiny_instances():
    assert len(TINY) >= 10
    for e in TINY:
        assert e["sizes"]["M"] <= 5 and e["sizes"]["K"] <= 3 and e["sizes"]["antennas"] in (2, 4)
        assert e["optimum"]["uplink-ee"] > 0 and e["certified_by"]["uplink-ee"].startswith("scip")


def test_cli_exact_proves_the_stored_optimum():
    e = TINY[0]
    p = cli("solve", "uplink-ee", "--instance", e["name"], "--method", "exact", "--json")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["certificate"] == "global" and r["status"] == "optimal"
    assert r["objective"] == pytest.approx(e["optimum"]["uplink-ee"], rel=1e-5)
    assert r["max_violation"] <= 1e-6


def test_cli_compare_prints_every_method():
    e = TINY[1]
    methods = "exact,relaxed,ao-qt,all-serve-all,lsfc-95"
    p = cli("compare", "uplink-ee", "--instance", e["name"], "--methods", methods, "--json")
    assert p.returncode == 0, p.stderr
    rows = {r["method"]: r for r in json.loads(p.stdout)}
    assert set(rows) == set(methods.split(","))
    opt = rows["exact"]["objective"]
    for m, r in rows.items():
        if r["objective"] is not None and r["status"] in ("optimal", "feasible"):
            assert r["objective"] <= opt * (1 + 1e-6), m      # nothing beats the proven optimum
    p = cli("compare", "uplink-ee", "--instance", e["name"], "--methods", methods)
    assert p.returncode == 0 and all(m in p.stdout for m in methods.split(","))


@pytest.fixture(scope="module")
def validation():
    """ao-qt on every certified tiny instance: ratio to the proven optimum."""
    out = []
    for e in TINY:
        inst = instances.load(e["name"])
        r = experiments.solve("uplink-ee", inst, "ao-qt")
        out.append((e["name"], e["optimum"]["uplink-ee"], r))
    return out


def test_ao_qt_is_feasible_and_never_beats_the_optimum(validation):
    for name, opt, r in validation:
        assert r.status.value in ("optimal", "feasible", "limit") and r.has_solution, (name, r.message)
        assert r.max_violation <= 1e-6, name
        assert r.objective <= opt * (1 + 1e-6), (name, r.objective, opt)


def test_ao_qt_reaches_95_percent_of_the_optimum_in_median(validation):
    ratios = np.array([r.objective / opt for _, opt, r in validation])
    print(f"ao-qt / optimum on {len(ratios)} tiny instances: median {np.median(ratios):.4f}, "
          f"worst {ratios.min():.4f} ({validation[int(ratios.argmin())][0]})")
    assert np.median(ratios) >= 0.95


# ------------------------------------------------------------------------------------------- trade-off
@pytest.fixture(scope="module")
def exact_front():
    return pareto.sweep("uplink-ee", TINY[0]["name"], "exact", 5, beyond=1)


def test_exact_front_end_points_and_monotone(exact_front):
    rows = exact_front["rows"]
    solved = [r for r in rows if r["objective"] is not None]
    assert len(solved) == 5 and all(r["certificate"] == "global" for r in solved)
    # the first point is the unconstrained optimum: the stored instance optimum when its own QoS does not bind
    unconstrained = experiments.solve("uplink-ee", TINY[0]["name"], "exact", se_qos=0.0)
    assert solved[0]["objective"] == pytest.approx(unconstrained.objective, rel=1e-5)
    # the last point reaches the SE-max end point
    assert solved[-1]["achieved"] == pytest.approx(exact_front["max_threshold"], rel=1e-4)
    ee = [r["objective"] for r in solved]
    assert all(b <= a * (1 + 1e-6) for a, b in zip(ee, ee[1:]))          # EE falls as SE^QoS rises
    assert ee[-1] < ee[0] * 0.999
    assert pareto.non_dominated(rows)


def test_threshold_above_the_maximum_is_proved_infeasible_not_zero(exact_front):
    beyond = exact_front["rows"][-1]
    assert beyond["threshold"] > exact_front["max_threshold"]
    assert beyond["status"] == "infeasible" and beyond["objective"] is None


def test_cli_pareto_writes_csv_and_png(tmp_path):
    out, png = tmp_path / "front.csv", tmp_path / "front.png"
    p = cli("pareto", "uplink-ee", "--instance", TINY[2]["name"], "--method", "ao-qt", "--points", "4",
            "--out", str(out), "--plot", str(png), "--quiet")
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 5 and rows[-1]["status"] == "infeasible" and rows[-1]["objective"] == ""
    ee = [float(r["objective"]) for r in rows[:-1] if r["objective"]]
    assert len(ee) >= 3 and ee[-1] <= ee[0]
    assert png.stat().st_size > 5000


def test_cli_pareto_bad_points_exits_2():
    p = cli("pareto", "uplink-ee", "--instance", TINY[0]["name"], "--method", "exact", "--points", "1")
    assert p.returncode == 2 and "--points" in p.stderr and "Traceback" not in p.stderr


# ------------------------------------------------------------------------------------------- reproduced trends
def _ee(M, K, seed, se_qos):
    inst = instances.generate("ngo2017", seed=seed, aps=M, users=K, antennas=8, tau_p=5)
    r = experiments.solve("uplink-ee", inst, "ao-qt", se_qos=se_qos)
    assert r.has_solution, r.message
    return r


def test_ee_versus_number_of_aps_has_an_interior_peak():
    """Fig. 2/5 trend: at a fixed SE^QoS, EE first rises with M, then falls (AP static power dominates)."""
    Ms = [4, 8, 16, 32, 64]
    ee = np.mean([[_ee(M, 8, s, 2.0).objective for M in Ms] for s in (11, 12)], axis=0)
    k = int(np.argmax(ee))
    print(dict(zip(Ms, np.round(ee, 4))))
    assert 0 < k < len(Ms) - 1, ee
    assert ee[k] > ee[0] * 1.02 and ee[k] > ee[-1] * 1.02


def test_reproduce_fig7_writes_png_and_csv(tmp_path):
    from experiments.reproduce import run_figure

    paths = run_figure("khan-fig7", out=tmp_path, workers=1, quiet=True)
    rows = list(csv.DictReader(paths["csv"].open()))
    runs = {}
    for r in rows:
        runs.setdefault(r["realisation"], []).append((int(r["x"]), float(r["trace_ee"])))
    assert len(runs) >= 2
    for trace in runs.values():
        trace = [v for _, v in sorted(trace)]
        assert 2 <= len(trace) <= 11                          # initial point + at most 10 iterations
        assert max(trace) >= trace[0]                         # never worse than its initial point
    assert any(max(v for _, v in t) > t[0][1] * 1.01 for t in map(sorted, runs.values()))
    assert paths["png"].stat().st_size > 5000 and paths["summary"].exists()


def test_reproduce_unknown_figure_exits_2():
    p = cli("reproduce", "khan-fig99")
    assert p.returncode == 2 and "figure" in p.stderr and "khan-fig2" in p.stderr


# ------------------------------------------------------------------------------------------- khan figure drawing
def _fig2_rows(R, Ms=(6, 12, 24, 48), grid=(10.0, 12.0, 14.0)):
    """Synthetic khan-fig2 rows (no solving): R realisations × M × SE^QoS grid, all feasible."""
    rng = np.random.default_rng(0)
    return [{"figure": "khan-fig2", "M": M, "K": 12, "realisation": r, "seed": 20250101 + r, "series": f"M={M}",
             "x": q, "se_qos": q, "ee_mbit_per_j": 2.5 + 0.01 * M - 0.02 * q + 0.05 * rng.standard_normal(),
             "sum_se": q + 1.0, "iterations": 3} for M in Ms for r in range(R) for q in grid]


def test_mean_ci95_is_the_student_t_half_width():
    from experiments.papers.uplink_ee.figures import mean_ci95

    ci = mean_ci95([1.0, 2.0, None, 3.0, 4.0, 5.0])            # None = an infeasible realisation: skipped
    assert ci["n"] == 5 and ci["mean"] == pytest.approx(3.0) and ci["std"] == pytest.approx(np.sqrt(2.5))
    assert ci["halfwidth"] == pytest.approx(2.7764451051977987 * np.sqrt(2.5) / np.sqrt(5), rel=1e-9)  # t_.975,4
    one = mean_ci95([4.2])
    assert one["mean"] == 4.2 and one["halfwidth"] is None and one["std"] is None
    assert mean_ci95([])["mean"] is None


def test_khan_summary_keeps_n_std_and_t_half_width():
    from experiments.papers.uplink_ee.figures import mean_ci95, summarise

    rows = _fig2_rows(3)
    rows[0] = {**rows[0], "ee_mbit_per_j": None}                 # one infeasible realisation at (M=6, q=10)
    s = {(r["series"], r["x"]): r for r in summarise(rows)}
    first = s[("M=6", 10.0)]
    assert first["n"] == 3 and first["n_feasible"] == 2 and first["feasible_share"] == pytest.approx(2 / 3)
    vals = [r["ee_mbit_per_j"] for r in rows if r["series"] == "M=12" and r["x"] == 12.0]
    other = s[("M=12", 12.0)]
    assert other["std_ee_mbit_per_j"] == pytest.approx(np.std(vals, ddof=1))
    assert other["ci95_halfwidth"] == pytest.approx(mean_ci95(vals)["halfwidth"])


@pytest.mark.parametrize("R", [1, 8])
def test_khan_fig2_footnote_states_the_realisations(R):
    from experiments.papers.uplink_ee.figures import _note_text, summarise

    rows = _fig2_rows(R)
    note = _note_text(rows, False, summarise(rows))
    plural = "" if R == 1 else "s"
    assert f"; {R} realisation{plural} per (M, T) setting (4 settings, {4 * R} instances in all)" in note, note
    assert ("no 95 % confidence band: fewer than 2" in note) == (R == 1), note
    assert ("shaded band: 95 % confidence interval" in note) == (R > 1), note


@pytest.mark.parametrize("R", [1, 2])
def test_khan_fig2_and_fig5_shade_a_band_only_with_two_realisations(R):
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    from experiments.papers.uplink_ee.figures import fig2_figure, fig5_figure, summarise

    rows = _fig2_rows(R)
    for build in (fig2_figure, fig5_figure):
        fig = build(rows, summarise(rows), False)
        try:
            bands = [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]
            assert (len(bands) == 4) == (R >= 2) and (len(bands) == 0) == (R < 2), (build.__name__, bands)
        finally:
            plt.close(fig)


def test_khan_fig7_integer_iteration_ticks_and_footnote_inside_the_figure():
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from experiments.papers.uplink_ee.figures import fig7_figure, summarise_trace

    rows = [{"figure": "khan-fig7", "M": 24, "K": 12, "realisation": r, "seed": 20250101 + r, "series": "M=24, T=12",
             "x": i, "trace_ee": 2.0 + 0.1 * r + 0.2 * i ** 0.5, "iterations": 3} for r in range(2) for i in range(4)]
    fig = fig7_figure(rows, summarise_trace(rows), False)
    try:
        ax = fig.axes[0]
        loc = ax.xaxis.get_major_locator()
        assert isinstance(loc, MaxNLocator) and loc._integer
        lo, hi = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
        assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        W, H = fig.bbox.width, fig.bbox.height
        (note,) = fig.texts
        box = note.get_window_extent(renderer)
        assert "1 setting" in note.get_text() and "2 realisations" in note.get_text()
        assert 0 <= box.x0 and box.x1 <= W and 0 <= box.y0 and box.y1 <= H, (box, W, H)
        assert ax.get_tightbbox(renderer).y0 >= box.y1 - 1        # the axis label does not sit on the footnote
    finally:
        plt.close(fig)
