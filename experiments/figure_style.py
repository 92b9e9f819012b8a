"""Line styles shared by the reproduced figures (:mod:`experiments.papers.uplink_ee.figures`, :mod:`experiments.papers.iot.figures`).

:data:`STYLE_CYCLE` holds 40 pairwise-distinct (colour, linestyle, marker) combinations; :func:`distinct_styles`
gives every series of one axes its own combination, honouring a figure's semantic choice (e.g. colour = power
control, linestyle = estimator) where that choice is still free, so no two series of a plot look alike.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

__all__ = ["STYLE_CYCLE", "distinct_styles", "style_key"]

_COLOURS = [f"C{i}" for i in range(10)]
_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
_LINESTYLES = ["-", "--", ":", "-."]

#: i -> (C{i mod 10}, marker i mod 8, linestyle ⌊i/10⌋ mod 4): (i mod 10, i mod 8) fixes i mod 40, so all 40 differ
STYLE_CYCLE: list[dict[str, str]] = [
    {"color": _COLOURS[i % 10], "linestyle": _LINESTYLES[(i // 10) % 4], "marker": _MARKERS[i % 8]}
    for i in range(40)]


def style_key(style: dict[str, Any]) -> tuple:
    return (style.get("color"), style.get("linestyle"), style.get("marker"))


def distinct_styles(series: Iterable[str], preferred: Callable[[str], dict[str, Any] | None] | None = None
                    ) -> dict[str, dict[str, Any]]:
    """``series`` -> ``{"color", "linestyle", "marker"}``, pairwise distinct as (colour, linestyle, marker) triples.

    ``preferred(series)`` may return a partial style (the figure's semantics); the rest is filled from
    :data:`STYLE_CYCLE`. When the preferred style is already taken, the marker is freed first, then the linestyle,
    then the colour, until an unused combination is found."""
    used: set[tuple] = set()
    out: dict[str, dict[str, Any]] = {}
    for s in series:
        want = dict((preferred(s) if preferred else None) or {})
        relaxed = [want, {k: v for k, v in want.items() if k != "marker"},
                   {k: v for k, v in want.items() if k == "color"}, {}]
        chosen = next((cand for w in relaxed for c in STYLE_CYCLE
                       for cand in ({**c, **w},) if style_key(cand) not in used), None)
        if chosen is None:
            raise ValueError(f"more than {len(STYLE_CYCLE)} series on one axes")
        used.add(style_key(chosen))
        out[s] = chosen
    return out
