"""SemCom-IoTAuction-v0: an energy auction in a wireless-powered semantic IoT network.

Source: the energy-auction case study of a magazine article on edge-driven semantic communication
(what our copy holds of it: docs/scenarios.md). The semantic models: ``physics.semantics`` §1 and §4.

A hybrid access point (HAP) transfers energy wirelessly to one IoT device per slot. Each device
(agent ``iot_0 .. iot_{N-1}``) bids for the slot's energy; the HAP's mechanism (part of the
config, not an agent) picks the winner and its price. The winner harvests energy for the first
``tau`` of the slot and spends it sending DeepSC features of its queued text for the rest; it
encodes with the largest feature dimension ``d <= 16`` its bits allow. A device's value for the
slot is what that dimension is worth semantically (similarity and BLEU at its uplink SNR), times a
private urgency.

==================  =========================================================================
Action space        ``Box(-1, 1, (1,))`` float32 per agent: the normalised bid, ``b = (a + 1) / 2
                    bid_max`` in ``[0, bid_max]`` (:meth:`IoTAuction.bids_to_actions` and
                    ``actions_to_bids`` convert). Normalised, because Gymnasium's and SB3's
                    ``check_env`` ask for it and Gaussian policies start centred. Actions
                    outside the box or NaN raise; nothing is clipped. Infos report the bid.
Observation space   ``Box(5,)`` float32 per agent: ``[v_i, (h_i,dB + 75) / 25, d_i* / 16,
                    last clearing price, won last slot]``; ``h_i`` is this slot's channel gain
                    to the HAP (clipped to [-175, 25] dB), ``d_i*`` the dimension the device would
                    reach if it won this slot. At an episode start the last-slot features are 0.
State space         ``Box(3N + 1 + N,)`` float32: all values, gain features, ``d*/16``, the last
                    price and the last winner (one-hot).
Reward              per agent: utility ``(v_i - price) 1[i wins]``. Team reward (joint
                    view): the mean utility.
Starting state      device distances ``U[2, 10] m`` per episode; fading, urgencies (and, for the
                    textbook valuations, values) drawn i.i.d. every slot.
Episode end         truncation after ``max_steps`` slots (default 100); never terminates.
Infos               per agent: ``value``, ``bid``, ``won``, ``utility``; network: ``revenue``
                    (the HAP's, = price), ``winner`` (-1: no sale), ``harvested_energy_j``,
                    ``bits_sent``, ``feature_dim``, ``similarity``, ``bleu`` (of the winner;
                    0 without sale), ``winner_value``.
==================  =========================================================================

Model: ``h_i = c0 d_i^-alpha |g_i|^2`` (Rayleigh), harvested energy ``E = eta P_HAP h tau``,
transmit power ``p = E / ((1 - tau) T)``, bits ``D = (1 - tau) T B log2(1 + p h / (N0 B))``, feature
dimension ``d* = min(16, floor(D / (n_words q n_sentences)))``; similarity ``xi(d*, snr)`` from the
DeepSC table and BLEU from the stand-in of ``physics.semantics`` §4 (a stand-in: no measured BLEU table
exists), both 0 when ``d* = 0``.

Valuations (config ``valuation``): ``"semantic"`` ``value_scale (lambda sim + (1 - lambda) bleu) u``
with urgency ``u ~ U[0.5, 1.5]``; ``"uniform"`` i.i.d. ``U[0, value_scale]``; ``"exponential"``
i.i.d. ``Exp(exponential_mean)`` (bounded by the stream's resolution at ``16.6`` means). The
textbook valuations ignore the channel: they are the test oracles with known optimal revenue.

Mechanisms (config ``mechanism``): ``"second_price"``, ``"first_price"``, ``"myerson"`` (see
:mod:`semcom_envs.auctions`; for ``"semantic"`` valuations it uses the ex-ante marginal value
distribution, estimated once from 200,000 sampled device-slots, as if values were i.i.d.: within an
episode they are correlated through the fixed distances, so it is then a strong heuristic, not the
optimum), ``"neural"`` (a trained MyersonNet, :mod:`semcom_envs.myersonnet`; ``neural_checkpoint``
names a shipped checkpoint or a ``.npz`` path, default ``"<valuation>_n<N>"``), ``"second_price_reserve"``
(second price with the optimal reserve ``r*``, the zero of the same marginal distribution's virtual value).

Arguments: ``num_devices`` (1..64), ``valuation``, ``mechanism``, ``neural_checkpoint``,
``value_scale``, ``similarity_weight`` (lambda), ``urgency_range``, ``exponential_mean``,
``bid_max`` (default: 2 ``value_scale``, or the exponential's largest value), ``distance_range_m``,
``path_loss_exponent``, ``path_loss_db_at_1m``, ``hap_power_w``, ``charge_fraction`` (tau),
``slot_s``, ``harvest_efficiency``, ``bandwidth_hz``, ``noise_dbm_per_hz``, ``words_per_sentence``,
``bits_per_feature``, ``sentences``, ``max_feature_dim``, ``max_steps``, ``accuracy_interp``,
``accuracy_model``.

Choices the source leaves open: ties go to the lowest device index; a device whose bits cannot carry even
``d = 1`` has value 0 under ``"semantic"``; the uplink SNR is clipped to the DeepSC table's
[-10, 20] dB (``physics.semantics`` §1).

Seeding: see :mod:`semcom_envs.streams`; a batch seeded with ``s`` runs copy ``i`` exactly like a
single environment seeded with ``s + i``.

SemCom-IoTAuction-v1, the benchmark task (docs/benchmark-tasks.md): the same core at the preset
``benchmark`` (:data:`BENCHMARK_PRESETS`), ranked by the bidders' own objective.

- Mechanism ``first_price``: under the v0 default (second price) truthful bidding is dominant, so a
  bidding benchmark there has no headroom; under first price the best bid depends on the others'.
  The bidders' reward stays their utility.
- Primary metric ``regret`` (lower is better; :meth:`IoTAuctionV1.regret`): per slot, the mean over
  devices of ``max_g u_i(g, b_-i) - u_i(b)``, the utility a device would gain by its best unilateral
  deviation against the others' actual bids, over a grid of 256 bids on ``[0, bid_max]`` plus its own
  bid, with the configured mechanism (one vectorised mechanism call). 0 is an ex-post equilibrium.
  Infos add ``regret`` per device; metrics add ``welfare`` (the winner's value) and ``efficiency``
  (the winner's value over the highest value; 1 where every value is 0).
- A link budget where the semantic valuation binds. In v0 the winner sends 1e6-1e7 bits and d = 16
  needs 4,096, so d* = 16 in 99.96 % of device-slots. The preset: an NB-IoT single-tone uplink
  (3GPP Rel-13 NB-IoT, 15 kHz subcarrier: the mode for power-limited devices at the coverage edge),
  ``bandwidth_hz = 15e3``, noise -174 dBm/Hz plus a 5 dB noise figure (``noise_dbm_per_hz = -169``);
  a 915 MHz HAP at ``hap_power_w = 4`` (36 dBm EIRP, the FCC Part 15 limit in the 902-928 MHz ISM
  band); indoor obstructed propagation, ``path_loss_exponent = 2.7`` with 30 dB at 1 m (free space at
  915 MHz: 31.7 dB), ``distance_range_m = (2, 15)``; ``harvest_efficiency = 0.3`` (RF-DC efficiency
  of rectifiers at -10 to -25 dBm input, where these devices harvest); a backlog of ``sentences = 120``
  sentences per 1 s slot (32 words, 8-bit features: 30,720 bits per feature dimension). Measured over
  200,000 device-slots: d* takes every value 0..7 (0: 2.3 %, 2: 20 %, 3: 31 %, 4: 22 %, 5: 12 %,
  6-7: 5 %), the uplink SNR's 5-95 % range is 19-74 dB; the value quantiles 5/50/95 % are
  0.25/0.75/1.31 (v0: 0.97 x U[0.5, 1.5]).
- ``bid_max = 1.5`` (the largest value): a higher bid is dominated under every individually rational
  mechanism, so ``random`` bids ``U[0, 1.5]``.
- References (:mod:`semcom_baselines.iot_auction`): ``equilibrium`` (local: own value and the common prior)
  bids the symmetric Bayes-Nash equilibrium of first price for the ex-ante marginal value
  distribution (:func:`semcom_envs.auctions.first_price_equilibrium_bids`), truthful under the
  truthful mechanisms; values are correlated within an episode through the distances, so for the
  semantic valuation it is an approximation whose measured regret says how far.
  ``complete_information_nash`` (full information: every value) is the ex-post equilibrium, regret 0.

SemCom-IoTAuction-v2, the benchmark task since protocol v11: v1 with bids of at most the value. The action
``a`` in [-1, 1] is the bid's fraction of the device's value, ``b = (a + 1) / 2 v``, so ``random`` bids
``U[0, v]`` and ``a = 1`` is truthful. Under first price a bid above one's value is weakly dominated (it can
only win at a loss, and losing is free at any bid), yet v1's actions allow it, and its ranked regret rewards
it: a losing device that overbids lifts the price the winner must beat, so the winner's deviation gains
less (a learner of the mean regret found this: 80.5 % of its v1 bids exceeded the value;
docs/benchmark-tasks.md). Removing weakly dominated strategies is the first refinement game theory applies
to a bidder's choices, and it closes the loophole for any submission, learned or written. Values are
float32 numbers (the observation's precision), so a bid computed from the observation is a bid on the value
the auction uses; the regret's deviations still range over ``[0, bid_max]``, where a bid above the value
never gains. Everything else, rewards, metrics and references, is v1's.

Version history: v0, first release; v1, the benchmark task (preset ``benchmark``: first price, the
regret metric, the NB-IoT link budget, the optimal-reserve mechanism); v2, bids of at most the value (the
action a fraction of the value; float32 values).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import gymnasium
import numpy as np
from numpy.typing import NDArray

from semcom_envs import auctions, streams
from semcom_envs.api.core import AgentArrays, BatchedScenario, State, Transition
from semcom_envs.config import (
    ACCURACY_INTERP,
    ACCURACY_MODEL,
    Choice,
    Integer,
    Interval,
    OrNone,
    Real,
    Text,
    check_accuracy_model,
    ConfigError,
    param,
    validate_fields,
)
from semcom_envs.physics import radio, semantics

MAX_DEVICES = 64
GAIN_FEATURE = radio.DbFeature(low_db=-175.0, high_db=25.0, offset_db=75.0, scale_db=25.0)
EXP_MAX_MEANS = 24.0 * math.log(2.0)
"""Largest exponential value in means: the streams' smallest uniform is 2^-24."""

