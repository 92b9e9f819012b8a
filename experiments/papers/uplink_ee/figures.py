"""Figures of paper 000 Section V (Khan–Karthik R.M.–Agnihotri), regenerated with ``ao-qt`` (Algorithm 1).

Setup of Section V: 1 km² wrap-around square, three-slope path loss with 8 dB shadowing (Ngo 2017 generator), A = 8
antennas, L_c = 200, L_p = 5 pilots (shared, assigned at random), 100 mW pilot and maximum data power, initial
association = the 95 %-of-max-LSFC rule, initial power = 100 mW. ``--full`` uses the paper's sizes and 50
realisations; the default is a reduced version (fewer APs/UEs/realisations) with the same axes.

SE^QoS grids: the paper sweeps 55–110 bit/s/Hz at T = 30. With the seed's model (w = (1 − L_p/L_c)/2, PFZF,
optimal LSFD) and the Ngo 2017 propagation it cites, our sum SE at T = 30 spans about 42–46 (M = 30), 51–61 (M = 60)
and 58–71 bit/s/Hz (M = 110) between the unconstrained EE optimum and the SE maximum (seed 20250101), i.e. roughly
0.7× the paper's values, so a literal grid would be mostly infeasible. The full-size grids therefore run over 40–75
(Fig. 2) and put Fig. 5's threshold at 50 (the paper: 70); README compares shapes, peaks and ratios with the
paper's quotes, not absolute SE values.

Averages are over the realisations where the method found a feasible point; the share of feasible realisations is
reported next to every mean (the paper plots an infeasible threshold as EE = 0; we never do). Every mean carries
its 95 % confidence interval, mean ± t_{0.975, n−1}·s/√n over its n feasible realisations (:func:`mean_ci95`; the
summary CSV keeps n_feasible, the std and the half-width), drawn as a shaded band (bars: error bars); none when n < 2.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from experiments.figure_style import distinct_styles
from experiments.reproduce import Figure, register_figure

BASE_SEED = 20250101
A, TAU_P = 8, 5
INITS = ("top10-per-ue", "top10-per-ap", "all", "lsfc95", "random")
POWER_INITS = ("full", "half", "low", "random", "inverse-gain")

#: reduced runs keep the paper's UE density (30 UEs per km²) for their 12 UEs: a 0.632 km × 0.632 km square
REDUCED_AREA_KM = math.sqrt(12 / 30)


def _instance(M: int, K: int, seed: int, area_km: float = 1.0):
    import instances

    return instances.generate("ngo2017", seed=seed, aps=M, users=K, antennas=A, tau_p=TAU_P, area_km=area_km)


def _solve(inst, **options):
    """One ``ao-qt`` run through the registry (a re-scored SolveResult)."""
    import experiments

    return experiments.solve("uplink-ee", inst, "ao-qt", **options)


def _base(task: dict[str, Any], res, **extra) -> dict[str, Any]:
    ok = res.has_solution
    return {"figure": task["figure"], "M": task["M"], "K": task["K"], "realisation": task["r"],
            "seed": task["seed"], "method": res.method, "status": res.status.value,
            "certificate": res.certificate.value, "ee_mbit_per_j": res.objective if ok else None,
            "sum_se": res.solution.get("sum_se_bps_hz") if ok else None, "iterations": res.iterations,
            "wall_time_s": round(res.wall_time_s, 3), **extra}


# --------------------------------------------------------------------------------------------- task runners
def run_sweep_task(task: dict[str, Any]) -> list[dict[str, Any]]:
    """One realisation × every threshold of ``task['se_grid']`` (figs. 2 and 5)."""
    inst = _instance(task["M"], task["K"], task["seed"], task["area_km"])
    rows = []
    for q in task["se_grid"]:
        res = _solve(inst, se_qos=float(q), seed=task["seed"])
        rows.append(_base(task, res, series=task["series"], x=task["M"] if task["x"] == "M" else float(q),
                          se_qos=float(q)))
    return rows


def run_convergence_task(task: dict[str, Any]) -> list[dict[str, Any]]:
    """Fig. 7: the true EE after each iteration of Algorithm 1 (iteration 0 = the initial point)."""
    inst = _instance(task["M"], task["K"], task["seed"], task["area_km"])
    res = _solve(inst, se_qos=task["se_qos"], seed=task["seed"], tol=task.get("tol", 5e-3),
                    max_iter=task.get("max_iter", 50))
    base = _base(task, res, se_qos=task["se_qos"], series=f"M={task['M']}, T={task['K']}")
    trace = [res.solution.get("initial_ee")] + list(res.trace) if res.has_solution else []
    return [{**base, "x": i, "trace_ee": float(v)} for i, v in enumerate(trace) if v is not None]


def run_init_task(task: dict[str, Any]) -> list[dict[str, Any]]:
    """Fig. 8 (association inits) / Fig. 9 (power inits): final EE per initialisation."""
    inst = _instance(task["M"], task["K"], task["seed"], task["area_km"])
    rows = []
    for init in task["inits"]:
        kw = {"assoc_init": init} if task["kind"] == "assoc" else {"power_init": init}
        res = _solve(inst, se_qos=task["se_qos"], seed=task["seed"], **kw)
        rows.append(_base(task, res, se_qos=task["se_qos"], series=f"M={task['M']}", x=init, init=init))
    return rows


# --------------------------------------------------------------------------------------------- task lists
def _seeds(n: int) -> list[int]:
    return [BASE_SEED + r for r in range(n)]


def fig2_tasks(full: bool) -> list[dict[str, Any]]:
    if full:
        K, Ms, grid, R = 30, list(range(30, 111, 10)), list(np.arange(40.0, 75.01, 2.5)), 50
    else:
        K, Ms, grid, R = 12, [6, 12, 24, 48], list(np.arange(10.0, 30.01, 2.0)), 8
    return [{"figure": "khan-fig2", "M": M, "K": K, "r": r, "seed": s, "area_km": 1.0 if full else REDUCED_AREA_KM, "se_grid": grid, "series": f"M={M}",
             "x": "se"} for M in Ms for r, s in enumerate(_seeds(R))]


def fig5_tasks(full: bool) -> list[dict[str, Any]]:
    if full:
        Ks, Ms, q, R = [30, 50, 70], list(range(30, 121, 10)), 50.0, 50
    else:
        Ks, Ms, q, R = [8, 12], [6, 9, 12, 18, 24, 36, 48], 10.0, 8
    return [{"figure": "khan-fig5", "M": M, "K": K, "r": r, "seed": s, "area_km": 1.0 if full else REDUCED_AREA_KM, "se_grid": [q], "series": f"T={K}",
             "x": "M"} for K in Ks for M in Ms for r, s in enumerate(_seeds(R))]


def fig7_tasks(full: bool) -> list[dict[str, Any]]:
    M, K, q, R = (60, 30, 50.0, 5) if full else (24, 12, 14.0, 3)
    return [{"figure": "khan-fig7", "M": M, "K": K, "r": r, "seed": s, "area_km": 1.0 if full else REDUCED_AREA_KM, "se_qos": q}
            for r, s in enumerate(_seeds(R))]


def fig8_tasks(full: bool) -> list[dict[str, Any]]:
    Ms, K, q, R = ([40, 50], 30, 45.0, 50) if full else ([16, 24], 12, 14.0, 3)
    return [{"figure": "khan-fig8", "M": M, "K": K, "r": r, "seed": s, "area_km": 1.0 if full else REDUCED_AREA_KM, "se_qos": q, "inits": list(INITS),
             "kind": "assoc"} for M in Ms for r, s in enumerate(_seeds(R))]


def fig9_tasks(full: bool) -> list[dict[str, Any]]:
    Ms, K, q, R = ([40], 30, 45.0, 50) if full else ([16], 12, 14.0, 3)
    return [{"figure": "khan-fig9", "M": M, "K": K, "r": r, "seed": s, "area_km": 1.0 if full else REDUCED_AREA_KM, "se_qos": q, "inits": list(POWER_INITS),
             "kind": "power"} for M in Ms for r, s in enumerate(_seeds(R))]


# --------------------------------------------------------------------------------------------- summaries
def mean_ci95(values) -> dict[str, Any]:
    """Mean of ``values`` with its 95 % confidence half-width t_{0.975, n−1}·s/√n (Student t, sample std s): the
    one place where the khan figures' bands and error bars come from. ``halfwidth`` (and ``std``) is None when
    n < 2 (no band), ``mean`` None when n = 0."""
    from scipy import stats

    v = np.asarray([x for x in values if x is not None], dtype=float)
    n = int(v.size)
    mean = float(v.mean()) if n else None
    std = float(v.std(ddof=1)) if n > 1 else None
    hw = float(stats.t.ppf(0.975, n - 1) * std / math.sqrt(n)) if n > 1 else None
    return {"mean": mean, "std": std, "n": n, "halfwidth": hw}


def summarise(rows: list[dict[str, Any]], value: str = "ee_mbit_per_j") -> list[dict[str, Any]]:
    """Per (series, x): mean over the feasible realisations, their sample std and count ``n_feasible``, the 95 %
    half-width of :func:`mean_ci95`, the feasible share and the count ``n`` of all realisations."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        if "series" in r:
            groups.setdefault((r["series"], r["x"]), []).append(r)
    out = []
    for (series, x), rs in groups.items():
        ci = mean_ci95(r.get(value) for r in rs)
        n = len(rs)
        se = [r["sum_se"] for r in rs if r.get("sum_se") is not None]
        out.append({"series": series, "x": x, "mean_" + value: ci["mean"], "ci95_halfwidth": ci["halfwidth"],
                    "std_" + value: ci["std"], "n_feasible": ci["n"], "feasible_share": ci["n"] / n, "n": n,
                    "mean_sum_se": float(np.mean(se)) if se else None,
                    "mean_iterations": float(np.mean([r["iterations"] for r in rs if r.get("iterations")]))
                    if any(r.get("iterations") for r in rs) else None})
    out.sort(key=lambda r: (str(r["series"]), r["x"] if not isinstance(r["x"], str) else 0, str(r["x"])))
    return out


