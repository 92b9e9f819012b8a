"""Figures and Table II of paper 001 Section V (unicast + multi-group multicast CF-mMIMO, APG vs SCA), regenerated
from :mod:`models.multicast` and our methods.

The seed lost every number of Section V-A; the settings here are the spec's §9.2 defaults **[G]**: three-slope
path loss on a 1 km² wrap-around square, 20 MHz, AP power 1 W, pilots 0.2 W, τ_c = 200, τ_t = K_u + G, every
user's SE floor ``SE_MIN`` (31c) and no fronthaul or per-AP limit unless stated. Reduced runs (default) use
``REDUCED`` (M = 30, K_u = 4, G = 2, K_g = 3; MR N = 4, ZF N = 8 > K_u + G) with 40 setups (Fig. 2) or 10 per point (sweeps); ``--full`` uses
``FULL`` (M = 100, K_u = 8, G = 2, K_g = 5, i.e. 18 users; MR N = 4, ZF N = 16).

* ``multicast-fig2`` — CDF of the SSE over setups: ``apg`` vs ``epa-ras`` and ``opa-ras``, MR and ZF, two
  weightings (w_u, w_mc) ∈ ``WEIGHTINGS`` (unicast, multicast weights);
* ``multicast-fig3`` — mean SSE vs M (``apg``, MR and ZF);
* ``multicast-fig4`` — mean SSE vs N antennas per AP;
* ``multicast-fig5`` — mean SSE vs the number of multicast users (K_g per group), with the share of setups whose
  QoS cannot be met (status ``infeasible``: the MR QoS failure the seed reports);
* ``multicast-fig6`` — mean SSE vs K_u (``apg``, ``opa-ras``, ``epa-ras``; ZF);
* ``multicast-fig7`` — ``apg`` vs ``sca``, SSE vs M, MR and ZF;
* ``multicast-fig8`` — the case study: per-user SE of ``epa-ras`` and ``apg`` (ZF; M = 10, K_u = 3, G = 2 × 2, at
  most ``N_MAX_CASE`` streams per AP (31f), so that AP selection matters) and their association matrices
  (M × (K_u + G));
* ``multicast-table2`` — run time of ``apg`` and ``sca`` (MR) at three sizes.

Every number is read from a :class:`SolveResult` of :func:`experiments.results.run_method` (objective, per-user SE,
association, wall time); a run that is not ``optimal``/``feasible`` keeps its status and contributes no number.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from experiments.reproduce import Figure, register_figure

PROBLEM = "unicast-multicast-sse"
BASE_SEED = 250813771                   # arXiv 2508.13771
SE_MIN = 0.1                            # bit/s/Hz, every user [G] (the seed lost its value)
WEIGHTINGS = ((1.0, 1.0), (1.0, 4.0))   # (w_u, w_mc) [G]: the seed's two weightings lost their values
REDUCED = {"M": 30, "Ku": 4, "G": 2, "Kg": 3, "N_mr": 4, "N_zf": 8, "setups": 40, "sweep_setups": 10}
FULL = {"M": 100, "Ku": 8, "G": 2, "Kg": 5, "N_mr": 4, "N_zf": 16, "setups": 200, "sweep_setups": 50}
SCORED = ("optimal", "feasible")
N_MAX_CASE = 3                          # Fig. 8: at most 3 of the 5 streams per AP (31f) [G], so selection matters


# --------------------------------------------------------------------------------------------- instance + runs
def make_instance(task: dict[str, Any]):
    """The seeded layout of one task (generator ``multicast``), with the task's weights and QoS."""
    import instances

    se_min = task.get("se_min")
    return instances.generate("multicast", seed=task["seed"], aps=task["M"], antennas=task["N"],
                              unicast=task["Ku"], groups=task["G"], group_size=task["Kg"],
                              precoding=task["precoding"], area_km=task.get("area_km", 1.0),
                              weight_unicast=task.get("w_u", 1.0), weight_multicast=task.get("w_mc", 1.0),
                              se_min_unicast_bps_hz=se_min, se_min_multicast_bps_hz=se_min,
                              max_streams_per_ap=task.get("n_max"))


