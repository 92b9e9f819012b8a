"""Named builders and contracts that two or more papers' formulations share (DESIGN.md §1 ``formulations``):
:mod:`.info` (FormulationInfo and the registry), :mod:`.params` (set_params, the sweep entry point),
:mod:`.linear` (LinearExpression sums)."""
from formulations.components.info import (FORMULATIONS, FormulationInfo, ProblemClass, Relation, formulation_info,
                                          register_formulation)
from formulations.components.linear import linear
from formulations.components.params import mutable_params, set_params

__all__ = ["FORMULATIONS", "FormulationInfo", "ProblemClass", "Relation", "formulation_info", "linear",
           "mutable_params", "register_formulation", "set_params"]
