"""Gymnasium single-environment adapter: the joint (centralised) view of a scenario.

This is what ``gym.make("SemCom-...-v0")`` returns and what single-agent libraries such as
stable-baselines3 train on: the observation is all agents' observations concatenated, the action
all agents' actions (a ``MultiDiscrete`` for discrete agents), the reward the scenario's team
reward as a Python float, and ``terminated``/``truncated`` Python bools (SB3's ``check_env`` is
stricter than Gymnasium's on these types).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

from semcom_envs.api.core import BatchedScenario
from semcom_envs.api.joint import JointView
from semcom_envs.api.parallel import RENDER_MODES
from semcom_envs.api.runner import BatchRunner, check_render_mode, copy_seeds, render_single


class SemComGymEnv(gymnasium.Env):
    """Joint view of one scenario copy; ``state()`` gives the global (full-information) state.

    ``info`` holds the scenario's per-step quantities of this copy: per-agent ones as arrays in
    agent order, network-wide ones as floats.
    """

    metadata: dict[str, Any] = {"render_modes": RENDER_MODES, "render_fps": 4}

    def __init__(self, scenario: BatchedScenario, render_mode: str | None = None) -> None:
        check_render_mode(render_mode, RENDER_MODES)
        self.scenario = scenario
        self.render_mode = render_mode
        self.joint = JointView(scenario)
        self.observation_space = self.joint.observation_space
        self.action_space = self.joint.action_space
        self.state_space = scenario.state_space
        self._runner = BatchRunner(scenario, 1)
        self._infos: dict[str, np.ndarray] | None = None
        self._episode_over = False

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """Start an episode; ``seed`` (None or an integer >= 0, Python or numpy) fixes it entirely."""
        seeds = copy_seeds(seed, 1, sequences=False)
        super().reset(seed=None if seeds is None else seeds[0])
        obs = self._runner.reset(seeds, entropy=self.np_random)
        self._infos = None
        self._episode_over = False
        return self.joint.observations(obs)[0], {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        """One slot of the joint action. After the episode ended (terminated or truncated), step
        raises until ``reset()``, as the PettingZoo adapters do (the vector env auto-resets instead)."""
        if self._episode_over:
            raise RuntimeError("the episode is over (terminated or truncated): call reset() before step()")
        tr = self._runner.step(self.joint.split_actions(action))
        self._infos = tr.infos
        reward = float(self.scenario.team_reward(tr.rewards)[0])
        terminated = all(bool(v[0]) for v in tr.terminated.values())
        truncated = all(bool(v[0]) for v in tr.truncated.values())
        self._episode_over = terminated or truncated
        info = {k: (v[0] if v.ndim == 2 else v[0].item()) for k, v in tr.infos.items()}
        if self.render_mode == "human":
            self.render()
        return self.joint.observations(tr.observations)[0], reward, terminated, truncated, info

    def state(self) -> np.ndarray:
        """Global state of the current slot (the scenario's ``state_space``)."""
        return self._runner.global_state()[0]

    def render(self) -> np.ndarray | str | None:
        return render_single(self.render_mode, self.scenario, self._runner, self._infos)
