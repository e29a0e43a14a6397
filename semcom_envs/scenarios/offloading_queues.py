"""SemCom-Offloading-v1: semantic offloading with task queues, a shared narrowband uplink and a shared edge GPU.

Source: v0's (:mod:`semcom_envs.scenarios.offloading`, after Qin et al., "Computing Networks Enabled Semantic
Communications"), whose physics it keeps; the DeepSC accuracy model: ``physics.semantics`` §1. The queueing
model below (cited "Q1".."Q5") is this version's own, written here because the source describes one
independent task per slot.

Why v1 (the issue that opened it): v0 implements its source's model exactly but does not discriminate between
policies (the constant ``offload_all`` scores as the full-information optimum), for measured reasons
this version removes: the GPU's energy-optimal frequency lay below the allowed range, no deadline
bound, the upload was under 1% of the energy, and no slot depended on the last. v1 keeps v0's
codec, GPU and radio physics (imported, not copied) and changes four things: tasks wait in
per-device queues with a deadline (Q1, Q2), the uplink is a narrowband (NB-IoT-class) channel that
the offloaders of a slot split, or share with mutual interference (``access``, Q3), the edge GPU's
throughput is split among the offloaders (Q3), and the GPU frequency range contains its energy
optimum (Q4).

==================  =========================================================================
Action space        ``MultiDiscrete([3, F, P])`` per agent: ``(mode, frequency level, power
                    level)``; ``mode`` 0 = hold (serve nothing this slot, the GPU and radio
                    sleep), 1 = decode locally, 2 = offload (encode, upload the features, the
                    edge decodes). Frequency levels: ``F = 5`` evenly spaced in
                    ``gpu_freq_range_hz``; power levels ``P = 4`` evenly spaced in dBm in
                    ``p_tx_range_dbm``. The power of a device that does not offload is ignored.
Observation space   ``Box(D + 3,)`` float32 per agent (``D = deadline_slots``), only what a device
                    really has: ``[b_0 / W, .., b_{D-1} / W, gain feature, m_last / N, x_last]``.
                    ``b_j``: the words of its own queue that arrived ``j`` slots ago (its buffer,
                    ``W`` = the largest task in words, so each is in [0, 1]); the gain feature
                    ``(clip(g_dB, -240, 0) + 120) / 30`` of its own channel in **this** slot (the
                    BS's pilot at the start of the slot gives it by reciprocity; with i.i.d.
                    block fading a one-slot-old gain would carry no information, Q3); ``m_last``
                    the number of devices that offloaded last slot (the BS broadcasts the load of
                    its uplink band and edge GPU: their number splits both, or with shared access
                    interferes on the band); and
                    ``x_last`` whether it offloaded itself last slot (so ``m_last - x_last``
                    counts the others). Not observed: the others' queues and channels, and the
                    ON/OFF state of its own source (inferable from its arrivals: memory helps).
State space         ``Box(N D + 2 N + 1,)`` float32 (``state()``): every device's ``b / W``, gain
                    feature and source state (1 = ON), and ``m_last / N``.
Reward              per agent (Q5): ``-(E_i + penalty e_ref (drop_i + fail_i)) / (e_ref a)``:
                    ``E_i`` the slot's energy [J], ``drop_i`` its words that missed the deadline,
                    ``fail_i`` its offloaded words delivered below the accuracy requirement,
                    ``e_ref`` the least energy of decoding one word locally (at the
                    energy-optimal frequency), ``a`` the mean arrivals per device and slot.
                    Local decoding of every arrival at ``e_ref`` scores -1. Team reward: mean.
Starting state      devices at a uniform angle and distance in ``distance_range_m``; sources ON
                    or OFF from the stationary distribution; queues hold slot 0's arrivals.
Episode end         truncation after ``max_steps`` slots (default 100 = 10 s); never terminates.
Infos               per agent: ``arrivals``, ``served``, ``dropped``, ``inaccurate`` (words),
                    ``backlog`` (words waiting after the slot, before the next arrivals),
                    ``energy_j``, ``upload_energy_j`` (its radio part), ``mode``, ``offloaded``, ``accuracy``, ``sinr`` and
                    ``rate_bps`` (0 unless offloading), ``gpu_freq_hz``, ``tx_power_w``;
                    network: ``offloaders``, ``edge_load`` (share of the edge GPU's slot used),
                    ``total_energy_j``, ``served_words``, ``violated_words``.
==================  =========================================================================

Model (SI units inside; "words" are integers held in float64, exact below 2^53):

- Q1 arrivals: each device's source is a two-state Markov chain (ON/OFF, transition
  probabilities ``on_to_off_prob``, ``off_to_on_prob`` per slot: bursts of 1 s on average); while
  ON, a task arrives at the start of a slot with probability ``task_prob_on``: ``n_sent`` sentences
  of ``L`` words (uniform integers, v0's sizes), ``n_sent L`` words. The mean arrival per
  slot is ``a = pi_on task_prob_on E[n_sent] E[L]`` with ``pi_on = off_to_on / (on_to_off +
  off_to_on)``.
- Q2 queue and deadline: a word must be served within ``D = deadline_slots`` slots of its
  arrival (``D slot_s`` = 0.5 s, v0's deadline). The queue is kept by age, ``b_j`` (``j = 0`` the
  newest); service is FIFO (oldest first); words still waiting at age ``D - 1`` after the slot's
  service are dropped. Hence exactly: ``backlog_next = backlog + arrivals_next - served -
  dropped``, ``served <= min(backlog, capacity)``.
- Q3 service in a slot of ``slot_s`` seconds. Per word: encoder and decoder FLOPs from
  :func:`~semcom_envs.physics.energy.deepsc_flops` at the mean sentence length (the ``L d``
  attention terms are ~2% of a word's FLOPs), GPU throughput ``f cores flops_per_cycle`` and power
  ``P_0 + kappa f^3`` (v0's). Local: a word takes ``t_enc + t_dec`` and costs ``P(f) (t_enc +
  t_dec)``; capacity ``floor(slot_s / (t_enc + t_dec))``. Offload: the device encodes then uploads
  each word (``k`` features of ``quant_bits`` bits) on the uplink band ``B``, accessed as set by
  ``access`` (v0's two uplink models; ``m`` = offloaders this slot): ``"ofdma"`` (preset ``ofdma``), an equal share ``B / m``,
  rate ``(B / m) log2(1 + p g / (N_0 B / m))``; ``"shared"`` (default), the whole band for every offloader,
  which interferes with the others at the BS (no SIC): rate ``B log2(1 + SINR_i)``, ``SINR_i =
  p_i g_i / (N_0 B + sum_{j offloading, j != i} p_j g_j)``. An offloader holds its share, or
  transmits, for the whole slot (a per-slot grant; one that empties its queue early is not
  modelled as falling silent: pessimistic for ``"shared"``). A word takes ``t_enc + t_tx`` and
  costs ``P(f) t_enc + p t_tx``; the edge GPU (``edge_speedup`` x a
  device's peak throughput) gives each offloader an equal time slice, ``floor(edge slot_s / (m
  F_dec))`` words (a slice one device leaves unused is not lent to another: GPU time slicing);
  capacity: the smaller of the two. Served ``= min(backlog, capacity)``; hold serves 0. Offloaded
  words have the accuracy ``xi(k, SINR)`` (``physics.semantics`` §1); below ``accuracy_min`` they count as
  ``inaccurate``. Channel: path loss ``max(128.1 + 37.6 log10 d[km], free space at carrier_hz)``
  (never below Friis) and Rayleigh block fading i.i.d. per slot: at 100 ms slots a pedestrian at
  2 GHz (Doppler 5.6 Hz) decorrelates within a slot (Jakes: ``J0(2 pi 5.6 Hz 0.1 s) = -0.38``).
- Q4 frequency: energy per cycle ``(P_0 + kappa f^3) / f`` is least at ``f* = (P_0 / (2
  kappa))^(1/3)`` = 0.77 GHz with v0's GPU (1.5 W static, 10 W at 1.72 GHz); the range 0.3-1.72 GHz
  (mobile GPUs scale down to 0.1-0.3 GHz, e.g. the Jetson TX2's 0.11-1.3 GHz) contains it, so
  the lowest level is not the cheapest: at 0.3 GHz a word costs 1.71x its energy at 0.66 GHz.
- Q5 reward: as in the table; ``penalty = 10`` (v0's): a word that misses its deadline or
  accuracy costs as much as decoding ten words locally, so local decoding (always possible:
  a device decodes ~3,400 words per slot at 0.66 GHz) beats dropping, and a violation is a choice.

Default numbers and their physical reasons: ``N = 4`` devices (the source's); 50-500 m
(a macro cell's users, beyond the log-distance law's free-space crossing at 53 m); ``B`` = 180 kHz
(one LTE resource block, the NB-IoT carrier); noise -169 dBm/Hz (thermal -174 dBm/Hz plus a 5 dB
BS noise figure, 3GPP's evaluation value); ``k = 16`` (DeepSC's channel encoder output) of 32-bit
features (the float32 the codec outputs, unquantised): 512 bits per word; ``slot_s`` = 0.1 s;
tasks of v0's sizes (1-10 sentences of 4-30 words) arriving at half the slots of 1-s bursts:
on average 234 words/s per device, 0.48 Mbit/s for four devices against a 180 kHz band that
carries 1.55 Mbit/s to one device at 250 m (0.89 at 500 m; mean fading, 15 dBm), so offloading
everything is not possible at all times. Per word, an upload at 15 dBm costs (encoding included)
0.27 x the least local energy ``e_ref`` alone at 50 m, 0.50 alone at 500 m and 1.11 at 500 m
sharing the band with three others: the offloading decision depends on distance, fading and the
others' choices. Measured with ``dpp``: the radio is 36% of the energy (41% with OFDMA). With ``access="shared"``
an offloaded word meets ``accuracy_min = 0.8`` only above -0.47 dB SINR
(``xi(16, SINR)``, ``physics.semantics`` §1), so two concurrent offloaders both succeed only when received
within 0.47 dB of each other: the band behaves as a collision channel with capture, where
who transmits in which slot must be coordinated. Measured with ``dpp`` (full information, 1,600 slots): never
two offloaders in a slot, one in 60% of the slots (with OFDMA: two in 4%).

Where the model fills a gap of the source or departs from it (say so when comparing with the source):
- The queueing model (Q1, Q2, Q5) is not in the source; v0's per-task model is the source's.
- ``edge_speedup = 10`` (v0's): DeepSC decoding (8 MFLOP per word) at the edge is then never the
  bottleneck next to a 180 kHz uplink; the edge split is modelled, and binds with a small edge
  (``edge_speedup`` below ~0.01) or a wide band.
- A device serves all it can in a slot (``min(backlog, capacity)``), or holds: it cannot choose a
  number of words; its frequency and power set its capacity and energy per word.
- A GPU that is not computing draws nothing (power-gated, as v0); the result download, the
  edge's energy and its decoding time within the slot are neglected (the edge decodes while
  words arrive).
- ``mode`` includes hold, so a device can wait for a better channel or a less crowded band.
- ``access``: both uplink models of v0; ``"shared"``, the default (the harder, truly
  multi-agent variant; an uplink without SIC), changes only the radio. Why the default: with OFDMA
  a wrong guess of the others' choices only shrinks every share smoothly, so a device's local
  rule from last slot's offloader count comes within 0.93 of the full-information ``dpp``; on a
  shared band the same guess causes collisions (only the stronger of two concurrent offloaders
  decodes), coordinating who transmits is the problem, and the best local rule reaches 0.74
  (docs/benchmark-tasks.md). The edge GPU is split among the offloaders in both. A device
  observes the same in both (no interference measurement is broadcast).
- Measured at the defaults: the frequency decision binds through the interior energy optimum
  only (the good policies run the 0.66 GHz level 99.8% of their busy slots); a device's compute
  capacity (~3,400 words per slot) never limits it, so frequency does not trade against delay.

Seeding: see :mod:`semcom_envs.streams`; a batch seeded with ``s`` runs copy ``i`` exactly like a
single environment seeded with ``s + i``.

Version history: v1 (this version), queues, shared narrowband uplink (OFDMA or one band with
interference) and edge GPU, a frequency range containing the energy optimum, reward equal to the
primary metric; v0: one independent task
per slot (:mod:`semcom_envs.scenarios.offloading`, unchanged).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import gymnasium
import numpy as np
from numpy.typing import NDArray

from semcom_envs import streams
from semcom_envs.api.core import AgentArrays, BatchedScenario, State, Transition
from semcom_envs.config import (
    Integer,
    Interval,
    Real,
    Text,
    check_accuracy_model,
    check_less,
    param,
    validate_fields,
)
from semcom_envs.physics import energy, radio, semantics, traffic
from semcom_envs.scenarios.offloading import GAIN_FEATURE, OffloadingConfig

HOLD, LOCAL, OFFLOAD = 0, 1, 2
MODES = 3
ACTION_LABELS = ("mode", "frequency", "power")
MAX_DEADLINE_SLOTS = 16

# Stream domains (semcom_envs.streams): one per kind of draw.
_D_POSITION, _D_SOURCE, _D_TASK, _D_FADING = range(4)

_V0_FIELDS = {f.name: f for f in dataclasses.fields(OffloadingConfig)}


def _v0(name: str, default: Any = dataclasses.MISSING, doc: str | None = None) -> Any:
    """The v0 field ``name`` (its allowed values and meaning), with another default where given."""
    f = _V0_FIELDS[name]
    return param(f.default if default is dataclasses.MISSING else default, f.metadata["spec"], doc or f.metadata["doc"])


@dataclasses.dataclass(frozen=True)
class OffloadingQueuesConfig:
    """Validated configuration of SemCom-Offloading-v1 (allowed values: ``docs/configuration.md``)."""

    preset: str = param("default", Text(), "named defaults: `default` (shared band), `ofdma`")
    num_devices: int = _v0("num_devices")
    access: str = _v0("access", "shared")
    k: int = _v0("k", 16)
    distance_range_m: tuple[float, float] = _v0("distance_range_m", (50.0, 500.0))
    carrier_hz: float = param(2e9, Real(1e6, 1e12), "carrier frequency [Hz]: the path loss is never below free space")
    path_loss_intercept_db: float = _v0("path_loss_intercept_db")
    path_loss_slope_db: float = _v0("path_loss_slope_db")
    noise_dbm_per_hz: float = _v0("noise_dbm_per_hz", -169.0,
                                  "noise power spectral density [dBm/Hz] (thermal -174 plus a 5 dB BS noise figure)")
    bandwidth_hz: float = _v0("bandwidth_hz", 180e3)
    slot_s: float = param(0.1, Real(1e-6, 1e3), "slot duration [s]")
    deadline_slots: int = param(5, Integer(1, MAX_DEADLINE_SLOTS), "slots within which a word must be served (D)")
    on_to_off_prob: float = param(0.1, Real(1e-3, 1.0), "probability per slot that an ON source turns OFF")
    off_to_on_prob: float = param(0.1, Real(1e-3, 1.0), "probability per slot that an OFF source turns ON")
    task_prob_on: float = param(0.5, Real(1e-3, 1.0), "probability that a task arrives in a slot while ON")
    sentences_range: tuple[int, int] = param((1, 10), Interval(1, 1000, integer=True), "sentences per task")
    words_range: tuple[int, int] = param((4, 30), Interval(1, 1000, integer=True), "words per sentence")
    d_model: int = _v0("d_model")
    num_layers: int = _v0("num_layers")
    d_ff: int = _v0("d_ff")
    vocab_size: int = _v0("vocab_size")
    gpu_freq_range_hz: tuple[float, float] = _v0("gpu_freq_range_hz", (0.3e9, 1.72e9))
    num_freq_levels: int = _v0("num_freq_levels")
    gpu_cores: int = _v0("gpu_cores")
    flops_per_cycle: int = _v0("flops_per_cycle")
    gpu_idle_power_w: float = _v0("gpu_idle_power_w")
    gpu_peak_power_w: float = _v0("gpu_peak_power_w")
    p_tx_range_dbm: tuple[float, float] = _v0("p_tx_range_dbm")
    num_power_levels: int = _v0("num_power_levels")
    quant_bits: int = _v0("quant_bits", 32)
    edge_speedup: float = _v0("edge_speedup")
    accuracy_min: float = _v0("accuracy_min")
    penalty: float = _v0("penalty", doc="cost of a word that misses its deadline or accuracy, in local decodings of a word")
    max_steps: int = _v0("max_steps", 100)
    accuracy_interp: str = _v0("accuracy_interp")
    accuracy_model: str = _v0("accuracy_model")

    def __post_init__(self) -> None:
        validate_fields(self)
        check_less("gpu_idle_power_w", self.gpu_idle_power_w, "gpu_peak_power_w", self.gpu_peak_power_w, strict=True,
                   why="the GPU's dynamic power kappa f^3 must be positive")
        check_accuracy_model(self.accuracy_model, self.accuracy_interp)

    freq_levels_hz = OffloadingConfig.freq_levels_hz
    power_levels_dbm = OffloadingConfig.power_levels_dbm


PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    "ofdma": {"access": "ofdma"},
}


class OffloadingQueues(BatchedScenario):
    """Batched core of SemCom-Offloading-v1 (documentation: the module docstring)."""

    env_id: ClassVar[str] = "SemCom-Offloading-v1"
    pettingzoo_name: ClassVar[str] = "offloading_v1"
    config_class: ClassVar[type] = OffloadingQueuesConfig
    presets: ClassVar[dict[str, dict[str, Any]]] = PRESETS
    size_field: ClassVar[str] = "num_devices"
    metrics: ClassVar[dict[str, str]] = {
        "reward": "team reward per slot (energy and violations, in local decodings of the mean arrivals)",
        "energy_j": "mean device energy per slot [J]",
        "violated_words": "words per device and slot that missed their deadline or accuracy",
        "dropped_words": "words per device and slot dropped at their deadline",
        "inaccurate_words": "offloaded words per device and slot below the accuracy requirement",
        "served_words": "words served per device and slot",
        "offloaded_words": "words offloaded per device and slot",
        "backlog_words": "words waiting per device after a slot",
    }
    primary_metric: ClassVar[str] = "reward"
    higher_is_better: ClassVar[bool] = True
    reference: ClassVar[tuple[str, str] | None] = ("dpp", "ratio_to_dpp")

    def __init__(self, config: OffloadingQueuesConfig | None = None, **kwargs: Any) -> None:
        self.config = self._configure(config, kwargs)
        c = self.config
        n, d = c.num_devices, c.deadline_slots
        self.num_agents, self.deadline = n, d
        self.agents = tuple(f"ue_{i}" for i in range(n))
        self.freq_levels_hz = c.freq_levels_hz()
        self.tx_power_levels_w = radio.dbm_to_watts(c.power_levels_dbm())
        self.f_min, self.f_max = c.gpu_freq_range_hz
        self.flops_per_hz = float(c.gpu_cores * c.flops_per_cycle)
        self.kappa = energy.gpu_kappa(c.gpu_idle_power_w, c.gpu_peak_power_w, self.f_max)
        self.noise_psd_w = float(radio.dbm_to_watts(c.noise_dbm_per_hz))
        self.shared = c.access == "shared"
        self._accuracy = semantics.deepsc_kernel(c.accuracy_model, c.accuracy_interp)
        (s_lo, s_hi), (w_lo, w_hi) = c.sentences_range, c.words_range
        # Q3: FLOPs per word at the mean sentence length.
        self.flops_enc, self.flops_dec = (float(v) for v in energy.deepsc_flops(
            1.0, 0.5 * (w_lo + w_hi), c.k, d_model=c.d_model, d_ff=c.d_ff, num_layers=c.num_layers, vocab=c.vocab_size))
        self.bits_per_word = float(c.k * c.quant_bits)
        self.edge_flops_per_s = c.edge_speedup * self.f_max * self.flops_per_hz
        self.max_task_words = float(s_hi * w_hi)
        # Q4: the energy-optimal frequency f* = (P_0 / (2 kappa))^(1/3), clipped to the range.
        self.f_opt_hz = float(np.clip(np.cbrt(c.gpu_idle_power_w / (2.0 * self.kappa)), self.f_min, self.f_max))
        self.e_ref_j = float(energy.gpu_power_w(self.f_opt_hz, c.gpu_idle_power_w, self.kappa)
                             * (self.flops_enc + self.flops_dec) / (self.f_opt_hz * self.flops_per_hz))
        self.pi_on = c.off_to_on_prob / (c.on_to_off_prob + c.off_to_on_prob)  # Q1
        self.mean_arrival_words = self.pi_on * c.task_prob_on * 0.25 * (s_lo + s_hi) * (w_lo + w_hi)

        self.action_labels = ACTION_LABELS
        self.action_nvec = np.array([MODES, c.num_freq_levels, c.num_power_levels], dtype=np.int64)
        self._act_space: gymnasium.Space = gymnasium.spaces.MultiDiscrete(self.action_nvec)
        gain_lo, gain_hi = GAIN_FEATURE.bounds
        obs_low = np.array([0.0] * d + [gain_lo, 0.0, 0.0], dtype=np.float32)
        obs_high = np.array([1.0] * d + [gain_hi, 1.0, 1.0], dtype=np.float32)
        self._obs_space = gymnasium.spaces.Box(obs_low, obs_high, dtype=np.float32)
        state_low = np.concatenate([np.zeros(n * d), np.full(n, gain_lo), np.zeros(n + 1)]).astype(np.float32)
        state_high = np.concatenate([np.ones(n * d), np.full(n, gain_hi), np.ones(n + 1)]).astype(np.float32)
        self.state_space = gymnasium.spaces.Box(state_low, state_high, dtype=np.float32)

    # ---------------------------------------------------------------- physics
    def uplink_interference_w(self, offload: np.ndarray, p_w: np.ndarray, gain: np.ndarray) -> np.ndarray:
        """Power [W] received at the BS from the slot's other offloaders, per device (Q3, ``access="shared"``).

        ``sum_{j offloading, j != i} p_j g_j`` with the devices on the last axis of the broadcast
        arguments; no successive interference cancellation. One receiver decodes every device, so
        the "gain from transmitter j to receiver i" of :func:`~semcom_envs.physics.radio.interference_matrix_sinr` is
        ``g_j`` for every ``i``.
        """
        tx_w = np.where(offload, p_w, 0.0)
        g = np.asarray(gain, dtype=np.float64)
        g = np.broadcast_to(g, np.broadcast_shapes(g.shape, tx_w.shape))
        to_bs = np.broadcast_to(g[..., :, None], (*g.shape, g.shape[-1]))
        with np.errstate(divide="ignore", invalid="ignore"):  # only the interference is used, not its SINR
            return radio.interference_matrix_sinr(tx_w, to_bs, 0.0)[2]

    def device_outcome(self, backlog: np.ndarray, gain: np.ndarray, mode: np.ndarray, f_hz: np.ndarray,
                       p_w: np.ndarray, offloaders: np.ndarray, interference_w: np.ndarray | float = 0.0
                       ) -> dict[str, np.ndarray]:
        """One device's slot (Q2, Q3, Q5) given the number of offloaders ``offloaders`` of the slot
        and, with ``access="shared"``, the power ``interference_w`` [W] received at the BS from the
        other offloaders (:meth:`uplink_interference_w`; 0 with OFDMA, whose shares are orthogonal).

        A device's outcome depends on the others only through these (its band share or the
        interference, and its edge slice), which is what makes the joint references exact.
        ``backlog`` is ``(..., D)`` (words by age, newest first); every other argument broadcasts
        against ``backlog[..., 0]`` (baselines add candidate axes). Returns float64 arrays of the
        broadcast shape, and ``remaining`` ``(..., D)``: the queue by age after service.
        """
        c = self.config
        mode = np.asarray(mode)
        offload, local = mode == OFFLOAD, mode == LOCAL
        m = np.maximum(np.asarray(offloaders, dtype=np.float64), 1.0)
        throughput = np.asarray(f_hz, dtype=np.float64) * self.flops_per_hz
        power = energy.gpu_power_w(f_hz, c.gpu_idle_power_w, self.kappa)
        t_enc, t_dec = self.flops_enc / throughput, self.flops_dec / throughput
        if self.shared:  # Q3: every offloader on the whole band, interfering at the BS
            band = c.bandwidth_hz
            sinr = p_w * gain / (self.noise_psd_w * band + interference_w)
        else:  # Q3: equal OFDMA share, no interference
            band = c.bandwidth_hz / m
            sinr = p_w * gain / (self.noise_psd_w * band)
        # Only an offloader uploads; its rate stays positive where 1 + SINR rounds to 1 (see v0).
        rate = np.where(offload, radio.shannon_rate_positive(band, sinr), 0.0)
        shape = np.broadcast_shapes(rate.shape, t_enc.shape, mode.shape, backlog.shape[:-1])
        t_tx = np.divide(self.bits_per_word, rate, out=np.zeros(shape), where=np.broadcast_to(offload, shape))
        t_word = np.where(offload, t_enc + t_tx, t_enc + t_dec)
        e_word = np.where(offload, power * t_enc + p_w * t_tx, power * (t_enc + t_dec))
        device_cap = np.floor(c.slot_s / t_word)
        edge_cap = np.floor(self.edge_flops_per_s * c.slot_s / (m * self.flops_dec))  # Q3: equal time slice
        capacity = np.where(offload, np.minimum(device_cap, edge_cap), np.where(local, device_cap, 0.0))
        total = backlog.sum(axis=-1)
        served = np.minimum(total, capacity)
        # Q2: FIFO, oldest (last) bin first; what is left at age D - 1 is dropped.
        ahead = np.cumsum(backlog[..., ::-1], axis=-1)[..., ::-1] - backlog  # words older than each bin
        remaining = backlog - np.clip(served[..., None] - ahead, 0.0, backlog)
        dropped = remaining[..., -1]
        accuracy = np.where(offload, self._accuracy(c.k - 1, 10.0 * np.log10(np.where(offload, sinr, 1.0))), 1.0)  # physics.semantics §1
        inaccurate = np.where(offload & (accuracy < c.accuracy_min), served, 0.0)
        energy_j = served * e_word
        upload_j = np.where(offload, served * (p_w * t_tx), 0.0)
        scale = self.e_ref_j * self.mean_arrival_words
        reward = -(energy_j + c.penalty * self.e_ref_j * (dropped + inaccurate)) / scale  # Q5
        return {"served": served, "dropped": dropped, "inaccurate": inaccurate, "energy_j": energy_j,
                "upload_energy_j": upload_j, "capacity": capacity, "remaining": remaining, "backlog_before": total, "accuracy": accuracy,
                "sinr": np.where(offload, sinr, 0.0), "rate_bps": rate, "reward": reward}

    def outcome(self, backlog: np.ndarray, gain: np.ndarray, mode: np.ndarray, f_hz: np.ndarray,
                p_w: np.ndarray) -> dict[str, np.ndarray]:
        """Every device's slot for a joint action (devices on the last axis of ``gain``, ``mode``, ...)."""
        offload = np.asarray(mode) == OFFLOAD
        offloaders = offload.sum(axis=-1, keepdims=True)
        interference = self.uplink_interference_w(offload, p_w, gain) if self.shared else 0.0
        out = self.device_outcome(backlog, gain, mode, f_hz, p_w, offloaders, interference)
        out["offloaders"] = offloaders[..., 0].astype(np.float64)
        return out

    def decode_actions(self, actions: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Validated ``(mode (int64), f_hz, p_w)``, each ``(B, N)``, of a batch of actions."""
        a = self.stack_actions(actions)
        return a[..., 0], self.freq_levels_hz[a[..., 1]], self.tx_power_levels_w[a[..., 2]]

    # ------------------------------------------------------------ randomness
    def _arrivals(self, keys: NDArray[np.uint64], slot: np.ndarray, on: np.ndarray) -> np.ndarray:
        """(B, N) words arriving at the start of ``slot`` (Q1): a task with probability task_prob_on while ON."""
        c, n = self.config, self.num_agents
        u = streams.uniforms(keys, slot, _D_TASK, (3 * n + 1) // 2)
        (s_lo, s_hi), (w_lo, w_hi) = c.sentences_range, c.words_range
        n_sent = s_lo + np.floor(u[:, :n] * (s_hi - s_lo + 1))
        length = w_lo + np.floor(u[:, n:2 * n] * (w_hi - w_lo + 1))
        arrives = (on > 0) & (u[:, 2 * n:3 * n] < c.task_prob_on)
        return np.where(arrives, n_sent * length, 0.0)

    def _fading(self, keys: NDArray[np.uint64], slot: np.ndarray) -> np.ndarray:
        """(B, N) Rayleigh block fading |h|^2 ~ Exp(1), i.i.d. per slot (Q3)."""
        n = self.num_agents
        return -np.log(streams.uniforms(keys, slot, _D_FADING, (n + 1) // 2)[:, :n])

    # ------------------------------------------------------------------ reset
    def reset(self, keys: NDArray[np.uint64]) -> tuple[State, AgentArrays]:
        c, n, d = self.config, self.num_agents, self.deadline
        b = keys.shape[0]
        t0 = np.zeros(b, dtype=np.int64)
        u = streams.uniforms(keys, t0, _D_POSITION, n)  # uniform angle and distance
        d_lo, d_hi = c.distance_range_m
        distance = d_lo + (d_hi - d_lo) * u[:, n:]
        loss_db = np.maximum(radio.path_loss_db(distance, c.path_loss_intercept_db, c.path_loss_slope_db),
                             radio.free_space_path_loss_db(distance, c.carrier_hz))
        on = (streams.uniforms(keys, t0, _D_SOURCE, (n + 1) // 2)[:, :n] < self.pi_on).astype(np.float64)
        backlog = np.zeros((b, n, d))
        backlog[..., 0] = self._arrivals(keys, t0, on)
        state: State = {
            "key": keys.copy(), "t": t0,
            "xy": radio.polar_points(distance, u[:, :n]),
            "large_scale": radio.db_to_linear(-loss_db),
            "on": on, "backlog": backlog, "gain": radio.db_to_linear(-loss_db) * self._fading(keys, t0),
            "last_offloaders": np.zeros(b), "last_offload": np.zeros((b, n)), "last_freq": np.zeros((b, n)),
        }
        return state, self._observe(state)

    # ------------------------------------------------------------------- step
    def step(self, state: State, actions: Mapping[str, np.ndarray]) -> Transition:
        c = self.config
        mode, f_hz, p_w = self.decode_actions(actions)
        if mode.shape[0] != state["t"].shape[0]:
            raise ValueError(f"actions have batch size {mode.shape[0]}, the state {state['t'].shape[0]}")
        out = self.outcome(state["backlog"], state["gain"], mode, f_hz, p_w)
        keys, next_t = state["key"], state["t"] + 1
        # Q1: the sources' Markov chains, then the next slot's arrivals enter the newest bin.
        u = streams.uniforms(keys, next_t, _D_SOURCE, (self.num_agents + 1) // 2)[:, :self.num_agents]
        on = traffic.on_off_step(state["on"] > 0, u, c.on_to_off_prob, c.off_to_on_prob).astype(np.float64)
        arrivals = self._arrivals(keys, next_t, on)
        backlog = np.concatenate([arrivals[..., None], out["remaining"][..., :-1]], axis=-1)
        offloaded = mode == OFFLOAD
        new_state = dict(state)
        new_state.update({
            "t": next_t, "on": on, "backlog": backlog, "gain": state["large_scale"] * self._fading(keys, next_t),
            "last_offloaders": out["offloaders"], "last_offload": offloaded.astype(np.float64),
            "last_freq": (f_hz - self.f_min) / max(self.f_max - self.f_min, 1e-300),
        })
        truncated = next_t >= c.max_steps
        terminated = np.zeros(truncated.shape, dtype=bool)
        edge_words = self.edge_flops_per_s * c.slot_s / self.flops_dec
        infos = {
            **{name: out[name] for name in ("served", "dropped", "inaccurate", "energy_j", "upload_energy_j", "accuracy",
                                            "sinr", "rate_bps")},
            "arrivals": arrivals,
            "backlog": out["remaining"][..., :-1].sum(axis=-1),
            "mode": mode.astype(np.float64),
            "offloaded": offloaded,
            "gpu_freq_hz": f_hz,
            "tx_power_w": np.where(offloaded, p_w, 0.0),
            "offloaders": out["offloaders"],
            "edge_load": np.where(offloaded, out["served"], 0.0).sum(axis=1) / edge_words,
            "total_energy_j": out["energy_j"].sum(axis=1),
            "served_words": out["served"].sum(axis=1),
            "violated_words": (out["dropped"] + out["inaccurate"]).sum(axis=1),
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
            "reward": team_reward,
            "energy_j": infos["energy_j"].mean(axis=1),
            "violated_words": (infos["dropped"] + infos["inaccurate"]).mean(axis=1),
            "dropped_words": infos["dropped"].mean(axis=1),
            "inaccurate_words": infos["inaccurate"].mean(axis=1),
            "served_words": infos["served"].mean(axis=1),
            "offloaded_words": np.where(infos["offloaded"], infos["served"], 0.0).mean(axis=1),
            "backlog_words": infos["backlog"].mean(axis=1),
        }

    def _observe(self, state: State) -> AgentArrays:
        """Each device's local observation (module docstring)."""
        n, d = self.num_agents, self.deadline
        obs = np.empty((state["t"].shape[0], n, d + 3), dtype=np.float32)
        obs[..., :d] = state["backlog"] / self.max_task_words
        obs[..., d] = GAIN_FEATURE.encode(state["gain"])
        obs[..., d + 1] = (state["last_offloaders"] / n)[:, None]
        obs[..., d + 2] = state["last_offload"]
        return {agent: obs[:, i] for i, agent in enumerate(self.agents)}

    # ----------------------------------------------------------- global view
    def global_state(self, state: State) -> np.ndarray:
        b = state["t"].shape[0]
        parts = [state["backlog"].reshape(b, -1) / self.max_task_words, GAIN_FEATURE.encode(state["gain"]),
                 state["on"], (state["last_offloaders"] / self.num_agents)[:, None]]
        return np.concatenate(parts, axis=1).astype(np.float32)

    def decode_observations(self, observations: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Physical quantities of the agents' local observations (float64): ``backlog`` (B, N, D) in
        words (exact), ``gain`` (B, N) linear (float32 rounding of its dB feature, relative error
        ~1e-6), ``others_offloading`` (B, N): last slot's offloaders other than the device."""
        n, d = self.num_agents, self.deadline
        obs = np.stack([np.asarray(observations[a], dtype=np.float64) for a in self.agents], axis=1)
        last = np.rint(obs[..., d + 1] * n)
        return {"backlog": np.rint(obs[..., :d] * self.max_task_words), "gain": GAIN_FEATURE.decode(obs[..., d]),
                "others_offloading": np.maximum(last - np.rint(obs[..., d + 2]), 0.0)}

    def decode_global_state(self, global_state: np.ndarray) -> dict[str, np.ndarray]:
        """``backlog`` (B, N, D) in words (exact), ``gain`` (B, N) linear (float32 rounding of its dB
        feature, relative error ~1e-6) and ``on`` (B, N) of a global state."""
        n, d = self.num_agents, self.deadline
        gs = np.asarray(global_state, dtype=np.float64)
        return {"backlog": np.rint(gs[:, :n * d].reshape(-1, n, d) * self.max_task_words),
                "gain": GAIN_FEATURE.decode(gs[:, n * d:n * d + n]), "on": gs[:, n * d + n:n * d + 2 * n]}

    def render_rgb(self, state: State, infos: Mapping[str, np.ndarray] | None, index: int) -> np.ndarray:
        from semcom_envs.render import star_map

        offloaded = np.zeros(self.num_agents, dtype=bool) if infos is None else infos["offloaded"][index]
        return star_map(state["xy"][index], offloaded, state["last_freq"][index], self.agents,
                        title=f"{self.env_id}  slot {int(state['t'][index])}")
