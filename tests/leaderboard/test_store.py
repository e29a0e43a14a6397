"""The SQLite store: round trip, no duplicates, transactional writes, schema check."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from semcom_envs.leaderboard.store import Store


def _row(seed: int = 0, value: float = 1.5, **changes: Any) -> dict[str, Any]:
    row = {"protocol": "p", "version": 1, "env_id": "E", "policy": "greedy", "seed": seed, "kind": "baseline",
           "uses_global_state": False, "primary_metric": "m", "higher_is_better": True, "primary_value": value,
           "eval_seed": 10_000 + seed, "episodes": 2, "train_steps": 0, "seconds_per_decision": 1e-4, "wall_clock_s": 0.5,
           "train_wall_clock_s": 0.0, "eval_wall_clock_s": 0.5, "commit": "abc", "created_at": "2026-11-23T00:00:00+00:00",
           "config": {"n": 3, "pair": [1, 2]}, "hyperparameters": {}, "versions": {"numpy": "2"}, "hardware": {"cpu": "x"},
           "metrics": {"m": value}, "episode_values": {"m": [value - 0.5, value + 0.5]},
           "curve": [{"step": 10.0, "reward": 0.25}]}
    return {**row, **changes}


def test_round_trip(tmp_path) -> None:
    store = Store(tmp_path / "deep" / "lb.db")
    assert store.put(_row(0)) and store.put(_row(1, 2.5))
    rows = store.rows("p", 1)
    assert rows == [_row(0), _row(1, 2.5)]
    assert store.keys("p", 1) == {("E", "greedy", 0), ("E", "greedy", 1)}
    assert store.protocols() == [("p", 1)]
    assert store.rows("p", 2) == [] and store.keys("q", 1) == set()


def test_a_stored_result_is_never_duplicated_or_overwritten(tmp_path) -> None:
    store = Store(tmp_path / "lb.db")
    assert store.put(_row(0, 1.5))
    assert not store.put(_row(0, 9.9))
    assert [r["primary_value"] for r in Store(tmp_path / "lb.db").rows()] == [1.5]


def test_a_failed_write_leaves_nothing(tmp_path) -> None:
    store = Store(tmp_path / "lb.db")
    with pytest.raises(ValueError, match="lacks the fields"):
        store.put({k: v for k, v in _row().items() if k != "curve"})
    with pytest.raises(sqlite3.IntegrityError):
        store.put(_row(kind=None))  # NOT NULL column: the transaction is rolled back
    with pytest.raises(TypeError):
        store.put(_row(metrics={"m": object()}))  # not JSON
    assert store.rows() == []


def test_schema_version_is_checked(tmp_path) -> None:
    path = tmp_path / "lb.db"
    Store(path)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(ValueError, match="schema version 99"):
        Store(path)
