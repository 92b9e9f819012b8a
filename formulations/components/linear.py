"""Linear sums built directly as Pyomo ``LinearExpression`` objects (fast to build and to compile; shared by every
formulation that writes Σ_i c_i x_i rows)."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

__all__ = ["linear"]


def linear(coefs: Iterable[Any], vars_: Iterable[Any]) -> LinearExpression:
    """Σ_i coefs[i] · vars_[i] as one LinearExpression. Numeric coefficients (numpy scalars included) become Python
    floats; a coefficient that is a Pyomo Param or expression stays symbolic (a mutable Param keeps its sweep)."""
    return LinearExpression([MonomialTermExpression((float(c) if isinstance(c, (int, float, np.number)) else c, v))
                             for c, v in zip(coefs, vars_)])
