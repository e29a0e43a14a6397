"""Bad input gets an exception that names the field and the allowed values."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from semcom_envs import ActionError, ConfigError
from semcom_envs.multicell_v0 import parallel_env


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"num_cells": 0}, "num_cells"),
        ({"num_cells": 20}, "num_cells"),
        ({"num_cells": 2.5}, "num_cells"),
        ({"reward": "energy"}, "reward"),
        ({"preset": "paper2"}, "preset"),
        ({"rho": 1.5}, "rho"),
        ({"rho": float("nan")}, "rho"),
        ({"rate_req_ksuts": (100, 80)}, "rate_req_ksuts"),
        ({"accuracy_req": (0.5, 1.2)}, "accuracy_req"),
        ({"max_steps": 0}, "max_steps"),
        ({"redraw_requirements": "never"}, "redraw_requirements"),
        ({"num_cels": 3}, "num_cels"),
        ({"min_distance_m": 500.0}, "min_distance_m"),
        ({"accuracy_model": "logistic", "accuracy_interp": "round"}, "accuracy_interp"),
        ({"accuracy_model": "neural"}, "accuracy_model"),
    ],
)
def test_invalid_config_raises_naming_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        gym.make("SemCom-MultiCell-v0", **kwargs)


def test_unknown_keyword_error_lists_accepted_fields():
    with pytest.raises(ConfigError, match="accepted: .*num_cells"):
        parallel_env(num_cels=3)


def _env():
    env = parallel_env(num_cells=3)
    env.reset(seed=0)
    return env


def _valid(env):
    return {a: np.array([1, 1]) for a in env.agents}


@pytest.mark.parametrize(
    ("bad", "pattern"),
    [
        (np.array([7, 0]), r"power_level=7 must be an integer in \[0, 6\]"),
        (np.array([0, 20]), r"k - 1=20 must be an integer in \[0, 19\]"),
        (np.array([-1, 0]), r"power_level=-1"),
        (np.array([np.nan, 3.0]), "NaN"),
        (np.array([1.5, 3.0]), "not an integer"),
        (np.array([1, 2, 3]), "shape"),
    ],
)
def test_out_of_space_or_nan_action_raises_naming_agent_and_range(bad, pattern):
    env = _env()
    actions = _valid(env)
    actions["bs_1"] = bad
    with pytest.raises(ActionError, match=pattern) as err:
        env.step(actions)
    assert "bs_1" in str(err.value) or "shape" in pattern


def test_missing_agent_key_raises():
    env = _env()
    actions = _valid(env)
    del actions["bs_2"]
    with pytest.raises(ActionError, match=r"missing \['bs_2'\]"):
        env.step(actions)


def test_unknown_agent_key_raises():
    env = _env()
    actions = _valid(env)
    actions["bs_9"] = np.array([0, 0])
    with pytest.raises(ActionError, match=r"unknown \['bs_9'\]"):
        env.step(actions)


def test_unknown_agent_name_in_space_lookup_lists_valid_names():
    with pytest.raises(ActionError, match="valid agents are bs_0, bs_1, bs_2"):
        _env().observation_space("ue_0")


def test_float_integral_actions_are_accepted():
    env = _env()
    env.step({a: np.array([1.0, 4.0]) for a in env.agents})


def test_gym_joint_action_of_wrong_shape_raises():
    env = gym.make("SemCom-MultiCell-v0", num_cells=3)
    env.reset(seed=0)
    with pytest.raises(ActionError, match="shape"):
        env.step(np.zeros(5, dtype=np.int64))


def test_step_before_reset_raises():
    env = parallel_env(num_cells=3)
    with pytest.raises(RuntimeError, match="reset"):
        env.step({a: np.array([0, 0]) for a in env.possible_agents})


def test_negative_seed_raises():
    with pytest.raises(ValueError, match="seed"):
        parallel_env(num_cells=3).reset(seed=-1)


def test_bad_render_mode_raises():
    with pytest.raises(ValueError, match="render_mode"):
        parallel_env(render_mode="video")
