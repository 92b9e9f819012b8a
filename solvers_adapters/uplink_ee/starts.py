"""Starting points and option handling of paper 000's QT methods (``ao-qt``, ``all-serve-all``; problem
``uplink-ee``): the Section V-C association initialisations (Fig. 8, schemes 1–5), our power initialisations (Fig. 9
does not name them) and the split of a runner's keyword options into model, Ipopt and recovery options.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from instances.errors import InputError
from models.uplink_ee.system import UplinkEE, prepare

__all__ = ["ASSOC_INITS", "POWER_INITS", "PREPARE_OPTIONS", "IPOPT_DEFAULTS", "initial_association",
           "initial_power", "split_options", "setup", "init_name"]

#: Section V-C association initialisations (Fig. 8, schemes 1–5)
ASSOC_INITS = {
    "top10-per-ue": "scheme 1: each UE served by its min(10, M) strongest APs (largest β_mt)",
    "top10-per-ap": "scheme 2: each AP serves its min(10, K) strongest UEs; a UE left without AP gets its best AP",
    "all": "scheme 3: all APs serve all UEs",
    "lsfc95": "scheme 4 (the paper's default): d_mt = 1 iff β_mt ≥ 0.95 · max_m β_mt",
    "random": "scheme 5: Bernoulli(0.5) from numpy.random.default_rng(seed); a UE left without AP gets its best AP",
}
#: power initialisations (Fig. 9 does not name them; these are ours)
POWER_INITS = {
    "full": "η = 1 (the paper's default: 100 mW)",
    "half": "η = 0.5",
    "low": "η = 0.1",
    "random": "η ~ U[0.1, 1] from numpy.random.default_rng(seed) (drawn after a random association)",
    "inverse-gain": "η_t ∝ 1 / max_m β_mt, scaled so that max_t η_t = 1",
}
#: keyword options passed to :func:`models.uplink_ee.system.prepare`
PREPARE_OPTIONS = ("combining", "delta", "leakage", "prelog", "power")
#: default Ipopt options of the sub-problems
IPOPT_DEFAULTS: dict[str, Any] = {"tol": 1e-9, "acceptable_tol": 1e-7, "max_iter": 500, "hessian": "exact",
                                  "warm_start": True}


def _cover(D: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """(12e): a UE without any AP gets its strongest AP."""
    empty = ~D.any(axis=0)
    if empty.any():
        cols = np.flatnonzero(empty)
        D[np.argmax(beta[:, cols], axis=0), cols] = True
    return D


def initial_association(data: UplinkEE, scheme, rng: np.random.Generator | None = None) -> np.ndarray:
    """D⁰ [M, K] (0/1 floats) for a scheme of :data:`ASSOC_INITS` or an explicit array."""
    beta = data.beta_n
    M, K = beta.shape
    if not isinstance(scheme, str):
        D = np.asarray(scheme, dtype=float)
        if D.shape != (M, K) or not np.all((D == 0) | (D == 1)):
            raise InputError("assoc_init", f"an explicit initial association must be a 0/1 array of shape {(M, K)}")
        return _cover(D.astype(bool), beta).astype(float)
    if scheme == "top10-per-ue":
        n = min(10, M)
        D = np.zeros((M, K), dtype=bool)
        D[np.argsort(-beta, axis=0)[:n], np.arange(K)[None, :]] = True
    elif scheme == "top10-per-ap":
        n = min(10, K)
        D = np.zeros((M, K), dtype=bool)
        D[np.arange(M)[:, None], np.argsort(-beta, axis=1)[:, :n]] = True
    elif scheme == "all":
        D = np.ones((M, K), dtype=bool)
    elif scheme == "lsfc95":
        D = beta >= 0.95 * beta.max(axis=0, keepdims=True)
    elif scheme == "random":
        if rng is None:
            raise InputError("seed", "the random association needs a generator")
        D = rng.random((M, K)) < 0.5
    else:
        raise InputError("assoc_init", f"unknown association initialisation {scheme!r}; known: "
                                       f"{', '.join(ASSOC_INITS)} (or a 0/1 array)")
    return _cover(D, beta).astype(float)


def initial_power(data: UplinkEE, scheme, rng: np.random.Generator | None = None) -> np.ndarray:
    """η⁰ [K] for a scheme of :data:`POWER_INITS` or an explicit array in [0, 1]."""
    K = data.K
    if not isinstance(scheme, str):
        eta = np.asarray(scheme, dtype=float)
        if eta.shape != (K,) or np.any(eta < 0) or np.any(eta > 1) or not np.all(np.isfinite(eta)):
            raise InputError("power_init", f"an explicit initial power must be [{K}] values in [0, 1]")
        return eta.copy()
    if scheme == "full":
        return np.ones(K)
    if scheme == "half":
        return np.full(K, 0.5)
    if scheme == "low":
        return np.full(K, 0.1)
    if scheme == "random":
        if rng is None:
            raise InputError("seed", "the random power initialisation needs a generator")
        return rng.uniform(0.1, 1.0, size=K)
    if scheme == "inverse-gain":
        g = data.beta_n.max(axis=0)
        return g.min() / g
    raise InputError("power_init", f"unknown power initialisation {scheme!r}; known: {', '.join(POWER_INITS)} "
                                   "(or an array)")


def split_options(options: dict) -> tuple[dict, dict, dict]:
    prep = {k: options.pop(k) for k in list(options) if k in PREPARE_OPTIONS}
    ipopt = dict(IPOPT_DEFAULTS)
    ipopt.update(options.pop("ipopt", None) or {})
    recovery = dict(options.pop("recovery", None) or {})
    if options:
        raise InputError(next(iter(options)), f"unknown option(s) {', '.join(sorted(options))}; accepted: "
                                              f"{', '.join(PREPARE_OPTIONS)}, ipopt (dict), recovery (dict)")
    return prep, ipopt, recovery


def setup(instance, se_qos, seed, assoc_init, power_init, options):
    prep, ipopt, recovery = split_options(dict(options))
    data = prepare(instance, se_qos=se_qos, **prep)
    needs_rng = (isinstance(assoc_init, str) and assoc_init == "random") or (
        isinstance(power_init, str) and power_init == "random")
    if needs_rng and seed is None:
        seed = int(np.random.SeedSequence().entropy % (2 ** 32))   # recorded in the result
    rng = np.random.default_rng(seed) if seed is not None else None
    D0 = initial_association(data, assoc_init, rng)
    eta0 = initial_power(data, power_init, rng)
    return data, ipopt, recovery, D0, eta0, seed


def init_name(x) -> str:
    return x if isinstance(x, str) else "explicit"