def _run(method: str, inst, task: dict[str, Any]):
    from experiments.results import run_method

    opts: dict[str, Any] = {"precoding": task["precoding"]}
    if method in ("epa-ras", "opa-ras"):
        opts["seed"] = task["seed"]
    return run_method(PROBLEM, method, inst, **opts)


def _row(task: dict[str, Any], method: str, res) -> dict[str, Any]:
    """One (task, method) row: the task's setting, the status and, when scored, SSE and wall time."""
    status = res.status.value
    row = {k: task.get(k) for k in ("figure", "x", "x_value", "realisation", "seed", "M", "N", "Ku", "G", "Kg",
                                   "precoding", "w_u", "w_mc")}
    row.update(series=f"{method} {task['precoding'].upper()}" + _weight_tag(task), method=method, status=status,
               sse_bps_hz=float(res.objective) if status in SCORED and res.objective is not None else None,
               wall_time_s=float(res.wall_time_s), iterations=res.iterations)
    return row


def _weight_tag(task: dict[str, Any]) -> str:
    if task.get("figure") != "multicast-fig2":
        return ""
    return f", w=({task['w_u']:g},{task['w_mc']:g})"


def run_task(task: dict[str, Any]) -> list[dict[str, Any]]:
    """Every method of the task on its instance; one row per method."""
    inst = make_instance(task)
    return [_row(task, m, _run(m, inst, task)) for m in task["methods"]]


def run_case_task(task: dict[str, Any]) -> list[dict[str, Any]]:
    """Fig. 8: per-user SE and the association matrix of ``epa-ras`` and ``apg``."""
    inst = make_instance(task)
    rows = []
    for m in task["methods"]:
        res = _run(m, inst, task)
        rows.append({**_row(task, m, res), "x": "total"})
        if res.status.value not in SCORED:
            continue
        for i, se in enumerate(res.solution["se_bps_hz"]):
            rows.append({"figure": task["figure"], "series": m, "method": m, "x": "user", "x_value": i,
                         "label": _label(i, task), "se_bps_hz": float(se), "status": res.status.value})
        for mm, line in enumerate(res.solution["assoc"]):
            rows += [{"figure": task["figure"], "series": m, "method": m, "x": "assoc", "ap": mm, "stream": s,
                      "a": int(round(a))} for s, a in enumerate(line)]
    return rows


def _label(i: int, task: dict[str, Any]) -> str:
    """UE k for unicast user k, then MU(g,l) for the l-th user of group g (1-based, the seed's labels)."""
    if i < task["Ku"]:
        return f"UE{i + 1}"
    j = i - task["Ku"]
    return f"MU{j // task['Kg'] + 1},{j % task['Kg'] + 1}"


# --------------------------------------------------------------------------------------------- task lists
def _size(full: bool) -> dict[str, Any]:
    return FULL if full else REDUCED


def _tasks(figure: str, full: bool, sweep: list[tuple[str, Any, dict[str, Any]]], methods, precodings=("mr", "zf"),
           setups: int | None = None) -> list[dict[str, Any]]:
    """One task per (sweep point, precoding, realisation); ``sweep`` = [(x name, x value, overrides)]."""
    size = _size(full)
    n = setups if setups is not None else size["sweep_setups"]
    out = []
    for x, xv, over in sweep:
        for p in precodings:
            base = {"M": size["M"], "N": size[f"N_{p}"], "Ku": size["Ku"], "G": size["G"], "Kg": size["Kg"]}
            for r in range(n):
                t = {"figure": figure, "x": x, "x_value": xv, "precoding": p, "r": r, "realisation": r,
                     "seed": BASE_SEED + r, "se_min": SE_MIN, "w_u": 1.0, "w_mc": 1.0, "methods": list(methods),
                     **base}
                t.update(over)
                out.append(t)
    return out


