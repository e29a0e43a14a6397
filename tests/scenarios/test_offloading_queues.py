"""SemCom-Offloading-v1: queues, deadlines, the shared uplink and edge GPU, observations (module docstring Q1-Q5)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from semcom_envs import streams
from semcom_envs.physics import energy, radio
from semcom_envs.scenarios.offloading_queues import HOLD, LOCAL, OFFLOAD, OffloadingQueues

# A short slot and a small edge make device and edge capacities bind (the defaults rarely bind the edge).
TIGHT = {"slot_s": 2e-3, "edge_speedup": 2e-3, "num_devices": 3}


def _keys(seed: int, batch: int) -> np.ndarray:
    return streams.episode_key(streams.seed_key(np.arange(seed, seed + batch)), 0)


def _random_actions(sc: OffloadingQueues, rng: np.random.Generator, batch: int) -> dict[str, np.ndarray]:
    return {a: rng.integers(0, sc.action_nvec, (batch, 3)) for a in sc.agents}


def _rollout(sc: OffloadingQueues, slots: int, batch: int = 32, seed: int = 0):
    """(state, actions, transition) of every slot of random play."""
    rng = np.random.default_rng(seed)
    state, _ = sc.reset(_keys(seed, batch))
    for _ in range(slots):
        actions = _random_actions(sc, rng, batch)
        tr = sc.step(state, actions)
        yield state, actions, tr
        state = tr.state


@pytest.mark.parametrize("kwargs", [{}, TIGHT])
def test_queue_conservation_is_exact(kwargs: dict) -> None:
    sc = OffloadingQueues(**kwargs)
    for state, _, tr in _rollout(sc, 40):
        i = tr.infos
        before = state["backlog"].sum(axis=-1)
        after = tr.state["backlog"].sum(axis=-1)
        np.testing.assert_array_equal(after, before + i["arrivals"] - i["served"] - i["dropped"])
        np.testing.assert_array_equal(i["backlog"] + i["arrivals"], after)
        assert (i["served"] <= before).all() and (i["served"] >= 0).all() and (i["dropped"] >= 0).all()
        assert (tr.state["backlog"] == np.rint(tr.state["backlog"])).all()  # whole words


@pytest.mark.parametrize("kwargs", [{}, TIGHT])
def test_service_is_fifo_and_only_words_at_their_deadline_drop(kwargs: dict) -> None:
    sc = OffloadingQueues(**kwargs)
    for state, _, tr in _rollout(sc, 30):
        bins, served = state["backlog"], tr.infos["served"]
        expected = bins.copy()
        left = served.copy()
        for j in range(sc.deadline - 1, -1, -1):  # oldest first
            take = np.minimum(left, expected[..., j])
            expected[..., j] -= take
            left -= take
        np.testing.assert_array_equal(tr.infos["dropped"], expected[..., -1])
        np.testing.assert_array_equal(tr.state["backlog"][..., 1:], expected[..., :-1])


def test_served_never_exceeds_capacity_and_hold_serves_nothing() -> None:
    sc = OffloadingQueues(**TIGHT)
    for state, actions, tr in _rollout(sc, 30):
        mode, f_hz, p_w = sc.decode_actions(actions)
        out = sc.outcome(state["backlog"], state["gain"], mode, f_hz, p_w)
        assert (tr.infos["served"] <= out["capacity"]).all()
        np.testing.assert_array_equal(tr.infos["served"], np.minimum(state["backlog"].sum(-1), out["capacity"]))
        assert (tr.infos["served"][mode == HOLD] == 0).all() and (tr.infos["energy_j"][mode == HOLD] == 0).all()


def test_edge_gpu_is_split_equally_among_the_offloaders() -> None:
    sc = OffloadingQueues(**TIGHT)
    edge_words = sc.edge_flops_per_s * sc.config.slot_s / sc.flops_dec
    backlog = np.full((1, sc.deadline), 1e6)
    f, p, g = sc.freq_levels_hz[-1], sc.tx_power_levels_w[-1], 1e-3  # strong link: the edge binds
    for m in range(1, sc.num_agents + 1):
        out = sc.device_outcome(backlog, np.array([g]), np.array([OFFLOAD]), f, p, m)
        assert out["capacity"][0] == np.floor(edge_words / m)
    # In a step, the offloaders together never exceed the edge's slot.
    for _, _, tr in _rollout(sc, 20):
        assert (np.where(tr.infos["offloaded"], tr.infos["served"], 0.0).sum(axis=1) <= edge_words).all()
        assert (tr.infos["edge_load"] <= 1.0).all()


def test_uplink_band_is_split_equally_among_the_offloaders() -> None:
    sc = OffloadingQueues(access="ofdma")
    c = sc.config
    backlog = np.zeros((1, sc.deadline))
    g, p = np.array([1e-11]), sc.tx_power_levels_w[0]
    for m in range(1, sc.num_agents + 1):
        band = c.bandwidth_hz / m
        out = sc.device_outcome(backlog, g, np.array([OFFLOAD]), sc.freq_levels_hz[0], p, m)
        expected = band * np.log2(1.0 + p * g / (sc.noise_psd_w * band))
        np.testing.assert_allclose(out["rate_bps"], expected, rtol=1e-15)


def test_shared_band_sinr_is_own_power_over_noise_plus_the_other_offloaders() -> None:
    sc = OffloadingQueues(access="shared", distance_range_m=(50.0, 150.0))  # near devices: interference >> noise
    c, n, u = sc.config, sc.num_agents, 2.0**-53
    concurrent = 0
    for state, actions, tr in _rollout(sc, 20):
        mode, _, p_w = sc.decode_actions(actions)
        offload = mode == OFFLOAD
        received = np.where(offload, p_w * state["gain"], 0.0)
        interference = np.zeros_like(received)
        for i in range(n):  # no SIC: every other offloader interferes, holders and local devices do not
            for j in range(n):
                if j != i:
                    interference[:, i] += received[:, j]
        sinr = np.where(offload, p_w * state["gain"] / (sc.noise_psd_w * c.bandwidth_hz + interference), 0.0)
        # The core sums the same N - 1 positive terms in another order (relative error <= (N - 2) u), then
        # adds the noise and divides (2 u): (N + 1) u bounds the SINR's; the rate adds log2's rounding
        # (its condition number x / ((1 + x) ln(1 + x)) <= 1) and the product's: (N + 3) u.
        np.testing.assert_allclose(tr.infos["sinr"], sinr, rtol=(n + 1) * u, atol=0)
        np.testing.assert_allclose(tr.infos["rate_bps"], np.where(offload, c.bandwidth_hz * np.log2(1.0 + sinr), 0.0),
                                   rtol=(n + 3) * u, atol=0)
        concurrent += int((offload.sum(axis=1) >= 2).sum())
    assert concurrent > 0  # random play puts several offloaders on the band together


def test_shared_band_is_not_split_but_the_edge_gpu_still_is() -> None:
    sc = OffloadingQueues(access="shared", **TIGHT)
    c = sc.config
    edge_words = sc.edge_flops_per_s * c.slot_s / sc.flops_dec
    backlog = np.full((1, sc.deadline), 1e6)
    g, p = np.array([1e-3]), sc.tx_power_levels_w[-1]  # strong link: the edge binds
    alone = c.bandwidth_hz * np.log2(1.0 + p * g / (sc.noise_psd_w * c.bandwidth_hz))
    for m in range(1, sc.num_agents + 1):
        out = sc.device_outcome(backlog, g, np.array([OFFLOAD]), sc.freq_levels_hz[-1], p, m, 0.0)
        np.testing.assert_array_equal(out["rate_bps"], alone)  # the same expression: bit for bit
        assert out["capacity"][0] == np.floor(edge_words / m)


def test_ofdma_preset_only_changes_the_access() -> None:
    ofdma, default = OffloadingQueues(preset="ofdma").config, OffloadingQueues().config
    assert (ofdma.access, default.access) == ("ofdma", "shared")
    differs = [f for f in dataclasses.fields(ofdma) if getattr(ofdma, f.name) != getattr(default, f.name)]
    assert {f.name for f in differs} == {"preset", "access"}


def test_energy_optimal_frequency_lies_inside_the_range() -> None:
    sc = OffloadingQueues()
    c = sc.config
    assert sc.f_min < sc.f_opt_hz < sc.f_max
    # Energy per cycle (P_0 + kappa f^3) / f: derivative zero at f*.
    f = sc.f_opt_hz
    np.testing.assert_allclose(-c.gpu_idle_power_w / f**2 + 2.0 * sc.kappa * f, 0.0, atol=1e-12 / f)
    per_word = energy.gpu_power_w(sc.freq_levels_hz, c.gpu_idle_power_w, sc.kappa) / sc.freq_levels_hz
    best = int(per_word.argmin())
    assert 0 < best < len(per_word) - 1  # neither the lowest nor the highest level


def test_reward_is_energy_plus_priced_violations() -> None:
    sc = OffloadingQueues(**TIGHT)
    scale = sc.e_ref_j * sc.mean_arrival_words
    for _, _, tr in _rollout(sc, 20):
        i = tr.infos
        reward = np.stack([tr.rewards[a] for a in sc.agents], axis=1)
        expected = -(i["energy_j"] + sc.config.penalty * sc.e_ref_j * (i["dropped"] + i["inaccurate"])) / scale
        np.testing.assert_allclose(reward, expected, rtol=1e-15, atol=0)
        assert (i["upload_energy_j"] <= i["energy_j"]).all()


def test_local_decoding_of_the_mean_arrivals_at_the_optimal_frequency_scores_minus_one() -> None:
    sc = OffloadingQueues()
    backlog = np.zeros((1, sc.deadline))
    backlog[0, 0] = sc.mean_arrival_words  # not whole words: the identity holds for any count
    out = sc.device_outcome(backlog, np.array([1e-10]), np.array([LOCAL]), sc.f_opt_hz, 0.0, 0)
    np.testing.assert_allclose(out["reward"], -1.0, rtol=1e-14)


def test_no_arrivals_while_a_source_is_off_and_tasks_are_bounded() -> None:
    sc = OffloadingQueues()
    for _, _, tr in _rollout(sc, 40):
        off = tr.state["on"] == 0
        assert (tr.infos["arrivals"][off] == 0).all()
        assert (tr.infos["arrivals"] <= sc.max_task_words).all()


def test_path_loss_is_never_below_free_space() -> None:
    sc = OffloadingQueues(distance_range_m=(1.0, 60.0))
    state, _ = sc.reset(_keys(3, 64))
    distance = np.hypot(state["xy"][..., 0], state["xy"][..., 1])
    free = radio.db_to_linear(-radio.free_space_path_loss_db(distance, sc.config.carrier_hz))
    assert (state["large_scale"] <= free * (1 + 1e-12)).all()


def test_observation_is_own_queue_current_gain_and_broadcast_load() -> None:
    sc = OffloadingQueues(**TIGHT)
    for _, _, tr in _rollout(sc, 10):
        own = sc.decode_observations(tr.observations)
        s = tr.state
        np.testing.assert_array_equal(own["backlog"], s["backlog"])
        np.testing.assert_allclose(own["gain"], s["gain"], rtol=1e-5)  # float32 dB feature
        np.testing.assert_array_equal(own["others_offloading"], s["last_offloaders"][:, None] - s["last_offload"])
        gs = sc.decode_global_state(sc.global_state(s))
        np.testing.assert_array_equal(gs["backlog"], s["backlog"])
        np.testing.assert_array_equal(gs["on"], s["on"])


def test_a_device_observation_does_not_depend_on_the_others_queues() -> None:
    sc = OffloadingQueues()
    state, _ = sc.reset(_keys(5, 4))
    other = dict(state)
    other["backlog"] = state["backlog"].copy()
    other["backlog"][:, 1:] += 7.0
    np.testing.assert_array_equal(sc._observe(state)["ue_0"], sc._observe(other)["ue_0"])
