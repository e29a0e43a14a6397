"""Every scenario stays finite over the whole documented range of its configuration.

Configurations are drawn from every field's declared range (``tests/strategies.py``, the ranges of
``docs/configuration.md``); a batch of copies is stepped with random, lowest and highest actions,
and every observation, reward, info and global state must be finite, and observations and states
inside their spaces. ``SEMCOM_RANGE_EXAMPLES`` sets the number of configurations per scenario (CI:
the default; a search for failures: thousands); ``SEMCOM_RANGE_RANDOM=1`` draws new examples on
every run instead of the fixed (derandomised) sequence.
"""

from __future__ import annotations

import os

import gymnasium
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from semcom_envs.api.runner import BatchRunner
from semcom_envs.config import ConfigError
from semcom_envs.scenarios import SCENARIOS
from tests.strategies import config_kwargs

EXAMPLES = int(os.environ.get("SEMCOM_RANGE_EXAMPLES", "40"))
BATCH, SLOTS = 4, 3
"""Copies per configuration and slots stepped (copies whose episode ended, e.g. ``max_steps=1``, restart)."""


def _actions(space: gymnasium.Space, mode: str, rng: np.random.Generator, batch: int) -> np.ndarray:
    """A batch of actions of ``space``: uniform random, or all at the lowest / highest value."""
    if isinstance(space, gymnasium.spaces.Box):
        low, high = np.broadcast_to(space.low, space.shape), np.broadcast_to(space.high, space.shape)
        pick = {"low": low, "high": high}.get(mode)
        value = np.broadcast_to(pick, (batch, *space.shape)) if pick is not None else rng.uniform(low, high, (batch, *space.shape))
        return value.astype(space.dtype)
    if isinstance(space, gymnasium.spaces.Discrete):
        n = {"low": 0, "high": int(space.n) - 1}.get(mode)
        value = np.full(batch, n) if n is not None else rng.integers(0, space.n, batch)
        return value.astype(np.int64) + int(space.start)
    nvec = space.nvec
    pick = {"low": np.zeros_like(nvec), "high": nvec - 1}.get(mode)
    value = np.broadcast_to(pick, (batch, *nvec.shape)) if pick is not None else rng.integers(0, nvec, (batch, *nvec.shape))
    return value.astype(np.int64)


def _assert_finite(where: str, arrays: dict[str, np.ndarray]) -> None:
    for name, value in arrays.items():
        value = np.asarray(value)
        if value.dtype.kind in "fc":
            bad = ~np.isfinite(value)
            assert not bad.any(), f"{where} {name!r} is not finite: {value[bad][:4]} of {value.shape}"


def _assert_inside(where: str, space: gymnasium.spaces.Box, value: np.ndarray) -> None:
    assert value.dtype == space.dtype, f"{where}: dtype {value.dtype}, space {space.dtype}"
    outside = (value < space.low) | (value > space.high)
    assert not outside.any(), f"{where} leaves its space: {value[outside][:4]}"


@pytest.mark.parametrize("env_id", list(SCENARIOS))
def test_every_documented_configuration_gives_finite_values(env_id: str) -> None:
    cls = SCENARIOS[env_id]

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("SEMCOM_RANGE_RANDOM"), database=None,
              suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
    @given(kwargs=config_kwargs(cls), mode=st.sampled_from(["random", "low", "high"]), seed=st.integers(0, 2**32))
    def check(kwargs: dict, mode: str, seed: int) -> None:
        try:
            scenario = cls(**kwargs)
        except ConfigError:  # a constraint checked by the scenario (e.g. no shipped MyersonNet for this N)
            assume(False)
        runner = BatchRunner(scenario, BATCH, num_threads=1)
        rng = np.random.default_rng(seed)
        obs = runner.reset(seed)
        for slot in range(SLOTS):
            for agent in scenario.agents:
                _assert_inside(f"slot {slot} observation of {agent}", scenario.observation_space(agent), obs[agent])
            _assert_finite(f"slot {slot} observation", obs)
            state = runner.global_state()
            _assert_finite(f"slot {slot}", {"global state": state})
            _assert_inside(f"slot {slot} global state", scenario.state_space, state)
            actions = {a: _actions(scenario.action_space(a), mode, rng, BATCH) for a in scenario.agents}
            tr = runner.step(actions)
            _assert_finite(f"slot {slot} reward", tr.rewards)
            _assert_finite(f"slot {slot} info", tr.infos)
            metrics = scenario.step_metrics(scenario.team_reward(tr.rewards), tr.infos)
            _assert_finite(f"slot {slot} metric", metrics)
            obs = tr.observations
            done = np.logical_and.reduce([tr.terminated[a] | tr.truncated[a] for a in scenario.agents])
            if done.any():
                runner.reset_copies(done, obs)
        runner.close()

    check()