def summarise_trace(rows):
    return summarise(rows, value="trace_ee")


# --------------------------------------------------------------------------------------------- plots
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _series_key(s: str) -> float:
    try:
        return float(s.split("=")[1].split(",")[0])
    except (IndexError, ValueError):
        return 0.0


def _decorate(ax, xlabel: str, ylabel: str, *, legend: int = 8) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=legend)


def _band(ax, pts, value: str, color) -> None:
    """The shaded 95 % confidence band mean ± :func:`mean_ci95` half-width through ``pts`` (summary rows sorted by
    x); drawn only where the half-width exists (n ≥ 2 feasible realisations)."""
    pts = [r for r in pts if r.get("ci95_halfwidth") is not None]
    if len(pts) < 1:
        return
    x = np.array([r["x"] for r in pts], dtype=float)
    y = np.array([r[value] for r in pts], dtype=float)
    hw = np.array([r["ci95_halfwidth"] for r in pts], dtype=float)
    if len(pts) == 1:                                  # a lone point: a bar, a band needs two x values
        ax.errorbar(x, y, yerr=hw, fmt="none", ecolor=color, alpha=0.5, capsize=3)
    else:
        ax.fill_between(x, y - hw, y + hw, color=color, alpha=0.18, lw=0)


def _lines(ax, summary, xlabel, ylabel, value="mean_ee_mbit_per_j"):
    """A line through the points where every realisation was feasible, with its 95 % band; hollow, unconnected
    markers (with 95 % error bars) where only some were (their mean is over a biased subset, so it is shown but not
    joined)."""
    series = sorted({r["series"] for r in summary}, key=_series_key)
    styles = distinct_styles(series)
    for s in series:
        st = styles[s]
        pts = sorted((r for r in summary if r["series"] == s and r[value] is not None), key=lambda r: r["x"])
        full = [r for r in pts if r["feasible_share"] >= 1]
        part = [r for r in pts if r["feasible_share"] < 1]
        if full:
            ax.plot([r["x"] for r in full], [r[value] for r in full], label=s, **st)
            _band(ax, full, value, st["color"])
        if part:
            ax.errorbar([r["x"] for r in part], [r[value] for r in part],
                        yerr=[r.get("ci95_halfwidth") or 0 for r in part], fmt=st["marker"], mfc="white",
                        color=st["color"], capsize=2, elinewidth=0.8, label=None if full else s)
    _decorate(ax, xlabel, ylabel)


