"""Training runs as ``semcom train`` performs them: logged, checkpointed, resumable.

A training folder holds:

- ``meta.json``: agent, env id and config, hyperparameters, seeds, steps done, wall-clock,
  package versions and machine; rewritten at every checkpoint.
- ``curve.csv``: one row per run and log window (``log_every`` steps): the step, the seed, the
  window means of the team reward and of every numeric info (for MultiCell ``ee_normalised``,
  ``qoe``, ``tx_power_w``, ...) and the agent's own quantities (DQN/DRQN: mean TD loss, epsilon,
  learning rate; MAPPO: policy and value loss, entropy, approximate KL, clip fraction, explained
  variance, learning rate).
- ``tb/seed<S>/``: the same curve as TensorBoard scalars.
- ``checkpoint.pt``: the trainer's full state (:meth:`Trainer.state_dict`), written atomically
  whenever a multiple of ``checkpoint_every`` steps is reached and at the end. ``resume=True`` continues
  from it; the continuation is the same run as an uninterrupted one (same curve, same weights).
- ``policy_seed<S>.pt``: each run's deterministic policy, loadable by ``semcom eval --policy PATH``.

Steps are environment steps per run, the trainer's :attr:`Trainer.slot`: every agent steps
``num_envs`` copies per run at once (DQN/DRQN default 1, so a step is a slot), so ``slot`` (and
``steps``, ``log_every``, ``checkpoint_every``) advance by ``num_envs`` per trainer step.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import torch

from semcom_agents import make_trainer
from semcom_agents.common import atomic_save, save_policy
from semcom_envs.config import check_int
from semcom_envs.evaluation import environment_record
from semcom_envs.progress import Steps
from semcom_envs.registration import make_scenario


class Trainer(Protocol):
    """What :func:`train` needs of an agent's trainer (:class:`~semcom_agents.qlearning.QTrainer`,
    :class:`~semcom_agents.mappo.MAPPOTrainer`)."""

    agent: str
    scenario: Any
    config: Any
    """A dataclass of hyperparameters (written to ``meta.json``)."""
    seeds: list[int]
    slot: int
    """Environment steps done per run."""
    learning_steps: int
    """Gradient updates done (DQN/DRQN: learning steps; MAPPO: PPO updates)."""
    curve: list[dict[str, float]]

    @property
    def first_update_step(self) -> int:
        """Env steps per run by which the first gradient update has run (a shorter run learns nothing)."""

    first_update_set_by: str
    """The hyperparameters that set :attr:`first_update_step` (named in the error of a budget below it)."""

    def step(self) -> None:
        """Advance every run by one step unit (``slot`` grows by one or more)."""

    def flush_log(self) -> list[dict[str, float]]:
        """Close the log window: one row per run, also appended to ``curve``."""

    def status(self) -> str:
        """Short text for the progress bar."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...

    def policy_state(self, run: int) -> dict[str, Any]:
        """Run ``run``'s policy-file payload."""

    def close(self) -> None: ...


def policy_path(out_dir: Path, seed: int) -> Path:
    """Where run ``seed``'s policy file is written."""
    return out_dir / f"policy_seed{seed}.pt"


