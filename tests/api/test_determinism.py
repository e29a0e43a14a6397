"""Reproducibility: one seed fixes a whole trajectory, in single and batched mode, across resets.

Every comparison here is exact by construction: the same code run twice on the same inputs, or a
batch copy against a single environment (see the batched test for why that is exact).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from semcom_envs.api.runner import BatchRunner
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
    """Exact on any CPU for these cases: copy i's observations come from element-wise ufuncs on its own
    counter-based draws, NumPy's einsum loops (per-element order independent of the batch size) and
    sums over the agent axis, whose order does not depend on the batch size below 8 agents. (From 8 on,
    NumPy adds a contiguous row pairwise but an agent-major (B > 1) layout in sequence; the 10-user
    TaskOriented case only sums float32-derived shares, exact in any order. Offloading's shared-band
    interference is a BLAS product, gemv for one copy and gemm for several, exact here because 3
    devices leave <= 2 nonzero terms.) Float32 observations only: with 8+ agents, float64 rewards and
    infos can differ in their last bits (a package hazard, reported)."""
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
    # Exact: 3 cells, so the team reward's mean over agents is a plain loop whatever the batch size.
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


def test_starting_the_next_episode_leaves_the_last_transition_as_it_was():
    """SemCom-CDRL-v1's rewards and ``return`` info are views of its state's ``return``; resetting the finished copies
    (a trainer's ``reset_copies``, a vector env's autoreset step) must not rewrite what the caller already holds."""
    scenario = make_scenario("SemCom-CDRL-v1", max_steps=2)
    runner = BatchRunner(scenario, 3)
    runner.reset(0)
    actions = {a: np.zeros((3, *scenario.action_space(a).shape), dtype=np.int64) for a in scenario.agents}
    for _ in range(2):
        tr = runner.step(actions)
    held = {**{k: v.copy() for k, v in tr.infos.items()}, **{a: v.copy() for a, v in tr.rewards.items()}}
    done = tr.truncated[scenario.agents[0]]
    assert done.all()
    runner.reset_copies(done, tr.observations)
    for name, value in {**tr.infos, **tr.rewards}.items():
        np.testing.assert_array_equal(value, held[name], err_msg=name)
    venv = gym.make_vec("SemCom-CDRL-v1", num_envs=2, vectorization_mode="vector_entry_point", max_steps=2)
    venv.reset(seed=0)
    joint = np.zeros((2, *venv.single_action_space.shape), dtype=np.int64)
    for _ in range(2):
        *_, infos = venv.step(joint)
    final = infos["return"].copy()
    venv.step(joint)  # the autoreset step
    np.testing.assert_array_equal(infos["return"], final)
    venv.close()


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


MANY_AGENTS = [("SemCom-MultiCell-v0", {"num_cells": 19}), ("SemCom-Offloading-v0", {"num_devices": 12, "access": "shared"}),
               ("SemCom-TaskOriented-v0", {"num_users": 16}), ("SemCom-IoTAuction-v0", {"num_devices": 12}),
               ("SemCom-CDRL-v0", {"num_targets": 9, "num_sources": 4, "train_steps": 20})]


@pytest.mark.parametrize(("env_id", "cfg"), MANY_AGENTS, ids=[env_id for env_id, _ in MANY_AGENTS])
def test_batch_copy_equals_single_copy_in_every_number_with_many_agents(env_id, cfg):
    """Exact by construction: every per-copy quantity is computed element-wise or reduced over the
    agent axis along a contiguous row of its own copy (no BLAS product, no reduction over an
    agents-by-copies stack), so numpy's summation order, which changes from 8 elements on (its
    pairwise unrolling), is the same for one copy as for many. Rewards, team rewards, infos and
    global states are compared, not only observations, with at least 9 agents."""
    scenario = make_scenario(env_id, **cfg)
    batch, seed = 5, 40
    runners = [BatchRunner(scenario, batch, num_threads=1)] + [BatchRunner(scenario, 1, num_threads=1) for _ in range(batch)]
    traces = [[r.reset(seed if k == 0 else seed + k - 1)] for k, r in enumerate(runners)]
    rng = np.random.default_rng(0)
    space = scenario.action_space(scenario.agents[0])
    for _ in range(4):
        acts = {a: np.stack([_random_action(space, rng) for _ in range(batch)]) for a in scenario.agents}
        for k, runner in enumerate(runners):
            rows = slice(None) if k == 0 else slice(k - 1, k)
            tr = runner.step({a: v[rows] for a, v in acts.items()})
            traces[k].append({**{f"obs {a}": v for a, v in tr.observations.items()}, **{f"reward {a}": v for a, v in tr.rewards.items()},
                              **{f"info {n}": v for n, v in tr.infos.items()}, "team": scenario.team_reward(tr.rewards),
                              "state": runner.global_state()})
    for i in range(batch):
        for t, (many, one) in enumerate(zip(traces[0][1:], traces[i + 1][1:])):
            for name in many:
                np.testing.assert_array_equal(many[name][i], one[name][0], err_msg=f"copy {i}, slot {t}, {name}")
