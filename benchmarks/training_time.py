"""Training time of DQN and DRQN on SemCom-MultiCell-v0, and where it goes (a benchmark, never a test).

Usage::

    .venv/bin/python benchmarks/training_time.py --cells 7 --slots 100000 --agent dqn   # the full 100k-slot run
    .venv/bin/python benchmarks/training_time.py --cells 7 --slots 2000 --agent drqn    # a sample, extrapolated

Each measurement first times ``--slots`` slots without a profiler (the wall-clock reported), then
profiles a shorter stretch with cProfile to split the time into: environment step, acting
(network forward for epsilon-greedy), storing into the replay memory, and the learning step
(minibatch gather, forward, backward, optimiser), plus logging. ``--hp KEY=VALUE`` passes
hyperparameters (e.g. the reproduction's DRQN budget ``train_frequency=4 bf16_matmul=True``). With
``num_envs=E`` a slot is one environment step of one copy: ``--slots`` env steps are ``--slots / E`` trainer steps.
"""

from __future__ import annotations

import argparse
import ast
import cProfile
import json
import pstats
import time

import torch

from semcom_agents import make_trainer
from semcom_envs.leaderboard.jobs import hardware
from semcom_envs.registration import make_scenario

PARTS = {
    "environment step": ("runner.py", "step"),
    "act (forward)": ("qlearning.py", "act"),
    "store transition": ("qlearning.py", "_store"),
    "log accumulate": ("qlearning.py", "_accumulate"),
    "learn: total": ("qlearning.py", "learn"),
    "learn: backward": ("_tensor.py", "backward"),
    "learn: optimiser": ("optimizer.py", "wrapper"),
}


def measure(agent: str, cells: int, slots: int, profile_slots: int, hp: dict) -> dict:
    scenario = make_scenario("SemCom-MultiCell-v0", num_cells=cells)
    trainer = make_trainer(agent, scenario, seed=0, **hp)
    copies = trainer.config.num_envs  # a trainer step is one slot of every copy
    for _ in range(-(-trainer.config.learning_starts // copies)):  # random slots: not representative of learning
        trainer.step()
    steps = max(1, slots // copies)
    slots = steps * copies
    start = time.perf_counter()
    for _ in range(steps):
        trainer.step()
    seconds = time.perf_counter() - start
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(max(1, profile_slots // copies)):
        trainer.step()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(v[3] for k, v in stats.stats.items() if k[2] == "step" and k[0].endswith("qlearning.py"))
    shares = {}
    for part, (file, func) in PARTS.items():
        cum = sum(v[3] for k, v in stats.stats.items() if k[0].endswith(file) and k[2] == func)
        shares[part] = cum / total
    return {"agent": agent, "cells": cells, "hyperparameters": hp, "slots_timed": slots, "seconds": seconds,
            "ms_per_slot": 1e3 * seconds / slots, "seconds_per_100k_slots": seconds / slots * 1e5,
            "extrapolated": slots < 100_000, "share_of_step": shares}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agent", choices=("dqn", "drqn"), default="dqn")
    parser.add_argument("--cells", type=int, default=7)
    parser.add_argument("--slots", type=int, default=5000)
    parser.add_argument("--profile-slots", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--hp", nargs="*", default=[], metavar="KEY=VALUE")
    parser.add_argument("--json", help="append the result to this JSON-lines file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    hp = {}
    for item in args.hp:
        key, _, raw = item.partition("=")
        hp[key] = ast.literal_eval(raw)
    row = measure(args.agent, args.cells, args.slots, args.profile_slots, hp)
    row.update(threads=args.threads, hardware=hardware(), torch=torch.__version__)
    label = "extrapolated from" if row["extrapolated"] else "measured over"
    print(f"{args.agent} M={args.cells} {hp or ''}: {row['ms_per_slot']:.2f} ms/slot; 100k slots: "
          f"{row['seconds_per_100k_slots'] / 60:.1f} min ({label} {args.slots} slots, {args.threads} thread(s))")
    for part, share in row["share_of_step"].items():
        print(f"  {part:<18} {100 * share:5.1f} %")
    if args.json:
        with open(args.json, "a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
