"""The SemCom-IoTAuction task study (v1 and its v2, the task since protocol v11): calibration, bidding track and
mechanism track (docs/benchmark-tasks.md).

Prints six tables, every number measured here:

1. Calibration: the feature dimension d* and the value quantiles over sampled device-slots, v0's link budget
   against the task's.
2. Bidding track on the task (SemCom-IoTAuction-v2): every baseline (and trained MAPPO policies given with
   ``--mappo``) on the leaderboard's protocol (evaluation seeds 10000..10004, 16 episodes each): regret (the
   primary metric), utility, welfare, efficiency, revenue, no sale; normalised per run ``(x - random) / (reference
   - random)`` with the reference ``complete_information_nash``; a sweep of the shading factor; with ``--mappo``,
   also MAPPO against the best local rule on the held-out evaluation seeds 20000 + s.
3. How the profiles bid: the winners' bid over value, bids above value, the winner's and the others' regret, the
   regret of the same slots with every bid lowered to its value, and a figure of bids against values (``--figure``);
   the rules and ``--mappo-v1`` policies (learned from the ranked regret on v1, ``learn_ranked_metric``) on v1,
   where bids above the value are possible, and ``--mappo`` policies (learned on v2, e.g. the leaderboard's) on v2.
4. Populations: one device (the deviator) bids by a rule while the other N - 1 bid by another (the market it
   faces): the deviator's regret and utility against the market's. A bidder's own expected regret is its
   utility's shortfall from a best response to the others' bids, so the rule with the lowest regret against a
   market is the best response to it among those tried; the deviators include fictitious play, an online
   learner that best-responds to the episode's observed clearing prices, and a Bayes reply told the others'
   distances, whose regret bounds from below that of any reply on local information.
5. What a device's history is worth (``memory``): ``capped`` with a cap that follows the episode's clearing prices
   (``capped_price_memory``: their mean; ``capped_highest_memory``: the mean of the highest values they reveal), and
   the same rule told the others' distances (``capped_told_distances``, not local), everything a history could
   estimate; each tuned on seeds 900-904, scored on the evaluation and the held-out seeds against ``capped``.
6. Mechanism track at the task's N on the calibrated valuation: truthful bidders under second price, second
   price with the optimal reserve, Myerson and a MyersonNet trained here on the task's value profiles:
   revenue (mean and 95% CI over the 5 seeds), truthful bidders' regret, IR violations (a winner paying
   more than its value) and no-sale share.

Usage: ``python benchmarks/iot_auction_task_study.py [--mappo runs/.../policy_seed*.pt ...] [--myersonnet-iterations 3000]``
(``nice``, one thread: ``OMP_NUM_THREADS=1``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from semcom_baselines import make_policy, policies_for
from semcom_baselines.iot_auction import Capped, OwnObservationRule, PriceAnchored, Shaded, capped_bid
from semcom_baselines.policy import ScenarioPolicy
from semcom_envs import auctions, streams
from semcom_envs.evaluation import EPISODE_SEED_STRIDE, BatchRunner, RunResult, evaluate, slot_infos
from semcom_envs.scenarios import IoTAuction, IoTAuctionV1, IoTAuctionV2

SEEDS = tuple(range(10000, 10005))
HELD_OUT_BASE = 20_000
"""Evaluation seeds ``20000 + s``: never used by the protocol or for tuning."""
TASK = IoTAuctionV2
"""The benchmark task: v1 with bids of at most the value (protocol v11)."""
EPISODES = 16


def _ci(xs: Sequence[float]) -> str:
    """Mean and 95% half-width (t, 4 degrees of freedom) over the seeds."""
    x = np.asarray(xs, dtype=np.float64)
    half = 2.776 * x.std(ddof=1) / np.sqrt(len(x)) if len(x) > 1 else 0.0
    return f"{x.mean():.4f} ± {half:.4f}"


def calibration(samples: int = 40_000) -> None:
    """d* and value distributions of one device-slot, v0 against v1."""
    print("## Calibration (first slots of", samples, "episodes, all devices)\n")
    print("| link budget | d* share 0..16 (%) | SNR dB 5/50/95 % | value 5/25/50/75/95 % | P(v = 0) |")
    print("| --- | --- | --- | --- | --- |")
    for label, sc in (("v0 default", IoTAuction()), ("v2 benchmark", TASK())):
        state = sc.reset(streams.episode_key(streams.seed_key(np.arange(samples)), 0))[0]
        d, v = state["link_feature_dim"].ravel(), state["value"].ravel()
        snr = state["link_snr_db"].ravel()
        share = " ".join(f"{100 * s:.1f}" for s in np.bincount(d, minlength=17) / d.size)
        print(f"| {label} | {share} | {' / '.join(f'{q:.0f}' for q in np.percentile(snr, [5, 50, 95]))} | "
              f"{' / '.join(f'{q:.3f}' for q in np.percentile(v, [5, 25, 50, 75, 95]))} | {(v == 0).mean():.4f} |")
    print()


def _table(sc: IoTAuctionV2, runs: dict[str, list[RunResult]]) -> None:
    metrics = ("regret", "utility", "welfare", "efficiency", "revenue", "no_sale")
    print("| policy | information | " + " | ".join(metrics) + " | normalised |")
    print("| --- | --- | " + " | ".join("---" for _ in metrics) + " | --- |")
    rand, ref = runs["random"], runs["complete_information_nash"]
    for name, rs in runs.items():
        norm = [(r.mean("regret") - a.mean("regret")) / (o.mean("regret") - a.mean("regret")) for r, a, o in zip(rs, rand, ref)]
        info = {"complete_information_nash": "global", DistanceToldCapped.name: "told the distances"}.get(name, "local")
        print(f"| {name} | {info} | " + " | ".join(_ci([r.mean(m) for r in rs]) for m in metrics) + f" | {_ci(norm)} |")
    print()


def _compare(runs: dict[str, list[RunResult]], mine: str, theirs: str) -> None:
    """How often ``mine``'s regret is below ``theirs``: over the run pairs (the leaderboard's unpaired P(improvement)
    without ties, which do not occur here) and on the same episodes (run ``s`` of both on evaluation seed ``s``)."""
    wins = np.mean([[m.mean("regret") < b.mean("regret") for b in runs[theirs]] for m in runs[mine]])
    paired = sum(m.mean("regret") < b.mean("regret") for m, b in zip(runs[mine], runs[theirs]))
    print(f"P({mine}'s regret < {theirs}'s) over run pairs: {wins:.2f}; on the same episodes: {paired} of "
          f"{len(runs[mine])} runs\n")


class EpisodeMeanCapped(OwnObservationRule):
    """``capped`` with a cap that follows the mean of what the clearing prices showed this episode: the frame of the
    study's rules with memory (local information: the prices every device observes).

    The distances are fixed within an episode, so the mean of a per-slot statistic of the prices estimates how strong
    this episode's competition is, which the common prior's cap ignores. The cap is ``c_t = base + slope (m_t -
    prior)``: ``m_t`` the mean of the statistic over the slots seen so far, with ``prior_slots`` pseudo-slots at its
    prior mean ``prior`` before the first. Every device observes the same clearing price (tested), so each device's own
    cap is the one :meth:`act` computes per copy from the price: the profile stays one cap for all, as ``capped``'s.
    The bid is ``capped``'s with ``c_t``. Stateful: one episode per :meth:`reset`."""

    scenario_class = IoTAuctionV1
    scenario: IoTAuctionV1

    def __init__(self, scenario: IoTAuctionV1, base: float, prior: float, slope: float, prior_slots: float) -> None:
        super().__init__(scenario)
        self.base, self.prior, self.slope, self.prior_slots = base, prior, slope, prior_slots
        self.sliver = Capped(scenario).sliver
        self.total: np.ndarray | None = None
        self.slots = 0
        self.cap = np.float64(base)

    def statistic(self, price: np.ndarray) -> np.ndarray:
        """What one slot's clearing price (the observation's last price, bid at the cap :attr:`cap`) tells."""
        raise NotImplementedError

    def reset(self, seed: int | None = None) -> None:
        self.total, self.slots = None, 0

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        price = observations[self.scenario.agents[0]][:, 3:4].astype(np.float64)  # (B, 1): the price all observe
        if self.total is None:  # an episode's first slot: no price seen yet
            self.total = np.zeros_like(price)
        else:
            self.total, self.slots = self.total + self.statistic(price), self.slots + 1
        mean = (self.prior_slots * self.prior + self.total) / (self.prior_slots + self.slots)
        self.cap = self.base + self.slope * (mean - self.prior)
        return super().act(observations, global_state)

    def bid(self, value: np.ndarray, obs: np.ndarray) -> np.ndarray:
        return capped_bid(value, self.cap, self.sliver)


