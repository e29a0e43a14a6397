"""SemCom-MultiCell with bursty traffic (``traffic="bursty"``) and the benchmark task SemCom-MultiCell-v1.

Float comparisons: queue arithmetic runs in float64 on float32-stored rates, and the properties
tested are exact by construction (the same operations in the same order: conservation, arrivals,
the clipped service); features compared with the global state are float32 values of float64
numbers, within the rounding bounds derived at each test.
"""

from __future__ import annotations

import numpy as np
import pytest

from semcom_envs import streams
from semcom_envs.config import ConfigError
from semcom_envs.scenarios.multicell import K_MAX, MultiCell, MultiCellV1


def _keys(n: int, seed: int = 0) -> np.ndarray:
    return streams.episode_key(streams.seed_key(np.arange(seed, seed + n)), 0)


def _random_actions(scenario: MultiCell, rng: np.random.Generator, batch: int) -> dict[str, np.ndarray]:
    q = scenario.config.num_power_levels
    return {a: np.stack([rng.integers(0, q, batch), rng.integers(0, K_MAX, batch)], -1) for a in scenario.agents}


def test_v1_is_the_benchmark_preset_of_the_same_core():
    v1 = MultiCellV1()
    c = v1.config
    assert (c.preset, c.traffic, c.backhaul_observations, c.p_max_dbm, c.carrier_hz) == ("benchmark", "bursty", True, 23.0, 2e9)
    assert (c.cell_radius_m, c.ut_placement, c.power_step_db, c.num_cells) == (500.0, "area", 5.0, 7)
    assert v1.env_id == "SemCom-MultiCell-v1" and MultiCell.env_id == "SemCom-MultiCell-v0"
    # The v1 id at the v0 config fields runs v0's core: identical trajectories.
    fields = {k: getattr(c, k) for k in ("cell_radius_m", "inter_site_factor", "ut_placement", "power_step_db", "p_bs_dbm",
                                         "p_max_dbm", "carrier_hz")}
    a, b = MultiCellV1(traffic="full_buffer", backhaul_observations=False), MultiCell(**fields)
    (sa, oa), (sb, ob) = a.reset(_keys(4)), b.reset(_keys(4))
    assert all(np.array_equal(oa[agent], ob[agent]) for agent in a.agents)
    rng = np.random.default_rng(0)
    for _ in range(5):
        act = _random_actions(a, rng, 4)
        ta, tb = a.step(sa, act), b.step(sb, act)
        for agent in a.agents:
            assert np.array_equal(ta.observations[agent], tb.observations[agent])
            assert np.array_equal(ta.rewards[agent], tb.rewards[agent])
        sa, sb = ta.state, tb.state


def test_queues_conserve_units_and_serve_at_most_a_slot_of_the_semantic_rate():
    sc = MultiCellV1(num_cells=3)
    state, _ = sc.reset(_keys(32))
    rng = np.random.default_rng(1)
    c = sc.config
    for _ in range(30):
        tr = sc.step(state, _random_actions(sc, rng, 32))
        info, new = tr.infos, tr.state
        # Exact: served = min(backlog, S(k) T), left = backlog - served, next = left + arrivals.
        capacity = sc._rate_of_k[info["k"] - 1] * c.slot_s
        assert np.array_equal(info["served"], np.minimum(state["backlog"], capacity))
        assert np.array_equal(info["backlog"], state["backlog"] - info["served"])
        arrivals = np.where(new["on"], c.traffic_peak_to_mean * c.slot_s * new["rate_req"].astype(np.float64), 0.0)
        assert np.array_equal(new["backlog"], info["backlog"] + arrivals)
        assert np.all(info["backlog"] >= 0) and np.array_equal(info["delay_s"], info["backlog"] / state["rate_req"])
        state = new


def test_on_off_sources_have_the_configured_switch_probabilities_and_mean_rate():
    """Over 4096 copies x 200 slots the empirical switch frequencies match P(OFF->ON) = P(ON->OFF) = 0.1
    (peak-to-mean 2, stay 0.9) within 5 binomial standard deviations (sd <= 0.5 / sqrt(n), n >= 2e5 per
    estimate: 0.0011), and the share of ON slots 1/2 within 5 sd of a chain with correlation 0.8
    (variance inflation (1 + 0.8) / (1 - 0.8) = 9: sd <= 3 x 0.5 / sqrt(4096 x 200) = 0.0017)."""
    sc = MultiCellV1(num_cells=1, max_steps=200)
    state, _ = sc.reset(_keys(4096))
    act = {"bs_0": np.tile([6, 0], (4096, 1))}
    on = [state["on"][:, 0]]
    for _ in range(200):
        state = sc.step(state, act).state
        on.append(state["on"][:, 0])
    on = np.array(on)
    prev, nxt = on[:-1], on[1:]
    off_to_on = (nxt & ~prev).sum() / (~prev).sum()
    on_to_off = (~nxt & prev).sum() / prev.sum()
    assert sc.config.traffic_switch_probabilities() == pytest.approx((0.1, 0.1))  # float64 arithmetic: rel 1e-6
    assert abs(off_to_on - 0.1) < 5 * 0.0011 and abs(on_to_off - 0.1) < 5 * 0.0011
    assert abs(on.mean() - 0.5) < 5 * 0.0017


def test_constant_traffic_is_always_on():
    sc = MultiCell(num_cells=2, traffic="bursty", traffic_peak_to_mean=1.0)
    state, _ = sc.reset(_keys(8))
    for _ in range(5):
        state = sc.step(state, _random_actions(sc, np.random.default_rng(0), 8)).state
        assert state["on"].all()


