"""SemCom-Offloading-v0: the computation and uplink models against hand calculations, and their properties.

Float comparisons: the model runs in float64, and hand calculations of the same equations in another
operation order agree to a few ULPs (~1e-15; NumPy's SIMD log2/log10/pow are within 4 ULP of libm),
so rtol 1e-12 leaves >= 100x margin; FLOP counts and values selected by ``np.where`` are exact.
Other tolerances (float32 features, a frequency grid, Monte-Carlo moments) are derived at the test.
"""

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
    enc, dec = energy.deepsc_flops(1, 10, 8)  # integer-valued (exact) FLOP counts
    d, ff = 128, 512
    enc_macs = 4 * (4 * d * d + 2 * d * ff + 2 * 10 * d) + 128 * 256 + 256 * 8
    dec_macs = 4 * (8 * d * d + 2 * d * ff + 4 * 10 * d) + 128 * 8 + 2 * 128 * 512 + 128 * 22_000
    assert enc == 2 * enc_macs and dec == 2 * dec_macs
    assert dec > 4 * enc  # the output projection makes local decoding the expensive part


def test_gpu_power_hits_the_peak_at_the_top_frequency():
    sc = _scenario()
    # kappa is derived from the peak power, so 1.5 + kappa f_max^3 is 10 up to a few ULPs (approx: rel 1e-6).
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
    # Approximate: the grid's first feasible frequency lies at most df = 3.8e4 Hz (df / f <= 4e-5) above
    # the exact one, and E(f) has elasticity d ln E / d ln f = (2 kappa f^3 - P0) / (P0 + kappa f^3)
    # <= 1.55 here, so the grid's energy is at most 6.1e-5 higher (measured 1.0e-5): rtol 1e-4.
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
        # A local device's rate is exactly 0 (np.where); an offloader's is the hand formula up to ULPs
        # (was ==, which relied on the test repeating the implementation's operation order).
        assert out["rate_bps"][0, 2] == pytest.approx(expected if x[2] else 0.0, rel=1e-12, abs=0.0)


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
    assert out["accuracy"][0, 1] == 1.0  # local execution has no channel error


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
    # E / E_local: the same energy in two operation orders, a few ULPs from 1 (rtol 1e-12).
    np.testing.assert_allclose(tr.infos["energy_ratio"], 1.0, rtol=1e-12)
    for a in sc.agents:
        np.testing.assert_allclose(tr.rewards[a], -1.0, rtol=1e-12)