class PriceMemoryCapped(EpisodeMeanCapped):
    """The cap follows the episode's mean clearing price: ``c_t = m_t + gap`` (slope 1), ``m_t`` the mean price with
    ``prior_slots`` pseudo-slots at ``c - gap`` (``c`` ``capped``'s cap), and ``gap`` the cap minus the mean clearing
    price of the ``capped`` profile on the tuning seeds 900-904 (0.036 on v2); ``prior_slots = 5`` was chosen there
    among 1, 5 and 20 (1 and 5 tie)."""

    name = "capped_price_memory"

    def __init__(self, scenario: IoTAuctionV1, prior_slots: float = 5.0) -> None:
        capped = Capped(scenario)
        gap = capped.cap - float(np.mean([evaluate(scenario, capped, EPISODES, s).mean("revenue") for s in range(900, 905)]))
        super().__init__(scenario, capped.cap, capped.cap - gap, 1.0, prior_slots)

    def statistic(self, price: np.ndarray) -> np.ndarray:
        return price


class HighestValueMemoryCapped(EpisodeMeanCapped):
    """The cap follows the episode's mean *highest value*, which each clearing price reveals exactly.

    Under a common cap ``c`` the winner bids ``min(v, c + sliver (v - c))`` of the highest value ``v``, an increasing
    function, so the price inverts to ``v`` (``p`` below the cap, ``c + (p - c) / sliver`` above): the price itself is
    censored at about the cap and moves little with the competition, the highest value moves fully. ``prior`` is the
    highest value's mean under the common prior (20,000 sampled profiles, distances drawn per profile), ``base`` its
    ``q``-quantile; ``q = 0.25``, ``prior_slots = 20`` and ``slope = 1.6`` were chosen on the tuning seeds 900-904
    (:func:`memory` prints the grid), never on the evaluation seeds."""

    name = "capped_highest_memory"

    def __init__(self, scenario: IoTAuctionV1, q: float = 0.25, prior_slots: float = 20.0, slope: float = 1.6) -> None:
        highest = scenario.sample_valuations(20_000, seed=2**40).max(axis=1)
        super().__init__(scenario, float(np.quantile(highest, q)), float(highest.mean()), slope, prior_slots)

    def statistic(self, price: np.ndarray) -> np.ndarray:
        return np.where(price <= self.cap, price, self.cap + (price - self.cap) / self.sliver)


