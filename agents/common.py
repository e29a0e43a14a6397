"""Building blocks shared by the learning agents (DQN/DRQN in :mod:`semcom_agents.qlearning`, MAPPO in :mod:`semcom_agents.mappo`).

- Layers with a leading *learner* axis ``L`` (every parameter is ``(L, ...)`` and every layer a
  batched matrix product), so several runs' and agents' networks are evaluated and updated in one
  forward/backward pass; :func:`learner_apply` maps ``(runs, agents, samples)`` features onto it.
- :func:`uniform_spaces`, :func:`stack_observations`, :func:`accumulate_slot`: the batched core's
  spaces and per-agent dictionaries as arrays, and one slot's logged quantities per run.
- :func:`check_hyperparameter_names`: unknown hyperparameters raise, listing the accepted ones.
- :func:`atomic_save` / :func:`save_policy`: checkpoint and policy files that an interruption never tears.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from semcom_envs.api.core import BatchedScenario
from semcom_envs.config import ConfigError

# ---------------------------------------------------------------------------------------------
# Layers with a learner axis
# ---------------------------------------------------------------------------------------------


class BatchedLinear(nn.Module):
    """``L`` independent affine maps: ``(L, n, fan_in) -> (L, n, fan_out)``."""

    def __init__(self, learners: int, fan_in: int, fan_out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(learners, fan_in, fan_out))
        self.bias = nn.Parameter(torch.empty(learners, 1, fan_out))
        self.init_bound = 1.0 / math.sqrt(fan_in)  # PyTorch's nn.Linear default

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


class BatchedLSTM(nn.Module):
    """``L`` independent LSTMs over a window: ``(L, n, T, fan_in) -> (L, n, hidden)``, the last hidden state.

    Each window starts from a zero state (bootstrapped random updates on fixed-length windows,
    as DRQN on a window of recent observations).
    """

    def __init__(self, learners: int, fan_in: int, hidden: int) -> None:
        super().__init__()
        self.hidden = hidden
        self.w_ih = nn.Parameter(torch.empty(learners, fan_in, 4 * hidden))
        self.w_hh = nn.Parameter(torch.empty(learners, hidden, 4 * hidden))
        self.bias = nn.Parameter(torch.empty(learners, 1, 4 * hidden))
        self.init_bound = 1.0 / math.sqrt(hidden)  # PyTorch's nn.LSTM default

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        learners, n, steps, fan_in = x.shape
        # Input projections of all time steps in one product; gate order (input, forget, output, cell).
        gates_x = torch.baddbmm(self.bias, x.reshape(learners, n * steps, fan_in), self.w_ih).view(learners, n, steps, -1)
        h = x.new_zeros(learners, n, self.hidden)
        c = x.new_zeros(learners, n, self.hidden)
        # unbind/split rather than indexing: their backward concatenates the pieces' gradients, where an index's
        # backward zero-fills a tensor of the whole input per piece (DRQN at M = 7: 3% of a slot, bit-identical).
        for gates_t in gates_x.unbind(2):
            sigmoid_part, cell_part = torch.baddbmm(gates_t, h, self.w_hh).split((3 * self.hidden, self.hidden), dim=-1)
            i, f, o = torch.sigmoid(sigmoid_part).chunk(3, dim=-1)
            c = f * c + i * torch.tanh(cell_part)
            h = o * torch.tanh(c)
        return h


def init_learners(module: nn.Module, seeds: list[int]) -> None:
    """Initialise every batched layer U(-b, b), learner group ``r`` from ``Generator(seeds[r])``.

    The learner axis is split into ``len(seeds)`` equal groups (one per run), so a run's initial
    networks depend only on its own seed.
    """
    layers = [m for m in module.modules() if hasattr(m, "init_bound")]
    for r, seed in enumerate(seeds):
        gen = torch.Generator().manual_seed(seed)
        for layer in layers:
            for param in layer.parameters(recurse=False):
                group = param.shape[0] // len(seeds)
                block = param.data[r * group:(r + 1) * group]
                block.copy_((torch.rand(block.shape, generator=gen) * 2.0 - 1.0) * layer.init_bound)


def learner_apply(net: nn.Module, feats: torch.Tensor, sharing: bool, one_hot_id: bool | None = None) -> torch.Tensor:
    """Outputs ``(R, N, n, out)`` of ``net`` on features ``(R, N, n, *F)`` (``F = (D,)`` or ``(T, D)``).

    Independent learners (``sharing=False``, ``L = R * N``) see ``(R * N, n, *F)``; a shared network
    (``L = R``) sees ``(R, N * n, *F)``. ``one_hot_id`` (default: ``sharing``) appends each agent's
    one-hot id to every feature vector, so a shared network can still tell the agents apart.
    """
    runs, agents, n = feats.shape[:3]
    if sharing if one_hot_id is None else one_hot_id:
        eye = torch.eye(agents, dtype=feats.dtype).view(1, agents, 1, *([1] * (feats.dim() - 4)), agents)
        feats = torch.cat([feats, eye.expand(*feats.shape[:-1], agents)], dim=-1)
    if sharing:
        out = net(feats.reshape(runs, agents * n, *feats.shape[3:]))
    else:
        out = net(feats.reshape(runs * agents, n, *feats.shape[3:]))
    return out.view(runs, agents, n, -1)


# ---------------------------------------------------------------------------------------------
# Arrays of the batched core, logging, files
# ---------------------------------------------------------------------------------------------


def stack_observations(observations: Mapping[str, np.ndarray], agents: tuple[str, ...]) -> np.ndarray:
    """``(B, N, obs_dim)`` float32: every agent's observation batch, flattened, in ``agents`` order."""
    batch = observations[agents[0]].shape[0]
    return np.stack([np.asarray(observations[a]).reshape(batch, -1) for a in agents], axis=1).astype(np.float32)


