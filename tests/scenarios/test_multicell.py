"""SemCom-MultiCell-v0 physics: the spec's equations, ranges and monotonicity, checked on the core.

Float comparisons: the hot path is float32, so most checks compare it with a float64 formula within
a bound of a few float32 roundings (unit roundoff 2^-24 = 6e-8; NumPy's SIMD float32 log10/exp are
within 4 ULP), derived at each test; equalities between two runs of the same element-wise code, or
between copied values, are exact.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semcom_envs import streams
from semcom_envs.api.runner import BatchRunner
from semcom_envs.physics import radio
from semcom_envs.scenarios.multicell import MultiCell, hexagonal_sites


def _keys(n: int, seed: int = 0) -> np.ndarray:
    return streams.episode_key(streams.seed_key(np.arange(seed, seed + n)), 0)


def _actions(scenario: MultiCell, levels: np.ndarray, k_idx: np.ndarray) -> dict[str, np.ndarray]:
    """Actions from (B, M) level and k-index arrays."""
    return {a: np.stack([levels[:, i], k_idx[:, i]], axis=-1) for i, a in enumerate(scenario.agents)}


def test_first_ring_sits_at_twice_the_radius_on_60i_minus_30_degrees():
    sites = hexagonal_sites(7, 400.0)
    # float64 trigonometry: a few ULPs (~1e-13 m, ~1e-14 degrees) against rtol 1e-7 and atol 1e-9.
    np.testing.assert_allclose(np.linalg.norm(sites[1:], axis=1), 400.0)
    angles = np.rad2deg(np.arctan2(sites[1:, 1], sites[1:, 0])) % 360
    np.testing.assert_allclose(angles, 60 * np.arange(1, 7) - 30, atol=1e-9)


def test_second_ring_completes_a_hexagonal_lattice():
    sites = hexagonal_sites(19, 1.0)
    d = np.linalg.norm(sites[:, None] - sites[None], axis=-1)
    assert len(np.unique(np.round(sites, 9), axis=0)) == 19  # float64 sites: distinct by >= 1, rounding ~1e-15
    assert np.isclose(d[np.triu_indices(19, 1)].min(), 1.0)  # nearest neighbours at the inter-site distance
    np.testing.assert_allclose(sorted(np.linalg.norm(sites[7:], axis=1)), [np.sqrt(3)] * 6 + [2.0] * 6)


def test_power_levels_per_preset():
    paper = MultiCell().power_levels
    # float32 levels of float64 values: one rounding (<= 6e-8 relative, measured 3.3e-8) against rtol 1e-6;
    # in dB, two such roundings are 5e-7 dB (measured 1.9e-6 with log10's own) against atol 1e-4.
    np.testing.assert_allclose(paper, radio.dbm_to_watts(38.0) * np.arange(7) / 6, rtol=1e-6)
    wide = MultiCell(preset="wide-area").power_levels
    np.testing.assert_allclose(10 * np.log10(wide / wide[-1]), -5.0 * np.arange(6, -1, -1), atol=1e-4)
    assert np.isclose(MultiCell(preset="paper-table").p_max, radio.dbm_to_watts(20.0), rtol=1e-6)


def test_preset_values_can_be_overridden_by_keywords():
    sc = MultiCell(preset="wide-area", p_bs_dbm=33.0)
    assert sc.config.cell_radius_m == 500.0 and sc.config.p_bs_dbm == 33.0


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**40), cells=st.integers(1, 19), preset=st.sampled_from(["paper", "paper-table", "wide-area"]),
       steps=st.integers(1, 4), data=st.data())
def test_every_quantity_is_finite_and_in_range(seed, cells, preset, steps, data):
    sc = MultiCell(num_cells=cells, preset=preset)
    state, obs = sc.reset(_keys(3, seed))
    for _ in range(steps):
        levels = np.array(data.draw(st.lists(st.integers(0, 6), min_size=3 * cells, max_size=3 * cells))).reshape(3, cells)
        k_idx = np.array(data.draw(st.lists(st.integers(0, 19), min_size=3 * cells, max_size=3 * cells))).reshape(3, cells)
        tr = sc.step(state, _actions(sc, levels, k_idx))
        state, info = tr.state, tr.infos
        for name, value in info.items():
            assert np.all(np.isfinite(value)), name
        assert np.all(info["sinr"] >= 0)
        assert np.all((info["accuracy"] >= 0) & (info["accuracy"] <= 0.99))
        assert np.all((info["qoe"] >= 0) & (info["qoe"] <= 1))
        # float64 ratios of qoe <= 1, a few ULPs (< 1e-13 here) against the slack 1e-9.
        assert np.all(info["ee"] >= 0) and np.all(info["ee_normalised"] <= 1.0 / (info["total_power_w"] / sc.p_tot_max) + 1e-9)
        for a in sc.agents:
            assert sc.observation_space(a).contains(tr.observations[a][0])
        assert sc.state_space.contains(sc.global_state(state)[0])


def test_semantic_rate_is_h_w_over_k_and_silent_cells_deliver_nothing():
    sc = MultiCell(num_cells=3)
    state, _ = sc.reset(_keys(1))
    tr = sc.step(state, _actions(sc, np.array([[0, 3, 6]]), np.array([[0, 7, 19]])))
    # 90,000 and 36,000 suts/s are exact in float32; rtol 1e-6 only allows one rounding (6e-8) in the table.
    np.testing.assert_allclose(tr.infos["semantic_rate"][0], [0.0, 720e3 / 8, 720e3 / 20], rtol=1e-6)
    assert tr.infos["accuracy"][0, 0] == 0.0 and tr.infos["sinr"][0, 0] == 0.0
    assert tr.infos["qoe"][0, 0] < 1e-6  # about 1e-26: 1 / (1 + e^16) times 1 / (1 + e^44)


def test_reward_variants_follow_eq_9():
    results = {}
    for reward in ("ee", "ee_watts", "qoe"):
        sc = MultiCell(num_cells=3, reward=reward)
        state, _ = sc.reset(_keys(5))
        tr = sc.step(state, _actions(sc, np.full((5, 3), 2), np.full((5, 3), 6)))
        results[reward] = (tr.rewards["bs_0"], tr.infos)
    info = results["ee"][1]
    qoe, p_tot = info["qoe"].astype(np.float64), info["total_power_w"]
    sc = MultiCell(num_cells=3)
    static = 3 * radio.dbm_to_watts([39.0, 10.0, 5.0]).sum()
    # Eq. (7) recomputed from the float32 powers with a float32 sum (two roundings, 1.2e-7; measured 8e-9)
    # against rtol 1e-6; eq. (9): float64 on both sides in another operation order, a few ULPs.
    np.testing.assert_allclose(p_tot, info["tx_power_w"].sum(axis=1) + static, rtol=1e-6)  # eq. (7)
    np.testing.assert_allclose(results["ee"][0], qoe.mean(axis=1) / (p_tot / sc.p_tot_max), rtol=1e-6)
    np.testing.assert_allclose(results["ee_watts"][0], qoe.sum(axis=1) / p_tot, rtol=1e-6)
    np.testing.assert_allclose(results["qoe"][0], qoe.mean(axis=1), rtol=1e-6)


def test_observation_b_and_i_of_the_previous_slot_are_carried_over():
    sc = MultiCell(num_cells=3)
    state, obs0 = sc.reset(_keys(2))
    tr1 = sc.step(state, _actions(sc, np.full((2, 3), 4), np.full((2, 3), 5)))
    tr2 = sc.step(tr1.state, _actions(sc, np.full((2, 3), 2), np.full((2, 3), 9)))
    for a in sc.agents:
        # Exact: the previous slot's features are copied; float32 p * (1 / p_max) is 2/6 to three
        # roundings (1.8e-7) against rtol 1e-6.
        np.testing.assert_array_equal(tr2.observations[a][:, 4], tr1.observations[a][:, 3])
        np.testing.assert_array_equal(tr2.observations[a][:, 6], tr1.observations[a][:, 5])
        np.testing.assert_allclose(tr2.observations[a][:, 0], 2 / 6, rtol=1e-6)


def test_global_state_holds_the_channel_the_next_action_meets():
    # The full-CSI premise of the oracle: SINR recomputed from state() equals the SINR of the step.
    sc = MultiCell(num_cells=4)
    runner = BatchRunner(sc, 3)
    runner.reset(seed=11)
    runner.step(_actions(sc, np.full((3, 4), 3), np.full((3, 4), 4)))
    gs = runner.global_state().astype(np.float64)
    gain = sc.noise_w * 10 ** (gs[:, :16].reshape(3, 4, 4) * 100 / 10)
    levels = np.array([[1, 6, 0, 3]] * 3)
    p = sc.power_levels[levels].astype(np.float64)
    expected, _, _ = radio.interference_matrix_sinr(p, gain, float(sc.noise_w))
    tr = runner.step(_actions(sc, levels, np.full((3, 4), 4)))
    # Approximate: each gain decoded from the float32 state is within 1.1e-5 relative (see
    # test_decode_global_state_inverts_global_state), a SINR ratio within 2.5e-5 with the float32 hot
    # path's own roundings (measured 2.1e-6); rtol 1e-3 leaves 40x margin.
    np.testing.assert_allclose(tr.infos["sinr"], np.where(p > 0, expected, 0.0), rtol=1e-3)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32), cell=st.integers(0, 2), low=st.integers(1, 5), k=st.integers(0, 19))
def test_more_own_power_raises_own_sinr_and_lowers_the_others(seed, cell, low, k):
    sc = MultiCell(num_cells=3)
    state, _ = sc.reset(_keys(1, seed))
    levels = np.full((1, 3), 3)
    levels[0, cell] = low
    before = sc.step(state, _actions(sc, levels, np.full((1, 3), k))).infos
    levels[0, cell] = low + 1
    after = sc.step(state, _actions(sc, levels, np.full((1, 3), k))).infos
    others = np.arange(3) != cell
    # Exact: the same kernel on same-shaped arrays and monotone rounding (the 1e-6 slack is not needed).
    assert after["sinr"][0, cell] >= before["sinr"][0, cell]
    assert np.all(after["sinr"][0, others] <= before["sinr"][0, others] * (1 + 1e-6))
    # the measured table is monotone in SNR only up to 0.01 (physics.semantics §1)
    assert after["accuracy"][0, cell] >= before["accuracy"][0, cell] - 0.011


def test_requirements_are_drawn_in_the_spec_ranges_and_redrawn_per_slot_on_request():
    sc = MultiCell(num_cells=7)
    state, _ = sc.reset(_keys(200))
    assert np.all((state["rate_req"] >= 80e3) & (state["rate_req"] <= 100e3))
    assert np.all((state["accuracy_req"] >= 0.8) & (state["accuracy_req"] <= 0.9))
    # Monte-Carlo means of 1400 draws: standard errors 2.47 / sqrt(1400) = 0.066 and 6.5e-8, so the
    # tolerances are 7.6 and 15 standard errors (measured deviations 0.005 and 9e-12).
    assert abs(state["lam"].mean() - 55) < 0.5 and abs(state["beta_qoe"].mean() - 2e-4) < 1e-6
    act = _actions(sc, np.full((200, 7), 3), np.full((200, 7), 7))
    assert np.array_equal(sc.step(state, act).state["rate_req"], state["rate_req"])
    slot = MultiCell(num_cells=7, redraw_requirements="slot")
    s2, _ = slot.reset(_keys(200))
    assert not np.array_equal(slot.step(s2, act).state["rate_req"], s2["rate_req"])


def test_fading_is_stationary_with_lag_one_correlation_rho():
    """Monte-Carlo moments of 400 x 49 = 19,600 links: standard errors 1 / sqrt(19600) = 0.0071 for the
    power and sqrt((1 + rho^2) / 2 / 19600) = 0.006 for the correlation, so 0.03 is >= 4.2 standard
    errors (measured deviations <= 0.0075); the float32 sample moves by ULPs only across CPUs."""
    sc = MultiCell(num_cells=7, rho=0.64)
    state, _ = sc.reset(_keys(400))
    act = _actions(sc, np.full((400, 7), 3), np.full((400, 7), 7))
    for _ in range(4):  # the pilot's update and three slots: every innovation must be fresh
        g0 = state["fading"].astype(np.float64)
        state = sc.step(state, act).state
        g1 = state["fading"].astype(np.float64)
        c0, c1 = g0[:, 0] + 1j * g0[:, 1], g1[:, 0] + 1j * g1[:, 1]
        assert abs(np.mean(np.abs(c1) ** 2) - 1) < 0.03
        assert abs(np.real(np.mean(c1 * np.conj(c0))) - 0.64) < 0.03


def test_users_lie_inside_their_cells_and_outside_the_minimum_distance():
    for preset in ("paper", "wide-area"):
        sc = MultiCell(preset=preset)
        state, _ = sc.reset(_keys(100))
        r = np.linalg.norm(state["ut_xy"] - sc.sites[None], axis=-1)
        # float64 positions: (site + offset) - site is within ULP(1000 m) = 1e-13 m of the radius.
        assert r.min() >= sc.config.min_distance_m - 1e-9 and r.max() <= sc.config.cell_radius_m + 1e-9


def test_flat_and_multidiscrete_encodings_give_the_same_transition():
    multi, flat = MultiCell(num_cells=3), MultiCell(num_cells=3, flat_actions=True)
    levels, k_idx = np.array([[0, 3, 6]]), np.array([[19, 0, 8]])
    s1, _ = multi.reset(_keys(1))
    s2, _ = flat.reset(_keys(1))
    t1 = multi.step(s1, _actions(multi, levels, k_idx))
    t2 = flat.step(s2, {a: levels[:, i] * 20 + k_idx[:, i] for i, a in enumerate(flat.agents)})
    for a in multi.agents:
        # Exact: both decode to the same integer indices, then the same element-wise code runs.
        np.testing.assert_array_equal(t1.observations[a], t2.observations[a])


@pytest.mark.parametrize("chunk", [1, 3, 7])
def test_chunked_threaded_stepping_changes_nothing(chunk):
    """Exact on any CPU: chunks of 1, 3 or 7 copies run element-wise ufuncs, the einsum over the 3
    cells and sums over the 3 cells (a plain loop in NumPy below 8 terms, whatever the layout), so no
    copy's numbers depend on the chunk's batch size."""
    sc = MultiCell(num_cells=3, max_steps=5)
    whole, chunked = BatchRunner(sc, 10), BatchRunner(sc, 10, chunk_size=chunk, num_threads=2)
    whole.reset(seed=3)
    chunked.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(6):
        act = _actions(sc, rng.integers(0, 7, (10, 3)), rng.integers(0, 20, (10, 3)))
        t1, t2 = whole.step(act), chunked.step(act)
        for a in sc.agents:
            np.testing.assert_array_equal(t1.observations[a], t2.observations[a])
            np.testing.assert_array_equal(t1.rewards[a], t2.rewards[a])
        np.testing.assert_array_equal(whole.global_state(), chunked.global_state())
    chunked.close()


def test_rgb_render_is_an_image_and_ansi_lists_every_agent():
    from semcom_envs.multicell_v0 import parallel_env

    env = parallel_env(num_cells=7, render_mode="rgb_array")
    env.reset(seed=0)
    env.step({a: np.array([3, 7]) for a in env.agents})
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8 and frame.std() > 0
    text_env = parallel_env(num_cells=3, render_mode="ansi")
    text_env.reset(seed=0)
    text_env.step({a: np.array([3, 7]) for a in text_env.agents})
    text = text_env.render()
    assert all(a in text for a in text_env.possible_agents) and "qoe" in text


def test_decode_global_state_inverts_global_state():
    sc = MultiCell(num_cells=5, redraw_requirements="slot")
    state, _ = sc.reset(_keys(6))
    state = sc.step(state, _actions(sc, np.full((6, 5), 2), np.full((6, 5), 3))).state
    decoded = sc.decode_global_state(sc.global_state(state))
    # Approximate, float32 encoding: the gain's dB (<= 112 here) comes from a float32 log10 of <= 11.2
    # (within 4 ULP = 4 * 2^-20 for NumPy's SIMD kernels: 3.8e-5 dB), times 10 and stored as a feature
    # <= 1.12 (100 * 2^-24 = 6e-6 dB): <= 4.8e-5 dB, i.e. 1.1e-5 relative (ln 10 / 10 per dB; measured
    # 2.5e-6). rtol 3e-5 (was 1e-5, below that bound). The other blocks are scaled by a constant: two
    # float32 roundings (1.2e-7; measured <= 8e-8) against rtol 1e-6.
    np.testing.assert_allclose(decoded["gain"], MultiCell._gain(state), rtol=3e-5)
    np.testing.assert_allclose(decoded["prev_power"], state["prev_power"], rtol=1e-6)
    np.testing.assert_array_equal(decoded["prev_k"], state["prev_k"])
    for name in ("rate_req", "accuracy_req", "lam", "beta_qoe", "weight"):
        np.testing.assert_allclose(decoded[name], state[name], rtol=1e-6, err_msg=name)


def test_decode_observations_recovers_the_measured_quantities():
    sc = MultiCell(num_cells=3)
    state, _ = sc.reset(_keys(4))
    tr = sc.step(state, _actions(sc, np.full((4, 3), 5), np.full((4, 3), 6)))
    local = sc.decode_observations(tr.observations)
    # Approximate: prev_power is float32 p * (1 / p_max), three roundings (1.8e-7) against rtol 1e-6; the
    # SINR feature is a float32 10 log10 (<= 83 dB: 4 ULP of log10 is 3.8e-5 dB) times 1/30 (3.6e-6 dB),
    # i.e. <= 1.1e-5 relative (measured 3.5e-6) against rtol 1e-4; qoe is copied (exact).
    np.testing.assert_allclose(local["prev_power"], tr.infos["tx_power_w"], rtol=1e-6)
    np.testing.assert_allclose(10 ** (local["sinr_db"] / 10), tr.infos["sinr"], rtol=1e-4)
    np.testing.assert_allclose(local["qoe"], tr.infos["qoe"], rtol=1e-6)


# 100 dBm over -250 dBm noise: received powers and SINRs beyond float32 (inf, then inf / inf = NaN).
_HUGE_SNR = {"p_max_dbm": 100.0, "noise_dbm": -250.0, "shadowing_db": 30.0}


@pytest.mark.parametrize("kwargs", [
    {"num_cells": 1, "path_loss_intercept_db": 0.0, "path_loss_slope_db": 0.0},  # path loss 0 dB: inf SINR before
    {"num_cells": 7, "path_loss_intercept_db": 0.0, "path_loss_slope_db": 100.0, "min_distance_m": 1.0,
     "cell_radius_m": 2.0, "inter_site_factor": 1.0},  # gains up to 1e47: NaN observations before
])
def test_huge_power_over_tiny_noise_runs_in_float64_and_stays_finite(kwargs):
    sc = MultiCell(**_HUGE_SNR, **kwargs)
    assert sc.dtype is np.float64
    state, obs = sc.reset(_keys(16))
    rng = np.random.default_rng(0)
    peak_snr = 0.0
    for _ in range(3):
        for a in sc.agents:
            assert np.all(np.isfinite(obs[a])) and all(sc.observation_space(a).contains(o) for o in obs[a])
        assert all(sc.state_space.contains(s) for s in sc.global_state(state))
        levels, k_idx = rng.integers(0, 7, (16, sc.num_agents)), rng.integers(0, 20, (16, sc.num_agents))
        p, gain = sc.power_levels[levels], MultiCell._gain(state)
        tr = sc.step(state, _actions(sc, levels, k_idx))
        assert all(np.all(np.isfinite(v)) for v in [*tr.infos.values(), *tr.rewards.values()])
        expected, _, _ = radio.interference_matrix_sinr(p.astype(np.float64), gain.astype(np.float64), float(sc.noise_w))
        # The step's own function on the same float64 inputs: equal, so rtol 1e-12 is only slack.
        np.testing.assert_allclose(tr.infos["sinr"], np.where(p > 0, expected, 0.0), rtol=1e-12)
        peak_snr = max(peak_snr, float((p * np.diagonal(gain, axis1=1, axis2=2)).max() / sc.noise_w))
        state, obs = tr.state, tr.observations
    assert peak_snr > float(np.finfo(np.float32).max)  # the received power over the noise: beyond float32


def test_every_preset_keeps_the_float32_hot_path():
    for preset in ("paper", "paper-table", "wide-area"):
        for cells in (1, 7, 19):
            sc = MultiCell(preset=preset, num_cells=cells)
            assert sc.dtype is np.float32 and sc.power_levels.dtype == np.float32
            state, _ = sc.reset(_keys(2))
            tr = sc.step(state, _actions(sc, np.full((2, cells), 6), np.full((2, cells), 7)))
            assert state["large_scale"].dtype == np.float32 and tr.infos["sinr"].dtype == np.float32


def test_path_loss_is_taken_at_no_less_than_the_minimum_distance():
    # With inter-site distance = radius a UT can sit next to a neighbouring BS (gain inf at 0 m before).
    sc = MultiCell(num_cells=7, cell_radius_m=100.0, min_distance_m=50.0, inter_site_factor=1.0, shadowing_db=0.0)
    state, _ = sc.reset(_keys(200))
    distance = np.linalg.norm(sc.sites[None, :, None, :] - state["ut_xy"][:, None, :, :], axis=-1)
    close = distance < 50.0
    assert close.any()
    floor = radio.db_to_linear(-radio.path_loss_db(50.0, 120.9, 37.6))
    # The same float64 formula at 50 m, stored in float32: one rounding (6e-8) against rtol 1e-6; the
    # float32 cast is monotone, so the maximum is bounded by float32(floor) (only distances within ULPs
    # of 50 m, where a SIMD log10 need not be monotone, could round across, a ~1e-16-wide window).
    np.testing.assert_allclose(state["large_scale"][close], floor, rtol=1e-6)
    assert state["large_scale"].max() <= np.float32(floor)


def test_a_carrier_floors_the_path_loss_at_free_space_and_changes_nothing_beyond():
    # Same seeds with and without the floor: links beyond the law's crossing with free space keep
    # their gain bit for bit (np.maximum returns the law's value), closer ones get Friis' gain. Both
    # gains carry the same shadowing draw, so their ratio is the floor's (float32 storage: a relative
    # 2^-24 per gain, so 1e-6 bounds the ratio's error).
    plain = MultiCell(num_cells=7, shadowing_db=6.0)
    floored = MultiCell(num_cells=7, shadowing_db=6.0, carrier_hz=2e9)
    s0, _ = plain.reset(_keys(300))
    s1, _ = floored.reset(_keys(300))
    distance = np.maximum(np.linalg.norm(plain.sites[None, :, None, :] - s0["ut_xy"][:, None, :, :], axis=-1), 10.0)
    law, friis = radio.path_loss_db(distance), radio.free_space_path_loss_db(distance, 2e9)
    near = friis > law
    assert near.any() and (~near).any()
    np.testing.assert_array_equal(s1["large_scale"][~near], s0["large_scale"][~near])
    np.testing.assert_allclose(s1["large_scale"][near] / s0["large_scale"][near],
                               radio.db_to_linear(law[near] - friis[near]), rtol=1e-6)
    assert (s1["large_scale"][near] < s0["large_scale"][near]).all()


@pytest.mark.parametrize("beta_mean", [9430.4417640873, 3.9810717055349722])
def test_state_stays_in_its_space_for_a_degenerate_requirement_range(beta_mean):
    # The float32-stored requirement, scaled in float32, rounded one ulp past the float64 bound.
    sc = MultiCell(num_cells=2, beta_mean_per_ksuts=beta_mean, beta_std_per_ksuts=0.0)
    state, _ = sc.reset(_keys(4))
    assert all(sc.state_space.contains(s) for s in sc.global_state(state))
