"""One leaderboard job: train (agents) and evaluate one policy on one scenario for one seed, as a store row.

:func:`run_job` is a top-level function of a picklable :class:`~semcom_envs.leaderboard.protocol.Job`,
so it runs inline, in a process pool or as a Ray task alike. Training goes through
:func:`semcom_agents.training.train` with ``resume=True`` into the job's own folder under ``work_dir``: a job
interrupted during training continues from its last checkpoint (written every tenth of the budget),
the same run as an uninterrupted one. The row is returned, not written: the process that owns the
store commits it (one transaction per row).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

from semcom_envs.evaluation import environment_record, evaluate
from semcom_envs.leaderboard.protocol import AGENT_KIND, SUBMITTED_KIND, Job
from semcom_envs.leaderboard.submission import Submission, load_submitted
from semcom_envs.registration import make_scenario

CURVE_POINTS = 50
"""Learning-curve points per training run (one log window each)."""
CHECKPOINTS = 10
"""Checkpoints per training run: at most a tenth of the budget is redone after an interruption."""


def run_dir(job: Job) -> Path:
    """The training folder of an agent job (checkpoint, curve, policy file)."""
    return Path(job.work_dir) / f"{job.protocol}-v{job.version}" / job.benchmark.env_id / job.policy / f"seed{job.seed}"


def run_job(job: Job) -> dict[str, Any]:
    """Train (agents) and evaluate ``job``; returns its store row (see :mod:`semcom_envs.leaderboard.store`)."""
    from semcom_agents import load_policy
    from semcom_agents.training import policy_path, read_curve, train
    from semcom_baselines import make_policy

    bench = job.benchmark
    start = time.perf_counter()
    scenario = make_scenario(bench.env_id, **dict(bench.env_kwargs))
    curve: list[dict[str, float]] = []
    hyperparameters: dict[str, Any] = {}
    train_steps, train_wall = 0, 0.0
    earlier = 0.0  # a resumed run's training wall-clock before this call, so that a row's wall-clock is the whole run's
    if job.kind == AGENT_KIND:
        steps = bench.train_steps[job.policy]
        out = run_dir(job)
        call_start = time.perf_counter()
        meta = train(job.policy, bench.env_id, steps, job.seed, out, env_kwargs=bench.env_kwargs,
                     hyperparameters=bench.hyperparameters.get(job.policy, {}), log_every=max(1, steps // CURVE_POINTS),
                     checkpoint_every=max(1, steps // CHECKPOINTS), resume=True, progress=False, tensorboard=False)
        hyperparameters, train_steps, train_wall = meta["hyperparameters"], meta["steps_done"], meta["wall_clock_s"]
        earlier = max(0.0, train_wall - (time.perf_counter() - call_start))  # train_wall counts the checkpoint's time too
        metric = scenario.primary_metric  # the ranked quantity too, where the training log has it (the plateau check)
        curve = [{"step": row["step"], "reward": row["reward"], **({metric: row[metric]} if metric in row else {})}
                 for row in read_curve(out)]
        policy = load_policy(policy_path(out, job.seed), scenario, name=job.policy)
    elif job.kind == SUBMITTED_KIND:
        policy = load_submitted(Submission(job.policy, str(job.source)), scenario, job.seed)
        hyperparameters = {"submitted": job.source}
    else:
        policy = make_policy(job.policy, scenario)
    eval_start = time.perf_counter()
    result = evaluate(scenario, policy, bench.episodes, job.eval_seed)
    eval_wall = time.perf_counter() - eval_start
    record = environment_record()
    return {
        "protocol": job.protocol,
        "version": job.version,
        "env_id": bench.env_id,
        "policy": job.policy,
        "seed": job.seed,
        "kind": job.kind,
        "uses_global_state": bool(policy.uses_global_state),
        "primary_metric": scenario.primary_metric,
        "higher_is_better": bool(scenario.higher_is_better),
        "primary_value": result.mean(scenario.primary_metric),
        "eval_seed": job.eval_seed,
        "episodes": bench.episodes,
        "train_steps": train_steps,
        "seconds_per_decision": result.seconds_per_decision,
        "wall_clock_s": time.perf_counter() - start + earlier,
        "train_wall_clock_s": train_wall,
        "eval_wall_clock_s": eval_wall,
        "commit": source_commit(),
        "created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "config": dataclasses.asdict(scenario.config),
        "hyperparameters": hyperparameters,
        "versions": {**record["versions"], "python": record["python"]},
        "hardware": hardware(),
        "metrics": {name: result.mean(name) for name in scenario.metrics},
        "episode_values": result.episodes,
        "curve": curve,
    }


@functools.cache
def source_commit() -> str | None:
    """The git commit of the installed source (``+dirty`` with uncommitted changes), or None outside a checkout."""
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty else "")


KERNEL_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")
"""CPU features that change which float kernels run and how fast (bf16 autocast pays only with the last two)."""


@functools.cache
def hardware() -> dict[str, Any]:
    """The machine a row was produced on: CPU model, count and :data:`KERNEL_FLAGS` present, OS, torch threads
    (``None`` on the core install, where no job trains)."""
    try:
        import torch

        torch_threads = torch.get_num_threads()
    except ModuleNotFoundError:
        torch_threads = None
    model, flags = None, None  # flags: None where /proc/cpuinfo does not tell (not Linux)
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if model is None and line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
            elif flags is None and line.startswith("flags"):
                present = set(line.split(":", 1)[1].split())
                flags = [f for f in KERNEL_FLAGS if f in present]
    except OSError:
        pass
    return {"cpu": model or platform.processor() or platform.machine(), "cpus": os.cpu_count(), "cpu_flags": flags,
            "platform": platform.platform(), "torch_threads": torch_threads, "node": platform.node()}
