"""Figures of paper 003 Section VIII (Rao–Ashikhmin–Yang) and the 95 %-likely comparison of its baseline, Ngo et al.
2017 ("Cell-free massive MIMO versus small cells"), regenerated from :mod:`models.iot.system` and our power-control
algorithms.

Setups (the seed lost every number of its settings table; spec ``iot_nonorthogonal.md`` §3.10 fills them with
Paper B's values): three-slope path loss, σ_sh = 8 dB, 1 km wrap-around square, 20 MHz, NF 9 dB, τ_c = 200,
M = 100 APs, K = 40 active things (Uplink Experiment 2 says 5 % of the things are 2 things, so K = 40), τ_p = 20
random pilots uniform on the complex unit sphere (the seed's Section VIII), uncorrelated shadowing.

* ``iot-fig1`` — Uplink Experiment 1 (IoT): things at 10 mW (data and pilot; "one magnitude lower than a mobile
  phone"), CDF of the per-thing uplink net throughput.
* ``iot-fig3`` — the same runs, CDF of the uplink energy efficiency (11) per setup.
* ``iot-fig5`` — Uplink Experiment 2 (mobile): 100 mW.
* ``iot-fig7`` — Downlink Experiment 1: APs at 200 mW, things' pilots at 10 mW, per-thing downlink throughput.
* ``ngo-95`` — Paper B's own comparison: orthonormal pilots (τ_p = 20, greedy assignment, discrete variant, K
  iterations), 100 mW / 200 mW, max-min power control, 95 %-likely per-user net throughput of cell-free vs small
  cells, uplink and downlink, uncorrelated and correlated shadowing.

Schemes: cell-free with LMMSE (Paper A) or with the Ngo 2017 projection estimator ("existing cell-free"), each with
max-min power control, target-SINR power control with 5 % of the things dropped (a common target tuned so that
soft removal drops ⌈0.05 K⌉ things, as the seed describes) and no power control; LMMSE at the baseline's max-min
SINR with minimal powers (the equal-service EE comparison); small cells (each thing served by its strongest free AP,
LMMSE at that AP, max-min power control, prelog (1 − 2τ_p/τ_c)/2).

Reduced runs (default) keep the paper's sizes for the uplink (its LPs are cheap) with 50 setups instead of 200
(``ngo-95``: 100 setups), and use M = 40, K = 16, τ_p = 8 with 12 setups for the downlink of ``iot-fig7``;
``--full`` runs 200 setups at M = 100, K = 40 (the ``iot-fig7`` downlink then takes about 70 s per setup).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from experiments.reproduce import Figure, register_figure

BASE_SEED = 20200618          # arXiv 2006.10363's submission date
UL_SETUPS_REDUCED, SETUPS_FULL, DL_SETUPS_REDUCED, NGO_SETUPS_REDUCED = 50, 200, 12, 100
DROP_SHARE = 0.05
MAX_FP_ITER = 100_000        # Algorithm 1 iterations per target level (soft removal contracts slowly near t*)
SC_DL_PILOT_W = 0.1           # small-cell downlink pilot power per AP (spec ambiguity A6)


# --------------------------------------------------------------------------------------------- instance + schemes
def _instance(task: dict[str, Any]):
    import instances

    return instances.generate("rao2020", seed=task["seed"], aps=task["M"], users=task["K"], tau_p=task["tau_p"],
                              area_km=task.get("area_km", 1.0), shadowing=task.get("shadowing", "uncorrelated"),
                              pilots=task.get("pilots", "random"), ue_power_w=task["p_ue_w"],
                              pilot_power_w=task["p_ue_w"], ap_power_w=task.get("p_ap_w", 0.2))


def _drop_target(lf, n_drop: int) -> tuple[float, Any]:
    """The largest common target t at which Algorithm 1 (soft removal) leaves at most ``n_drop`` things below it,
    found by bisection on log t between the max-min SINR (nobody dropped) and 1e3 × it. Returns (t, outcome)."""
    from solvers_adapters.iot.uplink import bisection_maxmin, target_fixed_point

    t_star = bisection_maxmin(lf, rel_tol=1e-6).t
    lo, hi = t_star, t_star * 1e3
    best = target_fixed_point(lf, np.full(lf.K, lo), max_iter=MAX_FP_ITER)
    for _ in range(40):
        mid = math.sqrt(lo * hi)
        out = target_fixed_point(lf, np.full(lf.K, mid), max_iter=MAX_FP_ITER)
        if not out.converged:             # an unconverged removal set is not a verdict: treat the level as too high
            hi = mid
        elif int(np.sum(out.removed)) <= n_drop:
            lo, best = mid, out
        else:
            hi = mid
        if hi / lo < 1 + 1e-4:
            break
    return lo, best


def uplink_schemes(inst, *, schemes=("lmmse", "projection"), drop_share: float = DROP_SHARE,
                   small_cell: bool = True) -> list[dict[str, Any]]:
    """Per-thing uplink throughput (Mbit/s) and per-setup EE (Mbit/J) of every scheme on one instance."""
    from models.iot import system as iot_models
    from models.iot.small_cells import small_cell_throughput_mbps, small_cell_uplink_system
    from solvers_adapters.iot.uplink import bisection_maxmin

    out = []
    n_drop = max(1, math.ceil(drop_share * inst.K))
    for est in schemes:
        sys_ = iot_models.prepare(inst, estimator=est)
        lf = sys_.ul
        name = "LMMSE" if est == "lmmse" else "Ngo-2017 est."
        mm = bisection_maxmin(lf, rel_tol=1e-6)
        _, tgt = _drop_target(lf, n_drop)
        for pc, eta in (("max-min", mm.eta), (f"target ({int(round(100 * drop_share))}% dropped)", tgt.eta),
                        ("no PC", np.ones(inst.K))):
            sinr = lf.sinr(eta)
            thr = sys_.throughput_mbps(sinr)
            out.append({"series": f"CF {name}, {pc}", "throughput_mbps": thr,
                        "ee_mbit_per_j": sys_.ee_mbit_per_j(eta, sinr), "median_eta": float(np.median(eta)),
                        "ee_thing_mbit_per_j": iot_models.energy_efficiency_per_thing(thr, eta, inst.p_ue_max_w)})
    if {"lmmse", "projection"} <= set(schemes):
        # the same service as the baseline's max-min point, at LMMSE's minimal powers (Algorithm 1's fixed point)
        from solvers_adapters.iot.uplink import min_power_linear_system

        t_ngo = bisection_maxmin(iot_models.prepare(inst, estimator="projection").ul, rel_tol=1e-6).t
        sys_ = iot_models.prepare(inst, estimator="lmmse")
        eta, feasible, _ = min_power_linear_system(sys_.ul, np.full(inst.K, t_ngo))
        if feasible:
            sinr = sys_.ul.sinr(eta)
            thr = sys_.throughput_mbps(sinr)
            out.append({"series": "CF LMMSE, min power at the Ngo-est. max-min SINR", "throughput_mbps": thr,
                        "ee_mbit_per_j": sys_.ee_mbit_per_j(eta, sinr),
                        "ee_thing_mbit_per_j": iot_models.energy_efficiency_per_thing(thr, eta, inst.p_ue_max_w)})
    if small_cell:
        sys_ = iot_models.prepare(inst, estimator="lmmse")
        sc = small_cell_uplink_system(sys_)
        res = bisection_maxmin(sc, rel_tol=1e-6)
        thr = small_cell_throughput_mbps(inst, sc.sinr(res.eta))
        out.append({"series": "small cells, max-min", "throughput_mbps": thr,
                    "ee_mbit_per_j": iot_models.energy_efficiency(thr, res.eta, inst.p_ue_max_w),
                    "ee_thing_mbit_per_j": iot_models.energy_efficiency_per_thing(thr, res.eta, inst.p_ue_max_w)})
    return out


def downlink_schemes(inst, *, solver: str = "ipopt") -> list[dict[str, Any]]:
    """Per-thing downlink throughput (Mbit/s) of every scheme on one instance."""
    from models.iot import system as iot_models
    from models.iot.small_cells import small_cell_downlink_system, small_cell_throughput_mbps
    from solvers_adapters.iot.downlink import bisection_dl
    from solvers_adapters.iot.uplink import bisection_maxmin

    out = []
    for est, name in (("lmmse", "LMMSE"), ("projection", "Ngo-2017 est.")):
        sys_ = iot_models.prepare(inst, estimator=est)
        dl = bisection_dl(sys_, solver=solver, rel_tol=1e-4)
        out.append({"series": f"CF {name}, max-min", "throughput_mbps": sys_.throughput_mbps(
            sys_.downlink_sinr(dl.eta)), "status": dl.status})
        if est == "lmmse":
            out.append({"series": f"CF {name}, equal power",
                        "throughput_mbps": sys_.throughput_mbps(sys_.downlink_sinr(sys_.equal_dl_power()))})
    sys_ = iot_models.prepare(inst, estimator="lmmse")
    # the serving APs send the DL pilots at 100 mW (spec A6), whatever the things' power
    sc = small_cell_downlink_system(sys_, rho_p_sc=SC_DL_PILOT_W / inst.noise_w)
    res = bisection_maxmin(sc, rel_tol=1e-6)
    out.append({"series": "small cells, max-min",
                "throughput_mbps": small_cell_throughput_mbps(inst, sc.sinr(res.eta))})
    return out


# --------------------------------------------------------------------------------------------- task runners
def _rows(task: dict[str, Any], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for r in results:
        base = {"figure": task["figure"], "series": r["series"], "realisation": task["r"], "seed": task["seed"],
                "M": task["M"], "K": task["K"], "tau_p": task["tau_p"], "shadowing": task.get("shadowing"),
                "link": task["link"]}
        if "ee_mbit_per_j" in r:
            rows.append({**base, "x": "ee", "ee_mbit_per_j": float(r["ee_mbit_per_j"]),
                         "median_eta": r.get("median_eta")})
        ee_k = r.get("ee_thing_mbit_per_j")
        for k, v in enumerate(np.asarray(r["throughput_mbps"], dtype=float)):
            row = {**base, "x": "thing", "thing": k, "throughput_mbps": float(v)}
            if ee_k is not None and np.isfinite(ee_k[k]):
                row["ee_thing_mbit_per_j"] = float(ee_k[k])
            rows.append(row)
    return rows


def run_uplink_task(task: dict[str, Any]) -> list[dict[str, Any]]:
    return _rows(task, uplink_schemes(_instance(task)))


def run_downlink_task(task: dict[str, Any]) -> list[dict[str, Any]]:
    return _rows(task, downlink_schemes(_instance(task)))


def run_ngo_task(task: dict[str, Any]) -> list[dict[str, Any]]:
    """Paper B: orthonormal pilots with greedy assignment (cell-free metric for cell-free, small-cell metric for
    small cells), max-min power control on both; one row per scheme with its common max-min throughput."""
    import instances
    from models.iot import system as iot_models
    from models.common import sinr as S
    from models.iot.small_cells import (small_cell_downlink_system, small_cell_throughput_mbps,
                                          small_cell_uplink_system)
    from models.common.pilot_assignment import (cell_free_weights, greedy_pilots, small_cell_dl_weights,
                                         small_cell_ul_weights)
    from solvers_adapters.iot.uplink import bisection_maxmin

    base = instances.generate("ngo2017", seed=task["seed"], aps=task["M"], users=task["K"], tau_p=task["tau_p"],
                              shadowing=task["shadowing"], pilot_assignment="random")
    tau = base.tau_p

    def cf_rates(p):
        return iot_models.IoTSystem(base.replace(pilots=p), "projection").ul.sinr(np.ones(base.K))

    cf = base.replace(pilots=greedy_pilots(base.pilots, tau, cf_rates, cell_free_weights(base.beta)))
    out = []
    sys_cf = iot_models.IoTSystem(cf, "projection")
    mm = bisection_maxmin(sys_cf.ul, rel_tol=1e-6)
    out.append({"series": "cell-free UL", "throughput_mbps": sys_cf.throughput_mbps(sys_cf.ul.sinr(mm.eta))})

    serving = S.small_cell_selection(base.beta)

    def small_cells(link: str, build, weights):
        """Small cells with their own greedy pilots (the small-cell contamination metric), then max-min."""
        def rates(p):
            return build(iot_models.IoTSystem(base.replace(pilots=p), "projection")).sinr(np.ones(base.K))

        pilots = greedy_pilots(base.pilots, tau, rates, weights(base.beta, serving))
        lf = build(iot_models.IoTSystem(base.replace(pilots=pilots), "projection"))
        res = bisection_maxmin(lf, rel_tol=1e-6)
        out.append({"series": f"small cells {link}",
                    "throughput_mbps": small_cell_throughput_mbps(base, lf.sinr(res.eta))})

    small_cells("UL", small_cell_uplink_system, small_cell_ul_weights)
    if task.get("downlink"):
        from solvers_adapters.iot.downlink import bisection_dl

        dl = bisection_dl(sys_cf, solver="ipopt", rel_tol=1e-4)
        out.append({"series": "cell-free DL", "throughput_mbps": sys_cf.throughput_mbps(
            sys_cf.downlink_sinr(dl.eta))})
        small_cells("DL", small_cell_downlink_system, small_cell_dl_weights)
    rows = []
    for r in out:
        thr = np.asarray(r["throughput_mbps"], dtype=float)
        rows.append({"figure": task["figure"], "series": f"{r['series']}, {task['shadowing']}", "x": "setup",
                     "realisation": task["r"], "seed": task["seed"], "M": task["M"], "K": task["K"],
                     "tau_p": task["tau_p"], "shadowing": task["shadowing"],
                     "min_throughput_mbps": float(thr.min()), "median_throughput_mbps": float(np.median(thr))})
        rows += [{"figure": task["figure"], "series": f"{r['series']}, {task['shadowing']}", "x": "thing",
                  "realisation": task["r"], "seed": task["seed"], "thing": k, "throughput_mbps": float(v)}
                 for k, v in enumerate(thr)]
    return rows


# --------------------------------------------------------------------------------------------- task lists
def _seeds(n: int) -> list[int]:
    return [BASE_SEED + r for r in range(n)]


def _ul_tasks(figure: str, p_ue_w: float, full: bool) -> list[dict[str, Any]]:
    n = SETUPS_FULL if full else UL_SETUPS_REDUCED
    return [{"figure": figure, "M": 100, "K": 40, "tau_p": 20, "p_ue_w": p_ue_w, "r": r, "seed": s,
             "link": "uplink"} for r, s in enumerate(_seeds(n))]


def fig1_tasks(full: bool):
    return _ul_tasks("iot-fig1", 0.01, full)


def fig3_tasks(full: bool):
    return _ul_tasks("iot-fig3", 0.01, full)


def fig5_tasks(full: bool):
    return _ul_tasks("iot-fig5", 0.1, full)


def fig7_tasks(full: bool):
    M, K, tau, n = (100, 40, 20, SETUPS_FULL) if full else (40, 16, 8, DL_SETUPS_REDUCED)
    return [{"figure": "iot-fig7", "M": M, "K": K, "tau_p": tau, "p_ue_w": 0.01, "p_ap_w": 0.2, "r": r,
             "seed": s, "link": "downlink"} for r, s in enumerate(_seeds(n))]


def ngo_tasks(full: bool):
    n = SETUPS_FULL if full else NGO_SETUPS_REDUCED
    return [{"figure": "ngo-95", "M": 100, "K": 40, "tau_p": 20, "shadowing": sh, "r": r, "seed": s,
             "downlink": True, "link": "both"}
            for sh in ("uncorrelated", "correlated") for r, s in enumerate(_seeds(n))]


# --------------------------------------------------------------------------------------------- summaries + plots
def _percentiles(vals: np.ndarray) -> dict[str, float]:
    return {"p5": float(np.percentile(vals, 5)), "median": float(np.median(vals)), "mean": float(vals.mean())}


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per series: 5th percentile (95 %-likely), median and mean of the per-thing throughput and of the EE."""
    out = []
    for series in sorted({r["series"] for r in rows if "series" in r}):
        rs = [r for r in rows if r.get("series") == series]
        thr = np.array([r["throughput_mbps"] for r in rs if r.get("x") == "thing"], dtype=float)
        ee = np.array([r["ee_mbit_per_j"] for r in rs if r.get("x") == "ee"], dtype=float)
        row: dict[str, Any] = {"series": series, "n_setups": len({r["realisation"] for r in rs})}
        if thr.size:
            row.update({f"throughput_{k}_mbps": v for k, v in _percentiles(thr).items()})
        if ee.size:
            row.update({f"ee_{k}_mbit_per_j": v for k, v in _percentiles(ee).items()})
        eta = [r["median_eta"] for r in rs if r.get("median_eta") is not None]
        if eta:
            row["median_of_setup_median_eta"] = float(np.median(eta))
        ee_k = np.array([r["ee_thing_mbit_per_j"] for r in rs if r.get("ee_thing_mbit_per_j") is not None])
        if ee_k.size:
            row.update({f"ee_thing_{k}_mbit_per_j": v for k, v in _percentiles(ee_k).items()})
        out.append(row)
    return out


