"""SemCom-TaskOriented-v0: the delivery probability against Monte Carlo, numerical safety, the constraints.

Float comparisons: float64 closed forms against the implementation in another operation order agree
to a few ULPs (~1e-15; NumPy's SIMD exp/log within 4 ULP of libm), so rtol 1e-12 leaves >= 100x
margin; two scenarios running the same code on the same inputs are compared exactly. Monte-Carlo,
float32-action and constraint tolerances are derived at the test.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semcom_envs import ActionError, ConfigError
from semcom_envs.api.runner import BatchRunner
from semcom_envs.physics import radio, semantics
from semcom_envs.registration import make_scenario
from semcom_envs.scenarios.task_oriented_calibration import mean_delivery
from semcom_envs.task_oriented_v0 import parallel_env

ENV = "SemCom-TaskOriented-v0"


@pytest.mark.parametrize(("o", "bandwidth", "power", "delta2"), [(0.8, 2e6, 0.1, 1e-11), (0.5, 5e6, 0.05, 1e-12),
                                                                 (0.9, 1e6, 0.2, 3e-13), (0.0, 20e6, 0.5, 1e-12)])
def test_delivery_probability_matches_monte_carlo_of_the_channel_model(o, bandwidth, power, delta2):
    sc = make_scenario(ENV)
    exact = sc.delivery_probability(o, bandwidth, power, delta2)
    h = np.abs(np.random.default_rng(0).normal(0.0, np.sqrt(delta2), 1_000_000))  # h ~ N(0, delta^2), Lemma 1
    rate = bandwidth * np.log2(1.0 + h * power / (radio.dbm_to_watts(-174.0) * bandwidth))
    empirical = np.mean(sc.config.data_bits * (1 - o) / rate <= sc.config.deadline_s)
    # 1e6 samples: standard error <= sqrt(0.25 / 1e6) = 0.0005, so 0.002 is 4 standard errors (the seeded
    # sample is fixed; measured deviations <= 0.0004).
    assert exact == pytest.approx(empirical, abs=0.002)


def test_delivery_probability_is_finite_for_huge_exponents():
    sc = make_scenario(ENV, data_bits=1e12)
    with np.errstate(all="raise"):
        p = sc.delivery_probability(np.array([0.0, 0.5]), np.array([1e4, 1e3]), np.array([1e-5, 1.0]), np.array([1e-20, 1e-5]))
    assert np.all(p == 0.0)
    with np.errstate(all="raise"):  # and a vanishing exponent (2^e - 1 -> 0) gives 1 without underflow errors
        certain = make_scenario(ENV).delivery_probability(0.99, 1e9, 10.0, 1.0)
    assert certain == pytest.approx(1.0, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(o=st.floats(0, 0.99), bandwidth=st.floats(1e3, 1e9), power=st.floats(1e-6, 10), gain_db=st.floats(-200, 0))
def test_delivery_probability_in_range_and_monotone(o, bandwidth, power, gain_db):
    sc = make_scenario(ENV)
    delta2 = 10 ** (gain_db / 10)
    p = sc.delivery_probability(o, bandwidth, power, delta2)
    assert 0.0 <= p <= 1.0
    # Monotone in exact arithmetic; p = 2 Q(x) with ln x a sum of logs of size <= ~75 wherever p is not
    # saturated, whose few-ULP rounding (<= ~5e-14) moves p by at most max 2 x phi(x) = 0.48 times that:
    # two evaluations differ by <= 5e-14 from rounding, and the slack 1e-12 leaves 20x (no violation in
    # 400,000 random draws).
    assert sc.delivery_probability(o, bandwidth, 2 * power, delta2) >= p - 1e-12  # more power helps
    assert sc.delivery_probability(min(o + 0.005, 0.99), bandwidth, power, delta2) >= p - 1e-12  # less data helps
    assert sc.delivery_probability(o, bandwidth, power, 2 * delta2) >= p - 1e-12  # a better channel helps


def test_calibration_targets_hold_for_the_shipped_data_size():
    values = {b: mean_delivery(1.2e6, b, samples=1000) for b in (1e6, 20e6, 30e6)}  # seeded: 0.0, 0.365, 0.994
    assert values[1e6] < 0.3 and values[30e6] > 0.8 and 0.3 <= values[20e6] <= 0.7


def test_asc_keeps_accuracy_at_o_08_while_cutting_80_percent_of_the_data():
    for backbone in ("resnet", "vgg"):
        for snr in (0.0, 5.0):
            # measured drops <= 0.032 (tests/physics/test_semantics.py)
            assert semantics.asc_task_success(0.8, snr, backbone) >= semantics.asc_task_success(0.0, snr, backbone) - 0.05
    sc = make_scenario(ENV)
    out = sc.success(np.array([0.0, 0.8]), 1e6, 0.1, 1e-12)
    assert out["data_bits"][1] == pytest.approx(0.2 * out["data_bits"][0])


def _random_actions(sc, batch, rng):
    space = sc.action_space(sc.agents[0])
    if isinstance(space, gym.spaces.Box):
        return {a: rng.uniform(-1, 1, (batch, 3)).astype(np.float32) for a in sc.agents}
    return {a: rng.integers(0, space.nvec, (batch, 3)) for a in sc.agents}


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), u=st.integers(1, 12), action_type=st.sampled_from(["continuous", "discrete"]),
       threshold=st.sampled_from([0.0, 0.4]), bmax=st.floats(1e6, 30e6), pmax=st.floats(1e-3, 1.0))
def test_every_allocation_respects_the_constraints(seed, u, action_type, threshold, bmax, pmax):
    sc = make_scenario(ENV, num_users=u, action_type=action_type, select_threshold=threshold, bandwidth_max_hz=bmax,
                       power_max_w=pmax, max_steps=3)
    runner = BatchRunner(sc, 16)
    runner.reset(seed)
    rng = np.random.default_rng(seed)
    c = sc.config
    for _ in range(3):
        tr = runner.step(_random_actions(sc, 16, rng))
        info = tr.infos
        sel = info["selected"]
        # The shares w_i / sum(w) sum to 1 up to U + 1 roundings (< 3e-15 for U <= 12): slack 1e-9.
        assert np.all(info["bandwidth_used_hz"] <= c.bandwidth_max_hz * (1 + 1e-9))  # (14a)
        assert np.all(info["power_used_w"] <= c.power_max_w * (1 + 1e-9))  # (14c)
        assert np.all(info["bandwidth_hz"][sel] >= c.bandwidth_min_hz * (1 - 1e-9))  # (14b)
        assert np.all(info["power_w"][sel] >= c.power_min_w * (1 - 1e-9))  # (14d)
        assert np.all((info["compression"] >= 0) & (info["compression"] <= 0.99))  # (14e)
        assert np.all((info["success_prob"] >= 0) & (info["success_prob"] <= 1))
        for name, value in info.items():
            assert np.all(np.isfinite(value)), name
        for a in sc.agents:
            assert sc.observation_space(a).contains(tr.observations[a][0])
        assert all(sc.state_space.contains(s) for s in runner.global_state())


@pytest.mark.parametrize("action_type", ["continuous", "discrete"])
def test_encoded_allocations_are_applied(action_type):
    sc = make_scenario(ENV, num_users=4, action_type=action_type)
    runner = BatchRunner(sc, 2)
    runner.reset(0)
    c = sc.config
    selected = np.array([[True, True, False, True], [True, True, True, True]])
    bw = np.where(selected, [[8e6, 6e6, 0, 6e6], [5e6, 5e6, 5e6, 5e6]], 0.0)
    pw = np.where(selected, [[0.5, 0.25, 0, 0.25], [0.25, 0.25, 0.25, 0.25]], 0.0)
    o = np.array([[0.8, 0.7, 0.0, 0.9], [0.5, 0.6, 0.7, 0.8]])
    tr = runner.step(sc.encode_allocation(o, bw, pw, selected))
    np.testing.assert_array_equal(tr.infos["selected"], selected)
    if action_type == "continuous":
        # Approximate: float32 actions move each share u by <= 2^-26 = 1.5e-8, and w_i / sum(w) (sum >= 1)
        # by <= (U + 1) * 1.5e-8, i.e. an allocation by <= B_max / B * 7.5e-8 = 3e-7 relative here
        # (measured 2.8e-9) against rtol 1e-5; compression O_MAX * u by <= 1.5e-8 (measured 1.4e-8)
        # against atol 1e-6.
        np.testing.assert_allclose(tr.infos["bandwidth_hz"], bw, rtol=1e-5)
        np.testing.assert_allclose(tr.infos["power_w"], pw, rtol=1e-5)
        np.testing.assert_allclose(tr.infos["compression"], np.where(selected, o, 0), atol=1e-6)
    assert np.all(tr.infos["bandwidth_used_hz"] <= c.bandwidth_max_hz * (1 + 1e-9))


def test_reward_is_the_weighted_success_and_the_team_reward_the_objective_over_u():
    sc = make_scenario(ENV, preset="crraus")
    runner = BatchRunner(sc, 4)
    runner.reset(1)
    weight = runner.state["weight"].copy()
    assert set(np.unique(weight)) <= {0.2, 0.4, 0.6, 0.8}
    tr = runner.step(_random_actions(sc, 4, np.random.default_rng(0)))
    reward = np.stack([tr.rewards[a] for a in sc.agents], axis=1)
    # The same products, and sums over the users in two array layouts (NumPy may add them pairwise or in
    # sequence): a few ULPs apart, against assert_allclose's default rtol 1e-7.
    np.testing.assert_allclose(reward, weight * tr.infos["success_prob"])
    np.testing.assert_allclose(sc.team_reward(tr.rewards), tr.infos["objective"] / sc.num_agents)


@pytest.mark.parametrize(("kwargs", "field"), [({"num_users": 0}, "num_users"), ({"backbone": "vit"}, "backbone"),
                                               ({"bandwidth_min_hz": 5e6}, "bandwidth_min_hz"),
                                               ({"action_type": "hybrid"}, "action_type"), ({"deadline_s": 0}, "deadline_s"),
                                               ({"num_user": 3}, "num_user")])
def test_invalid_config_raises_naming_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        gym.make(ENV, **kwargs)


def test_out_of_space_action_raises_naming_agent_and_component():
    env = parallel_env(num_users=3)
    env.reset(seed=0)
    actions = {a: np.zeros(3, dtype=np.float32) for a in env.agents}
    actions["user_2"] = np.array([0.0, 1.5, 0.0], dtype=np.float32)
    with pytest.raises(ActionError, match=r"user_2.*bandwidth share=1.5"):
        env.step(actions)


# ---------------------------------------------------------------- SE-SC codec (physics.semantics §3)
def test_sesc_success_given_delivery_is_the_sesc_similarity_at_equal_symbols():
    sc = make_scenario(ENV, codec="se-sc")
    c = sc.config
    o = np.linspace(0.0, 0.99, 100)
    expected = semantics.sesc_similarity(c.sesc_l_tot * (1 - o), c.asc_snr_db, l_opt=c.sesc_l_opt, l_tot=c.sesc_l_tot)
    out = sc.success(o, 2e6, 0.1, 1e-12)
    # The same function on L = L_tot (1 - o) computed in float64 alike: a few ULPs at most.
    np.testing.assert_allclose(out["eta"], expected, rtol=1e-12)
    np.testing.assert_allclose(out["success_prob"], expected * out["delivery_prob"], rtol=1e-12)


def test_sesc_is_flat_in_the_explicit_region_and_rises_concavely_before():
    sc = make_scenario(ENV, codec="se-sc", sesc_l_tot=200.0, sesc_l_opt=60.0, asc_snr_db=0.0)
    edge = 1 - 60.0 / 200.0  # o at which L = L_opt
    flat = sc.task_success(np.linspace(0.0, edge, 30))
    # min(1, L / L_opt) = 1 makes the flat region exact; the rising one round-trips L through o, 200 (1 - (1 -
    # L / 200)), a relative error <= 2.2e-14 at L = 2 (1.1e-14 after sqrt) against rtol 1e-12. Its first
    # and second differences (>= 6e-5) are far above rounding.
    np.testing.assert_allclose(flat, flat[0], rtol=1e-12)  # semantic explicit region
    features = np.linspace(2.0, 60.0, 60)  # semantic parsing region, as a function of L = L_tot (1 - o)
    rising = sc.task_success(1 - features / 200.0)
    assert np.all(np.diff(rising) > 0) and rising[-1] == pytest.approx(flat[0])
    assert np.all(np.diff(rising, 2) < 0)  # concave in L (p = 0.5)
    np.testing.assert_allclose(rising, flat[0] * np.sqrt(features / 60.0), rtol=1e-12)


def test_sesc_changes_only_the_task_success_not_the_delivery():
    asc, sesc = BatchRunner(make_scenario(ENV), 3), BatchRunner(make_scenario(ENV, codec="se-sc"), 3)
    asc.reset(7)
    sesc.reset(7)
    actions = _random_actions(asc.scenario, 3, np.random.default_rng(1))
    ta, ts = asc.step(actions), sesc.step(actions)
    # Exact: both scenarios run the same code on the same inputs for everything but the task success.
    for name in ("delivery_prob", "data_bits", "delay_s", "delivered", "bandwidth_hz", "power_w", "selected", "compression"):
        np.testing.assert_array_equal(ta.infos[name], ts.infos[name], err_msg=name)
    sel = ts.infos["selected"]
    expected = make_scenario(ENV, codec="se-sc").task_success(ts.infos["compression"])
    np.testing.assert_allclose(ts.infos["eta"], np.where(sel, expected, 0.0), rtol=1e-12)
    assert not np.allclose(ta.infos["eta"][sel], ts.infos["eta"][sel])


@pytest.mark.parametrize(("kwargs", "field"), [({"codec": "jscc"}, "codec"), ({"codec": "se-sc", "sesc_l_tot": 0.0}, "sesc_l_tot"),
                                               ({"sesc_l_tot": 50.0, "sesc_l_opt": 60.0}, "sesc_l_opt"),
                                               ({"sesc_l_opt": -1.0}, "sesc_l_opt")])
def test_invalid_codec_config_raises_naming_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        gym.make(ENV, **kwargs)
