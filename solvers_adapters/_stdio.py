"""Native solver output never reaches our stdout (DESIGN.md §1 solvers_adapters, §2 Command line).

HiGHS, SCIP and Ipopt are C/C++ libraries that write to the process's file descriptor 1 directly, bypassing Python's
``sys.stdout``: highspy 1.16 prints a two-line banner from its ``Highs()`` constructor before ``output_flag=False``
can act, so setting solver options alone cannot keep ``--json`` clean. :func:`native_stdout_to_stderr` points fd 1 at
fd 2 for the duration of a block (construction *and* solve), so whatever a native library prints lands on stderr,
whatever the solver versions. Python-level ``print`` is unaffected when ``sys.stdout`` is the real stdout: it is
rebound to a duplicate of the original descriptor for the block.

The guard is re-entrant (nested blocks are no-ops) and process-wide, as file descriptors are; a lock serialises the
swap itself.
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


@contextlib.contextmanager
def native_stdout_to_stderr() -> Iterator[None]:
    """Within the block, C-level writes to fd 1 go to fd 2; Python's ``sys.stdout`` still reaches the real stdout."""
    global _depth
    with _lock:
        _depth += 1
        if _depth > 1:
            outer = True
        else:
            outer = False
            saved_fd = None
            saved_stream = None
            try:
                sys.stdout.flush()
            except (AttributeError, OSError, ValueError):
                pass
            _c_fflush()
            try:
                saved_fd = os.dup(1)
                os.dup2(2, 1)
            except OSError:  # no fd 1 or fd 2 (embedded interpreter): nothing to guard
                if saved_fd is not None:
                    os.close(saved_fd)
                saved_fd = None
            if saved_fd is not None and _fileno(sys.stdout) == 1:
                # keep Python's own prints on the real stdout, through a duplicate of the original descriptor
                saved_stream = sys.stdout
                sys.stdout = io.TextIOWrapper(os.fdopen(os.dup(saved_fd), "wb", buffering=0),
                                              encoding=getattr(saved_stream, "encoding", None) or "utf-8",
                                              errors=getattr(saved_stream, "errors", None) or "strict",
                                              line_buffering=True, write_through=True)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if not outer:
                if saved_stream is not None:
                    try:
                        sys.stdout.flush()
                        sys.stdout.close()
                    finally:
                        sys.stdout = saved_stream
                if saved_fd is not None:
                    _c_fflush()
                    try:
                        os.dup2(saved_fd, 1)
                    finally:
                        os.close(saved_fd)