def _setting_counts(rows) -> dict[str, Any]:
    """Realisations per (M, K) setting (distinct realisation indices), settings and instances (distinct seed × M ×
    K) among the rows that belong to a task (error markers of failed tasks carry none of these)."""
    rows = [r for r in rows if r.get("realisation") is not None]
    per: dict[tuple, set] = {}
    for r in rows:
        per.setdefault((r.get("M"), r.get("K")), set()).add(r["realisation"])
    counts = [len(v) for v in per.values()] or [0]
    return {"min": min(counts), "max": max(counts), "settings": len(per),
            "instances": len({(r.get("seed"), r.get("M"), r.get("K")) for r in rows})}


def _note_text(rows, full: bool, summary=None, *, kind: str = "lines") -> str:
    """The footnote: run size, realisations per setting (and, labelled separately, settings and instances), and what
    the bands / markers mean. ``kind``: "lines" (means with bands, hollow = partly infeasible), "bars" (means with
    95 % error bars) or "runs" (one line per realisation, nothing averaged)."""
    c = _setting_counts(rows)
    r = f"{c['min']}" if c["min"] == c["max"] else f"{c['min']}–{c['max']}"
    parts = [f"{'full' if full else 'reduced'} size",
             f"{r} realisation{'' if c['max'] == 1 else 's'} per (M, T) setting "
             f"({c['settings']} setting{'' if c['settings'] == 1 else 's'}, {c['instances']} "
             f"instance{'' if c['instances'] == 1 else 's'} in all)"]
    if kind == "runs":
        parts.append("one line per realisation (nothing averaged, no confidence band)")
    else:
        what = "shaded band" if kind == "lines" else "error bars"
        nf = [s.get("n_feasible") or 0 for s in (summary or [])]
        if nf and max(nf) < 2:
            parts.append(f"no 95 % confidence {what.split()[-1]}: fewer than 2 feasible realisations per point")
        else:
            parts.append(f"{what}: 95 % confidence interval of the mean, ± t(0.975, n−1)·s/√n over the n "
                         "feasible realisations" + ("; none where n < 2" if nf and min(nf) < 2 else ""))
        if kind == "lines" and any(0 < s.get("feasible_share", 1) < 1 for s in (summary or [])):
            parts.append("hollow markers (95 % error bars): some realisations infeasible (mean over the feasible "
                         "ones, not joined)")
    return "; ".join(parts)


