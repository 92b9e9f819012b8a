"""Registers problem ``unicast-multicast-sse`` of paper 001 ("Joint AP Selection and Power Allocation for
Unicast-Multicast Cell-Free Massive MIMO", arXiv 2508.13771; the seed ``../shared/seeds/001_daf576c0e6816089.txt``,
the model rebuilt in ``../shared/spec/unicast_multicast.md``): maximise the weighted sum SE (31a) of K_u unicast
users and G multicast groups over the binary AP–stream association a_ms and the power coefficients η_ms, subject to
per-AP power (31b), per-user QoS (31c), per-AP fronthaul (31d), coverage (31e) and per-AP load (31f), with MR or
ZF precoding (spec §3–4).

Every method returns an :class:`solvers_adapters.algorithms.Outcome` with point ``{"assoc", "eta"}`` (both
[M][S], columns = the K_u unicast users, then the G groups) and context ``{"precoding"}``;
:func:`experiments.results.make_result` re-scores it with :func:`models.multicast.system.evaluate` and shapes the
solution with :func:`solution_view`.

================== ========== =====================================================================================
``exact``          exact      MINLP (31) with binary a_ms and the exact SE terms, SCIP (global; tiny instances)
``apg``            heuristic  Algorithm 1: nonmonotone APG (Li & Lin) with c/q acceptance and correction step, BB steps
                              with backtracking, penalty continuation, rounding and repair (spec §6)
``sca``            heuristic  Algorithm 2: SCA with a convex QCQP/SOCP sub-problem per iteration (spec §7)
``epa-ras``        baseline   equal power, random AP selection (seeded) — the paper's benchmark (i)
``opa-ras``        baseline   optimised power on a random AP selection (seeded) — benchmark (ii)
``apg-power-only`` baseline   APG on the powers with every a_ms = 1 (spec §8 (ii))
================== ========== =====================================================================================

Precoding: ``precoding`` ``mr`` or ``zf`` (spec §3.1/§3.2, the [G] full-pilot local ZF of ambiguity A3); ``None``
(the default) = the instance's own (its ``multicast`` block), so the MR and the ZF library cards both validate with
the default options. The result's context records the precoding used.

Infeasible QoS or fronthaul targets are a status (``infeasible``), never a value.

Stated ratios (worst SSE / certified optimum promised on the certified tiny-mc cards, checked by ``cfopt
validate``): ``apg`` 0.9 (measured worst 0.938 on tiny-mc-12, median 0.9998), ``sca`` 0.85 (measured worst 0.863
on tiny-mc-08, median 0.9997); both feasible on every card. Baselines promise nothing.
"""
from __future__ import annotations

from typing import Any

import instances.generators.multicast  # noqa: F401  (registers the ``multicast`` block: cards load by name)
from experiments.options import Option
from experiments.registry import Method, Problem, register

PROBLEM_ID = "unicast-multicast-sse"
PAPER = "001 (Joint AP selection and power allocation for unicast-multicast CF-mMIMO, arXiv 2508.13771)"
MOD = "solvers_adapters.multicast"

#: the instance QoS fields the problem reads (each optional): SE floors (31c), fronthaul capacity C̄_fh (31d) and
#: the per-AP stream limit N_max (31f)
QOS = ("se_min_unicast_bps_hz", "se_min_multicast_bps_hz", "fronthaul_bps_hz", "max_streams_per_ap")
#: the evaluator's keyword options (models.multicast.evaluation.CONTEXT_KEYS): the [G] readings of the model
CONTEXT = ("precoding", "prelog", "multicast_objective", "fronthaul_model")

#: stated ratios of the two optimisers, measured on FRESH seeded tiny instances (``python
#: benchmarks/fresh_multicast_ratios.py``: seeds 200-219 chose them, seeds 300-319 checked them; free layouts and the
#: same layouts with a binding fronthaul cap, SCIP-certified optima), not on the library cards validate checks
APG_RATIO: float | None = 0.85
SCA_RATIO: float | None = 0.85
APG_MEASURED = ("stated ratio 0.85 (fresh instances 2026-12-02, 80 runs: all feasible, median 0.9999, worst 0.868 "
                "(seeds 200-219) and 0.875 (holdout seeds 300-319), both on fronthaul-capped layouts)")