def bidding(mappo: Sequence[str]) -> None:
    """Baselines, shading sweep and MAPPO policies on the protocol."""
    sc = TASK()
    print(f"## Bidding track ({sc.env_id}, defaults; seeds {SEEDS[0]}..{SEEDS[-1]} x {EPISODES} episodes)\n")
    policies = {name: make_policy(name, sc) for name in policies_for(sc.env_id)}
    for alpha in (0.85, 0.9, 0.95):
        policies[f"shaded_{alpha:g}"] = Shaded(sc, alpha)
    policies["capped_price_memory"] = PriceMemoryCapped(sc)  # local, with memory: not registered baselines
    policies["capped_highest_memory"] = HighestValueMemoryCapped(sc)
    runs = {name: [evaluate(sc, p, EPISODES, s) for s in SEEDS] for name, p in policies.items()}
    if mappo:
        from semcom_agents import load_policy

        runs["mappo"] = [evaluate(sc, load_policy(path, sc), EPISODES, s) for path, s in zip(mappo * len(SEEDS), SEEDS)]
        # One trained run per evaluation seed (the leaderboard's pairing of train and evaluation seeds).
    _table(sc, runs)
    if mappo:
        def mean_regret(name: str) -> float:
            return float(np.mean([r.mean("regret") for r in runs[name]]))

        local = [n for n in runs if n not in ("complete_information_nash", "mappo")]
        registered = min((n for n in local if n in policies_for(sc.env_id)), key=mean_regret)
        rules = dict.fromkeys((registered, min(local, key=mean_regret)))  # the best registered rule, the best of all
        for best in rules:
            _compare(runs, "mappo", best)
        for s, path in enumerate(mappo):
            ev = HELD_OUT_BASE + s
            learned = evaluate(sc, load_policy(path, sc), EPISODES, ev).mean("regret")
            scores = ", ".join(f"{best} {evaluate(sc, policies[best], EPISODES, ev).mean('regret'):.4f}" for best in rules)
            print(f"held-out evaluation seed {ev}: mappo run {s} regret {learned:.4f}, {scores}")
        print()


