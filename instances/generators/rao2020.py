"""Generator of the Rao–Ashikhmin–Yang 2020 IoT layout: Ngo 2017 geometry with non-orthogonal pilots
(spec ``/work/shared/spec/iot_nonorthogonal.md`` §2.1, §3.1, §3.10).

S. Rao, A. Ashikhmin, H. Yang, "Cell-Free Massive MIMO with Nonorthogonal Pilots for Internet of Things",
arXiv:2006.10363 (2020), Section VIII.

* Geometry, large-scale fading, noise and powers are those of :func:`instances.generators.ngo2017.generate` called with the
  same seed and parameters (single-antenna APs, spec §3.10 "=B"), so ``ap_pos``, ``ue_pos`` and ``beta`` equal the
  Ngo 2017 instance of the same seed. Paper A's own table values could not be read (spec §3.10); the defaults
  are Paper B's, except that shadowing defaults to ``"uncorrelated"`` here (ngo2017's default is correlated).
* Every thing k owns a distinct unit-norm pilot ψ_k ∈ C^{τ_p} (spec §3.1), stored as the ``pilots`` block
  (:class:`instances.blocks.PilotBlock`, read as ``Instance.pilot_seqs``) = Ψ [τ_p, K]:

  - ``"random"`` (default, Section VIII: "random vectors uniformly distributed over the surface of complex unit
    sphere"): ψ_k = g_k/‖g_k‖ with g_k ~ CN(0, I) i.i.d., which is uniform on the unit sphere of C^{τ_p};
  - ``"qpsk"``: i.i.d. entries (±1 ± j)/√(2 τ_p) (spec ambiguity A12's alternative; for short τ_p two things can
    draw the same pilot with probability 4^{−τ_p} per pair; they are not redrawn);
  - ``"orthonormal"``: Ψ = first K columns of the identity I_{τ_p} (needs τ_p ≥ K). The identity is used rather
    than a random unitary: the estimator and SINRs (spec §3.2–§3.7) depend on Ψ only through products
    Ψ^H f(Ψ B Ψ^H) Ψ, which do not change under a common rotation Ψ -> U Ψ (U unitary).

  ``pilots`` (integer indices) is None for "random"/"qpsk" (indices are meaningless) and arange(K) for
  "orthonormal" (consistent with :meth:`Instance.pilot_matrix` from indices).

Random draws: the geometry and shadowing come from ``numpy.random.default_rng(seed)`` exactly as in ngo2017; the
pilots from a separate stream ``numpy.random.default_rng([seed, 3])``, independent of the geometry's, so changing
the pilot mode never moves the things and the same seed gives the same pilots whatever the shadowing mode.
"""
from __future__ import annotations

import math

import numpy as np

from instances import memory

from instances.generators import ngo2017
from instances.blocks import PilotBlock
from instances.errors import InputError
from instances.generators import register_generator
from instances.instance import Instance
from instances.generators.ngo2017 import _pos_int

GENERATOR = "rao2020"
GENERATOR_VERSION = "1"
SOURCE = ("Rao, Ashikhmin, Yang, 'Cell-Free Massive MIMO with Nonorthogonal Pilots for Internet of Things', "
          "arXiv:2006.10363, 2020; spec /work/shared/spec/iot_nonorthogonal.md §2.1, §3.1, §3.10")

PILOT_MODES = ("random", "orthonormal", "qpsk")
PILOT_STREAM = 3            # the pilots' rng is default_rng([seed, PILOT_STREAM])
RNG_NOTE = ("geometry/shadowing: default_rng(seed) as ngo2017; pilots: default_rng([seed, 3]), an independent "
            "stream")


def random_pilots(tau_p: int, users: int, rng: np.random.Generator) -> np.ndarray:
    """Ψ [τ_p, K] with i.i.d. columns uniform on the complex unit sphere: normalised CN(0, I_{τ_p}) vectors
    (draws: real parts [τ_p, K], then imaginary parts [τ_p, K])."""
    g = rng.standard_normal((tau_p, users)) + 1j * rng.standard_normal((tau_p, users))
    return g / np.linalg.norm(g, axis=0, keepdims=True)


def qpsk_pilots(tau_p: int, users: int, rng: np.random.Generator) -> np.ndarray:
    """Ψ [τ_p, K] with i.i.d. entries (±1 ± j)/√(2 τ_p) (unit-norm columns; draws: bits [2, τ_p, K])."""
    bits = rng.integers(0, 2, size=(2, tau_p, users))
    sign = 1.0 - 2.0 * bits
    return (sign[0] + 1j * sign[1]) / math.sqrt(2.0 * tau_p)


def orthonormal_pilots(tau_p: int, users: int) -> np.ndarray:
    """Ψ [τ_p, K] = the first K columns of I_{τ_p} (needs τ_p ≥ K)."""
    return np.eye(tau_p, users, dtype=np.complex128)


def estimate_bytes(aps: int, users: int, tau_p: int, *, shadowing: str = "uncorrelated") -> float:
    """Approximate peak memory (bytes): :func:`instances.generators.ngo2017.estimate_bytes` plus ~400 B per entry of the
    complex pilot matrix Ψ [τ_p, K] (draws, normalisation, the instance's copy and its [τ_p][K][2] JSON text)."""
    T, K = float(min(tau_p, 10 ** 15)), float(min(users, 10 ** 15))
    return ngo2017.estimate_bytes(aps, users, shadowing=shadowing) + 400.0 * T * K