SCA_MEASURED = ("stated ratio 0.85 (fresh instances 2026-12-02, 80 runs: all feasible, median 1.0000, worst "
                "0.943 (seeds 200-219) and 0.954 (holdout seeds 300-319), both on fronthaul-capped layouts)")


def _lazy(module: str, name: str):
    """The runner ``module.name`` imported at the first call (the registry stays cheap to import)."""
    def run(instance, **kw):
        import importlib

        return getattr(importlib.import_module(module), name)(instance, **kw)

    run.__name__ = name
    return run


def _evaluate(instance, solution: dict[str, Any], **context):
    from models.multicast.system import evaluate

    return evaluate(instance, solution, **context)


def solution_view(instance, point: dict[str, Any], evaluation, context: dict[str, Any]) -> dict[str, Any]:
    """A paper-001 result's solution: ``assoc`` and ``eta`` ([M][S] lists; the precoding is in the result's
    ``context``, not here, so that re-scoring under another context really uses it), the evaluator's per-user
    arrays (SE per receiver, ...), its per-AP and per-stream arrays from ``extra`` (power, fronthaul load, streams,
    stream rates; not the amplitudes x, which ``assoc``/``eta`` determine) and ``objectives``."""
    import numpy as np

    out: dict[str, Any] = {"assoc": np.asarray(point["assoc"], dtype=float).tolist(),
                           "eta": np.asarray(point["eta"], dtype=float).tolist()}
    out.update({k: np.asarray(v).tolist() for k, v in evaluation.per_user.items() if k not in out})
    for k, v in (evaluation.extra or {}).items():
        if k not in out and k != "x" and isinstance(v, (np.ndarray, list, tuple, float, int)):
            out[k] = np.asarray(v).tolist()
    out["objectives"] = dict(evaluation.objectives)
    return out


# ------------------------------------------------------------------------------------------------ declared options
PRECODING = Option("precoding", "choice", None, "downlink precoder: maximum ratio or full-pilot local ZF (spec "
                   "§3; ZF needs N > K_u + G); none = the instance's own", choices=("mr", "zf"), nullable=True)
MAX_ITER = Option("max_iter", "int", 1000, "iterations of Algorithm 1 per penalty round at most", low=1)
TOL = Option("tol", "float", 1e-3, "stop when the relative change of the objective over the window is at most tol",
             low=0.0, high=1.0, low_open=True, high_open=True)


def _penalty(name: str, default: float, what: str) -> Option:
    return Option(name, "float", default, f"initial penalty weight λ of {what} (spec §6.3; ×10 per round)",
                  low=0.0, low_open=True)


MAX_OUTER = Option("max_outer", "int", 8, "penalty-continuation rounds at most (spec §6.6)", low=1)
MARGIN = Option("margin", "float", 2e-3, "inside the penalties, QoS floors + margin and the fronthaul cap − margin, "
                "so the end point meets the true targets", unit="bit/s/Hz", low=0.0)
APG_KNOBS = (MAX_ITER, TOL,
             _penalty("lambda_b", 0.1, "the binary relaxation Σ(a − a²)"),
             _penalty("lambda_q", 1.0, "the QoS shortfall (31c)"),
             _penalty("lambda_f", 1.0, "the fronthaul excess (31d)"),
             _penalty("lambda_c", 1.0, "the coverage shortfall (31e)"),
             _penalty("lambda_n", 1.0, "the per-AP stream excess (31f)"), MAX_OUTER,
             Option("power_only_polish", "bool", True, "after rounding, re-run Algorithm 1 on the powers with the "
                    "association fixed (spec §6.6 post-processing step 6)"),
             Option("a_init", "float", 1.0, "initial relaxed association a⁰ (every entry; spec §6.6 says do not "
                    "start at 0)", low=0.0, high=1.0, low_open=True),
             Option("second_start", "float", 0.5, "a second start with every a⁰ at this value (the better end "
                    "point is kept); none = one start", low=0.0, high=1.0, low_open=True, nullable=True), MARGIN)
