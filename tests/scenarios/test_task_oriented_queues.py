"""SemCom-TaskOriented-v2: image arrivals, deadlines across slots, per-slot channels; checked against the model's
definitions (A1-A4 of :mod:`semcom_envs.scenarios.task_oriented_queues`), exactly where they are exact."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from semcom_envs import streams
from semcom_envs.scenarios.task_oriented import TaskOrientedV1
from semcom_envs.scenarios.task_oriented_queues import TaskOrientedQueues


def _play(sc: TaskOrientedQueues, seeds=(3, 4, 5, 6), slots: int = 40, seed: int = 0):
    """(state before, actions, transition) for ``slots`` slots of uniformly random actions."""
    rng = np.random.default_rng(seed)
    state, _ = sc.reset(streams.seed_key(np.array(seeds)))
    for _ in range(slots):
        if sc.config.action_type == "continuous":
            actions = {a: rng.uniform(-1, 1, (len(seeds), 3)).astype(np.float32) for a in sc.agents}
        else:
            actions = {a: rng.integers(0, sc.action_nvec, (len(seeds), 3)) for a in sc.agents}
        tr = sc.step(state, actions)
        yield state, actions, tr
        state = tr.state


CONFIGS = [{}, {"action_type": "discrete", "num_users": 3, "deadline_slots": 2, "task_prob_on": 0.9},
           {"num_users": 4, "deadline_slots": 1, "on_to_off_prob": 1.0, "off_to_on_prob": 1.0}]


@pytest.mark.parametrize("config", CONFIGS)
def test_images_are_conserved_and_expire_at_their_deadline(config):
    sc = TaskOrientedQueues(**config)
    d = sc.config.deadline_slots
    for state, _, tr in _play(sc):
        before = state["queue"].sum(axis=-1)
        info = tr.infos
        # A3: what waited is delivered, expires or still waits; the next queue adds the next arrivals.
        np.testing.assert_array_equal(before, info["delivered"] + info["expired"] + info["backlog"])
        np.testing.assert_array_equal(tr.state["queue"].sum(axis=-1), info["backlog"] + tr.state["arrivals"])
        np.testing.assert_array_equal(tr.state["queue"][..., 0], tr.state["arrivals"])
        # Only images D - 1 slots old expire, and only if the user did not deliver its oldest then.
        oldest_due = state["queue"][..., d - 1] > 0
        np.testing.assert_array_equal(info["expired"] > 0, oldest_due & ~info["delivered"])
        assert set(np.unique(tr.state["queue"])) <= {0.0, 1.0}  # at most one image per arrival slot


@pytest.mark.parametrize("config", CONFIGS)
def test_delivery_is_the_realised_delay_of_the_slot_and_the_reward_its_weighted_success(config):
    sc = TaskOrientedQueues(**config)
    c = sc.config
    for state, _, tr in _play(sc):
        info, sel = tr.infos, tr.infos["selected"]
        # A3: the server serves only users with an image waiting.
        assert not (sel & (state["queue"].sum(axis=-1) == 0)).any()
        bw, pw = np.where(sel, info["bandwidth_hz"], 1.0), np.where(sel, info["power_w"], 1.0)
        delay = sc.delay_s(c.data_bits * (1.0 - info["compression"]), bw, pw, np.sqrt(state["delta2"]))
        np.testing.assert_array_equal(info["delivered"], sel & (delay <= c.deadline_s))
        reward = np.stack([tr.rewards[a] for a in sc.agents], axis=1)
        np.testing.assert_array_equal(reward, state["weight"] * np.where(info["delivered"], sc.task_success(
            np.where(sel, info["compression"], 0.5)), 0.0))
        # (14a)-(14d): the budgets hold.
        assert (info["bandwidth_hz"].sum(axis=1) <= c.bandwidth_max_hz * (1 + 1e-12)).all()
        assert (info["power_w"].sum(axis=1) <= c.power_max_w * (1 + 1e-12)).all()


def test_the_channel_is_redrawn_every_slot_around_the_large_scale_gain():
    sc = TaskOrientedQueues()
    states = [s for s, _, _ in _play(sc, slots=3)]
    for s in states:
        np.testing.assert_array_equal(s["mean_delta2"], states[0]["mean_delta2"])  # the users stay put
    assert not np.array_equal(states[0]["delta2"], states[1]["delta2"])
    v1_state, _ = TaskOrientedV1().reset(streams.seed_key(np.array((3, 4, 5, 6))))
    np.testing.assert_array_equal(states[0]["mean_delta2"], v1_state["delta2"])  # v1's large-scale gains
    # |h|^2 = n^2 delta^2 with n ~ N(0, 1): log(|h|^2 / delta^2) is log chi^2_1, whose mean is -1.27.
    many = np.concatenate([np.log(s["delta2"] / s["mean_delta2"]).ravel() for s, _, _ in _play(sc, seeds=range(64), slots=50)])
    # psi(1/2) + log 2 = -1.2704; standard deviation pi / sqrt(2) = 2.22 over 32,000 draws: 3 sigma = 0.037.
    assert abs(many.mean() - (-1.2704)) < 0.04


@pytest.mark.parametrize("rho", [0.0, 0.9])
def test_the_fading_is_an_ar1_process_of_the_slots_fresh_draws(rho):
    """A2 with ``fading_correlation``: ``n_t = rho n_{t-1} + sqrt(1 - rho^2) w_t``, ``w_t`` the slot's own draw
    (exact, and at rho = 0 the fresh draw itself), ``|h|^2 = n^2 delta^2``; stationary N(0, 1), lag-1 correlation rho."""
    sc = TaskOrientedQueues(fading_correlation=rho)
    keys = streams.seed_key(np.array((3, 4, 5, 6)))  # _play's copies; the fresh draws are stream domain 3 (A2's)
    states = [s for s, _, _ in _play(sc, slots=5)]
    np.testing.assert_array_equal(states[0]["fading"], streams.normals(keys, states[0]["t"], 3, sc.num_agents))
    for before, s in zip(states, states[1:]):
        fresh = streams.normals(keys, s["t"], 3, sc.num_agents)
        np.testing.assert_array_equal(s["fading"], rho * before["fading"] + np.sqrt(1 - rho * rho) * fresh)
        np.testing.assert_array_equal(s["delta2"], np.square(s["fading"]) * s["mean_delta2"])
        if rho == 0:
            np.testing.assert_array_equal(s["fading"], fresh)
    n = np.stack([s["fading"] for s, _, _ in _play(sc, seeds=range(64), slots=50)])  # (slots, copies, users)
    # 64 x 10 x 49 = 31,360 lag-1 pairs, correlated along each sequence: the effective count for the correlation is
    # N (1 - rho^2) / (1 + rho^2) (3,290 at rho = 0.9), its standard error about (1 - rho^2) / sqrt(that): 0.0056 at
    # rho = 0, 0.0033 at 0.9, so 0.03 is over 5 sigma; the variance's over 32,000 draws, sqrt(2 (1 + rho^4) /
    # (N (1 - rho^4))), is 0.0079 and 0.017: 0.07 is 4 sigma.
    assert abs(np.mean(n[1:] * n[:-1]) / np.mean(n * n) - rho) < 0.03
    assert abs(np.mean(n * n) - 1.0) < 0.07


def test_observation_is_the_users_own_slot():
    sc = TaskOrientedQueues(num_users=4, deadline_slots=3)
    for _, _, tr in _play(sc, slots=10):
        new = tr.state
        obs = np.stack([tr.observations[a] for a in sc.agents], axis=1)
        assert obs.shape[-1] == 7 + 3 + 1 == sc.observation_space(sc.agents[0]).shape[0]
        own = sc.decode_observation(obs)
        np.testing.assert_array_equal(own["queue"], new["queue"])
        np.testing.assert_allclose(own["delta2"], new["delta2"], rtol=3e-6)  # float32 dB feature
        granted = np.where(tr.infos["selected"], tr.infos["bandwidth_hz"] / sc.config.bandwidth_max_hz, 0.0)
        np.testing.assert_allclose(own["grant_last"], granted, rtol=1e-6)
        full = sc.decode_global_state(sc.global_state(new))
        np.testing.assert_array_equal(full["queue"], new["queue"])
        np.testing.assert_array_equal(full["on"], new["on"])
        np.testing.assert_array_equal(full["served_last"], tr.infos["served"])
        assert sc.state_space.contains(sc.global_state(new)[0])


def test_arrivals_follow_the_on_off_cameras():
    sc = TaskOrientedQueues()
    c = sc.config
    arrivals, on = [], []
    for state, _, _ in _play(sc, seeds=range(64), slots=100):
        arrivals.append(state["arrivals"])
        on.append(state["on"])
    arrivals, on = np.array(arrivals), np.array(on)
    assert not (arrivals.astype(bool) & ~on).any()  # A1: only an ON camera sends
    # Stationary ON share 1/2 and a frame with probability 0.3 while ON: 0.15 per user and slot, over 64,000
    # user-slots (correlated in bursts of 50 slots, 64 x 10 independent cameras): 4 sigma of the ON share
    # is 4 x 0.5 / sqrt(640) = 0.08, of the arrival rate 0.3 x 0.08 = 0.024.
    assert abs(on.mean() - sc.pi_on) < 0.08
    assert abs(arrivals.mean() - sc.pi_on * c.task_prob_on) < 0.024


def test_registered_and_seeded_like_a_single_environment():
    env = gym.make("SemCom-TaskOriented-v2")
    assert isinstance(env.unwrapped.scenario, TaskOrientedQueues)
    sc = TaskOrientedQueues()
    batch, _ = sc.reset(streams.seed_key(np.array([11, 12])))
    single, _ = sc.reset(streams.seed_key(np.array([12])))
    for key in ("queue", "delta2", "on", "weight"):
        np.testing.assert_array_equal(batch[key][1:], single[key])
