"""Method ``sca`` of paper 001: Algorithm 2 (spec ``unicast_multicast.md`` §7, [G] standard construction).

The convex sub-problem :mod:`formulations.multicast.sca` is built once; each iteration moves it to the last solution
(mutable Params) and Ipopt solves it warm-started (its KKT point is the sub-problem's global optimum: the model is
convex). Step 1's feasibility phase is built in: the QoS rows carry slacks penalised by ``lambda_s`` (10³ [G]:
100 left a demanding ZF QoS card short of its floor). Inner loop on the
shared skeleton: stop at relative change of the sub-problem objective ≤ ``tol`` (10⁻³) once no QoS slack is left,
or at ``max_iter`` (50);
outer continuation λ_b ∈ ``lambda_b_schedule`` (0.1, 1, 10, 100) until max|a − round(a)| < 10⁻³; then round and
repair (:func:`.common.round_and_repair`), fix a and iterate on the powers (the polish; ``series["lambda_b"]`` = 0 there;
stop at ``polish_tol`` 10⁻⁶ or ``polish_max_iter`` 300: with a binding fronthaul row the minorant/majorant pair moves
slowly, and 10⁻³ stopped far from the fixed-a optimum), and score with the exact SEs of §4. With a fronthaul limit the
polish also runs from the densest association (31f) allows and keeps the better feasible point (:func:`_polish`); the
fronthaul rows carry a penalised slack, so no sub-problem is infeasible from an overloaded start. A point missing a
target → status ``infeasible`` (point kept). Deterministic (``seed`` recorded).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from formulations.multicast import sca as FS
from models.multicast import system as S
from solvers_adapters.algorithms import AnyOf, Clock, MaxIter, Outcome, RelChange, Stop, TimeLimit, iterate
from solvers_adapters.algorithms.options import solver_versions
from solvers_adapters.base import solve_model
from solvers_adapters.multicast.common import evaluate_point, finish, point, round_and_repair, system
from solvers_adapters.result import Status

__all__ = ["run_sca", "IPOPT_OPTIONS"]

IPOPT_OPTIONS = {"tol": 1e-8, "print_level": 0}


class _SlackFree:
    """RelChange(tol) that does not fire while a QoS slack is still positive (the feasibility phase goes on)."""

    converges = True

    def __init__(self, alg: "_SCA", tol: float) -> None:
        self.alg, self.rel = alg, RelChange(tol)

    def __call__(self, state) -> str | None:
        return None if self.alg.slack > 1e-9 else self.rel(state)


class _SCA:
    def __init__(self, sys_, clock: Clock, time_limit, ipopt: dict[str, Any], lam_s: float) -> None:
        self.sys, self.clock, self.time_limit, self.ipopt = sys_, clock, time_limit, ipopt
        self.model = FS.build(sys_, lam_s=lam_s)
        self.d = self.model._cfopt["data"]
        self.solves, self.versions, self.trace, self.stage, self.slack = 0, {}, [], [], 0.0

    def solve(self, xt, a, rho, lam_b):
        FS.linearise(self.model, xt, a, lambda z: S.se_of_sinr(self.sys, z), rho=rho, lam_b=lam_b)
        FS.set_point(self.model, xt, a)
        r = solve_model(self.model, "ipopt", time_limit=self.clock.remaining(self.time_limit), **self.ipopt)
        self.solves += 1
        self.versions = solver_versions(r, "ipopt")
        if r.status not in (Status.OPTIMAL, Status.FEASIBLE) or r.objective is None:
            raise Stop(f"sub-problem {self.solves}: ipopt {r.status.value} ({r.message})")
        cur = FS.current(self.model)
        slacks = list(self.model.q.values()) + (list(self.model.f.values()) if cur["rho"] is not None else [])
        self.slack = float(sum(max(v.value or 0.0, 0.0) for v in slacks))
        return cur["xt"], cur["a"], cur["rho"], float(r.objective)

    def inner(self, xt, a, rho, lam_b, max_iter, tol):
        def step(s):
            return self.solve(s[0], s[1], s[2], lam_b)

        res = iterate(lambda: (xt, a, rho, -math.inf), step, value=lambda s: s[3],
                      until=AnyOf(_SlackFree(self, tol), MaxIter(max_iter), TimeLimit(self.time_limit, self.clock)),
                      clock=self.clock)
        self.trace += list(res.trace)
        self.stage += [float(lam_b)] * len(res.trace)
        return res.state[0], res.state[1], res.state[2], res


def run_sca(instance, *, precoding: str | None = None, time_limit: float | None = None, seed: int | None = None,
            max_iter: int = 50, tol: float = 1e-3, lambda_b_schedule: tuple = (0.1, 1.0, 10.0, 100.0),
            polish: bool = True, lambda_s: float = 1e3, polish_tol: float = 1e-6, polish_max_iter: int = 300,
            **options: Any) -> Outcome:
    """Algorithm 2 (module docstring); ``options`` go to Ipopt (defaults :data:`IPOPT_OPTIONS`)."""
    clock, (sys_, prec) = Clock(), system(instance, precoding)
    alg = _SCA(sys_, clock, time_limit, {**IPOPT_OPTIONS, **options}, lambda_s)
    xt = np.full((sys_.M, sys_.S), 1.0 / math.sqrt(sys_.S))
    a, rho, reason = np.full((sys_.M, sys_.S), max(0.5, 1.0 / sys_.S)), None, ""
    for lam_b in lambda_b_schedule:
        xt, a, rho, res = alg.inner(xt, a, rho, lam_b, max_iter, tol)
        reason = res.reason
        if np.max(np.abs(a - np.round(a))) < 1e-3 or clock.expired(time_limit) or res.iterations == 0:
            break
    a = round_and_repair(sys_, a)
    xt = np.minimum(xt, a)
    if polish and not clock.expired(time_limit):
        a, xt, reason = _polish(alg, instance, prec, a, xt, rho, polish_max_iter, polish_tol, reason)
    x = xt * a * alg.d.sqrtP[:, None]
    return finish(instance, sys_, prec, a, x, formulation="sca-subproblem", solver="ipopt",
                  solver_versions=alg.versions, iterations=alg.solves, trace=alg.trace,
                  series={"lambda_b": alg.stage}, wall_time_s=clock.elapsed(),
                  message=f"SCA: {alg.solves} sub-problems; {reason}")


def _candidates(sys_, a) -> list[np.ndarray]:
    """Associations to polish [G]: the rounded one, then (with a fronthaul limit, where the relaxed a·ϱ load steers
    the continuation to sparse links) the densest one allowed by (31f) (:func:`.common.round_and_repair` of all ones)."""
    out = [a]
    if sys_.fh_cap is not None:
        dense = round_and_repair(sys_, np.ones_like(a))
        if not np.array_equal(dense, a):
            out.append(dense)
    return out


def _polish(alg: _SCA, instance, prec, a0, xt0, rho, max_iter, tol, reason):
    """Fix each candidate association and run the SCA power iterations on it (the fronthaul row, linearised around
    each iterate, is exact at convergence; its slack keeps every sub-problem feasible); keep the best point that the
    evaluator finds feasible (else the one of largest objective)."""
    best = None
    for k, a in enumerate(_candidates(alg.sys, a0)):
        if k and alg.clock.expired(alg.time_limit):
            break
        for (j, s), v in np.ndenumerate(a):
            alg.model.a[j, s].fix(float(v))
        xs = np.minimum(xt0, a) if k == 0 else np.where(a > 0, np.maximum(xt0, 1e-2), 0.0)
        try:
            xt, _, _, res = alg.inner(xs, a, rho, 0.0, max_iter, tol)
        except Stop:
            if k == 0:
                raise
            continue
        ev = evaluate_point(instance, point(alg.sys, a, xt * a * alg.d.sqrtP[:, None]), prec)
        key = (bool(ev.feasible), float(ev.objective or 0.0))
        if best is None or key > best[0]:
            best = (key, a, xt, res.reason)
    return best[1], best[2], best[3] if best[3] else reason
