"""Test-session setup: single-threaded BLAS. The batched LSFD solves are small; on a loaded 2-core machine
multi-threaded OpenBLAS makes them many times slower (set before any test module imports numpy)."""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