def fig2_tasks(full: bool):
    sweep = [("weighting", i, {"w_u": wu, "w_mc": wm}) for i, (wu, wm) in enumerate(WEIGHTINGS)]
    return _tasks("multicast-fig2", full, sweep, ("apg", "opa-ras", "epa-ras"), setups=_size(full)["setups"])


def fig3_tasks(full: bool):
    ms = (20, 40, 60, 80, 100) if full else (10, 20, 30, 40)
    return _tasks("multicast-fig3", full, [("M", m, {"M": m}) for m in ms], ("apg",))


def fig4_tasks(full: bool):
    ns = (12, 16, 20, 24) if full else (8, 10, 12, 16)
    return _tasks("multicast-fig4", full, [("N", n, {"N": n}) for n in ns], ("apg",))


def fig5_tasks(full: bool):
    kgs = (2, 4, 6, 8, 10) if full else (2, 4, 6, 8)
    return _tasks("multicast-fig5", full, [("multicast users", _size(full)["G"] * k, {"Kg": k}) for k in kgs],
                  ("apg",))


def fig6_tasks(full: bool):
    kus = (2, 4, 6, 8, 10) if full else (2, 4, 6, 8)
    size = _size(full)
    sweep = [("unicast users", k, {"Ku": k, "N": max(size["N_zf"], k + size["G"] + 2)}) for k in kus]
    return _tasks("multicast-fig6", full, sweep, ("apg", "opa-ras", "epa-ras"), precodings=("zf",))


def fig7_tasks(full: bool):
    ms = (20, 40, 60) if full else (10, 20, 30)
    return _tasks("multicast-fig7", full, [("M", m, {"M": m}) for m in ms], ("apg", "sca"),
                  setups=None if full else 5)


def fig8_tasks(full: bool):
    return [{"figure": "multicast-fig8", "x": "case", "x_value": 0, "precoding": "zf", "r": 0, "realisation": 0,
             "seed": BASE_SEED, "M": 10, "N": 8, "Ku": 3, "G": 2, "Kg": 2, "se_min": SE_MIN, "n_max": N_MAX_CASE,
             "w_u": 1.0, "w_mc": 1.0, "methods": ["epa-ras", "apg"]}]


#: Table II sizes (M, N, K_u, G, K_g): the seed lost them; ours grow to ≥ 100 APs with 20 users at --full
TABLE2_SIZES = {False: ((10, 4, 2, 1, 2), (20, 4, 4, 2, 2), (30, 4, 4, 2, 3)),
                True: ((20, 4, 4, 2, 3), (50, 4, 6, 2, 4), (100, 4, 10, 2, 5))}


def table2_tasks(full: bool):
    out = []
    for i, (m, n, ku, g, kg) in enumerate(TABLE2_SIZES[full]):
        for r in range(3 if full else 2):
            out.append({"figure": "multicast-table2", "x": "size", "x_value": i, "precoding": "mr", "r": r,
                        "realisation": r, "seed": BASE_SEED + r, "M": m, "N": n, "Ku": ku, "G": g, "Kg": kg,
                        "se_min": SE_MIN, "w_u": 1.0, "w_mc": 1.0, "methods": ["apg", "sca"]})
    return out


