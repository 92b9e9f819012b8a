"""Monte Carlo proof of the paper-003 closed forms (models/common/estimation_vector.py, models/common/sinr.py; spec
iot_nonorthogonal.md §2.2–§2.4, §2.8, §3.2, §3.3, §3.7, §3.9, §5).

The simulation builds the real system without going through the modules' statistics:

* channels g_mk = sqrt(β_mk) h_mk, h_mk ~ CN(0, 1) i.i.d. over draws, APs and users;
* non-orthogonal random unit-norm pilots Ψ [τ_p, K] (τ_p < K) and the received pilot block of AP m
  y_m = Σ_k sqrt(τ_p ρ_p) g_mk ψ_k + w_m = P g_m + w_m, w_m ~ CN(0, I_τp), P = sqrt(τ_p ρ_p) Ψ;
* the estimates ĝ_m = W_m y_m, with W_m built here from the estimators' definitions:
  LMMSE (Paper A (2)):      W_m = B_m P^H A_m⁻¹, A_m = P B_m P^H + I;
  projection (Paper B (8)): W_m = diag(c_m) Ψ^H, c_mk = sqrt(τ_p ρ_p) β_mk / (τ_p ρ_p Σ_k' β_mk' |ψ_k^H ψ_k'|² + 1).

Uplink (MR at the CPU, r_k = Σ_m conj(ĝ_mk) y_m, data noise CN(0, 1) per AP): with X_kj = Σ_m conj(ĝ_mk) g_mj per
draw, the use-and-then-forget effective SINR is

    SINR_k^u = ρ_u η_k |E X_kk|² / (ρ_u Σ_j η_j E|X_kj|² − ρ_u η_k |E X_kk|² + E Σ_m |ĝ_mk|²).

Downlink (conjugate beamforming x_m = Σ_k sqrt(ρ_d η_mk) conj(ĝ_mk) q_k, noise CN(0, 1) at the user): with
D_kj = Σ_m sqrt(ρ_d η_mj) g_mk conj(ĝ_mj) per draw,

    SINR_k^d = |E D_kk|² / (Σ_j E|D_kj|² − |E D_kk|² + 1).

Both must match the closed forms per user within 0.1 dB. Each comparison also checks that it can fail: plugging
the other estimator's statistics into the closed form (and, for the projection estimator, dropping the coherent
leakage of the non-orthogonal pilots) is off by well over 0.1 dB for some user of the same instance.

Draws and statistical error. The layouts are Paper B's propagation (rao2020 generator, uncorrelated shadowing,
0.5 km square) so several users are served by one dominant AP; for them the sample mean of the desired gain has a
relative standard error ≈ sd(X_kk)/(E X_kk sqrt N), ≈ 0.04 dB on the SINR at N = 40 000 (measured over repeated
runs), which leaves too little room under 0.1 dB across 120 user comparisons. N = 100 000 brings the worst user's
standard deviation to ≈ 0.027 dB. Both estimators are applied to the same draws (one simulation per instance,
≈ 4 s, cached and shared by the uplink, downlink and cross-moment tests).
"""
from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from scipy.special import exp1

from instances import InputError

from instances.generators import rao2020
from models.common.estimation_vector import estimator_statistics
from models.common.sinr import (downlink_power_load, downlink_sinr, ei_rate, uplink_coefficients,
                                uplink_sinr_orthonormal)
from models.iot.small_cells import small_cell_selection, small_cell_uplink

DB_TOL = 0.1                 # per-user |closed form − MC| in dB
N_DRAWS = 100_000
CHUNK = 5_000
SEEDS = (11, 12, 13)
KINDS = ("lmmse", "projection")
M, K, TAU_P = 24, 10, 4      # τ_p < K: non-orthogonal pilots
AREA_KM = 0.5                # a denser layout than Paper B's 1 km (SINRs of order 0.1–10)


def _cn(rng: np.random.Generator, shape) -> np.ndarray:
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / math.sqrt(2.0)


def _db(x) -> np.ndarray:
    return 10.0 * np.log10(np.asarray(x, dtype=float))


def _other(kind: str) -> str:
    return KINDS[1 - KINDS.index(kind)]


