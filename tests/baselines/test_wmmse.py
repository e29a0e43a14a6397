"""WMMSE power control: a monotone, feasible, batched ascent of the sum rate that beats naive allocations.

Instances are random interference channels whose gains are log-uniform over several decades (the
scenario's gains span 1e-20..1e-3 W/W against ~4e-15 W of noise), so these tests also exercise the
normalised float64 arithmetic, not only well-scaled toy numbers.

Float comparisons: sum rates of <= 7 links are float64 sums of log1p terms, a few ULPs (~1e-15
relative; NumPy's SIMD log/log1p within 4 ULP of libm) from any other route, so the slacks 1e-9 (in
orderings) and rtol 1e-12 (against ``sum_rate``) leave >= 1000x margin; exact values (0, p_max, grid
corners) come from clipping and are compared exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semcom_baselines.wmmse import sum_rate, wmmse_power

NOISE = 4e-15
P_MAX = 6.3


def _gains(seed: int, batch: int, m: int, low: float = -14.0, decades: float = 6.0, direct_db: float = 20.0) -> np.ndarray:
    """(batch, m, m) gains log-uniform over ``[10^low, 10^(low + decades)]``, direct links ``direct_db`` stronger."""
    rng = np.random.default_rng(seed)
    g = 10.0 ** rng.uniform(low, low + decades, size=(batch, m, m))
    g[:, np.arange(m), np.arange(m)] *= 10.0 ** (direct_db / 10.0)
    return g


instances = st.fixed_dictionaries({
    "seed": st.integers(0, 2**32 - 1),
    "batch": st.integers(1, 16),
    "m": st.integers(2, 7),
    "low": st.floats(-20.0, -9.0),
    "decades": st.floats(2.0, 6.0),
    "direct_db": st.sampled_from([0.0, 10.0, 30.0]),
})


@settings(max_examples=50, deadline=None)
@given(inst=instances)
def test_sum_rate_never_decreases_because_wmmse_is_a_block_coordinate_ascent(inst):
    g = _gains(**inst)
    _, history = wmmse_power(g, NOISE, P_MAX)
    assert np.all(np.isfinite(history))
    steps = np.diff(history, axis=1)
    assert np.all(steps >= -1e-9 * np.abs(history[:, :-1]))


@settings(max_examples=50, deadline=None)
@given(inst=instances, per_link=st.booleans(), random_start=st.booleans())
def test_powers_are_finite_and_stay_in_zero_to_p_max_for_scalar_and_per_link_limits(inst, per_link, random_start):
    g = _gains(**inst)
    rng = np.random.default_rng(inst["seed"] + 1)
    shape = g.shape[:2]
    p_max = rng.uniform(0.0, 10.0, shape) * (rng.random(shape) > 0.2) if per_link else P_MAX
    p_init = rng.uniform(0.0, 12.0, shape) if random_start else None  # clipped to [0, p_max] internally
    p, history = wmmse_power(g, NOISE, p_max, p_init=p_init)
    assert p.shape == shape and p.dtype == np.float64
    assert np.all(np.isfinite(p)) and np.all(np.isfinite(history))
    assert np.all(p >= 0.0) and np.all(p <= np.broadcast_to(p_max, shape))


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), m=st.integers(2, 7), direct_db=st.sampled_from([0.0, 10.0, 20.0]))
def test_beats_its_full_power_start_on_every_copy_and_random_powers_on_average(seed, m, direct_db):
    batch = 32
    g = _gains(seed, batch, m, low=-14.0, decades=6.0, direct_db=direct_db)
    p, _ = wmmse_power(g, NOISE, P_MAX)
    ours = sum_rate(g, p, NOISE)
    full = sum_rate(g, np.full((batch, m), P_MAX), NOISE)
    rand = sum_rate(g, np.random.default_rng(seed).uniform(0.0, P_MAX, (batch, m)), NOISE)
    assert np.all(ours >= full * (1 - 1e-9))  # monotone ascent from full power: per copy, not just on average
    assert ours.mean() >= full.mean() and ours.mean() >= rand.mean()


def _grid_search(g: np.ndarray, noise: float, p_max: float, n: int = 801) -> tuple[float, np.ndarray]:
    """Best sum rate and powers over an (n x n) grid of (p1, p2) in [0, p_max]^2 (corners included)."""
    x = np.linspace(0.0, p_max, n)
    p = np.stack(np.meshgrid(x, x, indexing="ij"), -1).reshape(-1, 2)
    rates = sum_rate(np.broadcast_to(g, (len(p), 2, 2)), p, noise)
    best = int(rates.argmax())
    return float(rates[best]), p[best]


def test_two_links_with_weak_interference_match_grid_search_with_both_at_full_power():
    g = np.array([[1e-9, 1e-12], [1e-12, 1e-9]])  # SNR 20 dB; interference 30 dB below the signal
    noise = 1e-11
    best, p_best = _grid_search(g, noise, 1.0)
    p, _ = wmmse_power(g[None], noise, 1.0)
    # The corner beats the next grid point by 1.2e-4 relative (far above rounding); WMMSE clips to it
    # exactly (rtol 1e-9 is slack); the grid's best is within a grid step, and 1% is a wide margin.
    np.testing.assert_array_equal(p_best, [1.0, 1.0])
    np.testing.assert_allclose(p[0], [1.0, 1.0], rtol=1e-9)
    assert abs(sum_rate(g[None], p, noise)[0] - best) <= 0.01 * best


def test_two_links_with_strong_asymmetric_interference_match_grid_search_with_the_weak_link_off():
    # gain[j, m]: transmitter j -> receiver m. Link 1 strong (SNR 20 dB) and jams receiver 2 as loudly
    # as it serves receiver 1; link 2 is weak (SNR 10 dB). Full power is not stationary here.
    g = np.array([[1.0, 1.0], [0.5, 0.1]]) * 1e-12
    noise = 1e-14
    best, p_best = _grid_search(g, noise, 1.0)
    p, _ = wmmse_power(g[None], noise, 1.0)
    # Grid margin 2.7e-4 relative to the next point; measured p = (1, 7e-18) and a rate gap of 3e-16.
    np.testing.assert_array_equal(p_best, [1.0, 0.0])
    assert p[0, 0] == pytest.approx(1.0) and p[0, 1] <= 1e-3
    assert abs(sum_rate(g[None], p, noise)[0] - best) <= 0.01 * best


def test_symmetric_strong_interference_shows_full_power_is_a_stationary_trap_escaped_by_p_init():
    # WMMSE finds a stationary point, not the global optimum: with symmetric strong interference
    # (p_max, p_max) satisfies the KKT conditions (each rate gradient points out of the box), so the
    # default start stays there, about 3x below the optimum "one link off". Documented, not a bug.
    g = np.array([[1.0, 1.0], [1.0, 1.0]]) * 1e-12
    noise = 1e-14
    best, _ = _grid_search(g, noise, 1.0)
    p_full, _ = wmmse_power(g[None], noise, 1.0)
    np.testing.assert_allclose(p_full[0], [1.0, 1.0])  # clipped to the corner: exact (default rtol is slack)
    assert sum_rate(g[None], p_full, noise)[0] < 0.5 * best  # measured 0.30 of the best
    p_off, _ = wmmse_power(g[None], noise, 1.0, p_init=np.array([[1.0, 0.5]]))
    assert abs(sum_rate(g[None], p_off, noise)[0] - best) <= 0.01 * best


@settings(max_examples=50, deadline=None)
@given(inst=instances)
def test_each_batch_row_equals_the_call_on_that_row_alone(inst):
    """Exact by construction on any CPU (rtol 1e-12 is slack): NumPy's einsum runs its own loops (not
    BLAS), and its per-element summation order, like that of the sums over the link axis, does not
    depend on the batch size (checked for M = 1..64, B = 1..33, with and without AVX-512). A rounding
    difference would also show as a different stopping iteration (tol 1e-6), far outside rtol."""
    g = _gains(**inst)
    p_all, h_all = wmmse_power(g, NOISE, P_MAX)
    for i in range(g.shape[0]):
        p_one, h_one = wmmse_power(g[i:i + 1], NOISE, P_MAX)
        np.testing.assert_allclose(p_one[0], p_all[i], rtol=1e-12, atol=1e-12 * P_MAX)
        n = h_one.shape[1]
        assert n <= h_all.shape[1]
        np.testing.assert_allclose(h_one[0], h_all[i, :n], rtol=1e-12)
        np.testing.assert_allclose(h_all[i, n:], h_one[0, -1], rtol=1e-12)  # padded after convergence


def _sun_et_al_reference(p_init: np.ndarray, amp: np.ndarray, p_max: float, noise: float, iterations: int) -> np.ndarray:
    """Per-link loops transcribed from Sun et al.'s WMMSE (``amp[i, j]``: amplitude from tx j to rx i)."""
    k = p_init.size
    b = np.sqrt(p_init)
    f, w = np.zeros(k), np.zeros(k)

    def receivers() -> None:
        for i in range(k):
            f[i] = amp[i, i] * b[i] / (np.square(amp[i, :]) @ np.square(b) + noise)
            w[i] = 1.0 / (1.0 - f[i] * b[i] * amp[i, i])

    receivers()
    for _ in range(iterations):
        for i in range(k):
            btmp = w[i] * f[i] * amp[i, i] / np.sum(w * np.square(f) * np.square(amp[:, i]))
            b[i] = min(btmp, np.sqrt(p_max)) + max(btmp, 0.0) - btmp
        receivers()
    return np.square(b)