# --------------------------------------------------------------------------------------------- summaries
def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (series, x value): runs, scored runs, infeasible runs, mean / median / 10th percentile SSE over the
    scored runs, median wall time; Fig. 8 rows (per user, association) are summarised per user."""
    out = []
    keys = sorted({(r.get("series"), r.get("x"), r.get("x_value")) for r in rows
                   if r.get("x") not in ("user", "assoc") and r.get("series") is not None},
                  key=lambda k: (str(k[0]), str(k[1]), float(k[2]) if isinstance(k[2], (int, float)) else 0))
    for series, x, xv in keys:
        rs = [r for r in rows if r.get("series") == series and r.get("x") == x and r.get("x_value") == xv]
        sse = np.array([r["sse_bps_hz"] for r in rs if r.get("sse_bps_hz") not in (None, "")], dtype=float)
        row = {"series": series, "x": x, "x_value": xv, "runs": len(rs), "scored": int(sse.size),
               "infeasible": sum(r.get("status") == "infeasible" for r in rs),
               "other_status": sum(r.get("status") not in SCORED + ("infeasible",) for r in rs),
               "median_wall_time_s": float(np.median([r["wall_time_s"] for r in rs if r.get("wall_time_s")
                                                      not in (None, "")] or [np.nan]))}
        if sse.size:
            row.update(sse_mean_bps_hz=float(sse.mean()), sse_median_bps_hz=float(np.median(sse)),
                       sse_p10_bps_hz=float(np.percentile(sse, 10)))
        out.append(row)
    for r in rows:
        if r.get("x") == "user":
            out.append({"series": r["series"], "x": "user", "x_value": r["x_value"], "label": r.get("label"),
                        "se_bps_hz": r["se_bps_hz"]})
    return out


def paired_ratio(rows: list[dict[str, Any]], method: str, other: str, **match: Any) -> dict[str, float]:
    """Per-setup SSE ratio ``method`` / ``other`` on the same instances (both scored), matched on ``match``:
    mean, median, min and count."""
    def key(r):
        return (r.get("x_value"), r.get("precoding"), r.get("seed"), r.get("w_mc"))

    sel = [r for r in rows if all(r.get(k) == v for k, v in match.items()) and r.get("sse_bps_hz")
           not in (None, "")]
    a = {key(r): r["sse_bps_hz"] for r in sel if r.get("method") == method}
    b = {key(r): r["sse_bps_hz"] for r in sel if r.get("method") == other}
    q = np.array([a[k] / b[k] for k in a if k in b and b[k] > 0], dtype=float)
    if not q.size:
        return {"n": 0}
    return {"n": int(q.size), "mean": float(q.mean()), "median": float(np.median(q)), "min": float(q.min())}


def _register() -> None:
    from experiments.papers.multicast import plots

    specs = (
        ("multicast-fig2", "paper 001 Fig. 2: CDF of the SSE, APG vs EPA-RAS / OPA-RAS, MR and ZF, two weightings",
         fig2_tasks, run_task, plots.plot_cdf),
        ("multicast-fig3", "paper 001 Fig. 3: SSE vs number of APs M (APG, MR and ZF)", fig3_tasks, run_task,
         plots.plot_sweep),
        ("multicast-fig4", "paper 001 Fig. 4: SSE vs antennas per AP N (APG, MR and ZF)", fig4_tasks, run_task,
         plots.plot_sweep),
        ("multicast-fig5", "paper 001 Fig. 5: SSE vs multicast users, with the QoS failures", fig5_tasks,
         run_task, plots.plot_sweep),
        ("multicast-fig6", "paper 001 Fig. 6: SSE vs unicast users (ZF; APG, OPA-RAS, EPA-RAS)", fig6_tasks,
         run_task, plots.plot_sweep),
        ("multicast-fig7", "paper 001 Fig. 7: APG (Algorithm 1) vs SCA (Algorithm 2), SSE vs M", fig7_tasks,
         run_task, plots.plot_sweep),
        ("multicast-fig8", "paper 001 Fig. 8: per-user SE and association matrices, EPA-RAS vs APG (ZF)",
         fig8_tasks, run_case_task, plots.plot_case),
        ("multicast-table2", "paper 001 Table II: APG vs SCA run time at three sizes (MR)", table2_tasks,
         run_task, plots.plot_times),
    )
    for name, desc, tasks, runner, plot in specs:
        register_figure(Figure(name, desc, tasks, runner, summarise, plot))


_register()
