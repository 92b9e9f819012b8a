"""What a paper's method returns (DESIGN.md §1 ``solvers_adapters``): why it stopped and the point it found.

An :class:`Outcome` is *not* re-scored here: :func:`experiments.results.make_result` calls the problem's models/
evaluator on ``point`` under ``context`` and turns the outcome into the :class:`~solvers_adapters.result.SolveResult`
(objective, max_violation, solution, versions, seed, the feasibility and agreement rules).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from solvers_adapters.result import Certificate, Status

__all__ = ["Outcome"]


@dataclass
class Outcome:
    """Why a method stopped and what it found (see the module docstring).

    ``point``: the evaluator's solution keys (e.g. ``{"eta": ..., "assoc": ...}``), None = no point.
    ``context``: the evaluator keywords the point is scored under (recorded as ``SolveResult.context``).
    ``extra``: diagnostics copied into ``SolveResult.solution`` (the whole solution when there is no point).
    ``relaxed``: evaluator violation names not held against the point (a relaxation's point).
    ``keep_infeasible_point``: status ``infeasible`` but the point and its verdict go into the solution (without
    it an infeasible outcome's point is dropped: it solves nothing).
    ``check_solver_objective``: a relative tolerance; if set and the status is ``optimal``, the evaluator's value
    (``objectives[check_against]``, or the objective when ``check_against`` is None) must agree with
    ``solver_objective`` within it, else the result is ``feasible``/``none`` with the reason in the message.
    ``solver_version`` "" means cfopt's own version; ``wall_time_s`` None means the caller's clock.
    """

    status: Status
    certificate: Certificate = Certificate.NONE
    point: dict[str, Any] | None = None
    formulation: str = ""
    solver: str = "cfopt"
    solver_version: str = ""
    solver_versions: dict[str, str] = field(default_factory=dict)
    solver_objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    iterations: int | None = None
    trace: list[float] = field(default_factory=list)
    series: dict[str, list] = field(default_factory=dict)
    message: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    relaxed: tuple[str, ...] = ()
    keep_infeasible_point: bool = False
    check_solver_objective: float | None = None
    wall_time_s: float | None = None
    #: the seed the method drew itself when the caller gave none (recorded so that the run can be repeated)
    seed: int | None = None
    #: the ``Evaluation.objectives`` key compared with ``solver_objective`` (None: ``Evaluation.objective``)
    check_against: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.status, Status):
            raise TypeError(f"Outcome.status must be a Status, got {self.status!r}")
        if not isinstance(self.certificate, Certificate):
            raise TypeError(f"Outcome.certificate must be a Certificate, got {self.certificate!r}")
        self.relaxed = tuple(self.relaxed)
        self.trace = list(self.trace)

    @property
    def has_point(self) -> bool:
        return self.point is not None

    @classmethod
    def failed(cls, message: str, status: Status = Status.ERROR, **kw: Any) -> "Outcome":
        """No point: ``status`` (default ``error``) with the reason in ``message``."""
        return cls(status=status, certificate=Certificate.NONE, point=None, message=message, **kw)
