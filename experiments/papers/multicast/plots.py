"""Plots of the paper-001 figures (:mod:`experiments.papers.multicast.figures`): SSE CDFs, SSE sweeps (mean over the
scored setups, with the share of infeasible setups written next to each point that has any), the Fig. 8 case study
(per-user SE bars and association matrices) and the Table II run times. Every series gets a distinct style
(:func:`experiments.figure_style.distinct_styles`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_cdf", "plot_sweep", "plot_case", "plot_times"]

_COLOURS = {"apg": "C0", "sca": "C3", "opa-ras": "C2", "epa-ras": "C1"}
_LINES = {" MR": "--", " ZF": "-"}


def _style(series: str) -> dict[str, Any]:
    method = series.split(" ")[0]
    style = {"color": _COLOURS.get(method)}
    style["linestyle"] = next((v for k, v in _LINES.items() if k in series), None)
    if "w=" in series:
        style["marker"] = "o" if series.endswith("(1,1)") else "s"
    return {k: v for k, v in style.items() if v is not None}


def _figure(n: int, width: float = 6.5):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(1, n, figsize=(width * n, 4.6), squeeze=False)


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def _note(rows, full: bool) -> str:
    n = len({r.get("realisation") for r in rows if r.get("realisation") not in (None, "")})
    return f" ({n} setups{'' if full else ', reduced run'})"


def _scored(rows):
    return [r for r in rows if r.get("sse_bps_hz") not in (None, "")]


def plot_cdf(rows, summary, path: Path, full: bool) -> None:
    """Fig. 2: one panel per precoding, an empirical CDF of the SSE per (method, weighting)."""
    from experiments.figure_style import distinct_styles

    fig, axes = _figure(2)
    for ax, prec in zip(axes[0], ("mr", "zf")):
        rs = [r for r in _scored(rows) if r.get("precoding") == prec]
        series = sorted({r["series"] for r in rs})
        styles = distinct_styles(series, _style)
        for s in series:
            v = np.sort([r["sse_bps_hz"] for r in rs if r["series"] == s])
            ax.plot(v, np.arange(1, v.size + 1) / v.size, label=s, lw=1.4, ms=4, markevery=0.2, **styles[s])
        bad = sum(1 for r in rows if r.get("precoding") == prec and r.get("sse_bps_hz") in (None, ""))
        ax.set_title(f"multicast-fig2 ({prec.upper()}){_note(rows, full)}" + (f", {bad} runs unscored" if bad
                                                                                else ""), fontsize=9)
        ax.set_xlabel("weighted SSE [bit/s/Hz]")
        ax.set_ylabel("CDF")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    _save(fig, path)


def plot_sweep(rows, summary, path: Path, full: bool) -> None:
    """SSE vs the swept quantity: mean over the scored setups per series; "k/n infeasible" next to a point with
    infeasible setups (Fig. 5's MR QoS failure)."""
    from experiments.figure_style import distinct_styles

    fig, axes = _figure(1, 7.5)
    ax = axes[0, 0]
    summ = [s for s in summary if s.get("x") not in ("user", None)]
    series = sorted({s["series"] for s in summ})
    styles = distinct_styles(series, _style)
    for name in series:
        pts = sorted((s for s in summ if s["series"] == name), key=lambda s: float(s["x_value"]))
        xs = [float(s["x_value"]) for s in pts if s.get("sse_mean_bps_hz") not in (None, "")]
        ys = [float(s["sse_mean_bps_hz"]) for s in pts if s.get("sse_mean_bps_hz") not in (None, "")]
        ax.plot(xs, ys, label=name, lw=1.4, ms=5, **styles[name])
        for s in pts:
            if s.get("infeasible"):
                y = s.get("sse_mean_bps_hz")
                ax.annotate(f"{s['infeasible']}/{s['runs']} infeasible", (float(s["x_value"]),
                            float(y) if y not in (None, "") else 0.0), fontsize=7, color=styles[name]["color"])
    x = next((s["x"] for s in summ), "x")
    figname = next((r.get("figure") for r in rows if r.get("figure")), "")
    ax.set_xlabel(str(x))
    ax.set_ylabel("mean weighted SSE [bit/s/Hz]")
    ax.set_title(f"{figname}{_note(rows, full)}", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    _save(fig, path)


def plot_case(rows, summary, path: Path, full: bool) -> None:
    """Fig. 8: per-user SE bars of each method, then each method's association matrix (APs × streams)."""
    methods = [m for m in ("epa-ras", "apg") if any(r.get("method") == m and r.get("x") == "user" for r in rows)]
    fig, axes = _figure(1 + len(methods), 5.0)
    ax = axes[0, 0]
    for j, m in enumerate(methods):
        us = sorted((r for r in rows if r.get("method") == m and r.get("x") == "user"),
                    key=lambda r: int(r["x_value"]))
        tot = next((r["sse_bps_hz"] for r in rows if r.get("method") == m and r.get("x") == "total"), None)
        ax.bar(np.arange(len(us)) + 0.4 * j - 0.2, [r["se_bps_hz"] for r in us], width=0.4,
               label=f"{m} (SSE {float(tot):.2f})" if tot not in (None, "") else m, color=_COLOURS[m])
        ax.set_xticks(np.arange(len(us)), [r.get("label", "") for r in us], rotation=60, fontsize=7)
    ax.set_ylabel("SE [bit/s/Hz]")
    ax.set_title("multicast-fig8: per-user SE (ZF)", fontsize=9)
    ax.legend(fontsize=7)
    for ax, m in zip(axes[0, 1:], methods):
        cells = [r for r in rows if r.get("method") == m and r.get("x") == "assoc"]
        a = np.zeros((1 + max(int(r["ap"]) for r in cells), 1 + max(int(r["stream"]) for r in cells)))
        for r in cells:
            a[int(r["ap"]), int(r["stream"])] = float(r["a"])
        ax.imshow(a, cmap="Greys", vmin=0, vmax=1, aspect="auto")
        ku = next((int(r["Ku"]) for r in rows if r.get("x") == "total" and r.get("Ku") not in (None, "")), 0)
        ax.set_xticks(np.arange(a.shape[1]), [f"UE{s + 1}" if s < ku else f"G{s - ku + 1}"
                                              for s in range(a.shape[1])], fontsize=7)
        ax.set_xlabel("stream (unicast users, then groups); black = served")
        ax.set_ylabel("AP")
        ax.set_title(f"association matrix, {m}", fontsize=9)
    _save(fig, path)


def plot_times(rows, summary, path: Path, full: bool) -> None:
    """Table II: median wall time of APG and SCA per size (log scale), with the time ratio."""
    fig, axes = _figure(1, 7.0)
    ax = axes[0, 0]
    sizes = sorted({int(r["x_value"]) for r in rows if r.get("x_value") not in (None, "")})
    med = {}
    for j, m in enumerate(("apg", "sca")):
        t = [float(np.median([r["wall_time_s"] for r in rows if r.get("method") == m
                              and int(r.get("x_value", -1)) == i] or [np.nan])) for i in sizes]
        med[m] = t
        ax.bar(np.arange(len(sizes)) + 0.4 * j - 0.2, t, width=0.4, label=m, color=_COLOURS[m])
    labels = []
    for k, i in enumerate(sizes):
        r = next(r for r in rows if int(r.get("x_value", -1)) == i)
        ratio = med["sca"][k] / med["apg"][k] if med["apg"][k] else float("nan")
        labels.append(f"M={r['M']} N={r['N']}\nKu={r['Ku']} G={r['G']} Kg={r['Kg']}\nSCA/APG {ratio:.1f}×")
    ax.set_xticks(np.arange(len(sizes)), labels, fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("median wall time [s]")
    ax.set_title(f"multicast-table2: APG vs SCA run time (MR){_note(rows, full)}", fontsize=9)
    ax.legend(fontsize=7)
    _save(fig, path)