class FictitiousPlay(ScenarioPolicy):
    """Each device best-responds to the distribution of the highest competing bid ``M`` it has seen this episode.

    Feedback is the observation's last clearing price and win flag: a device that lost learns ``M`` exactly (the
    first-price winner's bid); one that won learns only ``M < `` its own bid (censored). The distribution of
    ``M`` on a grid of ``points`` bids is the Kaplan-Meier estimate of these left-censored samples (right-censored
    in ``-M``): ``P(M < g_j) = prod_{k >= j} (1 - d_k / n_k)``, with ``d_k`` exact samples in grid cell ``k`` and
    ``n_k`` samples whose value or bound is at most ``g_k``. Before any feedback the estimate is the prior:
    ``prior`` pseudo-samples of ``M`` drawn from the symmetric first-price equilibrium (the ``equilibrium``
    baseline's bids of the other N - 1 devices). The bid is ``argmax_{g <= v} (v - g) P(M < g)``. Stateful: one
    episode per :meth:`reset` (as :func:`~semcom_envs.evaluation.evaluate` runs them).
    """

    name = "fictitious_play"
    scenario_class = IoTAuctionV1
    scenario: IoTAuctionV1

    def __init__(self, scenario: IoTAuctionV1, points: int = 256, prior: float = 20.0) -> None:
        from semcom_baselines.iot_auction import Equilibrium

        super().__init__(scenario)
        self.grid = np.linspace(0.0, scenario.config.bid_max, points)
        bids = Equilibrium(scenario).bids(scenario.sample_valuations(20_000, seed=2**40))
        others = np.searchsorted(self.grid, bids[:, 1:].max(axis=1))  # the cell whose right edge is >= M
        self.prior = prior * np.bincount(np.minimum(others, points - 1), minlength=points) / len(bids)
        self.exact: np.ndarray | None = None
        self.censored = self.last_bid = np.zeros(0)

    def reset(self, seed: int | None = None) -> None:
        self.exact = None

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        sc, g = self.scenario, len(self.grid)
        obs = np.stack([observations[a] for a in sc.agents], axis=1).astype(np.float64)  # (B, N, 5), the bidders' observations
        value, price, won = obs[..., 0], obs[..., 3], obs[..., 4] > 0.5
        if self.exact is None:  # an episode's first slot: no feedback yet
            self.exact = np.broadcast_to(self.prior, (*value.shape, g)).copy()
            self.censored = np.zeros_like(self.exact)
        else:
            copy, device = np.nonzero(~won)
            np.add.at(self.exact, (copy, device, np.minimum(np.searchsorted(self.grid, price[copy, device]), g - 1)), 1.0)
            copy, device = np.nonzero(won)
            below = np.maximum(np.searchsorted(self.grid, self.last_bid[copy, device]) - 1, 0)  # M < the own bid
            np.add.at(self.censored, (copy, device, below), 1.0)
        at_risk = np.cumsum(self.exact + self.censored, axis=2)
        hazard = np.divide(self.exact, at_risk, out=np.zeros_like(at_risk), where=at_risk > 0)
        win = np.cumprod((1.0 - hazard)[..., ::-1], axis=2)[..., ::-1]  # P(M < g_j)
        gain = np.where(self.grid <= value[..., None], (value[..., None] - self.grid) * win, -np.inf)
        self.last_bid = np.minimum(self.grid[gain.argmax(axis=2)], value)
        actions = sc.bids_to_actions(self.last_bid, value)
        return {a: actions[:, i:i + 1] for i, a in enumerate(sc.agents)}


def _values_given(sc: IoTAuctionV1, large_scale: np.ndarray, samples: int, rng: np.random.Generator) -> np.ndarray:
    """``samples`` draws of the values of devices whose large-scale gains are ``large_scale`` ``(B, 1, M)``: this
    slot's Rayleigh fading and urgency drawn afresh, as the scenario's ``_draw_slot``, through its own link and
    valuation; ``(B, samples, M)``."""
    shape = (large_scale.shape[0], samples, large_scale.shape[2])
    gain = large_scale * rng.exponential(size=shape)  # |g|^2 ~ Exp(1)
    return sc.semantic_value(sc.link(gain), rng.uniform(*sc.config.urgency_range, shape))


