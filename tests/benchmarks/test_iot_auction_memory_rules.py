"""The IoTAuction study's rules with memory (benchmarks/iot_auction_task_study.py): what their claims rest on."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from semcom_envs.evaluation import BatchRunner
from semcom_envs.scenarios import IoTAuctionV2

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "iot_auction_task_study.py"


@pytest.fixture(scope="module")
def study():
    spec = importlib.util.spec_from_file_location("iot_auction_task_study", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_device_observes_the_same_clearing_price_and_it_reveals_the_slots_highest_value(study):
    """In self-play of ``capped_highest_memory`` the winner bids ``min(v, c + sliver (v - c))`` of the highest value
    at the common cap ``c``, so the statistic recovers that value. The error: the bid is the float32 action's, at
    most one action step (<= 2^-23) times ``v / 2`` above the exact bid, and the observed price is float32 (half a
    step of relative error), both below ``eps32 bid_max``; inverting above the cap divides by the sliver. The rules
    compute one cap per copy from the price, which is each device's own only because every device observes the same
    price: that is checked exactly."""
    sc = IoTAuctionV2()
    policy = study.HighestValueMemoryCapped(sc)
    runner = BatchRunner(sc, 8)
    obs = runner.reset(list(range(8)))
    policy.reset(0)
    tol = np.finfo(np.float32).eps * sc.config.bid_max / policy.sliver
    above = 0
    for _ in range(40):
        actions = policy.act(obs, None)
        cap = policy.cap  # (copies, 1)
        tr = runner.step(actions)
        obs = tr.observations
        prices = np.stack([obs[a][:, 3] for a in sc.agents], axis=1)
        assert (prices == prices[:, :1]).all()  # every device observes the same price, exactly
        highest = tr.infos["value"].max(axis=1, keepdims=True)
        np.testing.assert_allclose(policy.statistic(prices[:, :1].astype(np.float64)), highest, rtol=0, atol=tol)
        above += int((highest > cap).sum())
    runner.close()
    assert above > 0  # the inversion above the cap was exercised


def test_the_price_rule_and_the_highest_value_rule_start_from_their_priors_and_forget_at_reset(study):
    """Before any price the cap is ``base`` (the statistic's prior mean gives ``m_0 = prior``, up to the rounding of
    ``k prior / k``: at most one unit in the last place of ``prior``, two roundings of half a unit, times ``slope``);
    after :meth:`reset` the next episode starts there again, whatever the last one saw."""
    sc = IoTAuctionV2()
    for policy in (study.HighestValueMemoryCapped(sc), study.PriceMemoryCapped(sc)):
        runner = BatchRunner(sc, 4)
        obs = runner.reset([10, 11, 12, 13])
        for episode in range(2):
            policy.reset(episode)
            policy.act(obs, None)
            np.testing.assert_allclose(policy.cap, policy.base, rtol=0, atol=policy.slope * np.spacing(policy.prior))
            for _ in range(5):
                obs = runner.step(policy.act(obs, None)).observations
            assert (np.abs(np.asarray(policy.cap) - policy.base) > 1e-3).any()  # the prices moved it
        runner.close()