@pytest.mark.parametrize("m", [2, 4, 6])
def test_matches_a_per_link_loop_transcription_of_sun_et_al_which_pins_the_gain_orientation(m):
    # Well-scaled gains (no cancellation in the reference's 1 - f b h) and an asymmetric matrix, so
    # that transposing gain[j, m] (transmitter first) against Sun et al.'s H[i, j] would be caught.
    g = _gains(m, 3, m, low=-3.0, decades=3.0, direct_db=15.0)
    p, _ = wmmse_power(g, 1e-2, 2.0, iterations=40, tol=0.0)
    for i in range(3):
        ref = _sun_et_al_reference(np.full(m, 2.0), np.sqrt(g[i].T), 2.0, 1e-2, 40)
        # Approximate: other algebra (the reference's 1 - f b h loses log10(1 + SINR) <= 4 digits, ~1e-12
        # relative) over 40 iterations; measured errors <= 3e-14, at most 1e-5 of atol + rtol |ref|.
        np.testing.assert_allclose(p[i], ref, rtol=1e-8, atol=1e-10)


def test_sum_rate_follows_the_sinr_definition_with_transmitter_first_gains():
    g = np.array([[[4.0, 1.0, 0.5], [2.0, 3.0, 0.25], [0.0, 8.0, 1.0]]])
    p = np.array([[1.0, 0.5, 2.0]])
    noise = 0.5
    sinr = [1.0 * 4.0 / (0.5 * 2.0 + 2.0 * 0.0 + noise),
            0.5 * 3.0 / (1.0 * 1.0 + 2.0 * 8.0 + noise),
            2.0 * 1.0 / (1.0 * 0.5 + 0.5 * 0.25 + noise)]
    # Approximate: log1p(d / I) / ln 2 against log2(1 + SINR) on another SINR route. Per term (<= 1.5): the
    # SINRs differ by <= 4 roundings (4.6e-16 after the log), each log is within 4 ULP (8.9e-16), 1 + x
    # rounds (1.6e-16): <= 2.4e-15 per term, 7.2e-15 for three, plus the sum (1.3e-15) on a total of 3.47:
    # <= 2.5e-15 relative (measured 0); rtol 1e-14 leaves 4x.
    np.testing.assert_allclose(sum_rate(g, p, noise), [np.sum(np.log2(1.0 + np.array(sinr)))], rtol=1e-14)