@register_generator(GENERATOR)
def generate(*, aps: int, users: int, seed: int, tau_p: int, tau_c: int = ngo2017.TAU_C,
             area_km: float = ngo2017.AREA_KM, shadowing: str = "uncorrelated", pilots: str = "random",
             ue_power_w: float = ngo2017.P_UE_W, pilot_power_w: float = ngo2017.P_PILOT_W,
             ap_power_w: float = ngo2017.P_AP_W, bandwidth_hz: float = ngo2017.BANDWIDTH_HZ,
             noise_figure_db: float = ngo2017.NOISE_FIGURE_DB, name: str | None = None) -> Instance:
    """A seeded Rao 2020 instance: ``aps`` single-antenna APs, ``users`` single-antenna things with pilots of
    length ``tau_p`` (typically tau_p < users: non-orthogonal) drawn per ``pilots`` ("random", "orthonormal" or
    "qpsk"; see the module docstring). Positions and ``beta`` equal ``ngo2017.generate`` with the same seed and
    parameters. Bad parameters raise InputError naming the parameter (``pilots``, ``tau_p``, ``aps``, ...), as do
    sizes whose arrays would not fit in the available memory (:func:`estimate_bytes`), before anything is allocated.
    """
    M = _pos_int("aps", aps)
    K = _pos_int("users", users)
    if seed is None:
        raise InputError("seed", "a seed is required (instances are reproducible)")
    seed = _pos_int("seed", seed, minimum=0)
    if tau_p is None:
        raise InputError("tau_p", "a pilot length is required")
    tau_p = _pos_int("tau_p", tau_p)
    if not isinstance(pilots, str) or pilots not in PILOT_MODES:
        raise InputError("pilots", f"unknown pilot mode {pilots!r}; known: {', '.join(PILOT_MODES)}")
    if pilots == "orthonormal" and tau_p < K:
        raise InputError("tau_p", f"orthonormal pilots need tau_p ≥ users = {K}, got {tau_p}")
    tau_c = _pos_int("tau_c", tau_c)
    if tau_p > tau_c:
        raise InputError("tau_p", f"{tau_p} exceeds tau_c = {tau_c}")
    need = estimate_bytes(M, K, tau_p, shadowing=shadowing)
    geometry = ngo2017.estimate_bytes(M, K, shadowing=shadowing)
    field = "tau_p" if need - geometry > geometry else "aps" if M >= K else "users"
    memory.check_fits(field, need, f"{GENERATOR} with aps = {memory.fmt_count(M)}, users = {memory.fmt_count(K)}, "
                             f"tau_p = {memory.fmt_count(tau_p)}")

    # geometry, fading, noise and powers (validates the remaining parameters, naming them)
    base = ngo2017.generate(aps=M, users=K, antennas=1, seed=seed, tau_p=tau_p, tau_c=tau_c, area_km=area_km,
                            shadowing=shadowing, pilot_assignment="orthogonal" if tau_p >= K else "random",
                            ue_power_w=ue_power_w, pilot_power_w=pilot_power_w, ap_power_w=ap_power_w,
                            bandwidth_hz=bandwidth_hz, noise_figure_db=noise_figure_db)

    rng = np.random.default_rng([seed, PILOT_STREAM])
    if pilots == "random":
        psi, idx = random_pilots(tau_p, K, rng), None
    elif pilots == "qpsk":
        psi, idx = qpsk_pilots(tau_p, K, rng), None
    else:
        psi, idx = orthonormal_pilots(tau_p, K), np.arange(K)

    bp = base.meta["params"]
    params = {"aps": M, "users": K, "tau_p": tau_p, "tau_c": bp["tau_c"], "area_km": bp["area_km"],
              "shadowing": bp["shadowing"], "pilots": pilots, "ue_power_w": bp["ue_power_w"],
              "pilot_power_w": bp["pilot_power_w"], "ap_power_w": bp["ap_power_w"],
              "bandwidth_hz": bp["bandwidth_hz"], "noise_figure_db": bp["noise_figure_db"],
              "rng": RNG_NOTE, "geometry": f"{ngo2017.GENERATOR} v{ngo2017.GENERATOR_VERSION}",
              **{k: bp[k] for k in ("path_loss_l_db", "d0_km", "d1_km", "sigma_sh_db", "delta", "d_decorr_m")}}
    meta = {"generator": GENERATOR, "generator_version": GENERATOR_VERSION, "seed": seed, "source": SOURCE,
            "params": params, "units": {**base.meta["units"], "pilot_seqs": "1"}}
    if "shadowing_factorisation" in base.meta:
        meta["shadowing_factorisation"] = base.meta["shadowing_factorisation"]
    if name is None:
        name = f"{GENERATOR}-M{M}-K{K}-tp{tau_p}-s{seed}"
    return base.replace(name=name, pilots=idx, blocks={"pilots": PilotBlock(psi)}, meta=meta)
