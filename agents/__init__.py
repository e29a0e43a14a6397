"""Learning agents (PyTorch) behind the same ``Policy`` interface as the baselines.

``AGENTS`` maps an agent name to its module; :func:`make_trainer` builds a trainer and
:func:`load_policy` turns a saved policy file into a batched greedy policy.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from agents import dqn, drqn
from agents.qlearning import QPolicy, QTrainer
from semcom_envs.api.core import BatchedScenario

AGENTS: dict[str, ModuleType] = {"dqn": dqn, "drqn": drqn}
_NETWORKS = {"dqn": (dqn.DQNConfig, dqn.QNetwork), "drqn": (drqn.DRQNConfig, drqn.RecurrentQNetwork)}


def make_trainer(agent: str, scenario: BatchedScenario, seed: int, runs: int = 1, **hyperparameters: Any) -> QTrainer:
    """A trainer of agent ``agent`` (``dqn`` or ``drqn``); unknown names raise, listing the known ones."""
    if agent not in AGENTS:
        raise ValueError(f"unknown agent {agent!r}: known agents are {', '.join(AGENTS)}")
    return AGENTS[agent].trainer(scenario, seed, runs, **hyperparameters)


def load_policy(path: str | Path, scenario: BatchedScenario, name: str | None = None) -> QPolicy:
    """The greedy policy saved at ``path`` (a ``policy_seed*.pt`` file of ``semcom train``) for ``scenario``."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"policy file {str(path)!r} does not exist")
    state = torch.load(path, map_location="cpu", weights_only=True)
    agent = state.get("agent")
    if agent not in _NETWORKS:
        raise ValueError(f"{path}: not a policy file of a known agent (agent={agent!r})")
    config_class, network = _NETWORKS[agent]
    return QPolicy.from_state(state, scenario, config_class, network, name=name)


__all__ = ["AGENTS", "QPolicy", "QTrainer", "load_policy", "make_trainer"]