class BayesReply(ScenarioPolicy):
    """Device 0's Bayes-optimal reply to a market of a stateless rule, told more than any device observes.

    It knows the others' distances (fixed at reset), the market's rule and the last clearing price, so the highest
    competing bid ``M`` of this slot is random only through the others' fading and urgency, drawn afresh each slot
    and independent of anything a device has seen: ``samples`` draws of them (the scenario's own link and valuation)
    give the distribution of ``M``, and the bid is ``argmax_{g <= v} (v - g) P(M < g)`` on a grid of ``points``
    bids. Its expected regret is the least of any reply whose information is at most this, every local one
    included (a device's expected regret is its expected utility's shortfall from the best response), so its regret
    against a market bounds from below what a local learner could reach there. Reads the batch's state through
    :attr:`runner`, which :func:`_against` sets.
    """

    name = "bayes_reply"
    scenario_class = IoTAuctionV1
    scenario: IoTAuctionV1

    def __init__(self, scenario: IoTAuctionV1, market: ScenarioPolicy, samples: int = 512, points: int = 1501) -> None:
        super().__init__(scenario)
        self.market, self.samples = market, samples
        self.grid = np.linspace(0.0, scenario.config.bid_max, points)
        self.rng = np.random.default_rng(0)
        self.runner: BatchRunner | None = None

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        sc, k = self.scenario, self.samples
        assert self.runner is not None, "BayesReply reads the runner's state: run it through _against"
        state = self.runner.state
        b, others = len(state["t"]), sc.num_agents - 1
        values = _values_given(sc, state["large_scale"][:, None, 1:], k, self.rng)  # (b, k, others)
        obs = np.zeros((b, k, others, 5), dtype=np.float32)  # the market rule's observation: value and last price
        obs[..., 0], obs[..., 3] = values, state["last_price"][:, None, None]
        actions = self.market.act({a: obs[..., j, :].reshape(b * k, 5) for j, a in enumerate(sc.agents[1:])}, None)
        market_bids = sc.actions_to_bids(np.stack([actions[a].reshape(b, k) for a in sc.agents[1:]], axis=2),
                                         obs[..., 0].astype(np.float64))
        top = market_bids.max(axis=2)
        win = (top[:, :, None] < self.grid).mean(axis=1)  # P(M < g) over the draws
        value = state["value"][:, :1]
        bid = self.grid[np.where(self.grid <= value, (value - self.grid) * win, -np.inf).argmax(axis=1)]
        return {sc.agents[0]: sc.bids_to_actions(bid, value[:, 0])[:, None]}


def _against(sc: IoTAuctionV2, deviator: ScenarioPolicy, market: ScenarioPolicy, episodes: int = 64) -> np.ndarray:
    """Per seed: ``[deviator regret, market regret, deviator utility, market utility]`` (per device and slot) with
    device 0 bidding by ``deviator`` and the others by ``market``, on the protocol's evaluation episodes."""
    out = []
    for s in SEEDS:
        runner = BatchRunner(sc, episodes)
        obs = runner.reset([s * EPISODE_SEED_STRIDE + i for i in range(episodes)])
        deviator.reset(s), market.reset(s)
        if isinstance(deviator, BayesReply):
            deviator.runner = runner
        regret, utility = np.zeros((episodes, sc.num_agents)), np.zeros((episodes, sc.num_agents))
        for _ in range(sc.config.max_steps):
            actions = market.act(obs, None)
            actions[sc.agents[0]] = deviator.act(obs, None)[sc.agents[0]]
            tr = runner.step(actions)
            obs = tr.observations
            regret += tr.infos["regret"]
            utility += tr.infos["utility"]
        runner.close()
        regret, utility = regret / sc.config.max_steps, utility / sc.config.max_steps
        out.append([regret[:, 0].mean(), regret[:, 1:].mean(), utility[:, 0].mean(), utility[:, 1:].mean()])
    return np.asarray(out)


class DistanceToldCapped(OwnObservationRule):
    """``capped`` with each device's cap from the others' distances, which no device observes: a bound on what a
    memory can add to the rule.

    The distances are fixed for an episode and are all that links one slot's values to the next (fading and urgency
    are drawn afresh each slot), so they are everything a device's history could tell it about its competition. Told
    them, device ``i``'s cap is the ``q``-quantile of the highest competing value ``max_{j != i} v_j`` given the
    others' distances (``samples`` draws of their fading and urgency per episode, the scenario's own link and
    valuation), where ``capped``'s cap is the same quantile under the common prior. ``q`` is tuned on seeds
    900-904 like ``capped``'s. Reads the episode's distances from the runner (:meth:`bind`, as full-state
    references do); stateful: one episode per :meth:`reset`."""

    name = "capped_told_distances"
    scenario_class = IoTAuctionV1
    scenario: IoTAuctionV1

    def __init__(self, scenario: IoTAuctionV1, q: float = 0.35, samples: int = 4096) -> None:
        super().__init__(scenario)
        self.q, self.samples, self.sliver = q, samples, Capped(scenario).sliver
        self.runner: BatchRunner | None = None
        self.caps: np.ndarray | None = None
        self.rng = np.random.default_rng(0)  # reseeded per evaluation seed by reset

    def bind(self, runner: BatchRunner) -> None:
        self.runner = runner

    def reset(self, seed: int | None = None) -> None:
        self.caps, self.rng = None, np.random.default_rng(seed)

    def act(self, observations: dict[str, np.ndarray], global_state: np.ndarray | None) -> dict[str, np.ndarray]:
        if self.caps is None:  # an episode's first slot: the distances are drawn
            assert self.runner is not None, "DistanceToldCapped reads the episode's distances: evaluate binds it"
            large_scale = self.runner.state["large_scale"]  # (B, N)
            values = _values_given(self.scenario, large_scale[:, None, :], self.samples, self.rng)  # (B, K, N)
            second = np.sort(values, axis=2)[..., -2]  # the slot's second-highest value
            self.caps = np.quantile(second, self.q, axis=1)[:, None]  # (B, 1): one cap for every device
        return super().act(observations, global_state)

    def bid(self, value: np.ndarray, obs: np.ndarray) -> np.ndarray:
        return capped_bid(value, self.caps, self.sliver)