@functools.lru_cache(maxsize=None)
def _setup(seed: int):
    """β [M, K], random unit-norm pilots Ψ [τ_p, K] and the normalised powers of a seeded Rao 2020 layout."""
    inst = rao2020.generate(aps=M, users=K, seed=seed, tau_p=TAU_P, area_km=AREA_KM, shadowing="uncorrelated")
    # 0.1 W pilots and data, 0.2 W per AP, noise 6.3e-13 W (equal across users / APs: scalars)
    rho_p, rho_u, rho_d = (float(np.max(p)) / inst.noise_w for p in (inst.p_pilot_w, inst.p_ue_max_w,
                                                                       inst.p_ap_max_w))
    return np.array(inst.beta), np.array(inst.pilot_seqs), rho_p, rho_u, rho_d


def estimator_matrices(beta, psi, rho_p, kind: str) -> np.ndarray:
    """W [M, K, τ_p] with ĝ_m = W_m y_m, from the estimators' definitions (not from the module's statistics)."""
    tau = psi.shape[0]
    amp = math.sqrt(tau * rho_p)
    P = amp * psi
    if kind == "lmmse":
        W = np.empty((beta.shape[0], beta.shape[1], tau), dtype=complex)
        for m in range(beta.shape[0]):
            A = (P * beta[m]) @ P.conj().T + np.eye(tau)
            W[m] = beta[m][:, None] * np.linalg.solve(A, P).conj().T        # B_m P^H A_m⁻¹ (A Hermitian)
        return W
    if kind == "projection":
        w = np.abs(psi.conj().T @ psi) ** 2                                  # |ψ_k^H ψ_k'|²
        c = amp * beta / (amp ** 2 * beta @ w.T + 1.0)
        return c[:, :, None] * psi.conj().T[None]                            # diag(c_m) Ψ^H
    raise ValueError(kind)


def simulate(beta, psi, rho_p, s_dl: dict, *, n_draws: int = N_DRAWS, seed: int = 0, chunk: int = CHUNK):
    """Draw channels, pilot noise and both estimators' estimates; return {kind: sample moments}.

    ``s_dl[kind]`` [M, K] = sqrt(ρ_d η_mk), the downlink amplitudes used with that estimator. Moments (means):
      x1, x2 [K, K]   E X_kj, E|X_kj|², X_kj = Σ_m conj(ĝ_mk) g_mj        (uplink)
      d1, d2 [K, K]   E D_kj, E|D_kj|², D_kj = Σ_m s_mj g_mk conj(ĝ_mj)   (downlink)
      cross [M, K, K] E[ĝ_mk conj(g_mj)], cross_se its standard error; gpow [M, K] E|ĝ_mk|²
    """
    rng = np.random.default_rng(seed)
    Mb, Kb = beta.shape
    tau = psi.shape[0]
    W = {kind: estimator_matrices(beta, psi, rho_p, kind) for kind in s_dl}
    Pt = (math.sqrt(tau * rho_p) * psi).T                                    # [K, τ]
    sb = np.sqrt(beta)
    acc = {kind: {} for kind in s_dl}
    done = 0
    while done < n_draws:
        n = min(chunk, n_draws - done)
        g = sb * _cn(rng, (n, Mb, Kb))                                        # [n, M, K]
        y = g @ Pt + _cn(rng, (n, Mb, tau))                                   # received pilots [n, M, τ]
        g2 = g.real ** 2 + g.imag ** 2
        for kind, a in acc.items():
            gh = np.einsum("nmt,mkt->nmk", y, W[kind], optimize=True)         # estimates
            ghc = gh.conj()
            gh2 = gh.real ** 2 + gh.imag ** 2
            X = np.einsum("nmk,nmj->nkj", ghc, g, optimize=True)              # Σ_m conj(ĝ_mk) g_mj
            D = np.einsum("nmk,nmj->nkj", g, s_dl[kind][None] * ghc, optimize=True)
            part = {"x1": X.sum(0), "x2": (X.real ** 2 + X.imag ** 2).sum(0),
                    "d1": D.sum(0), "d2": (D.real ** 2 + D.imag ** 2).sum(0),
                    "cross": np.einsum("nmk,nmj->mkj", gh, g.conj(), optimize=True),
                    "cross2": np.einsum("nmk,nmj->mkj", gh2, g2, optimize=True),      # Σ |ĝ_mk conj(g_mj)|²
                    "gpow": gh2.sum(0)}
            for key, v in part.items():
                a[key] = a.get(key, 0.0) + v
        done += n
    out = {}
    for kind, a in acc.items():
        mom = {key: v / n_draws for key, v in a.items()}
        mom["cross_se"] = np.sqrt(np.maximum(mom.pop("cross2") - np.abs(mom["cross"]) ** 2, 0.0) / n_draws)
        mom["x_se"] = np.sqrt(np.maximum(mom["x2"] - np.abs(mom["x1"]) ** 2, 0.0) / n_draws)
        out[kind] = mom
    return out


