"""HiGHS adapter: LP, MILP and convex QP, solved to global optimality (DESIGN.md §2).

How it is built
    The Pyomo model is translated and solved by Pyomo's ``pyomo.contrib.solver`` HiGHS interface
    (:class:`pyomo.contrib.solver.solvers.highs.Highs`, with ``load_solutions=False`` and
    ``raise_exception_on_nonoptimal_result=False``). Its :class:`Results` object does not carry everything a
    :class:`SolveResult` needs, so after the run the adapter reads the underlying ``highspy.Highs`` object
    (``Highs._solver_model``, a private attribute of the Pyomo interface) for: the ``HighsModelStatus`` enum (the
    Pyomo ``TerminationCondition`` folds several of them together), HiGHS's own status text, the MIP gap
    (``info.mip_gap``), node and simplex/IPM/QP iteration counts, and the primal solution status. Statuses are
    mapped by enum member (:data:`_OUTCOME`), never by text.

What is checked before HiGHS sees the model (``InputError`` with field ``"model"``)
    * every active constraint must be linear (HiGHS has no quadratic or general nonlinear constraints);
    * the objective must be linear or quadratic;
    * a quadratic objective must be convex (PSD Hessian when minimising, NSD when maximising). HiGHS itself only
      rejects negative *diagonal* Hessian entries: on an indefinite Hessian with a non-negative diagonal it returns
      "Optimal" at a stationary point, which would be a false global certificate;
    * a quadratic objective must not meet integer variables (HiGHS cannot solve MIQP);
    * no SOS constraints, disjunctions or logical constraints.
    Solver options are validated against HiGHS (unknown name or bad value -> ``InputError`` naming the option);
    the Pyomo interface would otherwise ignore them silently.

Outcomes (HiGHS ``HighsModelStatus`` -> cfopt)
    ``kOptimal`` -> ``optimal``/``global`` when the relative gap is ``<= gap_tol`` (0 for LP/QP; HiGHS's
    ``mip_gap`` for MIP), else ``limit`` with message "gap limit: ..." (the caller loosened ``mip_rel_gap``);
    ``kInfeasible`` -> ``infeasible``; ``kUnbounded`` -> ``unbounded``; ``kUnboundedOrInfeasible`` -> the adapter
    re-solves the problem with a zero objective (no Hessian) within the remaining time: feasible => ``unbounded``,
    infeasible => ``infeasible``, undecided => ``infeasible`` with message "infeasible or unbounded ...";
    ``kTimeLimit``, ``kIterationLimit``, ``kSolutionLimit``, ``kObjectiveBound``, ``kObjectiveTarget``,
    ``kMemoryLimit``, ``kInterrupt``, ``kHighsInterrupt`` -> ``limit`` (incumbent loaded if HiGHS has a primal
    feasible one); ``kModelEmpty`` (no variables) -> evaluated directly: ``optimal`` if the constant constraints
    hold, else ``infeasible``; every error status and ``kNotset``/``kUnknown`` -> ``error`` with HiGHS's ERROR lines.

Numbers
    ``solver_objective`` = HiGHS's objective value of the incumbent; ``bound`` = ``mip_dual_bound`` for MIP, the
    optimal value for a solved LP/QP, ±inf when unknown (+inf for an infeasible minimisation, -inf for an unbounded
    one); ``gap`` = HiGHS's relative ``mip_gap`` for MIP, 0 for a solved LP/QP, ``inf`` for an LP incumbent without a
    bound, ``None`` without incumbent; ``iterations`` = B&B nodes for MIP, QP iterations for QP, simplex iterations
    for LP (IPM iterations when no simplex ran).

Options
    ``gap_tol`` (default 1e-6, passed as ``mip_rel_gap`` unless that is given) and ``tee`` (see
    :mod:`._pyomo_common`); every other keyword is a HiGHS option under its own name (``mip_rel_gap``,
    ``presolve``, ``threads``, ``solver``, ...). ``time_limit`` becomes HiGHS's ``time_limit``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pe
from pyomo.common.collections import ComponentMap, ComponentSet
from pyomo.core.expr.numvalue import polynomial_degree
from pyomo.core.expr.visitor import identify_variables
from pyomo.repn import generate_standard_repn

from instances.errors import InputError
from solvers_adapters.base import dist_version, active_objective, versions
from solvers_adapters.result import SolveResult, Status
from solvers_adapters._pyomo_common import (SolverTermination, classify, error_result, finite_or_inf, infeasible_bound,
                                            make_result, no_bound, prepare, reject_untranslated, rel_gap,
                                            run_pyomo_solver)

SOLVER = "highs"
_CONVEXITY_RTOL = 1e-9
_EMPTY_MODEL_FEASTOL = 1e-7   # HiGHS's default primal_feasibility_tolerance


def _highspy():
    import highspy
    return highspy


def highs_version() -> str:
    h = _highspy()
    try:
        return f"{h.HIGHS_VERSION_MAJOR}.{h.HIGHS_VERSION_MINOR}.{h.HIGHS_VERSION_PATCH}"
    except AttributeError:  # older highspy
        t = h.Highs()
        return f"{t.versionMajor()}.{t.versionMinor()}.{t.versionPatch()}"


def _outcome_table() -> dict[Any, SolverTermination]:
    S = _highspy().HighsModelStatus
    table = {
        S.kOptimal: SolverTermination.SOLVED,
        S.kInfeasible: SolverTermination.INFEASIBLE,
        S.kUnbounded: SolverTermination.UNBOUNDED,
        S.kUnboundedOrInfeasible: SolverTermination.INF_OR_UNBD,
        S.kTimeLimit: SolverTermination.LIMIT,
        S.kIterationLimit: SolverTermination.LIMIT,
        S.kObjectiveBound: SolverTermination.LIMIT,
        S.kObjectiveTarget: SolverTermination.LIMIT,
        S.kNotset: SolverTermination.ERROR,
        S.kLoadError: SolverTermination.ERROR,
        S.kModelError: SolverTermination.ERROR,
        S.kPresolveError: SolverTermination.ERROR,
        S.kSolveError: SolverTermination.ERROR,
        S.kPostsolveError: SolverTermination.ERROR,
        S.kUnknown: SolverTermination.ERROR,
        S.kModelEmpty: SolverTermination.ERROR,  # never used: solve() evaluates an empty model directly
    }
    for name in ("kSolutionLimit", "kInterrupt", "kMemoryLimit", "kHighsInterrupt"):  # newer HiGHS only
        if hasattr(S, name):
            table[getattr(S, name)] = SolverTermination.LIMIT
    return table


# ----------------------------------------------------------------------------------------------- model checks
def _degree_text(deg: int | None) -> str:
    return "nonlinear (not polynomial)" if deg is None else f"polynomial of degree {deg}"


def _check_model(model: pe.ConcreteModel, obj, sense: int) -> bool:
    """Raise InputError('model') for constructs HiGHS cannot take; return True when the objective is quadratic."""
    reject_untranslated(model, "HiGHS")
    for sos in model.component_data_objects(pe.SOSConstraint, active=True, descend_into=True):
        raise InputError("model", f"SOS constraint {sos.name!r}: HiGHS does not take SOS constraints; "
                                  f"use solver 'scip'")
    cons = list(model.component_data_objects(pe.Constraint, active=True, descend_into=True))
    for c in cons:
        deg = polynomial_degree(c.body)
        if deg is None or deg > 1:
            raise InputError("model", f"constraint {c.name!r} is {_degree_text(deg)}; HiGHS takes linear constraints "
                                      f"only (LP, MILP, convex QP) - use solver 'scip'")
    deg = polynomial_degree(obj.expr)
    if deg is None or deg > 2:
        raise InputError("model", f"objective {obj.name!r} is {_degree_text(deg)}; HiGHS takes linear or convex "
                                  f"quadratic objectives only - use solver 'scip'")
    if deg < 2:
        return False
    repn = generate_standard_repn(obj.expr, quadratic=True, compute_values=True)
    if not repn.quadratic_vars:
        return False
    # MIQP: any free integer variable in the model
    seen = ComponentSet()
    for expr in [obj.expr] + [c.body for c in cons]:
        for v in identify_variables(expr, include_fixed=False):
            if v in seen:
                continue
            seen.add(v)
            if v.is_integer() or v.is_binary():
                raise InputError("model", f"the objective is quadratic and variable {v.name!r} is integer: HiGHS "
                                          f"cannot solve mixed-integer QP - use solver 'scip'")
    _check_convex(repn, sense, obj.name)
    return True


def _check_convex(repn, sense: int, name: str) -> None:
    """Convexity of sense * x'Qx, block by block (connected components of Q's sparsity pattern), numpy only."""
    index = ComponentMap()
    terms = []
    for (v1, v2), coef in zip(repn.quadratic_vars, repn.quadratic_coefs):
        terms.append((index.setdefault(v1, len(index)), index.setdefault(v2, len(index)), sense * float(coef)))
    parent = list(range(len(index)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, _ in terms:
        parent[root(i)] = root(j)
    blocks: dict[int, list[int]] = {}
    for i in range(len(index)):
        blocks.setdefault(root(i), []).append(i)
    where = {}
    for members in blocks.values():
        for pos, i in enumerate(members):
            where[i] = pos
    mats = {r: np.zeros((len(members), len(members))) for r, members in blocks.items()}
    for i, j, c in terms:
        Q = mats[root(i)]
        a, b = where[i], where[j]
        if a == b:
            Q[a, a] += c
        else:
            Q[a, b] += c / 2.0
            Q[b, a] += c / 2.0
    worst, scale = 0.0, 0.0
    for Q in mats.values():
        eig = np.linalg.eigvalsh(Q)
        worst = min(worst, float(eig.min()))
        scale = max(scale, float(np.abs(eig).max()))
    if worst < -_CONVEXITY_RTOL * max(1.0, scale):
        kind = "minimisation" if sense > 0 else "maximisation"
        raise InputError("model", f"objective {name!r} is a nonconvex quadratic for {kind} (Hessian eigenvalue "
                                  f"{sense * worst:.3g} has the wrong sign); HiGHS solves convex QP only and would "
                                  f"return a stationary point - use solver 'scip'")


def _validate_options(opts: dict[str, Any]) -> None:
    """Unknown HiGHS option or bad value -> InputError naming the option (Pyomo would ignore it silently)."""
    hs = _highspy()
    probe = hs.Highs()
    probe.setOptionValue("output_flag", False)
    for key, val in opts.items():
        if not isinstance(key, str):
            raise InputError("options", f"option names must be strings, got {key!r}")
        try:
            status = probe.setOptionValue(key, val)
        except Exception as e:  # highspy raises on some type mismatches
            raise InputError(key, f"invalid value {val!r} for HiGHS option {key!r}: {e}") from None
        if status == hs.HighsStatus.kError:
            known = probe.getOptionType(key)[0] == hs.HighsStatus.kOk
            if not known:
                raise InputError(key, f"unknown HiGHS option {key!r}")
            raise InputError(key, f"invalid value {val!r} for HiGHS option {key!r}")


# ----------------------------------------------------------------------------------------------- outcomes
def _error_lines(log: str) -> str:
    lines = [ln.strip() for ln in (log or "").splitlines() if ln.strip().startswith("ERROR")]
    return "; ".join(lines)


def _resolve_inf_or_unbd(h, solver_options: dict[str, Any],
                         remaining: float | None) -> tuple[SolverTermination, str] | None:
    """Decide 'infeasible or unbounded' by solving the same constraints with a zero objective (and no Hessian):
    a feasible point proves unboundedness, infeasibility proves infeasibility. None when undecided."""
    hs = _highspy()
    if remaining is not None and remaining <= 0:
        return None
    lp = h.getLp()
    lp.col_cost_ = np.zeros(lp.num_col_)
    lp.offset_ = 0.0
    probe = hs.Highs()
    probe.setOptionValue("output_flag", False)
    for k, v in solver_options.items():
        probe.setOptionValue(k, v)
    if remaining is not None:
        probe.setOptionValue("time_limit", float(remaining))
    probe.passModel(lp)
    probe.run()
    st = probe.getModelStatus()
    feasible = int(probe.getInfo().primal_solution_status) == int(hs.SolutionStatus.kSolutionStatusFeasible)
    if st == hs.HighsModelStatus.kOptimal and feasible:
        return SolverTermination.UNBOUNDED, "unbounded: a zero-objective re-solve found a feasible point"
    if st == hs.HighsModelStatus.kInfeasible:
        return SolverTermination.INFEASIBLE, "infeasible: a zero-objective re-solve proved infeasibility"
    return None


def _constant_constraints_violation(model: pe.ConcreteModel) -> float:
    worst = 0.0
    for c in model.component_data_objects(pe.Constraint, active=True, descend_into=True):
        body = pe.value(c.body)
        if c.has_lb():
            worst = max(worst, pe.value(c.lower) - body)
        if c.has_ub():
            worst = max(worst, body - pe.value(c.upper))
    return worst


def _iterations(info, is_mip: bool, is_qp: bool) -> int | None:
    if not info.valid:
        return None
    if is_mip:
        return max(0, int(info.mip_node_count))
    if is_qp:
        return max(0, int(info.qp_iteration_count))
    simplex = max(0, int(info.simplex_iteration_count))
    if simplex > 0:
        return simplex
    for other in (info.ipm_iteration_count, info.pdlp_iteration_count):
        if int(other) > 0:
            return int(other)
    return 0


def _numbers(outcome: SolverTermination, info, hs, res, *, is_mip: bool, has_inc: bool,
             sense: int) -> tuple[float | None, float, float | None, bool]:
    """(solver objective, bound, gap, loaded) of HiGHS's answer; loads the incumbent into the model if any."""
    solver_objective = gap = None
    bound = no_bound(sense)
    loaded = False
    if outcome in (SolverTermination.SOLVED, SolverTermination.GAP_LIMIT, SolverTermination.LIMIT):
        if is_mip:
            b = finite_or_inf(info.mip_dual_bound, hs.kHighsInf)
            bound = b if b is not None else no_bound(sense)
        elif outcome is SolverTermination.SOLVED and has_inc:
            bound = float(info.objective_function_value)
        if has_inc:
            solver_objective = float(info.objective_function_value)
            if is_mip:
                gap = finite_or_inf(info.mip_gap, hs.kHighsInf)
                if gap is None:
                    gap = rel_gap(solver_objective, bound)
            elif outcome is SolverTermination.SOLVED:
                gap = 0.0
            else:
                gap = rel_gap(solver_objective, bound)
            res.solution_loader.load_vars()
            loaded = True
    elif outcome in (SolverTermination.INFEASIBLE, SolverTermination.INF_OR_UNBD):
        bound = infeasible_bound(sense) if outcome is SolverTermination.INFEASIBLE else no_bound(sense)
    return solver_objective, bound, gap, loaded