def _tuned(make: Callable[..., ScenarioPolicy], grid: Sequence[tuple[float, ...]]) -> tuple[tuple[float, ...], str]:
    """The parameters of ``grid`` whose profile has the lowest mean regret on the tuning seeds 900-904, and the
    grid's regrets as text."""
    sc = TASK()
    regret = {p: np.mean([evaluate(sc, make(sc, *p), EPISODES, s).mean("regret") for s in range(900, 905)]) for p in grid}
    return min(regret, key=regret.get), ", ".join(f"{p} {r:.5f}" for p, r in regret.items())


def memory() -> None:
    """What a device's history is worth to ``capped``: the rules with memory against the rule told the distances,
    everything a history could estimate (the bound on what a memory can add to the rule)."""
    sc = TASK()
    told, text = _tuned(DistanceToldCapped, [(float(q),) for q in np.round(np.arange(0.45, 0.851, 0.05), 2)])
    print(f"## What a device's history is worth ({sc.env_id}; tuned on seeds 900-904)\n\ncapped_told_distances, q: "
          f"{text}; chosen {told}\n")
    highest, text = _tuned(HighestValueMemoryCapped, [(q, k, slope) for q in (0.25, 0.3) for k in (5.0, 20.0)
                                                      for slope in (0.7, 1.0, 1.3, 1.6)])
    print(f"capped_highest_memory, (q, prior_slots, slope): {text}; chosen {highest}\n")
    policies = {name: make_policy(name, sc) for name in ("random", "capped", "complete_information_nash")}
    policies["capped_price_memory"] = PriceMemoryCapped(sc)
    policies["capped_highest_memory"] = HighestValueMemoryCapped(sc, *highest)
    policies["capped_told_distances"] = DistanceToldCapped(sc, *told)
    for seeds, label in ((SEEDS, "evaluation"), (tuple(HELD_OUT_BASE + s for s in range(5)), "held-out")):
        runs = {name: [evaluate(sc, p, EPISODES, s) for s in seeds] for name, p in policies.items()}
        print(f"{label} seeds {seeds[0]}..{seeds[-1]}, regret per seed: " + "; ".join(
            f"{name} " + ", ".join(f"{r.mean('regret'):.4f}" for r in rs) for name, rs in runs.items() if name != "random"))
        print()
        _table(sc, runs)
        for name in ("capped_price_memory", "capped_highest_memory", "capped_told_distances"):
            _compare(runs, name, "capped")


def populations() -> None:
    """Deviators against markets, and fictitious play in self-play."""
    sc = TASK()
    print(f"## Populations ({sc.env_id}: device 0 deviates, devices 1..{sc.num_agents - 1} are the market; "
          f"seeds {SEEDS[0]}..{SEEDS[-1]} x 64 episodes)\n")
    print("| market | deviator | deviator regret | market regret | deviator utility | market utility |")
    print("| --- | --- | --- | --- | --- | --- |")
    rules = {name: make_policy(name, sc) for name in ("price_anchored", "capped", "equilibrium", "truthful", "shaded", "random")}
    rules["fictitious_play"] = FictitiousPlay(sc)
    anchors = {(p := PriceAnchored(sc, alpha)).name: p for alpha in (0.0, 0.6, 0.9)}  # the anchor's floor, varied
    for market in ("price_anchored", "capped", "equilibrium"):
        bound = {"bayes_reply (knows the distances)": BayesReply(sc, rules[market])}
        for name, deviator in {**rules, **(anchors if market == "price_anchored" else {}), **bound}.items():
            m = _against(sc, deviator, rules[market])
            print(f"| {market} | {name} | " + " | ".join(_ci(m[:, k]) for k in range(4)) + " |")
    play = [evaluate(sc, FictitiousPlay(sc), EPISODES, s) for s in SEEDS]
    print(f"\nfictitious play in self-play (every device; {EPISODES} episodes per seed): regret "
          f"{_ci([r.mean('regret') for r in play])}, utility {_ci([r.mean('utility') for r in play])}\n")