def test_qoe_is_the_delay_and_accuracy_satisfaction_of_the_slot():
    sc = MultiCellV1(num_cells=2)
    c = sc.config
    req = {"rate_req": np.array([1e5]), "accuracy_req": np.array([0.85]), "lam": np.array([50.0]),
           "weight": np.array([0.3]), "beta_qoe": np.array([2e-4])}
    sinr_db, silent = np.array([25.0]), np.array([False])
    for k_idx, backlog in ((0, 5000.0), (9, 5000.0), (3, 0.0)):
        accuracy, rate, qoe, served = sc.queued_qoe(sinr_db, silent, np.array([k_idx]), req, np.array([backlog]))
        s = min(backlog, float(sc._rate_of_k[k_idx]) * c.slot_s)
        delay = (backlog - s) / 1e5
        g_d = 1 / (1 + np.exp(c.delay_steepness_per_s * (delay - c.delay_req_s)))
        g_a = 1 / (1 + np.exp(50.0 * (0.85 - accuracy[0]))) if s > 0 else 1.0
        assert served[0] == s  # the same min of the same float64 numbers
        # float64 formulas of the same operations: a few ULPs (rel 1e-15) against rel 1e-12.
        assert qoe[0] == pytest.approx(0.3 * g_d + 0.7 * g_a, rel=1e-12)
    # Serving nothing leaves the accuracy satisfaction at 1; a long queue drives the delay satisfaction to 0.
    _, _, qoe, served = sc.queued_qoe(sinr_db, silent, np.array([0]), req, np.array([0.0]))
    assert served[0] == 0 and qoe[0] == pytest.approx(0.3 / (1 + np.exp(-c.delay_steepness_per_s * c.delay_req_s)) + 0.7)


def test_observations_hold_the_own_queue_and_what_neighbours_share():
    sc = MultiCellV1(num_cells=3)
    c = sc.config
    state, _ = sc.reset(_keys(16))
    rng = np.random.default_rng(2)
    for _ in range(4):
        act = _random_actions(sc, rng, 16)
        gain = sc._gain(state)
        tr = sc.step(state, act)
        obs, new = tr.observations, tr.state
        p = tr.infos["tx_power_w"]
        assert obs["bs_0"].shape == (16, 7 + 4 + 2 * 2)
        for m, agent in enumerate(sc.agents):
            o = obs[agent].astype(np.float64)
            ratio = new["backlog"][:, m] / (new["rate_req"][:, m] * c.delay_req_s)
            # float32 features of float64 values: one rounding, rel 2^-24 (6e-8), against rel 1e-6.
            np.testing.assert_allclose(o[:, 7], ratio, rtol=1e-6)
            assert np.array_equal(o[:, 8], new["on"][:, m].astype(np.float32))
            assert np.array_equal(o[:, 9], new["accuracy_req"][:, m])
            others = [j for j in range(3) if j != m]
            leak_db = 10 * np.log10(p[:, m, None] * gain[:, m, others] / float(sc.noise_w))
            # dB features: float32 log10 (<= 4 ULP of values <= 120 dB: 6e-5 dB) of a float32 product: atol 1e-3 dB.
            np.testing.assert_allclose(o[:, 11:13] * 30, np.clip(leak_db, -30, 120), atol=1e-3)
            left = tr.infos["backlog"][:, others] / (state["rate_req"][:, others] * c.delay_req_s)
            np.testing.assert_allclose(o[:, 13:15], left, rtol=1e-6)
        state = new
    assert all(sc.observation_space(a).contains(obs[a][0]) for a in sc.agents)


def test_global_state_decodes_the_queues_it_holds():
    sc = MultiCellV1(num_cells=3)
    state, _ = sc.reset(_keys(8))
    rng = np.random.default_rng(3)
    for _ in range(3):
        state = sc.step(state, _random_actions(sc, rng, 8)).state
    gs = sc.global_state(state)
    assert all(sc.state_space.contains(g) for g in gs)
    decoded = sc.decode_global_state(gs)
    # float32 ratio and rate (one rounding each) multiplied in float64: rel <= 3 x 6e-8, against 1e-6.
    np.testing.assert_allclose(decoded["backlog"], state["backlog"], rtol=1e-6)
    assert np.array_equal(decoded["on"], state["on"])


def test_a_silent_policy_lets_the_backlog_grow_to_the_state_bound_and_no_further():
    sc = MultiCell(num_cells=1, traffic="bursty", traffic_peak_to_mean=1.0, max_steps=20)
    state, _ = sc.reset(_keys(2))
    for _ in range(20):
        tr = sc.step(state, {"bs_0": np.zeros((2, 2), dtype=np.int64)})  # level 0 is silence in the paper preset
        state = tr.state
    assert np.all(tr.infos["served"] == 0)
    ratio = tr.observations["bs_0"][:, 7]
    # Constant traffic never served: 1 (slot 0) + 1 (pilot) + 20 slots of arrivals = 22 slots = 0.44 s of traffic.
    # The pilot serves some: so at most the bound, and at least 21 slots of arrivals.
    assert np.all(ratio <= sc.delay_ratio_max) and np.all(ratio >= 21 * sc.config.slot_s / sc.config.delay_req_s * (1 - 1e-6))


@pytest.mark.parametrize(("kwargs", "names"), [
    ({"traffic": "bursty", "rate_req_ksuts": (0.0, 10.0)}, ["rate_req_ksuts", "traffic='bursty'"]),
    ({"traffic": "bursty", "traffic_on_stay": 0.1, "traffic_peak_to_mean": 1.5}, ["traffic_on_stay", "traffic_peak_to_mean"]),
    ({"traffic": "poisson"}, ["traffic", "full_buffer", "bursty"]),
])
def test_bad_traffic_configurations_name_their_fields(kwargs, names):
    with pytest.raises(ConfigError) as error:
        MultiCell(**kwargs)
    assert all(name in str(error.value) for name in names)