POWER_KNOBS = (MAX_ITER, TOL, _penalty("lambda_q", 1.0, "the QoS shortfall (31c)"),
               _penalty("lambda_f", 1.0, "the fronthaul excess (31d)"), MAX_OUTER, MARGIN)
SCA_KNOBS = (Option("max_iter", "int", 50, "SCA iterations per λ_b level at most", low=1),
             Option("tol", "float", 1e-3, "stop when the relative objective change is at most tol", low=0.0,
                    high=1.0, low_open=True, high_open=True),
             Option("lambda_b_schedule", "array", (0.1, 1.0, 10.0, 100.0), "the binary-penalty continuation "
                    "levels λ_b (spec §7 step 4)", low=0.0, low_open=True),
             Option("polish", "bool", True, "after rounding, re-optimise the powers with the association fixed"),
             Option("polish_tol", "float", 1e-6, "stop rule of the polish (relative change of the SSE)", low=0.0,
                    high=1.0, low_open=True, high_open=True),
             Option("polish_max_iter", "int", 300, "polish iterations at most", low=1),
             Option("lambda_s", "float", 1e3, "penalty on the QoS and fronthaul slacks of the sub-problems",
                    low=0.0, low_open=True),
             Option("solver_options", "dict", None, "Ipopt options of the sub-problems by name (e.g. tol)",
                    to="**"))
P_SELECT = Option("p_select", "float", 0.5, "probability that a given AP serves a given stream (random AP "
                  "selection; every stream keeps at least one AP)", low=0.0, high=1.0, low_open=True)
EXACT_FORM = Option("form", "choice", "soc", "SINR rows: second-order cone (exact without a fronthaul row), "
                    "bilinear, or the equality epigraph", choices=("soc", "bilinear", "exact"))
EXACT_SCIP = Option("solver_options", "dict", None, "SCIP parameters by name (e.g. limits/gap), gap_tol "
                    "(default 1e-4 relative), tee", to="**")

METHODS = (
    Method("exact", _lazy(f"{MOD}.exact", "run_exact"), "exact",
           "MINLP (31), binary a_ms, exact SE terms, SCIP (global with a proven gap ≤ gap_tol)",
           options=(PRECODING, EXACT_FORM, EXACT_SCIP)),
    Method("apg", _lazy(f"{MOD}.apg", "run_apg"), "heuristic",
           f"Algorithm 1: nonmonotone APG + penalty continuation, rounding, repair; {APG_MEASURED}",
           stated_ratio=APG_RATIO, options=(PRECODING,) + APG_KNOBS),
    Method("sca", _lazy(f"{MOD}.sca", "run_sca"), "heuristic",
           f"Algorithm 2: SCA, convex QCQP sub-problem per iteration (Ipopt); {SCA_MEASURED}",
           stated_ratio=SCA_RATIO, options=(PRECODING,) + SCA_KNOBS),
    Method("epa-ras", _lazy(f"{MOD}.baselines", "run_epa_ras"), "baseline",
           "equal power allocation, random AP selection (seeded)", options=(PRECODING, P_SELECT)),
    Method("opa-ras", _lazy(f"{MOD}.baselines", "run_opa_ras"), "baseline",
           "optimised power (power-only APG) on a random AP selection (seeded)",
           options=(PRECODING, P_SELECT, MAX_ITER, TOL, MAX_OUTER, MARGIN)),
    Method("apg-power-only", _lazy(f"{MOD}.apg", "run_apg_power_only"), "baseline",
           "power-only APG with every a_ms = 1 (spec §8 (ii))", options=(PRECODING,) + POWER_KNOBS),
)

PROBLEM = register(Problem(
    id=PROBLEM_ID, paper=PAPER,
    description="downlink unicast + multi-group multicast CF-mMIMO: max weighted SSE over AP selection and "
                "power, per-AP power, QoS, fronthaul, coverage and load (31)",
    evaluate=_evaluate, solution_view=solution_view, unit="bit/s/Hz", sense="max", qos_fields=QOS,
    context_keys=CONTEXT, example_options={"precoding": "zf"}, methods={m.name: m for m in METHODS}))
