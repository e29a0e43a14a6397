"""PettingZoo's action-mask convention, for any scenario whose agents act in a ``Discrete`` space.

PettingZoo's classic environments pass each agent's legal actions along with its observation, as
``{"observation": obs, "action_mask": mask}`` with ``mask[i] == 1`` when action ``start + i`` is
legal, and libraries built around them read it there (tianshou's ``PettingZooEnv`` turns it into the
``mask`` its DQN obeys; RLlib's action-masking modules read the same keys).
:class:`ActionMaskWrapper` gives that view of a :class:`~semcom_envs.api.parallel.SemComParallelEnv`:

>>> from semcom_envs import multicell_v1
>>> from semcom_envs.api.action_mask import ActionMaskWrapper
>>> env = ActionMaskWrapper(multicell_v1.parallel_env(num_cells=3, flat_actions=True))
>>> obs, infos = env.reset(seed=0)
>>> sorted(obs["bs_0"]), obs["bs_0"]["action_mask"].shape
(['action_mask', 'observation'], (140,))

Every action of every scenario in the suite is legal in every state, so the mask is all ones: the
wrapper changes the observations' layout, never the dynamics. It accepts ``Discrete`` action spaces
only (PettingZoo's convention has no ``MultiDiscrete`` form); SemCom-MultiCell has a ``Discrete``
variant (``flat_actions=True``). The AEC view is the usual one:
``semcom_envs.api.parallel.aec_from_parallel(ActionMaskWrapper(env))``.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from pettingzoo import ParallelEnv
from pettingzoo.utils.wrappers import BaseParallelWrapper


class ActionMaskWrapper(BaseParallelWrapper):
    """Observations as ``{"observation": obs, "action_mask": int8 ones of length n}`` for ``Discrete(n)`` agents.

    Everything else (agents, rewards, flags, infos, ``state()``, rendering, the scenario) passes
    through unchanged. Raises ``TypeError`` naming the agent and its space if an agent's action
    space is not ``Discrete``.
    """

    def __init__(self, env: ParallelEnv) -> None:
        super().__init__(env)
        for agent in env.possible_agents:
            space = env.action_space(agent)
            if not isinstance(space, gymnasium.spaces.Discrete):
                raise TypeError(f"agent {agent!r} acts in {space}: the action-mask convention needs Discrete actions "
                                "(SemCom-MultiCell offers them with flat_actions=True)")
        self.observation_spaces = {agent: gymnasium.spaces.Dict({
            "observation": env.observation_space(agent),
            "action_mask": gymnasium.spaces.Box(0, 1, (int(env.action_space(agent).n),), dtype=np.int8),
        }) for agent in env.possible_agents}
        self.action_spaces = {agent: env.action_space(agent) for agent in env.possible_agents}

    def observation_space(self, agent: str) -> gymnasium.spaces.Dict:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> gymnasium.Space:
        return self.action_spaces[agent]

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        obs, infos = self.env.reset(seed=seed, options=options)
        return self._masked(obs), infos

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        obs, rewards, terms, truncs, infos = self.env.step(actions)
        return self._masked(obs), rewards, terms, truncs, infos

    def _masked(self, obs: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
        """Each agent's observation with a fresh all-ones mask (every action is always legal)."""
        return {agent: {"observation": o, "action_mask": np.ones(self.action_spaces[agent].n, dtype=np.int8)}
                for agent, o in obs.items()}
