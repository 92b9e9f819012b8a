"""Study files for ``cfopt sweep`` / ``cfopt results``: a TOML file naming a problem, an instance generator with
fixed parameters, a parameter grid, Monte Carlo realisations and the methods to run.

Example (``studies/iot_uplink_small.toml``)::

    name = "iot-uplink-small"          # identifies the rows in the store (required)
    problem = "iot-uplink-maxmin"      # a registered problem id (required)
    methods = ["bisection", "fixed-point", "full-power"]   # method names of that problem (required)
    realisations = 3                   # Monte Carlo instance realisations per grid point, >= 1 (required)
    base_seed = 7                      # every instance seed derives from it, >= 0 (required)
    # time_limit = 60.0                # seconds per task, passed to every method (optional)
    # modules = ["my_package.my_problems"]   # imported first, in the parent and every worker (optional)
    # description = "..."              # free text (optional)

    [generator]                        # the instance generator (required)
    scenario = "rao2020"               # a key of instances.GENERATORS
    params = { tau_p = 4, area_km = 0.5 }   # fixed generator parameters

    [grid]                             # generator parameters that vary: each a non-empty list of scalars
    aps = [10, 20]
    users = [6]

    [options]                          # fixed options of every method (optional), e.g. estimator = "lmmse"
    [option_grid]                      # varying method options, each a non-empty list (optional)
    [method_options.bisection]         # fixed options of one method only (optional; override [options])

Generator parameters (``generator.params``, ``[grid]``) must be parameters of the scenario's generator, of the
types of its signature (:mod:`instances.params`; ``seed``, ``name`` are set by the sweep); method options go to
``[options]``, ``[option_grid]`` or ``[method_options.<method>]`` (``seed`` and ``time_limit`` are set by the sweep).
A grid point is one combination of ``[grid]`` and ``[option_grid]`` values; their names must differ.

A *task* is one instance realisation × one option-grid value × one method. Its key is the canonical JSON
``[study name, grid point, realisation, method]``. Seeds never depend on task order:

* the **instance seed** is a stable hash of ``base_seed``, the ``[grid]`` (generator) part of the grid point and the
  realisation index (:func:`instance_seed`), so every method and every option-grid value of a realisation sees the
  same instance, and adding grid values or realisations leaves the other tasks' seeds unchanged;
* the **method seed** (passed as ``seed=`` to randomised methods, recorded in the result) hashes the same key plus
  the method name.

Every problem with the study file raises :class:`~instances.errors.InputError` naming the field (``"problem"``,
``"realisations"``, ``"grid.apps"``, ``"generator.params.tau_p"``, ...); malformed TOML names ``"study"``.
"""
from __future__ import annotations

import hashlib
import importlib
import itertools
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from instances.errors import InputError

__all__ = ["Study", "Task", "load_study", "parse_study", "expand", "instance_seed", "method_seed", "task_key",
           "canonical_json", "import_modules"]

_TOP_KEYS = {"name", "description", "problem", "methods", "realisations", "base_seed", "time_limit", "modules",
             "generator", "grid", "options", "option_grid", "method_options"}
_GEN_KEYS = {"scenario", "params"}
#: method options the sweep sets itself
_RESERVED_OPTIONS = {"seed": "seeds derive from base_seed", "time_limit": "use the top-level time_limit"}
#: generator parameters the sweep sets itself
_RESERVED_PARAMS = {"seed": "seeds derive from base_seed", "name": "the sweep names instances"}


