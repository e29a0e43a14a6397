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
from typing import Any
from concurrent.futures import ThreadPoolExecutor

import gymnasium
import numpy as np

from semcom_envs import streams
from semcom_envs.config import ConfigError, check_int
from semcom_envs.api.core import AgentArrays, BatchedScenario, State, Transition, action_batches, check_batch_rows
from semcom_envs.render import ansi_table

DEFAULT_CHUNK_SIZE = 2048
"""Copies per chunk: large enough to amortise Python overhead, small enough to stay in cache."""
MAX_THREADS = 256
"""Largest ``num_threads`` accepted for chunked stepping."""
MEMORY_PROBE_ABOVE = 4096
"""Batches larger than this are checked against the machine's memory before anything is allocated."""


def default_threads() -> int:
    """Threads for chunked stepping: the machine's cores, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


class BatchRunner:
    """Steps ``num_envs`` copies of a scenario and keeps their seeds and episode counters."""

    def __init__(self, scenario: BatchedScenario, num_envs: int, chunk_size: int = DEFAULT_CHUNK_SIZE,
                 num_threads: int | None = None) -> None:
        num_envs = check_int("num_envs", num_envs, 1)
        chunk_size = check_int("chunk_size", chunk_size, 1)
        if num_threads is not None:
            num_threads = check_int("num_threads", num_threads, 1, MAX_THREADS)
        check_batch_memory(scenario, num_envs)
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

    def reset(self, seed: int | Sequence[int | None] | None = None, entropy: np.random.Generator | None = None) -> AgentArrays:
        """Reset every copy. ``seed``: an int (copy i gets ``seed + i``), one seed (or None) per copy, or None.

        Without a seed, a runner that was seeded before starts the next episode of each copy; a
        fresh one draws its seeds from ``entropy`` (or from the OS), as do None entries of a list.
        """
        n = self.num_envs
        seeds = copy_seeds(seed, n, sequences=True)
        if seeds is not None and None not in seeds:
            self.base_keys = streams.seed_key(np.array(seeds, dtype=np.int64))
            self.episodes[:] = 0
        elif seeds is not None or self.base_keys is None:
            rng = entropy if entropy is not None else np.random.default_rng()
            drawn = rng.integers(0, streams.MAX_SEED, size=n, dtype=np.int64)
            for i, s in enumerate(seeds or []):
                drawn[i] = drawn[i] if s is None else s
            self.base_keys = streams.seed_key(drawn)
            self.episodes[:] = 0
        else:
            self.episodes += 1
        keys = streams.episode_key(self.base_keys, self.episodes)
        results = self._map(self.scenario.reset, [keys[a:b] for a, b in self._bounds])
        self._states = [state for state, _ in results]
        return _concat_agents([obs for _, obs in results])

    def reset_copies(self, mask: np.ndarray, observations: AgentArrays) -> None:
        """Start the next episode of the copies in ``mask``, writing their first observations in place. The last
        transition's rewards and infos keep their values (the reset copies' state arrays are replaced, not overwritten)."""
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
                    # A fresh array, not a write in place: the last transition's rewards and infos may be views of
                    # the state (SemCom-CDRL's reward and "return" info are its state's "return"), and its caller
                    # still reads them (a trainer's log, a vector env's infos).
                    fresh = state[name].copy()
                    fresh[idx[inside] - a] = value[inside]
                    state[name] = fresh

    def step(self, actions: Mapping[str, np.ndarray]) -> Transition:
        """Advance every copy by one slot.

        The runner keeps the new state (``state``); the returned transition's ``state`` field is
        the scenario's state only for a single chunk and empty otherwise, so callers read
        observations, rewards, flags and infos from it, never the state.
        """
        if self._states is None:
            raise RuntimeError("call reset() before step()")
        sc = self.scenario
        if len(self._states) == 1:  # the scenario validates the actions; only their number of rows is ours
            check_batch_rows(actions, sc.agents, self.num_envs)
            transition = sc.step(self._states[0], actions)
            self._states = [transition.state]
            return transition
        arrays = action_batches(actions, sc.agents, sc.action_space(sc.agents[0]), sc.action_labels, num_envs=self.num_envs)
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


def check_render_mode(render_mode: Any, modes: Sequence[str]) -> None:
    """Raise unless ``render_mode`` is None or one of ``modes``."""
    if render_mode is not None and (not isinstance(render_mode, str) or render_mode not in modes):
        raise ConfigError(f"render_mode={render_mode!r} is invalid: must be None or one of {', '.join(map(repr, modes))}")


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


def machine_memory_bytes() -> int | None:
    """Physical memory of this machine, or the cgroup (container) limit where lower; None where unknown."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = open(limit_file).read().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def check_batch_memory(scenario: BatchedScenario, num_envs: int) -> None:
    """Raise before allocating a batch whose state and observations alone exceed the machine's memory.

    The bytes per copy are measured on one copy's reset; the real footprint while stepping is a
    few times larger (temporaries, infos), so this catches only batches that cannot work at all.
    """
    if num_envs <= MEMORY_PROBE_ABOVE:
        return
    memory = machine_memory_bytes()
    if memory is None:
        return
    state, obs = scenario.reset(streams.episode_key(streams.seed_key(np.zeros(1, dtype=np.int64)), np.zeros(1, dtype=np.int64)))
    per_copy = sum(np.asarray(v).nbytes for v in state.values()) + sum(np.asarray(v).nbytes for v in obs.values())
    need = per_copy * num_envs
    if need > memory:
        raise ConfigError(f"num_envs={num_envs} is invalid: {num_envs} copies of {scenario.env_id} need at least "
                          f"{need / 2**30:.1f} GiB for their state and observations alone ({per_copy} bytes per copy), "
                          f"more than this machine's {memory / 2**30:.1f} GiB; use num_envs <= {memory // max(per_copy, 1)}")


def _is_int(x: object) -> bool:
    """True for Python and numpy integers, not for bools."""
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def copy_seeds(seed: Any, num_envs: int, *, sequences: bool) -> list[int | None] | None:
    """The seed of every copy from a ``reset(seed=...)`` argument, or None for "no seed".

    Follows Gymnasium: a single environment takes ``None`` or an integer ``>= 0``; a vector
    environment also takes one entry per copy (an integer or None, which draws a random seed), and
    an integer ``s`` seeds copy ``i`` with ``s + i``. Python and numpy integers are integers; bools,
    floats and strings are not. Every copy's seed must be at most ``streams.MAX_SEED``.
    """
    if seed is None:
        return None
    if _is_int(seed):
        s, last = int(seed), int(seed) + num_envs - 1
        if s < 0 or last > streams.MAX_SEED:
            top = streams.MAX_SEED - (num_envs - 1)
            extra = f" (copy i of the {num_envs} copies gets seed + i)" if num_envs > 1 else ""
            raise ValueError(f"seed={seed!r} is invalid: must be None or an integer in [0, {top}]{extra}")
        return [s + i for i in range(num_envs)]
    allowed = f"None or an integer in [0, {streams.MAX_SEED - (num_envs - 1)}]"
    if sequences:
        allowed += f", or a list of {num_envs} entries, each None or an integer in [0, {streams.MAX_SEED}]"
    if not sequences or not isinstance(seed, (list, tuple, np.ndarray)) or len(seed) != num_envs:
        raise ValueError(f"seed={seed!r} is invalid: must be {allowed}")
    if not all(s is None or (_is_int(s) and 0 <= s <= streams.MAX_SEED) for s in seed):
        raise ValueError(f"seed={seed!r} is invalid: must be {allowed}")
    return [None if s is None else int(s) for s in seed]
