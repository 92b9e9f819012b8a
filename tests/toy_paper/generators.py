"""The toy paper's generator ``toy2``: a few single-antenna APs and users, uniform in a square, a one-slope path
loss. Registered by the decorator; found through ``CFOPT_PLUGINS`` (no shared file lists it)."""
from __future__ import annotations

import numpy as np

from instances import Instance
from instances.generators import register_generator

PATH_LOSS_EXPONENT = 3.5
NOISE_W = 1e-13                 # about -100 dBm


@register_generator("toy2")
def generate(*, seed: int, aps: int = 2, users: int = 2, area_km: float = 0.2, ue_power_w: float = 0.1,
             name: str | None = None) -> Instance:
    """A seeded toy layout: ``aps`` APs and ``users`` users uniform on an ``area_km`` square, β = (d / 1 m)^-3.5
    (d ≥ 1 m), noise 1e-13 W, ``ue_power_w`` per user."""
    rng = np.random.default_rng(seed)
    side = 1000.0 * area_km
    ap = rng.uniform(0.0, side, size=(aps, 2))
    ue = rng.uniform(0.0, side, size=(users, 2))
    d = np.maximum(np.linalg.norm(ap[:, None, :] - ue[None, :, :], axis=-1), 1.0)
    return Instance.create(name=name or f"toy2-M{aps}-K{users}-s{seed}", ap_pos=ap, ue_pos=ue,
                           beta=d ** -PATH_LOSS_EXPONENT, noise_w=NOISE_W, p_ue_max_w=ue_power_w,
                           p_pilot_w=ue_power_w, p_ap_max_w=0.2, tau_p=users, tau_c=200, bandwidth_hz=20e6,
                           meta={"generator": "toy2", "generator_version": "1", "seed": seed,
                                 "params": {"aps": aps, "users": users, "area_km": area_km,
                                            "ue_power_w": ue_power_w}})
