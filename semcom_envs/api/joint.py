"""The joint (centralised) view of a multi-agent scenario: one observation, one action.

Used by the Gymnasium single and vector adapters: the joint observation is the agents'
observations concatenated in agent order, the joint action the agents' actions concatenated
(``Discrete`` agents become entries of a ``MultiDiscrete``, ``MultiDiscrete`` and ``Box`` agents are
flattened), and the joint reward is the scenario's ``team_reward``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium import spaces

from semcom_envs.api.core import ActionError, AgentArrays, BatchedScenario, describe_value


class JointView:
    """Concatenates and splits per-agent arrays of one scenario (batched: leading axis B)."""

    def __init__(self, scenario: BatchedScenario) -> None:
        self.agents = scenario.agents
        obs_spaces = [scenario.observation_space(a) for a in self.agents]
        act_spaces = [scenario.action_space(a) for a in self.agents]
        if not all(isinstance(s, spaces.Box) and len(s.shape) == 1 for s in obs_spaces):
            raise TypeError("the joint view needs 1-D Box observation spaces")
        self.observation_space = spaces.Box(
            np.concatenate([s.low for s in obs_spaces]), np.concatenate([s.high for s in obs_spaces]),
            dtype=obs_spaces[0].dtype,
        )
        self._slices: list[tuple[slice, bool]] = []
        start = 0
        if all(isinstance(s, (spaces.Discrete, spaces.MultiDiscrete)) for s in act_spaces):
            parts = []
            for s in act_spaces:
                discrete = isinstance(s, spaces.Discrete)
                if discrete and s.start != 0:  # type: ignore[union-attr]
                    raise TypeError("the joint view needs Discrete spaces that start at 0")
                nvec = np.atleast_1d(s.n if discrete else s.nvec)  # type: ignore[union-attr]
                parts.append(nvec)
                self._slices.append((slice(start, start + len(nvec)), discrete))
                start += len(nvec)
            self.action_space: spaces.Space = spaces.MultiDiscrete(np.concatenate(parts).astype(np.int64))
        elif all(isinstance(s, spaces.Box) and len(s.shape) == 1 for s in act_spaces):
            for s in act_spaces:
                self._slices.append((slice(start, start + s.shape[0]), False))
                start += s.shape[0]
            self.action_space = spaces.Box(np.concatenate([s.low for s in act_spaces]),
                                           np.concatenate([s.high for s in act_spaces]),
                                           dtype=act_spaces[0].dtype)
        else:
            raise TypeError("the joint view needs all-discrete or all-Box 1-D action spaces")
        self._width = start

    def observations(self, obs: AgentArrays) -> np.ndarray:
        """(B, sum obs dims) joint observation."""
        return np.concatenate([obs[a] for a in self.agents], axis=-1)

    def split_actions(self, joint: Any, num_envs: int | None = None) -> AgentArrays:
        """Per-agent action batches of a ``(B, sum action dims)`` joint action (``B = num_envs`` where given).

        The joint array must be numeric (not bool, complex, strings or None) and of that shape;
        each agent's part is then validated by the scenario, whose errors name the agent.
        """
        rows = "num_envs" if num_envs is None else str(num_envs)
        allowed = f"a numeric array of shape ({rows}, {self._width}) in {self.action_space}"
        if num_envs is None:
            allowed = f"a numeric array of shape ({self._width},) in {self.action_space}"
        if joint is None or isinstance(joint, (str, bytes, Mapping)):
            raise ActionError(f"joint action is {describe_value(joint)}: must be {allowed}")
        try:
            joint = np.asarray(joint)
        except (TypeError, ValueError):
            raise ActionError(f"joint action {describe_value(joint)} is not an array: must be {allowed}") from None
        if joint.dtype.kind not in "iuf":
            raise ActionError(f"joint action has dtype {joint.dtype} ({describe_value(joint)}): must be {allowed}")
        expected = (1 if num_envs is None else num_envs, self._width)
        batch = joint if num_envs is not None else joint[None]
        if batch.shape != expected:
            raise ActionError(f"joint action has shape {joint.shape}: must be {allowed}")
        return {a: batch[:, sl][:, 0] if scalar else batch[:, sl] for a, (sl, scalar) in zip(self.agents, self._slices)}
