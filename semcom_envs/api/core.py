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
from collections.abc import Callable, Mapping
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
    action_labels: tuple[str, ...] = ()
    """Names of the action components, in order (error messages name the component at fault;
    ``action[i]`` where a scenario gives none)."""

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

    def stack_actions(self, actions: Mapping[str, Any]) -> np.ndarray:
        """Validated ``(B, N, D)`` actions of every agent (see :func:`stack_actions`; agents share one space)."""
        return stack_actions(actions, self.agents, self.action_space(self.agents[0]), self.action_labels)

    def check_action(self, agent: str, action: Any) -> None:
        """Raise :class:`ActionError` unless ``action`` is a valid action of ``agent`` for one copy."""
        stack_actions({agent: action}, (agent,), self.action_space(agent), self.action_labels, single=True)

    def _configure(self, config: Any, kwargs: Mapping[str, Any]) -> Any:
        """The scenario's validated config: ``config`` as given, or built from a preset and keyword fields."""
        if config is not None and kwargs:
            raise ConfigError(f"pass either a {self.config_class.__name__} or keyword arguments, not both")
        if config is None:
            return build_config(self.config_class, self.presets, kwargs, owner=self.env_id)
        if not isinstance(config, self.config_class):
            raise ConfigError(f"config={config!r} is invalid: must be a {self.config_class.__name__}")
        return config

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
        """(B,) reward of the joint (single-agent) view: the mean of the agents' rewards.

        Each copy's agents are summed along a contiguous row, in the same order for one copy as for
        many (a mean over the leading axis of an agents-by-copies stack would not be)."""
        return np.stack([rewards[a] for a in self.agents], axis=1).mean(axis=1)

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


def describe_value(value: Any) -> str:
    """A short one-line description of a bad value for an error message: its type and its repr."""
    text = " ".join(repr(value).split())
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _labels(space: gymnasium.Space, labels: tuple[str, ...]) -> tuple[str, ...]:
    """``labels``, or ``action[i]`` per component where none are given."""
    size = int(np.prod(space.shape)) if space.shape else 1
    return labels if len(labels) == size else tuple(f"action[{i}]" for i in range(size))


def _allowed_actions(space: gymnasium.Space, labels: tuple[str, ...], single: bool) -> str:
    """What an agent's action must be, in words: kind, shape and per-component range."""
    labels = _labels(space, labels)
    if not isinstance(space, (gymnasium.spaces.Box, gymnasium.spaces.Discrete, gymnasium.spaces.MultiDiscrete)):
        return f"an element of {space}"
    if isinstance(space, gymnasium.spaces.Box):
        low, high = np.broadcast_to(space.low, space.shape), np.broadcast_to(space.high, space.shape)
        ranges = ", ".join(f"{lab} in [{lo:g}, {hi:g}]" for lab, lo, hi in zip(labels, low.ravel(), high.ravel()))
        kind = "real numbers"
    else:
        nvec, start = _discrete_layout(space)
        ranges = ", ".join(f"{lab} in [{start}, {start + n - 1}]" for lab, n in zip(labels, nvec))
        kind = "integers"
    shape = space.shape if single else ("batch", *space.shape)
    return f"{kind} of shape {tuple(shape)} ({ranges})".replace("'", "")


def _discrete_layout(space: gymnasium.Space) -> tuple[NDArray[np.int64], int]:
    """``(nvec, start)`` of a Discrete (``nvec`` of length 1) or 1-d MultiDiscrete space."""
    if isinstance(space, gymnasium.spaces.Discrete):
        return np.array([int(space.n)], dtype=np.int64), int(space.start)
    return np.asarray(space.nvec, dtype=np.int64).ravel(), 0