def uniform_spaces(scenario: BatchedScenario, learner: str) -> tuple[spaces.Box, gymnasium.Space]:
    """The observation and action space all of ``scenario``'s agents share; TypeError (naming
    ``learner``) unless the observations are Boxes of one shape and the action spaces are equal."""
    obs = [scenario.observation_space(a) for a in scenario.agents]
    act = [scenario.action_space(a) for a in scenario.agents]
    if not all(isinstance(o, spaces.Box) for o in obs) or len({o.shape for o in obs}) != 1:
        raise TypeError(f"{scenario.env_id}: {learner} needs Box observations of one shape for all agents")
    if not all(a == act[0] for a in act):
        raise TypeError(f"{scenario.env_id}: {learner} needs the same action space for all agents")
    return obs[0], act[0]


def accumulate_slot(sums: dict[str, np.ndarray], team_reward: np.ndarray, infos: Mapping[str, np.ndarray],
                    runs: int) -> None:
    """Add one slot's team reward and every numeric info, each a ``(runs,)`` float64 mean, to ``sums``.

    The batch axis holds ``runs`` equal groups of consecutive copies (one group per run); each value
    is averaged over its run's copies and agents. Non-numeric or oddly shaped infos are skipped.
    """
    batch = team_reward.shape[0]
    values = {"reward": team_reward}
    for name, value in infos.items():
        if value.dtype.kind in "fb" and value.shape[0] == batch and value.ndim <= 2:
            values[name] = value
    for name, value in values.items():
        sums[name] = sums.get(name, 0.0) + value.reshape(runs, -1).mean(axis=1).astype(np.float64)


def check_hyperparameter_names(cls: type, overrides: Iterable[str], extra: tuple[str, ...] = ()) -> None:
    """Raise :class:`ConfigError` if a name in ``overrides`` is neither a field of dataclass ``cls`` nor in ``extra``."""
    names = {f.name for f in dataclasses.fields(cls)} | set(extra)
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ConfigError(f"unknown hyperparameter(s) {unknown} for {cls.__name__}: accepted are {sorted(names)}")


def check_checkpoint(state: Mapping[str, Any], mine: Mapping[str, Any]) -> None:
    """Raise unless checkpoint ``state`` was written by runs identical in ``mine`` (agent, seeds, env, config)."""
    for name, value in mine.items():
        if state[name] != value:
            raise ValueError(f"checkpoint was written with {name}={state[name]!r}, this run has {name}={value!r}")


def check_policy_file(state: Mapping[str, Any], scenario: BatchedScenario, policy_format: int) -> None:
    """Raise unless policy-file payload ``state`` has layout ``policy_format`` and was trained on ``scenario``'s env."""
    if state.get("format") != policy_format:
        raise ValueError(f"policy file format {state.get('format')!r} is not supported (expected {policy_format})")
    if state["env_id"] != scenario.env_id:
        raise ValueError(f"policy was trained on {state['env_id']}, not {scenario.env_id}")


def load_policy_weights(net: nn.Module, state: Mapping[str, Any], scenario: BatchedScenario) -> None:
    """Load policy-file payload ``state``'s weights into ``net``; when they do not fit (agents or spaces differ),
    raise naming the config fields the policy was trained with that differ here, with the ``--set`` to match."""
    try:
        net.load_state_dict(state["weights"])
    except RuntimeError:
        here = dataclasses.asdict(scenario.config)
        trained = state["env_config"]
        fields = sorted(k for k in set(trained) | set(here) if trained.get(k) != here.get(k))
        differ = ", ".join(f"{k}={trained.get(k)!r} (here {here.get(k)!r})" for k in fields) or "none (the package changed)"
        fix = " ".join(f"--set {k}={trained[k]}" for k in fields if k in trained)
        raise ValueError(f"policy does not fit {scenario.env_id} as configured here: its agents or spaces differ. "
                         f"Trained with {differ}" + (f"; evaluate it with {fix}" if fix else "")) from None


def run_weights(net: nn.Module, run: int, learners_per_run: int) -> dict[str, torch.Tensor]:
    """Copies of run ``run``'s slice of every learner-axis tensor of ``net``."""
    return {name: p[run * learners_per_run:(run + 1) * learners_per_run].clone() for name, p in net.state_dict().items()}


def save_policy(state: Mapping[str, Any], path: Path) -> None:
    """Write a policy-file payload atomically."""
    atomic_save(dict(state), path)


def atomic_save(obj: Any, path: Path) -> None:
    """``torch.save`` to a temporary file, then rename: an interruption never leaves a torn file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    tmp.replace(path)
