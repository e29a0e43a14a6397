"""The external API suites (PettingZoo, Gymnasium, stable-baselines3) on every scenario and config.

Float comparisons: only inside the suites, e.g. PettingZoo's seed test compares two runs of the same
code with the same seed (exact by construction); the PPO smoke test checks only that the action lies
in the space.
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from pettingzoo.test import api_test, max_cycles_test, parallel_api_test, render_test, seed_test, state_test
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from semcom_envs.scenarios import SCENARIOS
from tests.conftest import pettingzoo_module


def test_pettingzoo_aec_api(case):
    env_id, cfg = case
    api_test(pettingzoo_module(env_id).env(**cfg), num_cycles=200)


def test_pettingzoo_parallel_api(case):
    env_id, cfg = case
    parallel_api_test(pettingzoo_module(env_id).parallel_env(**cfg), num_cycles=200)


@pytest.mark.parametrize("env_id", sorted(SCENARIOS))
def test_pettingzoo_constructors_document_their_scenario(env_id):
    """``help(multicell_v0.parallel_env)`` says which env it builds and where its keyword arguments are listed."""
    mod = pettingzoo_module(env_id)
    for factory, kind in ((mod.parallel_env, "ParallelEnv"), (mod.env, "AECEnv")):
        assert factory.__doc__.startswith(f"PettingZoo ``{kind}`` of {env_id} ")
        assert f"the fields of {SCENARIOS[env_id].config_class.__name__}" in factory.__doc__


def test_pettingzoo_seed_determinism(case):
    env_id, cfg = case
    mod = pettingzoo_module(env_id)
    seed_test(lambda: mod.env(**cfg), num_cycles=100)


def test_pettingzoo_render_modes(case):
    env_id, cfg = case
    mod = pettingzoo_module(env_id)
    render_test(lambda render_mode=None: mod.env(render_mode=render_mode, **{**cfg, "max_steps": 3}))


def test_pettingzoo_state(case):
    env_id, cfg = case
    mod = pettingzoo_module(env_id)
    state_test(mod.env(**cfg), mod.parallel_env(**cfg))


def test_pettingzoo_max_cycles_alias():
    max_cycles_test(pettingzoo_module("SemCom-MultiCell-v0"))


def _warnings_as_errors() -> None:
    """Every warning raises, except Gymnasium's note that a newer version of an id exists: a paper's
    version (e.g. SemCom-MultiCell-v0) stays registered beside the benchmark task (v1) on purpose."""
    warnings.simplefilter("error")
    warnings.filterwarnings("ignore", message=r".*The environment SemCom-\S+ is out of date", category=DeprecationWarning)


def test_gymnasium_check_env_without_warnings(case):
    env_id, cfg = case
    with warnings.catch_warnings():
        _warnings_as_errors()
        gym_check_env(gym.make(env_id, **cfg).unwrapped, skip_render_check=False)


def test_stable_baselines3_check_env(case):
    env_id, cfg = case
    with warnings.catch_warnings():
        _warnings_as_errors()
        sb3_check_env(gym.make(env_id, **cfg), warn=True)


def test_sb3_ppo_trains_and_predicts_on_gym_make():
    from stable_baselines3 import PPO

    env = gym.make("SemCom-MultiCell-v0", num_cells=3, max_steps=50)
    model = PPO("MlpPolicy", env, n_steps=256, batch_size=64, n_epochs=2, seed=0, device="cpu", verbose=0)
    model.learn(total_timesteps=2048)
    obs, _ = env.reset(seed=1)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space.contains(action)
    env.step(action)


@pytest.mark.parametrize("num_envs", [1, 5])
def test_make_vec_vector_entry_point_spaces_and_metadata(num_envs):
    from gymnasium.vector import AutoresetMode

    venv = gym.make_vec("SemCom-MultiCell-v0", num_envs=num_envs, vectorization_mode="vector_entry_point", num_cells=3)
    assert venv.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    obs, info = venv.reset(seed=0)
    assert obs.shape == (num_envs, 21) and venv.observation_space.contains(obs)
    for _ in range(3):
        obs, reward, term, trunc, info = venv.step(venv.action_space.sample())
        assert venv.observation_space.contains(obs)
        assert reward.shape == term.shape == trunc.shape == (num_envs,)
        assert info["qoe"].shape == (num_envs, 3) and info["total_power_w"].shape == (num_envs,)
