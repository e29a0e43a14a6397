"""stable-baselines3 PPO on SemCom-MultiCell-v1 through SuperSuit: one policy shared by every base station.

The pipeline of PettingZoo's SB3 tutorial: ``pettingzoo_env_to_vec_env_v1`` turns the parallel env
into a vector env with one entry per agent, ``concat_vec_envs_v1`` stacks several copies of it, and
stable-baselines3's PPO trains a single MLP on all of them (parameter sharing: each base station
acts on its own observation). Afterwards the trained policy plays one episode of a fresh env, next
to a uniformly random policy on the same seed.

Run it (the defaults take about 20 s on one CPU core)::

    python examples/sb3_supersuit.py
    python examples/sb3_supersuit.py --total-steps 2000 --num-cells 3 --max-steps 10

``--total-steps`` counts PPO's timesteps: one per agent per slot. Three SuperSuit problems are
worked around here, each explained in docs/third-party.md:

- no ``pad_action_space_v0`` (it asserts on ``MultiDiscrete`` action spaces) and no
  ``pad_observations_v0``: every agent of a scenario already has the same spaces;
- no ``black_death_v3``: all agents are present on every slot, and the wrapper hides truncation
  (an episode that only truncates never ends, and the next step raises);
- no ``PPO(seed=...)``: it calls ``seed()`` on the vector env, which ``concat_vec_envs_v1``'s does not
  have; the seeds are set by hand below, as reproducibly.
"""

from __future__ import annotations

import argparse

import numpy as np
import supersuit as ss
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.utils import set_random_seed

from semcom_envs import multicell_v1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total-steps", type=int, default=100_000, help="PPO timesteps (one per agent per slot)")
    parser.add_argument("--copies", type=int, default=2, help="copies of the env stacked by concat_vec_envs_v1")
    parser.add_argument("--num-cells", type=int, default=7, help="base stations (agents); 7 in the benchmark task")
    parser.add_argument("--max-steps", type=int, default=100, help="slots per episode; 100 in the benchmark task")
    parser.add_argument("--n-steps", type=int, default=128, help="PPO rollout length per vector-env entry")
    parser.add_argument("--eval-episodes", type=int, default=5, help="episodes played by the trained and random policies")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)
    config = {"num_cells": args.num_cells, "max_steps": args.max_steps}

    # 1. PettingZoo parallel env -> vector env with one entry per agent -> copies stacked for SB3.
    env = multicell_v1.parallel_env(**config)
    venv = ss.pettingzoo_env_to_vec_env_v1(env)
    venv = ss.concat_vec_envs_v1(venv, args.copies, num_cpus=0, base_class="stable_baselines3")

    # 2. Seeds: PPO(seed=...) would raise AttributeError ('ConcatVecEnv' object has no attribute 'seed').
    #    The same effect by hand: Python, numpy and torch, the action space, and the env copies (copy i
    #    gets seed + i; the unseeded reset in PPO.learn then starts their next episodes).
    set_random_seed(args.seed)
    venv.action_space.seed(args.seed)
    venv.venv.reset(seed=args.seed)

    # 3. One PPO over all agents of all copies.
    n_envs = venv.num_envs
    model = PPO("MlpPolicy", venv, n_steps=args.n_steps, batch_size=min(256, args.n_steps * n_envs), n_epochs=4,
                learning_rate=3e-4, gamma=0.95, device="cpu", verbose=0)
    model.learn(total_timesteps=args.total_steps)
    losses = {name.removeprefix("train/"): float(value) for name, value in model.logger.name_to_value.items()
              if name.startswith("train/") and name.endswith("loss")}

    # 4. The shared policy acts for every agent of a fresh env, against random actions on the same episodes.
    def play(act) -> float:
        eval_env = multicell_v1.parallel_env(**config)
        total = 0.0
        for episode in range(args.eval_episodes):
            obs, _ = eval_env.reset(seed=args.seed + 10_000 if episode == 0 else None)
            while eval_env.agents:
                obs, rewards, _, _, _ = eval_env.step({agent: act(agent, o) for agent, o in obs.items()})
                total += sum(rewards.values())
        return total / (args.eval_episodes * len(eval_env.possible_agents))

    rng = np.random.default_rng(args.seed)
    trained = play(lambda agent, o: model.predict(o, deterministic=True)[0])
    random = play(lambda agent, o: rng.integers(0, env.action_space(agent).nvec))
    print(f"PPO timesteps {model.num_timesteps} ({n_envs} vector-env entries), last losses "
          + ", ".join(f"{k} {v:.4g}" for k, v in losses.items()))
    print(f"mean episode return per base station over {args.eval_episodes} episodes: trained {trained:.3f}, random {random:.3f}")
    return {"timesteps": model.num_timesteps, "n_envs": n_envs, **losses, "trained_return": trained, "random_return": random}


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
