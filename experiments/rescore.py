"""Re-scoring a saved result (``cfopt evaluate``; DESIGN.md §2: every result can be re-scored).

A :class:`~solvers_adapters.result.SolveResult` carries its ``solution`` and the evaluation ``context`` (problem
parameters and model options the evaluator used). :func:`rescore` hands both to the problem's models/ evaluator
(:func:`experiments.evaluate`) and compares the re-scored ``objective`` and ``max_violation`` with the stored ones.
A result without a value (infeasible, error, limit without incumbent) keeps its status: its objective stays None,
and only its point's violation is re-scored; a result without a point has nothing to re-score (its row says so).
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping

from instances.errors import InputError

#: relative agreement required; the evaluator is deterministic, so a re-score reproduces the stored floats exactly
#: and this only absorbs a JSON round trip's last-bit differences on other platforms
RTOL = 1e-12


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= RTOL * max(abs(a), abs(b))


def rescore(problem: str, instance, result: Mapping[str, Any]) -> dict[str, Any]:
    """Re-score one result (a ``SolveResult.to_dict()`` mapping) on ``instance``; returns the numbers and whether
    they agree with the stored ones. InputError when the result belongs to another problem or instance."""
    import experiments
    from solvers_adapters.result import SolveResult

    p = experiments.get_problem(problem)
    try:
        res = SolveResult.from_dict(result)
    except (TypeError, ValueError) as exc:
        raise InputError("--result", f"not a SolveResult: {exc}") from None
    if res.problem and res.problem != p.id:
        raise InputError("--result", f"the result is for problem {res.problem!r}, not {p.id!r}")
    inst = experiments._instance(instance)
    if res.instance_hash and res.instance_hash != inst.content_hash:
        raise InputError("--instance", f"{inst.name} (hash {inst.content_hash[:12]}) is not the instance the result "
                                       f"was solved on ({res.instance or '?'}, hash {res.instance_hash[:12]})")
    base = {"problem": p.id, "method": res.method, "instance": res.instance or inst.name, "status": res.status.value,
            "unit": p.unit, "stored_objective": res.objective, "stored_max_violation": res.max_violation,
            "context": dict(res.context)}
    if not res.solution:
        # no point (e.g. proved infeasible): nothing to re-score; a stored value without a point cannot be verified
        return {**base, "objective": None, "max_violation": None, "agrees": res.objective is None,
                "note": f"no solution to re-score (status {res.status.value})"}
    ev = experiments.evaluate(p.id, inst, res.solution, res.context)
    objective = ev.objective if res.objective is not None else None    # a status without value stays without one
    viol = ev.max_violation
    stored_viol = res.max_violation
    return {**base, "objective": objective, "max_violation": viol,
            "agrees": _same(objective, res.objective) and (stored_viol is None or _same(viol, stored_viol))}


def rescore_file(problem: str, instance, path: str) -> tuple[list[dict[str, Any]], bool]:
    """Re-score every result in a JSON file (one result or a list of them). Returns the rows and whether the file
    held a list."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise InputError("--result", f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError("--result", f"{path} is not JSON: {str(exc)[:80]}") from None
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(d, dict) for d in items):
        raise InputError("--result", f"{path} holds no SolveResult object (cfopt solve --json writes one)")
    import experiments

    inst = experiments._instance(instance)
    return [rescore(problem, inst, d) for d in items], isinstance(data, list)