def canonical_json(x: Any) -> str:
    """JSON with sorted keys and no spaces: the stable text behind task keys and seeds."""
    return json.dumps(x, sort_keys=True, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class Task:
    """One unit of work (picklable; :meth:`as_dict` is what a worker receives)."""

    key: str
    study: str
    problem: str
    scenario: str
    gen_params: dict[str, Any]      # full generator parameters (fixed + grid values), without seed
    point: dict[str, Any]           # the grid point: [grid] and [option_grid] values
    realisation: int
    instance_seed: int
    method: str
    method_seed: int
    options: dict[str, Any]         # full method options (without seed / time_limit)
    time_limit: float | None
    modules: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Study:
    name: str
    problem: str
    methods: tuple[str, ...]
    realisations: int
    base_seed: int
    scenario: str
    params: dict[str, Any]
    grid: dict[str, list[Any]]
    options: dict[str, Any] = field(default_factory=dict)
    option_grid: dict[str, list[Any]] = field(default_factory=dict)
    method_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    time_limit: float | None = None
    modules: tuple[str, ...] = ()
    description: str = ""
    path: Path | None = None

    @property
    def default_db(self) -> Path:
        """``<study stem>.sqlite`` next to the study file (or in the working directory)."""
        if self.path is None:
            return Path(f"{self.name}.sqlite")
        return self.path.with_suffix(".sqlite")

    def grid_points(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(generator part, option part) of every grid point, in file order."""
        gk, ok = list(self.grid), list(self.option_grid)
        gen = [dict(zip(gk, vals)) for vals in itertools.product(*(self.grid[k] for k in gk))]
        opt = [dict(zip(ok, vals)) for vals in itertools.product(*(self.option_grid[k] for k in ok))]
        return [(g, o) for g in gen for o in opt]

    def method_opts(self, method: str) -> dict[str, Any]:
        return {**self.options, **self.method_options.get(method, {})}


# ---------------------------------------------------------------------------------------------------- seeds / keys
def _hash_words(obj: Any) -> list[int]:
    digest = hashlib.sha256(canonical_json(obj).encode()).digest()
    return [int.from_bytes(digest[i:i + 4], "little") for i in range(0, len(digest), 4)]


def _seed(base_seed: int, obj: Any) -> int:
    import numpy as np

    state = np.random.SeedSequence([int(base_seed), *_hash_words(obj)]).generate_state(1, np.uint64)
    return int(state[0]) >> 1          # 63 bits: fits SQLite's signed INTEGER


def instance_seed(base_seed: int, gen_point: dict[str, Any], realisation: int) -> int:
    """Seed of the instance of realisation ``realisation`` at generator grid point ``gen_point``: a stable hash
    (SHA-256 of the canonical JSON, fed to ``numpy.random.SeedSequence`` with ``base_seed``); never task order."""
    return _seed(base_seed, {"point": gen_point, "realisation": int(realisation)})


def method_seed(base_seed: int, gen_point: dict[str, Any], realisation: int, method: str) -> int:
    return _seed(base_seed, {"point": gen_point, "realisation": int(realisation), "method": method})


def task_key(study: str, point: dict[str, Any], realisation: int, method: str) -> str:
    return canonical_json([study, point, int(realisation), method])


def expand(study: Study) -> list[Task]:
    """Every task of ``study``: grid points (file order) × realisations × methods."""
    tasks = []
    for gen, opt in study.grid_points():
        point = {**gen, **opt}
        for r in range(study.realisations):
            s = instance_seed(study.base_seed, gen, r)
            for m in study.methods:
                tasks.append(Task(
                    key=task_key(study.name, point, r, m), study=study.name, problem=study.problem,
                    scenario=study.scenario, gen_params={**study.params, **gen}, point=point, realisation=r,
                    instance_seed=s, method=m, method_seed=method_seed(study.base_seed, gen, r, m),
                    options={**study.method_opts(m), **opt}, time_limit=study.time_limit, modules=study.modules))
    return tasks


# ---------------------------------------------------------------------------------------------------- validation
def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _scalar(x: Any) -> bool:
    return isinstance(x, (str, bool, int)) or (isinstance(x, float) and math.isfinite(x))


def _jsonable(x: Any) -> bool:
    if _scalar(x):
        return True
    if isinstance(x, list):
        return all(_jsonable(v) for v in x)
    if isinstance(x, dict):
        return all(isinstance(k, str) and _jsonable(v) for k, v in x.items())
    return False


def _table(data: dict, key: str, field_name: str) -> dict:
    v = data.get(key, {})
    if not isinstance(v, dict):
        raise InputError(field_name, f"expected a table, got {type(v).__name__}")
    return v


def _options(tbl: dict, where: str) -> dict[str, Any]:
    for k, v in tbl.items():
        if not k.isidentifier():
            raise InputError(f"{where}.{k}", "option names must be Python names")
        if k in _RESERVED_OPTIONS:
            raise InputError(f"{where}.{k}", f"set by the sweep ({_RESERVED_OPTIONS[k]})")
        if not _jsonable(v):
            raise InputError(f"{where}.{k}", f"unsupported value {v!r} (strings, numbers, booleans, lists, tables)")
    return dict(tbl)


def _grid(tbl: dict, where: str) -> dict[str, list[Any]]:
    out = {}
    for k, vals in tbl.items():
        if not isinstance(vals, list) or not vals:
            raise InputError(f"{where}.{k}", f"expected a non-empty list of values, got {vals!r}")
        for v in vals:
            if not _scalar(v):
                raise InputError(f"{where}.{k}", f"grid values must be strings, numbers or booleans, got {v!r}")
        if len({canonical_json(v) for v in vals}) != len(vals):
            raise InputError(f"{where}.{k}", f"repeated values in {vals!r}")
        out[k] = list(vals)
    return out


def import_modules(modules) -> None:
    """Import the study's ``modules`` (they may register problems); InputError('modules') when one fails."""
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:
            raise InputError("modules", f"cannot import {name!r}: {type(exc).__name__}: {exc}") from None


def parse_study(data: dict[str, Any], path: Path | None = None) -> Study:
    """Validate a parsed study table (see the module docstring) and return the :class:`Study`."""
    for k in data:
        if k not in _TOP_KEYS:
            raise InputError(k, f"unknown study field; known: {', '.join(sorted(_TOP_KEYS))}")
    for k in ("name", "problem", "methods", "realisations", "base_seed", "generator"):
        if k not in data:
            raise InputError(k, "missing (required study field)")
    name = data["name"]
    if not isinstance(name, str) or not name.strip():
        raise InputError("name", f"expected a non-empty string, got {name!r}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise InputError("description", "expected a string")
    modules = data.get("modules", [])
    if not isinstance(modules, list) or not all(isinstance(m, str) and m for m in modules):
        raise InputError("modules", f"expected a list of module names, got {modules!r}")
    import_modules(modules)
    problem, methods = _problem_and_methods(data)
    realisations, base_seed, time_limit = _counts(data)
    scenario, params, grid = _generator(data)
    options, option_grid, method_options = _study_options(data, methods, grid)
    _check_method_options(problem, methods, options, option_grid, method_options)
    return Study(name=name, problem=data["problem"], methods=tuple(methods), realisations=realisations,
                 base_seed=base_seed, scenario=scenario, params=dict(params), grid=grid, options=options,
                 option_grid=option_grid, method_options=method_options, time_limit=time_limit,
                 modules=tuple(modules), description=description, path=path)


def _problem_and_methods(data: dict[str, Any]):
    import experiments

    problem_id = data["problem"]
    if not isinstance(problem_id, str):
        raise InputError("problem", f"expected a problem id string, got {problem_id!r}")
    try:
        problem = experiments.get_problem(problem_id)
    except InputError as exc:
        raise InputError("problem", exc.message) from None
    methods = data["methods"]
    if not isinstance(methods, list) or not methods or not all(isinstance(m, str) for m in methods):
        raise InputError("methods", f"expected a non-empty list of method names, got {methods!r}")
    if len(set(methods)) != len(methods):
        raise InputError("methods", f"repeated method in {methods!r}")
    for m in methods:
        try:
            problem.method(m)
        except InputError as exc:
            raise InputError("methods", exc.message) from None
    return problem, methods


def _counts(data: dict[str, Any]) -> tuple[int, int, float | None]:
    realisations = data["realisations"]
    if not _is_int(realisations) or realisations < 1:
        raise InputError("realisations", f"expected a positive integer, got {realisations!r}")
    base_seed = data["base_seed"]
    if not _is_int(base_seed) or base_seed < 0:
        raise InputError("base_seed", f"expected a non-negative integer, got {base_seed!r}")
    time_limit = data.get("time_limit")
    if time_limit is not None:
        if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)) or not time_limit > 0 \
                or not math.isfinite(time_limit):
            raise InputError("time_limit", f"expected positive seconds, got {time_limit!r}")
        time_limit = float(time_limit)
    return realisations, base_seed, time_limit


def _generator(data: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, list[Any]]]:
    """(scenario, fixed parameters, grid), checked against the generator's signature (names and types,
    :mod:`instances.params`)."""
    import instances
    from instances import params as gen_params

    gen = _table(data, "generator", "generator")
    for k in gen:
        if k not in _GEN_KEYS:
            raise InputError(f"generator.{k}", f"unknown field; known: {', '.join(sorted(_GEN_KEYS))}")
    if "scenario" not in gen:
        raise InputError("generator.scenario", "missing (required)")
    scenario = gen["scenario"]
    if not isinstance(scenario, str) or scenario not in instances.GENERATORS:
        raise InputError("generator.scenario",
                         f"unknown scenario {scenario!r}; known: {', '.join(sorted(instances.GENERATORS))}")
    sig = gen_params.parameters(instances.GENERATORS[scenario])
    accepted = [p for p in sig if p not in _RESERVED_PARAMS]
    params = _table(gen, "params", "generator.params")
    grid = _grid(_table(data, "grid", "grid"), "grid")
    for where, keys in (("generator.params", params), ("grid", grid)):
        for k in keys:
            if k in _RESERVED_PARAMS:
                raise InputError(f"{where}.{k}", f"set by the sweep ({_RESERVED_PARAMS[k]})")
            if k not in sig:
                raise InputError(f"{where}.{k}", f"not a parameter of {scenario}; accepted: {', '.join(accepted)}")
    for k, v in params.items():
        if not _scalar(v):
            raise InputError(f"generator.params.{k}", f"expected a string, number or boolean, got {v!r}")
        gen_params.check(sig[k], v, f"generator.params.{k}")
    for k, values in grid.items():
        for v in values:
            gen_params.check(sig[k], v, f"grid.{k}")
        if k in params:
            raise InputError(f"grid.{k}", "also fixed in generator.params; give it in one place")
    for p_name, p in sig.items():
        if p_name not in _RESERVED_PARAMS and p.required and p_name not in params and p_name not in grid:
            raise InputError(f"generator.params.{p_name}",
                             f"missing: a required parameter of {scenario} (give it in generator.params or grid)")
    return scenario, params, grid


