"""ON/OFF Markov sources (:mod:`semcom_envs.physics.traffic`), checked against their definition exactly."""

from __future__ import annotations

import numpy as np

from semcom_envs.physics.traffic import on_off_step


def test_each_source_switches_iff_its_uniform_falls_below_its_switching_probability() -> None:
    on = np.array([True, True, True, False, False, False])
    u = np.array([0.0, 0.1, 0.5, 0.0, 0.3, 0.9])
    # ON: turns OFF iff u < 0.1 (so u = 0.1 stays ON); OFF: turns ON iff u < 0.3 (so u = 0.3 stays OFF).
    np.testing.assert_array_equal(on_off_step(on, u, 0.1, 0.3), [False, True, True, True, False, False])


def test_states_given_as_numbers_and_batches_broadcast_like_booleans() -> None:
    rng = np.random.default_rng(0)
    on, u = rng.random((4, 7)) < 0.5, rng.random((4, 7))
    expected = on_off_step(on, u, 0.2, 0.05)
    np.testing.assert_array_equal(on_off_step(on.astype(np.float64), u, 0.2, 0.05), expected)
    assert expected.dtype == np.bool_ and expected.shape == (4, 7)


def test_the_chain_keeps_its_stationary_on_share() -> None:
    """Started from its stationary share ``pi = p_on / (p_off + p_on)``, the chain keeps it: over 200,000 sources the
    ON share after 20 steps has standard error sqrt(pi (1 - pi) / n) = 0.00097 at pi = 0.25; 0.005 is 5 sigma."""
    rng = np.random.default_rng(1)
    p_off, p_on = 0.3, 0.1
    pi = p_on / (p_off + p_on)
    on = rng.random(200_000) < pi
    for _ in range(20):
        on = on_off_step(on, rng.random(on.shape), p_off, p_on)
    assert abs(on.mean() - pi) < 0.005
