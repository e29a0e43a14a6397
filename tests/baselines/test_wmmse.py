"""WMMSE: a monotone ascent of the sum rate that beats the naive allocations."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from baselines.wmmse import sum_rate, wmmse_power

NOISE = 4e-15


def _instance(seed: int, batch: int, m: int) -> np.ndarray:
    """Gains spanning six decades, direct links 20 dB stronger on average."""
    rng = np.random.default_rng(seed)
    g = 10 ** rng.uniform(-14, -8, size=(batch, m, m))
    g[:, np.arange(m), np.arange(m)] *= 100
    return g


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), batch=st.integers(1, 16), m=st.integers(2, 7))
def test_sum_rate_never_decreases_over_iterations_and_powers_stay_feasible(seed, batch, m):
    p, history = wmmse_power(_instance(seed, batch, m), NOISE, 6.3)
    steps = np.diff(history, axis=1)
    assert np.all(steps >= -1e-9 * np.abs(history[:, :-1]))
    assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 6.3 + 1e-12))


def test_beats_full_power_and_random_powers_on_average():
    g = _instance(0, 256, 5)
    p, _ = wmmse_power(g, NOISE, 6.3)
    rng = np.random.default_rng(1)
    full = sum_rate(g, np.full((256, 5), 6.3), NOISE).mean()
    random = sum_rate(g, rng.uniform(0, 6.3, (256, 5)), NOISE).mean()
    assert sum_rate(g, p, NOISE).mean() >= max(full, random)


def _grid_best(g: np.ndarray) -> float:
    grid = np.linspace(0, 1.0, 201)
    p = np.stack(np.meshgrid(grid, grid, indexing="ij"), -1).reshape(-1, 2)
    return sum_rate(np.repeat(g[None], len(p), 0), p, 1e-3).max()


def test_two_links_match_a_grid_search_with_weak_and_strong_interference():
    weak = np.array([[1.0, 1e-4], [1e-4, 1.0]])  # optimum: both at full power
    strong = np.array([[1.0, 0.9], [0.9, 0.5]])  # optimum: the weaker link switches off
    for g in (weak, strong):
        p, _ = wmmse_power(g[None], 1e-3, 1.0, iterations=500, tol=1e-12)
        assert sum_rate(g[None], p, 1e-3)[0] >= 0.99 * _grid_best(g)


def test_batch_rows_are_independent():
    g = _instance(3, 6, 4)
    p_all, _ = wmmse_power(g, NOISE, 6.3)
    for i in range(6):
        np.testing.assert_allclose(wmmse_power(g[i:i + 1], NOISE, 6.3)[0][0], p_all[i], rtol=1e-12)