#: semantic styles of the CDF series: linestyle = estimator / architecture, colour = power control (ngo-95: link and
#: shadowing), marker = estimator; the first matching key wins, so the more specific keys come first ("min power at
#: the Ngo-est. max-min SINR" is a min-power series, not a max-min one)
_LINESTYLES = {"LMMSE": "-", "Ngo": "--", "small": ":", "cell-free": "-"}
_MARKERS = {"LMMSE": "o", "Ngo": "s", "small": "^", "cell-free": "o"}
_LINK_COLOURS = {"DL, corr": "C0", "DL, unc": "C1", "UL, corr": "C2", "UL, unc": "C3"}      # ngo-95
_PC_COLOURS = {"min power": "C1", "equal power": "C4", "target": "C3", "no PC": "C2", "max-min": "C0"}


def _cdf_style(series: str) -> dict[str, Any]:
    def first(table):
        return next((v for k, v in table.items() if k in series), None)

    colour = first(_LINK_COLOURS) or ("0.35" if "small" in series else first(_PC_COLOURS))
    style = {"color": colour, "linestyle": first(_LINESTYLES), "marker": first(_MARKERS)}
    return {k: v for k, v in style.items() if v is not None}


def _cdf_axes(ax, rows, *, key: str, x_filter: str, xlabel: str, title: str, log: bool = True) -> None:
    """One empirical CDF per series; every series gets its own (colour, linestyle, marker) via
    :func:`experiments.figure_style.distinct_styles`, its semantic style (:func:`_cdf_style`) where that is free."""
    from experiments.figure_style import distinct_styles

    series_all = sorted({r["series"] for r in rows if r.get("x") == x_filter})
    styles = distinct_styles(series_all, _cdf_style)
    for series in series_all:
        v = np.sort([r[key] for r in rows if r.get("series") == series and r.get("x") == x_filter
                     and r.get(key) is not None])
        v = v[v > 0] if log else v
        if not v.size:
            continue
        ax.plot(v, np.arange(1, v.size + 1) / v.size, label=series, lw=1.4, markevery=0.1, ms=4,
                **styles[series])
    if log:
        ax.set_xscale("log")
    ax.axhline(0.05, color="0.6", lw=0.6)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("CDF")
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", framealpha=0.9)


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def _figure(n: int):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(1, n, figsize=(7 * n, 4.6), squeeze=False)


