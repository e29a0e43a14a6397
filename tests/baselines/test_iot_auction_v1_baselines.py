"""The SemCom-IoTAuction-v1 reference bidders: price-anchored, equilibrium and complete-information Nash bids."""

from __future__ import annotations

import numpy as np
import pytest

from semcom_baselines import make_policy
from semcom_envs import auctions
from semcom_envs.scenarios import IoTAuctionV1


@pytest.fixture(scope="module")
def task() -> IoTAuctionV1:
    return IoTAuctionV1(num_devices=3)


def _observations(task: IoTAuctionV1, values: np.ndarray, last_price: np.ndarray) -> dict[str, np.ndarray]:
    obs = np.zeros((values.shape[0], task.num_agents, 5), dtype=np.float32)
    obs[..., 0], obs[..., 3] = values, last_price[:, None]
    return {a: obs[:, i] for i, a in enumerate(task.agents)}


def _bids(task: IoTAuctionV1, actions: dict[str, np.ndarray]) -> np.ndarray:
    return task.actions_to_bids(np.concatenate([actions[a] for a in task.agents], axis=1))


def test_price_anchored_bids_a_sliver_above_the_last_price_between_the_shaded_bid_and_the_value(task):
    values = np.array([[1.0, 0.95, 0.6]], dtype=np.float32)
    tol = 2 * task.config.bid_max * 2.0 ** -23  # one float32 rounding of the observation and of the action
    bids = _bids(task, make_policy("price_anchored", task).act(_observations(task, values, np.array([0.9])), None))
    # 0.9 + 0.05 (v - 0.9) lies in [0.8 v, v] for the first two; the third's value 0.6 is below the price: its value.
    np.testing.assert_allclose(bids, [[0.905, 0.9025, 0.6]], rtol=0, atol=tol)
    assert bids[0, 0] > bids[0, 1]  # anchored devices tie no more: the higher value bids higher
    bids = _bids(task, make_policy("price_anchored", task).act(_observations(task, values, np.array([0.5])), None))
    # max(0.8 v, 0.5 + 0.05 (v - 0.5)): the shaded bid for the first two, the anchor (below the value) for the third.
    np.testing.assert_allclose(bids, [[0.8, 0.76, 0.505]], rtol=0, atol=tol)


def test_price_anchored_without_sliver_bids_the_last_price_and_checks_its_arguments(task):
    from semcom_baselines.iot_auction import PriceAnchored
    from semcom_envs.config import ConfigError

    values = np.array([[1.0, 0.95, 0.6]], dtype=np.float32)
    policy = PriceAnchored(task, sliver=0.0)
    assert policy.name == "price_anchored_sliver0"
    bids = _bids(task, policy.act(_observations(task, values, np.array([0.9])), None))
    np.testing.assert_allclose(bids, [[0.9, 0.9, 0.6]], rtol=0, atol=2 * task.config.bid_max * 2.0 ** -23)
    with pytest.raises(ConfigError, match=r"sliver=1.5 is invalid"):
        PriceAnchored(task, sliver=1.5)


def test_equilibrium_bids_the_first_price_equilibrium_of_the_marginal_distribution(task):
    values = np.array([[0.3], [0.9], [1.4]])
    expected = auctions.first_price_equilibrium_bids(task.value_distribution(), 3, values)
    np.testing.assert_array_equal(make_policy("equilibrium", task).bids(values), expected)
    assert (expected < values).all() and (np.diff(expected.ravel()) > 0).all()  # shaded and increasing


@pytest.mark.parametrize("values", [[0.5, 1.2, 0.9], [1.2, 0.5, 0.9]])
def test_complete_information_nash_bids_the_second_value_to_the_top_device(task, values):
    state = np.zeros((1, task.state_space.shape[0]), dtype=np.float32)
    state[0, :3] = values  # the global state's first N entries are the values
    actions = make_policy("complete_information_nash", task).act({}, state)
    a = np.concatenate([actions[x] for x in task.agents], axis=1)[0]
    top = int(np.argmax(values))
    # The second value 0.9 is device 2's, which loses ties to the top device: no tie step needed.
    assert a[top] == task.bids_to_actions(np.float64(np.float32(0.9)))
    others = [i for i in range(3) if i != top]
    np.testing.assert_array_equal(a[others], task.bids_to_actions(np.array(values, dtype=np.float32)[others]))


def test_complete_information_nash_breaks_a_lost_tie_by_one_float32_step(task):
    state = np.zeros((1, task.state_space.shape[0]), dtype=np.float32)
    state[0, :3] = [0.9, 1.2, 0.5]  # device 0 holds the second value and would win a tie with device 1
    actions = make_policy("complete_information_nash", task).act({}, state)
    assert actions["iot_1"][0, 0] == np.nextafter(task.bids_to_actions(np.float64(np.float32(0.9))), np.float32(np.inf))
    winner, _ = task.mechanism(task.actions_to_bids(np.concatenate([actions[a] for a in task.agents], axis=1)))
    assert winner[0] == 1


def test_capped_bids_the_value_up_to_the_quantile_of_the_highest_competing_value(task):
    from semcom_baselines.iot_auction import Capped
    from semcom_envs.config import ConfigError

    policy = make_policy("capped", task)
    dist, n = task.value_distribution(), task.num_agents
    # The cap: P(max of the other N - 1 i.i.d. values <= c) = F(c)^(N - 1) = q = 0.35.
    # cdf and quantile interpolate the same grid, so they invert each other exactly away from atoms (float rounding).
    np.testing.assert_allclose(dist.cdf(np.array([policy.cap]))[0] ** (n - 1), 0.35, rtol=1e-12)
    values = np.array([[0.5 * policy.cap, policy.cap, 1.4]], dtype=np.float32)
    bids = _bids(task, policy.act(_observations(task, values, np.array([0.9])), None))
    expected = [np.float32(0.5 * policy.cap), np.float32(policy.cap), policy.cap + 0.05 * (np.float32(1.4) - policy.cap)]
    np.testing.assert_allclose(bids[0], expected, rtol=0, atol=2 * task.config.bid_max * 2.0 ** -23)
    assert Capped(task, q=0.5).cap > policy.cap and Capped(task, q=0.5).name == "capped_q0.5"
    with pytest.raises(ConfigError, match=r"q=1.5 is invalid"):
        Capped(task, q=1.5)
