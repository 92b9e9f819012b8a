"""Small option helpers shared by the methods of every paper: tolerance checks, SCIP's seed and log options, and
the solver versions a method records from a :func:`solvers_adapters.solve_model` result."""
from __future__ import annotations

from typing import Any

from instances.errors import InputError

__all__ = ["check_tol", "scip_options", "SOLVER_PACKAGES", "solver_versions"]


def check_tol(name: str, value, *, upper: float = 1.0) -> float:
    """A tolerance in (0, upper); InputError(name) otherwise."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(name, f"must be a number in (0, {upper}), got {value!r}") from None
    if not (0.0 < v < upper):
        raise InputError(name, f"must be in (0, {upper}), got {value!r}")
    return v


def scip_options(defaults: dict[str, Any], options: dict[str, Any], seed: int | None) -> dict[str, Any]:
    """``defaults`` overridden by ``options``; SCIP's log on (verblevel 4) with ``tee``; ``seed`` → SCIP's
    ``randomization/randomseedshift`` unless given."""
    opts = {**defaults, **options}
    if opts.get("tee"):
        opts["display/verblevel"] = options.get("display/verblevel", 4)
    if seed is not None:
        opts.setdefault("randomization/randomseedshift", int(seed))
    return opts


#: package names of each solver's versions (what a method records from a solve_model result)
SOLVER_PACKAGES = {"scip": ("scip", "pyscipopt"), "highs": ("highs", "highspy"), "ipopt": ("ipopt",)}


def solver_versions(r, *solvers: str) -> dict[str, str]:
    """The versions of ``solvers`` (keys of :data:`SOLVER_PACKAGES`) among ``r.versions`` (a SolveResult)."""
    keep = {p for s in solvers for p in SOLVER_PACKAGES[s]}
    return {k: v for k, v in r.versions.items() if k in keep}
