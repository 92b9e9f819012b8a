"""Ipopt (local NLP) through cyipopt, fed by cfopt's compiled NLP bridge (:mod:`.nlp_compiler`).

``solve(model, *, time_limit=None, **options) -> SolveResult``. The model is compiled once and the compiled program
is cached on the model (``model._cfopt_nlp``), keyed by its active objective/constraints and its fixed variables;
a second solve after changing mutable Params or variable values only re-reads data (warm start from the current
variable values). The solution is loaded back into the model; constraint multipliers go to an IMPORT ``dual``
Suffix if the model has one.

cfopt-level options (everything else is passed to Ipopt by its own name, e.g. ``tol``, ``max_iter``,
``mu_strategy``, ``print_level``):

* ``hessian``: ``"auto"`` (exact Hessian unless it needs more than ``hessian_max_pairs`` second-order pairs, then
  L-BFGS), ``"exact"``, ``"limited-memory"``.
* ``warm_start``: also start from the multipliers of the previous solve of the same compiled model (primal start
  is always the variables' current values), with Ipopt's warm-start options set for a start near the optimum.
* ``relax_integrality``: solve the continuous relaxation of a model with integer variables (default False: such a
  model is rejected, Ipopt cannot honour integrality).

Status mapping (Ipopt's ApplicationReturnStatus, by number):

=============================================  ============  ============
Ipopt return status                            status        certificate
=============================================  ============  ============
0 Solve_Succeeded                              optimal       local
1 Solved_To_Acceptable_Level                   feasible      none
6 Feasible_Point_Found                         feasible      none
2 Infeasible_Problem_Detected                  infeasible    none (local)
4 Diverging_Iterates                           unbounded     none
-1 Maximum_Iterations_Exceeded                 limit         none
-4/-5 Maximum_CpuTime / WallTime_Exceeded      limit         none
5 User_Requested_Stop                          limit         none
3 Search_Direction_Becomes_Too_Small           error         none
other (restoration failed, step computation,   error         none
invalid number, not enough DoF, internal)
=============================================  ============  ============

For a ``limit`` the last iterate is loaded and its objective and ``max_violation`` reported, so the caller sees how
far it got; for ``infeasible``/``unbounded``/``error`` the final iterate is loaded but ``objective`` is None.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pe

from instances.errors import InputError
from solvers_adapters.algorithms.loop import Clock
from solvers_adapters.base import check_time_limit, max_violation, model_solution, objective_value, versions
from solvers_adapters.nlp_compiler import CompiledNLP, compile_model
from solvers_adapters.result import Certificate, SolveResult, Status

try:
    import cyipopt

    IPOPT_VERSION = ".".join(str(v) for v in cyipopt.IPOPT_VERSION)
except ImportError:  # pragma: no cover - cyipopt-wheels is a hard dependency
    cyipopt = None
    IPOPT_VERSION = "unavailable"

_STATUS = {
    0: (Status.OPTIMAL, Certificate.LOCAL),
    1: (Status.FEASIBLE, Certificate.NONE),
    6: (Status.FEASIBLE, Certificate.NONE),
    2: (Status.INFEASIBLE, Certificate.NONE),
    4: (Status.UNBOUNDED, Certificate.NONE),
    -1: (Status.LIMIT, Certificate.NONE),
    -4: (Status.LIMIT, Certificate.NONE),
    -5: (Status.LIMIT, Certificate.NONE),
    5: (Status.LIMIT, Certificate.NONE),
}
_HESSIAN_CHOICES = ("auto", "exact", "limited-memory")


def _structure(model: pe.ConcreteModel) -> tuple[tuple, list]:
    """What the compiled program depends on: the active objective's and constraints' expression objects (a
    constraint replaced with ``set_value`` gets a new one) and the set of fixed variables. Returns the key (object
    ids) and the objects themselves, which the cache keeps alive so that no id can be reused."""
    exprs = [o.expr for o in model.component_data_objects(pe.Objective, active=True, descend_into=True)]
    exprs += [c.expr for c in model.component_data_objects(pe.Constraint, active=True, descend_into=True)]
    fixed = [v for v in model.component_data_objects(pe.Var, descend_into=True) if v.fixed]
    return (tuple(map(id, exprs)), frozenset(map(id, fixed))), exprs + fixed


def compiled(model: pe.ConcreteModel, *, hessian: str = "auto", hessian_max_pairs: int = 4_000_000) -> CompiledNLP:
    """The model's compiled NLP, compiled now or taken from the cache; data (params, bounds) re-read."""
    structure, keep = _structure(model)
    key = (structure, hessian, hessian_max_pairs)
    cache = getattr(model, "_cfopt_nlp", None)
    if cache is not None and cache[0] == key:
        nlp = cache[1]
        nlp.refresh()
        return nlp
    nlp = compile_model(model, hessian="none" if hessian == "limited-memory" else hessian,
                        hessian_max_pairs=hessian_max_pairs)
    object.__setattr__(model, "_cfopt_nlp", (key, nlp, keep))
    return nlp


class _IpoptProblemLM:
    """cyipopt callback object without second derivatives (L-BFGS): Ipopt minimises ``sense * f``."""

    def __init__(self, nlp: CompiledNLP, t_start: float):
        self.nlp = nlp
        self.s = nlp.sense
        self.trace: list[float] = []
        self.iterations = 0
        self.t_start = t_start

    def objective(self, x):
        return self.s * self.nlp.objective(x)

    def gradient(self, x):
        return self.s * self.nlp.gradient(x)

    def constraints(self, x):
        return self.nlp.constraints(x)

    def jacobianstructure(self):
        return self.nlp.jac_rows, self.nlp.jac_cols

    def jacobian(self, x):
        return self.nlp.jacobian(x)

    def intermediate(self, alg_mod, iter_count, obj_value, inf_pr, inf_du, mu, d_norm, regularization_size,
                     alpha_du, alpha_pr, ls_trials):
        self.iterations = int(iter_count)
        self.trace.append(float(self.s * obj_value))
        return True


