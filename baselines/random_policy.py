"""``random``: uniform over each agent's action space, the floor of every comparison (all scenarios)."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from semcom_envs.api.core import BatchedScenario


class RandomPolicy:
    """Independent uniform actions for every agent and copy, drawn from a seeded Generator."""

    name = "random"
    uses_global_state = False

    def __init__(self, scenario: BatchedScenario) -> None:
        self.agents = scenario.agents
        self.spaces = {a: scenario.action_space(a) for a in self.agents}
        for a, s in self.spaces.items():
            if not isinstance(s, (spaces.Discrete, spaces.MultiDiscrete, spaces.Box)):
                raise TypeError(f"random policy: unsupported action space {s} of agent {a!r}")
        self.rng = np.random.default_rng()

    def supports(self, env_id: str) -> bool:
        return True

    def reset(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        batch = next(iter(observations.values())).shape[0]
        return {a: self._sample(s, batch) for a, s in self.spaces.items()}

    def _sample(self, space: spaces.Space, batch: int) -> np.ndarray:
        if isinstance(space, spaces.Discrete):
            return space.start + self.rng.integers(0, space.n, size=batch)
        if isinstance(space, spaces.MultiDiscrete):
            return self.rng.integers(0, space.nvec, size=(batch, *space.nvec.shape))
        assert isinstance(space, spaces.Box)
        return self.rng.uniform(space.low, space.high, size=(batch, *space.shape)).astype(space.dtype)