def test_degenerate_channels_zero_columns_zero_gains_and_zero_p_max_stay_finite():
    g = _gains(0, 4, 3)
    g[0] = 0.0                 # no channel at all
    g[1, :, 2] = 0.0           # receiver 2 hears nothing (its own link included)
    g[2, 1, :] = 0.0           # transmitter 1 reaches nobody
    p_max = np.full((4, 3), P_MAX)
    p_max[3, 0] = 0.0          # link 0 of copy 3 may not transmit
    p, history = wmmse_power(g, NOISE, p_max)
    assert np.all(np.isfinite(p)) and np.all(np.isfinite(history))
    assert np.all((p >= 0.0) & (p <= p_max))
    assert p[1, 2] == 0.0 and p[2, 1] == 0.0 and p[3, 0] == 0.0  # useless links are switched off
    np.testing.assert_array_equal(history[0], 0.0)


def test_history_starts_at_p_init_stops_early_and_respects_the_iteration_cap():
    g = _gains(5, 8, 5)
    p0 = np.full((8, 5), 0.5 * P_MAX)
    p, history = wmmse_power(g, NOISE, P_MAX, iterations=0, p_init=p0)
    np.testing.assert_allclose(p, p0, rtol=1e-14)  # up to the sqrt/square round trip
    np.testing.assert_allclose(history[:, 0], sum_rate(g, p0, NOISE), rtol=1e-12)
    _, capped = wmmse_power(g, NOISE, P_MAX, iterations=3, tol=0.0)
    assert capped.shape == (8, 4)
    p_loose, loose = wmmse_power(g, NOISE, P_MAX, iterations=1000, tol=1e-2)
    assert loose.shape[1] < 1001  # every copy met the loose tolerance long before the cap
    np.testing.assert_allclose(loose[:, -1], sum_rate(g, p_loose, NOISE), rtol=1e-12)


@pytest.mark.parametrize("kwargs", [
    {"gain": np.ones((2, 3)), "noise_w": 1.0, "p_max": 1.0},
    {"gain": -np.ones((1, 2, 2)), "noise_w": 1.0, "p_max": 1.0},
    {"gain": np.ones((1, 2, 2)), "noise_w": 0.0, "p_max": 1.0},
    {"gain": np.ones((1, 2, 2)), "noise_w": 1.0, "p_max": -1.0},
    {"gain": np.ones((1, 2, 2)), "noise_w": 1.0, "p_max": np.ones((1, 3))},
    {"gain": np.ones((1, 2, 2)), "noise_w": 1.0, "p_max": 1.0, "iterations": -1},
])
def test_invalid_inputs_raise_value_errors_instead_of_returning_nonsense(kwargs):
    with pytest.raises(ValueError):
        wmmse_power(**kwargs)
