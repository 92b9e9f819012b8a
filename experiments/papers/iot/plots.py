"""Plots of the paper-003 figures (:mod:`experiments.papers.iot.figures`): empirical CDFs per series with semantic,
pairwise distinct styles."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_thr", "plot_ee", "cdf_axes"]


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


def cdf_axes(ax, rows, *, key: str, x_filter: str, xlabel: str, title: str, log: bool = True) -> None:
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


def plot_thr(title):
    def plot(rows, summary, path: Path, full: bool) -> None:
        fig, ax = _figure(1)
        cdf_axes(ax[0, 0], rows, key="throughput_mbps", x_filter="thing",
                  xlabel="per-thing net throughput [Mbit/s]",
                  title=title + _setups_note(rows, full))
        _save(fig, path)
    return plot


def plot_ee(rows, summary, path: Path, full: bool) -> None:
    fig, ax = _figure(2)
    red = _setups_note(rows, full)
    cdf_axes(ax[0, 0], rows, key="ee_mbit_per_j", x_filter="ee", xlabel="uplink EE (11) per setup [Mbit/J]",
              title="iot-fig3: Σ_k S_k / Σ_k η_k p̄, M=100, K=40, τp=20, 10 mW" + red)
    cdf_axes(ax[0, 1], rows, key="ee_thing_mbit_per_j", x_filter="thing",
              xlabel="per-thing EE S_k / (η_k p̄) [Mbit/J]", title="iot-fig3: per-thing energy efficiency" + red)
    _save(fig, path)

