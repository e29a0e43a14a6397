"""The leaderboard's result store: an embedded SQLite database, one row per (protocol, scenario, policy, seed).

Each row holds what its number needs to be trusted and reproduced: the scenario config, the
protocol entry's hyperparameters, package versions, git commit, hardware, wall-clock (total, training,
evaluation), the per-decision runtime, every metric's mean, the raw per-episode values of every metric
and the training curve. Scalars are columns (queryable with any SQLite client); nested values are
JSON text columns.

Writes are transactional: a row is inserted in its own transaction, so a run killed at any point
leaves every finished result whole and no half-written one; the primary key makes a second insert of
a finished (protocol, version, env, policy, seed) a no-op, so a resumed run never duplicates a result.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
KEY = ("protocol", "version", "env_id", "policy", "seed")
SCALARS = {
    "protocol": "TEXT NOT NULL", "version": "INTEGER NOT NULL", "env_id": "TEXT NOT NULL", "policy": "TEXT NOT NULL",
    "seed": "INTEGER NOT NULL", "kind": "TEXT NOT NULL", "uses_global_state": "INTEGER NOT NULL",
    "primary_metric": "TEXT NOT NULL", "higher_is_better": "INTEGER NOT NULL", "primary_value": "REAL",
    "eval_seed": "INTEGER NOT NULL", "episodes": "INTEGER NOT NULL", "train_steps": "INTEGER NOT NULL",
    "seconds_per_decision": "REAL", "wall_clock_s": "REAL", "train_wall_clock_s": "REAL", "eval_wall_clock_s": "REAL",
    "commit_id": "TEXT", "created_at": "TEXT NOT NULL",
}
JSON_COLUMNS = ("config", "hyperparameters", "versions", "hardware", "metrics", "episode_values", "curve")
BOOLEANS = ("uses_global_state", "higher_is_better")
_RENAMED = {"commit": "commit_id"}  # row field -> column (COMMIT is an SQL keyword)


class Store:
    """Results of leaderboard runs in the SQLite file ``path`` (created with its folder if missing)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as conn, conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise ValueError(f"{self.path}: store schema version {version}, this package reads {SCHEMA_VERSION}")
            columns = [f"{name} {kind}" for name, kind in SCALARS.items()] + [f"{name} TEXT NOT NULL" for name in JSON_COLUMNS]
            if version == 0:  # a new store: an existing one is not written to when only read (it may be committed)
                conn.execute(f"CREATE TABLE IF NOT EXISTS results ({', '.join(columns)}, PRIMARY KEY ({', '.join(KEY)}))")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=60)
        conn.execute("PRAGMA journal_mode = DELETE")  # one file on disk: the store can be copied or committed as is
        return conn

    def put(self, row: Mapping[str, Any]) -> bool:
        """Insert one result in its own transaction; False (and nothing written) if that key is already stored."""
        values = {_RENAMED.get(k, k): v for k, v in row.items()}
        names = [*SCALARS, *JSON_COLUMNS]
        missing = [n for n in names if n not in values]
        if missing:
            raise ValueError(f"result row lacks the fields {missing}")
        params = [values.get(n) for n in SCALARS] + [json.dumps(values[n]) for n in JSON_COLUMNS]
        sql = (f"INSERT INTO results ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
               f"ON CONFLICT ({', '.join(KEY)}) DO NOTHING")
        with closing(self._connect()) as conn, conn:
            return conn.execute(sql, params).rowcount == 1

    def keys(self, protocol: str, version: int) -> set[tuple[str, str, int]]:
        """(env_id, policy, seed) of every stored result of a protocol version."""
        with closing(self._connect()) as conn:
            cur = conn.execute("SELECT env_id, policy, seed FROM results WHERE protocol = ? AND version = ?", (protocol, version))
            return {tuple(r) for r in cur.fetchall()}

    def protocols(self) -> list[tuple[str, int]]:
        """The (protocol, version) pairs with stored results."""
        with closing(self._connect()) as conn:
            return [tuple(r) for r in conn.execute("SELECT DISTINCT protocol, version FROM results ORDER BY protocol, version")]

    def rows(self, protocol: str | None = None, version: int | None = None) -> list[dict[str, Any]]:
        """Stored results (optionally of one protocol and version), ordered by scenario, policy and seed."""
        return list(self._iter(protocol, version))

    def _iter(self, protocol: str | None, version: int | None) -> Iterator[dict[str, Any]]:
        where, params = [], []
        for column, value in (("protocol", protocol), ("version", version)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql = "SELECT * FROM results" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY env_id, policy, seed"
        with closing(self._connect()) as conn:
            conn.row_factory = sqlite3.Row
            for r in conn.execute(sql, params):
                row = dict(r)
                row["commit"] = row.pop("commit_id")
                for name in JSON_COLUMNS:
                    row[name] = json.loads(row[name])
                for name in BOOLEANS:
                    row[name] = bool(row[name])
                yield row
