"""SemCom-Offloading-v0: semantic-aware task offloading, energy under a latency deadline.

Source: the MAPPO task-offloading use case of Qin, Ying, Yang, Wang and Tao, "Computing Networks
Enabled Semantic Communications" (docs/scenarios.md). The DeepSC accuracy model: ``physics.semantics`` §1.

``N`` end devices (agents ``ue_0 .. ue_{N-1}``) each receive one machine-translation task per slot:
``n_sent`` sentences of ``L`` words, coded by a Transformer DeepSC. The semantic encoder always runs
on the device GPU; the decoder (and the task) runs either locally or on an edge server at the base
station, to which only the ``k``-symbols-per-word semantic features are uploaded. Every slot each
device chooses whether to offload, its GPU frequency and its transmit power, to minimise its
energy under a latency deadline and an accuracy requirement on offloaded tasks.

The source publishes no code for its offloading model: this model is a **reconstruction** that
matches every verified element of the source (4 devices, 15-24 dBm, 0.96-1.72 GHz, encoder on the
device, decoder local or at the edge, an energy objective, MAPPO).

==================  =========================================================================
Action space        ``MultiDiscrete([2, F, P])`` per agent (``action_type="discrete"``):
                    ``(x, frequency level, power level)``; ``x = 1`` offloads. Frequency
                    levels are ``F = 5`` evenly spaced in ``gpu_freq_range_hz``, power levels
                    ``P = 4`` evenly spaced in dBm in ``p_tx_range_dbm`` (15, 18, 21, 24 dBm).
                    ``action_type="continuous"``: ``Box(-1, 1, (3,))`` float32 (symmetric, as
                    SB3 and Gaussian policies prefer), ``x = 1`` iff ``a[0] >= 0``, and with
                    ``u = (a + 1) / 2``: ``f = f_min + u[1] (f_max - f_min)``,
                    ``p_dbm = p_min + u[2] (p_max - p_min)``. The power of a device that
                    computes locally is ignored.
Observation space   ``Box(6,)`` float32 per agent: ``[n_sent / n_max, L / L_max,
                    (g_dB + 120) / 30, E/E_local (last slot), t / t_max (last slot),
                    offloaders last slot / N]``; ``g`` is the device's channel gain to the
                    base station in this slot (pilot-based CSI, the channel the action meets),
                    clipped to [-240, 0] dB; the last-slot energy ratio and latency are clipped
                    to [0, 10] in the observation (not in the reward). At an episode start the
                    last-slot features are 0.
State space         ``Box(6N,)`` float32 (``state()``): the gain feature of every device, the
                    task sizes (``n_sent / n_max``, ``L / L_max``), and the last slot's actions
                    ``x``, ``(f - f_min) / (f_max - f_min)``, ``(p_dBm - p_min) / (p_max - p_min)``.
Reward              per agent: ``-(E_i / E_local_i) - penalty * (max(0, t_i - t_max) / t_max
                    + x_i max(0, xi_min - xi_i))``; ``E_local_i`` is the energy of local
                    execution at the lowest frequency meeting the deadline. Team reward: mean.
Starting state      devices at a uniform angle and distance ``U[20, 200] m`` from the base
                    station (per episode); tasks and Rayleigh fading drawn i.i.d. every slot.
Episode end         truncation after ``max_steps`` slots (default 50); never terminates.
Infos               per agent: ``energy_j``, ``energy_ratio`` (``E / E_local``), ``latency_s``,
                    ``accuracy``, ``offloaded``, ``deadline_violation``, ``accuracy_violation``,
                    ``sinr`` (linear, 0 when local), ``rate_bps`` (0 when local),
                    ``gpu_freq_hz``, ``tx_power_w`` (0 when local); network: ``total_energy_j``,
                    ``energy_per_task_j``, ``offload_ratio``, ``deadline_violations``,
                    ``accuracy_violations`` (counts per slot).
==================  =========================================================================

Model (SI units inside):

- Computation: DeepSC FLOPs per task from :func:`semcom_envs.physics.energy.deepsc_flops`
  (the output projection ``d_model * V`` dominates decoding); GPU throughput ``f * cores * 2``;
  ``t = F / throughput``; power ``P_0 + kappa f^3`` with ``P(f_max) = gpu_peak_power_w``.
- Uplink: ``access="ofdma"``: offloading devices split ``bandwidth_hz`` equally, no
  interference; ``access="shared"``: every offloading device uses the whole band and interferes
  with the others at the base station. Rate ``b log2(1 + SINR)`` bit/s, payload
  ``n_sent L k b_q`` bits, edge decoding at ``edge_speedup`` x the device's peak throughput; the
  result download is neglected. Accuracy of an offloaded task: ``xi(k, SINR)`` (DeepSC table).

Arguments (``gym.make("SemCom-Offloading-v0", **kwargs)``): ``num_devices`` (1..16), ``k``
(1..20), ``access``, ``action_type``, ``distance_range_m``, ``path_loss_intercept_db``,
``path_loss_slope_db``, ``noise_dbm_per_hz``, ``bandwidth_hz``, ``sentences_range``,
``words_range``, ``deadline_s``, ``d_model``, ``num_layers``, ``d_ff``, ``vocab_size``,
``gpu_freq_range_hz``, ``num_freq_levels``, ``gpu_cores``, ``flops_per_cycle``,
``gpu_idle_power_w``, ``gpu_peak_power_w``, ``p_tx_range_dbm``, ``num_power_levels``,
``quant_bits``, ``edge_speedup``, ``accuracy_min``, ``penalty``, ``max_steps``,
``accuracy_interp``, ``accuracy_model``.

Where the model fills a gap of the source or departs from it (say so when comparing with the source):
- The model is a reconstruction (no public code of the source's offloading model).
- A locally executed task has no channel error: its accuracy is reported as 1 and it is never
  penalised for accuracy; the accuracy requirement
  applies to offloaded tasks only.
- ``penalty = 10`` (the source leaves the weight open): a 10% deadline overrun or accuracy shortfall
  costs as much as local execution's energy.
- ``E_local`` uses the continuous lowest frequency ``max(f_min, F / (t_max * throughput per Hz))``
  (capped at ``f_max`` when even ``f_max`` misses the deadline), so it does not depend on the action
  variant.
- The device's channel gain in the observation is the current slot's (CSI from a pilot), so an
  agent can react to its fading; the congestion signal is the only information about the others.
- The attention-head count of the codec does not change its MAC count and is not a parameter.
- A device that computes locally makes no upload: its rate, upload time and (reported) SINR are 0
  and its energy and latency contain no upload term, whatever its would-be channel (a deep fade
  would otherwise give a rate of 0, an infinite upload time and ``0 * inf`` = NaN).
- Where ``1 + SINR`` rounds to 1 in float64 (SINR < 2^-53, e.g. ``noise_dbm_per_hz`` near 0 dBm/Hz
  over a wide band, or a path loss near 370 dB) the rate is its first-order term
  ``b SINR log2(e)`` (:func:`semcom_envs.physics.radio.shannon_rate_positive`) rather than 0, so
  an offloader's upload time, energy and latency stay finite; elsewhere the rate is unchanged.
- Ranges narrowed to physical values (they reached 0 exclusive, where at tiny values the noise
  power or the normalising energy underflows to 0 and upload times, edge times or the deadline
  overrun overflow float64): ``bandwidth_hz >= 1`` Hz, ``deadline_s >= 1`` ns,
  ``gpu_peak_power_w >= 1`` mW, ``edge_speedup >= 1e-3``. Over the whole documented range every
  reward, info and observation is finite (``tests/scenarios/test_config_ranges.py``).
- The state's last-slot power feature ``(p_dBm - p_min) / (p_max - p_min)`` is clipped to [0, 1]
  (the dBm -> W -> dBm round trip can land an ulp outside the range, which is far outside
  relative to a tiny range) and is 0 when ``p_min = p_max``.
- With the default numbers the deadline rarely binds (local decoding takes milliseconds) and
  transmission energy is small next to encoding; the decisions that matter are offloading against
  the accuracy requirement, and the interference in ``access="shared"``.

Seeding: see :mod:`semcom_envs.streams`; a batch seeded with ``s`` runs copy ``i`` exactly like a
single environment seeded with ``s + i``.

Version history: v0 (this version), first release.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import gymnasium
import numpy as np
from numpy.typing import NDArray

from semcom_envs import streams
from semcom_envs.api.core import (
    AgentArrays,
    BatchedScenario,
    State,
    Transition,
)
from semcom_envs.config import (
    ACCURACY_INTERP,
    ACCURACY_MODEL,
    Choice,
    Integer,
    Interval,
    Real,
    Text,
    check_accuracy_model,
    check_less,
    param,
    validate_fields,
)
from semcom_envs.physics import energy, radio, semantics

MAX_DEVICES = 16
GAIN_FEATURE = radio.DbFeature(low_db=-240.0, high_db=0.0, offset_db=120.0, scale_db=30.0)
OBS_LAST_CLIP = 10.0
ACTION_LABELS = ("offload x", "frequency", "power")

# Stream domains (semcom_envs.streams): one per kind of draw.
_D_POSITION, _D_TASK, _D_FADING = range(3)


@dataclasses.dataclass(frozen=True)
class OffloadingConfig:
    """Validated configuration of SemCom-Offloading-v0 (allowed values: ``docs/configuration.md``)."""

    preset: str = param("default", Text(), "named defaults: `default`, `shared-band`")
    num_devices: int = param(4, Integer(1, MAX_DEVICES), "end devices N (agents)")
    k: int = param(8, Integer(1, semantics.DEEPSC_K_MAX), "DeepSC symbols per word of the uploaded features")
    access: str = param("ofdma", Choice(("ofdma", "shared")), "uplink: equal OFDMA split, or one shared band with interference")
    action_type: str = param("discrete", Choice(("discrete", "continuous")), "`MultiDiscrete([2, F, P])` or `Box(-1, 1, (3,))`")
    distance_range_m: tuple[float, float] = param((20.0, 200.0), Interval(1.0, 5000.0), "device distance range [m]")
    path_loss_intercept_db: float = param(128.1, Real(0, 300), "path loss at 1 km [dB]")
    path_loss_slope_db: float = param(37.6, Real(0, 100), "path-loss slope [dB per decade of distance]")
    noise_dbm_per_hz: float = param(-174.0, Real(-250, 0), "noise power spectral density [dBm/Hz]")
    bandwidth_hz: float = param(10e6, Real(1, 1e12), "uplink bandwidth [Hz] (>= 1 Hz: a narrower band carries under a symbol per second)")
    sentences_range: tuple[int, int] = param((1, 10), Interval(1, 10_000, integer=True), "sentences per task")
    words_range: tuple[int, int] = param((4, 30), Interval(1, 10_000, integer=True), "words per sentence")
    deadline_s: float = param(0.5, Real(1e-9, 1e6), "task deadline [s] (>= 1 ns, a clock cycle at 1 GHz: no task is due sooner)")
    d_model: int = param(128, Integer(1, 1 << 16), "DeepSC model width")
    num_layers: int = param(4, Integer(1, 256), "DeepSC decoder layers")
    d_ff: int = param(512, Integer(1, 1 << 18), "DeepSC feed-forward width")
    vocab_size: int = param(22_000, Integer(1, 1 << 24), "vocabulary size (output projection)")
    gpu_freq_range_hz: tuple[float, float] = param((0.96e9, 1.72e9), Interval(1e6, 1e11), "device GPU frequency range [Hz]")
    num_freq_levels: int = param(5, Integer(1, 64), "GPU frequency levels F (discrete actions)")
    gpu_cores: int = param(256, Integer(1, 1 << 20), "GPU cores")
    flops_per_cycle: int = param(2, Integer(1, 1024), "FLOPs per core and cycle")
    gpu_idle_power_w: float = param(1.5, Real(0, 1e4), "GPU static power P_0 [W]")
    gpu_peak_power_w: float = param(10.0, Real(1e-3, 1e4),
                                    "GPU power at the highest frequency [W] (> gpu_idle_power_w; >= 1 mW: no GPU draws less)")
    p_tx_range_dbm: tuple[float, float] = param((15.0, 24.0), Interval(-50.0, 60.0), "transmit-power range [dBm]")
    num_power_levels: int = param(4, Integer(1, 64), "transmit-power levels P (discrete actions)")
    quant_bits: int = param(8, Integer(1, 64), "bits per uploaded feature")
    edge_speedup: float = param(10.0, Real(1e-3, 1e6),
                                "edge GPU throughput / device peak throughput (>= 1e-3: no edge server is 1000x slower)")
    accuracy_min: float = param(0.8, Real(0, 1), "accuracy requirement of offloaded tasks")
    penalty: float = param(10.0, Real(0, 1e6), "weight of deadline and accuracy violations in the reward")
    max_steps: int = param(50, Integer(1), "slots per episode (truncation)")
    accuracy_interp: str = param("linear", ACCURACY_INTERP, "DeepSC table lookup: linear in dB or nearest dB")
    accuracy_model: str = param("table", ACCURACY_MODEL, "DeepSC accuracy: measured table or logistic fit")

    def __post_init__(self) -> None:
        validate_fields(self)
        check_less("gpu_idle_power_w", self.gpu_idle_power_w, "gpu_peak_power_w", self.gpu_peak_power_w, strict=True,
                   why="the GPU's dynamic power kappa f^3 must be positive")
        check_accuracy_model(self.accuracy_model, self.accuracy_interp)

    def freq_levels_hz(self) -> NDArray[np.float64]:
        """GPU frequency levels of the discrete action variant, ascending [Hz]."""
        return np.linspace(*self.gpu_freq_range_hz, self.num_freq_levels)

    def power_levels_dbm(self) -> NDArray[np.float64]:
        """Transmit-power levels of the discrete action variant, ascending [dBm]."""
        return np.linspace(*self.p_tx_range_dbm, self.num_power_levels)


PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    "shared-band": {"access": "shared"},
}


class Offloading(BatchedScenario):
    """Batched core of SemCom-Offloading-v0 (documentation: the module docstring)."""

    env_id: ClassVar[str] = "SemCom-Offloading-v0"
    pettingzoo_name: ClassVar[str] = "offloading_v0"
    config_class: ClassVar[type] = OffloadingConfig
    presets: ClassVar[dict[str, dict[str, Any]]] = PRESETS
    size_field: ClassVar[str] = "num_devices"
    metrics: ClassVar[dict[str, str]] = {
        "energy_per_task_j": "mean device energy per task [J]",
        "reward": "team reward per slot",
        "energy_ratio": "mean energy relative to local execution",
        "latency_s": "mean task latency [s]",
        "offload_ratio": "share of tasks offloaded",
        "deadline_violation": "share of tasks over the deadline",
        "accuracy_violation": "share of tasks offloaded below the accuracy requirement",
    }
    primary_metric: ClassVar[str] = "energy_per_task_j"
    higher_is_better: ClassVar[bool] = False
    reference: ClassVar[tuple[str, str] | None] = ("exhaustive", "ratio_to_exhaustive")

    def __init__(self, config: OffloadingConfig | None = None, **kwargs: Any) -> None:
        self.config = self._configure(config, kwargs)
        c = self.config
        n = c.num_devices
        self.num_agents = n
        self.agents = tuple(f"ue_{i}" for i in range(n))
        self.freq_levels_hz = c.freq_levels_hz()
        self.tx_power_levels_w = radio.dbm_to_watts(c.power_levels_dbm())
        self.f_min, self.f_max = c.gpu_freq_range_hz
        self.flops_per_hz = float(c.gpu_cores * c.flops_per_cycle)
        self.kappa = energy.gpu_kappa(c.gpu_idle_power_w, c.gpu_peak_power_w, self.f_max)
        self.noise_psd_w = float(radio.dbm_to_watts(c.noise_dbm_per_hz))
        self._accuracy = semantics.deepsc_kernel(c.accuracy_model, c.accuracy_interp)
        self._off_diagonal = 1.0 - np.eye(n)

        self.action_labels = ACTION_LABELS
        if c.action_type == "discrete":
            self.action_nvec = np.array([2, c.num_freq_levels, c.num_power_levels], dtype=np.int64)
            self._act_space: gymnasium.Space = gymnasium.spaces.MultiDiscrete(self.action_nvec)
        else:
            self._act_space = gymnasium.spaces.Box(-1.0, 1.0, (3,), dtype=np.float32)
        gain_lo, gain_hi = GAIN_FEATURE.bounds
        obs_low = np.array([0, 0, gain_lo, 0, 0, 0], dtype=np.float32)
        obs_high = np.array([1, 1, gain_hi, OBS_LAST_CLIP, OBS_LAST_CLIP, 1], dtype=np.float32)
        self._obs_space = gymnasium.spaces.Box(obs_low, obs_high, dtype=np.float32)
        state_low = np.concatenate([np.full(n, gain_lo), np.zeros(5 * n)]).astype(np.float32)
        state_high = np.concatenate([np.full(n, gain_hi), np.ones(5 * n)]).astype(np.float32)
        self.state_space = gymnasium.spaces.Box(state_low, state_high, dtype=np.float32)

    # ---------------------------------------------------------------- physics
    def outcome(self, n_sent: np.ndarray, length: np.ndarray, gain: np.ndarray, x: np.ndarray, f_hz: np.ndarray,
                p_w: np.ndarray) -> dict[str, np.ndarray]:
        """Energy, latency, accuracy and reward of every device for the given decisions.

        All arguments broadcast against each other with the devices on the last axis (baselines
        evaluate many candidate joint actions at once): ``n_sent`` and ``length`` the task sizes,
        ``gain`` the linear channel gains, ``x`` the offload decisions (0/1), ``f_hz`` the GPU
        frequencies and ``p_w`` the transmit powers. Returns float64 arrays of the broadcast shape.
        """
        c = self.config
        x = np.asarray(x, dtype=np.float64)
        offload = x > 0
        tokens = np.asarray(n_sent, dtype=np.float64) * length
        f_enc, f_dec = energy.deepsc_flops(tokens, length, c.k, d_model=c.d_model, d_ff=c.d_ff,
                                           num_layers=c.num_layers, vocab=c.vocab_size)
        throughput = np.asarray(f_hz, dtype=np.float64) * self.flops_per_hz
        power = energy.gpu_power_w(f_hz, c.gpu_idle_power_w, self.kappa)
        t_enc, t_dec = f_enc / throughput, f_dec / throughput
        # Uplink: OFDMA splits the band among the offloaders; "shared" reuses it with interference.
        received = x * p_w * gain
        if c.access == "ofdma":
            bandwidth = c.bandwidth_hz / np.maximum(x.sum(axis=-1, keepdims=True), 1.0)
            interference = 0.0
        else:
            bandwidth = c.bandwidth_hz
            # Masked sum (no "total - own" cancellation) by einsum, whose per-element summation order does not
            # depend on the batch size (BLAS would use gemv for one copy and gemm for several).
            interference = np.einsum("...j,jm->...m", received, self._off_diagonal)
        sinr = p_w * gain / (interference + self.noise_psd_w * bandwidth)
        # Only an offloading device uploads: a local device's rate and upload time are 0, never derived
        # from its would-be channel (whose rate may round to 0: time inf, then 0 * inf in its energy).
        # The positive rate keeps a faint offloader's upload time finite where 1 + SINR rounds to 1.
        rate = np.where(offload, radio.shannon_rate_positive(bandwidth, sinr), 0.0)
        bits = tokens * (c.k * c.quant_bits)
        t_tx = np.divide(bits, rate, out=np.zeros(np.broadcast_shapes(bits.shape, rate.shape)), where=offload)
        t_edge = f_dec / (c.edge_speedup * self.f_max * self.flops_per_hz)
        accuracy = np.where(offload, self._accuracy(c.k - 1, 10.0 * np.log10(sinr)), 1.0)  # physics.semantics §1
        # Device energy and latency; local: encode and decode; offloaded: encode, upload, edge decoding.
        energy_j = np.where(offload, power * t_enc + p_w * t_tx, power * (t_enc + t_dec))
        latency = np.where(offload, t_enc + (t_tx + t_edge), t_enc + t_dec)
        e_local = self.local_energy(f_enc + f_dec)
        overrun = np.maximum(latency - c.deadline_s, 0.0) / c.deadline_s
        shortfall = x * np.maximum(c.accuracy_min - accuracy, 0.0)
        return {
            "energy_j": energy_j, "energy_ratio": energy_j / e_local, "latency_s": latency, "accuracy": accuracy,
            "sinr": np.where(offload, sinr, 0.0), "rate_bps": rate, "deadline_violation": overrun > 0,
            "accuracy_violation": shortfall > 0,
            "reward": -(energy_j / e_local) - c.penalty * (overrun + shortfall),
        }

    def local_energy(self, flops: np.ndarray) -> np.ndarray:
        """Energy [J] of running ``flops`` locally at the lowest frequency that meets the deadline."""
        f = np.clip(flops / (self.config.deadline_s * self.flops_per_hz), self.f_min, self.f_max)
        return energy.gpu_power_w(f, self.config.gpu_idle_power_w, self.kappa) * flops / (f * self.flops_per_hz)

    def decode_actions(self, actions: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Validated ``(x, f_hz, p_w)``, each ``(B, N)`` float64, of a batch of actions."""
        c = self.config
        a = self.stack_actions(actions)
        if c.action_type == "discrete":
            return a[..., 0].astype(np.float64), self.freq_levels_hz[a[..., 1]], self.tx_power_levels_w[a[..., 2]]
        u = 0.5 * (a + 1.0)
        p_lo, p_hi = c.p_tx_range_dbm
        return ((a[..., 0] >= 0.0).astype(np.float64), self.f_min + u[..., 1] * (self.f_max - self.f_min),
                radio.dbm_to_watts(p_lo + u[..., 2] * (p_hi - p_lo)))

    # ------------------------------------------------------------------ reset
    def reset(self, keys: NDArray[np.uint64]) -> tuple[State, AgentArrays]:
        c, n = self.config, self.num_agents
        b = keys.shape[0]
        t0 = np.zeros(b, dtype=np.int64)
        u = streams.uniforms(keys, t0, _D_POSITION, n)  # uniform angle and distance
        d_lo, d_hi = c.distance_range_m
        distance = d_lo + (d_hi - d_lo) * u[:, n:]
        state: State = {
            "key": keys.copy(),
            "t": t0,
            "xy": radio.polar_points(distance, u[:, :n]),
            "large_scale": radio.db_to_linear(-radio.path_loss_db(distance, c.path_loss_intercept_db,
                                                                  c.path_loss_slope_db)),
            "last_energy_ratio": np.zeros((b, n)),
            "last_latency_s": np.zeros((b, n)),
            "last_offloaders": np.zeros(b),
            "last_action": np.zeros((b, 3, n)),
        }
        state.update(self._draw_slot(keys, t0, state["large_scale"]))
        return state, self._observe(state)

    def _draw_slot(self, keys: NDArray[np.uint64], slot: np.ndarray, large_scale: np.ndarray) -> State:
        """The slot's tasks (sentences and words per sentence, uniform integers) and channel gains."""
        c, n = self.config, self.num_agents
        u = streams.uniforms(keys, slot, _D_TASK, n)
        (s_lo, s_hi), (w_lo, w_hi) = c.sentences_range, c.words_range
        n_sent = s_lo + np.floor(u[:, :n] * (s_hi - s_lo + 1))
        length = w_lo + np.floor(u[:, n:] * (w_hi - w_lo + 1))
        # Rayleigh block fading: |h|^2 ~ Exp(1), i.i.d. per slot (inverse CDF of a uniform).
        fading = -np.log(streams.uniforms(keys, slot, _D_FADING, (n + 1) // 2)[:, :n])
        return {"n_sent": n_sent, "length": length, "gain": large_scale * fading}

    # ------------------------------------------------------------------- step
    def step(self, state: State, actions: Mapping[str, np.ndarray]) -> Transition:
        c = self.config
        x, f_hz, p_w = self.decode_actions(actions)
        if x.shape[0] != state["t"].shape[0]:
            raise ValueError(f"actions have batch size {x.shape[0]}, the state {state['t'].shape[0]}")
        out = self.outcome(state["n_sent"], state["length"], state["gain"], x, f_hz, p_w)
        next_t = state["t"] + 1
        new_state = dict(state)
        new_state.update(self._draw_slot(state["key"], next_t, state["large_scale"]))
        p_lo, p_hi = c.p_tx_range_dbm
        # (p_dBm - p_min) / (p_max - p_min), clipped: the dBm -> W -> dBm round trip can land an ulp
        # outside the range, which is far outside relative to a tiny range; one power (p_min = p_max): 0.
        p_span = p_hi - p_lo
        p_position = np.clip(radio.watts_to_dbm(p_w) - p_lo, 0.0, p_span) / p_span if p_span > 0 else np.zeros_like(p_w)
        new_state.update({
            "t": next_t,
            "last_energy_ratio": out["energy_ratio"],
            "last_latency_s": out["latency_s"],
            "last_offloaders": x.sum(axis=1),
            "last_action": np.stack([x, (f_hz - self.f_min) / max(self.f_max - self.f_min, 1e-300), p_position], axis=1),
        })
        truncated = next_t >= c.max_steps
        terminated = np.zeros(truncated.shape, dtype=bool)
        offloaded = x > 0
        infos = {
            **{name: out[name] for name in ("energy_j", "energy_ratio", "latency_s", "accuracy", "sinr", "rate_bps",
                                            "deadline_violation", "accuracy_violation")},
            "offloaded": offloaded,
            "gpu_freq_hz": f_hz,
            "tx_power_w": np.where(offloaded, p_w, 0.0),
            "total_energy_j": out["energy_j"].sum(axis=1),
            "energy_per_task_j": out["energy_j"].mean(axis=1),
            "offload_ratio": offloaded.mean(axis=1),
            "deadline_violations": out["deadline_violation"].sum(axis=1).astype(np.float64),
            "accuracy_violations": out["accuracy_violation"].sum(axis=1).astype(np.float64),
        }
        reward = out["reward"]
        return Transition(
            new_state,
            self._observe(new_state),
            {agent: reward[:, i] for i, agent in enumerate(self.agents)},
            {agent: terminated for agent in self.agents},
            {agent: truncated for agent in self.agents},
            infos,
        )

    def step_metrics(self, team_reward: np.ndarray, infos: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {
            "energy_per_task_j": infos["energy_per_task_j"],
            "reward": team_reward,
            "energy_ratio": infos["energy_ratio"].mean(axis=1),
            "latency_s": infos["latency_s"].mean(axis=1),
            "offload_ratio": infos["offload_ratio"],
            "deadline_violation": infos["deadline_violation"].mean(axis=1),
            "accuracy_violation": infos["accuracy_violation"].mean(axis=1),
        }

    def _observe(self, state: State) -> AgentArrays:
        """Each device's local observation."""
        c, n = self.config, self.num_agents
        obs = np.empty((state["t"].shape[0], n, 6), dtype=np.float32)
        obs[..., 0] = state["n_sent"] / c.sentences_range[1]
        obs[..., 1] = state["length"] / c.words_range[1]
        obs[..., 2] = GAIN_FEATURE.encode(state["gain"])
        obs[..., 3] = np.minimum(state["last_energy_ratio"], OBS_LAST_CLIP)
        obs[..., 4] = np.minimum(state["last_latency_s"] / c.deadline_s, OBS_LAST_CLIP)
        obs[..., 5] = (state["last_offloaders"] / n)[:, None]
        return {agent: obs[:, i] for i, agent in enumerate(self.agents)}

    # ----------------------------------------------------------- global view
    def global_state(self, state: State) -> np.ndarray:
        c = self.config
        parts = [GAIN_FEATURE.encode(state["gain"]), state["n_sent"] / c.sentences_range[1],
                 state["length"] / c.words_range[1], *np.moveaxis(state["last_action"], 1, 0)]
        return np.concatenate(parts, axis=1).astype(np.float32)

    def decode_observations(self, observations: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """(B, N) physical quantities of the agents' local observations (float64): ``n_sent``,
        ``length``, ``gain`` (linear; float32 rounding, relative error ~1e-5) and
        ``last_offloaders`` (the congestion signal as a count)."""
        c, n = self.config, self.num_agents
        obs = np.stack([np.asarray(observations[a], dtype=np.float64) for a in self.agents], axis=1)
        return {"n_sent": np.rint(obs[..., 0] * c.sentences_range[1]), "length": np.rint(obs[..., 1] * c.words_range[1]),
                "gain": GAIN_FEATURE.decode(obs[..., 2]), "last_offloaders": np.rint(obs[..., 5] * n)}

    def decode_global_state(self, global_state: np.ndarray) -> dict[str, np.ndarray]:
        """(B, N) ``gain`` (linear), ``n_sent`` and ``length`` (integers as float64) of a global state.

        The gain is exact up to float32 rounding of its dB feature (relative error ~1e-5).
        """
        c, n = self.config, self.num_agents
        gs = np.asarray(global_state, dtype=np.float64)
        return {"gain": GAIN_FEATURE.decode(gs[:, :n]), "n_sent": np.rint(gs[:, n:2 * n] * c.sentences_range[1]),
                "length": np.rint(gs[:, 2 * n:3 * n] * c.words_range[1])}

    def render_rgb(self, state: State, infos: Mapping[str, np.ndarray] | None, index: int) -> np.ndarray:
        from semcom_envs.render import star_map

        offloaded = np.zeros(self.num_agents, dtype=bool) if infos is None else infos["offloaded"][index]
        return star_map(state["xy"][index], offloaded, state["last_action"][index, 1], self.agents,
                        title=f"{self.env_id}  slot {int(state['t'][index])}")
