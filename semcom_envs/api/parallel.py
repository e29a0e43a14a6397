"""PettingZoo adapters: a ``ParallelEnv`` over a batch of one, and the AEC env derived from it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium
import numpy as np
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec_wrapper
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from semcom_envs.api.core import ActionError, BatchedScenario, action_batches, describe_value
from semcom_envs.config import ConfigError, check_int
from semcom_envs.api.runner import BatchRunner, check_render_mode, copy_seeds, render_single

RENDER_MODES = ["human", "ansi", "rgb_array"]


class SemComParallelEnv(ParallelEnv):
    """PettingZoo parallel API for any semcom scenario (one environment copy).

    Observations are float32 arrays of each agent's ``observation_space``; rewards are Python floats;
    every agent terminates/truncates on the same step, after which ``agents`` is empty. ``state()``
    returns the scenario's global state. ``render_mode``: ``"ansi"`` returns the per-step table,
    ``"human"`` prints it, ``"rgb_array"`` returns the scenario's picture.
    """

    metadata: dict[str, Any] = {"render_modes": RENDER_MODES, "is_parallelizable": True, "render_fps": 4}

    def __init__(self, scenario: BatchedScenario, render_mode: str | None = None) -> None:
        check_render_mode(render_mode, RENDER_MODES)
        self.scenario = scenario
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "name": scenario.env_id}
        self.possible_agents = list(scenario.agents)
        self.agents: list[str] = []
        self.state_space = scenario.state_space
        self.observation_spaces = {a: scenario.observation_space(a) for a in self.possible_agents}
        self.action_spaces = {a: scenario.action_space(a) for a in self.possible_agents}
        self._runner = BatchRunner(scenario, 1)
        self._infos: dict[str, np.ndarray] | None = None

    def observation_space(self, agent: str) -> gymnasium.Space:
        return self.scenario.observation_space(agent)

    def action_space(self, agent: str) -> gymnasium.Space:
        return self.scenario.action_space(agent)

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        """Start an episode; ``seed`` (None or an integer >= 0, Python or numpy) fixes it entirely."""
        obs = self._runner.reset(copy_seeds(seed, 1, sequences=False))
        self.agents = list(self.possible_agents)
        self._infos = None
        return {a: obs[a][0] for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents:
            raise RuntimeError("the episode is over: call reset() before step()")
        sc = self.scenario
        tr = self._runner.step(action_batches(actions, sc.agents, sc.action_space(sc.agents[0]), sc.action_labels, single=True))
        self._infos = tr.infos
        agents = self.agents
        obs = {a: tr.observations[a][0] for a in agents}
        rewards = {a: float(tr.rewards[a][0]) for a in agents}
        terms = {a: bool(tr.terminated[a][0]) for a in agents}
        truncs = {a: bool(tr.truncated[a][0]) for a in agents}
        infos = self._agent_infos(tr.infos)
        if all(terms[a] or truncs[a] for a in agents):
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return obs, rewards, terms, truncs, infos

    def _agent_infos(self, infos: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
        """Per-agent info dicts of copy 0: per-agent quantities by position, network ones shared."""
        per_agent = [(k, v[0].tolist()) for k, v in infos.items() if v.ndim == 2]
        shared = {k: v[0].item() for k, v in infos.items() if v.ndim == 1}
        return {a: {**{k: values[i] for k, values in per_agent}, **shared} for i, a in enumerate(self.possible_agents)}

    def state(self) -> np.ndarray:
        return self._runner.global_state()[0]

    def render(self, *args: Any) -> np.ndarray | str | None:
        """Render per ``render_mode`` (extra positional arguments, as RLlib passes, are ignored)."""
        return render_single(self.render_mode, self.scenario, self._runner, self._infos)

    def close(self) -> None:
        """Nothing to release (rendering closes its figures)."""


class SemComAECEnv(parallel_to_aec_wrapper):
    """PettingZoo's AEC view of a :class:`SemComParallelEnv` (agents act in turn; the joint step runs
    after the last one) that validates each action at the ``step()`` that receives it.

    PettingZoo's own conversion stores actions until the cycle ends, so a bad action of the first
    agent would surface at the last agent's step, and again at every later step. Here a bad action
    raises an :class:`~semcom_envs.api.core.ActionError` naming the agent at once and is not stored:
    the same agent is still to act. A done agent's action must be ``None`` (PettingZoo's rule).
    """

    env: SemComParallelEnv

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            if action is not None:
                raise ActionError(f"agent {agent!r} is done (terminated or truncated): its action must be None, "
                                  f"got {describe_value(action)}")
        else:
            self.env.scenario.check_action(agent, action)
        super().step(action)


def aec_from_parallel(parallel_env: SemComParallelEnv) -> AECEnv:
    """The AEC view of ``parallel_env``, order-enforced, validating each action as it arrives."""
    return OrderEnforcingWrapper(SemComAECEnv(parallel_env))


def pettingzoo_factories(scenario_cls: Callable[..., BatchedScenario]) -> tuple[Callable[..., AECEnv], Callable[..., SemComParallelEnv]]:
    """``env(**kwargs)`` (AEC) and ``parallel_env(**kwargs)`` constructors of one scenario.

    Keyword arguments are the scenario's config fields plus ``render_mode``; PettingZoo's
    ``max_cycles`` is accepted as an alias of ``max_steps``.
    """

    def parallel_env(render_mode: str | None = None, max_cycles: int | None = None, **kwargs: Any) -> SemComParallelEnv:
        if max_cycles is not None:
            if "max_steps" in kwargs:
                raise ConfigError("pass max_steps or its PettingZoo alias max_cycles, not both")
            kwargs["max_steps"] = check_int("max_cycles", max_cycles, 1)
        return SemComParallelEnv(scenario_cls(**kwargs), render_mode=render_mode)

    def env(**kwargs: Any) -> AECEnv:
        return aec_from_parallel(parallel_env(**kwargs))

    env_id, config = getattr(scenario_cls, "env_id", scenario_cls.__name__), getattr(scenario_cls, "config_class", None)
    arguments = (f"Keyword arguments: the fields of {config.__name__ if config else 'its config'} (`semcom list` shows each "
                 "with its default and allowed values; bad values raise naming the field), ``render_mode`` (None or "
                 f"one of {', '.join(RENDER_MODES)}) and ``max_cycles``, PettingZoo's alias of ``max_steps``.")
    parallel_env.__doc__ = f"PettingZoo ``ParallelEnv`` of {env_id} (every agent acts each step).\n\n{arguments}"
    env.__doc__ = f"PettingZoo ``AECEnv`` of {env_id} (agents act in turn; built on :func:`parallel_env`).\n\n{arguments}"
    return env, parallel_env