def _setups_note(rows, full: bool) -> str:
    n = len({r.get("realisation") for r in rows if r.get("realisation") is not None})
    return f" ({n} setups{'' if full else ', reduced run'})"


def _plot_thr(title):
    def plot(rows, summary, path: Path, full: bool) -> None:
        fig, ax = _figure(1)
        _cdf_axes(ax[0, 0], rows, key="throughput_mbps", x_filter="thing",
                  xlabel="per-thing net throughput [Mbit/s]",
                  title=title + _setups_note(rows, full))
        _save(fig, path)
    return plot


def _plot_ee(rows, summary, path: Path, full: bool) -> None:
    fig, ax = _figure(2)
    red = _setups_note(rows, full)
    _cdf_axes(ax[0, 0], rows, key="ee_mbit_per_j", x_filter="ee", xlabel="uplink EE (11) per setup [Mbit/J]",
              title="iot-fig3: Σ_k S_k / Σ_k η_k p̄, M=100, K=40, τp=20, 10 mW" + red)
    _cdf_axes(ax[0, 1], rows, key="ee_thing_mbit_per_j", x_filter="thing",
              xlabel="per-thing EE S_k / (η_k p̄) [Mbit/J]", title="iot-fig3: per-thing energy efficiency" + red)
    _save(fig, path)