class _IpoptProblem(_IpoptProblemLM):
    """cyipopt callback object with the exact Hessian of the Lagrangian."""

    def hessianstructure(self):
        return self.nlp.hess_rows, self.nlp.hess_cols

    def hessian(self, x, lagrange, obj_factor):
        return self.nlp.hessian(x, lagrange, self.s * obj_factor)


def _initial_point(nlp: CompiledNLP) -> np.ndarray:
    x0 = nlp.x_init.copy()
    missing = np.isnan(x0)
    x0[missing] = 0.0
    return np.clip(x0, nlp.x_lb, nlp.x_ub)


def solve(model: pe.ConcreteModel, *, time_limit: float | None = None, hessian: str = "auto",
          hessian_max_pairs: int = 4_000_000, relax_integrality: bool = False, warm_start: bool = False,
          **options: Any) -> SolveResult:
    clock = Clock()
    res = SolveResult(solver="ipopt", solver_version=IPOPT_VERSION, versions=versions(ipopt=IPOPT_VERSION),
                      formulation=model.name)
    if cyipopt is None:
        res.status, res.message = Status.ERROR, "cyipopt is not installed"
        return res
    time_limit = check_time_limit(time_limit)
    if hessian not in _HESSIAN_CHOICES:
        raise InputError("hessian", f"must be one of {', '.join(_HESSIAN_CHOICES)}, got {hessian!r}")
    nlp = compiled(model, hessian=hessian, hessian_max_pairs=hessian_max_pairs)
    if nlp.integer_vars and not relax_integrality:
        raise InputError("model", f"Ipopt cannot honour integrality ({len(nlp.integer_vars)} integer variables, "
                                  f"e.g. {nlp.integer_vars[0].name}); pass relax_integrality=True or use scip")
    exact = nlp.hess_rows is not None
    problem_obj = (_IpoptProblem if exact else _IpoptProblemLM)(nlp, clock.t0)
    prob = cyipopt.Problem(n=nlp.n, m=nlp.m, problem_obj=problem_obj, lb=nlp.x_lb, ub=nlp.x_ub,
                           cl=nlp.g_lb, cu=nlp.g_ub)
    opts: dict[str, Any] = {"print_level": 0, "sb": "yes"}
    if not exact:
        opts["hessian_approximation"] = "limited-memory"
    if time_limit is not None:
        opts["max_wall_time"] = float(time_limit)
    mult = getattr(nlp, "last_multipliers", None) if warm_start else None
    if mult is not None:
        opts.update(warm_start_init_point="yes", mu_init=1e-9, warm_start_bound_push=1e-9,
                    warm_start_bound_frac=1e-9, warm_start_slack_bound_frac=1e-9, warm_start_slack_bound_push=1e-9,
                    warm_start_mult_bound_push=1e-9)
    opts.update(options)
    for k, v in opts.items():
        try:
            prob.add_option(k, v)
        except (TypeError, ValueError) as exc:
            prob.close()
            raise InputError(f"option {k}", f"Ipopt rejected {k}={v!r}: {exc}") from None
    try:
        if mult is not None:
            x, info = prob.solve(_initial_point(nlp), lagrange=mult[0], zl=mult[1], zu=mult[2])
        else:
            x, info = prob.solve(_initial_point(nlp))
    except Exception as exc:  # a failure inside Ipopt or a callback is an outcome, not a crash
        prob.close()
        res.status, res.message = Status.ERROR, f"{type(exc).__name__}: {exc}"
        res.wall_time_s = clock.elapsed()
        return res
    prob.close()
    code = int(info["status"])
    status, cert = _STATUS.get(code, (Status.ERROR, Certificate.NONE))
    msg = info["status_msg"]
    res.message = msg.decode() if isinstance(msg, bytes) else str(msg)
    nlp.load(x)
    nlp.last_multipliers = (info["mult_g"], info["mult_x_L"], info["mult_x_U"])
    _load_duals(model, nlp, info)
    res.status, res.certificate = status, cert
    res.iterations = problem_obj.iterations
    res.trace = problem_obj.trace
    res.solver_objective = float(info["obj_val"]) * nlp.sense  # Ipopt minimised sense * f
    res.max_violation = max_violation(model, integrality=not relax_integrality)
    if status in (Status.OPTIMAL, Status.FEASIBLE, Status.LIMIT):
        res.objective = objective_value(model)
    res.bound = float(-np.inf) if nlp.sense > 0 else float(np.inf)  # a local solver proves no bound
    res.solution = model_solution(model) if res.objective is not None else {}
    res.wall_time_s = clock.elapsed()
    return res


def _load_duals(model: pe.ConcreteModel, nlp: CompiledNLP, info: dict) -> None:
    dual = getattr(model, "dual", None)
    if isinstance(dual, pe.Suffix) and dual.import_enabled():
        # Pyomo's convention: dual = ∂(objective)/∂(constraint bound) in the model's sense; Ipopt's multipliers are
        # for min sense·f with L = f + λᵀg, hence the sign flip.
        for c, lam in zip(nlp.cons, info["mult_g"]):
            dual[c] = -float(lam) * nlp.sense