def bid_profiles(mappo_v1: Sequence[str], mappo: Sequence[str], figure: Path, episodes: int = 4) -> None:
    """How the profiles bid: on the first ``episodes`` episodes of each protocol evaluation seed (MAPPO: run ``s``'s
    policy on seed ``10000 + s``), the winners' bid over value, the share of bids above value and the regret of the
    winner and of the others; and a figure of bids against values. The rules and ``mappo_v1`` (policies learned from
    the ranked regret on v1) bid on v1, where bids above the value are possible; ``mappo`` (learned on v2) on v2."""
    from semcom_agents import load_policy

    sc, task = IoTAuctionV1(), TASK()
    seeds = SEEDS[:min([len(SEEDS)] + [len(x) for x in (mappo_v1, mappo) if x])]  # every profile on the same episodes
    profiles: dict[str, tuple[IoTAuctionV1, list[ScenarioPolicy]]] = {
        name: (sc, [make_policy(name, sc)] * len(seeds)) for name in ("truthful", "equilibrium", "price_anchored", "capped")}
    if mappo_v1:
        profiles["mappo on v1 (learning the mean regret)"] = (sc, [load_policy(path, sc) for path in mappo_v1])
    if mappo:
        profiles["mappo on v2 (learning the mean regret)"] = (task, [load_policy(path, task) for path in mappo])
    print(f"## How the profiles bid (seeds {seeds[0]}..{seeds[-1]} x {episodes} episodes; trained run s on seed "
          f"{SEEDS[0]} + s)\n")
    print("| profile | winner's bid / value | bids above value | winner's regret | others' regret | regret | "
          "regret, bids capped at value |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    samples = {}
    for name, (env, policies) in profiles.items():
        runs = [slot_infos(env, policy, episodes, s, ("value", "bid", "regret", "won")) for s, policy in zip(seeds, policies)]
        value, bid, regret, won = (np.concatenate([r[k] for r in runs]) for k in ("value", "bid", "regret", "won"))
        # The same slots with every bid above its value lowered to the value (a bid above one's value is weakly
        # dominated under first price: it can only win at a loss).
        capped = sc.regret(value.reshape(-1, sc.num_agents), np.minimum(bid, value).reshape(-1, sc.num_agents))
        won = won.astype(bool)
        samples[name] = (value.ravel(), bid.ravel())
        # Above value by more than the float32 action's resolution (bids are (a + 1) bid_max / 2 of a float32 a).
        print(f"| {name} | {np.mean(bid[won] / value[won]):.3f} | {np.mean(bid > value + 1e-6):.3f} | "
              f"{regret[won].mean():.4f} | {regret[~won].mean():.4f} | {regret.mean():.4f} | {capped.mean():.4f} |")
    print()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(samples), figsize=(3.2 * len(samples), 3.4), sharey=True)
    rng = np.random.default_rng(0)
    top = sc.config.bid_max
    for ax, (name, (value, bid)) in zip(axes, samples.items()):
        pick = rng.choice(len(value), min(3000, len(value)), replace=False)
        ax.scatter(value[pick], bid[pick], s=2, alpha=0.3)
        ax.plot([0, top], [0, top], "k-", lw=0.8, label="b = v")
        ax.set_title(name, fontsize=8)
        ax.set_xlabel("value v")
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
    axes[0].set_ylabel("bid b")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"SemCom-IoTAuction: bids against values (first price, {sc.num_agents} bidders; evaluation episodes)",
                 fontsize=9)
    fig.tight_layout()
    figure.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(figure, dpi=110)
    plt.close(fig)
    print(f"figure: {figure}\n")


