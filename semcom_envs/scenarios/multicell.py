"""SemCom-MultiCell-v0 and -v1: multi-cell semantic energy efficiency, joint power control and compression.

Source: a journal article on cross-layer optimisation of semantic energy efficiency with multi-agent
DQN/DRQN (what our copy holds of it: docs/scenarios.md); equation numbers "(n)" are the source's.
The DeepSC accuracy model: ``physics.semantics`` §1.

``M`` base stations (agents ``bs_0 .. bs_{M-1}``) each serve one user terminal (UT) per slot on a
shared 180 kHz channel. Every slot each BS picks a transmit-power level and a semantic compression
level ``k`` (DeepSC symbols per word). Inter-cell interference sets each UT's SINR, the SINR and
``k`` set the semantic accuracy (measured DeepSC table), ``k`` sets the semantic rate, and the
rate and accuracy satisfactions make up each UT's QoE. All BSs share one cooperative reward: the
network's normalised semantic energy efficiency (sum QoE per watt).

==================  =========================================================================
Action space        ``MultiDiscrete([Q, 20])`` per agent: (power level, k - 1); with
                    ``flat_actions=True`` ``Discrete(20 Q)`` with ``a = level * 20 + (k - 1)``.
                    ``Q = 7``. Levels: preset ``paper``/``paper-table`` ``i p_max / 6``
                    (level 0 = silent), ``wide-area`` ``p_max - 5 (6 - i)`` dB.
Observation space   ``Box(7,)`` float32 per agent (source eqs. (17)-(19)):
                    ``[p_m(t-1)/p_max, sinr_m, qoe_m, b_m(t), b_m(t-1), i_m(t), i_m(t-1)]``,
                    where ``b = p h_mm`` is the desired received power and ``i`` interference
                    plus noise of the slot just evaluated. ``sinr``, ``b`` and ``i`` are
                    ``clip(10 log10(x / sigma^2), -30, 120) / 30`` (dB above the noise floor,
                    clipped, so each lies in [-1, 4]); ``p/p_max`` and ``qoe`` lie in [0, 1].
State space         ``Box(M^2 + 7M,)`` float32 (``state()``, full CSI):
                    ``clip(10 log10(h_jm / sigma^2), -100, 250) / 100`` (no realistic gain
                    reaches either clip) for the slot the next action acts on (row-major in
                    ``j`` = BS, ``m`` = UT), then seven blocks of M values (one per cell):
                    ``p(t-1)/p_max``, ``k(t-1)/20``, ``phi / 100 ksuts/s``, ``xi``,
                    ``lambda / 55``, ``beta / 0.2 per ksuts/s`` and ``w``.
Reward              shared by all agents (eq. (9)); config ``reward``:
                    ``"ee"`` ``(sum_m QoE_m / M) / (P_tot / P_tot_max)``; ``"ee_watts"``
                    ``sum_m QoE_m / P_tot`` [1/W]; ``"qoe"`` ``sum_m QoE_m / M`` (no energy term).
Starting state      BSs on a hexagonal grid; UTs, shadowing, requirements and fading drawn
                    per episode; the first observation describes a pilot slot in which every
                    BS sent at the highest level with ``k = 20``.
Episode end         truncation after ``max_steps`` slots (default 100); never terminates.
Infos               per agent: ``sinr`` (linear), ``semantic_rate`` [suts/s], ``accuracy``,
                    ``qoe``, ``tx_power_w``, ``k``, ``rate_ok``, ``accuracy_ok``; network:
                    ``total_power_w``, ``ee`` (the configured reward's value), ``ee_normalised``.
==================  =========================================================================

Bursty traffic (``traffic="bursty"``; SemCom-MultiCell-v1's default, see below). Each UT's
semantic traffic arrives from an ON/OFF Markov source (mean rate ``phi``, the rate requirement's
draw; ``traffic_peak_to_mean x phi`` while ON, ON a share ``1 / traffic_peak_to_mean`` of the
time, bursts of ``1 / (1 - traffic_on_stay)`` slots of ``slot_s``) into a queue at its BS. A slot
serves ``s = min(backlog, S(k) slot_s)`` units; what is left waits. QoE (eq. (8)) replaces the
rate satisfaction by a delay satisfaction ``1 / (1 + exp(nu (d - D)))`` of the delay
``d = left / phi`` (Little's law), ``D = delay_req_s``, ``nu = delay_steepness_per_s``, and
counts the accuracy satisfaction only in slots that serve something (1 otherwise). The queues
make the problem sequential: what a slot leaves unserved, later slots pay for.

==================  =========================================================================
Observation         ``traffic="bursty"`` appends the own queue, which the BS holds:
(additions)         ``[backlog / (phi D), source ON, xi, phi / 100 ksuts/s]`` (backlog after
                    the coming slot's arrivals; ``phi`` and ``xi`` are the traffic's QoS class,
                    which the BS knows as it knows a bearer's bit rate; the UT's weight and
                    steepnesses stay private). ``backhaul_observations=True`` then appends
                    what every other cell ``j`` (index order) reports about the slot just
                    evaluated over the backhaul: the interference this BS caused at UT ``j``,
                    ``p_m h_mj`` (dB feature as ``b``, measured by UT ``j`` on this BS's
                    reference signal), and with queues ``j``'s backlog left ``/ (phi_j D)``:
                    the neighbour interference terms of multi-agent power control (Nasir and
                    Guo), one slot late like every measurement here.
State (additions)   ``traffic="bursty"``: per cell the backlog ``/ (phi D)`` and the source state.
Infos (additions)   ``backlog`` (left after the slot) and ``served`` [suts], ``delay_s``,
                    ``delay_ok``; metrics ``delay_s`` and ``delay_ok``.
==================  =========================================================================

SemCom-MultiCell-v1, the benchmark task (docs/benchmark-tasks.md): the same core at the preset
``benchmark``: ``wide-area`` geometry (500 m cells, 866 m between sites, UTs uniform in area,
dB-spaced power levels) at ``p_max_dbm = 23`` (a macro BS's ~46 dBm over 100 resource blocks is
26 dBm per 180 kHz block; 38 dBm on one block is 12 dB above it), path loss never below free space
at 2 GHz, bursty traffic and backhaul observations. Why: at the paper's link budget the median
SNR at the lowest power is 59 dB, above the accuracy table's 20 dB ceiling, so power barely
changes QoE and a constant policy comes within 0.07 of the oracle; here links sit in the
table's range, interference coordination pays, and the queues give memory and lookahead
something to do. With queues the per-slot ``oracle`` is no optimal policy: the
drift-plus-penalty rule ``dpp`` with the same full information does better
(``semcom_baselines.multicell``).

Order within a slot: act -> SINR, accuracy, QoE and ``P_tot`` on the current channel ->
reward -> fading update -> next observation. Observations are therefore one slot stale, while
``state()`` holds the channel that the next action will meet (so a full-CSI policy is exact).

Arguments (``gym.make("SemCom-MultiCell-v0", **kwargs)``; dB only here, SI inside):
``preset`` (``"paper"``, ``"paper-table"``, ``"wide-area"``), ``num_cells`` (1..19),
``cell_radius_m``, ``inter_site_factor`` (inter-site distance / radius), ``min_distance_m``,
``ut_placement`` (``"radius"`` uniform radius, ``"area"`` uniform in area), ``shadowing_db``,
``path_loss_intercept_db``, ``path_loss_slope_db``, ``carrier_hz``, ``rho``, ``noise_dbm``, ``bandwidth_hz``,
``suts_per_word``, ``num_power_levels``, ``power_step_db`` (``None``: linear levels from 0),
``p_max_dbm``, ``p_bs_dbm``, ``p_ut_dbm``, ``p_ai_dbm``, ``rate_req_ksuts``, ``accuracy_req``,
``lambda_mean``, ``lambda_std``, ``beta_mean_per_ksuts``, ``beta_std_per_ksuts``,
``weight_range``, ``redraw_requirements`` (``"episode"``/``"slot"``), ``reward``,
``flat_actions``, ``max_steps``, ``accuracy_interp`` (``"linear"``/``"round"``),
``accuracy_model`` (``"table"``, or ``"logistic"`` for the smooth fitted surrogate), ``traffic``,
``slot_s``, ``delay_req_s``, ``delay_steepness_per_s``, ``traffic_on_stay``,
``traffic_peak_to_mean``, ``backhaul_observations``.

Where the model fills a gap of the source or departs from it (say so when comparing with the source):
- ``p_max_dbm = 38`` by default, not the 20 dBm printed in the source's table: with
  ``P_BS = 39 dBm`` a 20 dBm transmitter is ~1% of the total power, so power control could not
  matter; 38 dBm is the source group's public code. ``preset="paper-table"`` keeps 20 dBm.
- Rate requirement ``phi ~ U[80, 100]`` ksuts/s and accuracy requirement ``xi ~ U[0.8, 0.9]``:
  the source table swaps the two labels; rates are compared in consistent units.
- A silent BS (power 0) delivers nothing: its semantic rate and accuracy are 0 (so its QoE is
  about 0) and its SINR is reported as 0. The source leaves this open; without it, switching a cell
  off would keep its rate satisfaction and make silence an energy-free source of QoE.
- The pilot slot that produces the first observation is our choice (the source defines observations
  only after a slot was evaluated).
- The accuracy table is interpolated linearly in dB (``accuracy_interp="round"`` reproduces the
  source code's nearest-dB lookup), clipped to [-10, 20] dB (``physics.semantics`` §1).
- ``min_distance_m >= 1`` m (the range reached 0 exclusive): the log-distance path loss is a
  far-field model, and near 0 m its gain overflows even float64. The path loss of every BS-UT
  link is evaluated at no less than ``min_distance_m``: with ``inter_site_factor < 2`` a UT can
  come arbitrarily close to a neighbouring BS (at the presets no link comes that close).
- ``carrier_hz`` (default ``None``, the source's model): when set, every link's path loss is at
  least the free-space (Friis) loss at that carrier. The source's law ``120.9 + 37.6 log10 d[km]``
  gives less loss than free space at 2 GHz below 53 m (12 dB less at the 10 m minimum distance),
  which no real link can have.
- Precision: the hot path runs in float32 unless the configuration's largest channel gain,
  received power or ratio of either to the noise (path loss at ``min_distance_m``, the largest
  shadowing draw, a fading power of 20 dB) comes within 30 dB of float32's largest value
  (385 dB), as at ``p_max_dbm=100`` over ``noise_dbm=-250`` with a path loss of 0 dB; such a
  configuration runs in float64 (``MultiCell.dtype``; infos such as ``sinr`` are then float64),
  so the SINR is never an overflowed float32 (inf, then NaN). Every preset runs in float32.
- The bounds of the state's requirement blocks are the outer of their float32 and float64
  roundings (the state scales the float32-stored requirements in float32).

Seeding: see :mod:`semcom_envs.streams`; a batch seeded with ``s`` runs copy ``i`` exactly like a
single environment seeded with ``s + i``.

Version history: v0, first release (the source's model, its presets, full-buffer traffic); v1, the
benchmark task (preset ``benchmark``: bursty traffic into queues, a link budget in the semantic
model's range, backhaul observations). The fields that v1 added to the config keep v0's dynamics
at their defaults: v0's trajectories are unchanged.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import gymnasium
import numpy as np
from numpy.typing import NDArray

from semcom_envs import streams
from semcom_envs.api.core import AgentArrays, BatchedScenario, State, Transition
from semcom_envs.config import (
    ACCURACY_INTERP,
    ACCURACY_MODEL,
    Choice,
    ConfigError,
    Flag,
    Integer,
    Interval,
    OrNone,
    Real,
    Text,
    check_accuracy_model,
    check_less,
    param,
    validate_fields,
)
from semcom_envs.physics import radio, semantics

K_MAX = semantics.DEEPSC_K_MAX
MAX_CELLS = 19
OBS_DB_RANGE = (-30.0, 120.0)
OBS_DB_SCALE = 30.0
STATE_GAIN_DB_SCALE = 100.0
STATE_GAIN_DB_RANGE = (-100.0, 250.0)
# Per-cell blocks of the global state after the gains, each stored divided by its scale (so the
# values are of order one); one table for global_state, its bounds and decode_global_state.
# "prev_power" is scaled by p_max, set per instance.
_STATE_BLOCKS = (("prev_power", None), ("prev_k", 20.0), ("rate_req", 1e5), ("accuracy_req", 1.0),
                 ("lam", 55.0), ("beta_qoe", 2e-4), ("weight", 1.0))
_STATE_SCALES = dict(_STATE_BLOCKS)
QUEUE_FEATURES = 4
"""Observation features of the own queue (traffic="bursty"): delay ratio, source ON, xi, phi."""
QUEUE_METRICS = {
    "delay_s": "mean delay of the backlog left after a slot, at the mean traffic rate [s] (traffic='bursty')",
    "delay_ok": "share of cell-slots whose backlog delay meets delay_req_s (traffic='bursty')",
}

# Stream domains (semcom_envs.streams): one per kind of draw, so that adding one never shifts others.
_D_POSITION, _D_SHADOW, _D_REQ_U, _D_REQ_N, _D_FADE_INIT, _D_FADE_STEP, _D_TRAFFIC_INIT, _D_TRAFFIC_STEP = range(8)


@dataclasses.dataclass(frozen=True)
class MultiCellConfig:
    """Validated configuration of SemCom-MultiCell-v0 (allowed values: ``docs/configuration.md``)."""

    preset: str = param("paper", Text(), "named defaults: `paper`, `paper-table`, `wide-area`")
    num_cells: int = param(7, Integer(1, MAX_CELLS), "base stations M (agents), hexagonal layout")
    cell_radius_m: float = param(200.0, Real(1, 1e5, low_open=True), "cell radius [m] (> min_distance_m >= 1 m)")
    inter_site_factor: float = param(2.0, Real(1.0, 100.0), "inter-site distance / cell radius")
    min_distance_m: float = param(10.0, Real(1, 1e5), "minimum BS-UT distance [m] (< cell_radius_m; >= 1 m: far field)")
    ut_placement: str = param("radius", Choice(("radius", "area")), "UT distance uniform in radius or in area")
    shadowing_db: float = param(8.0, Real(0, 30), "log-normal shadowing standard deviation [dB]")
    path_loss_intercept_db: float = param(120.9, Real(0, 300), "path loss at 1 km [dB]")
    path_loss_slope_db: float = param(37.6, Real(0, 100), "path-loss slope [dB per decade of distance]")
    carrier_hz: float | None = param(None, OrNone(Real(1e6, 1e12)),
                                     "carrier [Hz]: path loss never below free space at it; `None`: the law alone (the source)")
    rho: float = param(0.64, Real(0, 1), "Jakes correlation of the fading between slots")
    noise_dbm: float = param(-114.0, Real(-250, 100), "noise power in the band [dBm]")
    bandwidth_hz: float = param(180e3, Real(0, 1e12, low_open=True), "channel bandwidth [Hz]")
    suts_per_word: float = param(4.0, Real(0, 1e6, low_open=True), "semantic units per word")
    num_power_levels: int = param(7, Integer(2, 64), "transmit-power levels Q")
    power_step_db: float | None = param(None, OrNone(Real(0, 60, low_open=True)),
                                        "`None`: levels i p_max / (Q - 1); else dB-spaced levels below p_max [dB]")
    p_max_dbm: float = param(38.0, Real(-100, 100), "highest transmit power [dBm]")
    p_bs_dbm: float = param(39.0, Real(-100, 100), "BS circuit power [dBm]")
    p_ut_dbm: float = param(10.0, Real(-100, 100), "UT circuit power [dBm]")
    p_ai_dbm: float = param(5.0, Real(-100, 100), "semantic-codec (AI) power [dBm]")
    rate_req_ksuts: tuple[float, float] = param((80.0, 100.0), Interval(0, 1e9),
                                                "range of the UTs' semantic-rate requirement [ksuts/s]")
    accuracy_req: tuple[float, float] = param((0.8, 0.9), Interval(0, 1), "range of the UTs' accuracy requirement")
    lambda_mean: float = param(55.0, Real(0, 1e4), "mean of the rate-satisfaction steepness lambda")
    lambda_std: float = param(2.5, Real(0, 1e4), "standard deviation of lambda")
    beta_mean_per_ksuts: float = param(0.2, Real(0, 1e4), "mean of the accuracy-satisfaction steepness beta [per ksuts/s]")
    beta_std_per_ksuts: float = param(0.0025, Real(0, 1e4), "standard deviation of beta [per ksuts/s]")
    weight_range: tuple[float, float] = param((0.0, 1.0), Interval(0, 1), "range of the QoE weight w")
    redraw_requirements: str = param("episode", Choice(("episode", "slot")), "when requirements are redrawn")
    reward: str = param("ee", Choice(("ee", "ee_watts", "qoe")), "reward (see Reward)")
    flat_actions: bool = param(False, Flag(), "one `Discrete(20 Q)` action instead of `MultiDiscrete([Q, 20])`")
    max_steps: int = param(100, Integer(1), "slots per episode (truncation)")
    accuracy_interp: str = param("linear", ACCURACY_INTERP, "DeepSC table lookup: linear in dB or nearest dB")
    accuracy_model: str = param("table", ACCURACY_MODEL, "DeepSC accuracy: measured table or logistic fit")
    traffic: str = param("full_buffer", Choice(("full_buffer", "bursty")),
                         "`full_buffer` (the source: a rate requirement) or `bursty`: ON/OFF traffic into per-UT queues")
    slot_s: float = param(0.02, Real(1e-6, 10.0), "slot duration [s] (`bursty`: what a slot serves and how fast queues age)")
    delay_req_s: float = param(0.1, Real(1e-6, 1e3), "`bursty`: delay requirement of the UTs' traffic [s]")
    delay_steepness_per_s: float = param(110.0, Real(0, 1e6), "`bursty`: steepness of the delay satisfaction [1/s]")
    traffic_on_stay: float = param(0.9, Real(0, 1), "`bursty`: probability that an ON source stays ON for the next slot")
    traffic_peak_to_mean: float = param(2.0, Real(1, 1e3),
                                        "`bursty`: arrival rate while ON / mean rate = 1 / share of time ON (1: constant traffic)")
    backhaul_observations: bool = param(False, Flag(), "add what neighbours share over the backhaul, one slot late (see Observation)")

    def __post_init__(self) -> None:
        validate_fields(self)
        check_less("min_distance_m", self.min_distance_m, "cell_radius_m", self.cell_radius_m, strict=True,
                   why="UTs are placed between min_distance_m and cell_radius_m from their BS")
        check_accuracy_model(self.accuracy_model, self.accuracy_interp)
        if self.queued and self.rate_req_ksuts[0] <= 0:
            raise ConfigError(f"rate_req_ksuts={self.rate_req_ksuts!r} is invalid with traffic='bursty': the mean traffic "
                              "rate must be > 0 (the backlog's delay is backlog / rate)")
        if self.traffic_peak_to_mean > 1.0:
            check_less("1 - traffic_on_stay", 1.0 - self.traffic_on_stay, "traffic_peak_to_mean - 1", self.traffic_peak_to_mean - 1.0,
                       why="a source that is ON a share 1 / traffic_peak_to_mean of the time switches OFF->ON with probability "
                           "(1 - traffic_on_stay) / (traffic_peak_to_mean - 1), which cannot exceed 1")

    def traffic_switch_probabilities(self) -> tuple[float, float]:
        """(P(OFF -> ON), P(ON -> OFF)) per slot of the ON/OFF source, whose stationary ON share is 1 / peak-to-mean."""
        off = 1.0 - self.traffic_on_stay
        if self.traffic_peak_to_mean == 1.0:
            return 1.0, 0.0  # constant traffic: always ON
        return off / (self.traffic_peak_to_mean - 1.0), off

    @property
    def queued(self) -> bool:
        """Whether the UTs' traffic waits in queues (``traffic="bursty"``)."""
        return self.traffic == "bursty"

    @property
    def inter_site_distance_m(self) -> float:
        """Distance between neighbouring base stations."""
        return self.inter_site_factor * self.cell_radius_m

    def power_levels_w(self) -> NDArray[np.float64]:
        """Transmit-power levels in watts, ascending (eq. (9b); ``wide-area``: dB-spaced)."""
        q = self.num_power_levels
        if self.power_step_db is None:
            return radio.dbm_to_watts(self.p_max_dbm) * np.arange(q) / (q - 1)
        return radio.dbm_to_watts(self.p_max_dbm - self.power_step_db * np.arange(q - 1, -1, -1))


PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "paper-table": {"p_max_dbm": 20.0},
    "wide-area": {"cell_radius_m": 500.0, "inter_site_factor": math.sqrt(3.0), "ut_placement": "area",
                  "power_step_db": 5.0, "p_bs_dbm": 30.0},
}


def hexagonal_sites(num_cells: int, inter_site_distance_m: float) -> NDArray[np.float64]:
    """(num_cells, 2) BS coordinates: BS 0 at the origin, ring 1 at ``60 i - 30`` degrees.

    The second ring follows the same lattice: six sites at twice the distance on the same angles
    and six at ``sqrt(3)`` times it on ``60 i`` degrees, ordered by angle from 30 degrees.
    """
    d = inter_site_distance_m
    ring1 = np.deg2rad(60.0 * np.arange(1, 7) - 30.0)
    unit1 = np.stack([np.cos(ring1), np.sin(ring1)], axis=1)
    ring2 = np.concatenate([2 * d * unit1, d * (unit1 + np.roll(unit1, -1, axis=0))])
    angles2 = np.mod(np.arctan2(ring2[:, 1], ring2[:, 0]) - np.deg2rad(30.0), 2 * np.pi)
    sites = np.concatenate([np.zeros((1, 2)), d * unit1, ring2[np.argsort(angles2, kind="stable")]])
    return sites[:num_cells]