def _finish(fig, rows, full: bool, summary=None, *, kind: str = "lines"):
    """Add the footnote (wrapped to the figure's width) below the axes, with a bottom margin that holds it; returns
    the footnote's Text artist."""
    import textwrap

    w, h = fig.get_size_inches()
    lines = textwrap.wrap(_note_text(rows, full, summary, kind=kind), width=max(40, int(w * 15)))
    fontsize = 7
    margin = (len(lines) * fontsize * 1.35 + 6) / (h * 72)          # text height in figure fractions + padding
    note = fig.text(0.01, 0.008, "\n".join(lines), fontsize=fontsize, ha="left", va="bottom")
    fig.tight_layout(rect=(0, margin, 1, 1))
    return note


def _save(plt, fig, path: Path) -> None:
    fig.savefig(path, dpi=120, bbox_inches="tight", pad_inches=0.08)    # "tight" keeps every text artist in
    plt.close(fig)


def fig2_figure(rows, summary, full: bool):
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    _lines(a1, summary, "SE^QoS [bit/s/Hz]", "EE [Mbit/J]")
    a1.set_title("EE vs sum-SE threshold (Fig. 2)")
    # EE vs M at a few thresholds: the interior peak
    # thresholds that at least three values of M meet in every realisation; only those M are drawn
    qs = sorted(q for q in {r["x"] for r in summary}
                if sum(1 for r in summary if r["x"] == q and r["feasible_share"] >= 1) >= 3)
    pick = [qs[i] for i in sorted({0, len(qs) // 2, len(qs) - 1})] if qs else []
    styles = distinct_styles([f"SE^QoS={q:g}" for q in pick],
                             lambda s: {"marker": "s"})                   # squares: this panel's points
    for q in pick:
        pts = sorted(({**r, "x": int(_series_key(r["series"]))} for r in summary
                      if r["x"] == q and r["feasible_share"] >= 1), key=lambda r: r["x"])
        if pts:
            st = styles[f"SE^QoS={q:g}"]
            a2.plot([r["x"] for r in pts], [r["mean_ee_mbit_per_j"] for r in pts], label=f"SE^QoS={q:g}", **st)
            _band(a2, pts, "mean_ee_mbit_per_j", st["color"])
    _decorate(a2, "number of APs M", "EE [Mbit/J]")
    a2.set_title("EE vs M (M values feasible in every realisation)")
    _finish(fig, rows, full, summary)
    return fig


def fig5_figure(rows, summary, full: bool):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    _lines(ax, summary, "number of APs M", "EE [Mbit/J]")
    q = next((r.get("se_qos") for r in rows if r.get("se_qos") is not None), None)
    ax.set_title(f"EE vs M for several T, SE^QoS = {q:g} (Fig. 5)" if q is not None else "Fig. 5")
    _finish(fig, rows, full, summary)
    return fig


def fig7_figure(rows, summary, full: bool):
    from matplotlib.ticker import MaxNLocator

    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    runs: dict = {}
    for r in rows:
        if r.get("trace_ee") is not None:
            runs.setdefault((r["series"], r["realisation"], r["seed"]), []).append((r["x"], r["trace_ee"]))
    styles = distinct_styles(sorted(runs))
    for key, pts in sorted(runs.items()):
        series, real, seed = key
        pts.sort()
        ax.plot([x for x, _ in pts], [y for _, y in pts], label=f"{series}, seed {seed}", **styles[key])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))              # iterations are whole numbers
    _decorate(ax, "iteration (0 = initial point: 95 %-LSFC association, full power)", "true EE, eq. (11a) [Mbit/J]",
              legend=7)
    ax.set_title("Convergence of Algorithm 1 (Fig. 7)")
    _finish(fig, rows, full, summary, kind="runs")
    return fig


def bars_figure(rows, summary, full: bool, order, title):
    plt = _plt()
    series = sorted({r["series"] for r in summary}, key=_series_key)
    styles = distinct_styles(series)
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / max(len(series), 1)
    for j, s in enumerate(series):
        vals = {r["x"]: r for r in summary if r["series"] == s}
        y = [vals[i]["mean_ee_mbit_per_j"] if i in vals and vals[i]["mean_ee_mbit_per_j"] is not None else np.nan
             for i in order]
        err = [(vals[i]["ci95_halfwidth"] or 0) if i in vals else 0 for i in order]
        ax.bar(np.arange(len(order)) + j * width, y, width, yerr=err, label=s, capsize=3, color=styles[s]["color"])
    ax.set_xticks(np.arange(len(order)) + width * (len(series) - 1) / 2, order, rotation=15)
    ax.set_ylabel("final EE [Mbit/J]")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    _finish(fig, rows, full, summary, kind="bars")
    return fig


def _plotter(build):
    def plot(rows, summary, path: Path, full: bool) -> None:
        _save(_plt(), build(rows, summary, full), path)
    plot.__name__ = f"plot_{build.__name__}"
    return plot


plot_fig2 = _plotter(fig2_figure)
plot_fig5 = _plotter(fig5_figure)
plot_fig7 = _plotter(fig7_figure)


def plot_fig8(rows, summary, path, full):
    _save(_plt(), bars_figure(rows, summary, full, INITS, "Final EE per association initialisation (Fig. 8)"), path)


def plot_fig9(rows, summary, path, full):
    _save(_plt(), bars_figure(rows, summary, full, POWER_INITS, "Final EE per power initialisation (Fig. 9)"), path)


register_figure(Figure("khan-fig2", "paper 000 Fig. 2: EE vs SE^QoS vs number of APs (ao-qt)", fig2_tasks,
                       run_sweep_task, summarise, plot_fig2))
register_figure(Figure("khan-fig5", "paper 000 Fig. 5: EE vs number of APs vs number of UEs (ao-qt)", fig5_tasks,
                       run_sweep_task, summarise, plot_fig5))
register_figure(Figure("khan-fig7", "paper 000 Fig. 7: EE per iteration of Algorithm 1", fig7_tasks,
                       run_convergence_task, summarise_trace, plot_fig7))
register_figure(Figure("khan-fig8", "paper 000 Fig. 8: final EE under five association initialisations",
                       fig8_tasks, run_init_task, summarise, plot_fig8))
register_figure(Figure("khan-fig9", "paper 000 Fig. 9: final EE under five power initialisations", fig9_tasks,
                       run_init_task, summarise, plot_fig9))
