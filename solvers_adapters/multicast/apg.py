"""Methods ``apg`` (Algorithm 1 with AP selection) and ``apg-power-only`` (all a = 1) of paper 001, spec
``unicast_multicast.md`` §6.

``apg``: penalty continuation [L: Mai code]/[G] — Algorithm 1 (:mod:`.apg_core`) from the §6.6 start (θ = √(P/S),
a = ``a_init``, default 1 [G]: all APs serving; 0.5 alone, as in §6.6, lost up to 40 % on tiny MR cards; and a
second start a = ``second_start`` = 0.5 [G], which finds the link drops a fronthaul limit needs), warm-started round
after round, every λ ×10 while a penalised violation (QoS, fronthaul, coverage, load:
√(penalty sum) > ``viol_tol``; binary: Σ(a − a²) > ``viol_tol``) remains, at most ``max_outer`` rounds; then
round and repair (:func:`.common.round_and_repair`), θ = 0 off the links, and (``power_only_polish``) a power-only
continuation with the association fixed (§6.6 post-processing step 6) for every candidate [G] — each start's rounded
association from its θ and from equal power, and the (repaired) association a_init — the best kept: feasible
for the evaluator first, then the largest SSE (so ``apg`` never ends below its own start's power-only value). ``apg-power-only``: the same continuation
with a = 1 fixed. Both penalise targets tightened by ``margin`` (2·10⁻³ bit/s/Hz, :func:`.common.with_margin`)
so that the end point meets the true ones. Status ``feasible`` (certificate ``stationary`` when the last inner run converged) or
``infeasible`` when the evaluator finds a QoS/fronthaul/load target missed.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from formulations.multicast import apg as FA
from solvers_adapters.algorithms import Clock, Outcome
from solvers_adapters.multicast.apg_core import APGSettings, run_algorithm1
from solvers_adapters.multicast.common import (evaluate_point, finish, no_options, point, round_and_repair, system,
                                              with_margin)
from solvers_adapters.result import Certificate

__all__ = ["run_apg", "run_apg_power_only", "continuation"]


def continuation(sys_, theta, a, pen, *, settings: APGSettings, mask=None, max_outer: int = 8,
                 viol_tol: float = 1e-3, clock: Clock, time_limit: float | None) -> dict[str, Any]:
    """Penalty continuation around Algorithm 1 (module docstring); returns θ, a, the F trace, the c trace, the
    rounds and whether the last inner run converged."""
    trace, c_trace, rounds, converged = [], [], 0, False
    for rounds in range(1, max_outer + 1):
        res = run_algorithm1(sys_, theta, a, pen, settings=settings, mask=mask, clock=clock, time_limit=time_limit)
        theta, a = res.state.x[0], res.state.x[1]
        trace += res.trace
        c_trace += res.state.c_trace
        converged = res.converged
        t = FA.terms(sys_, theta, a, pen)
        soft = max(t.get(k, 0.0) for k in ("qos", "fronthaul", "coverage", "max_streams"))
        binary = 0.0 if mask is not None else t.get("binary", 0.0)
        if (math.sqrt(max(soft, 0.0)) <= viol_tol and binary <= viol_tol) or clock.expired(time_limit):
            break
        pen = pen.scaled(10.0)
    return {"theta": theta, "a": a, "trace": trace, "c_trace": c_trace, "rounds": rounds, "converged": converged,
            "penalties": pen}


def _polish(sys_, candidates, pen, st, max_outer, clock, time_limit, score):
    """§6.6 step 6: power-only continuation with the association fixed, for each (a, θ start) candidate; the pair
    with the best ``score(a, θ)`` wins (the evaluator's (feasible, SSE) on the true targets). Returns (a, θ, trace,
    rounds)."""
    best, trace, rounds = None, [], 0
    for a, th in candidates:
        if clock.expired(time_limit) and best is not None:
            break
        p = continuation(sys_, FA.project_power_only(th, a > 0.5, sys_.P), a, pen, settings=st, mask=a,
                         max_outer=max_outer, clock=clock, time_limit=time_limit)
        F = score(a, p["theta"])
        trace, rounds = trace + p["trace"], rounds + p["rounds"]
        if best is None or F > best[0]:
            best = (F, a, p["theta"])
    return best[1], best[2], trace, rounds


def _score(instance, sys_, prec, a, theta) -> tuple[bool, float]:
    ev = evaluate_point(instance, point(sys_, a, a * theta), prec)
    return ev.feasible, ev.objective


def _settings(max_iter: int, tol: float) -> APGSettings:
    return APGSettings(max_iter=int(max_iter), tol=float(tol))


def _joint(sys_, starts, pen, st, max_outer, clock, time_limit) -> dict[str, Any]:
    """The joint continuation from every a⁰ in ``starts`` and the polish candidates (rounded association with the
    run's θ and with equal power, and the repaired start); the polish restarts the continuation at the initial λ."""
    runs = [continuation(sys_, *FA.initial_point(sys_, a0), pen, settings=st, max_outer=max_outer, clock=clock,
                         time_limit=time_limit) for a0 in starts]
    th0 = FA.initial_point(sys_)[0]
    cands = [(round_and_repair(sys_, np.full((sys_.M, sys_.S), float(starts[0]))), th0)]
    for r in runs:
        a = round_and_repair(sys_, r["a"])
        cands += [(a, FA.project_power_only(r["theta"], a > 0.5, sys_.P)), (a, th0)]
    return {"runs": runs, "cands": cands, "first": runs[0]}


def run_apg(instance, *, precoding: str | None = None, time_limit: float | None = None, seed: int | None = None,
            max_iter: int = 1000, tol: float = 1e-3, lambda_b: float = 0.1, lambda_q: float = 1.0,
            lambda_f: float = 1.0, lambda_c: float = 1.0, lambda_n: float = 1.0, max_outer: int = 8,
            power_only_polish: bool = True, a_init: float = 1.0, second_start: float | None = 0.5,
            margin: float = 2e-3, **options: Any) -> Outcome:
    """Algorithm 1 with AP selection (module docstring); deterministic (``seed`` only recorded)."""
    no_options(options, "apg")
    clock, (sys0, prec) = Clock(), system(instance, precoding)
    sys_, st = with_margin(sys0, margin), _settings(max_iter, tol)
    starts = (a_init,) if second_start is None or second_start == a_init else (a_init, second_start)
    pen = FA.Penalties(lambda_b, lambda_q, lambda_f, lambda_c, lambda_n)
    j = _joint(sys_, starts, pen, st, max_outer, clock, time_limit)
    trace, rounds = [v for r in j["runs"] for v in r["trace"]], sum(r["rounds"] for r in j["runs"])
    a, theta = j["cands"][1]
    if power_only_polish:
        a, theta, more, k = _polish(sys_, j["cands"], pen, st, max_outer, clock, time_limit,
                                    lambda a_, th: _score(instance, sys0, prec, a_, th))
        trace, rounds = trace + more, rounds + k
    r = j["first"]
    return finish(instance, sys0, prec, a, a * theta, formulation="apg-penalty",
                  certificate=Certificate.STATIONARY if r["converged"] else Certificate.NONE,
                  iterations=len(trace), trace=trace, series={"c": r["c_trace"]}, wall_time_s=clock.elapsed(),
                  message=f"APG: {len(starts)} start(s), {rounds} penalty rounds, {len(trace)} iterations",
                  extra={"outer_rounds": rounds, "a_relaxed": np.asarray(r["a"]).tolist()})


def run_apg_power_only(instance, *, precoding: str | None = None, time_limit: float | None = None,
                       seed: int | None = None, max_iter: int = 1000, tol: float = 1e-3, lambda_q: float = 1.0,
                       lambda_f: float = 1.0, max_outer: int = 8, margin: float = 2e-3, **options: Any) -> Outcome:
    """Power control only (spec §8 (ii)): every AP serves every stream (a = 1 fixed), Algorithm 1 on θ."""
    no_options(options, "apg-power-only")
    clock, (sys0, prec) = Clock(), system(instance, precoding)
    sys_ = with_margin(sys0, margin)
    pen = FA.Penalties(0.0, lambda_q, lambda_f, 0.0, 0.0)
    a = np.ones((sys_.M, sys_.S))
    th0, _ = FA.initial_point(sys_)
    r = continuation(sys_, th0, a, pen, settings=_settings(max_iter, tol), mask=a, max_outer=max_outer,
                     clock=clock, time_limit=time_limit)
    return finish(instance, sys0, prec, a, r["theta"], formulation="apg-penalty",
                  certificate=Certificate.STATIONARY if r["converged"] else Certificate.NONE,
                  iterations=len(r["trace"]), trace=r["trace"], series={"c": r["c_trace"]},
                  wall_time_s=clock.elapsed(), message=f"APG power only: {r['rounds']} penalty rounds")
