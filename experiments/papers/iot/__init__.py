"""Registers the three problems of paper 003 (Rao, Ashikhmin, Yang, "Cell-Free Massive MIMO with Nonorthogonal
Pilots for Internet of Things", arXiv 2006.10363): uplink max-min (12), uplink target-SINR power control (13) and
downlink max-min (18)-(24). Every method returns an :class:`solvers_adapters.algorithms.outcome.Outcome`;
:func:`experiments.results.make_result` re-scores it with :mod:`models.iot.system` and shapes the solution with
:func:`solution_view` (eta, estimator, the evaluator's per-thing arrays, objectives).

Every method takes ``estimator="lmmse"`` (Paper A (2), the default) or ``"projection"`` (the Ngo 2017 estimator of
the "existing cell-free" baseline); the solution records which one, and the evaluator re-scores with it.

``iot-uplink-maxmin`` (objective: min_k SINR_k^u, linear)

================  ==========  ======================================================================================
``exact``         exact       epigraph max t s.t. t (Bη + c)_k ≤ a_k η_k, SCIP (global; bilinear)
``bisection``     exact       bisection on t, LP feasibility by HiGHS, bracket ≤ 1e-6 relative (quasi-linear: global)
``fixed-point``   heuristic   equalising normalised fixed point η ← T(η)/max T(η) (converges to the max-min point)
``full-power``    baseline    η = 1 ("no power control")
================  ==========  ======================================================================================

``iot-uplink-target`` (objective: radiated uplink power Σ η_k p̄_u,k in W, subject to SINR_k ≥ t_k)

================  ==========  ======================================================================================
``exact``         exact       min-power LP (13), SCIP (global); infeasible targets → status infeasible
``fixed-point``   heuristic   Algorithm 1 with soft removal (Rasti–Sharafat); infeasible targets → status infeasible
                              with the removed things named
``linear-system`` exact       (I − diag(t/a)B) η = diag(t/a) c solved directly (the paper's footnote 1)
================  ==========  ======================================================================================

``iot-downlink-maxmin`` (objective: min_k SINR_k^d, linear; per-AP power Σ_k η_mk γ_mk ≤ 1)

================  ==========  ======================================================================================
``exact``         exact       epigraph max t with the SOC constraints (20)-(24), SCIP (global, tiny instances)
``bisection``     exact       Algorithm 2: bisection on t with the SOCP feasibility model (20)-(24), SCIP or Ipopt
``equal-power``   baseline    η_mk = 1/Σ_j γ_mj (every AP at full power)
================  ==========  ======================================================================================

The small-cell baseline (Paper A Section VII (25), Ngo 2017 (38)-(50); each thing served by its strongest free AP)
is two problems of its own, ``iot-smallcell-uplink-maxmin`` (max-min ω̄_k) and ``iot-smallcell-downlink-maxmin``
(max-min μ̄_k), over per-thing powers α ∈ [0, 1]^K, scored by :mod:`models.iot.small_cells`; method
``bisection`` (LP bisection, exact: quasi-linear). They carry no library cards: the figures use them.

``iot-uplink-target`` is a minimisation (``sense="min"``). Stated ratios (worst ratio to the certified optimum promised
on the certified library instances, checked by ``cfopt validate``): 1 − 1e-5 for ``bisection``, ``linear-system``
and both ``fixed-point`` methods; baselines promise nothing.
"""
from __future__ import annotations

from typing import Any

from experiments.options import Option
from experiments.registry import Method, Problem, register


def _lazy(module: str, name: str):
    def run(instance, **kw):
        import importlib

        return getattr(importlib.import_module(module), name)(instance, **kw)

    run.__name__ = name
    return run


def solution_view(instance, point: dict[str, Any], evaluation, context: dict[str, Any]) -> dict[str, Any]:
    """A paper-003 result's solution: ``eta`` (list), ``estimator``, the evaluator's per-thing arrays (sinr,
    rate_bps_hz, throughput_mbps, and target/met for the target problem) and ``objectives``."""
    import numpy as np

    out = {"eta": np.asarray(point["eta"], dtype=float).tolist(), "estimator": point.get("estimator", "lmmse")}
    out.update({k: np.asarray(v).tolist() for k, v in evaluation.per_user.items() if k not in out})
    out["objectives"] = dict(evaluation.objectives)
    return out


