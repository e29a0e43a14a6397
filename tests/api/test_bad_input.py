"""Every class of bad input, in every scenario and every API, gets an exception at the call that
received it, naming the field, agent or argument at fault and what is allowed.

The APIs: PettingZoo parallel (``parallel``) and AEC (``aec``), Gymnasium single (``gym``) and
vector (``vector``) environments. The classes: config values of the wrong type (strings are not
numbers, bools are not numbers, numbers are not bools), cross-field constraints, unknown keywords
(also ``TypeError``\\ s, as Python's own), non-array and out-of-space actions, bad seeds, the
vector env's keywords and batch size, and stepping past the end of an episode.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from semcom_envs import ActionError, ConfigError, streams
from semcom_envs.config import Choice, Flag, Fractions, Integer, Interval, OrNone, Real, Text, field_specs
from semcom_envs.scenarios import SCENARIOS

ENV_IDS = list(SCENARIOS)
APIS = ["parallel", "aec", "gym", "vector"]
SMALL = {env_id: {cls.size_field: 2, **({"num_sources": 3} if env_id.startswith("SemCom-CDRL") else {})}
         for env_id, cls in SCENARIOS.items()}
"""Small but default-shaped configs (two agents; CDRL with a third source), so that every API test is quick."""


def make(api: str, env_id: str, **kwargs: Any) -> Any:
    """The environment of ``env_id`` through one API (vector: 4 copies)."""
    if api == "gym":
        return gym.make(env_id, **kwargs)
    if api == "vector":
        return gym.make_vec(env_id, num_envs=kwargs.pop("num_envs", 4), vectorization_mode="vector_entry_point", **kwargs)
    module = importlib.import_module(f"semcom_envs.{SCENARIOS[env_id].pettingzoo_name}")
    return module.parallel_env(**kwargs) if api == "parallel" else module.env(**kwargs)


def _bad_values(spec: Any) -> list[Any]:
    """Values of the wrong type for a field declared with ``spec``."""
    if isinstance(spec, OrNone):
        return [v for v in _bad_values(spec.inner) if v is not None]
    if isinstance(spec, (Real, Integer)):
        return [str(spec.low), True, None, [spec.low]]
    if isinstance(spec, Interval):
        return [f"{spec.low}{spec.high}", str(spec.low), (str(spec.low), str(spec.high)), (spec.low,), (True, True)]
    if isinstance(spec, Flag):
        return [1, 0, "True", None]
    if isinstance(spec, Choice):
        return ["nonsense", None] + ([str(spec.options[0])] if not isinstance(spec.options[0], str) else [])
    if isinstance(spec, Fractions):
        return ["1", (0.5, 0.5), ("0.5", "0.25", "0.25")]
    if isinstance(spec, Text):
        return [3, ""]
    raise TypeError(spec)


# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_config_field_rejects_values_of_the_wrong_type_naming_the_field(env_id):
    """Strings are not numbers (``p_max_dbm="3"``, ``rate_req_ksuts="12"``), bools are not numbers,
    numbers are not bools: every field of every scenario, directly on the core."""
    cls = SCENARIOS[env_id]
    for name, spec in field_specs(cls.config_class).items():
        if name == "preset":
            continue
        for value in _bad_values(spec):
            try:
                cls(**{name: value})
            except ConfigError as err:
                assert str(err).startswith(f"{name}={value!r} is invalid: must be "), str(err)
            else:
                pytest.fail(f"{cls.__name__}({name}={value!r}) raised nothing")


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize(("env_id", "kwargs", "field"), [
    ("SemCom-MultiCell-v0", {"p_max_dbm": "3"}, "p_max_dbm"),
    ("SemCom-MultiCell-v0", {"rate_req_ksuts": "12"}, "rate_req_ksuts"),
    ("SemCom-Offloading-v0", {"k": "8"}, "k"),
    ("SemCom-IoTAuction-v0", {"value_scale": "1"}, "value_scale"),
    ("SemCom-IoTAuction-v1", {"mechanism": "vickrey"}, "mechanism"),
    ("SemCom-CDRL-v0", {"budget_models": "2"}, "budget_models"),
    ("SemCom-TaskOriented-v0", {"service_levels": 1}, "service_levels"),
    ("SemCom-TaskOriented-v1", {"channel_scale": "power"}, "channel_scale"),
])
def test_strings_in_configs_raise_in_every_api(api, env_id, kwargs, field):
    with pytest.raises(ConfigError, match=rf"^{field}=.* is invalid: must be"):
        make(api, env_id, **kwargs)


@pytest.mark.parametrize(("env_id", "kwargs", "fields"), [
    ("SemCom-MultiCell-v0", {"cell_radius_m": 5}, ("cell_radius_m", "min_distance_m")),
    ("SemCom-MultiCell-v0", {"min_distance_m": 500.0}, ("cell_radius_m", "min_distance_m")),
    ("SemCom-MultiCell-v0", {"accuracy_model": "logistic", "accuracy_interp": "round"}, ("accuracy_model", "accuracy_interp")),
    ("SemCom-Offloading-v0", {"gpu_peak_power_w": 1.0}, ("gpu_peak_power_w", "gpu_idle_power_w")),
    ("SemCom-Offloading-v0", {"gpu_idle_power_w": 20.0}, ("gpu_peak_power_w", "gpu_idle_power_w")),
    ("SemCom-CDRL-v0", {"preset": "walls", "grid_size": 3}, ("num_walls", "grid_size")),
    ("SemCom-CDRL-v0", {"num_walls": 13}, ("num_walls", "grid_size")),
    ("SemCom-TaskOriented-v0", {"bandwidth_max_hz": 1e4}, ("bandwidth_min_hz", "bandwidth_max_hz", "num_users")),
    ("SemCom-TaskOriented-v0", {"num_users": 64, "bandwidth_min_hz": 1e6}, ("bandwidth_min_hz", "num_users")),
    ("SemCom-TaskOriented-v0", {"power_max_w": 1e-6}, ("power_min_dbm", "power_max_w")),
    ("SemCom-TaskOriented-v0", {"sesc_l_tot": 10.0}, ("sesc_l_opt", "sesc_l_tot")),
    ("SemCom-TaskOriented-v1", {"power_max_w": 5e-5}, ("power_min_dbm", "power_max_w")),
])
def test_cross_field_constraints_name_every_field_involved(env_id, kwargs, fields):
    with pytest.raises(ConfigError) as err:
        SCENARIOS[env_id](**kwargs)
    for field in fields:
        assert field in str(err.value), (field, str(err.value))


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_unknown_keywords_raise_a_type_error_as_python_does(api, env_id):
    """Third-party wrappers (e.g. torchrl's ``GymEnv``, probing ``frameskip``) catch Python's
    ``TypeError: ... unexpected keyword argument 'frameskip'``; the error is also a ConfigError that
    lists the accepted names."""
    with pytest.raises(TypeError, match="unexpected keyword argument 'frameskip'") as err:
        make(api, env_id, frameskip=4)
    assert isinstance(err.value, ConfigError) and "accepted: " in str(err.value) and "max_steps" in str(err.value)


def test_max_cycles_alias_is_validated_under_its_own_name():
    from semcom_envs import multicell_v0

    with pytest.raises(ConfigError, match=r"^max_cycles='5' is invalid"):
        multicell_v0.parallel_env(max_cycles="5")
    with pytest.raises(ConfigError, match="max_steps or its PettingZoo alias max_cycles"):
        multicell_v0.parallel_env(max_cycles=5, max_steps=5)


def test_a_config_object_of_another_scenario_is_rejected():
    from semcom_envs.scenarios import MultiCell, OffloadingConfig

    with pytest.raises(ConfigError, match="must be a MultiCellConfig"):
        MultiCell(OffloadingConfig())


# ---------------------------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------------------------


def _reset(env: Any, api: str) -> None:
    env.reset(seed=0)


def _first_agent_space(env_id: str) -> tuple[str, gym.Space]:
    scenario = SCENARIOS[env_id](**SMALL[env_id])
    return scenario.agents[0], scenario.action_space(scenario.agents[0])


def _bad_agent_actions(space: gym.Space) -> list[tuple[Any, str]]:
    """(bad action of one agent, what the message must say) for ``space``."""
    shape_rows = space.shape
    cases: list[tuple[Any, str]] = [(None, "is NoneType None"), ({"power": 1}, "is dict"), ("3", "is str '3'"),
                                    (np.full(shape_rows, 10**30, dtype=object), "not a numeric array"),
                                    (np.zeros((*shape_rows, 2)), "shape")]
    if isinstance(space, gym.spaces.Box):
        cases += [(np.full(shape_rows, 0.5 + 0.5j), "complex"), (np.full(shape_rows, np.nan), "out of the action space"),
                  (np.full(shape_rows, True), "bool")]
    else:
        cases += [(np.full(shape_rows, True), "bool"), (np.full(shape_rows, 2**62, dtype=np.int64), "out of range"),
                  (np.full(shape_rows, np.uint64(2**64 - 1)), "out of range"), (np.full(shape_rows, 0.5), "not an integer")]
    return cases


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_bad_actions_in_the_parallel_env_name_the_agent_and_the_allowed_values(env_id):
    agent, space = _first_agent_space(env_id)
    env = make("parallel", env_id, **SMALL[env_id])
    for bad, says in _bad_agent_actions(space):
        _reset(env, "parallel")
        actions = {a: env.action_space(a).sample() for a in env.agents}
        actions[agent] = bad
        with pytest.raises(ActionError, match=re.escape(says)) as err:
            env.step(actions)
        assert f"agent {agent!r}" in str(err.value) and "must be" in str(err.value), str(err.value)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_the_aec_env_rejects_a_bad_action_at_the_step_that_received_it_and_then_goes_on(env_id):
    agent, space = _first_agent_space(env_id)
    env = make("aec", env_id, **SMALL[env_id])
    for bad, says in _bad_agent_actions(space):
        env.reset(seed=0)
        assert env.agent_selection == agent
        with pytest.raises(ActionError, match=re.escape(says)) as err:
            env.step(bad)
        assert f"agent {agent!r}" in str(err.value)
        # Nothing was stored: the same agent is still to act, and valid actions complete the cycle.
        assert env.agent_selection == agent
        for _ in env.possible_agents:
            env.step(env.action_space(env.agent_selection).sample())
        assert env.agent_selection == agent and not any(env.truncations.values())


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_the_aec_env_wants_none_from_a_done_agent(env_id):
    env = make("aec", env_id, **{**SMALL[env_id], "max_steps": 1})
    env.reset(seed=0)
    for _ in env.possible_agents:
        env.step(env.action_space(env.agent_selection).sample())
    assert all(env.truncations.values())
    with pytest.raises(ActionError, match="is done .* its action must be None"):
        env.step(env.action_space(env.agent_selection).sample())
    env.step(None)


@pytest.mark.parametrize("api", ["gym", "vector"])
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_bad_joint_actions_raise_with_the_allowed_shape(api, env_id):
    env = make(api, env_id, **SMALL[env_id])
    env.reset(seed=0)
    good = np.asarray(env.action_space.sample())
    for bad in (None, "1", {"a": 1}, good.astype(bool), good.astype(np.complex128), good[..., :-1], np.stack([good, good])):
        with pytest.raises(ActionError, match=r"joint action .*must be a numeric array of shape"):
            env.step(bad)
    out = good.astype(np.float64)
    out[..., 0] = 1e9  # the first component of the first agent: named in the message
    agent = SCENARIOS[env_id](**SMALL[env_id]).agents[0]
    with pytest.raises(ActionError, match=f"agent {agent!r}"):
        env.step(out)


@pytest.mark.parametrize("chunk_size", [2, 3, 4, 2048])
def test_the_vector_env_rejects_an_action_batch_of_the_wrong_size_in_every_chunking(chunk_size):
    env = gym.make_vec("SemCom-MultiCell-v0", num_envs=4, vectorization_mode="vector_entry_point", chunk_size=chunk_size,
                       num_threads=1, num_cells=2)
    env.reset(seed=0)
    good = env.action_space.sample()
    for rows in (3, 5):
        bad = np.resize(good, (rows, good.shape[1]))
        with pytest.raises(ActionError, match=rf"joint action has shape \({rows}, 4\): must be a numeric array of shape \(4, 4\)"):
            env.step(bad)
    env.step(good)


def test_the_core_runner_rejects_per_agent_batches_of_the_wrong_size():
    from semcom_envs.api.runner import BatchRunner

    scenario = SCENARIOS["SemCom-MultiCell-v0"](num_cells=2)
    runner = BatchRunner(scenario, 4, chunk_size=2, num_threads=1)
    runner.reset(0)
    actions = {"bs_0": np.zeros((5, 2), dtype=np.int64), "bs_1": np.zeros((4, 2), dtype=np.int64)}
    with pytest.raises(ActionError, match=r"one row per copy \(the 4 environment copies\).*'bs_0': 5"):
        runner.step(actions)


# ---------------------------------------------------------------------------------------------
# Episodes and seeds
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", ["parallel", "gym"])
def test_stepping_past_the_end_of_an_episode_raises_until_reset(api):
    env = make(api, "SemCom-MultiCell-v0", num_cells=2, max_steps=2)
    env.reset(seed=0)
    sample = (lambda: {a: env.action_space(a).sample() for a in env.agents}) if api == "parallel" else env.action_space.sample
    env.step(sample())
    env.step(sample())
    with pytest.raises(RuntimeError, match=r"episode is over.*reset\(\)"):
        env.step(sample() if api == "gym" else {a: env.action_space(a).sample() for a in env.possible_agents})
    env.reset()
    env.step(sample())


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("seed", [1.5, True, "a", -1, [1], np.float64(2.0), 2**63])
def test_seeds_that_are_not_non_negative_integers_get_one_message(api, seed):
    env = make(api, "SemCom-MultiCell-v0", num_cells=2)
    with pytest.raises(ValueError, match=r"^seed=.* is invalid: must be None or an integer in \[0, "):
        env.reset(seed=seed)


@pytest.mark.parametrize("api", APIS)
def test_numpy_integer_seeds_are_seeds(api):
    a, b = make(api, "SemCom-MultiCell-v0", num_cells=2), make(api, "SemCom-MultiCell-v0", num_cells=2)
    if api == "aec":
        a.reset(seed=np.int64(7))
        b.reset(seed=7)
        np.testing.assert_array_equal(a.observe("bs_1"), b.observe("bs_1"))
        return
    obs_a, obs_b = a.reset(seed=np.int64(7))[0], b.reset(seed=7)[0]
    if isinstance(obs_a, dict):
        obs_a, obs_b = np.concatenate(list(obs_a.values())), np.concatenate(list(obs_b.values()))
    np.testing.assert_array_equal(obs_a, obs_b)


def test_a_seed_whose_batch_copies_overflow_says_how_large_it_may_be():
    env = make("vector", "SemCom-MultiCell-v0", num_cells=2)
    top = streams.MAX_SEED - 3
    with pytest.raises(ValueError, match=rf"seed={top + 1} is invalid: must be None or an integer in \[0, {top}\] \(copy i of the 4"):
        env.reset(seed=top + 1)
    env.reset(seed=top)


def test_the_vector_env_takes_one_seed_per_copy_as_gymnasium_does():
    """Gymnasium's vector envs take ``seed=[s_0, ..., s_{n-1}]`` (None entries: random seeds)."""
    env = make("vector", "SemCom-MultiCell-v0", num_cells=2)
    obs, _ = env.reset(seed=[5, 9, 5, None])
    single = make("gym", "SemCom-MultiCell-v0", num_cells=2)
    for i, s in enumerate((5, 9, 5)):
        np.testing.assert_array_equal(obs[i], single.reset(seed=s)[0])
    for bad in ([1, 2, 3], [1, 2, 3, 4.0], [1, 2, 3, -1], [True, 1, 2, 3]):
        with pytest.raises(ValueError, match=r"or a list of 4 entries, each None or an integer"):
            env.reset(seed=bad)


# ---------------------------------------------------------------------------------------------
# Vector-env keywords
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"chunk_size": 0}, "chunk_size"), ({"chunk_size": "2"}, "chunk_size"), ({"chunk_size": 1.5}, "chunk_size"),
    ({"num_threads": 0}, "num_threads"), ({"num_threads": "x"}, "num_threads"), ({"num_threads": 10**6}, "num_threads"),
    ({"num_envs": 0}, "num_envs"), ({"num_envs": 2.0}, "num_envs"), ({"num_envs": True}, "num_envs"),
    ({"render_mode": "video"}, "render_mode"),
])
def test_vector_keywords_are_validated_like_config_fields(kwargs, field):
    with pytest.raises(ConfigError, match=rf"^{field}=.* is invalid: must be"):
        make("vector", "SemCom-MultiCell-v0", num_cells=2, **kwargs)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_batch_far_beyond_memory_fails_at_once_with_its_estimate(env_id):
    with pytest.raises(ConfigError, match=r"^num_envs=1000000000000 is invalid: .* need at least [0-9.]+ GiB .* bytes per copy"):
        make("vector", env_id, num_envs=10**12, **SMALL[env_id])


@pytest.mark.parametrize("api", ["parallel", "aec", "gym"])
def test_bad_render_modes_name_the_allowed_ones(api):
    with pytest.raises(ConfigError, match=r"render_mode='video' is invalid: must be None or one of 'human'"):
        make(api, "SemCom-MultiCell-v0", render_mode="video")


def test_every_declared_field_has_a_test_value_of_the_wrong_type():
    """Guards the first test: a new kind of field must get its own bad values here."""
    for cls in SCENARIOS.values():
        for f in dataclasses.fields(cls.config_class):
            assert "spec" in f.metadata, f"{cls.__name__}.{f.name} has no declared allowed values"
            assert _bad_values(f.metadata["spec"])
