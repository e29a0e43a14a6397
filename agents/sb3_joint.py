"""Single-agent reference: stable-baselines3 PPO on a scenario's joint view (what ``gym.make`` returns).

One centralised policy observes every agent's observation (concatenated) and outputs the joint
action; the reward is the team reward. It is the "what if one agent controlled everything"
reference next to the decentralised MAPPO. :class:`SB3JointPolicy` wraps a trained model as a
batched :class:`~semcom_baselines.policy.Policy`, so the suite's evaluation runs it on the same episodes
as every other policy.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from semcom_envs.api.core import BatchedScenario
from semcom_envs.api.joint import JointView
from semcom_envs.evaluation import environment_record

PPO_DEFAULTS: dict[str, Any] = {"n_steps": 256, "batch_size": 256, "gamma": 0.95, "gae_lambda": 0.98,
                                "clip_range": 0.3, "vf_coef": 0.5, "ent_coef": 0.005}
"""The semantic-offloading source's PPO settings (its journal version's); other arguments are SB3's defaults."""


class SB3JointPolicy:
    """Deterministic actions of an SB3 model trained on the joint view, batched over copies."""

    uses_global_state = False

    def __init__(self, model: Any, scenario: BatchedScenario, name: str = "sb3_ppo") -> None:
        self.model, self.name, self.env_id = model, name, scenario.env_id
        self.joint = JointView(scenario)
        if self.joint.observation_space.shape != model.observation_space.shape:
            raise ValueError(f"model observes shape {model.observation_space.shape}, "
                             f"{scenario.env_id} gives {self.joint.observation_space.shape}")

    def supports(self, env_id: str) -> bool:
        return env_id == self.env_id

    def reset(self, seed: int | None = None) -> None:
        """Nothing to reset: the policy is deterministic and memoryless."""

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        actions, _ = self.model.predict(self.joint.observations(observations), deterministic=True)
        return self.joint.split_actions(actions, len(actions))


def train_ppo(env_id: str, steps: int, seed: int, out_dir: str | Path, env_kwargs: Mapping[str, Any] | None = None,
              num_envs: int = 8, hyperparameters: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Train SB3 PPO for ``steps`` joint env steps on ``num_envs`` copies; writes ``model.zip`` and ``meta.json``.

    A finished run of the same settings in ``out_dir`` is reused, not retrained; one of other
    settings raises.
    """
    import gymnasium as gym
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    out = Path(out_dir)
    meta_path = out / "meta.json"
    kwargs = dict(env_kwargs or {})
    params = {**PPO_DEFAULTS, **dict(hyperparameters or {})}
    wanted = {"env_id": env_id, "env_config": kwargs, "hyperparameters": params, "num_envs": num_envs, "seed": seed,
              "steps": steps}
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        differing = sorted(name for name, value in wanted.items() if meta.get(name) != value)
        if differing:
            raise ValueError(f"{out} holds a PPO run with other {', '.join(differing)}: choose another folder")
        return meta
    venv = make_vec_env(lambda: gym.make(env_id, **kwargs), n_envs=num_envs, seed=seed)
    model = PPO("MlpPolicy", venv, seed=seed, device="cpu", verbose=0, **params)
    start = time.perf_counter()
    model.learn(total_timesteps=steps)
    wall = time.perf_counter() - start
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.zip")
    meta = {"agent": "sb3_ppo", **wanted, "wall_clock_s": wall, "torch_threads": torch.get_num_threads(),
            **environment_record()}
    meta_path.write_text(json.dumps(meta, indent=1))
    return meta


def load_ppo_policy(path: str | Path, scenario: BatchedScenario, name: str = "sb3_ppo") -> SB3JointPolicy:
    """The policy of a ``model.zip`` written by :func:`train_ppo` (or any SB3 PPO on the joint view)."""
    from stable_baselines3 import PPO

    return SB3JointPolicy(PPO.load(str(path), device="cpu"), scenario, name=name)
