"""The exact UatF closed forms of spec ``unicast_multicast.md`` §4.1–4.4 term by term (DS, BU, UI, MI), in the
physical variables: association a_ms (b_mg for groups) and power coefficients η_ms, p_ms = a_ms η_ms.

Receiver i decodes stream o = s(i); ρ_m = ρ_d,m (per AP, noise-normalised). With q_ms = p_ms γ_ms (MR):

* MR (§4.1, §4.2):  DS_i = N Σ_m √(ρ_m p_mo) √(γ_mi γ_mo)   (γ_mo = γ_mk for unicast, ζ_mg for a group, so
  √(γ_mi γ_mo) = γ_mk, resp. √(γ_mgl ζ_mg));   BU_i = N Σ_m ρ_m q_mo β_mi;
  UI_i = N Σ_m ρ_m β_mi Σ_{unicast s ≠ o} q_ms;   MI_i = N Σ_m ρ_m β_mi Σ_{multicast s ≠ o} q_ms
* ZF (§4.3, §4.4):  DS_i = √(N − S) Σ_m √(ρ_m p_mo γ_mi);   BU_i = Σ_m ρ_m p_mo (β_mi − γ_mi);
  UI_i = Σ_m ρ_m (β_mi − γ_mi) Σ_{unicast s ≠ o} p_ms;   MI_i = Σ_m ρ_m (β_mi − γ_mi) Σ_{multicast s ≠ o} p_ms

SINR_i = DS_i² / (BU_i + UI_i + MI_i + 1). :func:`models.multicast.system.sinr` (the unified §4.5 form) gives the
same numbers; the tests check both against each other and against a Monte Carlo simulation
(:mod:`models.multicast.montecarlo`).
"""
from __future__ import annotations

import numpy as np

from models.multicast.system import MulticastSystem


def sinr_terms(sys_: MulticastSystem, assoc, eta) -> dict[str, np.ndarray]:
    """``{"DS", "BU", "UI", "MI", "sinr"}``, each [R], at association ``assoc`` and powers ``eta`` [M, S]."""
    p = np.clip(sys_.check_x(assoc, "assoc") * sys_.check_x(eta, "eta"), 0.0, None)
    rho = sys_.rho_d[:, None]
    own = sys_.stream_of
    uni_stream = np.arange(sys_.S) < sys_.K_u
    if sys_.precoding == "mr":
        q = p * sys_.gamma_stream
        ds = sys_.N * np.sum(np.sqrt(rho * p[:, own] * sys_.gamma_rx * sys_.gamma_stream[:, own]), axis=0)
        leak = sys_.N * rho * sys_.beta                                   # N ρ_m β_mi   [M, R]
    else:
        q = p
        ds = np.sqrt(sys_.N - sys_.S) * np.sum(np.sqrt(rho * p[:, own] * sys_.gamma_rx), axis=0)
        leak = rho * np.clip(sys_.beta - sys_.gamma_rx, 0.0, None)        # ρ_m (β_mi − γ_mi)   [M, R]
    q_own = q[:, own]                                                     # [M, R]
    uni_tot = q[:, uni_stream].sum(axis=1)[:, None]                       # [M, 1]
    mc_tot = q[:, ~uni_stream].sum(axis=1)[:, None]
    bu = np.sum(leak * q_own, axis=0)
    ui = np.sum(leak * (uni_tot - np.where(sys_.is_unicast[None, :], q_own, 0.0)), axis=0)
    mi = np.sum(leak * (mc_tot - np.where(sys_.is_unicast[None, :], 0.0, q_own)), axis=0)
    return {"DS": ds, "BU": bu, "UI": ui, "MI": mi, "sinr": ds ** 2 / (bu + ui + mi + 1.0)}


__all__ = ["sinr_terms"]
