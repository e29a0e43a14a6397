"""Training throughput of every agent on every benchmark task, beside stable-baselines3's PPO (a benchmark, never a test).

Env steps per second *while training* (acting, stepping the environments, storing, learning), one
process, one torch thread, in one run so the ratios compare like with like on this machine:

- each learning agent of the default protocol on each task, with the protocol's hyperparameters;
- DQN and DRQN also with ``num_envs = 16, train_frequency = 16`` (16 copies per run, one learning step
  per 16 env steps: the batched actors of issue 18), the setting that lets budgets grow at equal
  wall-clock;
- stable-baselines3's PPO (``MlpPolicy``, the suite's PPO settings of :data:`semcom_agents.sb3_joint.PPO_DEFAULTS`,
  8 copies in SB3's ``DummyVecEnv``) on the task's joint Gymnasium env (``gym.make(env_id)``: one
  centralised policy, one step = one step of every agent), the anchor: ratio = agent / SB3.

A step is one environment step of one run (all agents act), the unit of the protocol's budgets and of
SB3's ``total_timesteps``. Each measurement first runs past the agent's random warm-up
(``learning_starts``) or SB3's first rollout, then times ``--seconds`` of training (at least one update).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/training_throughput.py [--seconds 20] [--json FILE] [--env ID ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from typing import Any

import torch

from semcom_agents import make_trainer
from semcom_agents.sb3_joint import PPO_DEFAULTS
from semcom_envs.evaluation import environment_record
from semcom_envs.leaderboard.protocol import DEFAULT
from semcom_envs.registration import make_scenario

BATCHED_Q = {"num_envs": 16, "train_frequency": 16}
"""DQN/DRQN acting in 16 copies per run with one learning step per 16 env steps."""
SB3_ENVS = 8


def agent_rate(agent: str, env_id: str, env_kwargs: dict, hp: dict, seconds: float) -> dict[str, Any]:
    """Env steps per second of one training run of ``agent`` (after its warm-up), and the learning steps made."""
    trainer = make_trainer(agent, make_scenario(env_id, **env_kwargs), 0, 1, **hp)
    warm = getattr(trainer.config, "learning_starts", 0)
    while trainer.slot <= warm:
        trainer.step()
    slot, learned, start = trainer.slot, trainer.learning_steps, time.perf_counter()
    while time.perf_counter() - start < seconds or trainer.learning_steps == learned:
        trainer.step()
    wall = time.perf_counter() - start
    trainer.close()
    return {"steps_per_s": (trainer.slot - slot) / wall, "learning_steps": trainer.learning_steps - learned, "seconds": wall}


def sb3_rate(env_id: str, env_kwargs: dict, seconds: float) -> dict[str, Any]:
    """Joint env steps per second of SB3 PPO learning on ``gym.make(env_id)``, ``SB3_ENVS`` copies."""
    import gymnasium as gym
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    venv = make_vec_env(lambda: gym.make(env_id, **env_kwargs), n_envs=SB3_ENVS, seed=0)
    model = PPO("MlpPolicy", venv, seed=0, device="cpu", verbose=0, **PPO_DEFAULTS)
    rollout = SB3_ENVS * PPO_DEFAULTS["n_steps"]
    model.learn(total_timesteps=rollout)  # the first rollout and update: warm-up
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or steps == 0:
        model.learn(total_timesteps=rollout, reset_num_timesteps=False)
        steps += rollout
    wall = time.perf_counter() - start
    venv.close()
    return {"steps_per_s": steps / wall, "seconds": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="timed training per measurement")
    parser.add_argument("--env", action="append", choices=DEFAULT.env_ids, default=[], help="only this task (repeatable)")
    parser.add_argument("--json", help="also write the measurements to this file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for bench in DEFAULT.benchmarks:
        if args.env and bench.env_id not in args.env:
            continue
        kwargs = dict(bench.env_kwargs)
        try:
            anchor = sb3_rate(bench.env_id, kwargs, args.seconds)
        except Exception as err:  # noqa: BLE001 - an anchor that cannot run is reported, not fatal
            anchor = {"steps_per_s": float("nan"), "error": f"{type(err).__name__}: {err}"}
        rows.append({"env_id": bench.env_id, "agent": "sb3_ppo (joint env)", "hyperparameters": PPO_DEFAULTS, **anchor})
        print(f"{bench.env_id} sb3_ppo: {anchor['steps_per_s']:.0f} steps/s {anchor.get('error', '')}", flush=True)
        variants = [(agent, dict(bench.hyperparameters.get(agent, {}))) for agent in bench.train_steps]
        variants += [(agent, {**hp, **BATCHED_Q}) for agent, hp in variants if agent in ("dqn", "drqn")]
        for agent, hp in variants:
            rate = agent_rate(agent, bench.env_id, kwargs, hp, args.seconds)
            rows.append({"env_id": bench.env_id, "agent": agent, "hyperparameters": hp, **rate,
                         "ratio_to_sb3": rate["steps_per_s"] / anchor["steps_per_s"]})
            print(f"{bench.env_id} {agent} {hp}: {rate['steps_per_s']:.0f} steps/s, x{rows[-1]['ratio_to_sb3']:.2f} SB3",
                  flush=True)
    print("\n| task | agent | hyperparameters (protocol's, + batched) | env steps / s while training | ratio to SB3 PPO |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        hp = ", ".join(f"{k}={v}" for k, v in row["hyperparameters"].items()) if row["agent"] != "sb3_ppo (joint env)" \
            else f"{SB3_ENVS} copies, n_steps={PPO_DEFAULTS['n_steps']}"
        ratio = f"{row['ratio_to_sb3']:.2f}" if "ratio_to_sb3" in row else "1 (anchor)"
        print(f"| {row['env_id']} | {row['agent']} | {hp} | {row['steps_per_s']:,.0f} | {ratio} |")
    if args.json:
        record = environment_record()
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "seconds": args.seconds, "cpu": platform.processor() or platform.machine(),
                       "cpus": os.cpu_count(), "torch_threads": 1, **record}, f, indent=1)


if __name__ == "__main__":
    main()
