"""SemCom-TaskOriented-v0: adaptable semantic compression and resource allocation under a strict delay.

Source: Liu, Guo, Yang and Jiang, "Adaptable Semantic Compression and Resource Allocation for
Task-Oriented Communications" (docs/scenarios.md); equation numbers such as (14e) are the paper's. The ASC
model: ``physics.semantics`` §2.

``U`` users (agents ``user_0 .. user_{U-1}``) send the semantic features of images to an edge
server for classification. Each user drops its least important features (adaptable semantic
compression, ratio ``o``) and the server shares the bandwidth ``B_max`` and power ``P_max`` among
the selected users. More compression needs fewer resources but lowers task accuracy ``eta(o)``;
less compression risks missing the deadline ``t0``. The objective is the (service-weighted) sum of
the users' success probabilities ``Phi_i = eta(o_i) P(t_i <= t0)``.

==================  =========================================================================
Action space        ``action_type="continuous"`` (default): ``Box(-1, 1, (3,))`` float32 per
                    user, ``u = (a + 1) / 2``: compression ``o = 0.99 u[0]``, bandwidth share
                    ``s_B = u[1]`` and power share ``s_P = u[2]``. ``"discrete"``:
                    ``MultiDiscrete([20, 5, 5])``: ``o = 0.05 i`` and shares ``j / 4``.
                    A user is selected (``beta_i = 1``) iff both shares exceed
                    ``select_threshold`` (default 0). The server gives each selected user the
                    minimum ``B_min``/``P_min`` and splits the rest in proportion to the
                    shares, so (14a)-(14g) hold for every action.
Observation space   ``Box(7,)`` float32 per user: ``[(gain_dB + 120) / 40, w_i, U / 64,
                    B_max / 30 MHz, P_max / 1 W, t0 / 10 ms, last slot's success probability]``.
State space         ``Box(2U,)`` float32: every user's gain feature and service weight.
Reward              per user ``w_i beta_i Phi_i``; team reward (joint view) their mean, i.e.
                    the objective ``Phi`` (eqs. (11)-(13)) divided by ``U``.
Starting state      user distances ``U[100, 1000] m`` and weights per episode; every slot a new
                    channel realisation ``h_i ~ N(0, delta_i^2)``.
Episode end         truncation after ``max_steps`` slots (default 20).
Infos               per user: ``success_prob``, ``eta``, ``delivery_prob``, ``data_bits``,
                    ``delay_s`` (of the realised channel), ``delivered`` (the realised delay met
                    the deadline), ``bandwidth_hz``, ``power_w``, ``selected``, ``compression``;
                    network: ``objective`` (``Phi``), ``bandwidth_used_hz``, ``power_used_w``.
==================  =========================================================================

Model: rate ``R = B log2(1 + |h| P / (N0 B))`` (6); data ``d = d0 (1 - o)``, delay
``t = d / R`` (7); delivery probability ``P(t <= t0) = 2 Q((2^(a (1 - o)) - 1) / (b delta))`` with
``a = d0 / (B t0)``, ``b = P / (N0 B)`` (8), computed in log space (``log_ndtr``, ``expm1``), so a
huge exponent gives 0, never an overflow; ``eta(o)`` is the ASC fit of ``physics.semantics`` §2 at
``asc_snr_db`` for the ``backbone``.

Codec (``codec``, ``physics.semantics`` §3): ``"asc"`` (default) is the paper's adaptable semantic
compression above. ``"se-sc"`` swaps in the scalable-extraction codec at *equal symbols*: the
compression ratio ``o`` sends ``L = L_tot (1 - o)`` of the ``L_tot = sesc_l_tot`` extracted features,
i.e. the same ``d0 (1 - o)`` bits as ASC, so the delivery probability, delays and the allocation
are unchanged; only the task success given delivery becomes
``eta = sesc_similarity(L, asc_snr_db, l_opt=sesc_l_opt, l_tot=sesc_l_tot)`` (``p = 0.5``): flat at
``s_max(asc_snr_db)`` for ``o <= 1 - L_opt / L_tot`` (semantic explicit region) and a concave fall
``sqrt(L / L_opt)`` beyond (semantic parsing region); ``backbone`` is then unused. Only the ratio
``L_opt / L_tot`` matters. Its default 0.51 (``L_tot = 100``, ``L_opt = 51``) reproduces the SE-SC paper's
reference pair: with Beta(2, 5) importances, raising the threshold mu from 0.2 to 0.3 cuts the
features sent from 0.655 to 0.420 ``L_tot`` (``features_for_threshold``, 23.5 % of the symbols;
the paper: about 23.7 %); the first lies in the explicit region, the second in the parsing region, and
the accuracy cost is ``1 - sqrt(0.420 / 0.51) = 9.3 %`` (the paper: about 9.5 %). So the explicit
region ends at ``o = 0.49``, inside the range the agents use, rather than at an arbitrary point.

Arguments (``gym.make("SemCom-TaskOriented-v0", **kwargs)``, SI units): ``preset`` (``"crra"``,
``"crraus"``), ``num_users`` (1..64), ``bandwidth_max_hz``, ``bandwidth_min_hz``, ``power_max_w``,
``power_min_dbm``, ``deadline_s``, ``data_bits`` (``d0``), ``distance_range_m``,
``path_loss_intercept_db``, ``path_loss_slope_db``, ``noise_dbm_per_hz``, ``backbone``
(``"resnet"``/``"vgg"``, ASC only), ``asc_snr_db``, ``service_levels``, ``action_type``,
``select_threshold``, ``max_steps``, ``codec`` (``"asc"``/``"se-sc"``), ``sesc_l_tot`` (``L_tot`` > 0,
default 100), ``sesc_l_opt`` (``L_opt`` in (0, ``L_tot``], default 51; both SE-SC only),
``channel_scale`` (``"sqrt-gain"``, v0's ``delta^2 = g``, or ``"gain"``, ``delta = g``) and
``compression_min`` (the smallest ``o`` an action maps to, in [0, 0.99); v0 0).

Calibration (``python -m semcom_envs.scenarios.task_oriented_calibration``): the printed
24.5 MB cannot meet a millisecond deadline, so ``d0`` and the distances are chosen so that, with
U = 10, ``P_max = 1 W``, ``t0 = 5 ms``, equal allocation and ``o = 0.8``, the mean delivery
probability is below 0.3 at ``B_max = 1 MHz``, above 0.8 at 30 MHz, and mid-transition (0.3-0.7)
at the default 20 MHz, where allocation matters most. With distances ``U[100, 1000] m``, path loss
``128.1 + 37.6 log10(d / 1 km)`` and ``delta^2`` = the large-scale gain, the script selects
``d0 = 1.2e6`` bits (measured: 0.000 at 1 MHz, 0.36 at 20 MHz, 0.994 at 30 MHz).

Choices the source leaves open: the reward uses the success *probability* (the paper's objective), while each
slot also draws a channel realisation for the ``delay_s``/``delivered`` infos; ``eta`` is evaluated
at the configured ``asc_snr_db`` (default 5 dB) rather than at each user's SNR, as the paper's
Table IV fits are per training SNR; the service weights are all 1 unless ``service_levels``
(preset ``"crraus"``), then drawn from {0.2, 0.4, 0.6, 0.8} per user and episode; bandwidths
are at least 1 Hz (``bandwidth_min_hz``, ``bandwidth_max_hz``): a narrower channel carries less than
a symbol per second, and at (sub)normal-underflow bandwidths ``N0 B`` underflows and the delay
``d / R`` of a weak user exceeds the largest float; where ``log2(1 + snr)`` rounds to 0 (``snr <
2^-53``) the rate (6) is its first-order term ``B snr log2(e)``
(:func:`semcom_envs.physics.radio.shannon_rate_positive`), so a weak user's delay stays finite.

Seeding: see :mod:`semcom_envs.streams`; a batch seeded with ``s`` runs copy ``i`` exactly like a
single environment seeded with ``s + i``.

SemCom-TaskOriented-v1, the benchmark task (:class:`TaskOrientedV1`, docs/benchmark-tasks.md): the
same core at the preset ``benchmark``. What changes, and why:

- ``channel_scale="gain"``: ``delta = g``, the large-scale *power* gain. In (6) ``h`` multiplies the
  transmit power, so it is a power gain, and Lemma 1's ``h ~ N(0, delta^2)`` puts ``delta`` on that
  scale: at ``|h| = delta`` the SNR is the link budget ``g P / (N0 B)``. v0's ``delta^2 = g`` gives
  ``delta = sqrt(g)``, 64 dB more than ``g`` at 1 km (``g = 1.5e-13``), hence 67-86 dB SNRs at which
  a 10x spread in distance changes the rate by 28% and equal resources are near optimal.
- ``data_bits = 147456``: the 512 x 3 x 3 float32 features of the last convolutional map of a 96 x 96
  STL-10 image (VGG-16 and ResNet-18/34 halve it five times: 96 / 32 = 3), what ASC compresses. (v0's
  1.2e6 bits was calibrated to v0's 67-86 dB SNRs.)
- ``power_max_w = 0.01``: 0 dBm per user on average, each on 2 MHz at equal shares: the operating
  point of the low-power IoT radios (IEEE 802.15.4, Bluetooth LE: 0 dBm typical, 2 MHz channels). The
  link budget of the 100-1000 m users then spans -17 to +20 dB SNR at equal resources (noise -111 dBm
  in 2 MHz, path loss 90.5-128.1 dB), so who gets the bandwidth and power decides who meets the
  deadline. (At v0's 1 W the same users sit at +3 to +40 dB and equal resources with the best ``o``,
  ``fra``, come within a few per cent of ``crra``: ``benchmarks/task_oriented_task_study.py``.)
- ``compression_min = 0.01``: (14e) is strict (``0 < o < 1``); the actions map to ``o`` in
  ``[0.01, 0.99]`` (continuous ``0.01 + 0.98 u[0]``, discrete ``max(0.05 i, 0.01)``), so ``o = 0`` is
  unreachable, and :meth:`TaskOriented.encode_allocation` rejects a selected user's ``o`` outside
  that range naming the user. v0 keeps its action map (its Box reaches ``o = 0``, as v0's range
  ``[0, 0.99]`` allows; rejecting a valid Box action would break its action space).
- ``service_levels=True``: the source's general setting (CRRAUS), weights from {0.2, 0.4, 0.6, 0.8};
  the primary metric is ``weighted_success``, ``Phi / U``: the team reward and what ``crra`` and
  ``crraus`` maximise (v0's ``success_prob`` ignores the weights).

Version history: v0, first release (the source's model, delta^2 = g); v1, the benchmark task (preset
``benchmark``, above). The fields v1 added (``channel_scale``, ``compression_min``) keep v0's
dynamics at their defaults: v0's trajectories are unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import gymnasium
import numpy as np
from numpy.typing import NDArray
from scipy.special import log_ndtr

from semcom_envs import streams
from semcom_envs.api.core import AgentArrays, BatchedScenario, State, Transition
from semcom_envs.config import Choice, Flag, Integer, Interval, Real, Text, check_less, param, validate_fields
from semcom_envs.physics import radio, semantics

MAX_USERS = 64
O_MAX = 0.99
SERVICE_LEVELS = np.array([0.2, 0.4, 0.6, 0.8])
GAIN_FEATURE = radio.DbFeature(low_db=-280.0, high_db=40.0, offset_db=120.0, scale_db=40.0)
DISCRETE_O_LEVELS, DISCRETE_SHARE_LEVELS = 20, 5
_LOG_X_MAX = 700.0
"""exp() of larger values overflows: the delivery probability there is 0 anyway."""

_D_POSITION, _D_WEIGHT, _D_FADING = range(3)


@dataclasses.dataclass(frozen=True)
class TaskOrientedConfig:
    """Validated configuration of SemCom-TaskOriented-v0 (allowed values: ``docs/configuration.md``)."""

    preset: str = param("crra", Text(), "named defaults: `crra`, `crraus`")
    num_users: int = param(10, Integer(1, MAX_USERS), "users U (agents)")
    bandwidth_max_hz: float = param(20e6, Real(1, 1e11), "server bandwidth B_max [Hz] (>= 1 Hz: see bandwidth_min_hz)")
    bandwidth_min_hz: float = param(1e4, Real(1, 1e11), "bandwidth of a selected user at least [Hz] "
                                    "(<= bandwidth_max_hz / num_users; >= 1 Hz: narrower channels carry under a "
                                    "symbol per second, and below ~1e-290 Hz the delay d / R exceeds every float)")
    power_max_w: float = param(1.0, Real(0, 1e4, low_open=True), "total transmit power P_max [W]")
    power_min_dbm: float = param(-20.0, Real(-200.0, 70.0), "power of a selected user at least [dBm] "
                                 "(<= power_max_w / num_users)")
    deadline_s: float = param(5e-3, Real(0, 1e4, low_open=True), "delay bound t0 [s]")
    data_bits: float = param(1.2e6, Real(0, 1e15, low_open=True), "uncompressed data size d0 [bit]")
    distance_range_m: tuple[float, float] = param((100.0, 1000.0), Interval(1.0, 1e5), "user distance range [m]")
    path_loss_intercept_db: float = param(128.1, Real(0, 300), "path loss at 1 km [dB]")
    path_loss_slope_db: float = param(37.6, Real(0, 100), "path-loss slope [dB per decade of distance]")
    noise_dbm_per_hz: float = param(-174.0, Real(-250, 0), "noise power spectral density [dBm/Hz]")
    backbone: str = param("resnet", Choice(("resnet", "vgg")), "ASC backbone (its accuracy curve)")
    asc_snr_db: float = param(5.0, Real(-50, 50), "training SNR of the ASC accuracy curve [dB]")
    service_levels: bool = param(False, Flag(), "service weights drawn from {0.2, 0.4, 0.6, 0.8} (CRRAUS)")
    action_type: str = param("continuous", Choice(("continuous", "discrete")), "`Box(-1, 1, (3,))` or `MultiDiscrete`")
    select_threshold: float = param(0.0, Real(0.0, 1.0, high_open=True), "a user is selected if its first action > this")
    max_steps: int = param(20, Integer(1), "slots per episode (truncation)")
    codec: str = param("asc", Choice(("asc", "se-sc")), "semantic codec")
    sesc_l_tot: float = param(100.0, Real(0, 1e9, low_open=True), "SE-SC extracted features L_tot")
    sesc_l_opt: float = param(51.0, Real(0, 1e9, low_open=True), "SE-SC explicit-region size L_opt (<= sesc_l_tot)")
    channel_scale: str = param("sqrt-gain", Choice(("sqrt-gain", "gain")),
                               "std delta of h ~ N(0, delta^2) (eq. (8)) from the large-scale power gain g: "
                               "`sqrt-gain` delta^2 = g (v0), `gain` delta = g (v1: h multiplies P in (6), a power gain)")
    compression_min: float = param(0.0, Real(0.0, O_MAX, high_open=True),
                                   "smallest compression ratio o an action maps to (v1: 0.01, (14e) o > 0)")

    def __post_init__(self) -> None:
        validate_fields(self)
        check_less("bandwidth_min_hz", self.bandwidth_min_hz, "bandwidth_max_hz / num_users",
                   self.bandwidth_max_hz / self.num_users, why="every user must be able to get its minimum bandwidth")
        check_less("power_min_dbm", self.power_min_dbm, "power_max_w / num_users in dBm",
                   float(radio.watts_to_dbm(self.power_max_w / self.num_users)),
                   why="every user must be able to get its minimum power")
        check_less("sesc_l_opt", self.sesc_l_opt, "sesc_l_tot", self.sesc_l_tot)

    @property
    def power_min_w(self) -> float:
        """``P_min`` in watts (14g)."""
        return float(radio.dbm_to_watts(self.power_min_dbm))


PRESETS: dict[str, dict[str, Any]] = {"crra": {}, "crraus": {"service_levels": True}}


class TaskOriented(BatchedScenario):
    """Batched core of SemCom-TaskOriented-v0 (documentation: the module docstring)."""

    env_id: ClassVar[str] = "SemCom-TaskOriented-v0"
    pettingzoo_name: ClassVar[str] = "task_oriented_v0"
    config_class: ClassVar[type] = TaskOrientedConfig
    presets: ClassVar[dict[str, dict[str, Any]]] = PRESETS
    size_field: ClassVar[str] = "num_users"
    metrics: ClassVar[dict[str, str]] = {
        "success_prob": "mean success probability over users (unselected users count 0)",
        "objective": "service-weighted sum of success probabilities, Phi (eq. (13))",
        "delivery_prob": "mean delivery probability P(t <= t0) of the selected users",
        "eta": "mean task success given delivery of the selected users",
        "selected": "share of users selected",
    }
    primary_metric: ClassVar[str] = "success_prob"
    higher_is_better: ClassVar[bool] = True

    def __init__(self, config: TaskOrientedConfig | None = None, **kwargs: Any) -> None:
        self.config = self._configure(config, kwargs)
        c = self.config
        u = c.num_users
        self.num_agents = u
        self.agents = tuple(f"user_{i}" for i in range(u))
        self.noise_psd_w = float(radio.dbm_to_watts(c.noise_dbm_per_hz))
        self.action_labels = ("compression", "bandwidth share", "power share")
        if c.action_type == "continuous":
            self._act_space: gymnasium.Space = gymnasium.spaces.Box(-1.0, 1.0, (3,), dtype=np.float32)
        else:
            self.action_nvec = np.array([DISCRETE_O_LEVELS, DISCRETE_SHARE_LEVELS, DISCRETE_SHARE_LEVELS], dtype=np.int64)
            self._act_space = gymnasium.spaces.MultiDiscrete(self.action_nvec)
        g_lo, g_hi = GAIN_FEATURE.bounds
        self._obs_space = gymnasium.spaces.Box(np.array([g_lo, 0, 0, 0, 0, 0, 0], dtype=np.float32),
                                               np.array([g_hi, 1, 1, 1e4, 1e4, 1e6, 1], dtype=np.float32), dtype=np.float32)
        self.state_space = gymnasium.spaces.Box(np.concatenate([np.full(u, g_lo), np.zeros(u)]).astype(np.float32),
                                                np.concatenate([np.full(u, g_hi), np.ones(u)]).astype(np.float32),
                                                dtype=np.float32)

    # ---------------------------------------------------------------- physics
    def channel_variance(self, gain: np.ndarray) -> np.ndarray:
        """``delta^2`` of ``h ~ N(0, delta^2)`` for large-scale power gains ``g`` (``channel_scale``)."""
        return gain if self.config.channel_scale == "sqrt-gain" else np.square(gain)

    def channel_variance_at(self, distance_m: np.ndarray) -> np.ndarray:
        """``delta^2`` of users at ``distance_m`` metres: the configured path loss as a power gain, then
        :meth:`channel_variance` (what :meth:`reset` draws; studies placing users otherwise call it too)."""
        c = self.config
        gain = radio.db_to_linear(-radio.path_loss_db(distance_m, c.path_loss_intercept_db, c.path_loss_slope_db))
        return self.channel_variance(gain)

    def large_scale_gain(self, delta2: np.ndarray) -> np.ndarray:
        """The large-scale power gain ``g`` behind ``delta^2`` (inverse of :meth:`channel_variance`)."""
        return delta2 if self.config.channel_scale == "sqrt-gain" else np.sqrt(delta2)

    def delivery_probability(self, o: np.ndarray, bandwidth_hz: np.ndarray, power_w: np.ndarray,
                             delta2: np.ndarray) -> np.ndarray:
        """``P(t <= t0) = 2 Q((2^(a (1 - o)) - 1) / (b delta))`` (eq. (8)), in log space: never overflows."""
        c = self.config
        b = np.asarray(power_w, dtype=np.float64) / (self.noise_psd_w * np.asarray(bandwidth_hz, dtype=np.float64))
        # The exponent may overflow to inf (then the probability is 0), and np.where evaluates both
        # branches: the asymptote's log1p(-1) at exponents the other branch serves is discarded.
        with np.errstate(over="ignore", divide="ignore"):
            exponent = np.log(2.0) * c.data_bits * (1.0 - np.asarray(o, dtype=np.float64)) / (np.asarray(bandwidth_hz) * c.deadline_s)
            # log(2^e - 1) = e + log(1 - 2^-e): expm1 for small exponents, the asymptote for large ones.
            log_numerator = np.where(exponent > 30.0, exponent + np.log1p(-np.exp(-np.minimum(exponent, 700.0))),
                                     np.log(np.expm1(np.clip(exponent, 1e-300, 30.0))))
        log_x = log_numerator - np.log(b) - 0.5 * np.log(np.asarray(delta2, dtype=np.float64))
        x = np.exp(np.minimum(log_x, _LOG_X_MAX))
        return np.minimum(2.0 * np.exp(log_ndtr(-x)), 1.0)

    def task_success(self, o: np.ndarray) -> np.ndarray:
        """Task success given delivery at compression ``o``: ASC ``eta(o)`` or SE-SC at ``L = L_tot (1 - o)``."""
        c = self.config
        o = np.asarray(o, dtype=np.float64)
        if c.codec == "se-sc":  # physics.semantics §3 at equal symbols: the same d0 (1 - o) bits as ASC
            features = np.clip(c.sesc_l_tot * (1.0 - o), 0.0, c.sesc_l_tot)
            return semantics.sesc_similarity(features, c.asc_snr_db, l_opt=c.sesc_l_opt, l_tot=c.sesc_l_tot)
        return semantics.asc_task_success(o, c.asc_snr_db, c.backbone)

    def success(self, o: np.ndarray, bandwidth_hz: np.ndarray, power_w: np.ndarray, delta2: np.ndarray) -> dict[str, np.ndarray]:
        """``eta``, ``delivery_prob``, ``success_prob``, ``data_bits`` and the delay at ``|h| = delta``."""
        c = self.config
        o = np.asarray(o, dtype=np.float64)
        eta = self.task_success(o)
        delivery = self.delivery_probability(o, bandwidth_hz, power_w, delta2)
        data = c.data_bits * (1.0 - o)
        return {"eta": eta, "delivery_prob": delivery, "success_prob": eta * delivery, "data_bits": data,
                "delay_s": self.delay_s(data, bandwidth_hz, power_w, np.sqrt(delta2))}

    def delay_s(self, data_bits: np.ndarray, bandwidth_hz: np.ndarray, power_w: np.ndarray, h: np.ndarray) -> np.ndarray:
        """The delay ``t = d / R`` (7) of ``data_bits`` at rate (6) ``R = B log2(1 + h P / (N0 B))`` for channel
        power gain ``h``: finite wherever ``B >= 1 Hz`` and ``h > 0`` (:func:`radio.shannon_rate_positive`)."""
        return data_bits / radio.shannon_rate_positive(bandwidth_hz, h * power_w / (self.noise_psd_w * bandwidth_hz))

    def requesting(self, share_b: np.ndarray, share_p: np.ndarray, eligible: np.ndarray | None = None) -> np.ndarray:
        """The users the server serves: both shares above ``select_threshold``, among the ``eligible`` (default all)."""
        t = self.config.select_threshold
        selected = (share_b > t) & (share_p > t)
        return selected if eligible is None else selected & eligible

    def allocate(self, o: np.ndarray, share_b: np.ndarray, share_p: np.ndarray,
                 eligible: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """The server's allocation: minimums for the selected users, the rest in proportion to the shares.

        ``eligible`` (``(B, U)`` bool, default all): users the server may serve; the others' requests are ignored
        (SemCom-TaskOriented-v2: a user without an image waiting)."""
        c = self.config
        selected = self.requesting(share_b, share_p, eligible)
        count = selected.sum(axis=-1, keepdims=True)

        def split(share: np.ndarray, total: float, minimum: float) -> np.ndarray:
            weights = np.where(selected, share, 0.0)
            norm = weights.sum(axis=-1, keepdims=True)
            spare = np.maximum(total - count * minimum, 0.0)
            return np.where(selected, minimum + spare * weights / np.where(norm > 0, norm, 1.0), 0.0)

        return {"compression": np.where(selected, o, 0.0), "bandwidth_hz": split(share_b, c.bandwidth_max_hz, c.bandwidth_min_hz),
                "power_w": split(share_p, c.power_max_w, c.power_min_w), "selected": selected}

    def decode_actions(self, actions: Mapping[str, np.ndarray], eligible: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Validated actions as the allocation they make the server apply, each ``(B, U)`` (``eligible``: see
        :meth:`allocate`).

        Compression: continuous ``o = o_min + (0.99 - o_min) u[0]``, discrete ``max(0.05 i, o_min)``
        (``o_min = compression_min``; at 0, v0's maps ``0.99 u[0]`` and ``0.05 i`` exactly).
        """
        a = self.stack_actions(actions)
        o_min = self.config.compression_min
        if self.config.action_type == "continuous":
            u = 0.5 * (a + 1.0)
            return self.allocate(o_min + (O_MAX - o_min) * u[..., 0], u[..., 1], u[..., 2], eligible)
        return self.allocate(np.maximum(0.05 * a[..., 0], o_min), a[..., 1] / (DISCRETE_SHARE_LEVELS - 1),
                             a[..., 2] / (DISCRETE_SHARE_LEVELS - 1), eligible)

    def encode_allocation(self, o: np.ndarray, bandwidth_hz: np.ndarray, power_w: np.ndarray,
                          selected: np.ndarray) -> AgentArrays:
        """Per-agent actions that make the server apply ``(o, B, P)`` for the ``selected`` users ``(B, U)``.

        Exact in the continuous variant whenever the allocation respects (14a)-(14g) and uses the
        whole budgets; the discrete variant rounds to the nearest representable levels. A selected
        user's ``o`` outside ``[compression_min, 0.99]`` raises a ``ValueError`` naming the user
        ((14e): no action maps to it); unselected users' ``o`` is ignored.
        """
        c = self.config
        selected = np.asarray(selected, dtype=bool)
        o = np.broadcast_to(np.asarray(o, dtype=np.float64), selected.shape)
        bad = selected & ~((o >= c.compression_min) & (o <= O_MAX))
        if bad.any():
            copy, user = (int(v) for v in np.argwhere(bad)[0])
            raise ValueError(f"{self.agents[user]} (copy {copy}): compression ratio o = {o[copy, user]!r} is outside "
                             f"[{c.compression_min}, {O_MAX}] (compression_min; (14e) needs o > 0)")
        share_b = np.where(selected, np.asarray(bandwidth_hz) - c.bandwidth_min_hz, 0.0)
        share_p = np.where(selected, np.asarray(power_w) - c.power_min_w, 0.0)
        share_b = share_b / np.maximum(share_b.max(axis=-1, keepdims=True), 1e-300)
        share_p = share_p / np.maximum(share_p.max(axis=-1, keepdims=True), 1e-300)
        return self.encode_shares(o, share_b, share_p, selected)

    def encode_shares(self, o: np.ndarray, share_b: np.ndarray, share_p: np.ndarray, selected: np.ndarray) -> AgentArrays:
        """Per-agent actions requesting the shares ``share_b``, ``share_p`` in ``[0, 1]`` (of the spare budgets, split
        in proportion among the selected users) at compression ``o``; each user's action depends on its own
        arguments only. Shares of selected users are raised to just above ``select_threshold``; the discrete
        variant rounds up to the share levels and to the nearest ``o`` level."""
        c = self.config
        selected = np.asarray(selected, dtype=bool)
        o = np.broadcast_to(np.asarray(o, dtype=np.float64), selected.shape)
        # A selected user at exactly the minimum needs a share just above the threshold.
        tiny = c.select_threshold + 1e-6
        share_b = np.where(selected, np.maximum(share_b, tiny), 0.0)
        share_p = np.where(selected, np.maximum(share_p, tiny), 0.0)
        o = np.clip(o, c.compression_min, O_MAX)
        if c.action_type == "continuous":
            a = np.stack([(o - c.compression_min) / (O_MAX - c.compression_min), share_b, share_p], axis=-1) * 2.0 - 1.0
            return {agent: a[:, i].astype(np.float32) for i, agent in enumerate(self.agents)}
        levels = DISCRETE_SHARE_LEVELS - 1
        a = np.stack([np.clip(np.rint(o / 0.05), 0, DISCRETE_O_LEVELS - 1),
                      np.where(selected, np.clip(np.ceil(share_b * levels - 1e-9), 1, levels), 0),
                      np.where(selected, np.clip(np.ceil(share_p * levels - 1e-9), 1, levels), 0)], axis=-1).astype(np.int64)
        return {agent: a[:, i] for i, agent in enumerate(self.agents)}

    # ------------------------------------------------------------------ reset
    def reset(self, keys: NDArray[np.uint64]) -> tuple[State, AgentArrays]:
        state = self.initial_state(keys)
        return state, self._observe(state)

    def initial_state(self, keys: NDArray[np.uint64]) -> State:
        """The state at slot 0: distances, large-scale gains and weights per episode (what :meth:`reset` observes)."""
        c, u = self.config, self.num_agents
        b = keys.shape[0]
        t0 = np.zeros(b, dtype=np.int64)
        lo, hi = c.distance_range_m
        distance = lo + (hi - lo) * streams.uniforms(keys, t0, _D_POSITION, (u + 1) // 2)[:, :u]
        delta2 = self.channel_variance_at(distance)
        if c.service_levels:
            pick = streams.uniforms(keys, t0, _D_WEIGHT, (u + 1) // 2)[:, :u]
            weight = SERVICE_LEVELS[np.minimum((pick * len(SERVICE_LEVELS)).astype(np.int64), len(SERVICE_LEVELS) - 1)]
        else:
            weight = np.ones((b, u))
        return {"key": keys.copy(), "t": t0, "distance_m": distance, "delta2": delta2, "weight": weight,
                "last_success": np.zeros((b, u))}

    # ------------------------------------------------------------------- step
    def step(self, state: State, actions: Mapping[str, np.ndarray]) -> Transition:
        c = self.config
        alloc = self.decode_actions(actions)
        if alloc["selected"].shape[0] != state["t"].shape[0]:
            raise ValueError(f"actions have batch size {alloc['selected'].shape[0]}, the state {state['t'].shape[0]}")
        sel = alloc["selected"]
        # Unselected users get placeholders (1 Hz, 1 W) only to keep the arithmetic finite; they are masked.
        bw, pw = np.where(sel, alloc["bandwidth_hz"], 1.0), np.where(sel, alloc["power_w"], 1.0)
        out = self.success(alloc["compression"], bw, pw, state["delta2"])
        success = np.where(sel, out["success_prob"], 0.0)
        reward = state["weight"] * success  # eq. (11)-(13): w_i beta_i Phi_i
        # The slot's channel realisation h ~ N(0, delta^2) (block fading) for the realised delay.
        n = streams.normals(state["key"], state["t"] + 1, _D_FADING, self.num_agents)
        h = np.abs(n) * np.sqrt(state["delta2"])
        delay = np.where(sel, self.delay_s(out["data_bits"], bw, pw, h), np.inf)  # h > 0: |n| > 0 for Box-Muller normals
        next_t = state["t"] + 1
        new_state = {**state, "t": next_t, "last_success": success}
        truncated = next_t >= c.max_steps
        terminated = np.zeros(truncated.shape, dtype=bool)
        infos = {
            "success_prob": success, "eta": np.where(sel, out["eta"], 0.0), "delivery_prob": np.where(sel, out["delivery_prob"], 0.0),
            "data_bits": np.where(sel, out["data_bits"], 0.0), "delay_s": np.where(sel, delay, 0.0),
            "delivered": sel & (delay <= c.deadline_s), "bandwidth_hz": alloc["bandwidth_hz"], "power_w": alloc["power_w"],
            "selected": sel, "compression": alloc["compression"], "objective": reward.sum(axis=1),
            "bandwidth_used_hz": alloc["bandwidth_hz"].sum(axis=1), "power_used_w": alloc["power_w"].sum(axis=1),
        }
        return Transition(new_state, self._observe(new_state), {a: reward[:, i] for i, a in enumerate(self.agents)},
                          {a: terminated for a in self.agents}, {a: truncated for a in self.agents}, infos)

    def step_metrics(self, team_reward: np.ndarray, infos: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        sel = infos["selected"]
        count = np.maximum(sel.sum(axis=1), 1)
        return {"success_prob": infos["success_prob"].mean(axis=1), "objective": infos["objective"],
                "delivery_prob": infos["delivery_prob"].sum(axis=1) / count, "eta": infos["eta"].sum(axis=1) / count,
                "selected": sel.mean(axis=1)}

    # ------------------------------------------------------------ observation
    def _observe(self, state: State) -> AgentArrays:
        c, u = self.config, self.num_agents
        obs = np.empty((state["t"].shape[0], u, 7), dtype=np.float32)
        obs[..., 0] = GAIN_FEATURE.encode(self.large_scale_gain(state["delta2"]))
        obs[..., 1] = state["weight"]
        obs[..., 2] = u / MAX_USERS
        obs[..., 3] = c.bandwidth_max_hz / 30e6
        obs[..., 4] = c.power_max_w
        obs[..., 5] = c.deadline_s / 1e-2
        obs[..., 6] = state["last_success"]
        return {a: obs[:, i] for i, a in enumerate(self.agents)}

    def render_rgb(self, state: State, infos: Mapping[str, np.ndarray] | None, index: int) -> np.ndarray:
        from semcom_envs.render import grouped_bars

        c = self.config
        title = f"{self.env_id}  slot {int(state['t'][index])}"
        if infos is None:
            return grouped_bars(self.agents, {"service weight": state["weight"][index]}, title)
        return grouped_bars(self.agents, {
            "compression o": infos["compression"][index],
            "bandwidth / B_max": infos["bandwidth_hz"][index] / c.bandwidth_max_hz,
            "power / P_max": infos["power_w"][index] / c.power_max_w,
            "success probability": infos["success_prob"][index],
        }, title)

    def global_state(self, state: State) -> np.ndarray:
        return np.concatenate([GAIN_FEATURE.encode(self.large_scale_gain(state["delta2"])), state["weight"]],
                              axis=1).astype(np.float32)

    def decode_global_state(self, global_state: np.ndarray) -> dict[str, np.ndarray]:
        """``delta2`` (linear large-scale gains, float32 rounding) and ``weight`` of a ``(B, 2U)`` global state."""
        gs = np.asarray(global_state, dtype=np.float64)
        u = self.num_agents
        return {"delta2": self.channel_variance(GAIN_FEATURE.decode(gs[:, :u])), "weight": gs[:, u:]}

    def decode_observation(self, observation: np.ndarray) -> dict[str, np.ndarray]:
        """``delta2`` and ``weight`` of the users' own observations ``(B, U, 7)`` (what a local policy knows)."""
        obs = np.asarray(observation, dtype=np.float64)
        return {"delta2": self.channel_variance(GAIN_FEATURE.decode(obs[..., 0])), "weight": obs[..., 1]}


BENCHMARK_PRESETS: dict[str, dict[str, Any]] = {
    "benchmark": {"channel_scale": "gain", "compression_min": 0.01, "power_max_w": 0.01, "data_bits": 147456.0,
                  "service_levels": True},
}
"""SemCom-TaskOriented-v1's presets: the benchmark task (module docstring, "SemCom-TaskOriented-v1")."""


class TaskOrientedV1(TaskOriented):
    """SemCom-TaskOriented-v1: the benchmark task, the same core at the ``benchmark`` preset (module docstring).

    Its primary metric is ``weighted_success``, ``(1/U) sum_i beta_i w_i Phi_i``: the agents' team
    reward and the objective (13) that ``crra``/``crraus`` maximise (v0 ranks by the unweighted
    ``success_prob``, which differs from both when the service weights are drawn).
    """

    env_id: ClassVar[str] = "SemCom-TaskOriented-v1"
    pettingzoo_name: ClassVar[str] = "task_oriented_v1"
    presets: ClassVar[dict[str, dict[str, Any]]] = BENCHMARK_PRESETS
    metrics: ClassVar[dict[str, str]] = {
        "weighted_success": "service-weighted mean success probability (1/U) sum_i beta_i w_i Phi_i: the team reward",
        **TaskOriented.metrics,
    }
    primary_metric: ClassVar[str] = "weighted_success"

    def step_metrics(self, team_reward: np.ndarray, infos: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"weighted_success": infos["objective"] / self.num_agents, **super().step_metrics(team_reward, infos)}
