"""RLlib PPO on SemCom-MultiCell-v1: one policy shared by every base station, through RLlib's PettingZoo wrapper.

RLlib (new API stack) takes the suite's PettingZoo parallel env as it is: ``ParallelPettingZooEnv``
makes it an RLlib ``MultiAgentEnv``, ``register_env`` names it, and ``.multi_agent`` maps every agent
(``bs_0 .. bs_{M-1}``) to one policy ``"shared"`` (parameter sharing; each base station acts on its
own observation). Each ``algo.train()`` call is one PPO iteration: sample, then update.

RLlib pins an older gymnasium than the rest of the suite's tools, so it lives in its own
virtualenv (``make .venv-ray``); run it there::

    .venv-ray/bin/python examples/rllib_ppo.py
    .venv-ray/bin/python examples/rllib_ppo.py --iterations 1 --train-batch-size 200 --num-cells 3 --max-steps 10
"""

from __future__ import annotations

import argparse
import logging

import ray
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv
from ray.rllib.utils.metrics import ENV_RUNNER_RESULTS, LEARNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME
from ray.tune.registry import register_env

from semcom_envs import multicell_v1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20, help="PPO iterations (algo.train() calls)")
    parser.add_argument("--train-batch-size", type=int, default=4_000, help="env steps sampled per iteration")
    parser.add_argument("--num-cells", type=int, default=7, help="base stations (agents); 7 in the benchmark task")
    parser.add_argument("--max-steps", type=int, default=100, help="slots per episode; 100 in the benchmark task")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)

    # 1. The env, registered under a name RLlib's env runners build it from.
    register_env("semcom-multicell-v1", lambda config: ParallelPettingZooEnv(multicell_v1.parallel_env(**config)))

    # 2. PPO, one policy "shared" by all agents, sampling in this process (no remote env runners).
    config = (PPOConfig()
              .environment("semcom-multicell-v1", env_config={"num_cells": args.num_cells, "max_steps": args.max_steps})
              .env_runners(num_env_runners=0)
              .multi_agent(policies={"shared"}, policy_mapping_fn=lambda agent_id, episode, **kwargs: "shared")
              .rl_module(model_config=DefaultModelConfig(fcnet_hiddens=[64, 64]))
              .training(train_batch_size=args.train_batch_size, minibatch_size=min(500, args.train_batch_size),
                        num_epochs=4, gamma=0.95, lr=3e-4)
              .debugging(seed=args.seed))

    # 3. Train: each iteration samples train_batch_size env steps, then runs the PPO epochs.
    started_ray = not ray.is_initialized()
    if started_ray:
        ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    algo = config.build_algo()
    try:
        for _ in range(args.iterations):
            result = algo.train()
            runners, losses = result[ENV_RUNNER_RESULTS], result[LEARNER_RESULTS]["shared"]
            print(f"iteration {result['training_iteration']}: env steps {runners[NUM_ENV_STEPS_SAMPLED_LIFETIME]}, "
                  f"mean episode return (all base stations) {runners.get('episode_return_mean', float('nan')):.3f}, "
                  f"total loss {losses['total_loss']:.4g}")
    finally:
        algo.stop()
        if started_ray:
            ray.shutdown()
    return {"iterations": result["training_iteration"], "env_steps": runners[NUM_ENV_STEPS_SAMPLED_LIFETIME],
            "episode_return_mean": runners.get("episode_return_mean", float("nan")),
            **{name: float(losses[name]) for name in ("total_loss", "policy_loss", "vf_loss", "entropy")}}


if __name__ == "__main__":
    main()
