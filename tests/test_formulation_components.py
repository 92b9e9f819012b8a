"""formulations/components: the formulation contract (FormulationInfo, the registry), set_params (the sweep entry
point: change mutable Params, never rebuild) and the shared LinearExpression sum."""
from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.core.expr.numeric_expr import LinearExpression

from formulations.components import (FORMULATIONS, FormulationInfo, ProblemClass, Relation, formulation_info, linear,
                                     mutable_params, set_params)
from instances.errors import InputError


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr("formulations.components.info.FORMULATIONS", {})
    import formulations.components.info as info

    return info


def test_info_enums_and_registry(registry):
    info = registry.register_formulation(FormulationInfo("toy", "lp", "lp", "Relaxation", objectives=["a"]))
    assert info.problem_class is ProblemClass.LP and info.relation is Relation.RELAXATION
    assert info.objectives == ("a",) and info.parameters == ()
    assert registry.formulation_info("toy", "lp") is info
    assert registry.register_formulation(FormulationInfo("toy", "lp", ProblemClass.LP, Relation.RELAXATION,
                                                         objectives=("a",))) == info     # a reload is harmless
    with pytest.raises(ValueError, match="registered twice"):
        registry.register_formulation(FormulationInfo("toy", "lp", ProblemClass.MILP, Relation.EXACT))
    with pytest.raises(KeyError, match="known: lp"):
        registry.formulation_info("toy", "nope")
    with pytest.raises(ValueError, match="problem_class"):
        FormulationInfo("toy", "x", "convex", Relation.EXACT)
    with pytest.raises(ValueError, match="non-empty"):
        FormulationInfo("", "x", ProblemClass.LP, Relation.EXACT)


def test_the_papers_declare_their_formulations():
    import formulations.iot.uplink  # noqa: F401  (importing a formulation module registers it)
    import formulations.uplink_ee.minlp  # noqa: F401

    assert formulation_info("uplink-ee", "minlp").problem_class is ProblemClass.MINLP
    assert all(isinstance(i.relation, Relation) for i in FORMULATIONS.values())


def _model():
    m = pyo.ConcreteModel()
    m.I = pyo.RangeSet(0, 1)
    m.J = pyo.RangeSet(0, 2)
    m.x = pyo.Var(m.I, bounds=(0, 10))
    m.cap = pyo.Param(mutable=True, initialize=1.0, within=pyo.NonNegativeReals)
    m.w = pyo.Param(m.I, m.J, mutable=True, initialize=0.0)
    m.fixed = pyo.Param(initialize=2.0)
    m.c = pyo.Constraint(expr=m.x[0] + m.x[1] <= m.cap)
    return m


def test_set_params_changes_the_model_without_rebuilding():
    m = _model()
    con = m.c
    assert set_params(m, cap=4, w=np.arange(6.0).reshape(2, 3)) is m
    assert m.c is con and pyo.value(m.c.upper) == 4.0
    assert [pyo.value(m.w[i, j]) for i in m.I for j in m.J] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]   # row-major
    set_params(m, w={(1, 2): -1.0})
    assert pyo.value(m.w[1, 2]) == -1.0 and pyo.value(m.w[1, 1]) == 4.0
    assert mutable_params(m) == ("cap", "w")


@pytest.mark.parametrize("params,field,text", [
    ({"nope": 1}, "nope", "no such component; mutable Params of this model: cap, w"),
    ({"fixed": 1}, "fixed", "not a mutable Param"),
    ({"x": 1}, "x", "a Var, not a Param"),
    ({"w": [1.0, 2.0]}, "w", "expected 6 values"),
    ({"w": {(5, 5): 1.0}}, "w", "not in the Param's index set"),
    ({"cap": -1.0}, "cap", "cannot set"),
])
def test_set_params_errors_name_the_param(params, field, text):
    with pytest.raises(InputError, match=text) as exc:
        set_params(_model(), **params)
    assert exc.value.field == field


def test_linear_keeps_params_symbolic():
    m = _model()
    e = linear([np.float64(2.5), m.cap], [m.x[0], m.x[1]])
    assert isinstance(e, LinearExpression)
    m.x[0].set_value(1.0)
    m.x[1].set_value(3.0)
    assert pyo.value(e) == 2.5 + 3.0
    set_params(m, cap=2.0)
    assert pyo.value(e) == 2.5 + 6.0                   # the mutable Param stays in the expression
    assert type(e.args[0].args[0]) is float            # numpy scalars become Python floats
