"""The batched-scenario contract that every scenario implements and every adapter consumes.

A scenario is pure array code over a leading batch axis: ``reset`` turns per-copy episode keys into
a state, ``step`` maps a state and a batch of actions to the next state. It keeps no hidden mutable
state between calls, and all randomness comes from the counter-based streams of
:mod:`semcom_envs.streams`, addressed by the episode keys held in the state. The adapters
(PettingZoo parallel/AEC, Gymnasium single and vector) add each API's conventions on top and never
touch the physics.

Array conventions (``B`` = batch size, ``N`` = number of agents):
- ``State``: a dict of arrays whose first axis is the batch; it always holds ``"key"`` (uint64
  episode keys) and ``"t"`` (int64 slot index within the episode).
- observations: ``{agent: (B, *observation_space(agent).shape)}``.
- actions: ``{agent: (B, *action_space(agent).shape)}``.
- rewards ``{agent: (B,)}`` float64; terminated and truncated ``{agent: (B,)}`` bool.
- infos: ``{name: (B, N)}`` for per-agent quantities, ``{name: (B,)}`` for network-wide ones, in SI
  units; adapters split them per agent.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

import gymnasium
import numpy as np
from numpy.typing import NDArray

from semcom_envs.config import ConfigError, build_config

State = dict[str, np.ndarray]
AgentArrays = dict[str, np.ndarray]


class ActionError(ValueError):
    """An action outside the action space, a NaN action, or a missing/unknown agent key."""


class Transition(NamedTuple):
    """What one batched step returns."""

    state: State
    observations: AgentArrays
    rewards: AgentArrays
    terminated: AgentArrays
    truncated: AgentArrays
    infos: dict[str, np.ndarray]


class BatchedScenario(abc.ABC):
    """Base class of every scenario core: the spaces, ``reset``, ``step`` and the global state.

    Subclasses set ``env_id``, ``agents``, ``config`` and build their spaces once in ``__init__``
    (PettingZoo requires the same space object on every call).
    """

    env_id: ClassVar[str]
    """Gymnasium id, e.g. ``"SemCom-MultiCell-v0"``."""
    pettingzoo_name: ClassVar[str]
    """Name of the versioned PettingZoo alias module, e.g. ``"multicell_v0"``."""
    config_class: ClassVar[type]
    """The scenario's frozen config dataclass."""
    presets: ClassVar[dict[str, dict[str, Any]]]
    """Named config defaults; the first is the default preset."""
    size_field: ClassVar[str]
    """The config field that sets the number of agents (``num_cells``, ``num_devices``)."""

    metrics: ClassVar[dict[str, str]]
    """Evaluation metrics (name -> description) returned per slot by :meth:`step_metrics`."""
    primary_metric: ClassVar[str]
    """The metric a comparison ranks by (box plots, ratios to the reference)."""
    higher_is_better: ClassVar[bool]
    """Direction of ``primary_metric``."""
    reference: ClassVar[tuple[str, str] | None] = None
    """``(policy, summary key)``: the full-information reference policy whose ``primary_metric``
    normalises the others' (e.g. ``("oracle", "fraction_of_oracle")``), or None."""

    agents: tuple[str, ...]
    config: Any
    state_space: gymnasium.spaces.Box

    _obs_space: gymnasium.Space
    _act_space: gymnasium.Space

    def observation_space(self, agent: str) -> gymnasium.Space:
        """Observation space of one agent (the same object on every call).

        By default every agent shares ``_obs_space``, built once in ``__init__``; scenarios whose
        agents differ override this.
        """
        self.agent_index(agent)
        return self._obs_space

    def action_space(self, agent: str) -> gymnasium.Space:
        """Action space of one agent (the same object on every call; shared ``_act_space`` by default)."""
        self.agent_index(agent)
        return self._act_space

    def _configure(self, config: Any, kwargs: Mapping[str, Any]) -> Any:
        """The scenario's validated config: ``config`` as given, or built from a preset and keyword fields."""
        if config is not None and kwargs:
            raise ConfigError(f"pass either a {self.config_class.__name__} or keyword arguments, not both")
        return config if config is not None else build_config(self.config_class, self.presets, kwargs)

    @abc.abstractmethod
    def reset(self, keys: NDArray[np.uint64]) -> tuple[State, AgentArrays]:
        """Start one episode per key; returns the state and the first observations."""

    @abc.abstractmethod
    def step(self, state: State, actions: Mapping[str, np.ndarray]) -> Transition:
        """Advance every copy by one slot."""

    @abc.abstractmethod
    def global_state(self, state: State) -> np.ndarray:
        """(B, *state_space.shape) full-information view, for centralised critics and oracles."""

    @abc.abstractmethod
    def step_metrics(self, team_reward: np.ndarray, infos: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """(B,) value of every metric in ``metrics`` for one slot, from its team reward and infos."""

    def action_grid(self, infos: Mapping[str, np.ndarray]) -> tuple[np.ndarray, tuple[int, int], tuple[str, str]] | None:
        """Two action components per agent for a heatmap of choices: ``(indices (B, N, 2), grid shape,
        axis labels)``, or None where the scenario has no such picture."""
        return None

    def team_reward(self, rewards: AgentArrays) -> np.ndarray:
        """(B,) reward of the joint (single-agent) view: the mean of the agents' rewards."""
        return np.mean([rewards[a] for a in self.agents], axis=0)

    def render_rgb(self, state: State, infos: Mapping[str, np.ndarray] | None, index: int) -> np.ndarray:
        """An RGB picture (H, W, 3) uint8 of copy ``index``; scenarios without a picture raise."""
        raise NotImplementedError(f"{type(self).__name__} has no rgb_array rendering")

    def agent_index(self, agent: str) -> int:
        """Position of ``agent`` in ``agents``, with an error listing the valid names."""
        try:
            return self.agents.index(agent)
        except ValueError:
            raise ActionError(f"unknown agent {agent!r}: valid agents are {', '.join(self.agents)}") from None


def check_agent_keys(given: Mapping[str, Any], agents: tuple[str, ...]) -> None:
    """Raise :class:`ActionError` unless ``given`` has exactly one entry per agent."""
    if len(given) != len(agents) or not all(a in given for a in agents):
        missing = [a for a in agents if a not in given]
        unknown = [a for a in given if a not in agents]
        raise ActionError(
            f"actions must have exactly one entry per agent {list(agents)}; "
            f"missing {missing}, unknown {unknown}"
        )


def stack_discrete_actions(actions: Mapping[str, Any], agents: tuple[str, ...], nvec: NDArray[np.int64],
                           labels: tuple[str, ...]) -> NDArray[np.int64]:
    """Validated ``(B, N, len(nvec))`` int64 array of the agents' (Multi)Discrete actions.

    Each ``actions[agent]`` has shape ``(B,)`` for a Discrete space (``len(nvec) == 1``) or
    ``(B, len(nvec))`` for a MultiDiscrete one. Non-integer, NaN and out-of-range entries raise an
    :class:`ActionError` naming the agent, the component (``labels``) and the allowed range: an
    out-of-space action is a bug in the caller, never silently clipped.
    """
    check_agent_keys(actions, agents)
    try:
        raw = np.asarray([actions[a] for a in agents])
    except ValueError:
        shapes = {a: np.shape(actions[a]) for a in agents}
        raise ActionError(f"actions of all agents must have the same shape; got {shapes}") from None
    if len(nvec) == 1:
        raw = raw[..., None]
    if raw.ndim != 3 or raw.shape[2] != len(nvec):
        raise ActionError(
            f"each agent's action batch must have shape (batch,{' ' + str(len(nvec)) if len(nvec) > 1 else ''}); "
            f"got {raw.shape[1:] if len(nvec) > 1 else raw.shape[1:-1]}"
        )
    if raw.dtype.kind == "i":
        a = raw
    elif raw.dtype.kind == "u":
        a = raw.astype(np.int64)
    elif raw.dtype.kind == "f":
        if not np.all(np.isfinite(raw)) or not np.array_equal(np.floor(raw), raw):
            _raise_bad_action(raw, agents, nvec, labels, "not an integer (NaN, inf and fractions are invalid)")
        a = raw.astype(np.int64)
    else:
        raise ActionError(f"actions must be integer arrays; got dtype {raw.dtype}")
    # One comparison catches both ends: negative ints wrap to huge unsigned values.
    if (a.view(np.uint64) if a.dtype == np.int64 else a.astype(np.uint64)).__ge__(nvec).any():
        _raise_bad_action(raw, agents, nvec, labels, "out of range")
    return a.transpose(1, 0, 2)


def _raise_bad_action(raw: np.ndarray, agents: tuple[str, ...], nvec: NDArray[np.int64],
                      labels: tuple[str, ...], problem: str) -> None:
    """Build the error message for the first invalid action entry."""
    with np.errstate(invalid="ignore"):
        bad = ~((raw >= 0) & (raw < nvec) & (raw == np.floor(raw)) & np.isfinite(raw))
    agent_i, copy_i, comp = (int(x[0]) for x in np.nonzero(bad))
    raise ActionError(
        f"action of agent {agents[agent_i]!r} (batch copy {copy_i}) is {problem}: "
        f"{labels[comp]}={raw[agent_i, copy_i, comp].item()!r} must be an integer in [0, {int(nvec[comp]) - 1}]"
    )


def stack_box_actions(actions: Mapping[str, Any], agents: tuple[str, ...], low: np.ndarray, high: np.ndarray,
                      labels: tuple[str, ...]) -> NDArray[np.float64]:
    """Validated ``(B, N, D)`` float64 array of the agents' Box actions (each ``(B, D)``).

    NaN, inf and entries outside ``[low, high]`` raise an :class:`ActionError` naming the agent, the
    component (``labels``) and the allowed interval; nothing is clipped.
    """
    check_agent_keys(actions, agents)
    try:
        raw = np.asarray([actions[a] for a in agents], dtype=np.float64)
    except (TypeError, ValueError):
        shapes = {a: np.shape(actions[a]) for a in agents}
        raise ActionError(f"actions of all agents must be numeric arrays of the same shape; got {shapes}") from None
    if raw.ndim != 3 or raw.shape[2] != len(labels):
        raise ActionError(f"each agent's action batch must have shape (batch, {len(labels)}); got {raw.shape[1:]}")
    with np.errstate(invalid="ignore"):
        bad = ~((raw >= low) & (raw <= high))  # NaN compares False: caught here too
    if bad.any():
        agent_i, copy_i, comp = (int(x[0]) for x in np.nonzero(bad))
        raise ActionError(
            f"action of agent {agents[agent_i]!r} (batch copy {copy_i}) is out of the action space: "
            f"{labels[comp]}={raw[agent_i, copy_i, comp].item()!r} must be a finite number in [{low[comp]}, {high[comp]}]"
        )
    return raw.transpose(1, 0, 2)
