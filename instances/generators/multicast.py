"""Generator ``multicast`` and the ``multicast`` block: downlink unicast + multi-group multicast cell-free massive
MIMO (paper 001; spec ``/work/shared/spec/unicast_multicast.md`` §1, §9.2).

* Geometry, large-scale fading (three-slope path loss, shadowing σ_sh = 8 dB only beyond d1, correlated
  two-component model), noise and powers are those of :func:`instances.generators.ngo2017.generate` called with
  the same seed (spec ``propagation_ngo2017.md``): positions and ``beta`` equal the ngo2017 instance of the same
  seed and sizes with ``users = unicast + groups*group_size``.
* Users are ordered unicast first (k = 0..K_u−1), then group 0's K_g members, group 1's, ... (spec §1.1 stream
  order). Orthogonal pilots τ_t = K_u + G (spec §1.3, the [G] "natural choice"): unicast user k has pilot k,
  every member of group g shares pilot K_u + g (``Instance.pilots``).
* Default powers are the spec §9.2 [L] values of the Ngo/Tran APG codes: ρ_d = 1 W per AP, ρ_t = 0.2 W pilot
  power per user (ngo2017's own defaults are 0.2 W / 0.1 W).
* QoS (optional, ``Instance.qos``): ``se_min_unicast_bps_hz`` (S^u_min), ``se_min_multicast_bps_hz`` (S^mc_min),
  ``fronthaul_bps_hz`` (C̄_fh = C_fh/B, per AP), ``max_streams_per_ap`` (N_max) — spec §5 (31c), (31d), (31f).

The ``multicast`` block (:class:`MulticastBlock`) holds ``group[K]`` (−1 = unicast user, else the group index
0..G−1) and the objective weights ``weights[K]`` (w_k, w_gl of (31a); default 1).

Random draws: only ngo2017's (``default_rng(seed)``: AP positions, UE positions, shadowing, then its random pilot
indices, which are discarded and replaced by the orthogonal assignment above). Nothing else is random.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from instances._convert import _float_array, _int_array, _mapping
from instances.blocks import Block, register_block
from instances.errors import InputError
from instances.generators import ngo2017, register_generator
from instances.generators.ngo2017 import _pos_int
from instances.instance import Instance

GENERATOR = "multicast"
GENERATOR_VERSION = "1"
SOURCE = ("Joint AP selection and power allocation for unicast-multicast cell-free massive MIMO (paper 001, "
          "arXiv 2508.13771); spec /work/shared/spec/unicast_multicast.md; geometry ngo2017")

P_AP_W = 1.0                # ρ_d, spec §9.2 [L]
P_PILOT_W = 0.2             # ρ_t, spec §9.2 [L]
PRECODINGS = ("mr", "zf")
#: QoS keys of this paper in ``Instance.qos`` (all optional)
QOS_KEYS = ("se_min_unicast_bps_hz", "se_min_multicast_bps_hz", "fronthaul_bps_hz", "max_streams_per_ap")


@register_block
@dataclass(frozen=True, eq=False)
class MulticastBlock(Block):
    """The ``multicast`` block: ``group`` [K] int (−1 = unicast user, g ∈ 0..G−1 = member of multicast group g;
    every group 0..G−1 non-empty) and ``weights`` [K] (w_k / w_gl of (31a), finite, ≥ 0). JSON form
    ``{"group": [K], "weights": [K]}``; hashed as ``block.multicast``."""

    NAME: ClassVar[str] = "multicast"
    group: np.ndarray
    weights: np.ndarray

    def __post_init__(self) -> None:
        g = _int_array("multicast.group", self.group)
        w = _float_array("multicast.weights", self.weights)
        if g.ndim != 1 or w.ndim != 1:
            raise InputError("multicast.group" if g.ndim != 1 else "multicast.weights", "expected a list [K]")
        object.__setattr__(self, "group", g)
        object.__setattr__(self, "weights", w)

    @property
    def G(self) -> int:
        return int(self.group.max()) + 1 if self.group.size and self.group.max() >= 0 else 0

    @property
    def unicast(self) -> np.ndarray:
        """Indices of the unicast users, in instance order."""
        return np.flatnonzero(self.group < 0)

    def members(self, g: int) -> np.ndarray:
        return np.flatnonzero(self.group == g)

    def check(self, instance: Any) -> None:
        K = instance.K
        if self.group.shape != (K,):
            raise InputError("multicast.group", f"shape {self.group.shape} does not match (K,) = {(K,)}")
        if self.weights.shape != (K,):
            raise InputError("multicast.weights", f"shape {self.weights.shape} does not match (K,) = {(K,)}")
        if np.any(self.group < -1):
            raise InputError("multicast.group", "entries are −1 (unicast) or a group index ≥ 0")
        G = self.G
        empty = [g for g in range(G) if not np.any(self.group == g)]
        if empty:
            raise InputError("multicast.group", f"group {empty[0]} has no member (groups are 0..G−1 = 0..{G - 1})")
        if not np.all(np.isfinite(self.weights)) or np.any(self.weights < 0):
            raise InputError("multicast.weights", "weights must be finite and ≥ 0")
        S = int(np.sum(self.group < 0)) + G
        if instance.tau_p < S:
            raise InputError("tau_p", f"orthogonal pilots need tau_p ≥ K_u + G = {S}, got {instance.tau_p}")
        if instance.pilots is not None:
            _check_pilot_pattern(self.group, instance.pilots)

    def to_json(self) -> dict[str, Any]:
        return {"group": [int(v) for v in self.group], "weights": [float(v) for v in self.weights]}

    @classmethod
    def from_json(cls, data: Any) -> "MulticastBlock":
        data = _mapping("blocks.multicast", data)
        unknown = [k for k in data if k not in ("group", "weights")]
        if unknown:
            raise InputError(f"blocks.multicast.{unknown[0]}", "unknown field; known: group, weights")
        if "group" not in data:
            raise InputError("blocks.multicast.group", "missing")
        group = data["group"]
        return cls(group, data.get("weights", np.ones(len(group))))

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, MulticastBlock) and np.array_equal(self.group, other.group)
                and np.array_equal(self.weights, other.weights))

    __hash__ = None  # type: ignore[assignment]


def _check_pilot_pattern(group: np.ndarray, pilots: np.ndarray) -> None:
    """Spec §1.3: unicast pilots distinct, one shared pilot per group, all K_u + G pilots mutually distinct."""
    uni = pilots[group < 0]
    shared = []
    for g in range(int(group.max()) + 1 if group.size else 0):
        p = np.unique(pilots[group == g])
        if p.size != 1:
            raise InputError("pilots", f"the members of multicast group {g} must share one pilot, got {p.tolist()}")
        shared.append(int(p[0]))
    used = np.concatenate([uni, np.asarray(shared, dtype=np.int64)])
    if np.unique(used).size != used.size:
        raise InputError("pilots", "unicast users and multicast groups need mutually orthogonal (distinct) pilots")


def _qos(se_min_unicast, se_min_multicast, fronthaul, n_max) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, v in zip(QOS_KEYS[:3], (se_min_unicast, se_min_multicast, fronthaul)):
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise InputError(key, f"expected a finite number ≥ 0 (bit/s/Hz), got {v!r}")
        out[key] = float(v)
    if n_max is not None:
        out["max_streams_per_ap"] = float(_pos_int("max_streams_per_ap", n_max))
    return out


def _weight(name: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        raise InputError(name, f"expected a finite weight ≥ 0, got {v!r}")
    return float(v)


def check_zf_antennas(antennas: int, streams: int, field: str = "antennas") -> None:
    """Spec §3.2: local full-pilot ZF needs N > S = K_u + G (N ≥ K_u + G + 1); InputError naming ``field``."""
    if antennas <= streams:
        raise InputError(field, f"ZF precoding needs N > K_u + G = {streams} antennas per AP "
                                f"(N ≥ {streams + 1}), got N = {antennas}")


@register_generator(GENERATOR)
def generate(*, seed: int, aps: int, antennas: int, unicast: int, groups: int, group_size: int,
             area_km: float = ngo2017.AREA_KM, tau_c: int = ngo2017.TAU_C, shadowing: str = "correlated",
             precoding: str | None = None, weight_unicast: float = 1.0, weight_multicast: float = 1.0,
             se_min_unicast_bps_hz: float | None = None, se_min_multicast_bps_hz: float | None = None,
             fronthaul_bps_hz: float | None = None, max_streams_per_ap: int | None = None,
             ap_power_w: float = P_AP_W, pilot_power_w: float = P_PILOT_W,
             bandwidth_hz: float = ngo2017.BANDWIDTH_HZ, noise_figure_db: float = ngo2017.NOISE_FIGURE_DB,
             name: str | None = None) -> Instance:
    """A seeded unicast + multicast instance: ``aps`` APs with ``antennas`` antennas, ``unicast`` unicast users and
    ``groups`` multicast groups of ``group_size`` users each, orthogonal pilots τ_t = unicast + groups.

    ``precoding`` ("mr"/"zf", optional) is only checked here: "zf" with antennas ≤ unicast + groups raises
    InputError("antennas") (spec §3.2). Weights: one value for all unicast users and one for all multicast users.
    QoS keys are stored in ``qos`` when given (module docstring). Bad parameters raise InputError naming them.
    """
    M = _pos_int("aps", aps)
    N = _pos_int("antennas", antennas)
    Ku = _pos_int("unicast", unicast, minimum=0)
    G = _pos_int("groups", groups, minimum=0)
    Kg = _pos_int("group_size", group_size)
    if Ku + G < 1:
        raise InputError("unicast", "need at least one unicast user or one multicast group")
    if precoding is not None and precoding not in PRECODINGS:
        raise InputError("precoding", f"unknown precoding {precoding!r}; known: {', '.join(PRECODINGS)}")
    if precoding == "zf":
        check_zf_antennas(N, Ku + G)
    qos = _qos(se_min_unicast_bps_hz, se_min_multicast_bps_hz, fronthaul_bps_hz, max_streams_per_ap)
    wu, wm = _weight("weight_unicast", weight_unicast), _weight("weight_multicast", weight_multicast)
    K, tau_t = Ku + G * Kg, Ku + G
    tau_c = _pos_int("tau_c", tau_c)
    if tau_t > tau_c:
        raise InputError("tau_c", f"orthogonal pilots need tau_c ≥ K_u + G = {tau_t}, got {tau_c}")
    base = ngo2017.generate(aps=M, users=K, antennas=N, seed=seed, tau_p=tau_t, tau_c=tau_c, area_km=area_km,
                            shadowing=shadowing, pilot_assignment="orthogonal" if tau_t >= K else "random",
                            pilot_power_w=pilot_power_w, ap_power_w=ap_power_w, bandwidth_hz=bandwidth_hz,
                            noise_figure_db=noise_figure_db)
    group = np.concatenate([np.full(Ku, -1), np.repeat(np.arange(G), Kg)]).astype(np.int64)
    pilots = np.where(group < 0, np.arange(K), Ku + group)
    weights = np.where(group < 0, wu, wm)
    bp = base.meta["params"]
    params = {"aps": M, "antennas": N, "unicast": Ku, "groups": G, "group_size": Kg, "users": K, "tau_p": tau_t,
              "precoding": precoding, "weight_unicast": wu, "weight_multicast": wm,
              "geometry": f"{ngo2017.GENERATOR} v{ngo2017.GENERATOR_VERSION}",
              **{k: bp[k] for k in ("tau_c", "area_km", "shadowing", "pilot_power_w", "ap_power_w",
                                    "bandwidth_hz", "noise_figure_db", "path_loss_l_db", "d0_km", "d1_km",
                                    "sigma_sh_db", "delta", "d_decorr_m")}}
    meta = {"generator": GENERATOR, "generator_version": GENERATOR_VERSION, "seed": int(seed), "source": SOURCE,
            "params": params, "units": dict(base.meta["units"])}
    if "shadowing_factorisation" in base.meta:
        meta["shadowing_factorisation"] = base.meta["shadowing_factorisation"]
    if name is None:
        name = f"{GENERATOR}-M{M}-N{N}-Ku{Ku}-G{G}x{Kg}-s{seed}"
    return base.replace(name=name, pilots=pilots, qos=qos, meta=meta,
                        blocks={"multicast": MulticastBlock(group, weights)})


__all__ = ["GENERATOR", "MulticastBlock", "PRECODINGS", "QOS_KEYS", "check_zf_antennas", "generate"]
