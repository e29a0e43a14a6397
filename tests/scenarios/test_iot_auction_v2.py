"""SemCom-IoTAuction-v2: v1 with bids of at most the value (the action is the bid's fraction of the value)."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semcom_baselines import make_policy, policies_for
from semcom_envs import iot_auction_v2, streams
from semcom_envs.config import ConfigError
from semcom_envs.scenarios import SCENARIOS, IoTAuctionV1, IoTAuctionV2

F32_EPS = float(np.finfo(np.float32).eps)
"""2^-23: the float32 action's step on [0.5, 1), its largest on [-1, 1]."""


@pytest.fixture(scope="module")
def task() -> IoTAuctionV2:
    return IoTAuctionV2()


def _keys(episodes: int) -> np.ndarray:
    return streams.episode_key(streams.seed_key(np.arange(episodes)), 0)


def _actions(sc: IoTAuctionV2, a: np.ndarray) -> dict[str, np.ndarray]:
    return {x: a[:, i:i + 1].astype(np.float32) for i, x in enumerate(sc.agents)}


def test_registered_next_to_v1_with_v1s_benchmark_defaults(task):
    assert SCENARIOS["SemCom-IoTAuction-v2"] is IoTAuctionV2
    assert task.config == IoTAuctionV1().config  # same preset: only the action and the values' precision differ
    assert (task.primary_metric, task.higher_is_better) == ("regret", False)
    assert set(policies_for(task.env_id)) == set(policies_for("SemCom-IoTAuction-v1"))
    assert iot_auction_v2.parallel_env().possible_agents == list(task.agents)
    env = gymnasium.make("SemCom-IoTAuction-v2")
    obs, _ = env.reset(seed=0)
    assert env.spec.id == "SemCom-IoTAuction-v2" and env.observation_space.contains(obs)
    env.close()


def test_same_episodes_as_v1_with_float32_values(task):
    v1 = IoTAuctionV1()
    s1, _ = v1.reset(_keys(8))
    s2, obs = task.reset(_keys(8))
    np.testing.assert_array_equal(s2["gain"], s1["gain"])
    np.testing.assert_array_equal(s2["value"], s1["value"].astype(np.float32).astype(np.float64))
    # A device observes its value exactly: a bid computed from the observation is a bid on the auction's value.
    for i, a in enumerate(task.agents):
        np.testing.assert_array_equal(obs[a][:, 0].astype(np.float64), s2["value"][:, i])


def test_the_action_is_the_bids_fraction_of_the_value_and_the_regret_is_v1s(task):
    rng = np.random.default_rng(0)
    state, _ = task.reset(_keys(16))
    a = rng.uniform(-1.0, 1.0, (16, task.num_agents))
    a[0] = 1.0  # truthful: the bid is the value exactly
    a[1] = -1.0  # the bid 0
    tr = task.step(state, _actions(task, a))
    bids, values = tr.infos["bid"], tr.infos["value"]
    np.testing.assert_array_equal(bids, (a.astype(np.float32).astype(np.float64) + 1.0) / 2.0 * state["value"])
    np.testing.assert_array_equal(bids[0], values[0])
    np.testing.assert_array_equal(bids[1], 0.0)
    assert (bids <= values).all() and (bids >= 0.0).all()
    np.testing.assert_array_equal(tr.infos["regret"], IoTAuctionV1().regret(values, bids))


@settings(max_examples=300, deadline=None)
@given(value=st.floats(0.0, 1.5), fraction=st.floats(0.0, 1.0))
def test_bids_to_actions_reaches_the_bid_within_one_float32_step(value, fraction):
    sc = IoTAuctionV2()
    value = float(np.float32(value))  # v2's values are float32 numbers
    bid = fraction * value
    action = sc.bids_to_actions(np.array([bid]), np.array([value]))
    assert action.dtype == np.float32 and -1.0 <= action[0] <= 1.0
    got = sc.actions_to_bids(action, np.array([value]))[0]
    # At least the bid, and at most one action step (<= 2^-23 on [-1, 1]) above it: (2^-23 / 2) v in value units.
    assert bid <= got <= bid + F32_EPS / 2 * value
    if fraction == 1.0 and value > 0.0:  # truthful; a value 0 admits the bid 0 only, action -1
        assert action[0] == 1.0 and got == value


