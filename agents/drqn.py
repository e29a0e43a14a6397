"""DRQN: independent deep recurrent Q-networks over a window of recent observations.

The multi-cell source paper's recurrent agent (docs/agents.md): each agent's Q-network reads
its last ``sequence_length = 8`` observations (zero-padded at the start of an episode) through
dense 64 (ReLU) -> LSTM 200 -> dense 32 (ReLU) -> actions, as the group's public code. Replay
memory, schedule and optimiser are DQN's (:mod:`semcom_agents.qlearning`); the replay memory stores
each transition's observation window, so minibatches are windows of 8 consecutive slots of one
episode. Memory of the recurrent state is not carried across windows (bootstrapped random
updates with a fresh zero state per window), which is what a fixed window makes possible.

The LSTM has a learner axis like every layer here, so all agents' recurrent networks run as one
batched matrix product per time step. On a CPU a learning step costs about 40 times DQN's (the
window's 8 recurrent steps at width 200 dominate, see the training-time table of docs/performance.md);
``train_frequency`` and ``bf16_matmul`` trade fidelity to the paper for speed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from semcom_agents.qlearning import BatchedLinear, BatchedLSTM, QConfig, QTrainer, build_qconfig
from semcom_envs.api.core import BatchedScenario
from semcom_envs.config import check_int


@dataclasses.dataclass(frozen=True)
class DRQNConfig(QConfig):
    """DRQN hyperparameters (the shared ones are documented on :class:`~semcom_agents.qlearning.QConfig`)."""

    sequence_length: int = 8
    """Observations per input window (the source's sequence length)."""
    encoder: int = 64
    """Width of the dense layer before the LSTM."""
    lstm_hidden: int = 200
    head: int = 32
    """Width of the dense layer after the LSTM."""

    @property
    def window_length(self) -> int:
        return self.sequence_length

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("sequence_length", "encoder", "lstm_hidden", "head"):
            check_int(name, getattr(self, name), low=1)


class RecurrentQNetwork(nn.Module):
    """Windows ``(L, n, T, D)`` to Q-values ``(L, n, A)``."""

    def __init__(self, config: DRQNConfig, learners: int, input_dim: int, n_actions: int) -> None:
        super().__init__()
        self.encoder = BatchedLinear(learners, input_dim, config.encoder)
        self.lstm = BatchedLSTM(learners, config.encoder, config.lstm_hidden)
        self.head = BatchedLinear(learners, config.lstm_hidden, config.head)
        self.out = BatchedLinear(learners, config.head, n_actions)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        learners, n, steps, dim = x.shape
        z = torch.relu(self.encoder(x.reshape(learners, n * steps, dim))).view(learners, n, steps, -1)
        return self.out(torch.relu(self.head(self.lstm(z))))


def build_config(overrides: Mapping[str, Any]) -> DRQNConfig:
    """:class:`DRQNConfig` with ``overrides`` (``semcom train --hp``); unknown names raise, listing the accepted ones."""
    return build_qconfig(DRQNConfig, overrides)


def trainer(scenario: BatchedScenario, seed: int, runs: int = 1, **hyperparameters: Any) -> QTrainer:
    """A DRQN trainer of ``runs`` runs (seeds ``seed .. seed + runs - 1``) on ``scenario``."""
    config = build_config(hyperparameters)
    return QTrainer("drqn", scenario, config, RecurrentQNetwork, seed, runs)
