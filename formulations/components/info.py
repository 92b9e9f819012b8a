"""The formulation contract (DESIGN.md §1 ``formulations``): every formulation declares one :class:`FormulationInfo`
(problem, name, problem class, relation to the problem, objectives, mutable parameters) once, at module level::

    INFO = register_formulation(FormulationInfo("uplink-ee", "minlp", ProblemClass.MINLP, Relation.EXACT,
                                                objectives=("ee", "sum_se"), parameters=("se_qos",)))

A module with several named variants declares one INFO per variant. ``validate`` and the tests read
:data:`FORMULATIONS` / :func:`formulation_info`. Builders follow ``build(stats, params, **options) ->
pyomo.ConcreteModel`` and ``extract(model) -> dict[str, ndarray]`` (the evaluator's solution keys); a sweep changes
the mutable Params named in ``parameters`` through :func:`formulations.components.params.set_params`.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["FORMULATIONS", "FormulationInfo", "ProblemClass", "Relation", "formulation_info", "register_formulation"]


class ProblemClass(Enum):
    LP = "LP"
    MILP = "MILP"
    QCP = "QCP"
    SOCP = "SOCP"
    NLP = "NLP"
    MINLP = "MINLP"


class Relation(Enum):
    """How the formulation's optimum relates to the problem's (PowerModels' exact / relaxation / approximation)."""

    EXACT = "exact"
    RELAXATION = "relaxation"      # optimum on the optimistic side of the problem's
    RESTRICTION = "restriction"    # every point feasible for the problem; optimum on the pessimistic side
    APPROXIMATION = "approximation"


def _enum(cls, value, what: str):
    if isinstance(value, cls):
        return value
    for member in cls:
        if isinstance(value, str) and value.lower() in (member.value.lower(), member.name.lower()):
            return member
    raise ValueError(f"{what}: expected one of {', '.join(m.value for m in cls)}, got {value!r}")


@dataclass(frozen=True)
class FormulationInfo:
    problem: str                      # registered problem id, e.g. "uplink-ee"
    name: str                         # formulation name, as SolveResult.formulation records it
    problem_class: ProblemClass
    relation: Relation
    objectives: tuple[str, ...] = ()  # the objectives the builder can put on the model
    parameters: tuple[str, ...] = ()  # mutable Params a sweep may set (set_params), by component name
    description: str = ""

    def __post_init__(self) -> None:
        if not (isinstance(self.problem, str) and self.problem and isinstance(self.name, str) and self.name):
            raise ValueError(f"FormulationInfo: problem and name must be non-empty strings, got "
                             f"{self.problem!r}, {self.name!r}")
        object.__setattr__(self, "problem_class", _enum(ProblemClass, self.problem_class,
                                                        f"formulation {self.name!r} problem_class"))
        object.__setattr__(self, "relation", _enum(Relation, self.relation, f"formulation {self.name!r} relation"))
        object.__setattr__(self, "objectives", tuple(self.objectives))
        object.__setattr__(self, "parameters", tuple(self.parameters))


#: (problem id, formulation name) -> its info, filled by :func:`register_formulation`
FORMULATIONS: dict[tuple[str, str], FormulationInfo] = {}


def register_formulation(info: FormulationInfo) -> FormulationInfo:
    """Record ``info`` and return it. Registering the same info again (a module reload) is harmless; a different
    info under the same (problem, name) is a ValueError."""
    key = (info.problem, info.name)
    known = FORMULATIONS.get(key)
    if known is not None and known != info:
        raise ValueError(f"formulation {info.name!r} of {info.problem!r} registered twice with different info")
    FORMULATIONS[key] = info
    return info


def formulation_info(problem: str, name: str) -> FormulationInfo:
    """The registered info of ``name`` for ``problem``; KeyError naming the known ones otherwise."""
    try:
        return FORMULATIONS[(problem, name)]
    except KeyError:
        known = ", ".join(sorted(n for p, n in FORMULATIONS if p == problem)) or "none registered"
        raise KeyError(f"no formulation {name!r} registered for {problem!r}; known: {known}") from None
