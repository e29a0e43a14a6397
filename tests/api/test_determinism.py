"""Reproducibility: one seed fixes a whole trajectory, in single and batched mode, across resets."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from semcom_envs.registration import make_scenario
from tests.conftest import pettingzoo_module


def _random_action(space, rng):
    if isinstance(space, gym.spaces.Box):
        return rng.uniform(space.low, space.high).astype(space.dtype)
    return rng.integers(0, space.nvec) if hasattr(space, "nvec") else rng.integers(0, space.n)


def _parallel_rollout(env, seed, steps, action_seed):
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(action_seed)
    trace = [np.concatenate([obs[a] for a in env.possible_agents] + [np.zeros(len(env.possible_agents))])]
    for _ in range(steps):
        if not env.agents:
            obs, _ = env.reset()
        acts = {a: _random_action(env.action_space(a), rng) for a in env.agents}
        obs, rew, term, trunc, info = env.step(acts)
        trace.append(np.concatenate([obs[a] for a in env.possible_agents] + [[rew[a] for a in env.possible_agents]]))
    return np.stack(trace)


def test_parallel_api_same_seed_same_n_step_trajectory_across_episodes(case):
    # pettingzoo's parallel_seed_test compares one step only; this compares 2.5 episodes.
    env_id, cfg = case
    mod = pettingzoo_module(env_id)
    steps = int(2.5 * mod.parallel_env(**cfg).scenario.config.max_steps)
    a = _parallel_rollout(mod.parallel_env(**cfg), 7, steps, 0)
    b = _parallel_rollout(mod.parallel_env(**cfg), 7, steps, 0)
    c = _parallel_rollout(mod.parallel_env(**cfg), 8, steps, 0)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_batch_copy_i_equals_single_env_seeded_seed_plus_i(case):
    env_id, cfg = case
    batch, seed, steps = 6, 100, 12
    venv = gym.make_vec(env_id, num_envs=batch, vectorization_mode="vector_entry_point", **cfg)
    obs_b, _ = venv.reset(seed=seed)
    venv.action_space.seed(3)
    actions = [venv.action_space.sample() for _ in range(steps)]
    vec_trace = [obs_b]
    for act in actions:
        vec_trace.append(venv.step(act)[0])
    vec_trace = np.stack(vec_trace)  # (steps + 1, batch, obs)
    for i in (0, 3, batch - 1):
        env = gym.make(env_id, **cfg)
        obs, _ = env.reset(seed=seed + i)
        single = [obs]
        for act in actions:
            obs, _, term, trunc, _ = env.step(act[i])
            if term or trunc:
                break
            single.append(obs)
        single = np.stack(single)
        np.testing.assert_array_equal(vec_trace[: len(single), i], single)


def test_vector_autoreset_next_step_matches_single_env_episodes():
    cfg = {"num_cells": 3, "max_steps": 4}
    venv = gym.make_vec("SemCom-MultiCell-v0", num_envs=2, vectorization_mode="vector_entry_point", **cfg)
    env = gym.make("SemCom-MultiCell-v0", **cfg)
    obs_v, _ = venv.reset(seed=5)
    obs_s, _ = env.reset(seed=5)
    act = np.zeros((2, 6), dtype=np.int64)
    act[:, 0::2] = 3
    act[:, 1::2] = 7
    for _episode in range(3):
        np.testing.assert_array_equal(obs_v[0], obs_s)
        for t in range(4):
            obs_v, rew_v, term_v, trunc_v, _ = venv.step(act)
            obs_s, rew_s, term_s, trunc_s, _ = env.step(act[0])
            np.testing.assert_array_equal(obs_v[0], obs_s)
            assert rew_v[0] == rew_s and trunc_v[0] == trunc_s == (t == 3)
        # NEXT_STEP autoreset: the next step resets, ignores the action, reward 0, not done.
        obs_v, rew_v, term_v, trunc_v, _ = venv.step(act)
        assert rew_v[0] == 0.0 and not term_v[0] and not trunc_v[0]
        obs_s, _ = env.reset()


def test_core_is_pure_same_state_and_actions_give_same_transition():
    scenario = make_scenario("SemCom-MultiCell-v0", num_cells=3)
    from semcom_envs import streams

    state, _ = scenario.reset(streams.episode_key(streams.seed_key(np.arange(4)), 0))
    actions = {a: np.tile([2, 5], (4, 1)) for a in scenario.agents}
    first = scenario.step(state, actions)
    second = scenario.step(state, actions)
    for a in scenario.agents:
        np.testing.assert_array_equal(first.observations[a], second.observations[a])
    np.testing.assert_array_equal(first.state["fading"], second.state["fading"])
