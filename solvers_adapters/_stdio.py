"""Native solver output never reaches our stdout (DESIGN.md §1 solvers_adapters, §2 Command line).

HiGHS, SCIP and Ipopt are C/C++ libraries that write to the process's file descriptor 1 directly, bypassing Python's
``sys.stdout``: highspy 1.16 prints a two-line banner from its ``Highs()`` constructor before ``output_flag=False``
can act, so setting solver options alone cannot keep ``--json`` clean. :func:`native_stdout_to_stderr` points fd 1 at
fd 2 for the duration of a block (construction *and* solve), so whatever a native library prints lands on stderr,
whatever the solver versions. Python-level ``print`` is unaffected when ``sys.stdout`` is the real stdout: it is
rebound to a duplicate of the original descriptor for the block.

The guard is re-entrant and thread-safe: nested or concurrent blocks share one swap, undone when the last one ends;
it is process-wide, as file descriptors are, and a lock serialises the swap itself.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
from typing import Iterator

_lock = threading.RLock()
_depth = 0


def _c_fflush() -> None:
    """Flush the C library's stdio buffers: with fd 1 a pipe, libc buffers a native library's ``printf`` and would
    write it after the descriptor is restored."""
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):  # no libc symbol table (non-POSIX): nothing buffered we can reach
        pass


def _fileno(stream) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


#: what the outermost block saved (restored when the last block, in whichever thread, ends)
_saved_fd: int | None = None
_saved_stream = None


def _enter() -> None:
    global _saved_fd, _saved_stream
    try:
        sys.stdout.flush()
    except (AttributeError, OSError, ValueError):
        pass
    _c_fflush()
    try:
        _saved_fd = os.dup(1)
    except OSError:  # no fd 1 (embedded interpreter): nothing to guard
        _saved_fd = None
        return
    try:
        os.dup2(2, 1)
    except OSError:
        os.close(_saved_fd)
        _saved_fd = None
        return
    if _fileno(sys.stdout) == 1:
        # keep Python's own prints on the real stdout, through a duplicate of the original descriptor
        _saved_stream = sys.stdout
        sys.stdout = io.TextIOWrapper(os.fdopen(os.dup(_saved_fd), "wb", buffering=0),
                                      encoding=getattr(_saved_stream, "encoding", None) or "utf-8",
                                      errors=getattr(_saved_stream, "errors", None) or "strict",
                                      line_buffering=True, write_through=True)


def _leave() -> None:
    global _saved_fd, _saved_stream
    if _saved_stream is not None:
        try:
            sys.stdout.flush()
            sys.stdout.close()
        finally:
            sys.stdout, _saved_stream = _saved_stream, None
    if _saved_fd is not None:
        _c_fflush()
        try:
            os.dup2(_saved_fd, 1)
        finally:
            os.close(_saved_fd)
            _saved_fd = None


@contextlib.contextmanager
def native_stdout_to_stderr() -> Iterator[None]:
    """Within the block, C-level writes to fd 1 go to fd 2; Python's ``sys.stdout`` still reaches the real stdout.
    Nested and concurrent blocks share one swap: fd 1 is restored when the last of them ends."""
    global _depth
    with _lock:
        _depth += 1
        if _depth == 1:
            try:
                _enter()
            except BaseException:
                _depth -= 1
                raise
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _leave()
