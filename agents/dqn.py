"""DQN: independent deep Q-networks, one per agent (or one shared), as in the multi-cell source paper.

Hyperparameters are the source's Table 2 and the group's public code (docs/agents.md): three
dense layers 64 -> 32 -> actions with ReLU, replay memory 500 per agent, minibatch 32, RMSProp at
5e-4 with time-based decay 1e-4, discount 0.5, epsilon 0.6 divided by (1 + 1e-4) per learning step
down to 0.1, target copy every 100 learning steps, learning after 256 random slots. The training
loop, replay memory and checkpoints are shared with DRQN in :mod:`semcom_agents.qlearning`.

Example::

    from semcom_agents import dqn
    from semcom_envs.registration import make_scenario

    trainer = dqn.trainer(make_scenario("SemCom-MultiCell-v0", num_cells=3), seed=0)
    for _ in range(5_000):
        trainer.step()
    policy = trainer.policy()          # greedy, batched, the baselines' Policy interface
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from torch import nn

from semcom_agents.qlearning import BatchedLinear, QConfig, QTrainer, build_qconfig
from semcom_envs.api.core import BatchedScenario
from semcom_envs.config import check_int


@dataclasses.dataclass(frozen=True)
class DQNConfig(QConfig):
    """DQN hyperparameters (the shared ones are documented on :class:`~semcom_agents.qlearning.QConfig`)."""

    hidden: tuple[int, ...] = (64, 32)
    """Widths of the hidden dense layers (ReLU)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "hidden", tuple(self.hidden))
        for width in self.hidden:
            check_int("hidden", width, low=1)


class QNetwork(nn.Sequential):
    """Dense ReLU network from an observation ``(L, n, D)`` to Q-values ``(L, n, A)``, per learner."""

    def __init__(self, config: DQNConfig, learners: int, input_dim: int, n_actions: int) -> None:
        widths = [input_dim, *config.hidden]
        layers: list[nn.Module] = []
        for fan_in, fan_out in zip(widths[:-1], widths[1:]):
            layers += [BatchedLinear(learners, fan_in, fan_out), nn.ReLU()]
        super().__init__(*layers, BatchedLinear(learners, widths[-1], n_actions))


def build_config(overrides: Mapping[str, Any]) -> DQNConfig:
    """:class:`DQNConfig` with ``overrides`` (``semcom train --hp``); unknown names raise, listing the accepted ones."""
    return build_qconfig(DQNConfig, overrides)


def trainer(scenario: BatchedScenario, seed: int, runs: int = 1, **hyperparameters: Any) -> QTrainer:
    """A DQN trainer of ``runs`` runs (seeds ``seed .. seed + runs - 1``) on ``scenario``."""
    config = build_config(hyperparameters)
    return QTrainer("dqn", scenario, config, QNetwork, seed, runs)