register_figure(Figure("iot-fig1", "paper 003 Fig. 1: uplink per-thing throughput CDF, IoT (10 mW)", fig1_tasks,
                       run_uplink_task, summarise, _plot_thr("iot-fig1: uplink, M=100, K=40, τp=20, 10 mW")))
register_figure(Figure("iot-fig3", "paper 003 Fig. 3: uplink energy-efficiency CDF, IoT (10 mW)", fig3_tasks,
                       run_uplink_task, summarise, _plot_ee))
register_figure(Figure("iot-fig5", "paper 003 Fig. 5: uplink per-thing throughput CDF, mobile (100 mW)",
                       fig5_tasks, run_uplink_task, summarise,
                       _plot_thr("iot-fig5: uplink, M=100, K=40, τp=20, 100 mW")))
register_figure(Figure("iot-fig7", "paper 003 Fig. 7: downlink per-thing throughput CDF", fig7_tasks,
                       run_downlink_task, summarise, _plot_thr("iot-fig7: downlink, 200 mW APs, 10 mW pilots")))
register_figure(Figure("ngo-95", "Ngo 2017: 95%-likely throughput, cell-free vs small cells (orthogonal pilots)",
                       ngo_tasks, run_ngo_task, summarise,
                       _plot_thr("ngo-95: Ngo 2017, M=100, K=40, τp=20, greedy pilots, max-min")))


