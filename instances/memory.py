"""Memory guard for the generators: refuse sizes whose arrays could not be allocated, before allocating them.

:func:`available_bytes` is the memory this process may still use (``psutil`` when importable, else
``os.sysconf``; capped by a cgroup limit when one is set). :func:`check_fits` raises
``InputError(field, "... would need ~X GiB ..., more than the Y GiB available")`` when an estimate exceeds it.
"""
from __future__ import annotations

import os
from pathlib import Path

from instances.errors import InputError

GIB = 2.0 ** 30


def _cgroup_room() -> float | None:
    """Bytes left under this process's cgroup memory limit (v2 ``memory.max`` or v1), or None when unlimited."""
    for limit_f, usage_f in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                             ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                              "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            limit = Path(limit_f).read_text().strip()
            usage = int(Path(usage_f).read_text().strip())
        except (OSError, ValueError):
            continue
        if not limit.isdigit() or int(limit) >= 2 ** 60:   # "max" or the v1 "no limit" sentinel
            return None
        return max(float(int(limit) - usage), 0.0)
    return None


def available_bytes() -> float:
    """Memory still available to this process, in bytes (inf if it cannot be determined)."""
    avail = float("inf")
    try:
        import psutil

        avail = float(psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001 - psutil missing or unsupported platform
        try:
            avail = float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    room = _cgroup_room()
    return avail if room is None else min(avail, room)


def fmt_gib(nbytes: float) -> str:
    """``nbytes`` in GiB, 3 significant digits (``1.5e+13 GiB`` for absurd sizes)."""
    return f"{nbytes / GIB:.3g} GiB"


def fmt_count(n: int) -> str:
    """An integer for a message: its digits, or ``~10^400`` when it is absurdly long."""
    text = str(n)
    return text if len(text) <= 18 else f"~10^{len(text.lstrip('-')) - 1}"


def check_fits(field: str, nbytes: float, what: str) -> None:
    """InputError naming ``field`` when ``nbytes`` (an estimate of the arrays ``what`` allocates) exceeds
    :func:`available_bytes`."""
    avail = available_bytes()
    if nbytes > avail:
        raise InputError(field, f"{what} would need ~{fmt_gib(nbytes)} of memory, more than the "
                                f"{fmt_gib(avail)} available")
