"""Properties of the radio models: conversions invert, SINR is in range and monotone, fading is CN(0,1).

Float comparisons: closed forms against the float64 implementation (tolerances derived at each
test), exact values where the arithmetic is exact, and Monte-Carlo moments within k standard errors.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from semcom_envs.physics import radio
from semcom_envs import streams

finite_db = st.floats(-200, 200, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(finite_db)
def test_dbm_watts_round_trip(p_dbm):
    # Approximate: 10^(x/10) then 10 log10, a few ULPs each (libm or NumPy's AVX-512 SVML, <= 4 ULP):
    # with |p - 30| <= 230 the error is below 1e-13 dB; atol 1e-9 leaves 1e4x margin.
    assert np.isclose(radio.watts_to_dbm(radio.dbm_to_watts(p_dbm)), p_dbm, atol=1e-9)


def test_reference_conversions():
    # Exact: pow(10, 0) = 1 (C99 Annex F) and pow(10, 1) = 10 is representable, which any pow with
    # error < 1 ULP (glibc < 0.52 ULP) returns exactly.
    assert radio.dbm_to_watts(30.0) == 1.0
    # Approximate: (-114 - 30) / 10 and the literal -14.4 are the same double; NumPy's pow and Python's
    # (libm) differ by at most a few ULPs (~1e-15). (isclose's default atol 1e-8 made this vacuous.)
    assert np.isclose(radio.dbm_to_watts(-114.0), 10 ** -14.4, rtol=1e-13, atol=0)
    assert radio.db_to_linear(10.0) == 10.0
    assert radio.linear_to_db(0.0) == -np.inf


@settings(max_examples=200, deadline=None)
@given(st.floats(1.0, 1e5), st.floats(1.0, 1e5))
def test_path_loss_grows_with_distance(d1, d2):
    lo, hi = sorted((d1, d2))
    assert radio.path_loss_db(lo) <= radio.path_loss_db(hi)


def test_path_loss_matches_spec_at_one_km():
    # The spec's value (log10(1) = 0, so the intercept up to rounding); isclose's default rtol 1e-5
    # (1.2e-3 dB) is below the spec's 0.1 dB resolution and far above any rounding.
    assert np.isclose(radio.path_loss_db(1000.0), 120.9)


def test_positive_shannon_rate_is_shannon_where_it_is_positive_and_first_order_below():
    # Where 1 + sinr > 1 in float64 the same expression as shannon_rate (bit for bit); below 2^-53 the
    # first-order term B sinr log2(e), whose relative error there is sinr / 2 < 2^-54: so it is positive
    # for every positive SINR and meets the exact rate at the boundary within a rounding.
    sinr = np.array([1e3, 1.0, 1e-10, 2.0**-52, 2.0**-53, 1e-20, 1e-300, 5e-324, 0.0])
    got = radio.shannon_rate_positive(180e3, sinr)
    normal = 1.0 + sinr > 1.0
    np.testing.assert_array_equal(got[normal], radio.shannon_rate(180e3, sinr[normal]))
    np.testing.assert_array_equal(got[~normal], 180e3 * (sinr[~normal] * np.log2(np.e)))  # its order of operations
    assert np.all(got[sinr > 0] > 0) and got[-1] == 0.0
    assert np.all(radio.shannon_rate(180e3, sinr[~normal]) == 0.0)  # what the positive rate replaces


def test_free_space_path_loss_is_friis():
    # 4 pi d f / c at d = c / (4 pi f) is 1 (0 dB), and every decade of distance or frequency adds
    # 20 dB: exact up to a few float64 roundings of log10 (1e-12 dB is thousands of ulps of 20 dB).
    f = 2e9
    unit = radio.SPEED_OF_LIGHT_M_S / (4.0 * np.pi * f)
    assert abs(radio.free_space_path_loss_db(unit, f)) < 1e-12
    d = np.array([1.0, 10.0, 100.0, 1000.0])
    steps = np.diff(radio.free_space_path_loss_db(d, f))
    np.testing.assert_allclose(steps, 20.0, atol=1e-12)
    # The textbook form 32.45 + 20 log10(f / 1 MHz) + 20 log10(d / 1 km) at 2 GHz and 1 km: 98.47 dB,
    # to the 0.01 dB its constant is quoted with.
    assert abs(radio.free_space_path_loss_db(1000.0, f) - 98.47) < 0.005


def test_the_multicell_law_crosses_free_space_at_53_m_at_2_ghz():
    # 120.9 + 37.6 log10(d / 1 km) = 20 log10(4 pi d f / c) at d = 53.1 m (the multi-cell source's law).
    d = np.array([52.0, 54.0])
    below, above = radio.path_loss_db(d) - radio.free_space_path_loss_db(d, 2e9)
    assert below < 0 < above


gains = arrays(np.float64, (4, 4), elements=st.floats(1e-16, 1e-3))
powers = arrays(np.float64, (4,), elements=st.floats(0.0, 10.0))


@settings(max_examples=200, deadline=None)
@given(powers, gains, st.floats(1e-16, 1e-10))
def test_sinr_is_finite_non_negative_and_decomposes(p, g, noise):
    sinr, desired, interference = radio.interference_matrix_sinr(p, g, noise)
    assert np.all(np.isfinite(sinr)) and np.all(sinr >= 0)
    assert np.all(interference >= noise)
    # Approximate: (desired / I) * I is desired to 2 roundings (4.4e-16 relative; a subnormal desired
    # comes back exactly, since I < 1); rtol 1e-12 leaves 2000x margin.
    np.testing.assert_allclose(sinr * interference, desired, rtol=1e-12, atol=0)


@settings(max_examples=200, deadline=None)
@given(powers, gains, st.integers(0, 3), st.floats(1.01, 10.0))
def test_own_power_raises_own_sinr_and_lowers_others(p, g, m, factor):
    noise = 1e-14
    before, _, _ = radio.interference_matrix_sinr(p, g, noise)
    p2 = p.copy()
    p2[m] = p[m] * factor + 1e-3
    after, _, _ = radio.interference_matrix_sinr(p2, g, noise)
    # Exact: both calls run the same kernel on same-shaped arrays, and rounding is monotone, so the
    # orderings hold in floats too (the 1e-12 slack below is not needed).
    assert after[m] >= before[m]
    others = np.arange(4) != m
    assert np.all(after[others] <= before[others] * (1 + 1e-12))


def test_sinr_exact_when_desired_dwarfs_noise():
    # 100 dB above noise: computing interference as total - desired would lose it entirely.
    p = np.array([1.0, 1.0])
    g = np.array([[1e-4, 1e-18], [1e-18, 1e-4]])
    sinr, _, interference = radio.interference_matrix_sinr(p.astype(np.float32), g.astype(np.float32), 1e-14)
    # Approximate, float32: 1e-18 and the sum are each rounded once (<= 3 * 2^-24 = 1.8e-7 relative);
    # rtol 1e-5 is 50x that and 10x below the 1e-4 that losing the 1e-18 term would cost.
    np.testing.assert_allclose(interference, 1e-14 + 1e-18, rtol=1e-5)


@settings(max_examples=100, deadline=None)
@given(st.floats(0.0, 1e6), st.floats(0.0, 1e6))
def test_shannon_rate_monotone_in_sinr(s1, s2):
    lo, hi = sorted((s1, s2))
    assert 0 <= radio.shannon_rate(180e3, lo) <= radio.shannon_rate(180e3, hi)


def test_rayleigh_and_gauss_markov_are_cn01_with_lag_correlation_rho():
    """Monte-Carlo moments of n = 128,000 samples against their expectations: standard errors are
    sqrt(Var |g|^2 = 1 / n) = 0.0028, sqrt(1/2 / n) = 0.002 per component of the mean and
    sqrt((1 + rho^2) / 2 / n) = 0.0023 for the correlation, so 0.02 is >= 7 standard errors. The
    sample is fixed by the counter-based streams; other CPUs' log/cos kernels move it by ULPs only."""
    keys = streams.episode_key(streams.seed_key(np.arange(64)), 0)
    u = streams.uniforms(keys, np.zeros(64, np.int64), 0, 2000)
    parts = radio.cn01_from_uniforms(u[:, :2000], u[:, 2000:])
    g = (parts[:, 0] + 1j * parts[:, 1]).ravel()
    assert abs(np.mean(np.abs(g) ** 2) - 1.0) < 0.02
    assert abs(np.mean(g)) < 0.02
    u2 = streams.uniforms(keys, np.ones(64, np.int64), 0, 2000)
    parts2 = radio.cn01_from_uniforms(u2[:, :2000], u2[:, 2000:])
    e = (parts2[:, 0] + 1j * parts2[:, 1]).ravel()
    g1 = radio.gauss_markov_step(g, e, 0.64)
    assert abs(np.mean(np.abs(g1) ** 2) - 1.0) < 0.02
    corr = np.real(np.mean(g1 * np.conj(g)))
    assert abs(corr - 0.64) < 0.02


@given(arrays(np.float64, 8, elements=st.one_of(st.just(0.0), st.floats(1e-3, 1e4))),
       arrays(np.float64, 8, elements=st.floats(0.0, 1.0, exclude_max=True)))
def test_polar_points_lie_at_their_radius_and_angle(radius, u_angle):
    """Each point is at its radius (cos^2 + sin^2 = 1 up to their rounding: each of cos, sin within 1 ulp, the
    products and hypot each within 1 ulp more: under 8 eps relative) and on its angle's ray (the direction's
    components agree with cos and sin of 2 pi u to 8 eps, where the radius is not 0). Radii from 1 mm (the scenarios'
    smallest is 0.1 m) keep every product a normal float: a subnormal one would keep fewer significant bits."""
    xy = radio.polar_points(radius, u_angle)
    assert xy.shape == (8, 2)
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(np.hypot(xy[:, 0], xy[:, 1]), radius, rtol=8 * eps, atol=0)
    angle = 2.0 * np.pi * u_angle
    on = radius > 0
    np.testing.assert_allclose(xy[on] / radius[on, None], np.stack([np.cos(angle), np.sin(angle)], axis=-1)[on],
                               rtol=0, atol=8 * eps)
