"""A toy job for the backend tests: picklable, top level, and able to wait, fail or crash on demand."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

WAIT_S = 60.0  # longest a job waits for its file


@dataclass(frozen=True)
class Job:
    n: int
    wait_for: str | None = None  # a file to wait for: the test's on_result makes it, so this job finishes after another
    fail: bool = False
    crash: bool = False


def work(job: Job) -> dict[str, Any]:
    """``n ** 2`` and where it ran: the process id, ``OMP_NUM_THREADS`` and torch's thread count there."""
    deadline = time.monotonic() + WAIT_S
    while job.wait_for is not None and not os.path.exists(job.wait_for):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{job.wait_for} did not appear in {WAIT_S} s")
        time.sleep(0.02)
    if job.fail:
        raise ValueError(f"job {job.n} is bad")
    if job.crash:
        os._exit(3)
    import torch

    return {"square": job.n**2, "pid": os.getpid(), "omp": os.environ.get("OMP_NUM_THREADS"), "torch_threads": torch.get_num_threads()}
