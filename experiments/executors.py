"""The executors shared by ``cfopt sweep`` and ``cfopt reproduce``: local spawn worker processes that die with
their parent, or a Dask distributed cluster (:func:`execute`). Workers only compute; the caller's callbacks run in
the parent process (which alone writes any store)."""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable

from instances.errors import InputError

__all__ = ["execute"]


_PR_SET_PDEATHSIG = 1          # <linux/prctl.h>


def _die_with_parent(parent_pid: int, poll_s: float = 0.5) -> None:
    """Initializer of the local worker processes: a worker exits as soon as the sweep process that started it dies,
    however it dies (``kill -9`` included), instead of idling forever as an orphan.

    A worker blocks reading its task pipe, whose write end every sibling worker also holds, so it never sees EOF when
    the parent dies. Hence, on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` (the kernel kills the worker when the
    parent thread that spawned it exits), plus, everywhere, a daemon thread polling ``os.getppid()`` against the
    parent's pid (it changes when the worker is re-parented); it also covers a parent that died before the prctl
    call. The parent alone writes the store, so a worker killed mid-task loses only that task: a re-run resumes it.
    Once the parent and the workers are gone, multiprocessing's resource tracker reads EOF on its pipe, unlinks the
    named semaphores the parent left behind and exits on its own."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):   # pragma: no cover - no usable libc: the watchdog below still works
            pass
    if os.getppid() != parent_pid:          # the parent died before the prctl call took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="cfopt-parent-watchdog", daemon=True).start()


@contextlib.contextmanager
def _single_threaded_blas():
    """Worker processes inherit the environment: one BLAS thread each (the cores are shared by the workers)."""
    keys = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    old = {k: os.environ.get(k) for k in keys}
    for k in keys:
        os.environ.setdefault(k, "1")
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _payload(t) -> Any:
    """A sweep Task is sent as its dict (picklable, small); anything else as it is."""
    as_dict = getattr(t, "as_dict", None)
    return as_dict() if callable(as_dict) else t


def _run_local(pending: list, workers: int, on_row: Callable, on_lost: Callable, fn: Callable) -> None:
    if workers == 0:
        for t in pending:
            on_row(fn(_payload(t)))
        return
    queue = iter(pending)
    window = 2 * workers
    with _single_threaded_blas():
        pool = ProcessPoolExecutor(max_workers=min(workers, len(pending)),
                                   mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_die_with_parent, initargs=(os.getpid(),))
        try:
            inflight: dict[Any, Any] = {}
            broken = False

            def fill() -> None:
                while not broken and len(inflight) < window:
                    t = next(queue, None)
                    if t is None:
                        return
                    inflight[pool.submit(fn, _payload(t))] = t

            fill()
            while inflight:
                done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
                for f in done:
                    t = inflight.pop(f)
                    try:
                        row = f.result()
                    except BrokenProcessPool as exc:
                        broken = True
                        on_lost(t, exc)
                    except Exception as exc:   # pickling problems and the like: the task is not stored
                        on_lost(t, exc)
                    else:
                        on_row(row)
                fill()
            for t in queue if broken else ():
                on_lost(t, BrokenProcessPool("not started"))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


def _run_dask(pending: list, address: str, on_row: Callable, on_lost: Callable, fn: Callable) -> None:
    try:
        from dask.distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise InputError("--scheduler", f"needs dask[distributed] ({exc})") from None
    try:
        client = Client(address, timeout="20s", set_as_default=False)
    except Exception as exc:
        raise InputError("--scheduler", f"cannot connect to {address!r}: {type(exc).__name__}: {exc}") from None
    try:
        nthreads = sum(client.nthreads().values()) or 1
        window = max(2 * nthreads, 4)
        queue = iter(pending)
        futures: dict[str, Any] = {}

        def submit():
            t = next(queue, None)
            if t is None:
                return None
            f = client.submit(fn, _payload(t), pure=False)
            futures[f.key] = t
            return f

        first = [f for f in (submit() for _ in range(window)) if f is not None]
        ac = as_completed(first, loop=client.loop)     # (not the default client: set_as_default=False)
        for f in ac:
            t = futures.pop(f.key)
            try:
                row = f.result()
            except Exception as exc:   # KilledWorker, a lost connection...: the task is not stored
                on_lost(t, exc)
            else:
                on_row(row)
            f.release()
            nxt = submit()
            if nxt is not None:
                ac.add(nxt)
    finally:
        client.close()


def execute(items: list, fn: Callable, *, on_result: Callable, on_lost: Callable, workers: int | None = None,
            scheduler: str | None = None) -> None:
    """Run the module-level function ``fn`` on every picklable ``items[i]`` with the engine's executors — local spawn
    workers (``workers``, default the number of cores; 0 = in this process) or the Dask cluster at ``scheduler`` —
    calling ``on_result(value)`` in this process for each finished item and ``on_lost(item, exc)`` for an item whose
    worker died. Used by :func:`run_sweep` (``fn`` = :func:`run_task`) and by ``cfopt reproduce``."""
    items = list(items)
    if not items:
        return
    if scheduler is not None:
        _run_dask(items, scheduler, on_result, on_lost, fn)
    else:
        _run_local(items, (os.cpu_count() or 1) if workers is None else workers, on_result, on_lost, fn)