def mc_uplink_sinr(mom, eta, rho_u) -> np.ndarray:
    ds2 = np.abs(np.diagonal(mom["x1"])) ** 2
    den = rho_u * (mom["x2"] @ eta) - rho_u * eta * ds2 + mom["gpow"].sum(axis=0)
    return rho_u * eta * ds2 / den


def mc_downlink_sinr(mom) -> np.ndarray:
    ds2 = np.abs(np.diagonal(mom["d1"])) ** 2
    return ds2 / (mom["d2"].sum(axis=1) - ds2 + 1.0)


def _dl_eta(gamma, rng) -> np.ndarray:
    """η [M, K] uniform in [0.2, 1], each AP's row scaled to a random load Σ_k η_mk γ_mk ∈ [0.5, 1]."""
    eta = rng.uniform(0.2, 1.0, size=gamma.shape)
    return eta * (rng.uniform(0.5, 1.0, size=(gamma.shape[0], 1)) / (eta * gamma).sum(axis=1, keepdims=True))


@functools.lru_cache(maxsize=None)
def _case(seed: int):
    """{kind: (stats, η_u [K], η_d [M, K], MC moments)} of one instance (both estimators on the same draws)."""
    beta, psi, rho_p, rho_u, rho_d = _setup(seed)
    rng = np.random.default_rng([seed, 7])
    eta_u = rng.uniform(0.2, 1.0, size=K)
    cases = {}
    for kind in KINDS:
        stats = estimator_statistics(beta, psi, rho_p, kind=kind, full=True)
        eta_d = _dl_eta(stats.gamma, rng)
        assert np.all(downlink_power_load(eta_d, stats.gamma) <= 1.0 + 1e-12)
        cases[kind] = (stats, eta_u, eta_d)
    mom = simulate(beta, psi, rho_p, {kind: np.sqrt(rho_d * c[2]) for kind, c in cases.items()}, seed=seed)
    return {kind: c + (mom[kind],) for kind, c in cases.items()}


# --------------------------------------------------------------------------------------------- 1. uplink
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_uplink_sinr_matches_monte_carlo(seed, kind):
    """Paper A Theorem 1 / (8) (general-estimator form; Paper B (27) with the projection estimator)."""
    beta, psi, rho_p, rho_u, _ = _setup(seed)
    stats, eta, _, mom = _case(seed)[kind]
    lf = uplink_coefficients(stats, beta, rho_u)
    mc = mc_uplink_sinr(mom, eta, rho_u)
    err = np.abs(_db(lf.sinr(eta)) - _db(mc))
    print(f"UL seed={seed} {kind}: SINR {np.round(_db(mc), 1)} dB, max |err| {err.max():.4f} dB")
    assert err.max() < DB_TOL, err
    assert 0.05 < np.median(mc) and mc.max() < 50.0                        # the instance is in a useful range
    # the comparison has power: the other estimator's statistics are visibly wrong ...
    other = estimator_statistics(beta, psi, rho_p, kind=_other(kind))
    assert np.max(np.abs(_db(uplink_coefficients(other, beta, rho_u).sinr(eta)) - _db(mc))) > 5 * DB_TOL
    # ... and so is dropping the coherent leakage of the non-orthogonal pilots (small for LMMSE, which mostly
    # suppresses it: only required to be visible there)
    leak = np.abs(stats.q_sum) ** 2 * (1.0 - np.eye(K)) * rho_u
    no_leak = lf.a * eta / ((lf.B - leak) @ eta + lf.c)
    assert np.max(np.abs(_db(no_leak) - _db(mc))) > (5 if kind == "projection" else 1.5) * DB_TOL


