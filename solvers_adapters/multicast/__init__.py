"""Methods of paper 001 (downlink unicast + multi-group multicast, problem ``unicast-multicast-sse``; spec
``unicast_multicast.md``). Each ``run_x(instance, *, precoding=None, time_limit=None, seed=None, ...) -> Outcome``
with point ``{"assoc", "eta"}`` ([M][S], unicast columns then groups) and context ``{"precoding": resolved}``:

==================  =====================================  ==============================================
method              function                               what
==================  =====================================  ==============================================
``exact``           :func:`.exact.run_exact`               SCIP on the MINLP (31), global with a gap
``apg``             :func:`.apg.run_apg`                   Algorithm 1 (§6.6) + continuation + rounding
``sca``             :func:`.sca.run_sca`                   Algorithm 2 (§7), Ipopt on the convex QCQP
``epa-ras``         :func:`.baselines.run_epa_ras`         equal power, random AP selection (seeded)
``opa-ras``         :func:`.baselines.run_opa_ras`         random selection, power-only APG
``apg-power-only``  :func:`.apg.run_apg_power_only`        all a = 1, power-only APG
==================  =====================================  ==============================================
"""
from solvers_adapters.multicast.apg import run_apg, run_apg_power_only
from solvers_adapters.multicast.baselines import run_epa_ras, run_opa_ras
from solvers_adapters.multicast.exact import run_exact
from solvers_adapters.multicast.sca import run_sca

__all__ = ["run_apg", "run_apg_power_only", "run_epa_ras", "run_exact", "run_opa_ras", "run_sca"]
