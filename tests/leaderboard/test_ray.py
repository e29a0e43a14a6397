"""Ray: ``execute(backend="ray")`` on a local instance, and RLlib PPO training on a scenario's PettingZoo env.

Marked ``ray`` and run only in the ``.venv-ray`` virtualenv (``make test-ray``): RLlib pins an older gymnasium
than the main suite's. Ray is imported inside the tests, so the main suite collects this module without it
and deselects it (``-m "not ray"``), while ``-m ray`` without Ray fails rather than skips.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from semcom_envs import multicell_v0
from semcom_envs.leaderboard.backends import execute
from tests.leaderboard.toy_jobs import Job, work

pytestmark = pytest.mark.ray


def test_execute_starts_and_stops_a_local_ray(tmp_path: Path) -> None:
    import ray

    assert not ray.is_initialized()
    marker = tmp_path / "delivered"
    jobs = [Job(0, wait_for=str(marker)), Job(1), Job(2, fail=True), Job(3)]
    seen: list[tuple[Job, dict[str, Any]]] = []

    def on_result(job: Job, result: dict[str, Any]) -> None:
        seen.append((job, result))
        marker.touch()

    with pytest.raises(RuntimeError, match="1 of 4 jobs failed") as err:
        execute(jobs, work, on_result, backend="ray", workers=2, progress=True)
    assert "Job(n=2," in str(err.value) and "ValueError: job 2 is bad" in str(err.value)
    assert sorted(job.n for job, _ in seen) == [0, 1, 3]
    assert seen[0][0] != jobs[0]  # completion order: job 0 waited for another's delivery
    assert os.getpid() not in {result["pid"] for _, result in seen}
    assert {(result["omp"], result["torch_threads"]) for _, result in seen} == {("1", 1)}  # Ray's one-CPU tasks
    assert not ray.is_initialized()


@pytest.fixture(scope="module")
def ray_session() -> Iterator[ModuleType]:
    """A local Ray instance shared by the tests below, started here (so ``execute`` must leave it running)."""
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    yield ray
    ray.shutdown()


def test_execute_leaves_a_running_ray_running(ray_session: ModuleType) -> None:
    delivered: list[int] = []
    execute([Job(n) for n in range(3)], work, lambda job, result: delivered.append(result["square"]), backend="ray", workers=2)
    assert sorted(delivered) == [0, 1, 4]
    assert ray_session.is_initialized()


def test_rllib_ppo_trains_on_the_pettingzoo_env(ray_session: ModuleType) -> None:
    """RLlib's own PettingZoo wrapper takes the parallel env as it is: one PPO iteration, one policy shared by all."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
    from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv
    from ray.rllib.utils.metrics import ENV_RUNNER_RESULTS, LEARNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME
    from ray.tune.registry import register_env

    register_env("semcom-multicell", lambda config: ParallelPettingZooEnv(multicell_v0.parallel_env(**config)))
    config = (PPOConfig()
              .environment("semcom-multicell", env_config={"num_cells": 3, "max_steps": 20})
              .env_runners(num_env_runners=0)
              .multi_agent(policies={"shared"}, policy_mapping_fn=lambda agent_id, episode, **kwargs: "shared")
              .rl_module(model_config=DefaultModelConfig(fcnet_hiddens=[16]))
              .training(train_batch_size=80, minibatch_size=40, num_epochs=1)
              .debugging(seed=0))
    algo = config.build_algo()
    try:
        result = algo.train()
    finally:
        algo.stop()
    assert result[ENV_RUNNER_RESULTS][NUM_ENV_STEPS_SAMPLED_LIFETIME] > 0
    assert math.isfinite(result[ENV_RUNNER_RESULTS]["episode_return_mean"])
    losses = result[LEARNER_RESULTS]["shared"]
    assert all(math.isfinite(losses[name]) for name in ("total_loss", "policy_loss", "vf_loss", "entropy"))


# --- end-to-end: `semcom leaderboard run --backend ray` --------------------------------------------------


def test_leaderboard_run_on_ray_writes_the_same_results(tiny_store, tmp_path: Path, capsys) -> None:
    """`semcom leaderboard run --backend ray` farms the jobs to a local Ray instance and stores what a local run stores."""
    import json

    from semcom_envs.cli import main
    from semcom_envs.leaderboard.store import Store
    from tests.leaderboard.test_run import DETERMINISTIC

    protocol, local = tiny_store
    protocol_file = tmp_path / "protocol.json"
    protocol_file.write_text(json.dumps(protocol.to_dict()))
    store = tmp_path / "ray.db"
    assert main(["leaderboard", "run", "--protocol", str(protocol_file), "--store", str(store), "--work-dir",
                 str(tmp_path / "runs"), "--backend", "ray", "--workers", "2", "--no-progress"]) == 0
    assert f"{len(protocol.jobs(tmp_path))} results stored" in capsys.readouterr().out
    got, want = Store(store).rows(), local.rows()
    assert [(r["env_id"], r["policy"], r["seed"]) for r in got] == [(r["env_id"], r["policy"], r["seed"]) for r in want]
    for g, w in zip(got, want):
        assert {k: g[k] for k in DETERMINISTIC} == {k: w[k] for k in DETERMINISTIC}
    assert {r["hardware"]["torch_threads"] for r in got} == {1}