def train(agent: str, env_id: str, steps: int, seed: int, out_dir: str | Path, runs: int = 1,
          env_kwargs: Mapping[str, Any] | None = None, hyperparameters: Mapping[str, Any] | None = None,
          log_every: int = 1000, checkpoint_every: int = 10_000, resume: bool = False,
          progress: bool = True, tensorboard: bool = True, stop_after: int | None = None) -> dict[str, Any]:
    """Train ``runs`` runs (seeds ``seed ..``) of ``agent`` for ``steps`` env steps each; returns ``meta.json``'s content.

    A log row is written and a checkpoint saved whenever ``slot`` reaches or passes a multiple of
    ``log_every`` / ``checkpoint_every`` (and at the end). ``stop_after`` ends the call once that
    many steps of this call are done (simulating an interruption: the checkpoint is written
    first); tests use it, users interrupt with Ctrl-C.
    """
    check_int("steps", steps, low=1)
    check_int("log_every", log_every, low=1)
    check_int("checkpoint_every", checkpoint_every, low=1)
    out = Path(out_dir)
    ckpt = out / "checkpoint.pt"
    scenario = make_scenario(env_id, **dict(env_kwargs or {}))
    trainer = make_trainer(agent, scenario, seed, runs, **dict(hyperparameters or {}))
    if steps < trainer.first_update_step:
        trainer.close()
        raise ValueError(f"steps={steps} ends before {agent}'s first update, at {trainer.first_update_step} env steps per "
                         f"run: the policy would be untrained; pass steps >= {trainer.first_update_step} (--steps), or "
                         f"lower what sets it ({trainer.first_update_set_by})")
    wall = 0.0
    if ckpt.exists():
        if not resume:
            raise ValueError(f"{out} already holds a training checkpoint: pass resume=True (--resume) to continue it, "
                             "or choose another output folder")
        state = torch.load(ckpt, map_location="cpu", weights_only=False)  # our own file, with numpy arrays
        trainer.load_state_dict(state["trainer"])
        if trainer.slot > steps:  # the run would be longer than asked: its policy is not a run of `steps` steps
            raise ValueError(f"{out} holds a checkpoint at {trainer.slot} steps per run, beyond steps={steps}: "
                             "raise steps, or train into another output folder")
        wall = state["wall_clock_s"]
    out.mkdir(parents=True, exist_ok=True)
    writers = _writers(out, trainer) if tensorboard else {}

    def save_all() -> dict[str, Any]:
        atomic_save({"trainer": trainer.state_dict(), "wall_clock_s": wall + time.perf_counter() - start}, ckpt)
        for r, s in enumerate(trainer.seeds):
            save_policy(trainer.policy_state(r), policy_path(out, s))
        meta = _meta(trainer, steps, wall + time.perf_counter() - start, log_every, checkpoint_every)
        (out / "meta.json").write_text(json.dumps(meta, indent=1))
        return meta

    start = time.perf_counter()
    target = steps if stop_after is None else min(steps, trainer.slot + stop_after)
    with Steps(f"{agent} on {env_id}, steps", steps, enabled=progress, completed=trainer.slot) as bar:
        while trainer.slot < target:
            before = trainer.slot
            trainer.step()
            if trainer.slot // log_every > before // log_every or trainer.slot >= steps:
                rows = trainer.flush_log()
                _write_curve(out / "curve.csv", trainer.curve)
                for row in rows:
                    if row["seed"] in writers:
                        for name, value in row.items():
                            if name not in ("step", "seed"):
                                writers[row["seed"]].add_scalar(name, value, row["step"])
                bar.advance(trainer.slot - bar.done,
                            note=f"reward {sum(r['reward'] for r in rows) / len(rows):.3f}  {trainer.status()}")
            if trainer.slot // checkpoint_every > before // checkpoint_every:
                save_all()
        bar.advance(trainer.slot - bar.done)  # steps since the last curve row (a run stopped by stop_after)
    meta = save_all()
    for w in writers.values():
        w.close()
    trainer.close()
    return meta


def _writers(out: Path, trainer: Trainer) -> dict[int, Any]:
    """One TensorBoard writer per run; events after the checkpoint's step are purged on resume."""
    from torch.utils.tensorboard import SummaryWriter

    return {s: SummaryWriter(str(out / "tb" / f"seed{s}"), purge_step=trainer.slot or None) for s in trainer.seeds}


def _write_curve(path: Path, rows: list[dict[str, float]]) -> None:
    """The whole curve, rewritten (small), so a resumed run never duplicates rows."""
    if not rows:
        return
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)


THREAD_VARIABLE = "OMP_NUM_THREADS"
"""The variable torch sizes its intra-op pool from at import; when set, :func:`pick_torch_threads` keeps it."""


def pick_torch_threads(requested: int | None = None) -> tuple[int, str]:
    """Torch threads for a training process that must not oversubscribe the cores it shares, and why.

    ``requested`` (``--threads``) wins, then ``OMP_NUM_THREADS``; otherwise the cores this process may
    run on (its CPU affinity) less those other processes keep busy (the 1-minute load average, rounded),
    at least 1. Why (MAPPO on SemCom-MultiCell-v1, 2-core AMD EPYC VM): with one core kept busy by another
    process, 20,000 steps took 23.3 s with 2 torch threads against 14.5 s with 1 (a thread waits for the
    busy core at every parallel op; issue 18 saw up to 13x), while on idle cores 2 threads were 1.35x faster
    (60,000 steps: 24.2 s against 32.8 s).
    """
    if requested is not None:
        check_int("threads", requested, low=1)
        return requested, "--threads"
    if os.environ.get(THREAD_VARIABLE):
        return torch.get_num_threads(), f"{THREAD_VARIABLE}={os.environ[THREAD_VARIABLE]}"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    busy = round(os.getloadavg()[0]) if hasattr(os, "getloadavg") else 0
    threads = max(1, cores - busy)
    return threads, f"{cores} cores available, {busy} kept busy by other processes (1-minute load average)"


def _meta(trainer: Trainer, steps: int, wall: float, log_every: int, checkpoint_every: int) -> dict[str, Any]:
    return {
        "agent": trainer.agent,
        "env_id": trainer.scenario.env_id,
        "env_config": dataclasses.asdict(trainer.scenario.config),
        "hyperparameters": dataclasses.asdict(trainer.config),
        "seeds": trainer.seeds,
        "steps_target": steps,
        "steps_done": trainer.slot,
        "learning_steps": trainer.learning_steps,
        "wall_clock_s": wall,
        "torch_threads": torch.get_num_threads(),
        "bf16_learning_steps": getattr(trainer, "bf16", False),
        "log_every": log_every,
        "checkpoint_every": checkpoint_every,
        **environment_record(),
    }


def read_curve(out_dir: str | Path) -> list[dict[str, float]]:
    """``curve.csv`` of a training folder as a list of rows (floats)."""
    with (Path(out_dir) / "curve.csv").open() as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]
