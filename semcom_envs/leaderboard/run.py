"""Run a protocol into a store: every job not stored yet, on the chosen backend.

Resumable by construction: the pending jobs are the protocol's jobs minus the stored keys, each
finished job's row is committed in its own transaction as soon as it arrives, and an agent job
interrupted during training resumes from its checkpoint in ``work_dir``. Killing the run at any point
therefore loses at most the unfinished jobs' progress since their last checkpoint, and never
duplicates or half-writes a result.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from semcom_envs.leaderboard.backends import execute
from semcom_envs.leaderboard.jobs import run_job
from semcom_envs.leaderboard.protocol import Job, Protocol
from semcom_envs.leaderboard.store import Store
from semcom_envs.leaderboard.submission import Submission


@dataclasses.dataclass(frozen=True)
class RunSummary:
    total: int
    """Jobs of the selection."""
    already_stored: int
    stored: int
    """Rows written by this call."""


def run(protocol: Protocol, store: Store, work_dir: str | Path, env_ids: Iterable[str] | None = None,
        policies: Iterable[str] | None = None, backend: str = "local", workers: int = 1, address: str | None = None,
        progress: bool = True, submissions: Iterable[Submission] = ()) -> RunSummary:
    """Run every job of ``protocol`` (or of the selected scenarios and policies) that ``store`` lacks.

    With ``submissions`` (users' policies, :mod:`semcom_envs.leaderboard.submission`), only they run on the
    selected scenarios, plus the protocol's own policies named in ``policies``.
    """
    protocol.check()
    submissions = list(submissions)
    jobs = protocol.submission_jobs(submissions, work_dir, env_ids)
    if not submissions or policies is not None:
        jobs += protocol.jobs(work_dir, env_ids, policies)
    done = {version: store.keys(protocol.name, version) for version in {j.version for j in jobs}}
    pending = [j for j in jobs if j.key not in done[j.version]]
    written = 0

    def commit(job: Job, row: dict[str, Any]) -> None:
        nonlocal written
        written += store.put(row)

    execute(pending, run_job, commit, backend=backend, workers=workers, address=address, progress=progress)
    return RunSummary(total=len(jobs), already_stored=len(jobs) - len(pending), stored=written)