def _numeric_array(agent: str, value: Any, allowed: Callable[[], str]) -> np.ndarray:
    """One agent's action as an int, uint or float array; ``None``, strings, dicts, bools and complex raise."""
    if value is None or isinstance(value, (str, bytes, Mapping)):
        raise ActionError(f"action of agent {agent!r} is {describe_value(value)}: must be {allowed()}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):  # ragged nesting
        raise ActionError(f"action of agent {agent!r} is {describe_value(value)}, not an array: must be {allowed()}") from None
    if arr.dtype.kind not in "iuf":
        problem = {"b": "a bool array", "c": "a complex array", "U": "a string array", "S": "a bytes array",
                   "O": "not a numeric array (None, mixed types or integers beyond 64 bits)"}.get(arr.dtype.kind, f"of dtype {arr.dtype}")
        raise ActionError(f"action of agent {agent!r} is {problem}: {describe_value(value)}; must be {allowed()}")
    return arr


def action_batches(actions: Mapping[str, Any], agents: tuple[str, ...], space: gymnasium.Space,
                   labels: tuple[str, ...], *, single: bool = False, num_envs: int | None = None) -> dict[str, np.ndarray]:
    """Every agent's action as a numeric array of shape ``(B, *space.shape)``: kinds and shapes checked, ranges not.

    ``single``: each value is one copy's action (shape ``space.shape``) and gains a batch axis of 1.
    ``num_envs``: the batch size every agent's array must have. Errors name the agent and say what is
    allowed (kind, shape and the range of every component, named by ``labels``).
    """
    check_agent_keys(actions, agents)

    def allowed() -> str:  # built only for an error message
        return _allowed_actions(space, labels, single)

    out = {}
    for agent in agents:
        arr = _numeric_array(agent, actions[agent], allowed)
        if single:
            if arr.shape != space.shape:
                raise ActionError(f"action of agent {agent!r} has shape {arr.shape}: must be {allowed()}")
            arr = arr[None]
        elif arr.shape[1:] != space.shape or arr.ndim != len(space.shape) + 1:
            raise ActionError(f"action batch of agent {agent!r} has shape {arr.shape}: must be {allowed()}")
        out[agent] = arr
    rows = num_envs if num_envs is not None else len(out[agents[0]])
    if any(len(arr) != rows for arr in out.values()):
        check_batch_rows(out, agents, -1 if num_envs is None else num_envs)
    return out


def check_batch_rows(actions: Mapping[str, Any], agents: tuple[str, ...], num_envs: int) -> None:
    """Raise unless every agent's action batch has ``num_envs`` rows (``-1``: the same number for all).

    Values without a length are left to :func:`action_batches`, whose error describes them."""
    sizes = {a: len(v) for a in agents if (v := actions.get(a)) is not None
             and not isinstance(v, (str, bytes, Mapping)) and hasattr(v, "__len__")}
    expected = next(iter(sizes.values()), 0) if num_envs < 0 else num_envs
    if any(size != expected for size in sizes.values()):
        where = "the same number of copies" if num_envs < 0 else f"the {num_envs} environment copies"
        raise ActionError(f"every agent's action batch must have one row per copy ({where}); got rows per agent {sizes}")


def stack_actions(actions: Mapping[str, Any], agents: tuple[str, ...], space: gymnasium.Space,
                  labels: tuple[str, ...], *, single: bool = False) -> np.ndarray:
    """Validated ``(B, N, D)`` array of the agents' actions: int64 for a (Multi)Discrete ``space``
    (``D = len(nvec)``, Discrete ``start`` removed), float64 for a 1-d Box.

    Every agent acts in the same ``space``. Wrong kinds, shapes, NaN, fractions for integer spaces
    and entries out of the space raise an :class:`ActionError` naming the agent, the batch copy,
    the component (``labels``) and its allowed range: an out-of-space action is a bug in the
    caller, never silently clipped or converted.
    """
    arrays = action_batches(actions, agents, space, labels, single=single)
    raw = np.asarray([arrays[a] for a in agents])  # (N, B, *shape), shapes checked equal: int, uint or float
    if isinstance(space, gymnasium.spaces.Box):
        raw = raw.astype(np.float64, copy=False)
        with np.errstate(invalid="ignore"):
            ok = ((raw >= space.low) & (raw <= space.high)).all()  # NaN compares False: caught here too
        if not ok:
            _raise_bad_action(raw, space.low.astype(np.float64), space.high.astype(np.float64), agents, space, labels, single)
        return np.ascontiguousarray(raw.transpose(1, 0, 2))  # copy-major: per-copy sums in one order for any batch
    nvec, start = _discrete_layout(space)
    if isinstance(space, gymnasium.spaces.Discrete):
        raw = raw[..., None]
    if raw.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            ok = ((raw >= start) & (raw < nvec + start) & (raw == np.floor(raw))).all()
    else:
        ok = raw.min() >= start and (raw < nvec + start).all() if raw.size else True
    if not ok:
        _raise_bad_action(raw, start, nvec + start - 1, agents, space, labels, single)
    return np.ascontiguousarray((raw.astype(np.int64) - start).transpose(1, 0, 2))


def _raise_bad_action(raw: np.ndarray, low: Any, high: Any, agents: tuple[str, ...], space: gymnasium.Space,
                      labels: tuple[str, ...], single: bool) -> None:
    """Raise the error of the first invalid entry of ``raw`` ``(N, B, D)`` (allowed: ``[low, high]``)."""
    box = isinstance(space, gymnasium.spaces.Box)
    with np.errstate(invalid="ignore"):
        bad = ~((raw >= low) & (raw <= high))
        fraction = np.zeros_like(bad) if box or raw.dtype.kind != "f" else raw != np.floor(raw)
    agent_i, copy_i, comp = (int(x[0]) for x in np.nonzero(bad | fraction))
    value = raw[agent_i, copy_i, comp].item()
    if box:
        problem = "out of the action space"
    elif fraction[agent_i, copy_i, comp]:
        problem = "not an integer (NaN, inf and fractions are invalid)"
    else:
        problem = "out of range"
    where = "" if single else f" (batch copy {copy_i})"
    lo, hi = (np.broadcast_to(x, raw.shape[2:])[comp].item() for x in (low, high))
    raise ActionError(
        f"action of agent {agents[agent_i]!r}{where} is {problem}: "
        f"{_labels(space, labels)[comp]}={value!r} must be {'a finite number' if box else 'an integer'} in [{lo!r}, {hi!r}]"
    )
