"""Tidy CSV output shared by ``cfopt results``, ``cfopt reproduce`` and ``cfopt pareto``."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterable

__all__ = ["write_csv"]


def write_csv(rows: list[dict[str, Any]], path: Path, first: Iterable[str] = ()) -> None:
    """Tidy CSV: columns ``first``, then every other key in order of appearance; None is an empty cell."""
    keys = list(first)
    for r in rows:
        keys += [k for k in r if k not in keys]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in keys})
