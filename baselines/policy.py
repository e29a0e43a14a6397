"""The interface shared by baselines and learning agents, so any policy runs on any scenario it supports."""

from __future__ import annotations

from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from semcom_envs.api.core import BatchedScenario


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


class ScenarioPolicy:
    """Base of the baselines written for one scenario class: the scenario check, ``supports`` and a no-op reset.

    Subclasses set ``scenario_class`` (and annotate ``scenario`` with it); deterministic ones keep the
    no-op :meth:`reset`.
    """

    name = "policy"
    uses_global_state = False
    scenario_class: ClassVar[type[BatchedScenario]]

    def __init__(self, scenario: BatchedScenario) -> None:
        if not isinstance(scenario, self.scenario_class):
            raise TypeError(f"{self.name} supports {self.scenario_class.env_id} only")
        self.scenario = scenario

    def supports(self, env_id: str) -> bool:
        """The scenario's own id (a subclass's, e.g. a later version of the same core, included)."""
        return env_id == self.scenario.env_id

    def reset(self, seed: int | None = None) -> None:
        """Deterministic policies: nothing to reset."""
