"""The result of a models/ evaluator (DESIGN.md §2 ``experiments.evaluate``): the number behind every reported figure."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: the one feasibility tolerance: a constraint violated by more than this (relative where the constraint says so)
#: does not hold (evaluators, :func:`experiments.results.make_result`)
FEAS_TOL = 1e-6


@dataclass(frozen=True)
class Evaluation:
    """objective: the problem's objective (its unit in ``unit``); objectives: every named objective (e.g. EE and sum
    SE for a trade-off); per_user: named [K] arrays (SINR, SE, ...); power: named powers in W; violations: the largest
    violation of each named constraint (0 when it holds); max_violation: the largest of them."""

    objective: float
    unit: str
    objectives: dict[str, float]
    per_user: dict[str, np.ndarray]
    power: dict[str, float]
    violations: dict[str, float]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def max_violation(self) -> float:
        return float(max(self.violations.values(), default=0.0))

    @property
    def feasible(self) -> bool:
        """Every constraint holds within :data:`FEAS_TOL` (relative where the constraint says so)."""
        return self.max_violation <= FEAS_TOL

    def to_dict(self) -> dict[str, Any]:
        return {"objective": self.objective, "unit": self.unit, "objectives": dict(self.objectives),
                "per_user": {k: np.asarray(v).tolist() for k, v in self.per_user.items()},
                "power": dict(self.power), "violations": dict(self.violations), "max_violation": self.max_violation}
