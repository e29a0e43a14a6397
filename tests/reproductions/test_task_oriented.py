"""A tiny run of ``reproduce_task_oriented``: structure of the tables, JSON and figures, and resumption."""

import json

from semcom_reproductions.task_oriented import reproduce_task_oriented


def _run(out):
    return reproduce_task_oriented(out, bandwidths_mhz=(5, 20), powers_w=(1e-3, 1.0), users=(4, 10),
                                   compression_bandwidths_mhz=(20,), compression_samples=20, weighted_bandwidths_mhz=(20,),
                                   eval_seeds=(1000, 1001), episodes=2, weighted_seeds=2, weighted_episodes=1, seeds=2,
                                   mappo_steps=64, mappo_hyperparameters={"num_envs": 4, "rollout_length": 8},
                                   solvers=("crra", "fra", "equal"), weighted_solvers=("crraus", "fra"), progress=False)


def test_tiny_reproduction(tmp_path):
    tables = _run(tmp_path)
    assert set(tables) == {"1. success vs compression ratio", "2. success vs B_max at P_max = 1 W",
                           "2. success vs B_max at P_max = 0.001 W", "3a. success vs P_max", "3b. success vs users",
                           "4. weighted success", "5. MAPPO at the default point", "gains"}
    payload = json.loads((tmp_path / "results.json").read_text())
    results = payload["results"]
    assert payload["env_id"] == "SemCom-TaskOriented-v0" and "versions" in payload
    assert len(results["compression"]["20"]["o"]) == 20 and 0.0 <= results["compression"]["20"]["argmax_o"] < 1.0
    assert set(results["bandwidth"]) == {"1", "0.001"} and set(results["bandwidth"]["1"]) == {"5", "20"}
    for points in (*results["bandwidth"].values(), results["power"], results["users"]):
        for cell in points.values():
            assert set(cell) == {"crra", "fra", "equal"}
            # crra starts from the better of fcr and fra: never below fra on any slot
            assert all(c >= f - 1e-9 for c, f in zip(cell["crra"]["per_seed"], cell["fra"]["per_seed"]))
            assert all(0.0 <= v <= 1.0 for v in cell["equal"]["per_seed"])
    assert set(results["weighted"]["20"]) == {"crraus", "fra"}
    assert len(results["mappo"]["per_training_seed"]) == 2
    assert set(results["gains"]["weighted"]["20"]["fra"]) == {"percent", "difference"}
    for name in ("compression", "bandwidth", "power", "users", "weighted"):
        assert (tmp_path / f"{name}.png").stat().st_size > 0
    assert "| crra |" in (tmp_path / "results.md").read_text()
    # a second call reuses every cached point and the finished training
    cached = (tmp_path / "points.json").read_text()
    assert _run(tmp_path) == tables
    assert (tmp_path / "points.json").read_text() == cached
