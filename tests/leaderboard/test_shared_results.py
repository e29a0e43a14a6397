"""A version bump that leaves a benchmark unchanged shares the earlier version's runs instead of repeating them.

The tiny protocol (tests/leaderboard/conftest.py) is run once as v1; its v2 changes one scenario's config and
keeps the other's (``results_version=1``). Everything is exact: stored rows are compared as stored.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from semcom_envs.config import ConfigError
from semcom_envs.leaderboard.protocol import Protocol
from semcom_envs.leaderboard.run import run
from semcom_envs.leaderboard.store import Store

MULTICELL, OFFLOADING = "SemCom-MultiCell-v0", "SemCom-Offloading-v0"


def _bumped(protocol: Protocol, **multicell_changes: object) -> Protocol:
    """``protocol`` v2: Offloading changed (one more episode), MultiCell shared from v1 (with ``multicell_changes``)."""
    multicell, offloading = protocol.benchmark(MULTICELL), protocol.benchmark(OFFLOADING)
    return dataclasses.replace(protocol, version=2, benchmarks=(
        dataclasses.replace(multicell, results_version=1, **multicell_changes),
        dataclasses.replace(offloading, episodes=offloading.episodes + 1)))


@pytest.fixture
def store_copy(tiny_store: tuple[Protocol, Store], tmp_path: Path) -> tuple[Protocol, Store]:
    protocol, store = tiny_store
    shutil.copy(store.path, tmp_path / "lb.db")
    return protocol, Store(tmp_path / "lb.db")


def test_a_bump_reruns_only_the_changed_benchmark(store_copy: tuple[Protocol, Store], tmp_path: Path) -> None:
    v1, store = store_copy
    v2 = _bumped(v1)
    jobs = v2.jobs(tmp_path)
    assert {j.version for j in jobs if j.benchmark.env_id == MULTICELL} == {1}
    assert {j.version for j in jobs if j.benchmark.env_id == OFFLOADING} == {2}
    summary = run(v2, store, tmp_path / "runs", progress=False)
    offloading_jobs = [j for j in jobs if j.benchmark.env_id == OFFLOADING]
    assert (summary.total, summary.stored) == (len(jobs), len(offloading_jobs))  # MultiCell's runs were not repeated
    rows = v2.stored_rows(store)
    assert len(rows) == len(jobs)
    assert {(r["env_id"], r["version"]) for r in rows} == {(MULTICELL, 1), (OFFLOADING, 2)}
    shared = [r for r in rows if r["env_id"] == MULTICELL]
    assert shared == [r for r in store.rows(v1.name, 1) if r["env_id"] == MULTICELL]  # the v1 rows themselves, not copies
    assert all(len(r["episode_values"][r["primary_metric"]]) == v2.benchmark(OFFLOADING).episodes
               for r in rows if r["env_id"] == OFFLOADING)


@pytest.mark.parametrize(("change", "field"), [
    ({"env_kwargs": {"num_cells": 2, "max_steps": 11}}, "max_steps"),
    ({"episodes": 4}, "episodes"),
    ({"train_steps": {"dqn": 301}}, "train_steps"),
    ({"hyperparameters": {"dqn": {"learning_starts": 51}}}, "learning_starts"),
])
def test_a_changed_benchmark_cannot_share_old_runs(store_copy: tuple[Protocol, Store], change: dict, field: str) -> None:
    v1, store = store_copy
    with pytest.raises(ConfigError, match=field):
        _bumped(v1, **change).stored_rows(store)


def test_results_version_must_not_be_newer_than_the_protocol(tiny_store: tuple[Protocol, Store]) -> None:
    v1, _ = tiny_store
    with pytest.raises(ConfigError, match="newer than the protocol"):
        dataclasses.replace(v1, benchmarks=(dataclasses.replace(v1.benchmark(MULTICELL), results_version=2),))
    with pytest.raises(ConfigError, match="results_version"):
        dataclasses.replace(v1.benchmark(MULTICELL), results_version=0)


def test_the_protocol_json_round_trip_keeps_results_version(tiny_store: tuple[Protocol, Store]) -> None:
    v2 = _bumped(tiny_store[0])
    assert Protocol.from_dict(v2.to_dict()) == v2


def test_a_hyperparameter_added_since_keeps_old_runs_at_its_default(store_copy: tuple[Protocol, Store]) -> None:
    """Rows stored before an agent gained a hyperparameter (here DQN's ``num_envs``) hold no value for it: at its
    default (the earlier behaviour) they are still shared; set to anything else they are not."""
    import sqlite3
    from contextlib import closing

    v1, store = store_copy
    with closing(sqlite3.connect(store.path)) as conn, conn:
        conn.execute("UPDATE results SET hyperparameters = json_remove(hyperparameters, '$.num_envs') WHERE policy = 'dqn'")
    assert all("num_envs" not in r["hyperparameters"] for r in store.rows() if r["policy"] == "dqn")
    shared = _bumped(v1).stored_rows(store)  # MultiCell's v1 rows (Offloading changed: not run at v2 here)
    assert shared == [r for r in store.rows() if r["env_id"] == MULTICELL]
    with pytest.raises(ConfigError, match="num_envs"):
        _bumped(v1, hyperparameters={"dqn": {"learning_starts": 50, "num_envs": 2}}).stored_rows(store)


def test_a_config_field_added_since_keeps_old_runs_at_its_default(store_copy: tuple[Protocol, Store]) -> None:
    """Rows stored before a scenario gained a config field (here MultiCell's ``inter_site_factor``) hold no value for
    it: at the config class's default (the earlier dynamics) they are still shared; set to anything else, or with
    another field changed, they are not."""
    import sqlite3
    from contextlib import closing

    v1, store = store_copy
    with closing(sqlite3.connect(store.path)) as conn, conn:
        conn.execute("UPDATE results SET config = json_remove(config, '$.inter_site_factor') WHERE env_id = ?", (MULTICELL,))
    assert all("inter_site_factor" not in r["config"] for r in store.rows() if r["env_id"] == MULTICELL)
    shared = _bumped(v1).stored_rows(store)
    assert shared == [r for r in store.rows() if r["env_id"] == MULTICELL]
    kwargs = v1.benchmark(MULTICELL).env_kwargs
    with pytest.raises(ConfigError, match="inter_site_factor"):
        _bumped(v1, env_kwargs={**kwargs, "inter_site_factor": 2.5}).stored_rows(store)
    with pytest.raises(ConfigError, match=r"\['max_steps'\]"):
        _bumped(v1, env_kwargs={**kwargs, "max_steps": 11}).stored_rows(store)


def test_a_bump_can_rerun_one_agent_and_share_the_rest(store_copy: tuple[Protocol, Store], tmp_path: Path) -> None:
    """``rerun=("dqn",)``: only DQN's runs are repeated (under v2, with its new budget); every other row stays v1's."""
    v1, store = store_copy
    multicell = v1.benchmark(MULTICELL)
    budget = multicell.train_steps["dqn"] + 1
    v2 = _bumped(v1, train_steps={**multicell.train_steps, "dqn": budget}, rerun=("dqn",))
    jobs = [j for j in v2.jobs(tmp_path) if j.benchmark.env_id == MULTICELL]
    assert {(j.policy, j.version) for j in jobs} == {(p, 2 if p == "dqn" else 1) for p in multicell.policies()}
    with pytest.raises(ConfigError, match="train_steps"):  # without the rerun the v1 DQN rows no longer fit
        _bumped(v1, train_steps={**multicell.train_steps, "dqn": budget}).stored_rows(store)
    run(v2, store, tmp_path / "runs", env_ids=[MULTICELL], progress=False)
    rows = [r for r in v2.stored_rows(store) if r["env_id"] == MULTICELL]
    assert len(rows) == len(jobs)
    assert {(r["policy"], r["version"]) for r in rows} == {(j.policy, j.version) for j in jobs}
    assert {r["train_steps"] for r in rows if r["policy"] == "dqn"} == {budget}
    shared = [r for r in rows if r["policy"] != "dqn"]
    assert shared == [r for r in store.rows(v1.name, 1) if r["env_id"] == MULTICELL and r["policy"] != "dqn"]
    assert Protocol.from_dict(v2.to_dict()) == v2


def test_a_bump_can_rerun_one_baseline_and_share_the_rest(store_copy: tuple[Protocol, Store], tmp_path: Path) -> None:
    """A baseline whose rule changed runs afresh under the new version (what default v8 does with IoTAuction's
    ``price_anchored``); every other policy, the trained agents included, keeps its v1 runs."""
    v1, store = store_copy
    multicell = v1.benchmark(MULTICELL)
    v2 = _bumped(v1, rerun=("greedy",))
    jobs = [j for j in v2.jobs(tmp_path) if j.benchmark.env_id == MULTICELL]
    assert {(j.policy, j.version) for j in jobs} == {(p, 2 if p == "greedy" else 1) for p in multicell.policies()}
    assert run(v2, store, tmp_path / "runs", env_ids=[MULTICELL], progress=False).stored == len(v1.seeds)
    rows = [r for r in v2.stored_rows(store) if r["env_id"] == MULTICELL]
    assert {(r["policy"], r["version"]) for r in rows} == {(j.policy, j.version) for j in jobs}
    assert [r for r in rows if r["policy"] != "greedy"] == [
        r for r in store.rows(v1.name, 1) if r["env_id"] == MULTICELL and r["policy"] != "greedy"]


@pytest.mark.parametrize(("fields", "message"), [
    ({"rerun": ("dqn",)}, "needs results_version"),
    ({"rerun": ("nope",), "results_version": 1}, "does not run"),
])
def test_rerun_names_policies_of_a_shared_benchmark(tiny_store: tuple[Protocol, Store], fields: dict,
                                                          message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        dataclasses.replace(tiny_store[0].benchmark(MULTICELL), **fields)


def test_a_later_bump_keeps_an_agent_rerun_by_an_earlier_one(store_copy: tuple[Protocol, Store], tmp_path: Path) -> None:
    """v2 reruns DQN; v3 changes nothing on MultiCell: it shares v1's runs and, through ``shared_agents``, v2's DQN runs
    (what the default protocol's v5 does with v4's DQN), runs nothing, and the page names both versions."""
    from semcom_envs.leaderboard.report import results_versions

    v1, store = store_copy
    multicell = v1.benchmark(MULTICELL)
    steps = {**multicell.train_steps, "dqn": multicell.train_steps["dqn"] + 1}
    v2 = _bumped(v1, train_steps=steps, rerun=("dqn",))
    run(v2, store, tmp_path / "runs", env_ids=[MULTICELL], progress=False)
    v3 = dataclasses.replace(v2, version=3, benchmarks=(
        dataclasses.replace(v2.benchmark(MULTICELL), rerun=(), shared_agents={"dqn": 2}),
        dataclasses.replace(v2.benchmark(OFFLOADING), results_version=2)))
    jobs = [j for j in v3.jobs(tmp_path) if j.benchmark.env_id == MULTICELL]
    assert {(j.policy, j.version) for j in jobs} == {(p, 2 if p == "dqn" else 1) for p in multicell.policies()}
    assert run(v3, store, tmp_path / "runs", env_ids=[MULTICELL], progress=False).stored == 0
    shared = [r for r in v3.stored_rows(store) if r["env_id"] == MULTICELL]
    assert shared == [r for r in v2.stored_rows(store) if r["env_id"] == MULTICELL]
    assert results_versions(dataclasses.asdict(v3.benchmark(MULTICELL)), 3) == "v1; dqn: v2"
    assert results_versions(dataclasses.asdict(v2.benchmark(MULTICELL)), 2) == "v1; dqn: v2"
    assert Protocol.from_dict(v3.to_dict()) == v3


def test_an_agent_left_out_by_a_bump_leaves_the_table(store_copy: tuple[Protocol, Store]) -> None:
    """A shared benchmark that no longer trains DQN shows none of its stored DQN runs (the default protocol's v5 on CDRL)."""
    v1, store = store_copy
    multicell = v1.benchmark(MULTICELL)
    assert any(r["policy"] == "dqn" for r in store.rows(v1.name, 1) if r["env_id"] == MULTICELL)
    steps = {a: n for a, n in multicell.train_steps.items() if a != "dqn"}
    hyperparameters = {a: h for a, h in multicell.hyperparameters.items() if a != "dqn"}
    v2 = _bumped(v1, train_steps=steps, hyperparameters=hyperparameters)
    rows = [r for r in v2.stored_rows(store) if r["env_id"] == MULTICELL]
    assert rows == [r for r in store.rows(v1.name, 1) if r["env_id"] == MULTICELL and r["policy"] != "dqn"]


@pytest.mark.parametrize(("fields", "message"), [
    ({"shared_agents": {"dqn": 1}}, "needs results_version"),
    ({"shared_agents": {"random": 1}, "results_version": 1}, "no training budget"),
    ({"shared_agents": {"dqn": 1}, "rerun": ("dqn",), "results_version": 1}, "both rerun and shared_agents"),
    ({"shared_agents": {"dqn": 0}, "results_version": 1}, "shared_agents"),
])
def test_shared_agents_name_trained_agents_of_a_shared_benchmark(tiny_store: tuple[Protocol, Store], fields: dict,
                                                                 message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        dataclasses.replace(tiny_store[0].benchmark(MULTICELL), **fields)


def test_shared_agents_must_not_be_newer_than_the_protocol(tiny_store: tuple[Protocol, Store]) -> None:
    v1, _ = tiny_store
    with pytest.raises(ConfigError, match="shares the results of version 2, which is newer"):
        dataclasses.replace(v1, benchmarks=(dataclasses.replace(v1.benchmark(MULTICELL), results_version=1,
                                                                shared_agents={"dqn": 2}),))