def _evaluator(name: str, module: str = "system"):
    def evaluate(instance, solution: dict[str, Any], **options):
        import importlib

        return getattr(importlib.import_module(f"models.iot.{module}"), name)(instance, solution, **options)

    return evaluate


#: stated ratio of the methods that solve their problem to (near) global optimality: bisections, the linear system and
#: the fixed points (which converge to the optimum); ``cfopt validate`` checks it on the certified instances
EXACT_RATIO = 1 - 1e-5

# ------------------------------------------------------------------------------------------------ declared options
EST = Option("estimator", "choice", "lmmse", "channel estimator: LMMSE (Paper A (2)) or Ngo 2017's projection",
             choices=("lmmse", "projection"))
REL_TOL = Option("rel_tol", "float", 1e-6, "relative width of the final bracket on t", low=0.0, high=1.0,
                 low_open=True, high_open=True)
FP_TOL = Option("tol", "float", 1e-10, "stop when the relative change of η is at most tol", low=0.0, high=1.0,
                low_open=True, high_open=True)
FP_ITER = Option("max_iter", "int", 10_000, "fixed-point iterations at most", low=1)
TARGETS = Option("targets", "floats", None, "per-thing SINR targets t_k (linear; a scalar is broadcast); none = "
                 "the instance's qos.sinr_target", low=0.0, low_open=True, nullable=True)
SCIP_PASS = Option("solver_options", "dict", None, "SCIP parameters by name (e.g. limits/gap), gap_tol, tee",
                   to="**")


def _pass(what: str) -> Option:
    return Option("solver_options", "dict", None, f"{what} options by name", to="**")


#: the QoS fields of paper 003's instances (the max-min problems share instances with the target problem)
QOS = ("sinr_target",)

PAPER = "003 (Rao, Ashikhmin, Yang, arXiv 2006.10363)"


def _problem(id: str, description: str, evaluator: str, methods, *, module: str = "system", unit="SINR (linear)",
             context_keys=("estimator",), **kw) -> Problem:
    """A paper-003 problem: the shared fields (paper, QoS fields, solution view) and the evaluator by name."""
    return register(Problem(id=id, paper=PAPER, description=description, evaluate=_evaluator(evaluator, module),
                            unit=unit, qos_fields=QOS, context_keys=tuple(context_keys), solution_view=solution_view,
                            methods={m.name: m for m in methods},
                            example_options={"estimator": "projection"}, **kw))

UL = "solvers_adapters.iot.uplink"
DL = "solvers_adapters.iot.downlink"
SC = "solvers_adapters.iot.small_cells"

UPLINK_MAXMIN = _problem(
    "iot-uplink-maxmin",
    "IoT cell-free uplink, non-orthogonal pilots, LMMSE: max-min SINR over thing powers (12)",
    "evaluate_uplink_maxmin", (
        Method("exact", _lazy(UL, "run_exact_uplink"), "exact", "epigraph of (12), SCIP (global)",
               options=(EST, SCIP_PASS)),
        Method("bisection", _lazy(UL, "run_bisection"), "exact",
               "bisection + LP feasibility (HiGHS); stated ratio 1 - 1e-5 (bracket 1e-6 relative)",
               stated_ratio=EXACT_RATIO,
               options=(EST, REL_TOL,
                        Option("interface", "choice", "direct", "LP interface: highspy arrays (HiGHS only) or the "
                               "Pyomo model", choices=("direct", "pyomo")),
                        Option("solver", "choice", "highs", "LP solver", choices=("highs", "scip")),
                        _pass("HiGHS (or SCIP) LP"))),
        Method("fixed-point", _lazy(UL, "run_fixed_point_maxmin"), "heuristic",
               "equalising normalised fixed point; stated ratio 1 - 1e-5 (measured: optimal to 1e-9 on "
               "tiny-iot-01..06)", stated_ratio=EXACT_RATIO, options=(EST, FP_TOL, FP_ITER)),
        Method("full-power", _lazy(UL, "run_full_power"), "baseline", "no power control, η = 1", options=(EST,)),
    ))