_FADING_MAX_DB = 20.0
"""Bound on the fading power ``|g|^2`` (of the stationary CN(0, 1) process: Exp(1)) that the dtype choice assumes."""
_DTYPE_HEADROOM_DB = 30.0
"""Margin below float32's largest value (385 dB) kept by the float32 hot path, beyond ``_FADING_MAX_DB``."""
_F10, _TINY = np.float32(10.0), np.float32(1e-30)
_OBS_DB_LOW, _OBS_DB_HIGH, _OBS_INV_SCALE = (np.float32(OBS_DB_RANGE[0]), np.float32(OBS_DB_RANGE[1]),
                                             np.float32(1.0 / OBS_DB_SCALE))


def _uniforms(keys: NDArray[np.uint64], slot: np.ndarray, domain: int, n: int) -> np.ndarray:
    """(B, n) uniforms of one stream address (:func:`streams.uniforms` yields them in pairs)."""
    return streams.uniforms(keys, slot, domain, (n + 1) // 2)[:, :n]


def _db_feature(x: np.ndarray, noise_w: np.floating) -> np.ndarray:
    """Observation feature of a power: dB above the noise floor, clipped, divided by 30 (dtype of ``x``)."""
    db = _F10 * np.log10(np.maximum(x * (1.0 / noise_w), _TINY))
    return np.minimum(np.maximum(db, _OBS_DB_LOW), _OBS_DB_HIGH) * _OBS_INV_SCALE


class MultiCell(BatchedScenario):
    """Batched core of SemCom-MultiCell-v0 (documentation: the module docstring)."""

    env_id: ClassVar[str] = "SemCom-MultiCell-v0"
    pettingzoo_name: ClassVar[str] = "multicell_v0"
    config_class: ClassVar[type] = MultiCellConfig
    presets: ClassVar[dict[str, dict[str, Any]]] = PRESETS
    size_field: ClassVar[str] = "num_cells"
    metrics: ClassVar[dict[str, str]] = {
        "ee": "reward per slot (semantic EE by default)",
        "sum_qoe": "sum of QoE over cells",
        "sum_semantic_rate": "sum of semantic rates [suts/s]",
        "accuracy": "mean semantic accuracy",
        "rate_ok": "share of cell-slots meeting the rate requirement",
        "accuracy_ok": "share of cell-slots meeting the accuracy requirement",
        "tx_power_w": "mean transmit power per cell [W]",
    }
    primary_metric: ClassVar[str] = "ee"
    higher_is_better: ClassVar[bool] = True
    reference: ClassVar[tuple[str, str] | None] = ("oracle", "fraction_of_oracle")

    def __init__(self, config: MultiCellConfig | None = None, **kwargs: Any) -> None:
        self.config = self._configure(config, kwargs)
        c = self.config
        m = c.num_cells
        self.num_agents = m
        self.metrics = {**MultiCell.metrics, **(QUEUE_METRICS if c.queued else {})}
        self.agents = tuple(f"bs_{i}" for i in range(m))
        self.sites = hexagonal_sites(m, c.inter_site_distance_m)
        self.dtype: type[np.floating] = self._hot_path_dtype()
        """float32, or float64 where the configuration's powers and SINRs could overflow float32."""
        self.power_levels = c.power_levels_w().astype(self.dtype)
        self.p_max = float(self.power_levels[-1])
        self.lowest_active_level = int(np.flatnonzero(self.power_levels > 0)[0])
        """Index of the lowest non-zero power level (0 in ``wide-area``, 1 in the paper presets)."""
        self.noise_w = self.dtype(radio.dbm_to_watts(c.noise_dbm))
        self.static_power_w = m * float(radio.dbm_to_watts([c.p_bs_dbm, c.p_ut_dbm, c.p_ai_dbm]).sum())
        self.p_tot_max = m * self.p_max + self.static_power_w
        # eq. (6): S = H W / k [suts/s], tabulated per compression index k - 1.
        self._rate_of_k = (c.suts_per_word * c.bandwidth_hz / np.arange(1, K_MAX + 1)).astype(np.float32)
        # physics.semantics §1: measured table (linear or nearest-dB lookup) or its smooth logistic fit.
        self._accuracy = semantics.deepsc_kernel(c.accuracy_model, c.accuracy_interp)

        q = c.num_power_levels
        self.action_nvec = np.array([q * K_MAX] if c.flat_actions else [q, K_MAX], dtype=np.int64)
        self.action_labels = ("level * 20 + k - 1",) if c.flat_actions else ("power_level", "k - 1")
        if c.queued:
            on_to, off_to = c.traffic_switch_probabilities()
            self.switch_probability = np.array([on_to, off_to], dtype=np.float64)
            """P(OFF -> ON), P(ON -> OFF) of the traffic sources, indexed by the current state."""
            self.delay_ratio_max = c.traffic_peak_to_mean * c.slot_s * (c.max_steps + 2) / c.delay_req_s
            """Largest backlog / (mean rate x delay requirement) an episode can reach: every arrival unserved
            (those of slot 0, of the pilot and of ``max_steps`` slots)."""
        self._others = np.array([[j for j in range(m) if j != i] for i in range(m)], dtype=np.int64).reshape(m, m - 1)
        """Row i: the other cells in index order (the backhaul features' order)."""
        self._obs_space = self._build_observation_space()
        self._act_space: gymnasium.Space = (
            gymnasium.spaces.Discrete(q * K_MAX) if c.flat_actions else gymnasium.spaces.MultiDiscrete([q, K_MAX])
        )
        self.state_space = self._build_state_space()

    def _build_observation_space(self) -> gymnasium.spaces.Box:
        """The Box of the layout in the Observation row of the module docstring."""
        c, m = self.config, self.num_agents
        lo, hi = OBS_DB_RANGE[0] / OBS_DB_SCALE, OBS_DB_RANGE[1] / OBS_DB_SCALE
        low, high = [0, lo, 0, lo, lo, lo, lo], [1, hi, 1, hi, hi, hi, hi]
        if c.queued:
            xi = [float(np.float32(x)) for x in c.accuracy_req]
            phi = [float(np.float32(np.float32(1e3 * x) / np.float32(_STATE_SCALES["rate_req"]))) for x in c.rate_req_ksuts]
            low += [0, 0, xi[0], min(phi[0], float(np.float32(c.rate_req_ksuts[0] / 100)))]
            high += [self.delay_ratio_max, 1, xi[1], max(phi[1], float(np.float32(c.rate_req_ksuts[1] / 100)))]
        if c.backhaul_observations:
            low += [lo] * (m - 1) + ([0] * (m - 1) if c.queued else [])
            high += [hi] * (m - 1) + ([self.delay_ratio_max] * (m - 1) if c.queued else [])
        return gymnasium.spaces.Box(np.array(low, dtype=np.float32), np.array(high, dtype=np.float32), dtype=np.float32)

    def _hot_path_dtype(self) -> type[np.floating]:
        """float32 unless a channel gain, a received power or their ratio to the noise could exceed it.

        Bounds (dB): the largest large-scale gain, at ``min_distance_m`` (the path-loss floor; the
        free-space floor of ``carrier_hz`` only adds loss) with the largest shadowing draw, times a
        fading power of ``_FADING_MAX_DB``; the received power sums ``p_max`` over the M
        transmitters. float32's range (about -450 to 385 dB) holds the default configurations with
        more than 150 dB to spare; wide extremes of the documented ranges (e.g. 100 dBm over -250 dBm
        noise at a path loss of 0 dB) do not. Underflow needs no float64: a power below float32's
        smallest value is 0, i.e. more than 450 dB below a watt.
        """
        c = self.config
        gain_db = (-float(radio.path_loss_db(c.min_distance_m, c.path_loss_intercept_db, c.path_loss_slope_db))
                   + c.shadowing_db * streams.NORMAL_BOUND + _FADING_MAX_DB)
        received_dbw = c.p_max_dbm - 30.0 + gain_db + 10.0 * math.log10(self.num_agents)
        noise_dbw = c.noise_dbm - 30.0
        peak_db = max(gain_db, received_dbw, gain_db - noise_dbw, received_dbw - noise_dbw)
        float32_max_db = 10.0 * math.log10(float(np.finfo(np.float32).max))
        return np.float32 if peak_db <= float32_max_db - _DTYPE_HEADROOM_DB else np.float64

    def _build_state_space(self) -> gymnasium.spaces.Box:
        """Exact bounds of ``global_state`` (normals are bounded by ``streams.NORMAL_BOUND``)."""
        c, m = self.config, self.num_agents
        z = streams.NORMAL_BOUND
        physical = {  # bounds in state units (SI), before scaling
            "prev_power": (0.0, self.p_max),
            "prev_k": (1.0, K_MAX),
            "rate_req": (1e3 * c.rate_req_ksuts[0], 1e3 * c.rate_req_ksuts[1]),
            "accuracy_req": c.accuracy_req,
            "lam": (c.lambda_mean - z * c.lambda_std, c.lambda_mean + z * c.lambda_std),
            "beta_qoe": (1e-3 * (c.beta_mean_per_ksuts - z * c.beta_std_per_ksuts),
                         1e-3 * (c.beta_mean_per_ksuts + z * c.beta_std_per_ksuts)),
            "weight": c.weight_range,
        }
        # The requirements are stored in float32 and scaled in float32, which can round one ulp past
        # the float64 quotient (e.g. a degenerate range such as lambda_std = 0): each bound is the
        # outer of the two roundings.
        stored = {"prev_power": self.dtype, "prev_k": np.float64}  # requirements: float32 (_draw_requirements)

        def bound(name: str, side: int) -> np.float32:
            scale, value = self._state_scale(name), physical[name][side]
            rounded = (np.float32(value / scale), np.float32(np.asarray(value, dtype=stored.get(name, np.float32)) / scale))
            return min(rounded) if side == 0 else max(rounded)

        gain_lo, gain_hi = (x / STATE_GAIN_DB_SCALE for x in STATE_GAIN_DB_RANGE)
        low = [np.full(m * m, gain_lo)] + [np.full(m, bound(n, 0)) for n, _ in _STATE_BLOCKS]
        high = [np.full(m * m, gain_hi)] + [np.full(m, bound(n, 1)) for n, _ in _STATE_BLOCKS]
        if c.queued:  # delay ratio of the backlog, source ON
            low += [np.zeros(m), np.zeros(m)]
            high += [np.full(m, self.delay_ratio_max), np.ones(m)]
        low, high = np.concatenate(low).astype(np.float32), np.concatenate(high).astype(np.float32)
        return gymnasium.spaces.Box(low, high, dtype=np.float32)

    # ------------------------------------------------------------------ reset
    def reset(self, keys: NDArray[np.uint64]) -> tuple[State, AgentArrays]:
        c, m = self.config, self.num_agents
        b = keys.shape[0]
        t0 = np.zeros(b, dtype=np.int64)
        # UT at a uniform angle, radius uniform (or uniform in area) in [min_distance, R].
        u = streams.uniforms(keys, t0, _D_POSITION, m)
        r0, r1 = c.min_distance_m, c.cell_radius_m
        radius = (r0 + (r1 - r0) * u[:, m:] if c.ut_placement == "radius"
                  else np.sqrt(r0**2 + (r1**2 - r0**2) * u[:, m:]))
        ut_xy = self.sites[None] + radio.polar_points(radius, u[:, :m])
        # Large-scale gain beta_jm from BS j to UT m, log-normal shadowing per link. The path loss
        # is taken at no less than min_distance_m: with inter_site_factor < 2 a UT may come arbitrarily
        # close to a neighbouring BS, where the log-distance model diverges.
        distance = np.maximum(np.linalg.norm(self.sites[None, :, None, :] - ut_xy[:, None, :, :], axis=-1), r0)
        loss_db = radio.path_loss_db(distance, c.path_loss_intercept_db, c.path_loss_slope_db)
        if c.carrier_hz is not None:
            loss_db = np.maximum(loss_db, radio.free_space_path_loss_db(distance, c.carrier_hz))
        loss_db += c.shadowing_db * streams.normals(keys, t0, _D_SHADOW, m * m).reshape(b, m, m)
        u_g = streams.uniforms(keys, t0, _D_FADE_INIT, m * m, np.float32)
        g = radio.cn01_from_uniforms(u_g[:, : m * m], u_g[:, m * m:]).reshape(b, 2, m, m)
        state: State = {
            "key": keys.copy(),
            "t": t0,
            "ut_xy": ut_xy,
            "large_scale": radio.db_to_linear(-loss_db).astype(self.dtype),
            "fading": g,
            **self._draw_requirements(keys, t0, _D_REQ_U, _D_REQ_N),
        }
        if c.queued:  # sources start in their stationary ON/OFF distribution; slot 0's arrivals wait
            state["on"] = _uniforms(keys, t0, _D_TRAFFIC_INIT, m) < 1.0 / c.traffic_peak_to_mean
            state["backlog"] = self._arrivals(state)
        # Pilot slot on g(0): highest level, k = k_max; then fading moves on to g(1).
        pilot = np.broadcast_to(
            np.array([self.action_nvec[0] - 1] if c.flat_actions else [len(self.power_levels) - 1, K_MAX - 1]),
            (b, m, len(self.action_nvec)),
        )
        pilot_slot = self._evaluate_and_advance(state, pilot, advance_t=False)
        return pilot_slot.state, pilot_slot.observations

    def _draw_requirements(self, keys: NDArray[np.uint64], slot: np.ndarray, d_u: int, d_n: int) -> State:
        """Per-UT QoE parameters: phi, xi, w uniform; lambda, beta normal; SI units."""
        c, m = self.config, self.num_agents
        u = streams.uniforms(keys, slot, d_u, 2 * m)[:, : 3 * m].reshape(-1, 3, m)
        n = streams.normals(keys, slot, d_n, 2 * m).reshape(-1, 2, m)

        def uniform(interval: tuple[float, float], x: np.ndarray) -> np.ndarray:
            return interval[0] + (interval[1] - interval[0]) * x

        requirements = {
            "rate_req": 1e3 * uniform(c.rate_req_ksuts, u[:, 0]),
            "accuracy_req": uniform(c.accuracy_req, u[:, 1]),
            "weight": uniform(c.weight_range, u[:, 2]),
            "lam": c.lambda_mean + c.lambda_std * n[:, 0],
            "beta_qoe": 1e-3 * (c.beta_mean_per_ksuts + c.beta_std_per_ksuts * n[:, 1]),
        }
        return {name: value.astype(np.float32) for name, value in requirements.items()}

    # ------------------------------------------------------------------- step
    def step(self, state: State, actions: Mapping[str, np.ndarray]) -> Transition:
        a = self.stack_actions(actions)
        if a.shape[0] != state["t"].shape[0]:
            raise ValueError(f"actions have batch size {a.shape[0]}, the state {state['t'].shape[0]}")
        return self._evaluate_and_advance(state, a, advance_t=True)

    def _evaluate_and_advance(self, state: State, a: np.ndarray, *, advance_t: bool) -> Transition:
        """One slot: evaluate the joint action on the current channel, then move the fading on.

        The hot path runs in ``self.dtype``: float32 (SIMD transcendental functions, half the memory
        traffic) unless the configuration's dynamic range needs float64; the reward is returned in
        float64.
        """
        c, m = self.config, self.num_agents
        if c.flat_actions:
            level, k_idx = np.divmod(a[..., 0], K_MAX)
        else:
            level, k_idx = a[..., 0], a[..., 1]
        p = self.power_levels[level]
        gain = self._gain(state)
        sinr, desired, interference = radio.interference_matrix_sinr(p, gain, self.noise_w)  # eqs. (1)-(2)
        silent = p <= 0.0
        sinr_db = _F10 * np.log10(np.maximum(sinr, _TINY))
        if c.queued:
            accuracy, rate, qoe, served = self.queued_qoe(sinr_db, silent, k_idx, state, state["backlog"])
            backlog_out = state["backlog"] - served
        else:
            accuracy, rate, qoe = self.semantic_qoe(sinr_db, silent, k_idx, state)
        p_tot = p.sum(axis=1, dtype=np.float64) + self.static_power_w  # eq. (7)
        reward, ee_normalised = self.objective(qoe.sum(axis=1, dtype=np.float64), p_tot)

        keys, t = state["key"], state["t"]
        next_t = t + 1 if advance_t else t
        # The innovation after slot t is addressed by t + 1 (the pilot's by 0), so no draw repeats.
        innovation = streams.uniforms(keys, next_t, _D_FADE_STEP, m * m, np.float32)  # eq. (4)
        e = radio.cn01_from_uniforms(innovation[:, : m * m], innovation[:, m * m:]).reshape(-1, 2, m, m)
        new_state = dict(state)
        new_state["fading"] = radio.gauss_markov_step(state["fading"], e, c.rho)
        if advance_t and c.redraw_requirements == "slot":
            new_state.update(self._draw_requirements(keys, next_t, _D_REQ_U, _D_REQ_N))
        if c.queued:  # the sources switch, then the next slot's arrivals join what was not served
            switch = _uniforms(keys, next_t, _D_TRAFFIC_STEP, m) < self.switch_probability[state["on"].astype(np.int64)]
            new_state["on"] = state["on"] ^ switch
            new_state["backlog"] = backlog_out + self._arrivals(new_state)
        new_state["t"] = next_t
        new_state["prev_power"] = p
        new_state["prev_k"] = k_idx + 1

        obs = np.empty((p.shape[0], m, self._obs_space.shape[0]), dtype=np.float32)
        obs[..., 0] = p * self.dtype(1.0 / self.p_max)
        obs[..., 1] = np.minimum(np.maximum(sinr_db, _OBS_DB_LOW), _OBS_DB_HIGH) * _OBS_INV_SCALE
        obs[..., 2] = qoe
        obs[..., 3] = new_state["desired_feature"] = _db_feature(desired, self.noise_w)
        obs[..., 4] = state.get("desired_feature", obs[..., 3])
        obs[..., 5] = new_state["interference_feature"] = _db_feature(interference, self.noise_w)
        obs[..., 6] = state.get("interference_feature", obs[..., 5])
        if c.queued:
            obs[..., 7] = self._delay_ratio(new_state["backlog"], new_state)
            obs[..., 8] = new_state["on"]
            obs[..., 9] = new_state["accuracy_req"]
            obs[..., 10] = new_state["rate_req"] / np.float32(_STATE_SCALES["rate_req"])
        if c.backhaul_observations:  # row m: what every other cell j reports about the slot, in index order
            end = 7 + QUEUE_FEATURES * c.queued + (m - 1)
            leak = (p[:, :, None] * gain)[:, np.arange(m)[:, None], self._others]  # p_m h_mj, BS m -> UT j
            obs[..., 7 + QUEUE_FEATURES * c.queued:end] = _db_feature(leak, self.noise_w)
            if c.queued:
                obs[..., end:] = self._delay_ratio(backlog_out, new_state)[:, self._others]
        observations = {agent: obs[:, i] for i, agent in enumerate(self.agents)}

        truncated = new_state["t"] >= c.max_steps
        terminated = np.zeros(truncated.shape, dtype=bool)
        infos = {
            "sinr": np.where(silent, 0.0, sinr),
            "semantic_rate": rate,
            "accuracy": accuracy,
            "qoe": qoe,
            "tx_power_w": p,
            "k": k_idx + 1,
            "rate_ok": rate >= state["rate_req"],
            "accuracy_ok": accuracy >= state["accuracy_req"],
            "total_power_w": p_tot,
            "ee": reward,
            "ee_normalised": ee_normalised,
        }
        if c.queued:
            infos["backlog"] = backlog_out
            infos["served"] = served
            infos["delay_s"] = backlog_out / state["rate_req"]
            infos["delay_ok"] = infos["delay_s"] <= c.delay_req_s
        return Transition(
            new_state,
            observations,
            {agent: reward for agent in self.agents},
            {agent: terminated for agent in self.agents},
            {agent: truncated for agent in self.agents},
            infos,
        )

    def step_metrics(self, team_reward: np.ndarray, infos: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        queue = {"delay_s": infos["delay_s"].mean(axis=1), "delay_ok": infos["delay_ok"].mean(axis=1)} if self.config.queued else {}
        return queue | {
            "ee": team_reward,
            "sum_qoe": infos["qoe"].sum(axis=1),
            "sum_semantic_rate": infos["semantic_rate"].sum(axis=1),
            "accuracy": infos["accuracy"].mean(axis=1),
            "rate_ok": infos["rate_ok"].mean(axis=1),
            "accuracy_ok": infos["accuracy_ok"].mean(axis=1),
            "tx_power_w": infos["tx_power_w"].mean(axis=1),
        }

    def action_grid(self, infos: Mapping[str, np.ndarray]) -> tuple[np.ndarray, tuple[int, int], tuple[str, str]]:
        level = np.abs(infos["tx_power_w"][..., None] - self.power_levels).argmin(axis=-1)
        return (np.stack([level, infos["k"] - 1], axis=-1), (len(self.power_levels), K_MAX),
                ("power level", "k (symbols per word)"))

    def semantic_qoe(self, sinr_db: np.ndarray, silent: np.ndarray, k_idx: np.ndarray,
                     requirements: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Accuracy, semantic rate [suts/s] and QoE of each cell (eqs. (5), (6), (8)).

        Arguments broadcast against each other (baselines evaluate many candidate actions at once);
        ``requirements`` holds ``rate_req``, ``accuracy_req``, ``lam``, ``beta_qoe`` and ``weight``
        as in the state. A silent cell delivers nothing: rate and accuracy 0.
        """
        shape = np.broadcast_shapes(sinr_db.shape, k_idx.shape)
        sinr_db = sinr_db if sinr_db.shape == shape else np.broadcast_to(sinr_db, shape)
        accuracy = np.where(silent, 0.0, self._accuracy(k_idx, sinr_db))  # eq. (5)
        rate = np.where(silent, 0.0, self._rate_of_k[k_idx])  # eq. (6)
        # A requirement missed by far overflows exp to inf, and 1 / (1 + inf) = 0 is the exact limit.
        with np.errstate(over="ignore"):
            g_rate = 1.0 / (1.0 + np.exp(requirements["beta_qoe"] * (requirements["rate_req"] - rate)))  # eq. (8)
            g_acc = 1.0 / (1.0 + np.exp(requirements["lam"] * (requirements["accuracy_req"] - accuracy)))
        weight = requirements["weight"]
        return accuracy, rate, weight * g_rate + (1.0 - weight) * g_acc

    def queued_qoe(self, sinr_db: np.ndarray, silent: np.ndarray, k_idx: np.ndarray,
                   requirements: Mapping[str, np.ndarray], backlog: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Accuracy, semantic rate [suts/s], QoE and served units of each cell with bursty traffic.

        The slot serves ``s = min(backlog, S(k) T)`` of the ``backlog`` [suts] waiting at its start.
        QoE (eq. (8) with the rate satisfaction replaced by a delay satisfaction) is
        ``w g_d + (1 - w) g_a``: ``g_d = 1 / (1 + exp(nu (d - D)))`` with ``d = (backlog - s) / phi``
        the delay of what is left (Little's law at the mean rate ``phi``), ``D = delay_req_s`` and
        ``nu = delay_steepness_per_s``; ``g_a`` is eq. (8)'s accuracy satisfaction when the slot
        serves something and 1 when it serves nothing (no unit was delivered inaccurately). Arguments
        broadcast like :meth:`semantic_qoe`'s; ``requirements`` also needs nothing more than its.
        """
        c = self.config
        shape = np.broadcast_shapes(sinr_db.shape, k_idx.shape)
        sinr_db = sinr_db if sinr_db.shape == shape else np.broadcast_to(sinr_db, shape)
        accuracy = np.where(silent, 0.0, self._accuracy(k_idx, sinr_db))
        rate = np.where(silent, 0.0, self._rate_of_k[k_idx])
        served = np.minimum(backlog, rate * c.slot_s)
        delay = (backlog - served) / requirements["rate_req"]
        with np.errstate(over="ignore"):
            g_delay = 1.0 / (1.0 + np.exp(c.delay_steepness_per_s * (delay - c.delay_req_s)))
            g_acc = 1.0 / (1.0 + np.exp(requirements["lam"] * (requirements["accuracy_req"] - accuracy)))
        weight = requirements["weight"]
        return accuracy, rate, weight * g_delay + (1.0 - weight) * np.where(served > 0, g_acc, 1.0), served

    def _arrivals(self, state: State) -> np.ndarray:
        """(B, M) semantic units [suts] arriving for the coming slot: ``peak x phi x T`` from an ON source."""
        c = self.config
        return np.where(state["on"], c.traffic_peak_to_mean * c.slot_s * state["rate_req"].astype(np.float64), 0.0)

    def _delay_ratio(self, backlog: np.ndarray, state: State) -> np.ndarray:
        """Backlog as delay at the mean rate over the requirement, ``backlog / (phi D)``, capped at its bound."""
        return np.minimum(backlog / (state["rate_req"] * self.config.delay_req_s), self.delay_ratio_max)

    def objective(self, sum_qoe: np.ndarray, total_power_w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(configured reward, normalised EE) from the summed QoE and the total power (eq. (9))."""
        m = self.num_agents
        ee_normalised = sum_qoe * (self.p_tot_max / m) / total_power_w
        if self.config.reward == "ee":
            return ee_normalised, ee_normalised
        if self.config.reward == "ee_watts":
            return sum_qoe / total_power_w, ee_normalised
        return sum_qoe * (1.0 / m), ee_normalised

    def decode_global_state(self, global_state: np.ndarray) -> dict[str, np.ndarray]:
        """Physical quantities of a (B, *state_space.shape) global state, in SI units (float64).

        ``gain`` (B, M, M) is the channel the next action meets; ``prev_power`` [W] and ``prev_k``
        are the last slot's action; the requirement arrays are as in the state. Inverse of
        :meth:`global_state` up to float32 rounding (relative error ~1e-7).
        """
        gs = np.asarray(global_state, dtype=np.float64)
        b, m = gs.shape[0], self.num_agents
        blocks = gs[:, m * m:].reshape(b, -1, m)
        decoded = {name: blocks[:, i] * self._state_scale(name) for i, (name, _) in enumerate(_STATE_BLOCKS)}
        if self.config.queued:
            decoded["backlog"] = blocks[:, 7] * decoded["rate_req"] * self.config.delay_req_s
            decoded["on"] = blocks[:, 8] > 0.5
        decoded["prev_k"] = np.rint(decoded["prev_k"]).astype(np.int64)
        decoded["gain"] = float(self.noise_w) * 10.0 ** (gs[:, : m * m].reshape(b, m, m) * (STATE_GAIN_DB_SCALE / 10.0))
        return decoded

    def decode_observations(self, observations: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """(B, M) physical quantities of the agents' local observations (inverse of the obs scaling).

        ``prev_power`` [W], ``sinr_db``, ``qoe``, ``desired_w`` and ``interference_w`` of the slot
        just evaluated; powers that hit the observation's clip (30 dB below the noise) come back
        as that floor. With ``traffic="bursty"`` also the own queue (:meth:`_decode_queue_observations`).
        """
        obs = np.stack([np.asarray(observations[a], dtype=np.float64) for a in self.agents], axis=1)
        noise = float(self.noise_w)
        return {
            "prev_power": obs[..., 0] * self.p_max,
            "sinr_db": obs[..., 1] * OBS_DB_SCALE,
            "qoe": obs[..., 2],
            "desired_w": noise * 10.0 ** (obs[..., 3] * (OBS_DB_SCALE / 10.0)),
            "interference_w": noise * 10.0 ** (obs[..., 5] * (OBS_DB_SCALE / 10.0)),
            **self._decode_queue_observations(obs),
        }

    def _decode_queue_observations(self, obs: np.ndarray) -> dict[str, np.ndarray]:
        """traffic="bursty": ``backlog`` [suts], ``on``, ``accuracy_req`` and ``rate_req`` [suts/s] of the own UT."""
        if not self.config.queued:
            return {}
        rate_req = obs[..., 10] * _STATE_SCALES["rate_req"]
        return {"backlog": obs[..., 7] * rate_req * self.config.delay_req_s, "on": obs[..., 8] > 0.5,
                "accuracy_req": obs[..., 9], "rate_req": rate_req}

    def expected_requirements(self) -> dict[str, float]:
        """Means of the requirement distributions: what a BS assumes without its UT's draw."""
        c = self.config
        return {
            "rate_req": 1e3 * sum(c.rate_req_ksuts) / 2,
            "accuracy_req": sum(c.accuracy_req) / 2,
            "weight": sum(c.weight_range) / 2,
            "lam": c.lambda_mean,
            "beta_qoe": 1e-3 * c.beta_mean_per_ksuts,
        }

    @staticmethod
    def _gain(state: State) -> np.ndarray:
        """(B, M, M) channel gains ``h_jm = beta_jm |g_jm|^2`` (eq. (3)); fading holds (re, im)."""
        squared = np.square(state["fading"])
        return state["large_scale"] * (squared[:, 0] + squared[:, 1])

    # ----------------------------------------------------------- global view
    def global_state(self, state: State) -> np.ndarray:
        b, m = state["t"].shape[0], self.num_agents
        gain = self._gain(state)
        out = np.empty((b, *self.state_space.shape), dtype=np.float32)
        gain_db = np.clip(10.0 * np.log10(np.maximum(gain / self.noise_w, _TINY)), *STATE_GAIN_DB_RANGE)
        out[:, : m * m] = gain_db.reshape(b, m * m) / STATE_GAIN_DB_SCALE
        out[:, m * m: m * m + 7 * m] = np.concatenate([state[n] / self._state_scale(n) for n, _ in _STATE_BLOCKS], axis=1)
        if self.config.queued:
            out[:, m * m + 7 * m:] = np.concatenate([self._delay_ratio(state["backlog"], state), state["on"]], axis=1)
        return out

    def _state_scale(self, name: str) -> float:
        """Divisor of a per-cell block of the global state (``_STATE_BLOCKS``)."""
        scale = _STATE_SCALES[name]
        return self.p_max if scale is None else scale

    def render_rgb(self, state: State, infos: Mapping[str, np.ndarray] | None, index: int) -> np.ndarray:
        from semcom_envs.render import cell_map

        power = state["prev_power"][index] / self.p_max
        return cell_map(self.sites, state["ut_xy"][index], power, state["prev_k"][index], K_MAX,
                        self.config.cell_radius_m, title=f"{self.env_id}  slot {int(state['t'][index])}")


BENCHMARK_PRESETS: dict[str, dict[str, Any]] = {
    "benchmark": {**PRESETS["wide-area"], "p_max_dbm": 23.0, "carrier_hz": 2e9, "traffic": "bursty",
                  "backhaul_observations": True},
}
"""SemCom-MultiCell-v1's presets: the benchmark task (module docstring, "SemCom-MultiCell-v1")."""


class MultiCellV1(MultiCell):
    """SemCom-MultiCell-v1: the benchmark task, the same core at the ``benchmark`` preset (module docstring)."""

    env_id: ClassVar[str] = "SemCom-MultiCell-v1"
    pettingzoo_name: ClassVar[str] = "multicell_v1"
    presets: ClassVar[dict[str, dict[str, Any]]] = BENCHMARK_PRESETS
