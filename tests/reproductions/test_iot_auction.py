"""``semcom reproduce-iot-auction`` on a tiny budget: outputs, provenance and an exact revenue identity."""

from __future__ import annotations

import json

import numpy as np

from semcom_envs.api.runner import BatchRunner
from semcom_envs.cli import main
from semcom_envs.evaluation import EPISODE_SEED_STRIDE
from semcom_envs.registration import make_scenario


def _second_highest_truthful_bid(n: int, valuation: str, seed: int, episodes: int) -> float:
    """Mean second-highest truthful bid over one evaluation seed's slots: the value a device observes,
    sent as the scenario's float32 normalised action."""
    scenario = make_scenario("SemCom-IoTAuction-v0", num_devices=n, valuation=valuation)
    runner = BatchRunner(scenario, episodes)
    obs = runner.reset([seed * EPISODE_SEED_STRIDE + i for i in range(episodes)])
    total = 0.0
    for _ in range(scenario.config.max_steps):
        actions = {a: scenario.bids_to_actions(obs[a][:, :1]) for a in scenario.agents}
        bids = scenario.actions_to_bids(np.concatenate([actions[a] for a in scenario.agents], axis=1))
        total += np.sort(bids, axis=1)[:, -2].mean()
        obs = runner.step(actions).observations
    return total / scenario.config.max_steps


def test_reproduce_iot_auction_trains_evaluates_and_plots(tmp_path):
    out = tmp_path / "run"
    assert main(["reproduce-iot-auction", "--out", str(out), "--devices", "2", "3", "--valuation", "semantic", "uniform",
                 "--eval-seeds", "1", "2", "--episodes", "2", "--myersonnet-iterations", "20", "--myersonnet-profiles", "256",
                 "--no-shipped", "--bidder-mechanisms", "second_price", "neural", "--bidder-devices", "2", "--seeds", "2",
                 "--mappo-steps", "256", "--hp", "num_envs=8", "--hp", "rollout_length=8", "--hp", "ppo_epoch=2",
                 "--no-progress"]) == 0
    payload = json.loads((out / "results.json").read_text())
    assert payload["eval_seeds"] == [1, 2] and payload["versions"]["numpy"]
    checkpoints = payload["myersonnet"]["checkpoints"]
    assert set(checkpoints) == {"semantic_n2", "semantic_n3", "uniform_n2", "uniform_n3"}
    assert all(c["source"] == "trained" and c["iterations"] == 20 and c["train_wall_clock_s"] >= 0 for c in checkpoints.values())
    assert (out / "myersonnet" / "semantic_n3.npz").is_file()
    for valuation in ("semantic", "uniform"):
        per_n = payload["revenue"][valuation]
        assert set(per_n) == {"2", "3"}
        for n, r in per_n.items():
            assert set(r) >= {"second_price", "myerson", "neural"}
            assert len(r["neural"]["revenue_per_seed"]) == 2 and "gap_to_second_price" in r["neural"]
            # Truthful bids under second price: the revenue is the second-highest value, slot by slot.
            for seed, revenue in zip((1, 2), r["second_price"]["revenue_per_seed"]):
                assert abs(revenue - _second_highest_truthful_bid(int(n), valuation, seed, 2)) < 1e-12
        assert (out / f"revenue_vs_n_{valuation}.png").stat().st_size > 0
    assert payload["revenue"]["uniform"]["3"]["closed_form"]["myerson"] == 0.53125
    bidders = payload["bidders"]["results"]
    assert set(bidders) == {"second_price", "neural"} and bidders["second_price"]["reference_slope"] == 1.0
    assert len(bidders["neural"]["per_seed"]["fit_slope"]) == 2
    assert (out / "bids_vs_values.png").stat().st_size > 0
    assert "MyersonNet vs optimum" in (out / "results.md").read_text()
    # Rerunning reuses the checkpoints and the finished MAPPO trainings.
    assert main(["reproduce-iot-auction", "--out", str(out), "--devices", "2", "--valuation", "uniform", "--eval-seeds", "1",
                 "--episodes", "1", "--myersonnet-iterations", "20", "--no-shipped", "--bidder-mechanisms",
                 "--no-progress"]) == 0
    assert json.loads((out / "results.json").read_text())["myersonnet"]["checkpoints"]["uniform_n2"]["source"] == "reused"