_D_POSITION, _D_FADING, _D_URGENCY = range(3)


@dataclasses.dataclass(frozen=True)
class IoTAuctionConfig:
    """Validated configuration of SemCom-IoTAuction-v0 (allowed values: ``docs/configuration.md``)."""

    preset: str = param("default", Text(), "named defaults: `default`")
    num_devices: int = param(5, Integer(1, MAX_DEVICES), "IoT devices N (bidders)")
    valuation: str = param("semantic", Choice(("semantic", "uniform", "exponential")), "how devices value the energy")
    mechanism: str = param("second_price", Choice(("second_price", "first_price", "myerson", "neural", "second_price_reserve")),
                           "auction run by the HAP")
    neural_checkpoint: str | None = param(None, OrNone(Text()),
                                          "MyersonNet: shipped checkpoint name or `.npz` path (`None`: `<valuation>_n<N>`)")
    value_scale: float = param(1.0, Real(0, 1e6, low_open=True), "value scale (semantic and uniform valuations)")
    similarity_weight: float = param(0.5, Real(0, 1), "lambda: weight of the similarity against BLEU")
    urgency_range: tuple[float, float] = param((0.5, 1.5), Interval(0, 1e3), "range of the urgency factor u")
    exponential_mean: float = param(3.0, Real(0, 1e6, low_open=True), "mean of the exponential valuation")
    bid_max: float | None = param(None, OrNone(Real(0, 1e9, low_open=True)),
                                  "highest bid (`None`: 2 value_scale, or the exponential's largest value)")
    distance_range_m: tuple[float, float] = param((2.0, 10.0), Interval(0.1, 1e4), "device distance range [m]")
    path_loss_exponent: float = param(2.2, Real(0, 10), "path-loss exponent alpha")
    path_loss_db_at_1m: float = param(30.0, Real(0, 200), "path loss at 1 m [dB]")
    hap_power_w: float = param(1.0, Real(0, 1e6, low_open=True), "HAP transmit power [W]")
    charge_fraction: float = param(0.5, Real(0, 1, low_open=True, high_open=True), "tau: share of the slot spent charging")
    slot_s: float = param(1.0, Real(0, 1e6, low_open=True), "slot length T [s]")
    harvest_efficiency: float = param(0.7, Real(0, 1, low_open=True), "energy-harvesting efficiency eta")
    bandwidth_hz: float = param(1e6, Real(0, 1e12, low_open=True), "uplink bandwidth [Hz]")
    noise_dbm_per_hz: float = param(-174.0, Real(-250, 0), "noise power spectral density [dBm/Hz]")
    words_per_sentence: int = param(32, Integer(1, 10_000), "words per sentence")
    bits_per_feature: int = param(8, Integer(1, 64), "bits per transmitted feature")
    sentences: int = param(1, Integer(1, 1_000_000), "sentences sent per slot")
    max_feature_dim: int = param(16, Integer(1, semantics.DEEPSC_K_MAX), "largest feature dimension d")
    max_steps: int = param(100, Integer(1), "slots per episode (truncation)")
    accuracy_interp: str = param("linear", ACCURACY_INTERP, "DeepSC table lookup: linear in dB or nearest dB")
    accuracy_model: str = param("table", ACCURACY_MODEL, "DeepSC accuracy: measured table or logistic fit")

    def __post_init__(self) -> None:
        validate_fields(self)
        if self.bid_max is None:
            default = self.exponential_mean * EXP_MAX_MEANS if self.valuation == "exponential" else 2.0 * self.value_scale
            object.__setattr__(self, "bid_max", default)
        check_accuracy_model(self.accuracy_model, self.accuracy_interp)

    @property
    def value_max(self) -> float:
        """Largest value a device can have (the observation bound)."""
        if self.valuation == "exponential":
            return self.exponential_mean * EXP_MAX_MEANS
        return self.value_scale * (self.urgency_range[1] if self.valuation == "semantic" else 1.0)


