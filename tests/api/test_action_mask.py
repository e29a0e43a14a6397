"""ActionMaskWrapper: PettingZoo's ``{"observation", "action_mask"}`` convention over any Discrete-action scenario."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test, seed_test

from semcom_envs import ActionError
from semcom_envs.api.action_mask import ActionMaskWrapper
from semcom_envs.api.parallel import aec_from_parallel
from semcom_envs.scenarios import SCENARIOS
from tests.conftest import CASES, pettingzoo_module

# The configs of the shared cases whose agents act in a Discrete space (MultiCell's flat_actions=True).
DISCRETE = [(env_id, cfg) for env_id, cfg in CASES if cfg.get("flat_actions")]


def masked(env_id: str, cfg: dict) -> ActionMaskWrapper:
    return ActionMaskWrapper(pettingzoo_module(env_id).parallel_env(**cfg))


def test_the_shared_cases_include_discrete_configs() -> None:
    assert {env_id for env_id, _ in DISCRETE} == {"SemCom-MultiCell-v0", "SemCom-MultiCell-v1"}


# api_test warns about every Dict observation, PettingZoo's own action-masked classic envs included.
@pytest.mark.filterwarnings("ignore:Observation space for each agent probably should be:UserWarning",
                            "ignore:Observation is not a NumPy array:UserWarning")
@pytest.mark.parametrize(("env_id", "cfg"), DISCRETE)
def test_pettingzoo_parallel_and_aec_api_tests_pass(env_id: str, cfg: dict) -> None:
    parallel_api_test(masked(env_id, cfg), num_cycles=100)
    api_test(aec_from_parallel(masked(env_id, cfg)), num_cycles=100)
    seed_test(lambda: aec_from_parallel(masked(env_id, cfg)), num_cycles=50)


@pytest.mark.parametrize(("env_id", "cfg"), DISCRETE)
def test_observations_gain_an_all_ones_mask_and_nothing_else_changes(env_id: str, cfg: dict) -> None:
    env, plain = masked(env_id, cfg), pettingzoo_module(env_id).parallel_env(**cfg)
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=3)
    want, _ = plain.reset(seed=3)
    while plain.agents:
        for agent, o in obs.items():
            space = env.observation_space(agent)
            assert isinstance(space, gymnasium.spaces.Dict) and space.contains(o)
            assert o["action_mask"].dtype == np.int8
            np.testing.assert_array_equal(o["action_mask"], np.ones(env.action_space(agent).n, dtype=np.int8))
            np.testing.assert_array_equal(o["observation"], want[agent])
        np.testing.assert_array_equal(env.state(), plain.state())
        actions = {agent: int(rng.integers(env.action_space(agent).n)) for agent in env.agents}
        obs, rewards, terms, truncs, infos = env.step(actions)
        want, *expected = plain.step(actions)
        assert [rewards, terms, truncs, infos] == expected
        assert env.agents == plain.agents


def test_the_aec_view_still_rejects_a_bad_action_naming_the_agent() -> None:
    env = aec_from_parallel(masked("SemCom-MultiCell-v1", {"num_cells": 3, "flat_actions": True}))
    env.reset(seed=0)
    with pytest.raises(ActionError, match="bs_0"):
        env.step(140)


@pytest.mark.parametrize("env_id", sorted(SCENARIOS))
def test_non_discrete_agents_are_refused_naming_the_agent_and_space(env_id: str) -> None:
    parallel = pettingzoo_module(env_id).parallel_env()
    agent = parallel.possible_agents[0]
    assert not isinstance(parallel.action_space(agent), gymnasium.spaces.Discrete)
    with pytest.raises(TypeError, match=f"agent '{agent}' acts in .*needs Discrete actions"):
        ActionMaskWrapper(parallel)
