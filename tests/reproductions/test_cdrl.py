"""``semcom reproduce-cdrl`` on a tiny budget: every policy evaluated, MAPPO trained, files written (docs/reproduce-cdrl.md)."""

from __future__ import annotations

import json

from semcom_reproductions.cdrl import BASELINES, GAIN_OVER, SEMANTIC_AWARE
from semcom_envs.cli import main


def test_reproduce_cdrl_writes_tables_json_and_figures(tmp_path):
    assert main(["reproduce-cdrl", "--out", str(tmp_path), "--seeds", "2", "--mappo-steps", "64", "--hp", "num_envs=4",
                 "--hp", "rollout_length=8", "--eval-seeds", "0", "1", "--episodes", "2", "--set", "max_steps=3",
                 "--set", "num_sources=4", "--throughput-batch", "1", "2", "--throughput-seconds", "0.01",
                 "--no-progress"]) == 0
    payload = json.loads((tmp_path / "results.json").read_text())
    results = payload["results"]
    assert set(results) == {*BASELINES, "mappo"}
    for name, r in results.items():
        assert len(r["curve"]) == 4, name  # after reset and after each of the 3 rounds
        assert r["final_return"][0] == r["curve"][-1][0]
        assert len(r["per_seed_final_return"]) == 2
    assert results["no_transfer"]["probe_steps"][0] == 0
    assert results["semantic"]["probe_steps"][0] == 4 * payload["config"]["probe_steps"]  # every source once
    assert set(payload["gains_percent"]) == set(SEMANTIC_AWARE)
    assert all(set(g) == set(GAIN_OVER) for g in payload["gains_percent"].values())
    assert [r["batch"] for r in payload["throughput"]] == [1, 2]
    assert all(r["rounds_per_s_with_reset"] < r["rounds_per_s_step_only"] for r in payload["throughput"])
    for name in ("results.md", "final_return.png", "return_vs_round.png", "mappo/policy_seed1.pt"):
        assert (tmp_path / name).stat().st_size > 0, name
