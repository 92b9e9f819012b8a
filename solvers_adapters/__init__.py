"""Who solves it: HiGHS, SCIP and Ipopt behind one interface, plus the papers' iterative algorithms.

``solve_model(model, solver, *, time_limit=None, **options) -> SolveResult`` for any Pyomo model.
"""
from solvers_adapters.result import Certificate, ResultError, SolveResult, Status
from solvers_adapters.base import SOLVERS, max_violation, objective_value, solve_model, versions

__all__ = ["Certificate", "ResultError", "SolveResult", "Status", "SOLVERS", "max_violation", "objective_value",
           "solve_model", "versions"]
