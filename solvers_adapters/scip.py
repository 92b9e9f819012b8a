"""SCIP adapter: MINLP and nonconvex NLP (also LP/MILP/QCQP), solved to global optimality (DESIGN.md §2).

How it is built
    The model is translated and solved by Pyomo's ``scip_direct``
    (:class:`pyomo.contrib.solver.solvers.scip.scip_direct.ScipDirect`, ``load_solutions=False``,
    ``raise_exception_on_nonoptimal_result=False``). Its :class:`Results` object lacks what a time-limited global
    solve must report, and its ``TerminationCondition`` maps SCIP's ``gaplimit`` to "converged" (so a run stopped by
    a loose ``limits/gap`` would look optimal) and memory/solution limits to "unknown". The adapter therefore reads
    the underlying ``pyscipopt.Model`` (``ScipDirect._solver_model``, a private attribute) for: the SCIP status, the
    dual bound (``getDualbound``, in the model's sense), the gap (``getGap``, SCIP's definition
    ``|primal - dual| / min(|primal|, |dual|)``), the total node count (``getNTotalNodes``), the best solution's
    objective (``getObjVal``) and the number of stored solutions. The best solution is loaded through Pyomo's
    solution loader, also after a limit.

    pyscipopt exposes the status only as the fixed vocabulary of ``Model.getStatus()``, a one-to-one rendering of
    the C enum ``SCIP_STATUS``; :data:`_STATUS_OF_TOKEN` turns it back into ``pyscipopt.SCIP_STATUS`` members and
    :data:`_OUTCOME` maps those members. No message text is ever matched.

    A subclass of ``ScipDirect`` wraps model translation so that expressions SCIP cannot take (unsupported
    functions, variable exponents of non-positive bases, ...) surface as ``InputError`` (field ``"model"``) rather
    than as a solver error.

Outcomes (``SCIP_STATUS`` -> cfopt)
    ``OPTIMAL`` / ``GAPLIMIT`` -> ``optimal``/``global`` when ``getGap() <= gap_tol``, else ``limit`` with message
    "gap limit: ..."; ``INFEASIBLE`` -> ``infeasible``; ``UNBOUNDED`` -> ``unbounded``; ``INFORUNBD`` -> re-solved with
    a zero objective within the remaining time (a feasible point => ``unbounded``, infeasible => ``infeasible``,
    undecided => ``infeasible`` with message "infeasible or unbounded ..."); ``TIMELIMIT``, ``NODELIMIT``,
    ``TOTALNODELIMIT``, ``STALLNODELIMIT``, ``MEMLIMIT``, ``SOLLIMIT``, ``BESTSOLLIMIT``, ``RESTARTLIMIT``,
    ``PRIMALLIMIT``, ``DUALLIMIT``, ``USERINTERRUPT`` -> ``limit`` with the incumbent loaded if one exists;
    ``UNKNOWN`` (or anything else) -> ``error``. ``message`` is SCIP's own "SCIP Status" line from its log.

Options
    ``gap_tol`` (default 1e-6, passed as ``limits/gap`` unless that is given) and ``tee`` (see
    :mod:`._pyomo_common`); every other keyword is a SCIP parameter under its own name (``limits/gap``,
    ``limits/nodes``, ``numerics/feastol``, ``randomization/randomseedshift``, ...), validated before the solve.
    ``time_limit`` becomes ``limits/time``.
"""
from __future__ import annotations

import functools
from typing import Any

import pyomo.environ as pe
from pyomo.common.tee import capture_output
from pyomo.core.expr.numvalue import polynomial_degree

from instances.errors import InputError
from solvers_adapters._stdio import native_stdout_to_stderr
from solvers_adapters.base import dist_version, versions
from solvers_adapters.result import SolveResult, Status
from solvers_adapters._pyomo_common import (SolverTermination, classify, error_result, finite_or_inf, infeasible_bound,
                                            make_result, no_bound, prepare, reject_untranslated, run_pyomo_solver)

SOLVER = "scip"


def _scip():
    import pyscipopt
    return pyscipopt


def scip_version() -> str:
    with native_stdout_to_stderr():
        m = _scip().Model()
    try:
        return f"{m.getMajorVersion()}.{m.getMinorVersion()}.{m.getTechVersion()}"
    except AttributeError:  # older pyscipopt
        return str(m.version())


