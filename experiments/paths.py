"""Output paths checked before any work starts (``--out``, ``--plot``, ``--db``, ``--csv``, ...).

:func:`check_writable` raises ``InputError(field, ...)`` when a file could not be written at ``path``, so a command
refuses a bad output path at once instead of crashing after computing everything. It never creates anything.
"""
from __future__ import annotations

import os
from pathlib import Path

from instances.errors import InputError

__all__ = ["check_writable"]


def check_writable(path: str | os.PathLike, field: str, *, directory: bool = False) -> Path:
    """``Path(path)``, after checking that a file (or, with ``directory=True``, a directory) can be written there.

    The target, if it exists, must be a writable regular file (a writable directory when ``directory``); else the
    nearest existing ancestor must be a directory in which this process may create entries (the missing parents
    are created later by the writer). Raises ``InputError(field, ...)`` naming the path and the reason.
    """
    text = os.fspath(path)
    if not str(text).strip():
        raise InputError(field, "empty path")
    p = Path(text)
    what = "directory" if directory else "file"
    if p.exists():
        if directory:
            if not p.is_dir():
                raise InputError(field, f"cannot write into {p}: it is not a directory")
            if not os.access(p, os.W_OK | os.X_OK):
                raise InputError(field, f"cannot write into {p}: permission denied")
        else:
            if p.is_dir():
                raise InputError(field, f"cannot write {p}: it is a directory")
            if not os.access(p, os.W_OK):
                raise InputError(field, f"cannot write {p}: permission denied")
        return p
    parent = p.absolute().parent
    while not parent.exists():
        if parent.is_symlink():  # a dangling link: writing through it would fail
            raise InputError(field, f"cannot create {p}: {parent} is a broken symbolic link")
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(field, f"cannot create {what} {p}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(field, f"cannot create {what} {p}: no permission to write in {parent}")
    return p


def check_time_limit_arg(seconds) -> None:
    """A command's ``--time-limit``: None or positive seconds; InputError('--time-limit') otherwise."""
    if seconds is not None and not seconds > 0:
        raise InputError("--time-limit", f"must be positive seconds, got {seconds}")
