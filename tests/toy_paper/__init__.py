"""A toy paper that lives outside the tree: ``CFOPT_PLUGINS=tests.toy_paper`` (with the repository root on
``sys.path``) makes ``cfopt solve``, ``validate``, ``reproduce``, ``instances make`` and ``library certify`` see it,
and no shared file is edited (issue 11 "adding a paper is cheap").

One generator (``toy2``, :mod:`.generators`), one model and evaluator (:mod:`.model`), one formulation with its
FormulationInfo (:mod:`.formulation`), two methods returning Outcomes (:mod:`.method`), one figure
(:mod:`.figures`), one certified library card (``library/toy-01.json``, written by ``cfopt library certify
--only toy-01``; the spec is in :mod:`.library`).

Problem ``toy-maxmin``: max over η ∈ [0, 1]^K of min_k SINR_k(η) (linear-fractional, see :mod:`.model`).
"""
from __future__ import annotations

from experiments.options import Option
from experiments.registry import PROBLEMS, Method, Problem, register

PROBLEM_ID = "toy-maxmin"


def _exact(instance, **kw):
    from tests.toy_paper.method import run_exact

    return run_exact(instance, **kw)


def _perron(instance, **kw):
    from tests.toy_paper.method import run_perron

    return run_perron(instance, **kw)


def _evaluate(instance, solution, **context):
    from tests.toy_paper.model import evaluate

    return evaluate(instance, solution, **context)


if PROBLEM_ID not in PROBLEMS:
    PROBLEM = register(Problem(
        id=PROBLEM_ID, paper="toy (tests/toy_paper)", description="uplink max-min SINR, matched filter, power caps",
        evaluate=_evaluate, unit="1", qos_fields=(), context_keys=(),
        methods={m.name: m for m in (
            Method("exact", _exact, "exact", "bisection on t over the min-power LP (HiGHS; global)",
                   options=(Option("rel_tol", "float", 1e-9, "bracket width, relative", low=0.0, low_open=True),)),
            Method("perron", _perron, "exact", "closed form by Perron–Frobenius; stated ratio 1 - 1e-6",
                   stated_ratio=1 - 1e-6),
        )}))
