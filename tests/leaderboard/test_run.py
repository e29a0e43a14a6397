"""Running a protocol: rows as specified, resumable after a kill at any point, no result lost or duplicated.

Float comparisons are exact by construction: the same code on the same inputs in the same thread
settings (stored floats survive the store's JSON round trip, which is exact for doubles), except
``primary_value`` against a recomputed mean (another summation order: a few ULPs, approx rel 1e-6).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from semcom_envs.evaluation import evaluate
from semcom_envs.leaderboard.jobs import KERNEL_FLAGS
from semcom_envs.leaderboard.protocol import Protocol
from semcom_envs.leaderboard.run import run
from semcom_envs.leaderboard.store import Store
from semcom_envs.registration import make_scenario
from tests.leaderboard.conftest import tiny_protocol

DETERMINISTIC = ("primary_value", "metrics", "episode_values", "curve", "train_steps", "uses_global_state", "eval_seed",
                 "config", "hyperparameters")


def test_rows_hold_what_the_issue_asks_for(tiny_store: tuple[Protocol, Store]) -> None:
    protocol, store = tiny_store
    rows = store.rows(protocol.name, protocol.version)
    assert len(rows) == len(protocol.jobs("unused"))
    for r in rows:
        assert r["eval_seed"] == protocol.eval_seed_base + r["seed"]
        assert r["versions"]["numpy"] and r["versions"]["python"] and r["hardware"]["cpus"] >= 1 and r["created_at"]
        flags = r["hardware"]["cpu_flags"]  # which float kernels could run (None off Linux)
        assert flags is None or set(flags) <= set(KERNEL_FLAGS)
        assert r["seconds_per_decision"] > 0 and r["wall_clock_s"] > 0
        assert set(r["episode_values"]) == set(r["metrics"])
        assert all(len(v) == 3 for v in r["episode_values"].values())
        assert r["primary_value"] == pytest.approx(np.mean(r["episode_values"][r["primary_metric"]]))  # a few ULPs
        if r["kind"] == "agent":
            assert r["train_steps"] == 300 and len(r["curve"]) >= 10 and r["hyperparameters"]["learning_starts"] == 50
            assert r["train_wall_clock_s"] > 0
            assert all({"step", "reward", r["primary_metric"]} <= set(pt) for pt in r["curve"])  # the plateau check's
        else:
            assert r["train_steps"] == 0 and r["curve"] == [] and r["hyperparameters"] == {}
    by_key = {(r["env_id"], r["policy"], r["seed"]): r for r in rows}
    assert by_key[("SemCom-MultiCell-v0", "oracle", 0)]["uses_global_state"]
    assert not by_key[("SemCom-MultiCell-v0", "dqn", 1)]["uses_global_state"]


def test_a_baseline_row_is_the_plain_evaluation(tiny_store: tuple[Protocol, Store]) -> None:
    from semcom_baselines import make_policy

    protocol, store = tiny_store
    bench = protocol.benchmark("SemCom-Offloading-v0")
    scenario = make_scenario(bench.env_id, **bench.env_kwargs)
    # Exact: the same evaluation, in this process as the (inline) stored run was.
    result = evaluate(scenario, make_policy("local_only", scenario), bench.episodes, protocol.eval_seed_base + 1)
    (row,) = [r for r in store.rows() if r["env_id"] == bench.env_id and r["policy"] == "local_only" and r["seed"] == 1]
    assert row["episode_values"] == result.episodes


def test_rerun_stores_nothing_new(tiny_store: tuple[Protocol, Store], tmp_path: Path) -> None:
    protocol, store = tiny_store
    before = store.rows()
    summary = run(protocol, store, tmp_path, progress=False)
    assert summary.stored == 0 and summary.already_stored == summary.total
    assert store.rows() == before


def _cli(protocol_file: Path, store: Path, work: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "semcom_envs.cli", "leaderboard", "run", "--protocol", str(protocol_file),
                             "--store", str(store), "--work-dir", str(work), "--no-progress"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, f"the run ended before the kill point: {proc.stderr.read().decode()[-2000:]}"
        assert time.monotonic() < deadline, "kill point not reached"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_killed_runs_resume_to_the_uninterrupted_result(tmp_path: Path) -> None:
    """Exact by construction: the uninterrupted reference runs through the same command with the same
    thread settings (OMP_NUM_THREADS=1) as the killed and resumed runs, whose checkpoints restore the
    exact state, so the trained agents' numbers match bit for bit on any CPU. (A reference run in this
    process would use its own thread count: nothing promises that torch's kernels give the same bits
    for every thread count.)"""
    protocol = tiny_protocol("killed", dqn_steps=400)
    protocol_file = tmp_path / "protocol.json"
    protocol_file.write_text(json.dumps(protocol.to_dict()))
    reference_run = _cli(protocol_file, tmp_path / "reference.db", tmp_path / "reference-runs")
    assert reference_run.wait(timeout=300) == 0, reference_run.stderr.read().decode()[-2000:]
    reference = Store(tmp_path / "reference.db")

    store_path, work = tmp_path / "lb.db", tmp_path / "runs"
    checkpoints = work / "killed-v1" / "SemCom-MultiCell-v0" / "dqn"
    # Kill 1: in the middle of the first agent's training (a checkpoint written, the job unfinished).
    _kill_when(_cli(protocol_file, store_path, work), lambda: (checkpoints / "seed0" / "checkpoint.pt").exists())
    assert not Store(store_path).rows()
    # Kill 2: once some results are stored, while others are pending.
    _kill_when(_cli(protocol_file, store_path, work), lambda: len(Store(store_path).keys("killed", 1)) >= 2)
    partial = len(Store(store_path).keys("killed", 1))
    assert 2 <= partial < len(protocol.jobs(work))
    done = _cli(protocol_file, store_path, work)
    assert done.wait(timeout=300) == 0, done.stderr.read().decode()[-2000:]

    got, want = Store(store_path).rows(), reference.rows()
    assert [(r["env_id"], r["policy"], r["seed"]) for r in got] == [(r["env_id"], r["policy"], r["seed"]) for r in want]
    for g, w in zip(got, want):
        assert {k: g[k] for k in DETERMINISTIC} == {k: w[k] for k in DETERMINISTIC}, (g["policy"], g["seed"])
        # A resumed run's wall-clock is the whole run's: at least its training time, which counts the killed calls'.
        assert g["wall_clock_s"] >= g["train_wall_clock_s"], (g["policy"], g["seed"])
