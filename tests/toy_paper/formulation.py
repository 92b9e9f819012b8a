"""The toy paper's formulation: the min-power LP at a target SINR t (a mutable Param, set by ``set_params``):

    min Σ_k p_k η_k   s.t.   a_k η_k − t ((B η)_k + c_k) ≥ 0,   0 ≤ η_k ≤ 1.

Feasible iff t ≤ t* (the max-min SINR), so a bisection on t over this LP solves the max-min problem exactly.
"""
from __future__ import annotations

import numpy as np
import pyomo.environ as pe

from formulations.components.info import FormulationInfo, ProblemClass, Relation, register_formulation

INFO = register_formulation(FormulationInfo("toy-maxmin", "feasibility-lp", ProblemClass.LP, Relation.EXACT,
                                            objectives=("power",), parameters=("t",),
                                            description="min-power LP at target SINR t (toy paper)"))


def build(co, params=None, **options) -> pe.ConcreteModel:
    K = len(co.a)
    m = pe.ConcreteModel()
    m.K = pe.RangeSet(0, K - 1)
    m.t = pe.Param(mutable=True, initialize=float((params or {}).get("t", 0.0)))
    m.eta = pe.Var(m.K, bounds=(0.0, 1.0))
    m.sinr = pe.Constraint(m.K, rule=lambda m, k: co.a[k] * m.eta[k] - m.t * (
        sum(float(co.B[k, j]) * m.eta[j] for j in m.K if j != k) + float(co.c[k])) >= 0)
    m.power = pe.Objective(expr=sum(float(co.p[k]) * m.eta[k] for k in m.K), sense=pe.minimize)
    return m


def extract(model) -> dict[str, np.ndarray]:
    return {"eta": np.array([pe.value(model.eta[k]) for k in model.K], dtype=float)}