# --------------------------------------------------------------------------------------------- 2. downlink
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_downlink_sinr_matches_monte_carlo(seed, kind):
    """Paper A Theorem 3 / (15) (general-estimator form; Paper B (24) with the projection estimator)."""
    beta, psi, rho_p, _, rho_d = _setup(seed)
    stats, _, eta, mom = _case(seed)[kind]
    mc = mc_downlink_sinr(mom)
    err = np.abs(_db(downlink_sinr(eta, stats, beta, rho_d)) - _db(mc))
    print(f"DL seed={seed} {kind}: SINR {np.round(_db(mc), 1)} dB, max |err| {err.max():.4f} dB")
    assert err.max() < DB_TOL, err
    assert 0.05 < np.median(mc) and mc.max() < 50.0
    other = estimator_statistics(beta, psi, rho_p, kind=_other(kind), full=True)
    assert np.max(np.abs(_db(downlink_sinr(eta, other, beta, rho_d)) - _db(mc))) > 5 * DB_TOL
    no_cross = stats._replace(q=stats.q * np.eye(K)[None])                  # [Q_m]_jk, j ≠ k, zeroed
    wrong = downlink_sinr(eta, no_cross, beta, rho_d)
    assert np.max(np.abs(_db(wrong) - _db(mc))) > (5 if kind == "projection" else 1.5) * DB_TOL


# --------------------------------------------------------------------------------------------- 4. cross-moments
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_cross_moments_match_q(seed, kind):
    """Σ_m E[ĝ_mk conj(g_mj)] = q_sum[k, j]: within 2 % on the larger entries (those whose MC standard error is
    below 0.4 % of |q|, so that 2 % is ≥ 5 standard errors: all diagonal and the strongest off-diagonal entries),
    and within 4.5 standard errors on every entry; the same per AP for [Q_m]_kj; E|ĝ_mk|² = γ_mk."""
    stats, _, _, mom = _case(seed)[kind]
    q_mc = mom["cross"].sum(axis=0)
    np.testing.assert_allclose(np.conj(mom["x1"]), q_mc, rtol=1e-9)         # X_kj = Σ_m conj(ĝ_mk) g_mj
    se = mom["x_se"]
    big = se < 0.004 * np.abs(stats.q_sum)
    assert np.all(np.diagonal(big))
    rel = np.abs(q_mc - stats.q_sum)[big] / np.abs(stats.q_sum)[big]
    z_sum = np.abs(q_mc - stats.q_sum) / se
    z_ap = np.abs(mom["cross"] - stats.q) / mom["cross_se"]
    print(f"cross seed={seed} {kind}: {big.sum() - K} off-diagonal entries among the larger ones, max rel err "
          f"{rel.max():.4f}; max z {z_sum.max():.2f} (sum), {z_ap.max():.2f} (per AP)")
    assert rel.max() < 0.02
    assert z_sum.max() < 4.5 and z_ap.max() < 4.5
    np.testing.assert_allclose(mom["gpow"], stats.gamma, rtol=0.03)
    # non-orthogonal pilots really couple the users: some off-diagonal entry is many standard errors from 0
    off = ~np.eye(K, dtype=bool)
    assert (np.abs(stats.q_sum) / se)[off].max() > 20


# --------------------------------------------------------------------------------------------- 3. special cases
def _unitary(n: int, rng) -> np.ndarray:
    q, r = np.linalg.qr(_cn(rng, (n, n)))
    return q * (np.diagonal(r) / np.abs(np.diagonal(r)))


