"""Registers problem ``uplink-ee`` (paper 000, Khan–Karthik R.M.–Agnihotri): maximise the uplink EE (11a) over UE
powers η and the binary AP–UE association D subject to the sum-SE floor (11d).

Methods (the runners live in solvers_adapters/ and return an Outcome; :func:`experiments.results.make_result` re-scores
it with :mod:`models.uplink_ee.system` and :func:`_solution_view` keeps the solution keys):

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

from experiments.options import Option
from experiments.pareto import ParetoSpec
from experiments.registry import Method, Problem, register

PROBLEM_ID = "uplink-ee"


def _exact(instance, **kw):
    from solvers_adapters.uplink_ee.exact import run_exact

    return run_exact(instance, **kw)


def _relaxed(instance, **kw):
    from solvers_adapters.uplink_ee.exact import run_relaxed

    return run_relaxed(instance, **kw)


def _ao_qt(instance, **kw):
    from solvers_adapters.uplink_ee.ao_qt import run_ao_qt

    return run_ao_qt(instance, **kw)


def _all_serve_all(instance, **kw):
    from solvers_adapters.uplink_ee.ao_qt import run_all_serve_all

    return run_all_serve_all(instance, **kw)


def _lsfc95(instance, **kw):
    from solvers_adapters.uplink_ee.ao_qt import run_lsfc95

    return run_lsfc95(instance, **kw)


def _evaluate(instance, solution: dict[str, Any], **options):
    from models.uplink_ee.system import evaluate

    return evaluate(instance, solution, **options)


def _solution_view(instance, point, evaluation, context) -> dict[str, Any]:
    """``uplink-ee``'s solution keys: eta, assoc, power_w (η p_max), se_bps_hz, sum_se_bps_hz, se_qos_bps_hz and
    the optimal LSFD weights of the point (the evaluator's statistics under ``context``)."""
    import numpy as np

    from models.uplink_ee.system import prepare

    data = prepare(instance, **{k: v for k, v in context.items() if k != "lsfd"})
    eta = np.asarray(point["eta"], dtype=float)
    assoc = np.asarray(point["assoc"], dtype=float)
    return {"eta": eta.tolist(), "assoc": assoc.tolist(), "power_w": (eta * data.p_max).tolist(),
            "se_bps_hz": evaluation.per_user["se_bps_hz"].tolist(),
            "sum_se_bps_hz": evaluation.objectives["sum_se_bps_hz"], "se_qos_bps_hz": data.se_qos,
            "lsfd": data.lsfd(eta, assoc).tolist()}


_QT_LOOP_ONLY = ("assoc_init", "power_init", "local_search", "recovery", "progress")


def _se_max(instance, method: str, **kw):
    """The SE-max end point of the trade-off for ``method``'s family, as an Outcome: SCIP for ``exact``/``relaxed``
    (proved), the QT machinery otherwise (objective field = EE at that point; sum SE in the solution)."""
    if method in ("exact", "relaxed"):
        from solvers_adapters.uplink_ee.exact import run_exact

        return run_exact(instance, objective="sum_se", **kw)
    from solvers_adapters.uplink_ee.ao_qt import run_se_max

    return run_se_max(instance, **{k: v for k, v in kw.items() if k not in _QT_LOOP_ONLY})


def _session(instance, method: str, **kw):
    """One model per (instance, method) for the ε-constraint sweep: SCIP's MINLP for ``exact`` (its SE-max phase
    gives the end point), Ipopt's relaxation warm-started along ε for ``relaxed``; None for the QT methods (they
    re-run per threshold)."""
    if method == "exact":
        from solvers_adapters.uplink_ee.exact import exact_session

        return exact_session(instance, **kw)
    if method == "relaxed":
        from solvers_adapters.uplink_ee.exact import relaxed_session

        return relaxed_session(instance, **kw)
    return None


# ------------------------------------------------------------------------------------------------ declared options
#: the system-model options of :func:`models.uplink_ee.system.prepare`; every result records them in its ``context``
MODEL = (
    Option("combining", "choice", "pfzf", "uplink combining: partial full-pilot ZF (the paper's) or MR",
           choices=("pfzf", "mr")),
    Option("delta", "float", 0.85, "PFZF grouping share δ of each UE's strong APs (spec §2.3)", low=0.0, high=1.0,
           low_open=True),
    Option("leakage", "choice", "exact", "PFZF leakage term: exact moments, or the seed's reading",
           choices=("exact", "seed")),
    Option("prelog", "choice", "seed", "SE pre-log: the seed's (1 − τ_p/τ_c)/2 or the uplink-only 1 − τ_p/τ_c",
           choices=("seed", "uplink")),
    Option("power", "choice", "seed", "total power model: paper 000's eq. (10) or the Chen 2023 model",
           choices=("seed", "chen2023")),
    Option("se_qos", "float", None, "SE^QoS of (11d); none = the instance's qos.sum_se_min_bps_hz, else 0",
           unit="bit/s/Hz", low=0.0, nullable=True),
)
SCIP_PASS = Option("solver_options", "dict", None, "SCIP parameters by name (e.g. limits/gap), gap_tol, tee",
                   to="**")
IPOPT_PASS = Option("solver_options", "dict", None, "Ipopt options by name (e.g. tol, max_iter, mu_strategy)",
                    to="**")
QT_IPOPT = Option("solver_options", "dict", None, "Ipopt options of the QT sub-problems (e.g. tol, max_iter)",
                  to="ipopt")
OBJECTIVE = Option("objective", "choice", "ee", "what to maximise: EE (11a) or the sum SE (the SE-max end point)",
                   choices=("ee", "sum_se"))
QT_LOOP = (
    Option("power_init", "choice", "full", "initial powers η⁰ (ours; Fig. 9 does not name them)",
           choices=("full", "half", "low", "random", "inverse-gain"), array_ok=True),
    Option("max_iter", "int", 50, "outer iterations at most", low=1),
    Option("tol", "float", 0.005, "stop when the relative change of the objective is at most tol", low=0.0,
           high=1.0, low_open=True, high_open=True),
    Option("progress", "callable", None, "called as progress(iteration, objective, change) (Python API)"),
)
OPTIONS = {
    "exact": MODEL + (OBJECTIVE, Option("se_bound", "bool", True, "first prove max Σ SE and bound the EE model by "
                                        "it (both phases share the time limit)"), SCIP_PASS),
    "relaxed": MODEL + (OBJECTIVE, IPOPT_PASS),
    "ao-qt": MODEL + (
        Option("assoc_init", "choice", "lsfc95", "initial association D⁰ (Section V-C schemes 1–5)",
               choices=("top10-per-ue", "top10-per-ap", "all", "lsfc95", "random"), array_ok=True),
        *QT_LOOP,
        Option("local_search", "bool", True, "after convergence, try switching single UEs off and on"),
        QT_IPOPT,
        Option("recovery", "dict", None, "keyword options of the binary recovery (recover_binary), by name"),
    ),
    "all-serve-all": MODEL + QT_LOOP + (QT_IPOPT,),
    "lsfc-95": MODEL,
}


PROBLEM = register(Problem(
    id=PROBLEM_ID,
    paper="000 (Khan, Karthik R.M., Agnihotri, arXiv 2501.01271)",
    description="uplink distributed massive MIMO: max EE s.t. sum-SE floor over UE powers and AP–UE association",
    evaluate=_evaluate,
    solution_view=_solution_view,
    unit="Mbit/J",
    qos_fields=("sum_se_min_bps_hz",),
    context_keys=("combining", "delta", "leakage", "prelog", "power", "se_qos", "lsfd"),
    example_options={"combining": "mr", "se_qos": 0.0},
    methods={m.name: m for m in (
        Method("exact", _exact, "exact", "MINLP (11), epigraph of the EE ratio, SCIP (global)",
               options=OPTIONS["exact"]),
        Method("relaxed", _relaxed, "relaxation",
               "NLP relaxation (13) by Ipopt + binary recovery (a feasible point); stated ratio 0.95 of the "
               "certified optimum (measured worst 0.981 on tiny-ulee-03, median 0.9996)", stated_ratio=0.95,
               options=OPTIONS["relaxed"]),
        Method("ao-qt", _ao_qt, "heuristic",
               "Algorithm 1: alternating quadratic-transform sub-problems (23)/(24); stated ratio 0.85 of the "
               "certified optimum (measured worst 0.870 on tiny-ulee-12, a local point; median 0.9995)",
               stated_ratio=0.85, options=OPTIONS["ao-qt"]),
        Method("all-serve-all", _all_serve_all, "baseline", "all APs serve all UEs, powers optimised",
               options=OPTIONS["all-serve-all"]),
        Method("lsfc-95", _lsfc95, "baseline", "95 %-of-max-LSFC association, full power",
               options=OPTIONS["lsfc-95"]),
    )},
    pareto=ParetoSpec(parameter="se_qos", parameter_label="SE^QoS [bit/s/Hz]", objective_label="EE [Mbit/J]",
                      achieved_key="sum_se_bps_hz", achieved_label="sum SE [bit/s/Hz]", max_endpoint=_se_max,
                      session=_session),
))