PRESETS: dict[str, dict[str, Any]] = {"default": {}}


class IoTAuction(BatchedScenario):
    """Batched core of SemCom-IoTAuction-v0 (documentation: the module docstring)."""

    env_id: ClassVar[str] = "SemCom-IoTAuction-v0"
    pettingzoo_name: ClassVar[str] = "iot_auction_v0"
    config_class: ClassVar[type] = IoTAuctionConfig
    presets: ClassVar[dict[str, dict[str, Any]]] = PRESETS
    size_field: ClassVar[str] = "num_devices"
    metrics: ClassVar[dict[str, str]] = {
        "revenue": "HAP revenue per slot",
        "utility": "mean device utility per slot",
        "winner_value": "value of the winner (allocative efficiency)",
        "similarity": "semantic similarity of the winner's text",
        "bleu": "BLEU stand-in of the winner's text",
        "bits_sent": "bits sent by the winner",
        "no_sale": "share of slots without a sale",
    }
    primary_metric: ClassVar[str] = "revenue"
    higher_is_better: ClassVar[bool] = True
    bids_at_most_value: ClassVar[bool] = False
    """Whether the actions can only bid up to the bidder's value (v2: the action is the bid's fraction of the value)."""

    def __init__(self, config: IoTAuctionConfig | None = None, **kwargs: Any) -> None:
        self.config = self._configure(config, kwargs)
        c = self.config
        n = c.num_devices
        self.num_agents = n
        self.agents = tuple(f"iot_{i}" for i in range(n))
        self.noise_w = float(radio.dbm_to_watts(c.noise_dbm_per_hz)) * c.bandwidth_hz
        # log2 of the SNR's factors other than h^2 (T cancels): the SNR where the direct product over- or underflows.
        self.log2_snr_factor = (math.log2(c.harvest_efficiency) + math.log2(c.hap_power_w) + math.log2(c.charge_fraction)
                                - math.log2(1.0 - c.charge_fraction) - math.log2(float(radio.dbm_to_watts(c.noise_dbm_per_hz)))
                                - math.log2(c.bandwidth_hz))
        self.c0 = float(radio.db_to_linear(-c.path_loss_db_at_1m))
        self.bits_per_dim = c.words_per_sentence * c.bits_per_feature * c.sentences
        self._similarity = semantics.deepsc_kernel(c.accuracy_model, c.accuracy_interp)
        self._act_space = gymnasium.spaces.Box(-1.0, 1.0, (1,), dtype=np.float32)
        self.action_labels = ("normalised bid",)
        gain_lo, gain_hi = GAIN_FEATURE.bounds
        self._obs_space = gymnasium.spaces.Box(
            np.array([0, gain_lo, 0, 0, 0], dtype=np.float32),
            np.array([c.value_max, gain_hi, 1, c.bid_max, 1], dtype=np.float32), dtype=np.float32)
        self.state_space = gymnasium.spaces.Box(
            np.concatenate([np.zeros(n), np.full(n, gain_lo), np.zeros(2 * n + 1)]).astype(np.float32),
            np.concatenate([np.full(n, c.value_max), np.full(n, gain_hi), np.ones(n), [c.bid_max], np.ones(n)]).astype(np.float32),
            dtype=np.float32)
        self.mechanism = self._build_mechanism()

    def _build_mechanism(self) -> Callable[[np.ndarray], auctions.Outcome]:
        """The configured auction as ``bids (B, N) -> (winner, price)``."""
        c, n = self.config, self.num_agents
        if c.mechanism == "second_price":
            return auctions.second_price
        if c.mechanism == "first_price":
            return auctions.first_price
        if c.mechanism == "neural":
            from semcom_envs.myersonnet import MyersonNet, load_pretrained, pretrained_names

            name = c.neural_checkpoint or f"{c.valuation}_n{n}"
            if not name.endswith(".npz") and name not in pretrained_names():
                # A configuration error (not a bare ValueError), naming the fields that chose the checkpoint.
                raise ConfigError(f"mechanism='neural' with neural_checkpoint={c.neural_checkpoint!r}, "
                                  f"valuation={c.valuation!r}, num_devices={n}: no shipped MyersonNet {name!r}; "
                                  f"shipped: {', '.join(pretrained_names())}")
            net = MyersonNet.load(name) if name.endswith(".npz") else load_pretrained(name)
            if net.n != n:
                raise ConfigError(f"neural_checkpoint={c.neural_checkpoint!r} was trained for {net.n} bidders, "
                                  f"num_devices={n}")
            return net
        if c.mechanism == "second_price_reserve":
            return functools.partial(auctions.second_price, reserve=self.value_distribution().monopoly_reserve())
        return auctions.Myerson([self.value_distribution()] * n)

    @functools.cached_property
    def _value_distribution(self) -> auctions.ValueDistribution:
        c = self.config
        if c.valuation == "uniform":
            return auctions.ValueDistribution.uniform(c.value_scale)
        if c.valuation == "exponential":
            return auctions.ValueDistribution.exponential(c.exponential_mean, c.value_max)
        return auctions.ValueDistribution.empirical(self.sample_valuations(200_000 // self.num_agents + 1, seed=2**40).ravel())

    def value_distribution(self) -> auctions.ValueDistribution:
        """The ex-ante marginal distribution of one device's value (exact for the textbook valuations; for
        ``"semantic"`` estimated once from 200,000 sampled device-slots, which treats values as i.i.d.: within
        an episode they are correlated through the fixed distances). Myerson's virtual values, the optimal
        reserve and the first-price equilibrium bids use it."""
        return self._value_distribution

    # ---------------------------------------------------------------- physics
    def link(self, gain: np.ndarray) -> dict[str, np.ndarray]:
        """What a device with channel gain ``gain`` would get by winning the slot.

        Returns ``harvested_energy_j``, ``bits``, ``feature_dim`` (int64, 0 if even ``d = 1`` does
        not fit), ``snr_db``, ``similarity`` and ``bleu`` (0 where ``feature_dim = 0``).
        """
        c = self.config
        energy = c.harvest_efficiency * c.hap_power_w * gain * c.charge_fraction * c.slot_s
        uplink_s = (1.0 - c.charge_fraction) * c.slot_s
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            snr = (energy / uplink_s) * gain / self.noise_w
            rate = radio.shannon_rate(c.bandwidth_hz, snr)
        snr_db = 10.0 * np.log10(np.maximum(snr, 1e-30))
        lost = ~(snr > 0.0) | (snr == np.inf)  # 0, inf or NaN: a factor under- or overflowed (subnormal B, T, P, ...)
        if lost.any():
            # The same SNR from the logarithms of its factors, p h / (N0 B) = eta P tau h^2 / ((1 - tau) N0 B),
            # and log2(1 + snr) = logaddexp2(0, log2 snr): finite wherever the rate is.
            log2_snr = 2.0 * np.log2(gain[lost]) + self.log2_snr_factor
            rate[lost] = c.bandwidth_hz * np.logaddexp2(0.0, log2_snr)
            snr_db[lost] = np.maximum(10.0 * math.log10(2.0) * log2_snr, -300.0)
        bits = uplink_s * rate
        dim = np.minimum(np.floor(bits / self.bits_per_dim), c.max_feature_dim).astype(np.int64)
        similarity = np.where(dim > 0, self._similarity(np.maximum(dim, 1) - 1, snr_db), 0.0)
        bleu = np.where(dim > 0, semantics.bleu_from_similarity(similarity), 0.0)  # physics.semantics §4 stand-in
        return {"harvested_energy_j": energy, "bits": bits, "feature_dim": dim, "snr_db": snr_db,
                "similarity": similarity, "bleu": bleu}

    def semantic_value(self, link: Mapping[str, np.ndarray], urgency: np.ndarray) -> np.ndarray:
        """The private value (spec §2) of a device whose win would give it ``link`` (:meth:`link`), at ``urgency``:
        ``value_scale (lambda sim + (1 - lambda) bleu) u``."""
        c = self.config
        w = c.similarity_weight
        return c.value_scale * (w * link["similarity"] + (1.0 - w) * link["bleu"]) * urgency

    def _draw_slot(self, keys: NDArray[np.uint64], slot: np.ndarray, large_scale: np.ndarray) -> State:
        """This slot's gains, links and private values."""
        c, n = self.config, self.num_agents
        u = streams.uniforms(keys, slot, _D_FADING, n)
        gain = large_scale * -np.log(u[:, :n])  # Rayleigh: |g|^2 ~ Exp(1)
        link = self.link(gain)
        if c.valuation == "semantic":
            lo, hi = c.urgency_range
            value = self.semantic_value(link, lo + (hi - lo) * u[:, n:])
        elif c.valuation == "uniform":
            value = c.value_scale * streams.uniforms(keys, slot, _D_URGENCY, (n + 1) // 2)[:, :n]
        else:
            value = -c.exponential_mean * np.log(streams.uniforms(keys, slot, _D_URGENCY, (n + 1) // 2)[:, :n])
        return {"gain": gain, "value": value, **{f"link_{k}": v for k, v in link.items()}}

    def sample_valuations(self, num: int, seed: int) -> np.ndarray:
        """``(num, N)`` value profiles of ``num`` independent first slots (seeds ``seed ..``)."""
        keys = streams.episode_key(streams.seed_key(np.arange(seed, seed + num)), 0)
        return self.reset(keys)[0]["value"]

    # ------------------------------------------------------------------ reset
    def reset(self, keys: NDArray[np.uint64]) -> tuple[State, AgentArrays]:
        c, n = self.config, self.num_agents
        b = keys.shape[0]
        t0 = np.zeros(b, dtype=np.int64)
        d_lo, d_hi = c.distance_range_m
        distance = d_lo + (d_hi - d_lo) * streams.uniforms(keys, t0, _D_POSITION, (n + 1) // 2)[:, :n]
        large_scale = self.c0 * distance ** -c.path_loss_exponent
        state: State = {"key": keys.copy(), "t": t0, "distance_m": distance, "large_scale": large_scale,
                        "last_price": np.zeros(b), "last_winner": np.full(b, -1, dtype=np.int64),
                        **self._draw_slot(keys, t0, large_scale)}
        return state, self._observe(state)

    def actions_to_bids(self, actions: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
        """Bids in value units of normalised actions in [-1, 1] (any shape). ``values``, the bidders' values
        broadcast against ``actions``, is unused here: v2's action is a fraction of the value."""
        return (np.asarray(actions, dtype=np.float64) + 1.0) * (0.5 * self.config.bid_max)

    def bids_to_actions(self, bids: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
        """Normalised float32 actions of bids in ``[0, bid_max]`` (inverse of :meth:`actions_to_bids`; ``values``
        as there)."""
        return (np.asarray(bids, dtype=np.float64) * (2.0 / self.config.bid_max) - 1.0).astype(np.float32)

    # ------------------------------------------------------------------- step
    def step(self, state: State, actions: Mapping[str, np.ndarray]) -> Transition:
        bids = self.actions_to_bids(self.stack_actions(actions)[..., 0], state["value"])
        if bids.shape[0] != state["t"].shape[0]:
            raise ValueError(f"actions have batch size {bids.shape[0]}, the state {state['t'].shape[0]}")
        winner, price = self.mechanism(bids)
        sold = winner >= 0
        won = np.arange(self.num_agents) == winner[:, None]
        utility = np.where(won, state["value"] - price[:, None], 0.0)
        rows, w = np.arange(len(winner)), np.maximum(winner, 0)

        def of_winner(x: np.ndarray) -> np.ndarray:
            return np.where(sold, x[rows, w], 0).astype(np.float64)

        infos = {
            "value": state["value"], "bid": bids, "won": won, "utility": utility,
            "revenue": price, "winner": winner,
            "harvested_energy_j": of_winner(state["link_harvested_energy_j"]), "bits_sent": of_winner(state["link_bits"]),
            "feature_dim": of_winner(state["link_feature_dim"]), "similarity": of_winner(state["link_similarity"]),
            "bleu": of_winner(state["link_bleu"]), "winner_value": of_winner(state["value"]),
        }
        next_t = state["t"] + 1
        new_state = {**state, "t": next_t, "last_price": price, "last_winner": winner,
                     **self._draw_slot(state["key"], next_t, state["large_scale"])}
        truncated = next_t >= self.config.max_steps
        terminated = np.zeros(truncated.shape, dtype=bool)
        return Transition(new_state, self._observe(new_state),
                          {a: utility[:, i] for i, a in enumerate(self.agents)},
                          {a: terminated for a in self.agents}, {a: truncated for a in self.agents}, infos)

    def step_metrics(self, team_reward: np.ndarray, infos: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"revenue": infos["revenue"], "utility": infos["utility"].mean(axis=1),
                "winner_value": infos["winner_value"], "similarity": infos["similarity"], "bleu": infos["bleu"],
                "bits_sent": infos["bits_sent"], "no_sale": (infos["winner"] < 0).astype(np.float64)}

    def _observe(self, state: State) -> AgentArrays:
        c, n = self.config, self.num_agents
        obs = np.empty((state["t"].shape[0], n, 5), dtype=np.float32)
        obs[..., 0] = state["value"]
        obs[..., 1] = GAIN_FEATURE.encode(state["gain"])
        obs[..., 2] = state["link_feature_dim"] / c.max_feature_dim
        obs[..., 3] = state["last_price"][:, None]
        obs[..., 4] = np.arange(n) == state["last_winner"][:, None]
        return {a: obs[:, i] for i, a in enumerate(self.agents)}

    def global_state(self, state: State) -> np.ndarray:
        n = self.num_agents
        last = (np.arange(n) == state["last_winner"][:, None]).astype(np.float64)
        return np.concatenate([state["value"], GAIN_FEATURE.encode(state["gain"]),
                               state["link_feature_dim"] / self.config.max_feature_dim,
                               state["last_price"][:, None], last], axis=1).astype(np.float32)

    def render_rgb(self, state: State, infos: Mapping[str, np.ndarray] | None, index: int) -> np.ndarray:
        from semcom_envs.render import bid_chart

        title = f"{self.env_id}  slot {int(state['t'][index])}"
        if infos is None:
            return bid_chart(self.agents, state["value"][index], None, -1, 0.0, title)
        return bid_chart(self.agents, infos["value"][index], infos["bid"][index], int(infos["winner"][index]),
                         float(infos["revenue"][index]), title)


BENCHMARK_PRESETS: dict[str, dict[str, Any]] = {
    "benchmark": {"mechanism": "first_price", "bandwidth_hz": 15e3, "noise_dbm_per_hz": -169.0, "hap_power_w": 4.0,
                  "path_loss_exponent": 2.7, "distance_range_m": (2.0, 15.0), "harvest_efficiency": 0.3,
                  "sentences": 120, "bid_max": 1.5},
}
"""SemCom-IoTAuction-v1's presets: the benchmark task (module docstring, "SemCom-IoTAuction-v1")."""


class IoTAuctionV1(IoTAuction):
    """SemCom-IoTAuction-v1: the benchmark task, ranked by the bidders' regret (module docstring)."""

    env_id: ClassVar[str] = "SemCom-IoTAuction-v1"
    pettingzoo_name: ClassVar[str] = "iot_auction_v1"
    presets: ClassVar[dict[str, dict[str, Any]]] = BENCHMARK_PRESETS
    metrics: ClassVar[dict[str, str]] = {
        "regret": "mean over devices of the utility gained by the best unilateral bid deviation",
        "utility": "mean device utility per slot",
        "welfare": "value of the winner (0 without sale)",
        "efficiency": "value of the winner over the highest value",
        "revenue": "HAP revenue per slot",
        "no_sale": "share of slots without a sale",
        "similarity": "semantic similarity of the winner's text",
        "bleu": "BLEU stand-in of the winner's text",
        "bits_sent": "bits sent by the winner",
    }
    primary_metric: ClassVar[str] = "regret"
    higher_is_better: ClassVar[bool] = False
    regret_grid_points: ClassVar[int] = 256
    """Deviation bids on ``[0, bid_max]`` (plus the device's own bid) over which the regret is maximised."""

    def __init__(self, config: IoTAuctionConfig | None = None, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.bid_grid = np.linspace(0.0, self.config.bid_max, self.regret_grid_points)

    def regret(self, values: np.ndarray, bids: np.ndarray) -> NDArray[np.float64]:
        """``(B, N)`` ex-post regret: ``max_g u_i(g, b_-i) - u_i(b)`` over the bid grid and the own bid.

        Every device's every deviation is one row of a ``(B N (G + 1), N)`` bid array, so the configured
        mechanism (any of them) is called once. The own bid is the last grid column, so the regret is
        ``>= 0`` exactly and 0 where the actual bid is a best response on the grid.
        """
        b, n = bids.shape
        grid = np.concatenate([np.broadcast_to(self.bid_grid, (b, n, len(self.bid_grid))), bids[..., None]], axis=2)
        own = np.eye(n, dtype=bool)[None, :, None, :]  # (1, N deviating, 1, N bidders)
        profiles = np.where(own, grid[..., None], bids[:, None, None, :])  # (B, N, G + 1, N)
        winner, price = self.mechanism(profiles.reshape(-1, n))
        winner, price = winner.reshape(grid.shape), price.reshape(grid.shape)
        gain = np.where(winner == np.arange(n)[None, :, None], values[..., None] - price, 0.0)
        return gain.max(axis=2) - gain[..., -1]

    def step(self, state: State, actions: Mapping[str, np.ndarray]) -> Transition:
        tr = super().step(state, actions)
        tr.infos["regret"] = self.regret(tr.infos["value"], tr.infos["bid"])
        return tr

    def step_metrics(self, team_reward: np.ndarray, infos: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        m = super().step_metrics(team_reward, infos)
        top = infos["value"].max(axis=1)
        welfare = m.pop("winner_value")
        efficiency = np.where(top > 0, welfare / np.where(top > 0, top, 1.0), 1.0)
        return {"regret": infos["regret"].mean(axis=1), "welfare": welfare, "efficiency": efficiency, **m}


class IoTAuctionV2(IoTAuctionV1):
    """SemCom-IoTAuction-v2: v1 with bids of at most the value (module docstring, "SemCom-IoTAuction-v2")."""

    env_id: ClassVar[str] = "SemCom-IoTAuction-v2"
    pettingzoo_name: ClassVar[str] = "iot_auction_v2"
    bids_at_most_value: ClassVar[bool] = True

    def __init__(self, config: IoTAuctionConfig | None = None, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        c = self.config
        if c.bid_max < c.value_max:
            raise ConfigError(f"{self.env_id}: bid_max={c.bid_max!r} lies below the largest value {c.value_max!r} "
                              f"(valuation={c.valuation!r}): v2's bids range up to the value, and bid_max bounds the "
                              "observed price and the regret's deviations; allowed: bid_max >= the largest value")
        self.action_labels = ("bid as a fraction of the value",)

    def _draw_slot(self, keys: NDArray[np.uint64], slot: np.ndarray, large_scale: np.ndarray) -> State:
        """v1's slot with every value a float32 number: the observation's precision, so that a device sees its value
        exactly and a bid computed from the observation is a bid on the value the auction uses."""
        state = super()._draw_slot(keys, slot, large_scale)
        state["value"] = state["value"].astype(np.float32).astype(np.float64)
        return state

    def actions_to_bids(self, actions: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
        """Bids of actions in [-1, 1]: ``b = (a + 1) / 2 v``, the fraction ``(a + 1) / 2`` of the bidder's value
        ``v`` (``values``, broadcast against ``actions``; required)."""
        if values is None:
            raise TypeError(f"{self.env_id}: actions_to_bids needs the bidders' values (an action is a fraction of the value)")
        return (np.asarray(actions, dtype=np.float64) + 1.0) * 0.5 * np.asarray(values, dtype=np.float64)

    def bids_to_actions(self, bids: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
        """Float32 actions whose bids (:meth:`actions_to_bids`) are at least ``bids`` and at most one float32 step of
        the action above them. ``bids`` must lie in ``[0, v]`` for the bidders' values ``v`` (``values``, broadcast
        against ``bids``; required); a value 0 admits the bid 0 only (action -1), and the bid ``v`` is action 1
        exactly. Raises ``ValueError`` naming the first bid outside its range."""
        if values is None:
            raise TypeError(f"{self.env_id}: bids_to_actions needs the bidders' values (an action is a fraction of the value)")
        bids, values = np.broadcast_arrays(np.asarray(bids, dtype=np.float64), np.asarray(values, dtype=np.float64))
        bad = ~((bids >= 0.0) & (bids <= values))
        if bad.any():
            i = tuple(int(k) for k in np.argwhere(bad)[0])
            raise ValueError(f"{self.env_id}: bid {float(bids[i])!r} at index {i} lies outside [0, value = {float(values[i])!r}]: a bid "
                             "above the value is weakly dominated and v2's actions cannot express it")
        with np.errstate(divide="ignore", invalid="ignore"):
            actions = np.where(values > 0.0, 2.0 * bids / np.where(values > 0.0, values, 1.0) - 1.0, -1.0).astype(np.float32)
        # float32 rounding can land one or two steps below the bid; step up to the first action that reaches it.
        for _ in range(2):
            short = self.actions_to_bids(actions, values) < bids
            actions = np.where(short, np.nextafter(actions, np.float32(1.0)), actions)
        return np.minimum(actions, np.float32(1.0))
