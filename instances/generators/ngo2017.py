"""Generator of the Ngo et al. 2017 layout (spec ``/work/shared/spec/propagation_ngo2017.md``, also uplink_ee.md §1.8).

H. Q. Ngo, A. Ashikhmin, H. Yang, E. G. Larsson, T. L. Marzetta, "Cell-free massive MIMO versus small cells",
IEEE Trans. Wireless Commun. 16(3), 2017; reference code ``hienquocngo/Cell-Free-Massive-MIMO-Versus-Small-Cells``.

* APs and UEs uniform in a ``area_km`` × ``area_km`` square centred on the origin (as the reference code,
  ``unifrnd(-D/2, D/2)``), distances on the wrap-around torus (minimum over the square and its 8 shifted copies).
* Three-slope path loss, d in km (spec eq. PL(d)):
  ``-L - 35 log10 d`` (d > d1), ``-L - 15 log10 d1 - 20 log10 d`` (d0 < d ≤ d1), ``-L - 15 log10 d1 - 20 log10 d0``
  (d ≤ d0), with the COST-231 Hata constant L = 140.7 dB computed from f = 1900 MHz, h_AP = 15 m, h_u = 1.65 m.
* Log-normal shadowing σ_sh = 8 dB, applied **only for d > d1**: β = 10^{PL/10} 10^{σ_sh z/10} with the
  two-component model z_mk = √δ a_m + √(1−δ) b_k, δ = 0.5, E[a_m a_m'] = 2^{−d(m,m')/100 m}, same for b over UEs
  (wrap-around distances). Hence E[z_mk z_m'k'] = δ 2^{−d(m,m')/100} + (1−δ) 2^{−d(k,k')/100}.
* 20 MHz, noise figure 9 dB → noise −174 + 10 log10(2e7) + 9 = −91.99 dBm; UL data and pilot power 100 mW per
  UE, DL power 200 mW per AP, τ_c = 200.

Random draws, all from one ``numpy.random.default_rng(seed)`` in this order: AP positions [M,2], UE positions
[K,2], shadowing (correlated: a [M] then b [K]; uncorrelated: z [M,K]; none: nothing), pilot indices [K] (random
assignment only). So the same seed gives the same positions whatever the shadowing mode.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from instances import memory, units
from instances.errors import InputError
from instances.generators import register_generator
from instances.instance import Instance

GENERATOR = "ngo2017"
GENERATOR_VERSION = "1"
SOURCE = ("Ngo, Ashikhmin, Yang, Larsson, Marzetta, 'Cell-free massive MIMO versus small cells', "
          "IEEE TWC 16(3), 2017; spec propagation_ngo2017.md")

# --- constants of the spec's table (propagation_ngo2017.md) -------------------------------------------------------
CARRIER_MHZ = 1900.0        # f = 1.9 GHz, in MHz in the formula for L
H_AP_M = 15.0               # AP antenna height
H_UE_M = 1.65               # UE antenna height
D0_KM = 0.010               # d0 = 10 m
D1_KM = 0.050               # d1 = 50 m
SIGMA_SH_DB = 8.0           # shadowing standard deviation
DELTA = 0.5                 # share of the AP component in the two-component shadowing model
D_DECORR_M = 100.0          # decorrelation distance: correlation 2^(−d/100 m)
BANDWIDTH_HZ = 20e6
NOISE_FIGURE_DB = 9.0
P_UE_W = 0.1                # UL data power per UE (ρ̄_u = 100 mW)
P_PILOT_W = 0.1             # UL pilot power per UE (ρ̄_p = 100 mW)
P_AP_W = 0.2                # DL power per AP (ρ̄_d = 200 mW)
TAU_C = 200                 # coherence block, samples
AREA_KM = 1.0               # side of the wrap-around square
MAX_AREA_KM = 1e4           # largest accepted side: far beyond any network, keeps distances and path losses finite

SHADOWING_MODES = ("correlated", "uncorrelated", "none")
PILOT_MODES = ("random", "orthogonal")
_JITTERS = (0.0, 1e-12, 1e-10, 1e-8, 1e-6)


def hata_l_db(f_mhz: float = CARRIER_MHZ, h_ap_m: float = H_AP_M, h_ue_m: float = H_UE_M) -> float:
    """COST-231 Hata constant L (dB) of the spec: 46.3 + 33.9 log f − 13.82 log h_AP − [(1.1 log f − 0.7) h_u
    − (1.56 log f − 0.8)], f in MHz. 140.715 dB for the defaults."""
    lf = math.log10(f_mhz)
    return 46.3 + 33.9 * lf - 13.82 * math.log10(h_ap_m) - ((1.1 * lf - 0.7) * h_ue_m - (1.56 * lf - 0.8))


L_DB = hata_l_db()          # = 140.715 dB ("140.7 dB" in the spec)


def path_loss_db(d_km) -> np.ndarray:
    """Three-slope path loss PL(d) in dB (negative: a gain), d in km; vectorised, continuous at d0 and d1."""
    d = np.asarray(d_km, dtype=float)
    if np.any(~np.isfinite(d)) or np.any(d < 0):
        raise InputError("d_km", "distances must be finite and ≥ 0")
    far = -L_DB - 35.0 * np.log10(np.maximum(d, D1_KM))
    near = -L_DB - 15.0 * math.log10(D1_KM) - 20.0 * np.log10(np.clip(d, D0_KM, D1_KM))
    return np.where(d > D1_KM, far, near)


def wrap_distance(p, q, side_m: float) -> np.ndarray:
    """[len(p), len(q)] distances (m) on the wrap-around square of side ``side_m``.

    Equal to the minimum over the 9 copies of q shifted by {−side, 0, side}² (the reference code's loop): the
    squared distance separates per axis, and per axis the nearest copy is at min(r, side − r), r = |Δ| mod side.
    """
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    r = np.mod(p[:, None, :] - q[None, :, :], side_m)
    r = np.minimum(r, side_m - r)
    return np.hypot(r[..., 0], r[..., 1])


def _correlated_normal(corr: np.ndarray, rng: np.random.Generator, what: str, notes: dict | None) -> np.ndarray:
    """One draw of N(0, corr) as L g with L the Cholesky factor of corr (+ the smallest jitter that makes it
    positive definite, e.g. when two nodes coincide). The wrap-around distance does not guarantee a
    positive-definite 2^(−d/d_decorr) matrix; if no jitter ≤ 1e-6 helps, negative eigenvalues are clipped
    (eigh). Anything other than a plain Cholesky is written to ``notes[what]``."""
    g = rng.standard_normal(corr.shape[0])
    eye = np.eye(corr.shape[0])
    for jitter in _JITTERS:
        try:
            chol = np.linalg.cholesky(corr + jitter * eye)
        except np.linalg.LinAlgError:
            continue
        if jitter and notes is not None:
            notes[what] = f"cholesky with jitter {jitter:g}"
        return chol @ g
    lam, vec = np.linalg.eigh(corr)
    if notes is not None:
        notes[what] = f"eigh with negative eigenvalues clipped (min {lam.min():.3g})"
    return vec @ (np.sqrt(np.clip(lam, 0.0, None)) * g)


def sample_shadowing(ap_pos, ue_pos, rng: np.random.Generator, *, side_m: float, mode: str = "correlated",
                     delta: float = DELTA, decorr_m: float = D_DECORR_M, notes: dict | None = None) -> np.ndarray:
    """Standard-normal shadowing field z [M, K] (multiply by σ_sh for dB) for fixed positions (m).

    ``correlated``: z_mk = √δ a_m + √(1−δ) b_k, a ~ N(0, C_AP), b ~ N(0, C_UE), C = 2^(−wrap distance/decorr_m),
    so E[z_mk z_m'k'] = δ C_AP[m,m'] + (1−δ) C_UE[k,k'] and Var z = 1. ``uncorrelated``: i.i.d. N(0, 1).
    ``none``: zeros, no random draw.
    """
    ap_pos = np.asarray(ap_pos, dtype=float)
    ue_pos = np.asarray(ue_pos, dtype=float)
    M, K = len(ap_pos), len(ue_pos)
    if mode == "none":
        return np.zeros((M, K))
    if mode == "uncorrelated":
        return rng.standard_normal((M, K))
    if mode != "correlated":
        raise InputError("shadowing", f"unknown mode {mode!r}; known: {', '.join(SHADOWING_MODES)}")
    a = _correlated_normal(np.power(2.0, -wrap_distance(ap_pos, ap_pos, side_m) / decorr_m), rng, "ap", notes)
    b = _correlated_normal(np.power(2.0, -wrap_distance(ue_pos, ue_pos, side_m) / decorr_m), rng, "ue", notes)
    return math.sqrt(delta) * a[:, None] + math.sqrt(1.0 - delta) * b[None, :]


def _pos_int(name: str, value, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InputError(name, f"expected an integer ≥ {minimum}, got {value!r}")
    if value < minimum:
        raise InputError(name, f"must be ≥ {minimum}, got {value}")
    return int(value)


def _pos_float(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value <= 0:
        raise InputError(name, f"expected a positive finite number, got {value!r}")
    return float(value)


def estimate_bytes(aps: int, users: int, *, shadowing: str = "correlated") -> float:
    """Approximate peak memory (bytes) of :func:`generate` plus hashing and saving the instance, measured with
    tracemalloc: ~150 B per AP–UE pair (distance and fading temporaries, the [M][K] JSON text), ~1 kB per AP and
    per UE, and for correlated shadowing ~56 B per entry of the [M, M] and [K, K] correlation matrices (wrap-around
    distances, 2^(−d/d_decorr), jitter, Cholesky factor)."""
    M, K = float(min(aps, 10 ** 15)), float(min(users, 10 ** 15))   # (no float overflow for absurd ints)
    nbytes = 150.0 * M * K + 1000.0 * (M + K)
    if shadowing == "correlated":
        nbytes += 56.0 * (M * M + K * K)
    return nbytes


def _checked(aps, users, antennas, seed, tau_p, tau_c, area_km, shadowing, pilot_assignment, ue_power_w,
             pilot_power_w, ap_power_w, bandwidth_hz, noise_figure_db):
    """The parameters of :func:`generate`, validated (InputError naming the parameter) and defaulted; the memory
    check runs last, before anything is allocated."""
    M = _pos_int("aps", aps)
    K = _pos_int("users", users)
    N = _pos_int("antennas", antennas)
    if seed is None:
        raise InputError("seed", "a seed is required (instances are reproducible)")
    seed = _pos_int("seed", seed, minimum=0)
    tau_c = _pos_int("tau_c", tau_c)
    if tau_p is None:
        if K > tau_c:
            raise InputError("tau_p", f"the default tau_p = users = {K} exceeds tau_c = {tau_c}; give tau_p "
                                      "(fewer pilots than users are assigned at random)")
        tau_p = K
    tau_p = _pos_int("tau_p", tau_p)
    if tau_p > tau_c:
        raise InputError("tau_p", f"{tau_p} exceeds tau_c = {tau_c}")
    area_km = _pos_float("area_km", area_km)
    if area_km > MAX_AREA_KM:
        raise InputError("area_km", f"must be at most {MAX_AREA_KM:g} km, got {area_km:g} (the cap is far beyond "
                                    "any network and keeps distances and path losses finite)")
    if shadowing not in SHADOWING_MODES:
        raise InputError("shadowing", f"unknown mode {shadowing!r}; known: {', '.join(SHADOWING_MODES)}")
    if pilot_assignment is None:
        pilot_assignment = "orthogonal" if tau_p >= K else "random"
    if pilot_assignment not in PILOT_MODES:
        raise InputError("pilot_assignment",
                         f"unknown assignment {pilot_assignment!r}; known: {', '.join(PILOT_MODES)}")
    if pilot_assignment == "orthogonal" and tau_p < K:
        raise InputError("tau_p", f"orthogonal pilots need tau_p ≥ users = {K}, got {tau_p}")
    ue_power_w = _pos_float("ue_power_w", ue_power_w)
    pilot_power_w = _pos_float("pilot_power_w", pilot_power_w)
    ap_power_w = _pos_float("ap_power_w", ap_power_w)
    bandwidth_hz = _pos_float("bandwidth_hz", bandwidth_hz)
    if isinstance(noise_figure_db, bool) or not isinstance(noise_figure_db, (int, float, np.integer, np.floating)) \
            or not math.isfinite(noise_figure_db):
        raise InputError("noise_figure_db", f"expected a finite number of dB, got {noise_figure_db!r}")
    noise_figure_db = float(noise_figure_db)
    memory.check_fits("aps" if M >= K else "users", estimate_bytes(M, K, shadowing=shadowing),
                      f"{GENERATOR} with aps = {memory.fmt_count(M)}, users = {memory.fmt_count(K)}")
    return (M, K, N, seed, tau_p, tau_c, area_km, pilot_assignment,
            (ue_power_w, pilot_power_w, ap_power_w, bandwidth_hz, noise_figure_db))


@register_generator(GENERATOR)
def generate(*, aps: int, users: int, antennas: int = 1, seed: int, tau_p: int | None = None,
             tau_c: int = TAU_C, area_km: float = AREA_KM, shadowing: str = "correlated",
             pilot_assignment: str | None = None, ue_power_w: float = P_UE_W, pilot_power_w: float = P_PILOT_W,
             ap_power_w: float = P_AP_W, bandwidth_hz: float = BANDWIDTH_HZ,
             noise_figure_db: float = NOISE_FIGURE_DB, power_model: Mapping | None = None,
             qos: Mapping | None = None, name: str | None = None) -> Instance:
    """A seeded Ngo-2017 instance: ``aps`` APs with ``antennas`` antennas each, ``users`` single-antenna UEs.

    ``tau_p`` defaults to ``users``. ``pilot_assignment``: ``"orthogonal"`` (UE k gets pilot k; needs
    tau_p ≥ users), ``"random"`` (each UE draws one of the tau_p pilots uniformly, with repetition, as in Ngo
    2017 §V), or None (default: orthogonal when tau_p ≥ users, else random). ``power_model`` defaults to
    :data:`instances.instance.DEFAULT_POWER_MODEL` (Chen TWC 2023); ``qos`` to ``{}``.
    Bad parameters raise InputError naming the parameter (``aps``, ``tau_p``, ``shadowing``, ...), as do
    ``area_km`` > :data:`MAX_AREA_KM` and sizes whose arrays would not fit in the available memory
    (:func:`estimate_bytes`; ``aps`` or ``users``, whichever is larger), before anything is allocated.
    """
    M, K, N, seed, tau_p, tau_c, area_km, pilot_assignment, powers = _checked(
        aps, users, antennas, seed, tau_p, tau_c, area_km, shadowing, pilot_assignment,
        ue_power_w, pilot_power_w, ap_power_w, bandwidth_hz, noise_figure_db)
    ue_power_w, pilot_power_w, ap_power_w, bandwidth_hz, noise_figure_db = powers

    side_m = float(units.km_to_m(area_km))
    rng = np.random.default_rng(seed)
    ap_pos = rng.uniform(-side_m / 2, side_m / 2, size=(M, 2))
    ue_pos = rng.uniform(-side_m / 2, side_m / 2, size=(K, 2))
    notes: dict = {}
    z = sample_shadowing(ap_pos, ue_pos, rng, side_m=side_m, mode=shadowing, notes=notes)
    d_km = units.m_to_km(wrap_distance(ap_pos, ue_pos, side_m))
    beta_db = path_loss_db(d_km) + np.where(d_km > D1_KM, SIGMA_SH_DB * z, 0.0)
    if pilot_assignment == "orthogonal":
        pilots = np.arange(K)
    else:
        pilots = rng.integers(0, tau_p, size=K)

    params = {"aps": M, "users": K, "antennas": N, "tau_p": tau_p, "tau_c": tau_c, "area_km": area_km,
              "shadowing": shadowing, "pilot_assignment": pilot_assignment, "ue_power_w": ue_power_w,
              "pilot_power_w": pilot_power_w, "ap_power_w": ap_power_w, "bandwidth_hz": bandwidth_hz,
              "noise_figure_db": noise_figure_db, "path_loss_l_db": L_DB, "d0_km": D0_KM, "d1_km": D1_KM,
              "sigma_sh_db": SIGMA_SH_DB, "delta": DELTA, "d_decorr_m": D_DECORR_M}
    meta = {"generator": GENERATOR, "generator_version": GENERATOR_VERSION, "seed": seed, "source": SOURCE,
            "params": params}
    if notes:
        meta["shadowing_factorisation"] = notes
    if name is None:
        name = f"{GENERATOR}-M{M}-K{K}-N{N}-s{seed}"
    return Instance.create(name=name, ap_pos=ap_pos, ue_pos=ue_pos, beta=units.db_to_lin(beta_db),
                           noise_w=float(units.noise_power_w(bandwidth_hz, noise_figure_db)),
                           p_ue_max_w=ue_power_w, p_pilot_w=pilot_power_w, p_ap_max_w=ap_power_w, antennas=N,
                           tau_p=tau_p, tau_c=tau_c, bandwidth_hz=bandwidth_hz, power_model=power_model,
                           qos=qos, pilots=pilots, meta=meta)
