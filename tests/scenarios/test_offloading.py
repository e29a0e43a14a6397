"""SemCom-Offloading-v0: the computation and uplink models against hand calculations, and their properties."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semcom_envs import ActionError, ConfigError
from semcom_envs.api.runner import BatchRunner
from semcom_envs.offloading_v0 import parallel_env
from semcom_envs.physics import energy, radio, semantics
from semcom_envs.registration import make_scenario

ENV = "SemCom-Offloading-v0"


def _scenario(**kwargs):
    return make_scenario(ENV, **kwargs)


def test_deepsc_flops_match_the_spec_mac_count_by_hand():
    # One token, sentence length 10, k = 8, the spec's sizes: d 128, d_ff 512, 4 layers, V 22,000.
    enc, dec = energy.deepsc_flops(1, 10, 8)
    d, ff = 128, 512
    enc_macs = 4 * (4 * d * d + 2 * d * ff + 2 * 10 * d) + 128 * 256 + 256 * 8
    dec_macs = 4 * (8 * d * d + 2 * d * ff + 4 * 10 * d) + 128 * 8 + 2 * 128 * 512 + 128 * 22_000
    assert enc == 2 * enc_macs and dec == 2 * dec_macs
    assert dec > 4 * enc  # the output projection makes local decoding the expensive part (spec §2)


def test_gpu_power_hits_the_peak_at_the_top_frequency():
    sc = _scenario()
    assert energy.gpu_power_w(sc.f_max, 1.5, sc.kappa) == pytest.approx(10.0)
    assert energy.gpu_power_w(0.0, 1.5, sc.kappa) == pytest.approx(1.5)


def test_local_energy_is_the_minimum_over_frequencies_meeting_the_deadline():
    sc = _scenario(deadline_s=0.002)  # tight enough that large tasks need more than f_min
    flops = np.array([1e8, 5e8, 1.2e9, 2e9])
    grid = np.linspace(sc.f_min, sc.f_max, 20001)[:, None]
    time = flops / (grid * sc.flops_per_hz)
    e = energy.gpu_power_w(grid, 1.5, sc.kappa) * time
    feasible = np.where(time <= 0.002 + 1e-12, e, np.inf)
    best = feasible.min(axis=0)
    best = np.where(np.isfinite(best), best, e[-1])  # infeasible: f_max
    np.testing.assert_allclose(sc.local_energy(flops), best, rtol=1e-4)


def _outcome(sc, x, p_dbm, gain=1e-9, n_sent=5.0, length=20.0, f_hz=1e9):
    x = np.asarray(x, dtype=np.float64)
    return sc.outcome(np.full_like(x, n_sent), np.full_like(x, length), np.broadcast_to(gain, x.shape), x,
                      np.full_like(x, f_hz), radio.dbm_to_watts(np.broadcast_to(p_dbm, x.shape)))


def test_ofdma_splits_the_band_among_offloaders_only():
    sc = _scenario(num_devices=3)
    noise_psd = radio.dbm_to_watts(-174.0)
    p = radio.dbm_to_watts(20.0)
    for x, share in (([1, 0, 0], 1), ([1, 1, 0], 2), ([1, 1, 1], 3)):
        out = _outcome(sc, [x], 20.0)
        b = 10e6 / share
        expected = b * np.log2(1 + p * 1e-9 / (noise_psd * b))
        np.testing.assert_allclose(out["rate_bps"][0, 0], expected, rtol=1e-12)
        assert out["rate_bps"][0, 2] == (expected if x[2] else 0.0) or x[2] == 0


def test_shared_access_sinr_counts_only_other_offloaders_as_interference():
    sc = _scenario(num_devices=3, access="shared")
    gains = np.array([[1e-9, 3e-10, 5e-11]])
    p = radio.dbm_to_watts(np.array([[24.0, 15.0, 21.0]]))
    x = np.array([[1.0, 0.0, 1.0]])
    out = sc.outcome(np.full((1, 3), 4.0), np.full((1, 3), 10.0), gains, x, np.full((1, 3), 1e9), p)
    noise = radio.dbm_to_watts(-174.0) * 10e6
    sinr0 = p[0, 0] * gains[0, 0] / (p[0, 2] * gains[0, 2] + noise)  # device 1 computes locally: no interference
    sinr2 = p[0, 2] * gains[0, 2] / (p[0, 0] * gains[0, 0] + noise)
    np.testing.assert_allclose(out["sinr"][0], [sinr0, 0.0, sinr2], rtol=1e-12)
    assert out["accuracy"][0, 1] == 1.0  # local execution has no channel error (spec §3)


def test_offloaded_accuracy_is_the_deepsc_table_at_the_sinr():
    sc = _scenario(k=4)
    out = _outcome(sc, [[1.0]], 15.0, gain=1e-13)
    expected = semantics.deepsc_similarity(4, 10 * np.log10(out["sinr"][0, 0]))
    np.testing.assert_allclose(out["accuracy"][0, 0], expected, rtol=1e-12)


def test_energy_and_latency_equations_by_hand():
    sc = _scenario(num_devices=1)
    n_sent, length, f, p, g = 3.0, 12.0, 1.2e9, radio.dbm_to_watts(18.0), 2e-10
    enc, dec = energy.deepsc_flops(n_sent * length, length, 8)
    thr = f * 512
    power = 1.5 + sc.kappa * f**3
    local = sc.outcome(np.array([n_sent]), np.array([length]), np.array([g]), np.array([0.0]), np.array([f]), np.array([p]))
    np.testing.assert_allclose(local["energy_j"], power * (enc + dec) / thr, rtol=1e-12)
    np.testing.assert_allclose(local["latency_s"], (enc + dec) / thr, rtol=1e-12)
    off = sc.outcome(np.array([n_sent]), np.array([length]), np.array([g]), np.array([1.0]), np.array([f]), np.array([p]))
    rate = 10e6 * np.log2(1 + p * g / (radio.dbm_to_watts(-174.0) * 10e6))
    t_tx = n_sent * length * 8 * 8 / rate
    np.testing.assert_allclose(off["energy_j"], power * enc / thr + p * t_tx, rtol=1e-12)
    np.testing.assert_allclose(off["latency_s"], enc / thr + t_tx + dec / (10 * sc.f_max * 512), rtol=1e-12)
    e_local = sc.local_energy(enc + dec)
    np.testing.assert_allclose(off["reward"], -off["energy_j"] / e_local, rtol=1e-12)  # no violation here


def test_penalties_for_deadline_overrun_and_accuracy_shortfall():
    sc = _scenario(num_devices=1, penalty=7.0)
    out = _outcome(sc, [[1.0]], 15.0, gain=1e-17, n_sent=10, length=30)  # deep fade: slow and inaccurate
    assert out["deadline_violation"][0, 0] and out["accuracy_violation"][0, 0]
    overrun = (out["latency_s"] - 0.5) / 0.5
    shortfall = 0.8 - out["accuracy"]
    np.testing.assert_allclose(out["reward"], -out["energy_ratio"] - 7.0 * (overrun + shortfall), rtol=1e-12)


def test_local_execution_at_the_lowest_level_costs_exactly_the_normalising_energy():
    sc = _scenario()
    runner = BatchRunner(sc, 16)
    runner.reset(0)
    tr = runner.step({a: np.zeros((16, 3), dtype=np.int64) for a in sc.agents})
    np.testing.assert_allclose(tr.infos["energy_ratio"], 1.0, rtol=1e-12)
    for a in sc.agents:
        np.testing.assert_allclose(tr.rewards[a], -1.0, rtol=1e-12)


def test_tasks_and_fading_follow_their_distributions():
    sc = _scenario(num_devices=4)
    runner = BatchRunner(sc, 4096)
    runner.reset(0)
    state = runner.state
    n_sent, length = state["n_sent"], state["length"]
    assert set(np.unique(n_sent)) == set(range(1, 11)) and set(np.unique(length)) == set(range(4, 31))
    assert n_sent.mean() == pytest.approx(5.5, abs=0.1) and length.mean() == pytest.approx(17.0, abs=0.2)
    fading = state["gain"] / state["large_scale"]
    assert fading.mean() == pytest.approx(1.0, abs=0.03)  # Rayleigh: |h|^2 ~ Exp(1)
    assert np.median(fading) == pytest.approx(np.log(2.0), abs=0.03)
    distance = np.linalg.norm(state["xy"], axis=-1)
    assert distance.min() >= 20.0 and distance.max() <= 200.0


def test_global_state_and_observations_decode_to_the_true_gains_and_tasks():
    sc = _scenario(num_devices=5)
    runner = BatchRunner(sc, 64)
    runner.reset(3)
    runner.step({a: np.ones((64, 3), dtype=np.int64) for a in sc.agents})
    decoded = sc.decode_global_state(runner.global_state())
    np.testing.assert_allclose(decoded["gain"], runner.state["gain"], rtol=2e-5)
    np.testing.assert_array_equal(decoded["n_sent"], runner.state["n_sent"])
    np.testing.assert_array_equal(decoded["length"], runner.state["length"])
    tr = runner.step({a: np.tile([1, 0, 0], (64, 1)) for a in sc.agents})
    local = sc.decode_observations(tr.observations)
    np.testing.assert_allclose(local["gain"], runner.state["gain"], rtol=2e-5)
    for name in ("n_sent", "length"):
        np.testing.assert_array_equal(local[name], runner.state[name])
    np.testing.assert_array_equal(local["last_offloaders"], 5.0)


def test_continuous_actions_decode_to_the_discrete_levels_at_the_grid_points():
    disc, cont = _scenario(), _scenario(action_type="continuous")
    levels = np.array([[1, 0, 0], [1, 4, 3], [0, 2, 1]])
    box = np.stack([np.where(levels[:, 0] == 1, 1.0, -1.0), levels[:, 1] / 4 * 2 - 1, levels[:, 2] / 3 * 2 - 1], axis=1)
    for a, b in zip(disc.decode_actions({ag: levels for ag in disc.agents}),
                    cont.decode_actions({ag: box for ag in cont.agents})):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def _random_actions(sc, batch, rng):
    space = sc.action_space(sc.agents[0])
    if isinstance(space, gym.spaces.Box):
        return {a: rng.uniform(-1, 1, size=(batch, 3)).astype(np.float32) for a in sc.agents}
    return {a: rng.integers(0, space.nvec, size=(batch, 3)) for a in sc.agents}


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 8), k=st.integers(1, 20), access=st.sampled_from(["ofdma", "shared"]),
       action_type=st.sampled_from(["discrete", "continuous"]), seed=st.integers(0, 2**31),
       far=st.floats(20.0, 2000.0))
def test_every_quantity_is_finite_and_in_range(n, k, access, action_type, seed, far):
    sc = _scenario(num_devices=n, k=k, access=access, action_type=action_type, distance_range_m=(10.0, far), max_steps=5)
    runner = BatchRunner(sc, 32)
    runner.reset(seed)
    rng = np.random.default_rng(seed)
    for _ in range(6):
        tr = runner.step(_random_actions(sc, 32, rng))
        for name, value in tr.infos.items():
            assert np.all(np.isfinite(value)), name
        info = tr.infos
        assert np.all((info["accuracy"] >= 0) & (info["accuracy"] <= 1))
        assert np.all(info["energy_j"] > 0) and np.all(info["latency_s"] > 0) and np.all(info["rate_bps"] >= 0)
        assert np.all(info["energy_ratio"] > 0)
        assert np.all((info["offload_ratio"] >= 0) & (info["offload_ratio"] <= 1))
        for a in sc.agents:
            assert np.all(tr.rewards[a] < 0) and np.all(np.isfinite(tr.rewards[a]))
            assert sc.observation_space(a).contains(tr.observations[a][0])
        assert all(sc.state_space.contains(s) for s in runner.global_state())
        if tr.truncated[sc.agents[0]].any():
            runner.reset_copies(tr.truncated[sc.agents[0]], tr.observations)


@settings(max_examples=30, deadline=None)
@given(gain_db=st.floats(-170, -60), n_sent=st.integers(1, 10), length=st.integers(4, 30),
       f_ghz=st.floats(0.96, 1.72), k=st.integers(1, 20))
def test_monotone_in_power_frequency_and_k(gain_db, n_sent, length, f_ghz, k):
    """More power: higher SINR, no lower accuracy, faster upload. Higher f: faster, costlier local
    execution. Larger k: more energy for either decision (spec §6: energy grows with k)."""
    sc = _scenario(num_devices=1, k=k)
    powers = np.linspace(15.0, 24.0, 10)[:, None]
    out = _outcome(sc, np.ones((10, 1)), powers, gain=10 ** (gain_db / 10), n_sent=n_sent, length=length, f_hz=f_ghz * 1e9)
    assert np.all(np.diff(out["sinr"][:, 0]) > 0)
    assert np.all(np.diff(out["accuracy"][:, 0]) >= -0.01)  # the table rises in SNR up to noise of 0.01 (semantics §1)
    assert np.all(np.diff(out["latency_s"][:, 0]) < 0)
    freqs = np.linspace(0.96e9, 1.72e9, 10)[:, None]
    local = sc.outcome(np.full((10, 1), n_sent), np.full((10, 1), length), np.full((10, 1), 1e-9), np.zeros((10, 1)),
                       freqs, np.full((10, 1), 0.1))
    assert np.all(np.diff(local["latency_s"][:, 0]) < 0) and np.all(np.diff(local["energy_j"][:, 0]) > 0)
    energies = []
    for kk in (k, min(k + 1, 20)):
        sck = _scenario(num_devices=1, k=kk)
        energies.append([_outcome(sck, [[x]], 18.0, gain=10 ** (gain_db / 10), n_sent=n_sent, length=length,
                                  f_hz=f_ghz * 1e9)["energy_j"][0, 0] for x in (0.0, 1.0)])
    assert np.all(np.array(energies[1]) >= np.array(energies[0]))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(2, 6))
def test_shared_sinr_falls_when_another_device_raises_its_power(seed, n):
    sc = _scenario(num_devices=n, access="shared")
    rng = np.random.default_rng(seed)
    gains = 10 ** rng.uniform(-14, -6, size=(1, n))
    p = radio.dbm_to_watts(rng.uniform(15, 24, size=(1, n)))
    louder = p.copy()
    louder[0, 1] *= 2.0
    args = (np.full((1, n), 5.0), np.full((1, n), 10.0), gains, np.ones((1, n)), np.full((1, n), 1e9))
    base, other = sc.outcome(*args, p)["sinr"][0], sc.outcome(*args, louder)["sinr"][0]
    assert other[1] > base[1] and np.all(np.delete(other, 1) < np.delete(base, 1))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"num_devices": 0}, "num_devices"),
        ({"num_devices": 17}, "num_devices"),
        ({"k": 21}, "k"),
        ({"access": "tdma"}, "access"),
        ({"action_type": "hybrid"}, "action_type"),
        ({"distance_range_m": (200.0, 20.0)}, "distance_range_m"),
        ({"sentences_range": (1.5, 3)}, "sentences_range"),
        ({"penalty": -1.0}, "penalty"),
        ({"deadline_s": 0.0}, "deadline_s"),
        ({"gpu_peak_power_w": 1.0}, "gpu_peak_power_w"),
        ({"bandwidth_hz": float("nan")}, "bandwidth_hz"),
        ({"accuracy_model": "logistic", "accuracy_interp": "round"}, "accuracy_interp"),
        ({"num_device": 3}, "num_device"),
    ],
)
def test_invalid_config_raises_naming_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        gym.make(ENV, **kwargs)


@pytest.mark.parametrize(
    ("action_type", "bad", "pattern"),
    [
        ("discrete", np.array([2, 0, 0]), r"offload x=2 must be an integer in \[0, 1\]"),
        ("discrete", np.array([0, 5, 0]), r"frequency=5 must be an integer in \[0, 4\]"),
        ("discrete", np.array([0, 0, 4]), r"power=4 must be an integer in \[0, 3\]"),
        ("continuous", np.array([0.0, 1.5, 0.0]), r"frequency=1.5 must be a finite number in \[-1.0, 1.0\]"),
        ("continuous", np.array([np.nan, 0.0, 0.0]), r"offload x=nan"),
        ("continuous", np.array([0.0, 0.0]), "shape"),
    ],
)
def test_out_of_space_or_nan_action_raises_naming_agent_and_range(action_type, bad, pattern):
    env = parallel_env(action_type=action_type)
    env.reset(seed=0)
    actions = {a: env.action_space(a).sample() for a in env.agents}
    actions["ue_1"] = bad
    with pytest.raises(ActionError, match=pattern) as err:
        env.step(actions)
    assert "ue_1" in str(err.value) or pattern == "shape"
