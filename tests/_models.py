"""Small models with optima known by enumeration, shared by the adapter tests."""
import pyomo.environ as pe


def small_milp():
    """max 5a + 8b s.t. a + b <= 6, 5a + 9b <= 45, a, b >= 0 integer (LP relaxation 41.25 at (2.25, 3.75))."""
    m = pe.ConcreteModel()
    m.a = pe.Var(within=pe.NonNegativeIntegers)
    m.b = pe.Var(within=pe.NonNegativeIntegers)
    m.c1 = pe.Constraint(expr=m.a + m.b <= 6)
    m.c2 = pe.Constraint(expr=5 * m.a + 9 * m.b <= 45)
    m.o = pe.Objective(expr=5 * m.a + 8 * m.b, sense=pe.maximize)
    return m


def small_milp_optimum() -> float:
    """The optimum of :func:`small_milp` by enumerating every integer point of its box."""
    return max(5 * a + 8 * b for a in range(7) for b in range(7) if a + b <= 6 and 5 * a + 9 * b <= 45)