# --------------------------------------------------------------------------------------------- sensitivity table
def estimator_gain_table(*, setups: int = 40, taus=(10, 20, 30), areas_km=(1.0, 0.5), p_w: float = 0.01):
    """LMMSE / Ngo-estimator ratio of the uplink max-min throughput (5th percentile and median over setups) for each
    τ_p × area: how the paper's lost Fig. 1 settings move the estimator gain. ``python -m experiments.papers.iot.figures``."""
    import instances
    from models.iot import system as iot_models
    from solvers_adapters.iot.uplink import bisection_maxmin

    rows = []
    for tau in taus:
        for area in areas_km:
            thr = {"lmmse": [], "projection": []}
            for r in range(setups):
                inst = instances.generate("rao2020", seed=BASE_SEED + r, aps=100, users=40, tau_p=tau,
                                          area_km=area, ue_power_w=p_w, pilot_power_w=p_w)
                for est in thr:
                    sys_ = iot_models.prepare(inst, estimator=est)
                    thr[est].append(sys_.throughput_mbps(bisection_maxmin(sys_.ul, rel_tol=1e-6).t))
            a, b = np.array(thr["lmmse"]), np.array(thr["projection"])
            rows.append({"tau_p": tau, "area_km": area, "setups": setups,
                         "p5_gain": float(np.percentile(a, 5) / np.percentile(b, 5)),
                         "median_gain": float(np.median(a) / np.median(b))})
    return rows


if __name__ == "__main__":
    print("tau_p  area_km  setups  LMMSE/Ngo at 5th pct  at median")
    for row in estimator_gain_table():
        print(f"{row['tau_p']:>5}  {row['area_km']:>7}  {row['setups']:>6}  {row['p5_gain']:>20.2f}  "
              f"{row['median_gain']:>9.2f}")
