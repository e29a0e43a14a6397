"""Gymnasium ``VectorEnv`` over the batched core: ``gym.make_vec(id, num_envs=N,
vectorization_mode="vector_entry_point")``.

All copies step in one array call. Auto-reset follows Gymnasium 1.x ``NEXT_STEP`` semantics (as
``CartPoleVectorEnv``): the step after a copy's episode ended resets that copy, ignores its
action and returns its first observation with reward 0 and ``terminated = truncated = False``.
Infos are a dict of arrays: per-agent quantities ``(num_envs, num_agents)``, network-wide ones
``(num_envs,)``; on the auto-reset step a copy's entries describe a discarded slot, so mask them
with the previous step's ``terminated | truncated``. Copy ``i`` of ``reset(seed=s)`` follows the single env reset with ``seed=s + i``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from semcom_envs.api.core import BatchedScenario
from semcom_envs.api.joint import JointView
from semcom_envs.api.runner import DEFAULT_CHUNK_SIZE, BatchRunner, check_render_mode, copy_seeds
from semcom_envs.render import ansi_table


class SemComVectorEnv(VectorEnv):
    """Joint view of ``num_envs`` scenario copies stepped as one batch."""

    metadata: dict[str, Any] = {"render_modes": ["ansi", "rgb_array"], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, scenario: BatchedScenario, num_envs: int, render_mode: str | None = None,
                 chunk_size: int = DEFAULT_CHUNK_SIZE, num_threads: int | None = None) -> None:
        check_render_mode(render_mode, self.metadata["render_modes"])
        # The runner validates num_envs, chunk_size and num_threads (and the batch's memory) first.
        self._runner = BatchRunner(scenario, num_envs, chunk_size=chunk_size, num_threads=num_threads)
        self.scenario = scenario
        self.num_envs = self._runner.num_envs
        self.render_mode = render_mode
        self.joint = JointView(scenario)
        self.single_observation_space = self.joint.observation_space
        self.single_action_space = self.joint.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._autoreset = np.zeros(self.num_envs, dtype=bool)
        self._infos: dict[str, np.ndarray] | None = None

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """Reset every copy: ``seed`` an integer (copy i gets ``seed + i``), a list of ``num_envs``
        integers or Nones (None: a random seed), or None (each copy's next episode)."""
        seeds = copy_seeds(seed, self.num_envs, sequences=True)
        super().reset(seed=seeds[0] if isinstance(seed, (int, np.integer)) else None)
        obs = self._runner.reset(seeds, entropy=self.np_random)
        self._autoreset[:] = False
        self._infos = None
        return self.joint.observations(obs), {}

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        tr = self._runner.step(self.joint.split_actions(actions, self.num_envs))
        obs, infos = tr.observations, tr.infos
        reward = self.scenario.team_reward(tr.rewards)
        terminated = np.logical_and.reduce([tr.terminated[a] for a in self.scenario.agents])
        truncated = np.logical_and.reduce([tr.truncated[a] for a in self.scenario.agents])
        if self._autoreset.any():
            mask = self._autoreset
            self._runner.reset_copies(mask, obs)
            reward = np.where(mask, 0.0, reward)
            terminated = terminated & ~mask
            truncated = truncated & ~mask
        self._autoreset = terminated | truncated
        self._infos = infos
        return self.joint.observations(obs), reward, terminated, truncated, infos

    def state(self) -> np.ndarray:
        """(num_envs, *state_space.shape) global states of the current slot."""
        return self._runner.global_state()

    def close_extras(self, **kwargs: Any) -> None:
        """Stop the stepping threads."""
        self._runner.close()

    def render(self) -> tuple[Any, ...] | None:
        """One frame (``rgb_array``) or table (``ansi``) per copy."""
        if self.render_mode is None or self._runner.state is None:
            return None
        state, slots = self._runner.state, self._runner.state["t"]
        if self.render_mode == "rgb_array":
            return tuple(self.scenario.render_rgb(state, self._infos, i) for i in range(self.num_envs))
        return tuple(ansi_table(self.scenario.agents, self._infos, i, int(slots[i])) for i in range(self.num_envs))
