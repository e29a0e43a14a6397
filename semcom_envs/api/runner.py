"""Seeds, episode counters and the current state of a batch of copies: shared by every adapter.

All four adapters (PettingZoo parallel and AEC, Gymnasium single and vector) hold one
:class:`BatchRunner`, so seeding and auto-reset behave identically everywhere: copy ``i`` of a batch
seeded with ``s`` is the single environment seeded with ``s + i`` (see :mod:`semcom_envs.streams`).

Large batches are stepped in chunks of ``chunk_size`` copies on ``num_threads`` threads. Because
every copy's randomness depends only on its own key (counter-based streams) and the core is pure,
chunking changes nothing in the results; it keeps each chunk's arrays in cache and lets numpy's
GIL-free loops use several cores.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import gymnasium
import numpy as np

from semcom_envs import streams
from semcom_envs.api.core import AgentArrays, BatchedScenario, State, Transition
from semcom_envs.render import ansi_table

DEFAULT_CHUNK_SIZE = 2048
"""Copies per chunk: large enough to amortise Python overhead, small enough to stay in cache."""


def default_threads() -> int:
    """Threads for chunked stepping: the machine's cores, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


class BatchRunner:
    """Steps ``num_envs`` copies of a scenario and keeps their seeds and episode counters."""

    def __init__(self, scenario: BatchedScenario, num_envs: int, chunk_size: int = DEFAULT_CHUNK_SIZE,
                 num_threads: int | None = None) -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size={chunk_size} is invalid: must be an integer >= 1")
        self.scenario = scenario
        self.num_envs = num_envs
        self.base_keys: np.ndarray | None = None
        self.episodes = np.zeros(num_envs, dtype=np.int64)
        self._bounds = [(i, min(i + chunk_size, num_envs)) for i in range(0, num_envs, chunk_size)]
        self._states: list[State] | None = None
        threads = default_threads() if num_threads is None else num_threads
        self._pool = ThreadPoolExecutor(threads) if threads > 1 and len(self._bounds) > 1 else None

    @property
    def state(self) -> State | None:
        """The whole batch's state (chunks concatenated: for inspection, not for the hot path)."""
        if self._states is None:
            return None
        if len(self._states) == 1:
            return self._states[0]
        return {name: np.concatenate([s[name] for s in self._states]) for name in self._states[0]}

    def _map(self, fn, *per_chunk):  # type: ignore[no-untyped-def]
        """``fn`` applied to each chunk's arguments, on the thread pool when there is one."""
        if self._pool is None:
            return [fn(*args) for args in zip(*per_chunk)]
        return list(self._pool.map(fn, *per_chunk))

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
        keys = streams.episode_key(self.base_keys, self.episodes)
        results = self._map(self.scenario.reset, [keys[a:b] for a, b in self._bounds])
        self._states = [state for state, _ in results]
        return _concat_agents([obs for _, obs in results])

    def reset_copies(self, mask: np.ndarray, observations: AgentArrays) -> None:
        """Start the next episode of the copies in ``mask``, writing their first observations in place."""
        assert self._states is not None and self.base_keys is not None
        idx = np.flatnonzero(mask)
        self.episodes[idx] += 1
        sub_state, sub_obs = self.scenario.reset(streams.episode_key(self.base_keys[idx], self.episodes[idx]))
        for agent, value in sub_obs.items():
            observations[agent][idx] = value
        for (a, b), state in zip(self._bounds, self._states):
            inside = (idx >= a) & (idx < b)
            if inside.any():
                for name, value in sub_state.items():
                    state[name][idx[inside] - a] = value[inside]

    def step(self, actions: Mapping[str, np.ndarray]) -> Transition:
        """Advance every copy by one slot.

        The runner keeps the new state (``state``); the returned transition's ``state`` field is
        the scenario's state only for a single chunk and empty otherwise, so callers read
        observations, rewards, flags and infos from it, never the state.
        """
        if self._states is None:
            raise RuntimeError("call reset() before step()")
        if len(self._states) == 1:
            transition = self.scenario.step(self._states[0], actions)
            self._states = [transition.state]
            return transition
        arrays = {agent: np.asarray(value) for agent, value in actions.items()}
        chunk_actions = [{agent: value[a:b] for agent, value in arrays.items()} for a, b in self._bounds]
        parts = self._map(self.scenario.step, self._states, chunk_actions)
        self._states = [p.state for p in parts]
        return Transition(
            state={},  # the chunked state lives in the runner; see ``state``
            observations=_concat_agents([p.observations for p in parts]),
            rewards=_concat_agents([p.rewards for p in parts]),
            terminated=_concat_agents([p.terminated for p in parts]),
            truncated=_concat_agents([p.truncated for p in parts]),
            infos=_concat_agents([p.infos for p in parts]),
        )

    def snapshot(self) -> dict[str, object]:
        """Copies of the seeds, episode counters and chunk states: enough to continue exactly later."""
        if self._states is None or self.base_keys is None:
            raise RuntimeError("call reset() before snapshot()")
        return {"base_keys": self.base_keys.copy(), "episodes": self.episodes.copy(),
                "states": [{name: v.copy() for name, v in s.items()} for s in self._states]}

    def restore(self, snapshot: Mapping[str, object]) -> None:
        """Continue from a :meth:`snapshot` of a runner with the same scenario, batch and chunking."""
        states = snapshot["states"]
        assert isinstance(states, list)
        if len(states) != len(self._bounds) or sum(len(s["t"]) for s in states) != self.num_envs:
            raise ValueError(f"snapshot holds {sum(len(s['t']) for s in states)} copies in {len(states)} chunk(s); "
                             f"this runner has {self.num_envs} in {len(self._bounds)}")
        self.base_keys = np.array(snapshot["base_keys"], dtype=np.uint64)
        self.episodes = np.array(snapshot["episodes"], dtype=np.int64)
        self._states = [{name: v.copy() for name, v in s.items()} for s in states]

    def global_state(self) -> np.ndarray:
        """(num_envs, *state_space.shape) global state of the current slot."""
        if self._states is None:
            raise RuntimeError("call reset() before state()")
        return np.concatenate(self._map(self.scenario.global_state, self._states))

    def close(self) -> None:
        """Stop the worker threads."""
        if self._pool is not None:
            self._pool.shutdown()


def render_single(mode: str | None, scenario: BatchedScenario, runner: BatchRunner,
                  infos: Mapping[str, np.ndarray] | None) -> np.ndarray | str | None:
    """``render()`` of the single-copy adapters: a picture, a text table, or the table printed."""
    if mode is None:
        gymnasium.logger.warn("render() called without a render_mode; pass render_mode= when making the env")
        return None
    state = runner.state
    if state is None:
        raise RuntimeError("call reset() before render()")
    if mode == "rgb_array":
        return scenario.render_rgb(state, infos, 0)
    text = ansi_table(scenario.agents, infos, 0, int(state["t"][0]))
    if mode == "human":
        print(text, end="")
        return None
    return text


def _concat_agents(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Chunk results joined along the batch axis (no copy for a single chunk)."""
    if len(parts) == 1:
        return parts[0]
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def _is_int(x: object) -> bool:
    """True for Python and numpy integers, not for bools."""
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)
