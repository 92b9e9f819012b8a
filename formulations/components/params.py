"""``set_params(model, **params)``: the sweep entry point (DESIGN.md §1 ``formulations``). It changes mutable Params
of a built model by component name and never rebuilds it (pyaugmecon's one ε Param per objective)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyomo.environ as pyo

from instances.errors import InputError

__all__ = ["mutable_params", "set_params"]


def mutable_params(model: pyo.ConcreteModel) -> tuple[str, ...]:
    """Names of the model's mutable Params (what :func:`set_params` accepts)."""
    return tuple(p.name for p in model.component_objects(pyo.Param, descend_into=True) if p.mutable)


def _param(model, name: str):
    comp = model.find_component(name)
    if comp is None or not isinstance(comp, pyo.Param):
        what = "no such component" if comp is None else f"a {comp.ctype.__name__}, not a Param"
        raise InputError(name, f"{what}; mutable Params of this model: {', '.join(mutable_params(model)) or 'none'}")
    if not comp.mutable:
        raise InputError(name, "is not a mutable Param (it was fixed when the model was built); rebuild instead")
    return comp


def _set_indexed(comp, name: str, value: Any) -> None:
    if isinstance(value, Mapping):
        items = value.items()
        for idx in value:
            if idx not in comp.index_set():
                raise InputError(name, f"index {idx!r} is not in the Param's index set")
    else:
        flat = np.asarray(value, dtype=float).reshape(-1)
        keys = list(comp.index_set())
        if flat.size != len(keys):
            raise InputError(name, f"expected {len(keys)} values (one per index, in index order), got {flat.size}")
        items = zip(keys, flat.tolist())
    for idx, v in items:
        comp[idx] = v


def set_params(model: pyo.ConcreteModel, **params: Any) -> pyo.ConcreteModel:
    """Set mutable Params by name: a number for a scalar Param; for an indexed one a mapping {index: value} or an
    array with one value per index (row-major, in index order). An unknown name, a component that is not a Param,
    a Param that is not mutable, a wrong size or a value outside the Param's domain raises InputError naming it.
    Returns ``model``."""
    for name, value in params.items():
        comp = _param(model, name)
        try:
            if comp.is_indexed():
                _set_indexed(comp, name, value)
            else:
                comp.set_value(float(value) if isinstance(value, (int, float, np.number)) else value)
        except InputError:
            raise
        except (TypeError, ValueError) as exc:
            raise InputError(name, f"cannot set to {value!r}: {exc}") from None
    return model