# ----------------------------------------------------------------------------------------------- entry point
def solve(model: pe.ConcreteModel, *, time_limit: float | None = None, **options: Any) -> SolveResult:
    """Solve an LP, MILP or convex QP with HiGHS; see the module docstring for checks, outcomes and options."""
    prep = prepare(model, time_limit, options)
    watch, time_limit, gap_tol, solver_options, sense = (prep.watch, prep.time_limit, prep.gap_tol,
                                                         prep.solver_options, prep.sense)
    obj = active_objective(model)
    is_qp = _check_model(model, obj, sense)
    solver_options.setdefault("mip_rel_gap", gap_tol)
    _validate_options(solver_options)

    hs = _highspy()
    version = highs_version()
    vers = versions(highs=version, highspy=dist_version("highspy"))
    common = dict(solver=SOLVER, solver_version=version, versions=vers, watch=watch)

    from pyomo.contrib.solver.common.util import IncompatibleModelError
    from pyomo.contrib.solver.solvers.highs import Highs

    opt = Highs()
    res, failed = run_pyomo_solver(opt, model, prep, common, (IncompatibleModelError, NotImplementedError), "HiGHS")
    if failed is not None:
        return failed

    try:
        h = opt._solver_model
        model_status = h.getModelStatus()
        info = h.getInfo()
        text = h.modelStatusToString(model_status)
        outcome = _outcome_table().get(model_status, SolverTermination.ERROR)
        is_mip = bool(info.valid) and int(info.mip_node_count) >= 0
        has_inc = bool(info.valid) and (
            int(info.primal_solution_status) == int(hs.SolutionStatus.kSolutionStatusFeasible))
        iterations = _iterations(info, is_mip, is_qp)

        if model_status == hs.HighsModelStatus.kModelEmpty:
            if _constant_constraints_violation(model) <= _EMPTY_MODEL_FEASTOL:
                value = pe.value(obj.expr)
                st, cert, msg = classify(SolverTermination.SOLVED, has_incumbent=True, gap=0.0, gap_tol=gap_tol,
                                         solver_text=text)
                return make_result(model, loaded=True, status=st, certificate=cert, solver_objective=value,
                                   bound=value, gap=0.0, iterations=0, message=msg, **common)
            outcome, has_inc = SolverTermination.INFEASIBLE, False
            text = f"{text}; a constant constraint is violated"

        if outcome is SolverTermination.INF_OR_UNBD:
            decided = _resolve_inf_or_unbd(h, solver_options, watch.remaining(time_limit))
            if decided is not None:
                outcome, note = decided
                text = f"{text}; {note}"
        if outcome is SolverTermination.ERROR:
            errors = _error_lines(res.solver_log)
            if errors:
                text = f"{text}: {errors}"

        solver_objective, bound, gap, loaded = _numbers(outcome, info, hs, res, is_mip=is_mip, has_inc=has_inc,
                                                        sense=sense)
        status, cert, message = classify(outcome, has_incumbent=has_inc, gap=gap, gap_tol=gap_tol, solver_text=text)
        if status is Status.ERROR:
            solver_objective = gap = None
        return make_result(model, loaded=loaded, status=status, certificate=cert, solver_objective=solver_objective,
                           bound=bound, gap=gap, iterations=iterations, message=message, **common)
    except Exception as e:  # reading HiGHS's answer failed
        return error_result(model, sense=sense, exc=e, **common)
