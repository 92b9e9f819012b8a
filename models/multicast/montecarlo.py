"""Monte Carlo simulation of the downlink of spec ``unicast_multicast.md`` §1–3 (paper 001): real Rayleigh channels,
uplink pilots with noise, the MMSE estimates of §1.4, MR or local full-pilot ZF precoders of §3, and the UatF
SINR computed from sample moments — the check of the closed forms of §4 (tests/papers/multicast).

Per draw, at AP m: g_mi = √β_mi h_mi, h ~ CN(0, I_N); pilot projections y_ms = √(τ_t ρ_k) g_mk + n (unicast
stream k) or Σ_l √(τ_t ρ_gl) g_mgl + n (group g), n ~ CN(0, I_N); estimates ĝ_ms = c_ms y_ms with the MMSE gains
(unicast √(τρ)β/(τρβ + 1), group Σ_l √(τρ_l)β_l / Λ_mg); precoder w_ms = ĝ_ms (MR) or the normalised ZF column
√((N − S) γ_ms) [Ĝ_m(Ĝ_m^H Ĝ_m)^{-1}]_s. The effective gain of stream s at receiver i is
e_is = Σ_m √(ρ_m p_ms) g_mi^H w_ms and

    SINR_i = |E e_{i,s(i)}|² / (Σ_s E|e_is|² − |E e_{i,s(i)}|² + 1)          (UatF, §4)

Random draws: one ``numpy.random.default_rng(seed)``; per chunk: h real/imag [T, M, N, K], then pilot noise
real/imag [T, M, N, S].
"""
from __future__ import annotations

import numpy as np

from models.multicast.estimation import membership
from models.multicast.system import MulticastSystem


def _cn(rng: np.random.Generator, shape) -> np.ndarray:
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2.0)


def _estimates(sys_: MulticastSystem, g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ĝ [T, M, N, S] from the channels g [T, M, N, R] and fresh pilot noise (§1.4)."""
    T = g.shape[0]
    amp = np.sqrt(sys_.tau_t * sys_.rho_t)                                  # [R]
    E = np.concatenate([np.eye(sys_.R)[:, sys_.unicast_idx], membership(sys_.group, sys_.G)], axis=1)  # [R, S]
    y = np.einsum("tmnr,rs->tmns", g * amp, E) + _cn(rng, (T, sys_.M, sys_.N, sys_.S))
    snr_b = amp[None, :] * sys_.beta                                       # √(τρ) β   [M, R]
    lam = 1.0 + (amp[None, :] ** 2 * sys_.beta) @ E                         # τρβ + 1 (unicast) / Λ_mg   [M, S]
    gain = (snr_b @ E) / lam                                                # MMSE gain per stream   [M, S]
    return y * gain[None, :, None, :]


def _precoders(sys_: MulticastSystem, ghat: np.ndarray) -> np.ndarray:
    if sys_.precoding == "mr":
        return ghat
    gram = np.einsum("tmns,tmnq->tmsq", ghat.conj(), ghat)
    W = np.linalg.solve(gram, np.broadcast_to(np.eye(sys_.S), gram.shape).astype(complex))  # (Ĝ^H Ĝ)^{-1}
    W = np.einsum("tmns,tmsq->tmnq", ghat, W)
    return W * np.sqrt((sys_.N - sys_.S) * sys_.gamma_stream)[None, :, None, :]


def simulate_sinr(sys_: MulticastSystem, assoc, eta, *, draws: int = 20000, seed: int = 0,
                  chunk: int = 2000) -> np.ndarray:
    """The Monte Carlo UatF SINR [R] at association ``assoc`` and powers ``eta`` [M, S] (module docstring)."""
    p = np.clip(sys_.check_x(assoc, "assoc") * sys_.check_x(eta, "eta"), 0.0, None)
    amp = np.sqrt(sys_.rho_d[:, None] * p)                                  # [M, S]
    rng = np.random.default_rng(seed)
    mean = np.zeros((sys_.R, sys_.S), dtype=complex)
    second = np.zeros((sys_.R, sys_.S))
    done = 0
    while done < draws:
        T = min(chunk, draws - done)
        g = _cn(rng, (T, sys_.M, sys_.N, sys_.R)) * np.sqrt(sys_.beta)[None, :, None, :]
        w = _precoders(sys_, _estimates(sys_, g, rng)) * amp[None, :, None, :]
        e = np.einsum("tmnr,tmns->trs", g.conj(), w)                        # e_is per draw
        mean += e.sum(axis=0)
        second += np.sum(np.abs(e) ** 2, axis=0)
        done += T
    mean /= draws
    second /= draws
    own = np.abs(mean[np.arange(sys_.R), sys_.stream_of]) ** 2
    return own / (second.sum(axis=1) - own + 1.0)


__all__ = ["simulate_sinr"]