def _status_of_token() -> dict[str, int]:
    """pyscipopt's ``Model.getStatus()`` vocabulary -> ``pyscipopt.SCIP_STATUS`` member (one-to-one)."""
    S = _scip().SCIP_STATUS
    return {
        "unknown": S.UNKNOWN, "userinterrupt": S.USERINTERRUPT, "nodelimit": S.NODELIMIT,
        "totalnodelimit": S.TOTALNODELIMIT, "stallnodelimit": S.STALLNODELIMIT, "timelimit": S.TIMELIMIT,
        "memlimit": S.MEMLIMIT, "gaplimit": S.GAPLIMIT, "sollimit": S.SOLLIMIT, "bestsollimit": S.BESTSOLLIMIT,
        "restartlimit": S.RESTARTLIMIT, "primallimit": S.PRIMALLIMIT, "duallimit": S.DUALLIMIT,
        "optimal": S.OPTIMAL, "infeasible": S.INFEASIBLE, "unbounded": S.UNBOUNDED, "inforunbd": S.INFORUNBD,
    }


def _outcome_table() -> dict[int, SolverTermination]:
    S = _scip().SCIP_STATUS
    return {
        S.OPTIMAL: SolverTermination.SOLVED,
        S.GAPLIMIT: SolverTermination.GAP_LIMIT,
        S.INFEASIBLE: SolverTermination.INFEASIBLE,
        S.UNBOUNDED: SolverTermination.UNBOUNDED,
        S.INFORUNBD: SolverTermination.INF_OR_UNBD,
        S.TIMELIMIT: SolverTermination.LIMIT,
        S.NODELIMIT: SolverTermination.LIMIT,
        S.TOTALNODELIMIT: SolverTermination.LIMIT,
        S.STALLNODELIMIT: SolverTermination.LIMIT,
        S.MEMLIMIT: SolverTermination.LIMIT,
        S.SOLLIMIT: SolverTermination.LIMIT,
        S.BESTSOLLIMIT: SolverTermination.LIMIT,
        S.RESTARTLIMIT: SolverTermination.LIMIT,
        S.PRIMALLIMIT: SolverTermination.LIMIT,
        S.DUALLIMIT: SolverTermination.LIMIT,
        S.USERINTERRUPT: SolverTermination.LIMIT,
        S.UNKNOWN: SolverTermination.ERROR,
    }


def scip_status(scip_model) -> int:
    """The ``pyscipopt.SCIP_STATUS`` member of a solved pyscipopt model."""
    return _status_of_token().get(scip_model.getStatus(), _scip().SCIP_STATUS.UNKNOWN)


class _TranslationError(Exception):
    pass


@functools.lru_cache(maxsize=None)
def _direct_class():
    from pyomo.contrib.solver.solvers.scip.scip_direct import ScipDirect

    class _ScipDirect(ScipDirect):
        """ScipDirect whose model-translation failures are told apart from solver failures, and which gives SCIP a
        linear objective directly instead of ScipDirect's epigraph variable (``t >= f(x)``, min ``t``)."""

        def _set_objective(self, obj):
            if obj is not None and polynomial_degree(obj.expr) in (0, 1):
                expr = self._expr_visitor.walk_expression(obj.expr)
                self._solver_model.setObjective(expr, sense="minimize" if obj.sense == pe.minimize else "maximize")
                self._objective = obj
                return
            super()._set_objective(obj)

        def _create_solver_model(self, model, config):
            try:
                return super()._create_solver_model(model, config)
            except Exception as e:
                raise _TranslationError(f"{type(e).__name__}: {e}") from e

    return _ScipDirect


def _validate_options(opts: dict[str, Any]) -> None:
    """Unknown SCIP parameter or bad value -> InputError naming the parameter."""
    probe = _scip().Model()
    probe.hideOutput()
    with capture_output(capture_fd=True):  # SCIP prints its own error lines for rejected values
        for key, val in opts.items():
            if not isinstance(key, str):
                raise InputError("options", f"SCIP parameter names must be strings, got {key!r}")
            try:
                probe.setParam(key, val)
            except KeyError:
                raise InputError(key, f"unknown SCIP parameter {key!r}") from None
            except Exception as e:
                raise InputError(key, f"invalid value {val!r} for SCIP parameter {key!r}: {e}") from None


