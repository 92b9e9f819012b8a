"""Registers problem ``uplink-ee`` (paper 000, Khan–Karthik R.M.–Agnihotri): maximise the uplink EE (11a) over UE
powers η and the binary AP–UE association D subject to the sum-SE floor (11d).

Methods (the runners live in solvers_adapters/; each result is re-scored by :mod:`models.uplink_ee`):

=================  ==========  ================================================================================
``exact``          exact       MINLP (11) in epigraph form, SCIP (global; orthogonal pilots)
``relaxed``        relaxation  NLP (13) by Ipopt, then binary recovery with (11d) re-checked
``ao-qt``          heuristic   Algorithm 1: alternating QT sub-problems (23)/(24), Ipopt, binary recovery
``all-serve-all``  baseline    every AP serves every UE; powers by the (23) iterations
``lsfc-95``        baseline    d_mt = 1 iff β_mt ≥ 0.95 max_m β_mt, full power (Section V initial association)
=================  ==========  ================================================================================

Stated ratios (worst EE / certified optimum promised on the certified library instances, checked by
``cfopt validate``): ``ao-qt`` 0.85 (measured worst 0.870 on tiny-ulee-12, median 0.9995), ``relaxed`` 0.95
(its recovered binary point; measured worst 0.981 on tiny-ulee-03). Baselines promise nothing.

Every runner takes ``se_qos`` (SE^QoS in bit/s/Hz, overriding the instance's ``qos.sum_se_min_bps_hz``), which is
what the ε-constraint Pareto sweep (:mod:`experiments.pareto`) varies.
"""
from __future__ import annotations

from typing import Any

from .pareto import ParetoSpec
from .registry import Method, Problem, register

PROBLEM_ID = "uplink-ee"


def _exact(instance, **kw):
    from solvers_adapters.uplink_ee_exact import run_exact

    return run_exact(instance, **kw)


def _relaxed(instance, **kw):
    from solvers_adapters.uplink_ee_exact import run_relaxed

    return run_relaxed(instance, **kw)


def _ao_qt(instance, **kw):
    from solvers_adapters.ao_qt import run_ao_qt

    return run_ao_qt(instance, **kw)


def _all_serve_all(instance, **kw):
    from solvers_adapters.ao_qt import run_all_serve_all

    return run_all_serve_all(instance, **kw)


def _lsfc95(instance, **kw):
    from solvers_adapters.ao_qt import run_lsfc95

    return run_lsfc95(instance, **kw)


def _evaluate(instance, solution: dict[str, Any], **options):
    from models.uplink_ee import evaluate

    return evaluate(instance, solution, **options)


def _se_max(instance, method: str, **kw):
    """The SE-max end point of the trade-off for ``method``'s family: SCIP for ``exact``/``relaxed`` (proved), the QT
    machinery otherwise. Returns the SolveResult (objective field = EE at that point; sum SE in the solution)."""
    if method in ("exact", "relaxed"):
        from solvers_adapters.uplink_ee_exact import run_exact

        return run_exact(instance, objective="sum_se", **kw)
    from models.uplink_ee import prepare
    from solvers_adapters.ao_qt import max_sum_se
    from solvers_adapters.base import dist_version
    from solvers_adapters.uplink_ee_common import uplink_result

    seed = kw.pop("seed", None)
    top = max_sum_se(instance, **kw)
    return uplink_result(prepare(instance, se_qos=0.0), method=method, formulation="qt-sum-se", solver="cfopt",
                         solver_version=dist_version("cfopt"), status="feasible",
                         certificate="stationary" if top.converged else "none", eta=top.eta, assoc=top.assoc,
                         wall_time_s=top.wall_time_s, iterations=top.iterations, trace=list(top.trace), seed=seed,
                         message="SE-max end point by QT iterations on the powers with D = all ones (not a proof)")


PROBLEM = register(Problem(
    id=PROBLEM_ID,
    paper="000 (Khan, Karthik R.M., Agnihotri, arXiv 2501.01271)",
    description="uplink distributed massive MIMO: max EE s.t. sum-SE floor over UE powers and AP–UE association",
    evaluate=_evaluate,
    methods={m.name: m for m in (
        Method("exact", _exact, "exact", "MINLP (11), epigraph of the EE ratio, SCIP (global)"),
        Method("relaxed", _relaxed, "relaxation",
               "NLP relaxation (13) by Ipopt + binary recovery (a feasible point); stated ratio 0.95 of the "
               "certified optimum (measured worst 0.981 on tiny-ulee-03, median 0.9996)", stated_ratio=0.95),
        Method("ao-qt", _ao_qt, "heuristic",
               "Algorithm 1: alternating quadratic-transform sub-problems (23)/(24); stated ratio 0.85 of the "
               "certified optimum (measured worst 0.870 on tiny-ulee-12, a local point; median 0.9995)",
               stated_ratio=0.85),
        Method("all-serve-all", _all_serve_all, "baseline", "all APs serve all UEs, powers optimised"),
        Method("lsfc-95", _lsfc95, "baseline", "95 %-of-max-LSFC association, full power"),
    )},
    pareto=ParetoSpec(parameter="se_qos", parameter_label="SE^QoS [bit/s/Hz]", objective_label="EE [Mbit/J]",
                      achieved_key="sum_se_bps_hz", achieved_label="sum SE [bit/s/Hz]", max_endpoint=_se_max),
))
