"""The interface shared by baselines and learning agents, so any policy runs on any scenario it supports."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Policy(Protocol):
    """A batched policy: acts for a whole batch of environment copies in one call.

    ``observations[agent]`` has shape ``(batch, *obs_shape)``; the returned ``actions[agent]`` has
    shape ``(batch, *action_shape)``. ``global_state`` (``(batch, *state_shape)``) is passed to every
    policy, and only those with ``uses_global_state = True`` may read it: they are full-information
    references, shown as such on the leaderboard.
    """

    name: str
    uses_global_state: bool

    def supports(self, env_id: str) -> bool:
        """Whether this policy can act in the scenario ``env_id``."""
        ...

    def reset(self, seed: int | None = None) -> None:
        """Start a new evaluation; ``seed`` fixes any randomness of the policy."""
        ...

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        """Actions of all agents for every copy of the batch."""
        ...
