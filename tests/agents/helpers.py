"""Test scenarios shared by the agent tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from semcom_envs.api.core import BatchedScenario, State, Transition


class ShiftedRewards(BatchedScenario):
    """``scenario`` with ``shift`` added to every reward of the first ``copies`` rows of the batch.

    A trainer of several runs steps the runs' copies in one batch, run-major (run 0's copies
    first); shifting run 0's rewards changes what run 0 learns and nothing that any other run
    sees, so the other runs must not change at all.
    """

    def __init__(self, scenario: BatchedScenario, copies: int, shift: float = 1.0) -> None:
        self.inner, self.copies, self.shift = scenario, copies, shift
        for name in ("env_id", "pettingzoo_name", "config_class", "presets", "metrics", "primary_metric",
                     "higher_is_better", "reference", "agents", "config", "state_space", "action_labels"):
            setattr(self, name, getattr(scenario, name))

    def observation_space(self, agent: str) -> Any:
        return self.inner.observation_space(agent)

    def action_space(self, agent: str) -> Any:
        return self.inner.action_space(agent)

    def reset(self, keys: np.ndarray) -> tuple[State, dict[str, np.ndarray]]:
        return self.inner.reset(keys)

    def step(self, state: State, actions: Mapping[str, np.ndarray]) -> Transition:
        tr = self.inner.step(state, actions)
        first = np.arange(len(state["t"])) < self.copies
        return tr._replace(rewards={a: r + self.shift * first for a, r in tr.rewards.items()})

    def global_state(self, state: State) -> np.ndarray:
        return self.inner.global_state(state)

    def step_metrics(self, team_reward: np.ndarray, infos: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self.inner.step_metrics(team_reward, infos)
