"""The toy paper's methods, each returning an :class:`~solvers_adapters.algorithms.Outcome`:

* ``exact``: bisection on t over the feasibility LP (HiGHS), on the shared bracket engine (global);
* ``perron``: the closed form t* = 1 / max_k ρ(D_a⁻¹ (B + c e_kᵀ)) of max-min SINR under per-user power caps
  (Perron–Frobenius), with η the Perron vector of the maximising k scaled to η_k = 1.
"""
from __future__ import annotations

import numpy as np

from formulations.components.params import set_params
from solvers_adapters.algorithms import Outcome
from solvers_adapters.algorithms.bisection import Report, bracket
from solvers_adapters.base import solve_model
from solvers_adapters.result import Certificate, Status

from tests.toy_paper import formulation, model


def run_exact(instance, *, rel_tol: float = 1e-9, time_limit: float | None = None, seed=None) -> Outcome:
    co = model.coefficients(instance)
    lp = formulation.build(co)
    ones = np.ones(len(co.a))
    version = {}

    def oracle(q):
        set_params(lp, t=q.t)
        r = solve_model(lp, "highs", time_limit=q.remaining)
        version["highs"] = r.solver_version
        if r.status is Status.OPTIMAL:
            return Report.feasible(q.t, formulation.extract(lp))
        if r.status is Status.INFEASIBLE:
            return Report.infeasible(q.t)
        return Report(stop=r.status, message=r.message)

    lo, hi = float(model.sinr(co, ones).min()), float(np.min(co.a / co.c))
    br = bracket(oracle, lo, hi, rel_tol=rel_tol, point={"eta": ones}, time_limit=time_limit)
    closed = br.status is Status.OPTIMAL
    return Outcome(status=br.status if not closed else Status.OPTIMAL,
                   certificate=Certificate.GLOBAL if closed else Certificate.NONE, point=br.point,
                   formulation=formulation.INFO.name, solver="highs", solver_version=version.get("highs", ""),
                   solver_objective=br.lo, bound=br.hi,
                   gap=(br.hi - br.lo) / br.lo, iterations=br.iterations, trace=list(br.trace), message=br.message)


def run_perron(instance, *, time_limit: float | None = None, seed=None) -> Outcome:
    co = model.coefficients(instance)
    K = len(co.a)
    best = None
    for k in range(K):
        A = (co.B + np.outer(co.c, np.eye(K)[k])) / co.a[:, None]
        w, V = np.linalg.eig(A)
        i = int(np.argmax(w.real))
        if best is None or w[i].real > best[0]:
            best = (float(w[i].real), np.abs(V[:, i].real), k)
    rho, v, k = best
    eta = v / v[k]
    return Outcome(status=Status.OPTIMAL, certificate=Certificate.GLOBAL, point={"eta": np.minimum(eta, 1.0)},
                   formulation="closed-form", solver_objective=1.0 / rho, iterations=K)