def test_tasks_and_fading_follow_their_distributions():
    sc = _scenario(num_devices=4)
    runner = BatchRunner(sc, 4096)
    runner.reset(0)
    state = runner.state
    n_sent, length = state["n_sent"], state["length"]
    # Monte Carlo over 16,384 draws (fixed by the seed; integer-valued, so the same on every CPU):
    # standard errors 2.87 / 128 = 0.022 and 7.85 / 128 = 0.061, so the tolerances are 4.5 and 3.3
    # standard errors (measured 1.2 and 2.2). Exp(1) fading: standard error 1 / 128 = 0.0078 for the mean
    # and 1 / (2 f(ln 2) 128) = 0.0078 for the median: 0.03 is 3.8 of them (measured 0.0004, 0.0046).
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
    # Approximate: the float64 dB feature (|feature| <= 4) stored in float32 moves by <= 2^-23 * 30 dB
    # = 3.6e-6 dB, i.e. 8.2e-7 relative in the gain (measured 4.0e-7); rtol 2e-5 leaves 24x margin.
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
        # The table's levels against the continuous map at the grid points: float64, a few ULPs.
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
    execution. Larger k: more energy for either decision (the source's claim: energy grows with k)."""
    sc = _scenario(num_devices=1, k=k)
    powers = np.linspace(15.0, 24.0, 10)[:, None]
    out = _outcome(sc, np.ones((10, 1)), powers, gain=10 ** (gain_db / 10), n_sent=n_sent, length=length, f_hz=f_ghz * 1e9)
    # Steps of 1 dB, 0.084 GHz and one k change every quantity by far more than rounding (>= 1e-3
    # relative); at k = 20 the k comparison repeats one computation (equal).
    assert np.all(np.diff(out["sinr"][:, 0]) > 0)
    # The table rises in SNR up to noise of 0.01 (physics.semantics §1; its largest dip is 0.0033).
    assert np.all(np.diff(out["accuracy"][:, 0]) >= -0.01)
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
    # Exact: the same kernels on same-shaped arrays; device 1's interference excludes its own power, and
    # the others' grows by p_1 g_1 >= 2e-10 of it, far above rounding.
    assert other[1] > base[1] and np.all(np.delete(other, 1) < np.delete(base, 1))


# An uplink so noisy (0 dBm/Hz over 1 THz) and lossy (370 dB) that 1 + SINR rounds to 1 in float64.
_FAINT = {"noise_dbm_per_hz": 0.0, "bandwidth_hz": 1e12, "path_loss_intercept_db": 300.0, "path_loss_slope_db": 100.0,
          "distance_range_m": (5000.0, 5000.0)}


def test_local_device_pays_no_upload_when_the_uplink_rate_underflows():
    sc = _scenario(num_devices=2, **_FAINT)
    faint, fair = 1e-37, 1e-9  # the would-be channel of device 0, which computes locally
    with np.errstate(divide="raise", over="raise", invalid="raise"):  # no x / 0, no 0 * inf
        outs = [_outcome(sc, [[0.0, 1.0]], 15.0, gain=np.array([[g, faint]])) for g in (faint, fair)]
    for out in outs:
        assert out["rate_bps"][0, 0] == 0.0 and out["sinr"][0, 0] == 0.0
        assert all(np.all(np.isfinite(v)) for v in out.values())
    # Its energy and latency are local execution's, bit for bit, whatever its channel (exact: np.where
    # selects the same local terms).
    for key in ("energy_j", "latency_s", "reward"):
        assert outs[0][key][0, 0] == outs[1][key][0, 0]
    tokens = 5.0 * 20.0
    enc, dec = energy.deepsc_flops(tokens, 20.0, sc.config.k)
    power = energy.gpu_power_w(1e9, sc.config.gpu_idle_power_w, sc.kappa)
    assert outs[0]["energy_j"][0, 0] == pytest.approx(power * (enc + dec) / (1e9 * sc.flops_per_hz), rel=1e-12)


def test_faint_offloader_gets_the_first_order_shannon_rate():
    sc = _scenario(num_devices=1, **_FAINT)
    gain, p_w = 1e-37, radio.dbm_to_watts(15.0)
    sinr = p_w * gain / (radio.dbm_to_watts(0.0) * 1e12)
    assert 1.0 + sinr == 1.0  # where W log2(1 + SINR) is 0
    out = _outcome(sc, [[1.0]], 15.0, gain=gain)
    # sinr * log2(e) against sinr / ln 2: two or three roundings apart (~4e-16), rel 1e-12.
    assert out["rate_bps"][0, 0] == pytest.approx(1e12 * sinr / np.log(2.0), rel=1e-12)
    assert all(np.all(np.isfinite(v)) for v in out.values())
    assert out["latency_s"][0, 0] > 1e30 and out["reward"][0, 0] < -1e30  # hopeless, but finite


@pytest.mark.parametrize("noise_dbm_per_hz", [-5.0, 0.0])
def test_noisy_lossy_uplinks_keep_rewards_energy_latency_and_observations_finite(noise_dbm_per_hz):
    for access in ("ofdma", "shared"):
        sc = _scenario(**{**_FAINT, "noise_dbm_per_hz": noise_dbm_per_hz, "access": access, "distance_range_m": (1.0, 5000.0)})
        runner = BatchRunner(sc, 16, num_threads=1)
        obs = runner.reset(0)
        rng = np.random.default_rng(0)
        for _ in range(3):
            tr = runner.step(_random_actions(sc, 16, rng))
            assert all(np.all(np.isfinite(v)) for v in [*tr.infos.values(), *tr.rewards.values(), *tr.observations.values()])
            obs = tr.observations
            assert all(sc.observation_space(a).contains(obs[a][i]) for a in sc.agents for i in range(16))


@pytest.mark.parametrize("p_tx_range_dbm", [(-7.7, -7.7), (-0.02257, 1.150789369330313e-189), (-50.0, -50.0 + 1e-11)])
def test_state_power_feature_stays_in_the_state_space_for_single_or_tiny_power_ranges(p_tx_range_dbm):
    sc = _scenario(p_tx_range_dbm=p_tx_range_dbm, num_power_levels=4)
    runner = BatchRunner(sc, 8, num_threads=1)
    runner.reset(0)
    for level in range(4):
        actions = {a: np.tile([1, 0, level], (8, 1)) for a in sc.agents}
        runner.step(actions)
        state = runner.global_state()
        assert all(sc.state_space.contains(row) for row in state)
        if p_tx_range_dbm[0] == p_tx_range_dbm[1]:
            assert np.all(state[:, -sc.num_agents:] == 0.0)


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
        ({"deadline_s": 1e-10}, "deadline_s"),  # below 1 ns: the overrun ratio overflowed
        ({"bandwidth_hz": 0.5}, "bandwidth_hz"),  # below 1 Hz: the noise power underflowed
        ({"edge_speedup": 1e-4}, "edge_speedup"),  # the edge decoding time overflowed
        ({"gpu_peak_power_w": 1e-4, "gpu_idle_power_w": 0.0}, "gpu_peak_power_w"),  # E_local underflowed
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