def mechanisms(iterations: int, out: Path) -> None:
    """Revenue, truthful regret and IR of the mechanisms at the task's N on the calibrated valuation."""
    from semcom_agents.myersonnet import train

    n = IoTAuctionV1().num_agents
    checkpoint = out / f"iot_auction_v1_semantic_n{n}.npz"
    if not checkpoint.exists():
        start = time.perf_counter()
        net = train(IoTAuctionV1(mechanism="second_price").sample_valuations, n, iterations, seed=0,
                    valuation="SemCom-IoTAuction-v1 semantic")
        out.mkdir(parents=True, exist_ok=True)
        net.save(checkpoint)
        print(f"MyersonNet: {iterations} iterations in {time.perf_counter() - start:.0f} s; "
              f"held-out revenue {net.metadata['test_revenue']:.4f}\n")
    print(f"## Mechanism track (N = {n}, calibrated semantic valuation, truthful bidders; "
          f"seeds {SEEDS[0]}..{SEEDS[-1]} x {EPISODES} episodes)\n")
    print("| mechanism | revenue | truthful regret | IR violations (share of sales) | no sale | welfare |")
    print("| --- | --- | --- | --- | --- | --- |")
    base = None
    for mechanism in ("second_price", "second_price_reserve", "myerson", "neural"):
        kwargs = {"neural_checkpoint": str(checkpoint)} if mechanism == "neural" else {}
        sc = IoTAuctionV1(mechanism=mechanism, **kwargs)
        policy = make_policy("truthful", sc)
        revenue, regret, violations, no_sale, welfare = [], [], [], [], []
        for s in SEEDS:
            # The episodes of `evaluate` (semcom_envs.evaluation): copy i of seed s is seeded s 2^32 + i.
            keys = streams.episode_key(streams.seed_key(s * EPISODE_SEED_STRIDE + np.arange(EPISODES)), 0)
            runner_state, obs = sc.reset(keys)
            v_paid, sales, rs, rg, ns, wf = 0, 0, [], [], [], []
            for _ in range(sc.config.max_steps):
                tr = sc.step(runner_state, policy.act(obs, None))
                runner_state, obs, info = tr.state, tr.observations, tr.infos
                sold = info["winner"] >= 0
                v_paid += int((sold & (info["revenue"] > info["winner_value"] + 1e-9)).sum())
                sales += int(sold.sum())
                rs.append(info["revenue"]), rg.append(info["regret"].mean(axis=1)), ns.append(~sold), wf.append(info["winner_value"])
            revenue.append(float(np.mean(rs))), regret.append(float(np.mean(rg))), no_sale.append(float(np.mean(ns)))
            welfare.append(float(np.mean(wf))), violations.append(v_paid / max(sales, 1))
        base = base or revenue
        if mechanism == "second_price":
            oracle = [_myerson_given_distances(sc, s) for s in SEEDS]
        gain = 100 * (np.asarray(revenue) / np.asarray(base) - 1)
        print(f"| {mechanism} | {_ci(revenue)} ({_ci(gain)} % vs second price) | {_ci(regret)} | {_ci(violations)} | "
              f"{_ci(no_sale)} | {_ci(welfare)} |")
    gain = 100 * (np.asarray(oracle) / np.asarray(base) - 1)
    print(f"| myerson given the distances (bound) | {_ci(oracle)} ({_ci(gain)} % vs second price) | 0 | 0 | | |")
    print()


def _myerson_given_distances(sc: IoTAuctionV1, seed: int) -> float:
    """Revenue of Myerson's auction for each episode's own (asymmetric) value distributions: given the distances
    fixed at reset, values are independent across devices and slots, so this is the optimal revenue of a
    mechanism that knows the distances (what a learned mechanism could at best reach with them)."""
    keys = streams.episode_key(streams.seed_key(seed * EPISODE_SEED_STRIDE + np.arange(EPISODES)), 0)
    state, _ = sc.reset(keys)
    values, distances = [], state["distance_m"]
    for _ in range(sc.config.max_steps):
        values.append(state["value"])
        state = sc.step(state, {a: np.full((EPISODES, 1), -1.0, np.float32) for a in sc.agents}).state
    values = np.stack(values, axis=1)  # (episodes, slots, N)
    revenue = []
    for e in range(EPISODES):
        # One device at a fixed distance: the scenario with a degenerate distance range samples its values.
        dists = [auctions.ValueDistribution.empirical(
            IoTAuctionV1(distance_range_m=(float(d), float(d))).sample_valuations(4000, seed=2**41).ravel())
            for d in distances[e]]
        revenue.append(auctions.Myerson(dists)(values[e])[1].mean())
    return float(np.mean(revenue))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mappo", nargs="*", default=[], help="policy_seed*.pt files of `semcom train --agent mappo` on the task (v2)")
    parser.add_argument("--myersonnet-iterations", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=Path("runs/iot_auction_task_study"))
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=("calibration", "bidding", "profiles", "populations", "memory", "mechanisms"))
    parser.add_argument("--mappo-v1", nargs="*", default=[],
                        help="policy files learned on SemCom-IoTAuction-v1 (learn_ranked_metric), for the profiles part")
    parser.add_argument("--figure", type=Path, default=Path("docs/figures/iot-auction-v1-bids.png"),
                        help="where the profiles' figure of bids against values is written")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    if "calibration" not in args.skip:
        calibration()
    if "bidding" not in args.skip:
        bidding(args.mappo)
    if "profiles" not in args.skip:
        bid_profiles(args.mappo_v1, args.mappo, args.figure)
    if "populations" not in args.skip:
        populations()
    if "memory" not in args.skip:
        memory()
    if "mechanisms" not in args.skip:
        mechanisms(args.myersonnet_iterations, args.out)


if __name__ == "__main__":
    main()
