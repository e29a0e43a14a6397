"""Seeds, episode counters and the current state of a batch of copies: shared by every adapter.

All four adapters (PettingZoo parallel and AEC, Gymnasium single and vector) hold one
:class:`BatchRunner`, so seeding and auto-reset behave identically everywhere: copy ``i`` of a batch
seeded with ``s`` is the single environment seeded with ``s + i`` (see :mod:`semcom_envs.streams`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from semcom_envs import streams
from semcom_envs.api.core import AgentArrays, BatchedScenario, State, Transition


class BatchRunner:
    """Steps ``num_envs`` copies of a scenario and keeps their seeds and episode counters."""

    def __init__(self, scenario: BatchedScenario, num_envs: int) -> None:
        self.scenario = scenario
        self.num_envs = num_envs
        self.base_keys: np.ndarray | None = None
        self.episodes = np.zeros(num_envs, dtype=np.int64)
        self.state: State | None = None

    def reset(self, seed: int | Sequence[int] | None = None, entropy: np.random.Generator | None = None) -> AgentArrays:
        """Reset every copy. ``seed``: an int (copy i gets ``seed + i``), one seed per copy, or None.

        Without a seed, a runner that was seeded before starts the next episode of each copy; a
        fresh one draws its seeds from ``entropy`` (or from the OS).
        """
        n = self.num_envs
        if seed is not None:
            seeds = [int(seed) + i for i in range(n)] if _is_int(seed) else list(seed)  # type: ignore[arg-type]
            if len(seeds) != n or not all(_is_int(s) and 0 <= s <= streams.MAX_SEED for s in seeds):
                raise ValueError(f"seed={seed!r} is invalid: must be an integer in [0, {streams.MAX_SEED}] "
                                 f"or a sequence of {n} such integers")
            self.base_keys = streams.seed_key(np.array(seeds, dtype=np.int64))
            self.episodes[:] = 0
        elif self.base_keys is None:
            rng = entropy if entropy is not None else np.random.default_rng()
            self.base_keys = streams.seed_key(rng.integers(0, streams.MAX_SEED, size=n, dtype=np.int64))
            self.episodes[:] = 0
        else:
            self.episodes += 1
        self.state, obs = self.scenario.reset(streams.episode_key(self.base_keys, self.episodes))
        return obs

    def reset_copies(self, mask: np.ndarray, observations: AgentArrays) -> None:
        """Start the next episode of the copies in ``mask``, writing their first observations in place."""
        assert self.state is not None and self.base_keys is not None
        idx = np.flatnonzero(mask)
        self.episodes[idx] += 1
        sub_state, sub_obs = self.scenario.reset(streams.episode_key(self.base_keys[idx], self.episodes[idx]))
        for name, value in sub_state.items():
            self.state[name][idx] = value
        for agent, value in sub_obs.items():
            observations[agent][idx] = value

    def step(self, actions: Mapping[str, np.ndarray]) -> Transition:
        """Advance every copy by one slot."""
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        transition = self.scenario.step(self.state, actions)
        self.state = transition.state
        return transition

    def global_state(self) -> np.ndarray:
        """(num_envs, *state_space.shape) global state of the current slot."""
        if self.state is None:
            raise RuntimeError("call reset() before state()")
        return self.scenario.global_state(self.state)


def _is_int(x: object) -> bool:
    """True for Python and numpy integers, not for bools."""
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)