UPLINK_TARGET = _problem(
    "iot-uplink-target",
    "IoT cell-free uplink: minimal thing powers meeting per-thing SINR targets (13)",
    "evaluate_uplink_target", (
        Method("exact", _lazy(UL, "run_exact_target"), "exact", "min-power LP (13), SCIP (global)",
               options=(TARGETS, EST, Option("solver", "choice", "scip", "LP solver", choices=("scip", "highs")),
                        _pass("SCIP (or HiGHS)"))),
        Method("fixed-point", _lazy(UL, "run_fixed_point_target"), "heuristic",
               "Algorithm 1, distributed fixed point with soft removal; stated ratio 1 - 1e-5 (measured: optimal "
               "to 1e-10 on tiny-iot-01..06)", stated_ratio=EXACT_RATIO,
               options=(TARGETS, Option("rule", "choice", "soft-removal", "what to do with a thing that cannot "
                                        "meet its target: soft removal (Rasti–Sharafat) or clip at full power",
                                        choices=("soft-removal", "clip")),
                        EST, FP_TOL, FP_ITER,
                        Option("eta0", "array", None, "starting power coefficients η⁰ ∈ [0, 1]^K", low=0.0, high=1.0,
                               nullable=True))),
        Method("linear-system", _lazy(UL, "run_linear_system_target"), "exact",
               "minimal powers from the linear system (footnote 1); stated ratio 1 - 1e-5",
               stated_ratio=EXACT_RATIO, options=(TARGETS, EST)),
    ), unit="W", context_keys=("estimator", "targets"), sense="min")

DOWNLINK_MAXMIN = _problem(
    "iot-downlink-maxmin",
    "IoT cell-free downlink, conjugate beamforming: max-min SINR under per-AP power (18)-(24)",
    "evaluate_downlink_maxmin", (
        Method("exact", _lazy(DL, "run_exact_dl"), "exact", "epigraph with SOC constraints, SCIP (global)",
               options=(EST, SCIP_PASS)),
        Method("bisection", _lazy(DL, "run_bisection_dl"), "exact",
               "Algorithm 2: bisection + SOCP feasibility; stated ratio 1 - 1e-5", stated_ratio=EXACT_RATIO,
               options=(EST, Option("solver", "choice", "ipopt", "feasibility solver: Ipopt (slack SOCP + "
                                    "weak-duality proof) or SCIP", choices=("ipopt", "scip")),
                        REL_TOL,
                        Option("step", "choice", "auto", "bracket step: auto (Dinkelbach-type with Ipopt) or plain "
                               "bisection", choices=("auto", "bisection")),
                        Option("max_solves", "int", 200, "feasibility solves at most (status limit when reached)",
                               low=1),
                        _pass("Ipopt (or SCIP)"))),
        Method("equal-power", _lazy(DL, "run_equal_power_dl"), "baseline", "η_mk = 1/Σ_j γ_mj",
               options=(EST,)),
    ))

SC_PILOT = Option("sc_pilot_w", "float", None, "DL pilot power of the serving APs in W (none: the things' pilot power)",
                  low=0.0, low_open=True, nullable=True)

SMALLCELL_UPLINK = _problem(
    "iot-smallcell-uplink-maxmin",
    "small-cell baseline, uplink: max-min effective SINR over thing powers (Paper A (25))",
    "evaluate_small_cells_uplink", (
        Method("bisection", _lazy(SC, "run_bisection_ul"), "exact",
               "bisection + LP feasibility (HiGHS) on the small-cell SINRs; stated ratio 1 - 1e-5",
               stated_ratio=EXACT_RATIO, options=(EST, REL_TOL)),
    ), module="small_cells")

SMALLCELL_DOWNLINK = _problem(
    "iot-smallcell-downlink-maxmin",
    "small-cell baseline, downlink: max-min effective SINR over AP powers (Ngo 2017 (42)-(46))",
    "evaluate_small_cells_downlink", (
        Method("bisection", _lazy(SC, "run_bisection_dl"), "exact",
               "bisection + LP feasibility (HiGHS) on the small-cell SINRs; stated ratio 1 - 1e-5",
               stated_ratio=EXACT_RATIO, options=(EST, REL_TOL, SC_PILOT)),
    ), module="small_cells", context_keys=("estimator", "sc_pilot_w"))
