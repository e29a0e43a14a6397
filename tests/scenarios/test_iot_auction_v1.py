"""SemCom-IoTAuction-v1, the benchmark task: the regret metric, the equilibrium bids, the optimal reserve,
the calibrated link budget, and v0 left as it was."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from semcom_baselines import make_policy, policies_for
from semcom_envs import auctions, streams
from semcom_envs.config import ConfigError
from semcom_envs.evaluation import evaluate, slot_infos
from semcom_envs.scenarios import SCENARIOS, IoTAuction, IoTAuctionV1


@pytest.fixture(scope="module")
def task() -> IoTAuctionV1:
    return IoTAuctionV1()


def _first_slots(scenario: IoTAuction, episodes: int) -> dict[str, np.ndarray]:
    return scenario.reset(streams.episode_key(streams.seed_key(np.arange(episodes)), 0))[0]


def test_registered_with_the_benchmark_defaults(task):
    assert SCENARIOS["SemCom-IoTAuction-v1"] is IoTAuctionV1
    c = task.config
    assert (c.preset, c.mechanism, c.bandwidth_hz, c.sentences, c.bid_max) == ("benchmark", "first_price", 15e3, 120, 1.5)
    assert (task.primary_metric, task.higher_is_better) == ("regret", False)
    assert {"equilibrium", "complete_information_nash", "truthful", "shaded", "random"} <= set(policies_for(task.env_id))
    # v0 keeps its objective and its defaults.
    assert (IoTAuction.primary_metric, IoTAuction().config.mechanism, IoTAuction().config.bandwidth_hz) == ("revenue", "second_price", 1e6)


def test_truthful_regret_is_exactly_zero_under_the_truthful_mechanisms():
    # Truthful bidding is dominant under second price (with or without reserve): no deviation on any grid gains.
    rng = np.random.default_rng(0)
    values = rng.uniform(0.0, 1.5, (64, 5))
    for mechanism in ("second_price", "second_price_reserve"):
        sc = IoTAuctionV1(mechanism=mechanism)
        assert np.array_equal(sc.regret(values, values.copy()), np.zeros_like(values))


def test_regret_of_a_lone_first_price_bidder_is_its_bid():
    # Alone it wins with any bid, so its best deviation is the grid's bid 0: regret = v - (v - b).
    sc = IoTAuctionV1(num_devices=1)
    values, bids = np.array([[0.7], [1.2], [0.3]]), np.array([[0.5], [0.0], [1.4]])
    assert np.array_equal(sc.regret(values, bids), values - (values - bids))


def test_regret_of_two_first_price_bidders_by_hand(task):
    sc = IoTAuctionV1(num_devices=2)
    grid = sc.bid_grid
    values, bids = np.array([[0.8, 0.9]]), np.array([[0.5, 0.7]])
    # Device 1 wins and pays 0.7; its best deviation is the lowest grid bid that still beats 0.5 (device 0 wins ties).
    best_1 = 0.9 - grid[grid > 0.5].min()
    # Device 0 loses; winning needs a bid >= 0.7 (it wins ties) and pays it.
    best_0 = 0.8 - grid[grid >= 0.7].min()
    np.testing.assert_array_equal(sc.regret(values, bids), [[best_0, best_1 - (0.9 - 0.7)]])


def test_complete_information_nash_has_zero_regret(task):
    result = evaluate(task, make_policy("complete_information_nash", task), episodes=4, seed=10000)
    # Exact but for float32: values reach the policy as float32 state entries and bids as float32 actions, so a
    # deviation can gain at most the bids' resolution, bid_max 2^-24 per rounding (value, action), i.e. 2 bid_max 2^-24.
    assert max(result.episodes["regret"]) <= 2 * task.config.bid_max * 2.0 ** -24


def test_regret_in_infos_is_nonnegative_and_matches_the_metric(task):
    state, _ = task.reset(streams.episode_key(streams.seed_key(np.arange(3)), 0))
    actions = {a: np.random.default_rng(i).uniform(-1, 1, (3, 1)).astype(np.float32) for i, a in enumerate(task.agents)}
    tr = task.step(state, actions)
    regret = tr.infos["regret"]
    assert regret.shape == (3, task.num_agents) and (regret >= 0).all()
    metrics = task.step_metrics(task.team_reward(tr.rewards), tr.infos)
    np.testing.assert_array_equal(metrics["regret"], regret.mean(axis=1))
    assert set(metrics) == set(task.metrics)


@pytest.mark.parametrize("n", [1, 2, 5, 10])
def test_equilibrium_bid_matches_the_uniform_closed_form(n):
    v = np.linspace(0.1, 1.0, 91)
    bids = auctions.first_price_equilibrium_bids(auctions.ValueDistribution.uniform(1.0), n, v)
    # Trapezoidal error of int_0^v x^(n-1) on the grid step h = 1/4096: v h^2 max|f''| / 12 = v h^2 (n-1)(n-2) v^(n-3) / 12,
    # divided by F(v)^(n-1) = v^(n-1): (n-1)(n-2) h^2 / (12 v); at v >= 0.1 at most (n-1)(n-2) h^2 / 1.2.
    bound = max((n - 1) * (n - 2), 1) * 4096.0 ** -2 / 1.2
    np.testing.assert_allclose(bids, (n - 1) / n * v, rtol=0, atol=bound)


def test_equilibrium_bid_matches_numerical_integration_for_exponential_values():
    mean, upper, n = 3.0, 30.0, 3
    dist = auctions.ValueDistribution.exponential(mean, upper)
    cdf = lambda x: 1.0 - np.exp(-x / mean)  # noqa: E731 (the exact F below the truncation)
    for v in (0.5, 2.0, 6.0, 12.0):
        integral = integrate.quad(lambda x: cdf(x) ** (n - 1), 0.0, v)[0]
        exact = v - integral / cdf(v) ** (n - 1)
        # The grid's quantile levels are 0.99 / 8192 apart in the body: F is linear between them, so the trapezoid's
        # error is of order (dq)^2 relative, ~1e-8; 1e-5 leaves room for the truncation at 30 (F(30) = 1 - 4.5e-5).
        assert auctions.first_price_equilibrium_bids(dist, n, np.array([v]))[0] == pytest.approx(exact, rel=1e-5)


def test_equilibrium_policy_is_truthful_under_a_truthful_mechanism():
    sc = IoTAuctionV1(mechanism="second_price", num_devices=3)
    values = np.array([[0.2], [0.9]])
    np.testing.assert_array_equal(make_policy("equilibrium", sc).bids(values), values)


def test_optimal_reserve_is_the_zero_of_the_virtual_value():
    # U[0, 1]: phi(v) = 2 v - 1, r* = 1/2 (to the grid step 1/4096); Exp(mean 3): phi(v) = v - 3, r* = 3.
    assert auctions.ValueDistribution.uniform(1.0).monopoly_reserve() == pytest.approx(0.5, abs=1.0 / 4096)
    assert auctions.ValueDistribution.exponential(3.0, 50.0).monopoly_reserve() == pytest.approx(3.0, abs=0.01)
    sc = IoTAuctionV1(valuation="uniform", value_scale=1.0, bid_max=1.0, mechanism="second_price_reserve", num_devices=2)
    winner, price = sc.mechanism(np.array([[0.4, 0.3], [0.9, 0.1], [0.7, 0.8]]))
    r = sc.value_distribution().monopoly_reserve()
    np.testing.assert_array_equal(winner, [-1, 0, 1])
    np.testing.assert_array_equal(price, [0.0, r, 0.7])


def test_calibrated_link_budget_makes_the_feature_dimension_vary(task):
    dims = _first_slots(task, 4000)["link_feature_dim"].ravel()
    share = np.bincount(dims, minlength=17) / dims.size
    # d* is spread (v0: d* = 16 in 99.96 % of device-slots): at least five dimensions each hold >= 5 % of device-slots,
    # and no dimension holds half of them.
    assert (share >= 0.05).sum() >= 5 and share.max() < 0.5
    v0_dims = _first_slots(IoTAuction(), 4000)["link_feature_dim"].ravel()
    assert (v0_dims == 16).mean() > 0.99


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"mechanism": "vickrey"}, "mechanism"), ({"bid_max": 0.0}, "bid_max"), ({"sentences": 0}, "sentences"),
])
def test_bad_configs_raise(kwargs, field):
    with pytest.raises(ConfigError, match=rf"^{field}="):
        IoTAuctionV1(**kwargs)


def test_slot_infos_are_the_slots_evaluate_scores():
    """``evaluation.slot_infos`` returns the infos of the very slots :func:`evaluate` averages: summed slot by slot
    and divided as evaluate does, the devices' mean regret gives evaluate's per-episode regret exactly."""
    sc = IoTAuctionV1(max_steps=7)
    infos = slot_infos(sc, make_policy("price_anchored", sc), 3, 12, ("regret", "bid"))
    assert infos["regret"].shape == infos["bid"].shape == (7, 3, sc.num_agents)
    total = np.zeros(3)
    for regret in infos["regret"]:
        total += regret.mean(axis=1)
    assert (total / 7).tolist() == evaluate(sc, make_policy("price_anchored", sc), 3, 12).episodes["regret"]


def test_slot_infos_refuses_episodes_that_end_early():
    """``slot_infos`` stacks whole episodes: a scenario whose episodes terminate before ``max_steps`` gets a clear
    error naming it, not arrays of mixed episodes."""
    from semcom_envs.api.core import Transition

    class Ending(IoTAuctionV1):
        def step(self, state, actions):
            tr = super().step(state, actions)
            ended = tr.state["t"] >= 2
            return Transition(tr.state, tr.observations, tr.rewards, {a: ended for a in self.agents}, tr.truncated,
                              tr.infos)

    sc = Ending(max_steps=5)
    with pytest.raises(ValueError, match="SemCom-IoTAuction-v1: an episode terminated before max_steps=5"):
        slot_infos(sc, make_policy("truthful", sc), 2, 0, ("regret",))
