"""``execute`` on the local backend: inline and in a spawn process pool, results handed back here in completion
order, failures collected without losing the other results, interruption prompt, arguments validated."""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import pytest

from semcom_envs.leaderboard.backends import execute
from tests.leaderboard.toy_jobs import WAIT_S, Job, work


def test_inline_runs_in_order_in_this_process() -> None:
    jobs = [Job(n) for n in range(4)]
    seen: list[tuple[Job, dict[str, Any]]] = []
    execute(jobs, work, lambda job, result: seen.append((job, result)), progress=True)
    assert [job for job, _ in seen] == jobs
    assert [result["square"] for _, result in seen] == [0, 1, 4, 9]
    assert {result["pid"] for _, result in seen} == {os.getpid()}


def test_pool_hands_results_here_in_completion_order(tmp_path: Path) -> None:
    marker = tmp_path / "delivered"
    jobs = [Job(0, wait_for=str(marker)), *(Job(n) for n in range(1, 5))]  # job 0 ends only after a result was delivered
    seen: list[tuple[Job, dict[str, Any], int]] = []

    def on_result(job: Job, result: dict[str, Any]) -> None:
        seen.append((job, result, os.getpid()))
        marker.touch()

    omp_before = os.environ.get("OMP_NUM_THREADS")
    execute(jobs, work, on_result, workers=2)
    assert sorted(job.n for job, _, _ in seen) == [0, 1, 2, 3, 4]
    assert seen[0][0] != jobs[0]
    assert {pid for _, _, pid in seen} == {os.getpid()}
    worker_pids = {result["pid"] for _, result, _ in seen}
    assert os.getpid() not in worker_pids and len(worker_pids) <= 2
    assert {(result["omp"], result["torch_threads"]) for _, result, _ in seen} == {("1", 1)}
    assert os.environ.get("OMP_NUM_THREADS") == omp_before


@pytest.mark.parametrize("workers", [1, 2])
def test_failing_job_keeps_the_others(workers: int) -> None:
    jobs = [Job(n, fail=n == 2) for n in range(5)]
    delivered: list[int] = []
    with pytest.raises(RuntimeError, match="1 of 5 jobs failed") as err:
        execute(jobs, work, lambda job, result: delivered.append(result["square"]), workers=workers)
    assert sorted(delivered) == [0, 1, 9, 16]
    message = str(err.value)
    assert "Job(n=2," in message and "ValueError: job 2 is bad" in message and "Job(n=1," not in message


def test_crashed_worker_is_reported_not_hung() -> None:
    with pytest.raises(RuntimeError, match="BrokenProcessPool") as err:
        execute([Job(0, crash=True), Job(1)], work, lambda job, result: None, workers=2)
    assert "Job(n=0," in str(err.value)


def test_interrupt_stops_the_workers_promptly(tmp_path: Path) -> None:
    jobs = [Job(0, wait_for=str(tmp_path / "never")), Job(1)]

    def on_result(job: Job, result: dict[str, Any]) -> None:
        raise KeyboardInterrupt

    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        execute(jobs, work, on_result, workers=2)
    assert time.monotonic() - start < WAIT_S / 2
    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not multiprocessing.active_children()


def test_on_result_error_stops_the_run() -> None:
    delivered: list[Job] = []

    def on_result(job: Job, result: dict[str, Any]) -> None:
        delivered.append(job)
        if job.n == 1:
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        execute([Job(n) for n in range(4)], work, on_result)
    assert delivered == [Job(0), Job(1)]


def test_no_jobs_does_nothing() -> None:
    execute([], work, lambda job, result: pytest.fail("no job ran"), backend="ray", workers=2)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"backend": "dask"}, r"backend='dask' is invalid: must be one of \['local', 'ray'\]"),
    ({"workers": 0}, r"workers=0 is invalid: must be an integer >= 1"),
    ({"workers": 1.5}, r"workers=1.5 is invalid"),
    ({"workers": True}, r"workers=True is invalid"),
    ({"address": "auto"}, r"address='auto' is only used by backend='ray'"),
])
def test_bad_arguments_are_named(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        execute([Job(0)], work, lambda job, result: None, **kwargs)


@pytest.mark.skipif(importlib.util.find_spec("ray") is not None, reason="Ray is installed")
def test_ray_backend_without_ray_names_the_extra() -> None:
    with pytest.raises(ImportError, match=r"needs Ray: the 'ray' extra"):
        execute([Job(0)], work, lambda job, result: None, backend="ray")
