"""The house rules of DESIGN.md §1 (issue 11), checked on the syntax tree (``ast``), not by grep:

* physics stays home: no rate or SE is computed outside models/ — no ``numpy.log2`` / ``numpy.log1p`` /
  ``math.log2`` / ``math.log1p`` (under any alias, or imported by name) under formulations/, solvers_adapters/ or
  experiments/;
* no file over 400 lines in the packages, except the solver infrastructure (the NLP compiler and the adapters);
* no function (``def``/``async def``, methods and nested functions included) over 80 lines;
* one clock: under solvers_adapters/ only :class:`solvers_adapters.algorithms.loop.Clock` reads the time
  (no ``time.perf_counter`` / ``time.time`` / ``time.monotonic`` bookkeeping elsewhere).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("models", "formulations", "solvers_adapters", "instances", "experiments")
PHYSICS_FREE = ("formulations", "solvers_adapters", "experiments")
#: the solver infrastructure, exempt from the file-size rule (not from the function-size rule)
BIG_FILES_OK = {f"solvers_adapters/{n}.py" for n in ("nlp_compiler", "highs", "scip", "ipopt", "base", "_pyomo_common")}
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 80
#: module -> the functions that compute a rate or SE from a SINR
RATE_FUNCTIONS = {"numpy": {"log2", "log1p"}, "math": {"log2", "log1p"}}


def _files(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (ROOT / pkg).rglob("*.py") if "__pycache__" not in p.parts)


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def rate_calls(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, dotted name) of every use of a rate function: ``np.log2(...)`` with ``np`` any alias of numpy (or
    math), ``numpy.log1p``, and names imported from them (``from numpy import log2 as lg``)."""
    modules: dict[str, str] = {}      # local name -> module ("numpy" / "math")
    direct: dict[str, str] = {}       # local name -> "module.function"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                root = a.name.split(".")[0]
                if root in RATE_FUNCTIONS:
                    modules[a.asname or root] = root
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in RATE_FUNCTIONS:
            root = node.module.split(".")[0]
            for a in node.names:
                if a.name in RATE_FUNCTIONS[root]:
                    direct[a.asname or a.name] = f"{root}.{a.name}"
    hits = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Name) and f.id in direct:
            hits.append((node.lineno, direct[f.id]))
        elif isinstance(f, ast.Attribute) and f.attr in {"log2", "log1p"}:
            base = f.value
            while isinstance(base, ast.Attribute):       # numpy.emath.log2, np.ma.log2, ...
                base = base.value
            if isinstance(base, ast.Name) and base.id in modules and f.attr in RATE_FUNCTIONS[modules[base.id]]:
                hits.append((node.lineno, f"{modules[base.id]}.{f.attr}"))
    return hits


def clock_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, name) of every read of the wall clock: ``time.perf_counter()`` (any alias of time) or a function
    imported from time by name."""
    clocks = {"perf_counter", "perf_counter_ns", "time", "time_ns", "monotonic", "monotonic_ns"}
    aliases = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
               if a.name == "time"}
    direct = {a.asname or a.name: a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
              and n.module == "time" for a in n.names if a.name in clocks}
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in direct:
                hits.append((node.lineno, f"time.{direct[f.id]}"))
            elif (isinstance(f, ast.Attribute) and f.attr in clocks and isinstance(f.value, ast.Name)
                  and f.value.id in aliases):
                hits.append((node.lineno, f"time.{f.attr}"))
    return hits


def long_functions(tree: ast.AST, limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, int, int]]:
    """(qualified name, first line, length) of every function longer than ``limit`` lines (decorators excluded)."""
    out = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                n = child.end_lineno - child.lineno + 1
                if n > limit:
                    out.append((name, child.lineno, n))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return out


def test_no_rate_or_se_computed_outside_models():
    bad = [f"{_rel(p)}:{line}: {name}" for p in _files(*PHYSICS_FREE) for line, name in rate_calls(_tree(p))]
    assert not bad, "rates/SE belong in models/ (cite the equation there):\n" + "\n".join(bad)


def test_no_file_over_400_lines():
    bad = []
    for p in _files(*PACKAGES):
        n = len(p.read_text(encoding="utf-8").splitlines())
        if n > MAX_FILE_LINES and _rel(p) not in BIG_FILES_OK:
            bad.append(f"{_rel(p)}: {n} lines")
    assert not bad, f"files over {MAX_FILE_LINES} lines:\n" + "\n".join(bad)


def test_no_function_over_80_lines():
    bad = [f"{_rel(p)}:{line}: {name} ({n} lines)" for p in _files(*PACKAGES) for name, line, n in
           long_functions(_tree(p))]
    assert not bad, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(bad)


def test_one_clock_in_solvers_adapters():
    clock = ROOT / "solvers_adapters" / "algorithms" / "loop.py"
    bad = [f"{_rel(p)}:{line}: {name}" for p in _files("solvers_adapters") if p != clock
           for line, name in clock_reads(_tree(p))]
    assert not bad, "time is measured with solvers_adapters.algorithms.loop.Clock:\n" + "\n".join(bad)


# ----------------------------------------------------------------------------------------- the checkers themselves
@pytest.mark.parametrize("src,found", [
    ("import numpy as np\nnp.log2(1 + s)", ["numpy.log2"]),
    ("import numpy\nnumpy.log1p(s)", ["numpy.log1p"]),
    ("import math as m\nm.log2(x)", ["math.log2"]),
    ("from numpy import log2 as lg\nlg(x)", ["numpy.log2"]),
    ("from math import log1p\nlog1p(x)", ["math.log1p"]),
    ("import numpy as xp\nxp.emath.log2(x)", ["numpy.log2"]),
    ("import numpy as np\nnp.log(x); np.log10(x); math_log2 = 1", []),
    ("import pyomo.environ as pyo\npyo.log(1 + g)", []),
    ("class A:\n    def log2(self): ...\nA().log2()", []),
])
def test_rate_call_checker(src, found):
    assert [name for _, name in rate_calls(ast.parse(src))] == found


def test_long_function_checker():
    short = "def short():\n" + "\n".join(f"    x{i} = {i}" for i in range(79))          # 80 lines: allowed
    long = "class C:\n    async def long(self):\n" + "\n".join(f"        y{i} = {i}" for i in range(80))
    assert long_functions(ast.parse(short + "\n\n\n" + long)) == [("C.long", 84, 81)]


def test_clock_read_checker():
    src = ("import time as t\nfrom time import perf_counter as pc, sleep\nt.perf_counter(); pc(); t.sleep(1); "
           "sleep(1)\nimport datetime\ndatetime.time()")
    assert clock_reads(ast.parse(src)) == [(3, "time.perf_counter"), (3, "time.perf_counter")]
