"""Run independent jobs locally (inline or in a process pool) or on a Ray cluster.

A leaderboard run is many independent (submission, scenario, seed) evaluations. :func:`execute` runs
them wherever asked and hands each result back to the calling process as soon as its job finishes, so
the caller can commit it to its store right away: an interrupted run loses only the unfinished jobs and
resumes by skipping the stored ones. A failing job does not lose the others; the failures are reported
together once every job has run.

Backends: ``local`` with one worker runs the jobs inline, in order; with more it uses a ``spawn`` process
pool (torch is not fork-safe) whose workers use one BLAS/torch thread each, so ``workers`` is the number of
cores used. ``ray`` submits every job as a one-CPU Ray task, to a fresh local instance of ``workers`` CPUs
or to the cluster at ``address``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, TypeVar

from semcom_envs.progress import Steps

J = TypeVar("J")
R = TypeVar("R")

BACKENDS = ("local", "ray")
# Thread-count variables of OpenMP and the BLAS libraries, read once when each library loads.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
TRACEBACK_LINES = 6  # the innermost lines of a failed job's traceback quoted in the error

Outcome = tuple[bool, Any]  # (True, result) or (False, the traceback text)


def execute(jobs: Sequence[J], fn: Callable[[J], R], on_result: Callable[[J, R], None], *, backend: str = "local",
            workers: int = 1, address: str | None = None, progress: bool = False) -> None:
    """Run ``fn(job)`` for every job and call ``on_result(job, result)`` here as each one finishes.

    ``fn`` must be a picklable top-level function and every job picklable (for ``workers > 1`` or Ray);
    results come back in completion order. ``backend="ray"`` with ``address=None`` starts (and afterwards
    shuts down) a local Ray instance with ``workers`` CPUs; with an address (``"auto"``, ``"host:port"``,
    ``"ray://host:port"``) it connects to that cluster, whose CPUs set the parallelism and whose workers
    must be able to import ``fn`` and the jobs. An already initialised Ray is used as it is and left running.

    Raises ``RuntimeError`` after every job has run if any failed, naming each failed job with the end of
    its traceback. An exception from ``on_result`` and ``KeyboardInterrupt`` stop the run at once: pending
    jobs are cancelled and running workers stopped.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} is invalid: must be one of {list(BACKENDS)}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers={workers!r} is invalid: must be an integer >= 1")
    if address is not None and backend != "ray":
        raise ValueError(f"address={address!r} is only used by backend='ray', not backend={backend!r}")
    jobs = list(jobs)
    if not jobs:
        return
    failures: list[tuple[J, str]] = []
    with Steps("jobs", len(jobs), enabled=progress) as bar:

        def finish(job: J, outcome: Outcome) -> None:
            ok, value = outcome
            if ok:
                on_result(job, value)
            else:
                failures.append((job, value))
            bar.advance(note=f"{len(failures)} failed" if failures else "")

        if backend == "ray":
            _run_ray(jobs, fn, finish, workers, address)
        elif workers == 1:
            for job in jobs:
                finish(job, _call(fn, job))
        else:
            _run_pool(jobs, fn, finish, min(workers, len(jobs)))
    if failures:
        report = "\n".join(f"- {job!r}:\n{_tail(text)}" for job, text in failures)
        raise RuntimeError(f"{len(failures)} of {len(jobs)} jobs failed:\n{report}")


def _call(fn: Callable[[J], R], job: J) -> Outcome:
    """``fn(job)`` as an outcome: a job's exception becomes its traceback text (always picklable), from ``fn`` in."""
    try:
        return True, fn(job)
    except Exception as exc:
        return False, "".join(traceback.format_exception(type(exc), exc, exc.__traceback__.tb_next))


def _tail(text: str) -> str:
    """The last lines of a traceback (the failing frame and the exception), indented under its job."""
    lines = text.rstrip().splitlines()[-TRACEBACK_LINES:]
    return "\n".join(f"    {line}" for line in lines)


def _exception_text(exc: BaseException) -> str:
    """A failure of the backend itself (a crashed worker, an unpicklable job): its type and message."""
    return "".join(traceback.format_exception_only(type(exc), exc))


# --- local process pool --------------------------------------------------------------------------------


@contextmanager
def _single_threaded_children() -> Iterator[None]:
    """Set the thread-count variables to 1 while the pool's workers start; restore the caller's after.

    A spawned worker inherits the environment before it imports anything, and numpy's BLAS and torch
    (``torch.get_num_threads()``) size their thread pools from it on import: one thread each.
    """
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update({name: "1" for name in THREAD_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


def _init_worker() -> None:
    """Pool worker setup: Ctrl-C is the parent's to handle (it stops the workers)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_pool(jobs: list[J], fn: Callable[[J], R], finish: Callable[[J, Outcome], None], workers: int) -> None:
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker)
    try:
        with _single_threaded_children():  # the workers start within submit (never later: no max_tasks_per_child)
            pending: dict[Future[Outcome], J] = {pool.submit(_call, fn, job): job for job in jobs}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:  # the pool's own failure: a worker died, a job did not pickle
                    outcome = (False, _exception_text(exc))
                finish(job, outcome)
    except BaseException:
        # Stop now rather than after the running jobs: cancel the queue and end the workers.
        for process in list(pool._processes.values()):  # no public API before Python 3.14's terminate_workers
            process.terminate()
        pool.shutdown(cancel_futures=True)  # prompt: its workers are gone
        raise
    pool.shutdown()


# --- Ray ---------------------------------------------------------------------------------------------------


def _run_ray(jobs: list[J], fn: Callable[[J], R], finish: Callable[[J, Outcome], None], workers: int, address: str | None) -> None:
    try:
        import ray
    except ImportError:
        raise ImportError("backend='ray' needs Ray: the 'ray' extra (in a clone: make .venv-ray, or pip install -e '.[ray]')") from None
    started = not ray.is_initialized()
    if started:
        where: dict[str, Any] = {"address": "local", "num_cpus": workers} if address is None else {"address": address}
        ray.init(**where, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    try:
        task = ray.remote(num_cpus=1)(_call)
        pending: dict[Any, J] = {}
        try:
            for job in jobs:
                pending[task.remote(fn, job)] = job
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    job = pending.pop(ref)
                    try:
                        outcome = ray.get(ref)
                    except ray.exceptions.RayError as exc:  # Ray's own failure: a crashed worker or node, a lost object
                        outcome = (False, _exception_text(exc))
                    finish(job, outcome)
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
    finally:
        if started:
            ray.shutdown()