def _status_line(log: str, fallback: str) -> str:
    for line in reversed((log or "").splitlines()):
        if line.startswith("SCIP Status"):
            return line.split(":", 1)[1].strip()
    return fallback


def _resolve_inf_or_unbd(s, remaining: float | None) -> tuple[SolverTermination, str] | None:
    """Decide SCIP's 'infeasible or unbounded' by re-solving with a zero objective: a feasible point proves
    unboundedness, infeasibility proves infeasibility. None when undecided."""
    S = _scip().SCIP_STATUS
    if remaining is not None and remaining <= 0:
        return None
    s.freeTransform()
    s.setObjective(0.0, sense="minimize")
    if remaining is not None:
        s.setParam("limits/time", float(remaining))
    with capture_output(capture_fd=True):
        s.optimize()
    st = scip_status(s)
    if s.getNSols() > 0:
        return SolverTermination.UNBOUNDED, "unbounded: a zero-objective re-solve found a feasible point"
    if st == S.INFEASIBLE:
        return SolverTermination.INFEASIBLE, "infeasible: a zero-objective re-solve proved infeasibility"
    return None


def solve(model: pe.ConcreteModel, *, time_limit: float | None = None, **options: Any) -> SolveResult:
    """Solve any algebraic Pyomo model to global optimality with SCIP; see the module docstring."""
    prep = prepare(model, time_limit, options)
    watch, time_limit, gap_tol, solver_options, sense = (prep.watch, prep.time_limit, prep.gap_tol,
                                                         prep.solver_options, prep.sense)
    reject_untranslated(model, "SCIP")
    solver_options.setdefault("limits/gap", gap_tol)
    # SCIP's log reaches Pyomo through a pipe drained by a Python thread while pyscipopt's optimize() holds the GIL:
    # a log longer than the pipe buffer (64 KiB) blocks SCIP for good, time limit or not. Silence it unless the
    # caller watches it (tee=True, short runs).
    solver_options.setdefault("display/verblevel", 4 if prep.tee else 0)
    _validate_options(solver_options)

    version = scip_version()
    vers = versions(scip=version, pyscipopt=dist_version("pyscipopt"))
    common = dict(solver=SOLVER, solver_version=version, versions=vers, watch=watch)

    opt = _direct_class()()
    res, failed = run_pyomo_solver(opt, model, prep, common, (_TranslationError,), "SCIP")
    if failed is not None:
        return failed

    try:
        s = opt._solver_model
        infinity = s.infinity()
        code = scip_status(s)
        outcome = _outcome_table().get(code, SolverTermination.ERROR)
        text = _status_line(res.solver_log, f"SCIP status {s.getStatus()!r}")
        iterations = int(s.getNTotalNodes())
        nsols = s.getNSols()

        if outcome is SolverTermination.INF_OR_UNBD:
            decided = _resolve_inf_or_unbd(s, watch.remaining(time_limit))
            if decided is not None:
                outcome, note = decided
                text = f"{text}; {note}"

        has_inc = nsols > 0 and outcome in (SolverTermination.SOLVED, SolverTermination.GAP_LIMIT,
                                            SolverTermination.LIMIT)
        solver_objective = gap = None
        bound = no_bound(sense)
        loaded = False
        if outcome in (SolverTermination.SOLVED, SolverTermination.GAP_LIMIT, SolverTermination.LIMIT):
            b = finite_or_inf(s.getDualbound(), infinity)
            bound = b if b is not None else no_bound(sense)
            if has_inc:
                solver_objective = finite_or_inf(s.getObjVal(), infinity)
                gap = finite_or_inf(s.getGap(), infinity)
                res.solution_loader.load_vars()
                loaded = True
        elif outcome is SolverTermination.INFEASIBLE:
            bound = infeasible_bound(sense)

        status, cert, message = classify(outcome, has_incumbent=has_inc, gap=gap, gap_tol=gap_tol, solver_text=text)
        if status is Status.ERROR:
            solver_objective = gap = None
        return make_result(model, loaded=loaded, status=status, certificate=cert, solver_objective=solver_objective,
                           bound=bound, gap=gap, iterations=iterations, message=message, **common)
    except Exception as e:  # reading SCIP's answer failed
        return error_result(model, sense=sense, exc=e, **common)