@pytest.mark.parametrize("seed", SEEDS)
def test_orthonormal_pilots_reduce_to_paper_a_10(seed):
    """Paper A (10): with Ψ^H Ψ = I (τ_p = K) both estimators' general closed form equals the orthonormal one."""
    beta, _, rho_p, rho_u, _ = _setup(seed)
    rng = np.random.default_rng([seed, 3])
    eta = rng.uniform(0.2, 1.0, size=K)
    ref = uplink_sinr_orthonormal(beta, rho_p, K, rho_u, eta)
    for psi in (np.eye(K, dtype=complex), _unitary(K, rng)):
        for kind in KINDS:
            stats = estimator_statistics(beta, psi, rho_p, kind=kind)
            np.testing.assert_allclose(uplink_coefficients(stats, beta, rho_u).sinr(eta), ref, rtol=1e-12)
    # per-user pilot powers and powers enter the same way
    rp, ru = rho_p * rng.uniform(0.1, 1.0, K), rho_u * rng.uniform(0.1, 1.0, K)
    stats = estimator_statistics(beta, np.eye(K), rp, kind="lmmse")
    np.testing.assert_allclose(uplink_coefficients(stats, beta, ru).sinr(eta),
                               uplink_sinr_orthonormal(beta, rp, K, ru, eta), rtol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_lmmse_equals_projection_for_orthogonal_or_identical_pilots(seed):
    """Pilots pairwise identical or orthogonal (reuse of an orthonormal book, Paper B): the two estimators coincide
    (spec §3.2), [Q_m]_kj = γ_mk (β_mj/β_mk) φ_k^H φ_j, and the general SINRs reduce to Paper B (27) and (24)."""
    beta, _, rho_p, rho_u, rho_d = _setup(seed)
    rng = np.random.default_rng([seed, 4])
    book = _unitary(TAU_P, rng)
    piv = np.concatenate([np.arange(TAU_P), rng.integers(0, TAU_P, size=K - TAU_P)])
    rng.shuffle(piv)
    cases = {"reuse": book[:, piv], "identity": np.eye(K, dtype=complex)}
    for name, psi in cases.items():
        lm = estimator_statistics(beta, psi, rho_p, kind="lmmse", full=True)
        pr = estimator_statistics(beta, psi, rho_p, kind="projection", full=True)
        np.testing.assert_allclose(lm.gamma, pr.gamma, rtol=1e-10, err_msg=name)
        np.testing.assert_allclose(lm.q_sum, pr.q_sum, rtol=0, atol=1e-10 * np.abs(pr.q_sum).max(), err_msg=name)
        scale = np.abs(pr.q).max(axis=(1, 2), keepdims=True)
        assert np.all(np.abs(lm.q - pr.q) <= 1e-10 * scale), name
    psi = cases["reuse"]
    stats = estimator_statistics(beta, psi, rho_p, kind="projection", full=True)
    gram = psi.conj().T @ psi
    gam = stats.gamma
    np.testing.assert_allclose(stats.q, gam[:, :, None] * (beta[:, None, :] / beta[:, :, None]) * gram[None],
                               rtol=0, atol=1e-12 * np.abs(stats.q).max())
    # Paper B (27), written out
    eta = rng.uniform(0.2, 1.0, size=K)
    coh = np.einsum("mk,mj->kj", gam / beta, beta) ** 2 * np.abs(gram) ** 2     # (Σ_m γ_mk β_mj/β_mk)² |φ_k^H φ_j|²
    np.fill_diagonal(coh, 0.0)
    num = rho_u * eta * gam.sum(axis=0) ** 2
    den = rho_u * coh @ eta + rho_u * (gam.T @ beta) @ eta + gam.sum(axis=0)
    np.testing.assert_allclose(uplink_coefficients(stats, beta, rho_u).sinr(eta), num / den, rtol=1e-10)
    # Paper B (24), written out
    eta_d = _dl_eta(gam, rng)
    se = np.sqrt(eta_d)
    coh = np.einsum("mj,mj,mk->kj", se, gam / beta, beta) ** 2 * np.abs(gram) ** 2   # [k, j]
    np.fill_diagonal(coh, 0.0)
    num = rho_d * (se * gam).sum(axis=0) ** 2
    den = rho_d * coh.sum(axis=1) + rho_d * beta.T @ (eta_d * gam).sum(axis=1) + 1.0
    np.testing.assert_allclose(downlink_sinr(eta_d, stats, beta, rho_d), num / den, rtol=1e-10)


# --------------------------------------------------------------------------------------------- 5. small cells
@pytest.mark.parametrize("x", [0.05, 0.5, 3.0, 30.0])
def test_ei_rate_is_the_rayleigh_mean(x):
    """E log2(1 + x|z|²), z ~ CN(0, 1): a plain sample mean within 4.5 standard errors, and a stratified sample
    mean of |z|² ~ Exp(1) (u_i = (i + U_i)/N, |z|² = −ln(1 − u_i)) to 3 digits."""
    rng = np.random.default_rng(int(x * 100))
    ref = float(ei_rate(x))
    z = _cn(rng, 400_000)
    v = np.log2(1.0 + x * np.abs(z) ** 2)
    assert abs(v.mean() - ref) < 4.5 * v.std() / math.sqrt(v.size)
    n = 200_000
    e = -np.log1p(-(np.arange(n) + rng.uniform(size=n)) / n)
    strat = np.log2(1.0 + x * e).mean()
    print(f"ei_rate({x}) = {ref:.6f}, stratified MC {strat:.6f}, plain MC {v.mean():.6f}")
    assert abs(strat - ref) < 1e-3 * ref


def test_ei_rate_asymptotic_switch_is_continuous():
    """The series used for 1/x > 50 agrees with e^{1/x}E1(1/x) (still finite up to 1/x ≈ 700) to 1e-9 and joins
    the direct branch continuously at x = 1/50."""
    x0 = 1.0 / 50.0
    lo, hi = ei_rate(np.array([x0 * (1 - 1e-12), x0 * (1 + 1e-12)]))
    assert abs(lo - hi) < 1e-9 * hi
    x = 1.0 / np.array([50.000001, 55.0, 80.0, 150.0, 400.0, 690.0])
    direct = np.exp(1.0 / x) * exp1(1.0 / x) / math.log(2.0)
    np.testing.assert_allclose(ei_rate(x), direct, rtol=1e-9)
    tiny = np.array([1e-30, 1e-300, 0.0])
    np.testing.assert_allclose(ei_rate(tiny), tiny / math.log(2.0), rtol=1e-12)
    assert np.all(np.isfinite(ei_rate(np.array([1e-5, 1e-3, 1e3, 1e8]))))


@pytest.mark.parametrize("seed", SEEDS)
def test_small_cell_selection_is_sequential_strongest_free_ap(seed):
    beta = _setup(seed)[0]
    serving = small_cell_selection(beta)
    assert serving.shape == (K,) and len(set(serving.tolist())) == K
    for k in range(K):
        free = np.setdiff1d(np.arange(M), serving[:k])
        assert beta[serving[k], k] == beta[free, k].max()
    with pytest.raises(InputError):
        small_cell_selection(beta[:K - 1])


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_small_cell_uplink_estimate_and_sinr(seed):
    """The serving AP's scalar LMMSE estimate of g_{m_k k} from the non-orthogonal pilots has variance
    ω_k = γ[m_k, k] and an uncorrelated error of variance β − ω (MC); the effective SINR ω̄_k of
    small_cell_uplink equals the spec's expression (§2.8, §3.9) with those MC moments within 0.1 dB.

    Not tested: that ei_rate(ω̄) bounds the rate with the estimate-conditional interference power (the Björnson–
    Sanguinetti remark, spec §2.8). It is not a theorem: with interference strongly correlated with the estimate the
    conditional-noise rate can exceed ei_rate(ω̄)."""
    beta, psi, rho_p, rho_u, _ = _setup(seed)
    serving = small_cell_selection(beta)
    omega = estimator_statistics(beta, psi, rho_p, kind="lmmse").gamma[serving, np.arange(K)]
    rng = np.random.default_rng([seed, 5])
    n = 100_000
    P = math.sqrt(TAU_P * rho_p) * psi
    bs = beta[serving]                                                       # [k, j] = β_{m_k j}
    g = np.sqrt(bs)[None] * _cn(rng, (n, K, K))                              # g_{m_k j}, per user's AP
    y = g @ P.T + _cn(rng, (n, K, TAU_P))                                     # pilots received at AP m_k
    ghat = np.empty((n, K), dtype=complex)
    for k in range(K):
        A = (P * bs[k]) @ P.conj().T + np.eye(TAU_P)
        a = bs[k, k] * np.linalg.solve(A, P[:, k])                           # ĝ = a^H y (scalar LMMSE)
        ghat[:, k] = y[:, k] @ a.conj()
    own = g[:, np.arange(K), np.arange(K)]
    err = own - ghat
    var = np.mean(np.abs(ghat) ** 2, axis=0)
    np.testing.assert_allclose(var, omega, rtol=0.02)
    np.testing.assert_allclose(np.mean(np.abs(err) ** 2, axis=0), beta[serving, np.arange(K)] - omega,
                               rtol=0.03, atol=1e-3 * omega.max())
    corr = np.abs(np.mean(ghat * err.conj(), axis=0)) / np.sqrt(var * np.mean(np.abs(err) ** 2, axis=0))
    assert corr.max() < 0.02
    alpha = rng.uniform(0.2, 1.0, size=K)
    interf = np.mean(np.abs(g) ** 2, axis=0)                                 # E|g_{m_k j}|² [k, j]
    off = interf * (1.0 - np.eye(K))
    mc = rho_u * alpha * var / (rho_u * alpha * np.mean(np.abs(err) ** 2, axis=0) + rho_u * off @ alpha + 1.0)
    closed = small_cell_uplink(beta, serving, omega, rho_u).sinr(alpha)
    d = np.abs(_db(closed) - _db(mc))
    print(f"SC UL seed={seed}: max |err| {d.max():.4f} dB")
    assert d.max() < DB_TOL
