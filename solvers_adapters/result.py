"""The one result type every solver and every algorithm of cfopt returns (DESIGN.md §2, "SolveResult").

A non-optimal outcome is *recorded*, never raised: an infeasible, time-limited or failed solve comes back with its
``status`` and ``certificate`` and no pretence of optimality.  Callers that need a particular outcome ask for it with
:meth:`SolveResult.require`.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Iterable, Mapping


class Status(str, Enum):
    """What happened to the solve (DESIGN.md §2 ``status``)."""

    OPTIMAL = "optimal"          # solved to the method's optimality criterion
    FEASIBLE = "feasible"        # a feasible point, optimality not established (e.g. Ipopt "acceptable level")
    INFEASIBLE = "infeasible"    # proved (or, for local solvers, detected) infeasible
    UNBOUNDED = "unbounded"
    LIMIT = "limit"              # stopped by a time/iteration/node/gap limit; an incumbent may or may not exist
    ERROR = "error"              # solver or numerical failure


class Certificate(str, Enum):
    """How strong the claim behind ``objective`` is (DESIGN.md §2 ``certificate``)."""

    GLOBAL = "global"            # proved optimal: gap within tolerance
    LOCAL = "local"              # a KKT point of the model
    STATIONARY = "stationary"    # an iterative method converged
    NONE = "none"


class ResultError(RuntimeError):
    """Raised by :meth:`SolveResult.require` when the outcome is not the one the caller needs."""


def _jsonable(x: Any) -> Any:
    """Convert numpy arrays/scalars, enums and non-finite floats to plain JSON values.

    Non-finite floats become the strings ``"inf"``, ``"-inf"`` and ``"nan"`` so that the output is strict JSON.
    """
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a hard dependency
        np = None
    if isinstance(x, Enum):
        return x.value
    if np is not None:
        if isinstance(x, np.ndarray):
            return _jsonable(x.tolist())
        if isinstance(x, np.generic):
            return _jsonable(x.item())
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


def _float(x: Any) -> float | None:
    if x is None:
        return None
    if isinstance(x, str):
        return float(x)  # "inf", "-inf", "nan"
    return float(x)


@dataclass
class SolveResult:
    """Outcome of one solve. Every field is JSON-serialisable through :meth:`to_dict` / :meth:`to_json`.

    ``objective`` is the value re-scored by the models/ evaluator (for a raw Pyomo model: the model's objective
    expression evaluated at the loaded solution); ``solver_objective`` is what the solver reported; ``bound`` is the
    solver's proven bound in the model's sense (``-inf``/``+inf`` when none); ``gap`` is relative,
    ``|objective - bound| / max(|objective|, 1e-10)`` as the solver defines it.
    """

    problem: str = ""
    formulation: str = ""
    method: str = ""
    solver: str = ""
    solver_version: str = ""
    instance: str = ""
    instance_hash: str = ""
    status: Status = Status.ERROR
    certificate: Certificate = Certificate.NONE
    objective: float | None = None
    solver_objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    max_violation: float | None = None
    #: the problem parameters and model options the evaluator used: re-scoring ``solution`` with them
    #: (:func:`experiments.evaluate`) gives ``objective`` and ``max_violation``
    context: dict[str, Any] = field(default_factory=dict)
    wall_time_s: float = 0.0
    iterations: int | None = None
    trace: list[float] = field(default_factory=list)
    #: per-slot series of an online method (queues, active APs, ...), named lists
    series: dict[str, list] = field(default_factory=dict)
    solution: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    versions: dict[str, str] = field(default_factory=dict)
    message: str = ""

    def __post_init__(self) -> None:
        self.status = Status(self.status)
        self.certificate = Certificate(self.certificate)

    # ------------------------------------------------------------------ queries
    @property
    def has_solution(self) -> bool:
        """True when a point (optimal, feasible or a limit's incumbent) was found and loaded."""
        return self.status in (Status.OPTIMAL, Status.FEASIBLE) or (
            self.status is Status.LIMIT and self.objective is not None
        )

    def require(self, *statuses: str | Status, certificate: str | Certificate | Iterable | None = None) -> "SolveResult":
        """Return ``self`` if the status is one of ``statuses`` (default: ``optimal``) and, when given, the
        certificate is one of ``certificate``; otherwise raise :class:`ResultError` naming what happened."""
        wanted = {Status(s) for s in statuses} or {Status.OPTIMAL}
        if self.status not in wanted:
            raise ResultError(
                f"{self.method or self.solver} on {self.instance or 'model'}: status {self.status.value!r}, "
                f"wanted {sorted(w.value for w in wanted)}" + (f" ({self.message})" if self.message else "")
            )
        if certificate is not None:
            certs = {Certificate(certificate)} if isinstance(certificate, (str, Certificate)) else {
                Certificate(c) for c in certificate}
            if self.certificate not in certs:
                raise ResultError(
                    f"{self.method or self.solver}: certificate {self.certificate.value!r}, "
                    f"wanted {sorted(c.value for c in certs)}"
                )
        return self

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        return _jsonable({f.name: getattr(self, f.name) for f in dataclasses.fields(self)})

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, **kw)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "SolveResult":
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        for k in ("objective", "solver_objective", "bound", "gap", "max_violation"):
            if k in kw:
                kw[k] = _float(kw[k])
        if "trace" in kw:
            kw["trace"] = [_float(v) for v in kw["trace"]]
        return cls(**kw)