def test_bids_outside_zero_to_the_value_and_missing_values_are_refused(task):
    with pytest.raises(ValueError, match=r"bid 0.9 at index \(1,\) lies outside \[0, value = 0.5\]"):
        task.bids_to_actions(np.array([0.1, 0.9]), np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match="outside"):
        task.bids_to_actions(np.array([-0.1]), np.array([0.5]))
    with pytest.raises(TypeError, match="needs the bidders' values"):
        task.bids_to_actions(np.array([0.1]))
    with pytest.raises(TypeError, match="needs the bidders' values"):
        task.actions_to_bids(np.array([0.1]))
    assert task.bids_to_actions(np.array([0.0]), np.array([0.0]))[0] == -1.0  # value 0: the bid 0 only


def test_a_bid_max_below_the_largest_value_is_refused():
    with pytest.raises(ConfigError, match=r"bid_max=1.0 lies below the largest value 1.5"):
        IoTAuctionV2(bid_max=1.0)
    IoTAuctionV2(bid_max=2.0)  # above it: allowed


def test_shading_above_the_value_is_refused_on_v2(task):
    from semcom_baselines.iot_auction import Shaded

    with pytest.raises(ConfigError, match="alpha"):
        Shaded(task, alpha=1.2)
    Shaded(IoTAuctionV1(), alpha=1.2)  # v1's actions can express it


@pytest.mark.parametrize("name", ["truthful", "shaded", "equilibrium", "price_anchored", "capped", "complete_information_nash"])
def test_every_reference_bids_on_v2_what_it_bids_on_v1(task, name):
    v1 = IoTAuctionV1()
    rng = np.random.default_rng(1)
    state, obs = task.reset(_keys(32))
    for _ in range(3):  # slots with a last price
        tr = task.step(state, _actions(task, rng.uniform(-1.0, 1.0, (32, task.num_agents))))
        state, obs = tr.state, tr.observations
    gs = task.global_state(state)
    values = state["value"]
    b1 = v1.actions_to_bids(np.concatenate([make_policy(name, v1).act(obs, gs)[a] for a in task.agents], axis=1))
    b2 = task.actions_to_bids(np.concatenate([make_policy(name, task).act(obs, gs)[a] for a in task.agents], axis=1), values)
    # v1 rounds the bid to its float32 action (half a step, <= 2^-24 (bid_max / 2)); v2 rounds its fraction up by
    # at most one step (<= (2^-23 / 2) v): the two differ by at most 2^-25 bid_max + 2^-24 bid_max.
    bound = 1.5 * 2.0 ** -24 * task.config.bid_max
    np.testing.assert_allclose(b2, b1, rtol=0, atol=bound)
    assert (b2 <= values).all()


def test_complete_information_nash_has_no_regret_on_v2(task):
    state, _ = task.reset(_keys(64))
    policy = make_policy("complete_information_nash", task)
    for _ in range(5):
        actions = policy.act({}, task.global_state(state))
        tr = task.step(state, actions)
        assert (tr.infos["winner"] == state["value"].argmax(axis=1)).all()
        # The winner bids at most one action step above the second value ((2^-23 / 2) v), the others their values.
        assert tr.infos["regret"].max() <= F32_EPS / 2 * state["value"].max()
        state = tr.state


def test_complete_information_nash_wins_a_lost_tie_on_v2(task):
    sc = IoTAuctionV2(num_devices=3)
    values = np.array([[0.9, 1.2, 0.5]], dtype=np.float32)  # device 0 holds the second value and would win a tie
    state = np.zeros((1, sc.state_space.shape[0]), dtype=np.float32)
    state[0, :3] = values
    actions = make_policy("complete_information_nash", sc).act({}, state)
    bids = sc.actions_to_bids(np.concatenate([actions[a] for a in sc.agents], axis=1), values.astype(np.float64))
    winner, _ = sc.mechanism(bids)
    assert winner[0] == 1 and bids[0, 1] > bids[0, 0] == np.float32(0.9)
