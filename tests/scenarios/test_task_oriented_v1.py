"""SemCom-TaskOriented-v1, the benchmark task: delta on the power-gain scale, (14e), the primary metric, local ``fra``."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from semcom_baselines import make_policy, task_oriented
from semcom_envs import streams
from semcom_envs.config import ConfigError
from semcom_envs.physics import radio
from semcom_envs.scenarios.task_oriented import TaskOriented, TaskOrientedV1


def _reset(sc: TaskOriented, seeds=(7, 8, 9)):
    return sc.reset(streams.seed_key(np.array(seeds)))


def _path_gain(sc: TaskOriented, distance_m: np.ndarray) -> np.ndarray:
    c = sc.config
    return radio.db_to_linear(-radio.path_loss_db(distance_m, c.path_loss_intercept_db, c.path_loss_slope_db))


def test_v1_is_the_benchmark_preset_of_the_same_core():
    sc = TaskOrientedV1()
    c = sc.config
    assert (sc.env_id, c.preset, c.channel_scale, c.compression_min, c.power_max_w, c.data_bits, c.service_levels) == (
        "SemCom-TaskOriented-v1", "benchmark", "gain", 0.01, 0.01, 147456.0, True)
    assert isinstance(gym.make("SemCom-TaskOriented-v1").unwrapped.scenario, TaskOrientedV1)
    v0 = TaskOriented().config
    assert (v0.channel_scale, v0.compression_min, v0.data_bits, v0.power_max_w) == ("sqrt-gain", 0.0, 1.2e6, 1.0)


def test_delta_is_the_large_scale_power_gain_so_the_snr_at_delta_is_the_link_budget():
    for sc, power in ((TaskOrientedV1(), 1e-3), (TaskOrientedV1(power_max_w=1.0), 0.1)):
        state, _ = _reset(sc)
        g = _path_gain(sc, state["distance_m"])
        # delta = sqrt(g^2): one rounding in the square and one in the root, <= 2 ulp = 4.4e-16 relative.
        np.testing.assert_allclose(np.sqrt(state["delta2"]), g, rtol=1e-15, atol=0)
        # The delay at |h| = delta is the one of the link budget g P / (N0 B) (same operations, 2 MHz each).
        bandwidth = np.full(g.shape, 2e6)
        delay = sc.success(np.full(g.shape, 0.8), bandwidth, np.full(g.shape, power), state["delta2"])["delay_s"]
        rate = bandwidth * np.log2(1.0 + g * power / (sc.noise_psd_w * bandwidth))
        np.testing.assert_allclose(delay, sc.config.data_bits * 0.2 / rate, rtol=1e-12)  # log2 vs log1p rounding
    # v0 keeps delta^2 = g exactly.
    sc = TaskOriented()
    state, _ = _reset(sc)
    np.testing.assert_array_equal(state["delta2"], _path_gain(sc, state["distance_m"]))


def test_observation_carries_the_large_scale_gain_in_both_versions():
    # Same seeds, same distances: the gain feature (own large-scale gain in dB) is identical in v0 and v1.
    (s0, o0), (s1, o1) = _reset(TaskOriented()), _reset(TaskOrientedV1())
    np.testing.assert_array_equal(s0["distance_m"], s1["distance_m"])
    for agent in o0:
        np.testing.assert_array_equal(o0[agent][:, 0], o1[agent][:, 0])


@pytest.mark.parametrize("action_type", ["continuous", "discrete"])
def test_no_action_reaches_o_0_in_v1_while_v0_keeps_its_map(action_type):
    low = {"continuous": np.float32(-1.0), "discrete": 0}[action_type]
    share = {"continuous": np.float32(1.0), "discrete": 4}[action_type]
    for cls, o_low in ((TaskOrientedV1, 0.01), (TaskOriented, 0.0)):
        sc = cls(action_type=action_type, num_users=3)
        state, _ = _reset(sc)
        actions = {a: np.tile(np.array([low, share, share]), (3, 1)) for a in sc.agents}
        infos = sc.step(state, actions).infos
        assert np.all(infos["selected"]) and np.all(infos["compression"] == o_low)
    sc = TaskOrientedV1(num_users=3)
    top = {a: np.ones((3, 3), dtype=np.float32) for a in sc.agents}
    assert np.all(sc.step(_reset(sc)[0], top).infos["compression"] == 0.99)  # 0.01 + 0.98 * 1


def test_encode_allocation_rejects_o_outside_the_allowed_range_naming_the_user():
    sc = TaskOrientedV1(num_users=4)
    bandwidth, power = np.full((2, 4), 5e6), np.full((2, 4), 2.5e-3)
    o = np.full((2, 4), 0.5)
    o[1, 2] = 0.0
    with pytest.raises(ValueError, match=r"user_2 \(copy 1\): compression ratio o = .*0\.0.* outside \[0\.01, 0\.99\]"):
        sc.encode_allocation(o, bandwidth, power, np.ones((2, 4), dtype=bool))
    o[1, 2] = 0.995
    with pytest.raises(ValueError, match="user_2"):
        sc.encode_allocation(o, bandwidth, power, np.ones((2, 4), dtype=bool))
    selected = np.ones((2, 4), dtype=bool)
    selected[1, 2] = False  # an unselected user's o is ignored
    sc.encode_allocation(o, bandwidth, power, selected)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"channel_scale": "amplitude"}, "channel_scale"),
    ({"compression_min": 0.99}, "compression_min"),
    ({"compression_min": -0.01}, "compression_min"),
    ({"compression_min": "0.01"}, "compression_min"),
])
def test_invalid_v1_fields_raise_naming_the_field(kwargs, field):
    for cls in (TaskOriented, TaskOrientedV1):
        with pytest.raises(ConfigError, match=rf"^{field}="):
            cls(**kwargs)


def test_primary_metric_is_the_team_reward_and_the_objective_the_references_maximise():
    sc = TaskOrientedV1(num_users=6)
    state, obs = _reset(sc, seeds=range(8))
    tr = sc.step(state, make_policy("fra", sc).act(obs, None))
    team = np.mean([tr.rewards[a] for a in sc.agents], axis=0)
    metrics = sc.step_metrics(team, tr.infos)
    assert sc.primary_metric == "weighted_success"
    np.testing.assert_allclose(metrics["weighted_success"], team, rtol=1e-12)  # sum / U vs mean: rounding only
    np.testing.assert_allclose(metrics["weighted_success"], tr.infos["objective"] / 6, rtol=0)
    # With drawn service weights the unweighted success (v0's primary metric) is a different quantity.
    assert np.all(metrics["weighted_success"] < metrics["success_prob"])  # every weight <= 0.8 < 1


def test_fra_and_equal_are_local_and_the_solvers_full_information():
    sc = TaskOrientedV1(num_users=3)
    labels = {name: make_policy(name, sc).uses_global_state for name in ("equal", "fra", "msr", "fcr", "crra", "crraus")}
    assert labels == {"equal": False, "fra": False, "msr": True, "fcr": True, "crra": True, "crraus": True}
    _, obs = _reset(sc)
    with pytest.raises(ValueError, match="needs the global state"):
        make_policy("crra", sc).act(obs, None)


@pytest.mark.parametrize("cls", [TaskOriented, TaskOrientedV1])
@pytest.mark.parametrize("preset", [None, "crraus"])
def test_fra_from_local_observations_acts_exactly_as_from_the_global_state(cls, preset):
    kwargs = {} if preset is None or cls is TaskOrientedV1 else {"preset": preset}
    sc = cls(**kwargs)
    state, obs = _reset(sc, seeds=range(16))
    for name in ("fra", "equal"):
        policy = make_policy(name, sc)
        local = policy.act(obs, None)
        # The former full-information path: the same solver fed from the global state.
        slot = task_oriented._TaskOrientedPolicy.known_slot(policy, obs, sc.global_state(state))
        old = sc.encode_allocation(*policy.solve_selected(slot["delta2"], slot["weight"]))
        for agent in sc.agents:
            np.testing.assert_array_equal(local[agent], old[agent])


def test_memoised_solver_acts_as_solving_every_copy():
    sc = TaskOrientedV1(num_users=2)
    state, obs = _reset(sc, seeds=(3, 4, 3, 3))  # copies 0, 2, 3 are the same problem
    gs = sc.global_state(state)
    policy = make_policy("crra", sc)
    batched = policy.act(obs, gs)
    for i in range(4):
        single = make_policy("crra", sc).act({a: v[i:i + 1] for a, v in obs.items()}, gs[i:i + 1])
        for agent in sc.agents:
            np.testing.assert_array_equal(batched[agent][i:i + 1], single[agent])


def test_local_select_is_fra_when_everyone_joins_and_drops_the_users_below_tau():
    sc = TaskOrientedV1()
    state, obs = _reset(sc, seeds=range(8))
    fra = make_policy("fra", sc).act(obs, None)
    everyone = task_oriented.LocalSelect(sc, k=sc.num_agents, tau=0.0).act(obs, None)
    for agent in sc.agents:
        np.testing.assert_array_equal(everyone[agent], fra[agent])
    policy = make_policy("local_select", sc)
    assert not policy.uses_global_state and (policy.k, policy.tau) == (5, 0.1)
    infos = sc.step(state, policy.act(obs, None)).infos
    c = sc.config
    slot = sc.decode_observation(np.stack([obs[a] for a in sc.agents], axis=1))
    b, p = np.full((8, 10), c.bandwidth_max_hz / 5), np.full((8, 10), c.power_max_w / 5)
    value = slot["weight"] * sc.success(policy.best_o(b, p, slot["delta2"]), b, p, slot["delta2"])["success_prob"]
    np.testing.assert_array_equal(infos["selected"], value >= 0.1)  # at these seeds someone always joins
    assert 0 < infos["selected"].mean() < 1  # the rule both keeps and drops users here
    count = infos["selected"].sum(axis=1, keepdims=True)
    # Equal shares of the budgets among the users who joined (division and the min/spare split: rounding only).
    np.testing.assert_allclose(infos["bandwidth_hz"], np.where(infos["selected"], c.bandwidth_max_hz / count, 0), rtol=1e-12)


@pytest.mark.parametrize("name", ["equal", "fra", "local_select", "local_select k=3 tau=0.3"])
def test_a_local_rule_acts_on_its_own_observation_only(name):
    """What ``information = local`` promises: a user's action is the same whatever the other users observe.
    ``local_select`` with a high threshold leaves some episodes with nobody above it (the case a rule reading the
    others' values would handle differently)."""
    sc = TaskOrientedV1()
    _, own = _reset(sc, seeds=range(16))
    _, others = _reset(sc, seeds=range(100, 116))
    policy = task_oriented.LocalSelect(sc, k=3, tau=0.3) if name.endswith("0.3") else make_policy(name, sc)
    assert not policy.uses_global_state
    alone = policy.act(own, None)
    for agent in sc.agents:
        mixed = {**others, agent: own[agent]}  # this user's observation among other episodes' users
        np.testing.assert_array_equal(policy.act(mixed, None)[agent], alone[agent])


def test_local_select_serves_nobody_when_no_user_reaches_tau():
    sc = TaskOrientedV1()
    state, obs = _reset(sc, seeds=range(4))
    policy = task_oriented.LocalSelect(sc, k=sc.num_agents, tau=1.0)  # w Phi <= w <= 0.8 < 1 for every user
    assert not sc.step(state, policy.act(obs, None)).infos["selected"].any()