def _study_options(data: dict[str, Any], methods: list[str], grid: dict[str, list[Any]]):
    options = _options(_table(data, "options", "options"), "options")
    option_grid = _grid(_table(data, "option_grid", "option_grid"), "option_grid")
    for k in option_grid:
        if not k.isidentifier():
            raise InputError(f"option_grid.{k}", "option names must be Python names")
        if k in _RESERVED_OPTIONS:
            raise InputError(f"option_grid.{k}", f"set by the sweep ({_RESERVED_OPTIONS[k]})")
        if k in grid:
            raise InputError(f"option_grid.{k}", "same name as a [grid] generator parameter")
        if k in options:
            raise InputError(f"option_grid.{k}", "also fixed in [options]; give it in one place")
    method_options = {}
    for m, tbl in _table(data, "method_options", "method_options").items():
        if m not in methods:
            raise InputError(f"method_options.{m}", f"not one of the study's methods ({', '.join(methods)})")
        if not isinstance(tbl, dict):
            raise InputError(f"method_options.{m}", "expected a table of options")
        method_options[m] = _options(tbl, f"method_options.{m}")
        for k in method_options[m]:
            if k in option_grid:
                raise InputError(f"method_options.{m}.{k}", "also varied in [option_grid]")
    return options, option_grid, method_options


def _check_method_options(problem, methods, options: dict, option_grid: dict, method_options: dict) -> None:
    """Every option a task would pass is declared by its method and well-typed (:meth:`Method.resolve`), so that a
    study with an unknown or ill-typed option stops before any task runs (InputError naming the table and key)."""
    for m in methods:
        method, own = problem.method(m), method_options.get(m, {})
        checks = ([(f"options.{k}", k, v) for k, v in options.items() if k not in own]
                  + [(f"method_options.{m}.{k}", k, v) for k, v in own.items()]
                  + [(f"option_grid.{k}", k, v) for k, vals in option_grid.items() for v in vals])
        for where, key, value in checks:
            try:
                method.resolve({key: value})
            except InputError as exc:
                raise InputError(where, f"for method {m}: {exc.message}") from None


def load_study(path: str | Path) -> Study:
    """Read and validate a study TOML file; InputError naming the field (``"study"`` for an unreadable or malformed
    file)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("study", f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("study", f"cannot read {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError("study", f"malformed TOML in {path}: {exc}") from None
    return parse_study(data, path=path.resolve())
