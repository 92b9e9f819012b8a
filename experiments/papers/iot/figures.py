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
``--full`` runs 200 setups at M = 100, K = 40.

Every scheme runs as a registered method through :func:`experiments.results.run_method` (``bisection``,
``full-power``, ``fixed-point``, ``linear-system``, ``equal-power``; the small cells are the ``bisection`` of
``iot-smallcell-uplink-maxmin`` / ``iot-smallcell-downlink-maxmin``) and every number is read from
its :class:`SolveResult` (the evaluator's per-thing throughput, EE and η); the 5 %-drop target is the bracket engine
(:func:`solvers_adapters.algorithms.bisection.bracket`) over the ``fixed-point`` method of ``iot-uplink-target``.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from experiments.papers.iot.plots import plot_ee, plot_thr
from experiments.reproduce import Figure, register_figure

BASE_SEED = 20200618          # arXiv 2006.10363's submission date
UL_SETUPS_REDUCED, SETUPS_FULL, DL_SETUPS_REDUCED, NGO_SETUPS_REDUCED = 50, 200, 12, 100
DROP_SHARE = 0.05
MAX_FP_ITER = 100_000        # Algorithm 1 iterations per target level (soft removal contracts slowly near t*)
SC_DL_PILOT_W = 0.1           # small-cell downlink pilot power per AP (spec ambiguity A6)
UL, TG, DL = "iot-uplink-maxmin", "iot-uplink-target", "iot-downlink-maxmin"
SCU, SCD = "iot-smallcell-uplink-maxmin", "iot-smallcell-downlink-maxmin"


# --------------------------------------------------------------------------------------------- instance + schemes
def _instance(task: dict[str, Any]):
    import instances

    return instances.generate("rao2020", seed=task["seed"], aps=task["M"], users=task["K"], tau_p=task["tau_p"],
                              area_km=task.get("area_km", 1.0), shadowing=task.get("shadowing", "uncorrelated"),
                              pilots=task.get("pilots", "random"), ue_power_w=task["p_ue_w"],
                              pilot_power_w=task["p_ue_w"], ap_power_w=task.get("p_ap_w", 0.2))


def _run(problem: str, method: str, inst, **options):
    from experiments.results import run_method

    return run_method(problem, method, inst, **options)


def _drop_target(inst, estimator: str, n_drop: int, t_star: float | None = None):
    """The largest common target t at which Algorithm 1 (soft removal, the ``fixed-point`` method of
    ``iot-uplink-target``) leaves at most ``n_drop`` things below it: the bracket engine with geometric steps on
    [t*, 10³ t*] (t* = the max-min SINR, nobody dropped), a level being reachable when the method converged with at
    most ``n_drop`` removals (an unconverged removal set is not a verdict: the level counts as too high), until the
    bracket is 1e-4 relative (at most 40 levels). Returns (t, the SolveResult at t)."""
    from solvers_adapters.algorithms.bisection import Report, bracket

    if t_star is None:
        t_star = _run(UL, "bisection", inst, estimator=estimator, rel_tol=1e-6).objective

    def at(t: float):
        return _run(TG, "fixed-point", inst, targets=np.full(inst.K, t), estimator=estimator, max_iter=MAX_FP_ITER)

    def oracle(q) -> Report:
        r = at(q.t)
        ok = r.solution["converged"] and len(r.solution["removed"]) <= n_drop
        return Report.feasible(q.t, r) if ok else Report.infeasible(q.t)

    br = bracket(oracle, t_star, t_star * 1e3, rel_tol=1e-4, step="geometric", point=at(t_star), max_steps=40)
    return br.lo, br.point


def _ul_row(series: str, r, inst, *, median_eta: bool = False) -> dict[str, Any]:
    """A scheme's per-thing throughput, its setup EE (11) and per-thing EE, read from its result."""
    from models.iot.system import energy_efficiency_per_thing

    eta = np.asarray(r.solution["eta"], dtype=float)
    thr = np.asarray(r.solution["throughput_mbps"], dtype=float)
    row = {"series": series, "throughput_mbps": thr, "ee_mbit_per_j": r.solution["objectives"]["ee_mbit_per_j"],
           "ee_thing_mbit_per_j": energy_efficiency_per_thing(thr, eta, inst.p_ue_max_w)}
    if median_eta:
        row["median_eta"] = float(np.median(eta))
    return row


def uplink_schemes(inst, *, schemes=("lmmse", "projection"), drop_share: float = DROP_SHARE,
                   small_cell: bool = True) -> list[dict[str, Any]]:
    """Per-thing uplink throughput (Mbit/s) and per-setup EE (Mbit/J) of every scheme on one instance."""
    from solvers_adapters.result import Status

    out, maxmin = [], {}
    n_drop = max(1, math.ceil(drop_share * inst.K))
    for est in schemes:
        name = "LMMSE" if est == "lmmse" else "Ngo-2017 est."
        mm = maxmin[est] = _run(UL, "bisection", inst, estimator=est, rel_tol=1e-6)
        _, tgt = _drop_target(inst, est, n_drop, mm.objective)
        nopc = _run(UL, "full-power", inst, estimator=est)
        for pc, r in (("max-min", mm), (f"target ({int(round(100 * drop_share))}% dropped)", tgt), ("no PC", nopc)):
            out.append(_ul_row(f"CF {name}, {pc}", r, inst, median_eta=True))
    if {"lmmse", "projection"} <= set(schemes):
        # the same service as the baseline's max-min point, at LMMSE's minimal powers (Algorithm 1's fixed point)
        r = _run(TG, "linear-system", inst, targets=np.full(inst.K, maxmin["projection"].objective),
                 estimator="lmmse")
        if r.status is Status.OPTIMAL:
            out.append(_ul_row("CF LMMSE, min power at the Ngo-est. max-min SINR", r, inst))
    if small_cell:
        out.append(_ul_row("small cells, max-min", _run(SCU, "bisection", inst, estimator="lmmse", rel_tol=1e-6),
                           inst))
    return out


def downlink_schemes(inst, *, solver: str = "ipopt") -> list[dict[str, Any]]:
    """Per-thing downlink throughput (Mbit/s) of every scheme on one instance."""
    out = []
    for est, name in (("lmmse", "LMMSE"), ("projection", "Ngo-2017 est.")):
        dl = _run(DL, "bisection", inst, estimator=est, solver=solver, rel_tol=1e-4)
        out.append({"series": f"CF {name}, max-min", "throughput_mbps": dl.solution["throughput_mbps"],
                    "status": dl.status.value})
        if est == "lmmse":
            eq = _run(DL, "equal-power", inst, estimator=est)
            out.append({"series": f"CF {name}, equal power", "throughput_mbps": eq.solution["throughput_mbps"]})
    # the serving APs send the DL pilots at 100 mW (spec A6), whatever the things' power
    sc = _run(SCD, "bisection", inst, estimator="lmmse", rel_tol=1e-6, sc_pilot_w=SC_DL_PILOT_W)
    out.append({"series": "small cells, max-min", "throughput_mbps": sc.solution["throughput_mbps"]})
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


def _ngo_rows(task: dict[str, Any], out: list[dict[str, Any]]) -> list[dict[str, Any]]:
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


def run_ngo_task(task: dict[str, Any]) -> list[dict[str, Any]]:
    """Paper B: orthonormal pilots with greedy assignment (cell-free metric for cell-free, small-cell metric for
    small cells), max-min power control on both; one row per scheme with its common max-min throughput."""
    import instances
    from models.common.pilot_assignment import (cell_free_weights, greedy_pilots, small_cell_dl_weights,
                                                small_cell_ul_weights)
    from models.iot import system as iot_models
    from models.iot.small_cells import small_cell_downlink_system, small_cell_selection, small_cell_uplink_system

    base = instances.generate("ngo2017", seed=task["seed"], aps=task["M"], users=task["K"], tau_p=task["tau_p"],
                              shadowing=task["shadowing"], pilot_assignment="random")
    tau = base.tau_p

    def cf_rates(p):
        return iot_models.IoTSystem(base.replace(pilots=p), "projection").ul.sinr(np.ones(base.K))

    cf = base.replace(pilots=greedy_pilots(base.pilots, tau, cf_rates, cell_free_weights(base.beta)))
    mm = _run(UL, "bisection", cf, estimator="projection", rel_tol=1e-6)
    out = [{"series": "cell-free UL", "throughput_mbps": mm.solution["throughput_mbps"]}]
    serving = small_cell_selection(base.beta)

    def small_cells(link: str, problem: str, build, weights):
        """Small cells with their own greedy pilots (the small-cell contamination metric), then max-min."""
        def rates(p):
            return build(iot_models.IoTSystem(base.replace(pilots=p), "projection")).sinr(np.ones(base.K))

        pilots = greedy_pilots(base.pilots, tau, rates, weights(base.beta, serving))
        res = _run(problem, "bisection", base.replace(pilots=pilots), estimator="projection", rel_tol=1e-6)
        out.append({"series": f"small cells {link}", "throughput_mbps": res.solution["throughput_mbps"]})

    small_cells("UL", SCU, small_cell_uplink_system, small_cell_ul_weights)
    if task.get("downlink"):
        dl = _run(DL, "bisection", cf, estimator="projection", solver="ipopt", rel_tol=1e-4)
        out.append({"series": "cell-free DL", "throughput_mbps": dl.solution["throughput_mbps"]})
        small_cells("DL", SCD, small_cell_downlink_system, small_cell_dl_weights)
    return _ngo_rows(task, out)


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


register_figure(Figure("iot-fig1", "paper 003 Fig. 1: uplink per-thing throughput CDF, IoT (10 mW)", fig1_tasks,
                       run_uplink_task, summarise, plot_thr("iot-fig1: uplink, M=100, K=40, τp=20, 10 mW")))
register_figure(Figure("iot-fig3", "paper 003 Fig. 3: uplink energy-efficiency CDF, IoT (10 mW)", fig3_tasks,
                       run_uplink_task, summarise, plot_ee))
register_figure(Figure("iot-fig5", "paper 003 Fig. 5: uplink per-thing throughput CDF, mobile (100 mW)",
                       fig5_tasks, run_uplink_task, summarise,
                       plot_thr("iot-fig5: uplink, M=100, K=40, τp=20, 100 mW")))
register_figure(Figure("iot-fig7", "paper 003 Fig. 7: downlink per-thing throughput CDF", fig7_tasks,
                       run_downlink_task, summarise, plot_thr("iot-fig7: downlink, 200 mW APs, 10 mW pilots")))
register_figure(Figure("ngo-95", "Ngo 2017: 95%-likely throughput, cell-free vs small cells (orthogonal pilots)",
                       ngo_tasks, run_ngo_task, summarise,
                       plot_thr("ngo-95: Ngo 2017, M=100, K=40, τp=20, greedy pilots, max-min")))


# --------------------------------------------------------------------------------------------- sensitivity table
def estimator_gain_table(*, setups: int = 40, taus=(10, 20, 30), areas_km=(1.0, 0.5), p_w: float = 0.01):
    """LMMSE / Ngo-estimator ratio of the uplink max-min throughput (5th percentile and median over setups) for each
    τ_p × area: how the paper's lost Fig. 1 settings move the estimator gain. ``python -m experiments.papers.iot.figures``."""
    import instances
    from models.iot import system as iot_models

    rows = []
    for tau in taus:
        for area in areas_km:
            thr = {"lmmse": [], "projection": []}
            for r in range(setups):
                inst = instances.generate("rao2020", seed=BASE_SEED + r, aps=100, users=40, tau_p=tau,
                                          area_km=area, ue_power_w=p_w, pilot_power_w=p_w)
                for est in thr:
                    t = _run(UL, "bisection", inst, estimator=est, rel_tol=1e-6).objective
                    thr[est].append(iot_models.prepare(inst, estimator=est).throughput_mbps(t))
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
