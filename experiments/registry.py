"""The problem registry behind ``cfopt solve`` / ``cfopt compare`` and :func:`experiments.solve`.

Each paper's issue registers its problem id (DESIGN.md §2: ``uplink-ee``, ``unicast-multicast-sse``, ``cran-ee``,
``iot-uplink-maxmin``, ``iot-uplink-target``, ``iot-downlink-maxmin``, ``longterm-ee``) with its methods and its
models/ evaluator. A method is a callable ``run(instance, *, time_limit=None, seed=None, **options) -> Outcome``
(:class:`solvers_adapters.algorithms.Outcome`: why it stopped, the point, the evaluation ``context``);
:func:`experiments.results.run_method` times it and :func:`experiments.results.make_result` re-scores the point with
the problem's evaluator and makes the :class:`SolveResult`. ``Problem.solution_view`` (optional) shapes a result's
``solution`` from the point and its evaluation (default: the point, the per-user arrays and the objectives).

Paper modules (``experiments.papers.<slug>``) register themselves when imported; :func:`load_all` discovers them.

Each ``Method`` declares its options (:class:`experiments.options.Option`: name, type, range or choices, default,
unit, doc); :meth:`Method.resolve` checks and converts given options against them (``experiments.solve``, the CLI,
studies and the validation all go through it). ``Problem.unit`` names the objective's unit, ``Problem.qos_fields``
the instance QoS fields the problem reads, ``Problem.context_keys`` the evaluator options a result's context holds.

``Problem.sense`` says whether the objective is maximised (``"max"``) or minimised (``"min"``).
``Method.stated_ratio`` is the worst ratio to the certified optimum that a method promises on the certified library
instances (ratio = objective / optimum for a max problem, optimum / objective for a min problem: 1 is optimal,
below 1 worse); ``cfopt validate`` (:mod:`experiments.validate`) fails when a method misses it. ``None`` (baselines,
the certifier ``exact``) promises nothing, but no feasible result may ever beat a proven optimum.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from instances.errors import InputError

from experiments.options import Option, resolve_options


@dataclass(frozen=True)
class Method:
    """A registered method: ``run(instance, *, time_limit=None, seed=None, **options) -> Outcome`` (never a
    SolveResult: :func:`experiments.results.run_method` times it and makes the result)."""

    name: str
    run: Callable[..., Any]
    kind: str                 # "exact", "relaxation", "heuristic" or "baseline"
    description: str = ""
    #: worst ratio to the certified optimum promised on the library's certified instances (None: no promise)
    stated_ratio: float | None = None
    #: the options the method accepts (besides ``time_limit`` and ``seed``), checked by :meth:`resolve`
    options: tuple[Option, ...] = ()

    def option(self, name: str) -> Option | None:
        return next((o for o in self.options if o.name == name), None)

    def resolve(self, options: dict[str, Any]) -> dict[str, Any]:
        """``options`` checked against the declared ones and converted to the runner's keyword arguments (a CLI
        string becomes the declared type; a pass-through dict is spread or renamed as declared). An unknown name
        or an ill-typed value raises :class:`InputError` naming the option and what it accepts."""
        return resolve_options(self.options, options, owner=f"method {self.name!r}")


@dataclass
class Problem:
    id: str
    paper: str
    description: str
    evaluate: Callable[..., Any]
    methods: dict[str, Method] = field(default_factory=dict)
    #: how to trace the problem's trade-off by ε-constraint (an :class:`experiments.pareto.ParetoSpec`), if it has one
    pareto: Any = None
    #: "max" or "min": the sense of the objective (the validation's ratio to the optimum depends on it)
    sense: str = "max"
    #: unit of the objective as the evaluator reports it (shown in tables), e.g. "Mbit/J"
    unit: str = ""
    #: the instance ``qos`` fields this problem reads (None: no check). Any other ``qos`` field is an input error:
    #: a target the problem would silently ignore is not a target the user gets.
    qos_fields: tuple[str, ...] | None = None
    #: the keys of a result's ``context`` (the evaluator's keyword options); anything else is an input error
    context_keys: tuple[str, ...] = ()
    #: ``solution_view(instance, point, evaluation, context) -> dict``: a result's ``solution`` (before the outcome's
    #: extra entries); None = :func:`experiments.results.default_solution_view`
    solution_view: Callable[..., dict[str, Any]] | None = None
    #: method options other than the defaults that change the evaluation (a key of ``context_keys``) and that every
    #: method accepts on the problem's certified cards; the contract tests solve and re-score under them
    example_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.sense not in ("max", "min"):
            raise ValueError(f"problem {self.id!r}: sense must be 'max' or 'min', got {self.sense!r}")

    def check_instance(self, instance) -> None:
        """InputError naming ``qos.<field>`` when the instance carries a QoS field this problem ignores."""
        if self.qos_fields is None:
            return
        for key in instance.qos:
            if key not in self.qos_fields:
                reads = ", ".join(f"qos.{k}" for k in self.qos_fields) or "no qos field"
                raise InputError(f"qos.{key}", f"{self.id} ignores this field (it reads {reads}); remove it or "
                                               f"choose the problem that uses it")

    def check_context(self, context) -> dict[str, Any]:
        """A result's evaluation context as evaluator keywords; InputError naming ``context.<key>`` otherwise."""
        if context is None:
            return {}
        if not isinstance(context, dict):
            raise InputError("context", f"expected a JSON object of evaluator options, got {type(context).__name__}")
        for key in context:
            if key not in self.context_keys:
                known = ", ".join(self.context_keys) or "none"
                raise InputError(f"context.{key}", f"not an evaluation option of {self.id}; known: {known}")
        return dict(context)

    def method(self, name: str) -> Method:
        if name not in self.methods:
            known = ", ".join(sorted(self.methods)) or "(none)"
            raise InputError("method", f"unknown method {name!r} for {self.id}; known: {known}")
        return self.methods[name]


PROBLEMS: dict[str, Problem] = {}


def register(problem: Problem) -> Problem:
    if problem.id in PROBLEMS:
        raise ValueError(f"problem {problem.id!r} registered twice")
    PROBLEMS[problem.id] = problem
    return problem


def get_problem(problem_id: str) -> Problem:
    if problem_id not in PROBLEMS:
        known = ", ".join(sorted(PROBLEMS)) or "none registered yet"
        raise InputError("problem", f"unknown problem {problem_id!r}; known: {known}")
    return PROBLEMS[problem_id]


def load_all() -> dict[str, Problem]:
    """Import every paper module once (:func:`experiments.papers.discover`) and return the registry."""
    from experiments.papers import discover

    discover()
    return PROBLEMS
