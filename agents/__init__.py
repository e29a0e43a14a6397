"""Learning agents (PyTorch) behind the same ``Policy`` interface as the baselines.

``AGENTS`` maps an agent name to its module; :func:`make_trainer` builds a trainer and
:func:`load_policy` turns a saved policy file into a batched deterministic policy; :func:`supports` says
whether an agent can act in a scenario.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from semcom_agents import dqn, drqn, mappo
from semcom_agents.mappo import MAPPOPolicy, MAPPOTrainer, supports_mappo
from semcom_agents.qlearning import QPolicy, QTrainer, supports_q_learning
from semcom_envs.api.core import BatchedScenario

AGENTS: dict[str, ModuleType] = {"dqn": dqn, "drqn": drqn, "mappo": mappo}
_POLICY_LOADERS: dict[str, Callable[[Mapping[str, Any], BatchedScenario, str | None], QPolicy | MAPPOPolicy]] = {
    "dqn": lambda state, scenario, name: QPolicy.from_state(state, scenario, dqn.DQNConfig, dqn.QNetwork, name=name),
    "drqn": lambda state, scenario, name: QPolicy.from_state(state, scenario, drqn.DRQNConfig, drqn.RecurrentQNetwork,
                                                             name=name),
    "mappo": MAPPOPolicy.from_state,
}

_SUPPORTS: dict[str, Callable[[BatchedScenario], bool]] = {
    "dqn": supports_q_learning, "drqn": supports_q_learning, "mappo": supports_mappo}


def supports(agent: str, scenario: BatchedScenario) -> bool:
    """Whether agent ``agent`` (a key of ``AGENTS``) can act in ``scenario``: its action spaces fit the agent's heads."""
    if agent not in AGENTS:
        raise ValueError(f"unknown agent {agent!r}: known agents are {', '.join(AGENTS)}")
    return _SUPPORTS[agent](scenario)


def make_trainer(agent: str, scenario: BatchedScenario, seed: int, runs: int = 1,
                 **hyperparameters: Any) -> QTrainer | MAPPOTrainer:
    """A trainer of agent ``agent`` (a key of ``AGENTS``); unknown names, and agents whose heads do not fit the
    scenario's action spaces, raise, listing the agents that act there."""
    if not supports(agent, scenario):
        fitting = [name for name in AGENTS if supports(name, scenario)]
        raise ValueError(f"{scenario.env_id}: {agent} cannot act here (its heads do not fit the action space "
                         f"{scenario.action_space(scenario.agents[0])}); agents that act in it: "
                         f"{', '.join(fitting) or 'none'}")
    return AGENTS[agent].trainer(scenario, seed, runs, **hyperparameters)


def hyperparameters(agent: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every hyperparameter of ``agent`` as training resolves ``overrides`` (presets expanded, defaults filled in)."""
    if agent not in AGENTS:
        raise ValueError(f"unknown agent {agent!r}: known agents are {', '.join(AGENTS)}")
    return dataclasses.asdict(AGENTS[agent].build_config(dict(overrides or {})))


def load_policy(path: str | Path, scenario: BatchedScenario, name: str | None = None) -> QPolicy | MAPPOPolicy:
    """The deterministic policy saved at ``path`` (a ``policy_seed*.pt`` file of ``semcom train``) for ``scenario``.

    The file's ``agent`` field picks the loader; files load with ``torch.load(weights_only=True)``.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"policy file {str(path)!r} does not exist")
    state = torch.load(path, map_location="cpu", weights_only=True)
    agent = state.get("agent")
    if agent not in _POLICY_LOADERS:
        raise ValueError(f"{path}: not a policy file of a known agent (agent={agent!r})")
    return _POLICY_LOADERS[agent](state, scenario, name)


__all__ = ["AGENTS", "MAPPOPolicy", "MAPPOTrainer", "QPolicy", "QTrainer", "hyperparameters", "load_policy", "make_trainer", "supports"]
