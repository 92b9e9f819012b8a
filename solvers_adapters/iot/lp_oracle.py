"""The LP feasibility test of the paper-003 uplink max-min bisection (Rao, Ashikhmin, Yang, arXiv 2006.10363, spec
``iot_nonorthogonal.md`` §2.7, §3.5): the LP of :func:`formulations.iot.uplink.build_maxmin_feasibility`, built once
and tested at many SINR levels t, through highspy directly or through Pyomo.

The HiGHS LPs use ``primal_feasibility_tolerance`` = ``dual_feasibility_tolerance`` = 1e-9 (:data:`HIGHS_OPTIONS`;
the default 1e-7 is too loose for a 1e-6 bracket); SCIP uses ``numerics/feastol`` = 1e-9 (:data:`SCIP_OPTIONS`).
``interface="direct"`` is the default (the Pyomo path re-translates the dense model at every solve); both give the
same verdicts and brackets (tested).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from formulations.iot import uplink as F
from instances.errors import InputError
from models.common.sinr import LinearFractional
from solvers_adapters._stdio import native_stdout_to_stderr
from solvers_adapters.algorithms.options import solver_versions
from solvers_adapters.base import solve_model
from solvers_adapters.result import Status

__all__ = ["HIGHS_OPTIONS", "SCIP_OPTIONS", "LPFeasibility", "highs_version"]

#: HiGHS options of every LP solved here (tighter than the default 1e-7; a 1e-6 bracket needs it)
HIGHS_OPTIONS = {"primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9}
#: SCIP options of every model solved here (overridable per call)
SCIP_OPTIONS = {"numerics/feastol": 1e-9, "numerics/dualfeastol": 1e-9, "display/verblevel": 0}


def highs_version() -> str:
    from solvers_adapters.highs import highs_version as version
    return version()


class LPFeasibility:
    """The LP of :func:`formulations.iot.uplink.build_maxmin_feasibility`, built once, tested at many levels t.

    ``interface="direct"`` (HiGHS only): the same LP handed to highspy as dense column-wise arrays
    (η ∈ [0,1]^K, min Σ η, rows t·Bn − I ≤ −t·cn); each new t re-passes the matrix (numpy, no Python loop) and
    restarts simplex from the previous optimal basis (warm start). ``interface="pyomo"``: the Pyomo model, only its
    mutable Param ``t`` changes, solved by :func:`solvers_adapters.solve_model` (``"highs"`` or ``"scip"``).

    :meth:`test` returns ``(feasible, eta, lp_iterations)``; an LP that ends neither optimal nor infeasible raises
    :class:`_LPFailure` (a time limit raises :class:`_LPTimeLimit`)."""

    def __init__(self, lf: LinearFractional, *, solver: str = "highs", interface: str = "direct",
                 solver_options: dict[str, Any] | None = None):
        lf = F.check_lf(lf)
        if solver not in ("highs", "scip"):
            raise InputError("solver", f"expected 'highs' or 'scip', got {solver!r}")
        if interface not in ("direct", "pyomo"):
            raise InputError("interface", f"expected 'direct' or 'pyomo', got {interface!r}")
        if interface == "direct" and solver != "highs":
            raise InputError("interface", "the direct interface exists for HiGHS only; use interface='pyomo'")
        self.lf, self.solver, self.interface = lf, solver, interface
        self.K = lf.K
        base = dict(HIGHS_OPTIONS if solver == "highs" else SCIP_OPTIONS)
        base.update(solver_options or {})
        self.options = base
        n = lf.normalised()
        self._Bn, self._cn = n.B, n.c
        if interface == "direct":
            import highspy
            self._hs = highspy
            with native_stdout_to_stderr():   # highspy ≥ 1.16 prints a banner from the constructor
                self._h = highspy.Highs()
            self._h.setOptionValue("output_flag", False)
            for k, v in self.options.items():
                if self._h.setOptionValue(k, v) == highspy.HighsStatus.kError:
                    raise InputError(k, f"unknown HiGHS option or bad value {v!r}")
            self._basis = None
            K = self.K
            self._start = np.arange(0, K * K + 1, K, dtype=np.int32)
            self._index = np.tile(np.arange(K, dtype=np.int32), K)
            self._BnF = np.asfortranarray(self._Bn).ravel(order="F")     # column-wise values of Bn
            self._diag = np.arange(K) * (K + 1)                            # positions of Bn_jj in that order
            lp = highspy.HighsLp()
            lp.num_col_, lp.num_row_ = K, K
            lp.col_cost_, lp.col_lower_, lp.col_upper_ = np.ones(K), np.zeros(K), np.ones(K)
            lp.row_lower_ = np.full(K, -highspy.kHighsInf)
            lp.row_upper_ = np.zeros(K)
            lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
            lp.a_matrix_.start_ = self._start
            lp.a_matrix_.index_ = self._index
            lp.a_matrix_.value_ = np.zeros(K * K)
            self._lp = lp
        else:
            self.model = F.build_maxmin_feasibility(lf)
        self.version = highs_version() if solver == "highs" else None
        self.versions: dict[str, str] = {}

    def test(self, t: float, time_limit: float | None = None) -> tuple[bool, np.ndarray | None, int]:
        if time_limit is not None and time_limit <= 0:
            raise _LPTimeLimit()
        if self.interface == "direct":
            with native_stdout_to_stderr():
                return self._test_direct(t, time_limit)
        return self._test_pyomo(t, time_limit)

    def _test_direct(self, t: float, time_limit: float | None):
        hs, h = self._hs, self._h
        vals = t * self._BnF
        vals[self._diag] -= 1.0
        h.setOptionValue("time_limit", float("inf") if time_limit is None else float(time_limit))
        lp = self._lp
        lp.row_upper_ = -t * self._cn
        lp.a_matrix_.value_ = vals
        h.passModel(lp)
        if self._basis is not None:
            h.setBasis(self._basis)
        h.run()
        st = h.getModelStatus()
        info = h.getInfo()
        its = max(0, int(info.simplex_iteration_count))
        if st == hs.HighsModelStatus.kOptimal:
            self._basis = h.getBasis()
            return True, np.asarray(h.getSolution().col_value, dtype=float), its
        if st in (hs.HighsModelStatus.kInfeasible, hs.HighsModelStatus.kUnboundedOrInfeasible):
            return False, None, its         # the box 0 ≤ η ≤ 1 rules out unboundedness
        if st == hs.HighsModelStatus.kTimeLimit:
            raise _LPTimeLimit()
        raise _LPFailure(f"HiGHS ended with {h.modelStatusToString(st)} at t = {t:.10g}")

    def _test_pyomo(self, t: float, time_limit: float | None):
        F.set_target(self.model, t)
        r = solve_model(self.model, self.solver, time_limit=time_limit, **self.options)
        self.version = r.solver_version
        self.versions = solver_versions(r, "highs", "scip")
        its = int(r.iterations or 0)
        if r.status is Status.OPTIMAL:
            return True, F.extract(self.model)["eta"], its
        if r.status is Status.INFEASIBLE:
            return False, None, its
        if r.status is Status.LIMIT:
            raise _LPTimeLimit()
        raise _LPFailure(f"{self.solver} ended with {r.status.value} at t = {t:.10g}: {r.message}")


class _LPFailure(RuntimeError):
    pass


class _LPTimeLimit(RuntimeError):
    pass

