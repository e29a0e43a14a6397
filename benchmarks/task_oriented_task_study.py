"""Does SemCom-TaskOriented-v1 (and -v2) discriminate between policies, and do the source's claims hold on it?

Part 1 (the leaderboard's measurement): every baseline but ``crraus`` (and, with ``--mappo DIR``,
the MAPPO policies ``DIR/policy_seed{s}.pt`` of ``semcom train``), run ``s`` evaluated on evaluation
seed ``10000 + s`` over ``--episodes`` episodes; the mean primary metric (``weighted_success``)
with its 95% CI over runs, the normalised score ``(x - random) / (best full-information reference -
random)`` per run, and P(a run beats a run of the best local baseline).

Part 2 (the source's claims, on ``--claim-episodes`` one-slot episodes of evaluation seed 10000,
every other field at the task's): CRRA against FRA, FCR and MSR over ``P_max`` for both
``channel_scale`` mappings, and CRRAUS against CRRA in weighted success on ``--crraus-episodes``
of them (CRRAUS costs about a minute and a half per slot at U = 10), with how many users it drops.
Part 3 (``--regimes``): is there a regime of the source's model where each user's own information
is not enough? Per regime, ``local_select``'s ``(k, tau)`` is tuned on ``--regime-episodes`` episodes
of seed 900 (``k`` in 1..U, ``tau`` in {0, 0.05, 0.1, 0.2, 0.3}) and scored on the same number of
episodes of the held-out seed 901, normalised between ``random`` (0) and ``crra`` (1) of that seed.
Regimes: the task, scarcer or richer budgets, a tighter deadline, more and fewer users, two counterfactual
servers (:class:`VariableLoad`, :class:`GrantBased`), clustered users (:class:`Clustered`) and per-slot channel
knowledge (:class:`InstantaneousCSI`) that take away what makes local rules strong.

Part 4 (``--v2``): SemCom-TaskOriented-v2 (image arrivals, deadlines, per-slot channels) and variations of its
traffic, deadline, budgets and channel correlation: ``local_select`` and ``grant_select`` tuned on seed 900, scored
on seed 901 between ``random`` and the full-information ``knapsack``; first, ``knapsack`` with a deadline bonus on
seed 900.
Part 5 (``--load-bound``): how much of SemCom-TaskOriented-v2's span could memory reach? ``local_select`` told one
scalar of the server's information (:class:`LoadInformed`): the number of cameras ON (persistent over bursts of 50
slots, so a user's history of grants could at best estimate it), or the number of users with an image waiting this
slot. Tuned on seed 900, scored on the protocol's evaluation seeds against ``grant_select`` (per-run pairs and
P(improvement)).
Part 6 (``--energy``): SemCom-TaskOriented-v2 with energy-harvesting cameras (:class:`EnergyHarvesting`), a battery
per camera, the local sequential resource v2 lacks: at three harvesting ranges, ``grant_select`` that joins only with
the energy for its image (:class:`EnergyGrantSelect`) against the battery-aware full-information ``knapsack``
(:class:`EnergyKnapsack`), tuned on seed 900, scored on seed 901.

Measures; asserts nothing.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/task_oriented_task_study.py [--seeds 5] [--episodes 16]
        [--mappo DIR] [--claim-episodes 32] [--crraus-episodes 4] [--skip-claims] [--power-max-w W]
        [--regimes] [--regime-episodes 12] [--regime-match TEXT] [--v2] [--load-bound] [--energy]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import gymnasium
import numpy as np

from semcom_agents import load_policy
from semcom_agents.training import policy_path
from semcom_baselines import make_policy, policies_for
from semcom_envs.evaluation import EPISODE_SEED_STRIDE, evaluate, mean_ci
from semcom_envs.leaderboard.stats import probability_of_improvement
from semcom_baselines.task_oriented import LocalSelect
from semcom_baselines.task_oriented_queues import GrantSelect, Knapsack
from semcom_envs import streams
from semcom_envs.api.core import Transition
from semcom_envs.scenarios.task_oriented import O_MAX, TaskOrientedV1
from semcom_envs.scenarios.task_oriented_queues import TaskOrientedQueues

EVAL_SEED_BASE = 10_000
"""The protocol's evaluation seeds: run ``s`` on ``10000 + s`` (:mod:`semcom_envs.leaderboard.protocol`)."""
_D_LOAD = 40
"""Stream domain of :class:`VariableLoad`'s draws (clear of the core's domains 0-2)."""
_D_HOTSPOT = 42
"""Stream domain of :class:`Clustered`'s draws."""
_D_SLOT_FADING = 44
"""Stream domain of :class:`InstantaneousCSI`'s per-slot fading."""
_D_ENERGY = 46
"""Stream domain of :class:`EnergyHarvesting`'s per-episode draws."""


def task_table(seeds: int, episodes: int, mappo: Path | None, power_max_w: float | None = None) -> None:
    """Part 1: every baseline (and MAPPO) on the task (``power_max_w`` overridden if given), the leaderboard's way."""
    sc = TaskOrientedV1(**({} if power_max_w is None else {"power_max_w": power_max_w}))
    names = [n for n in policies_for(sc.env_id) if n != "crraus"]
    per_seed, full, wall = {}, {}, {}
    for name in names:
        start = time.perf_counter()
        policy = make_policy(name, sc)
        full[name] = policy.uses_global_state
        per_seed[name] = np.array([evaluate(sc, policy, episodes, EVAL_SEED_BASE + s).mean(sc.primary_metric)
                                   for s in range(seeds)])
        wall[name] = time.perf_counter() - start
    trained = [s for s in range(seeds) if mappo is not None and policy_path(mappo, s).is_file()]
    if trained:  # the runs whose policy file exists (normalised against the same runs' random and reference)
        runs = [evaluate(sc, load_policy(policy_path(mappo, s), sc, name="mappo"), episodes, EVAL_SEED_BASE + s)
                for s in trained]
        per_seed["mappo"], full["mappo"], wall["mappo"] = np.array([r.mean(sc.primary_metric) for r in runs]), False, 0.0
    mean = {name: v.mean() for name, v in per_seed.items()}
    reference = max((n for n in names if full[n]), key=mean.__getitem__)
    best_local = max((n for n in names if not full[n] and n != "random"), key=mean.__getitem__)
    span = per_seed[reference] - per_seed["random"]
    print(f"## {sc.env_id}, P_max = {sc.config.power_max_w:g} W: {seeds} runs x {episodes} episodes x {sc.config.max_steps} slots")
    print(f"normalised: random 0, best full-information reference ({reference}) 1; best local baseline: {best_local}\n")
    print(f"| policy | information | {sc.primary_metric} (95% CI) | normalised (95% CI) | P(better than {best_local}) "
          "| evaluation wall-clock [s] |")
    print("|---|---|---|---|---|---|")
    for name in sorted(per_seed, key=lambda n: -mean[n]):
        runs_of = trained if name == "mappo" else list(range(seeds))
        m, h = mean_ci(per_seed[name])
        score, score_h = mean_ci((per_seed[name] - per_seed["random"][runs_of]) / span[runs_of])
        poi = probability_of_improvement(per_seed[name], per_seed[best_local])
        label = f"{name} ({len(runs_of)} runs)" if name == "mappo" else name
        print(f"| {label} | {'full' if full[name] else 'local'} | {m:.4f} ± {h:.4f} | {score:.3f} ± {score_h:.3f} | "
              f"{poi:.2f} | {wall[name]:.0f} |")
    print()


def slot_values(sc: TaskOrientedV1, name: str, episodes: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per episode (one slot each), the objective (13) of policy ``name`` and its infos, on evaluation seed 10000."""
    from semcom_envs.api.runner import BatchRunner

    runner = BatchRunner(sc, episodes, num_threads=1)
    obs = runner.reset([EVAL_SEED_BASE * EPISODE_SEED_STRIDE + i for i in range(episodes)])
    policy = make_policy(name, sc)
    tr = runner.step(policy.act(obs, runner.global_state()))
    runner.close()
    return tr.infos["objective"] / sc.num_agents, tr.infos


def claims(episodes: int, crraus_episodes: int) -> None:
    """Part 2: the source's claims (CRRA >= 15% over FRA; CRRAUS >= 10% over FRA/FCR in weighted success)."""
    print(f"## Source claims: CRRA against the baselines ({episodes} one-slot episodes, weighted success)\n")
    print("| channel_scale | P_max [W] | fra | fcr | msr | crra | crra / fra - 1 | crra / fcr - 1 | crra / msr - 1 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for scale in ("gain", "sqrt-gain"):
        for p_max in (1e-3, 1e-2, 1e-1, 1.0):
            sc = TaskOrientedV1(channel_scale=scale, power_max_w=p_max, max_steps=1)
            v = {name: slot_values(sc, name, episodes)[0].mean() for name in ("fra", "fcr", "msr", "crra")}
            print(f"| {scale} | {p_max:g} | {v['fra']:.4f} | {v['fcr']:.4f} | {v['msr']:.4f} | {v['crra']:.4f} | "
                  f"{v['crra'] / v['fra'] - 1:+.1%} | {v['crra'] / v['fcr'] - 1:+.1%} | {v['crra'] / v['msr'] - 1:+.1%} |")
    print(f"\n## CRRAUS against CRRA ({crraus_episodes} one-slot episodes, the task's config)\n")
    sc = TaskOrientedV1(max_steps=1)
    crra, _ = slot_values(sc, "crra", crraus_episodes)
    start = time.perf_counter()
    crraus, infos = slot_values(sc, "crraus", crraus_episodes)
    fra, _ = slot_values(sc, "fra", crraus_episodes)
    fcr, _ = slot_values(sc, "fcr", crraus_episodes)
    dropped = (~infos["selected"]).sum(axis=1)
    print(f"weighted success: fra {fra.mean():.4f}, fcr {fcr.mean():.4f}, crra {crra.mean():.4f}, crraus {crraus.mean():.4f}; "
          f"crraus / crra - 1 = {crraus.mean() / crra.mean() - 1:+.2%}, crraus / fra - 1 = {crraus.mean() / fra.mean() - 1:+.1%}, "
          f"crraus / fcr - 1 = {crraus.mean() / fcr.mean() - 1:+.1%}")
    print(f"per slot crraus - crra: {np.round(crraus - crra, 5).tolist()}; users dropped: {dropped.tolist()}; "
          f"crraus wall-clock {time.perf_counter() - start:.0f} s")


class VariableLoad(TaskOrientedV1):
    """Counterfactual: in each episode only ``k ~ U{1..U}`` random users have a task (the cell's load).

    The others have service weight 0 (what their observation shows: a user does not see the load) and
    are never selected, so the number of users competing for the budgets varies from 1 to U and is
    unknown to each of them. Continuous actions only (an inactive user's action is overridden by -1).
    """

    def reset(self, keys):
        state, _ = super().reset(keys)
        u, zero = self.num_agents, np.zeros_like(state["t"])
        rank = streams.uniforms(state["key"], zero, _D_LOAD, (u + 1) // 2)[:, :u].argsort(axis=1).argsort(axis=1)
        load = 1 + np.minimum((streams.uniforms(state["key"], zero, _D_LOAD + 1, 1)[:, 0] * u).astype(np.int64), u - 1)
        state["weight"] = np.where(rank < load[:, None], state["weight"], 0.0)
        return state, self._observe(state)

    def step(self, state, actions):
        idle = state["weight"] == 0
        return super().step(state, {a: np.where(idle[:, i, None], -1.0, actions[a]).astype(np.float32)
                                    for i, a in enumerate(self.agents)})


class Clustered(TaskOrientedV1):
    """Counterfactual positions: a share of the users in one hotspot per episode, the rest as in the task.

    3GPP TR 36.814's clustered drop puts user equipment in discs around hotspot centres; here each user is in
    the episode's hotspot (a disc of ``radius_m`` whose centre is drawn uniformly in distance) with
    probability ``share``. A hotspot's users have nearly the same gain, so how many users can meet the
    deadline varies from episode to episode, which a user's own gain does not tell it.
    """

    def __init__(self, share: float = 2.0 / 3.0, radius_m: float = 40.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.share, self.radius_m = share, radius_m

    def reset(self, keys):
        state, _ = super().reset(keys)
        c, u, zero = self.config, self.num_agents, np.zeros_like(state["t"])
        lo, hi = c.distance_range_m
        draw = streams.uniforms(state["key"], zero, _D_HOTSPOT, (3 * u + 2) // 2)[:, :3 * u + 1]
        centre = lo + self.radius_m + (hi - lo - 2.0 * self.radius_m) * draw[:, :1]
        r, angle = self.radius_m * np.sqrt(draw[:, 1:u + 1]), 2.0 * np.pi * draw[:, u + 1:2 * u + 1]
        in_hotspot = draw[:, 2 * u + 1:] < self.share
        hotspot = np.maximum(np.hypot(centre + r * np.cos(angle), r * np.sin(angle)), lo)
        state["distance_m"] = np.where(in_hotspot, hotspot, state["distance_m"])
        state["delta2"] = self.channel_variance_at(state["distance_m"])
        return state, self._observe(state)


class GrantBased(TaskOrientedV1):
    """Counterfactual server: a share is an absolute request (``s B_max``, ``s P_max``), granted in full
    unless the requests exceed the budget, then prorated (an uplink scheduler granting buffer-status
    requests); what nobody requests stays unused, so the users must coordinate their requests."""

    def allocate(self, o, share_b, share_p, eligible=None):
        c = self.config
        selected = self.requesting(share_b, share_p, eligible)

        def grant(share: np.ndarray, total: float, minimum: float) -> np.ndarray:
            request = np.where(selected, np.maximum(share * total, minimum), 0.0)
            asked = request.sum(axis=-1, keepdims=True)
            return request * np.minimum(1.0, total / np.where(asked > 0, asked, 1.0))

        return {"compression": np.where(selected, o, 0.0), "bandwidth_hz": grant(share_b, c.bandwidth_max_hz, c.bandwidth_min_hz),
                "power_w": grant(share_p, c.power_max_w, c.power_min_w), "selected": selected}

    def encode_allocation(self, o, bandwidth_hz, power_w, selected):
        c, sel = self.config, np.asarray(selected, dtype=bool)
        share_b = np.where(sel, np.maximum(np.asarray(bandwidth_hz) / c.bandwidth_max_hz, 1e-6), 0.0)
        share_p = np.where(sel, np.maximum(np.asarray(power_w) / c.power_max_w, 1e-6), 0.0)
        o = np.clip(np.broadcast_to(o, sel.shape), c.compression_min, O_MAX)
        a = np.stack([(o - c.compression_min) / (O_MAX - c.compression_min), share_b, share_p], axis=-1) * 2.0 - 1.0
        return {agent: a[:, i].astype(np.float32) for i, agent in enumerate(self.agents)}


class InstantaneousCSI(TaskOrientedV1):
    """Counterfactual channel knowledge: each slot's fading is known before the allocation and decides delivery.

    The source allocates on statistical CSI (``h ~ N(0, delta^2)``, the reward a delivery *probability*), so the
    slots of an episode repeat one problem. Here the state's ``delta2`` is the slot's realised ``|h|^2``
    (``|h| = |n| delta``, ``n ~ N(0, 1)`` drawn afresh each slot), which each user observes as its gain and the
    server knows, and a selected user's task counts only if its realised delay meets the deadline:
    ``w_i eta(o_i) 1[t_i <= t0]``. Policies plan with the model's delivery probability at ``delta = |h|`` (a
    smooth stand-in for the step), so ``crra`` becomes CRRA on the realised channel, this regime's
    full-information reference: the server sees which users' channels are good in this slot (multi-user
    diversity), each user only its own.
    """

    def reset(self, keys):
        state, _ = super().reset(keys)
        state["mean_delta2"] = state["delta2"]
        state["delta2"] = self._slot_delta2(state["key"], state["t"], state["mean_delta2"])
        return state, self._observe(state)

    def _slot_delta2(self, keys: np.ndarray, t: np.ndarray, mean_delta2: np.ndarray) -> np.ndarray:
        return np.square(streams.normals(keys, t, _D_SLOT_FADING, self.num_agents)) * mean_delta2

    def step(self, state, actions):
        tr = super().step(state, actions)
        info, sel = tr.infos, tr.infos["selected"]
        bw, pw = np.where(sel, info["bandwidth_hz"], 1.0), np.where(sel, info["power_w"], 1.0)
        delivered = sel & (self.delay_s(info["data_bits"], bw, pw, np.sqrt(state["delta2"])) <= self.config.deadline_s)
        success = np.where(delivered, info["eta"], 0.0)
        reward = state["weight"] * success
        new = {**tr.state, "last_success": success,
               "delta2": self._slot_delta2(tr.state["key"], tr.state["t"], state["mean_delta2"])}
        infos = {**info, "delivered": delivered, "success_prob": success, "objective": reward.sum(axis=1)}
        return Transition(new, self._observe(new), {a: reward[:, i] for i, a in enumerate(self.agents)},
                          tr.terminated, tr.truncated, infos)


REGIMES: list[tuple[str, type[TaskOrientedV1], dict]] = [
    ("the task (P_max 10 mW, B_max 20 MHz, t0 5 ms, U 10)", TaskOrientedV1, {}),
    ("P_max 1 mW", TaskOrientedV1, {"power_max_w": 1e-3}),
    ("P_max 0.3 mW", TaskOrientedV1, {"power_max_w": 3e-4}),
    ("P_max 0.1 W, B_max 2 MHz", TaskOrientedV1, {"power_max_w": 0.1, "bandwidth_max_hz": 2e6}),
    ("B_max 5 MHz", TaskOrientedV1, {"bandwidth_max_hz": 5e6}),
    ("B_max 2 MHz", TaskOrientedV1, {"bandwidth_max_hz": 2e6}),
    ("t0 2 ms", TaskOrientedV1, {"deadline_s": 2e-3}),
    ("U 20", TaskOrientedV1, {"num_users": 20}),
    ("U 30", TaskOrientedV1, {"num_users": 30}),
    ("U 3", TaskOrientedV1, {"num_users": 3}),
    ("U 3, P_max 1 mW", TaskOrientedV1, {"num_users": 3, "power_max_w": 1e-3}),
    ("U 5, B_max 5 MHz", TaskOrientedV1, {"num_users": 5, "bandwidth_max_hz": 5e6}),
    ("variable load (k ~ U{1..10} users with a task)", VariableLoad, {}),
    ("grant-based server (absolute requests)", GrantBased, {}),
    ("clustered users (2/3 in a 40 m hotspot)", Clustered, {}),
    ("clustered users (all in a 100 m hotspot)", Clustered, {"share": 1.0, "radius_m": 100.0}),
    ("instantaneous CSI (each slot's fading known; delivery realised)", InstantaneousCSI, {}),
]


def regimes(episodes: int, match: str | None = None) -> None:
    """Part 3: tuned ``local_select`` (seed 900) against ``crra`` on the held-out seed 901, per regime (those whose
    label contains ``match``; ``None``: all)."""
    print(f"## Can local information fall short? ({episodes} episodes, tuned on seed 900, scored on seed 901)\n")
    print("| regime | random | fra | local_select (k, tau) | crra | fra normalised | local_select normalised |")
    print("|---|---|---|---|---|---|---|")
    for label, cls, fields in REGIMES:
        if match is not None and match not in label:
            continue
        sc = cls(**fields)

        def score(policy, seed: int, sc: TaskOrientedV1 = sc) -> float:
            return evaluate(sc, policy, episodes, seed).mean(sc.primary_metric)

        tuned = max(((score(LocalSelect(sc, k, tau), 900), k, tau) for k in range(1, sc.num_agents + 1)
                     for tau in (0.0, 0.05, 0.1, 0.2, 0.3)), key=lambda t: t[0])
        v = {name: score(make_policy(name, sc), 901) for name in ("random", "fra", "crra")}
        local = score(LocalSelect(sc, tuned[1], tuned[2]), 901)
        span = v["crra"] - v["random"]
        print(f"| {label} | {v['random']:.4f} | {v['fra']:.4f} | {local:.4f} ({tuned[1]}, {tuned[2]:g}) | {v['crra']:.4f} | "
              f"{(v['fra'] - v['random']) / span:.3f} | {(local - v['random']) / span:.3f} |", flush=True)


V2_REGIMES: list[tuple[str, dict]] = [
    ("the task (60 frame/s cameras, D 4, 10 mW, 20 MHz, U 10)", {}),
    ("30 frame/s (task_prob_on 0.15)", {"task_prob_on": 0.15}),
    ("100 frame/s (task_prob_on 0.5)", {"task_prob_on": 0.5}),
    ("deadline 1 slot", {"deadline_slots": 1}),
    ("deadline 8 slots", {"deadline_slots": 8}),
    ("bursts of 5 slots (on/off 0.2)", {"on_to_off_prob": 0.2, "off_to_on_prob": 0.2}),
    ("P_max 3 mW", {"power_max_w": 3e-3}),
    ("B_max 5 MHz", {"bandwidth_max_hz": 5e6}),
    ("U 20 at 30 frame/s", {"num_users": 20, "task_prob_on": 0.15}),
    ("U 5 at 120 frame/s", {"num_users": 5, "task_prob_on": 0.6}),
    ("static cameras, fading correlation 0.9 (20 Hz Doppler)", {"fading_correlation": 0.9}),
    ("static cameras, fading correlation 0.99 (5 Hz Doppler)", {"fading_correlation": 0.99}),
]
"""SemCom-TaskOriented-v2 and variations of its traffic, deadline, budgets and channel correlation (part 4)."""


def v2_regimes(episodes: int, match: str | None = None) -> None:
    """Part 4: on SemCom-TaskOriented-v2 and its variations, ``local_select`` and ``grant_select`` tuned on seed 900,
    scored on the held-out seed 901 between ``random`` (0) and the full-information ``knapsack`` (1)."""
    sc = TaskOrientedQueues()
    bonus = {b: evaluate(sc, Knapsack(sc, deadline_bonus=b), episodes, 900).mean(sc.primary_metric) for b in (0, 1, 3, 10)}
    print(f"knapsack with a deadline bonus b (seed 900): {', '.join(f'b = {b}: {v:.4f}' for b, v in bonus.items())}\n")
    print(f"## SemCom-TaskOriented-v2: local rules tuned on seed 900, scored on seed 901 ({episodes} episodes)\n")
    print("| regime | random | fra | local_select (k, tau) | grant_select (k0, scale, tau) | knapsack | "
          "local_select normalised | grant_select normalised |")
    print("|---|---|---|---|---|---|---|---|")
    for label, fields in V2_REGIMES:
        if match is not None and match not in label:
            continue
        sc = TaskOrientedQueues(**fields)

        def score(policy, seed: int, sc: TaskOrientedQueues = sc) -> float:
            return evaluate(sc, policy, episodes, seed).mean(sc.primary_metric)

        ls = max(((score(LocalSelect(sc, k, tau), 900), k, tau) for k in (1, 2, 3, 4, 6, 8, 10)
                  for tau in (0.0, 0.05, 0.1, 0.2, 0.3)), key=lambda t: t[0])
        gs = max(((score(GrantSelect(sc, k0, scale, tau), 900), k0, scale, tau) for k0 in (1, 2, 3)
                  for scale in (0.5, 1.0, 1.5, 2.0) for tau in (0.05, 0.1)), key=lambda t: t[0])
        v = {name: score(make_policy(name, sc), 901) for name in ("random", "fra", "knapsack")}
        local, grant = score(LocalSelect(sc, *ls[1:]), 901), score(GrantSelect(sc, *gs[1:]), 901)
        span = v["knapsack"] - v["random"]
        print(f"| {label} | {v['random']:.4f} | {v['fra']:.4f} | {local:.4f} {ls[1:]} | {grant:.4f} {gs[1:]} | "
              f"{v['knapsack']:.4f} | {(local - v['random']) / span:.3f} | {(grant - v['random']) / span:.3f} |", flush=True)


class LoadInformed(LocalSelect):
    """``local_select`` planning for ``k = clip(round(scale n), 1, U)`` users, where ``n`` is told by the server: the
    number of cameras ON (``count="on"``) or of users with an image waiting (``count="waiting"``). Not local: the
    bound on what a user's memory of its grants could be worth (Part 5)."""

    name = "load_informed"
    uses_global_state = True

    def __init__(self, scenario: TaskOrientedQueues, count: str, scale: float, tau: float) -> None:
        super().__init__(scenario, 2, tau)
        self.count, self.scale = count, scale

    def act(self, observations, global_state):
        sc = self.scenario
        own = sc.decode_observation(np.stack([observations[a] for a in sc.agents], axis=1))
        full = sc.decode_global_state(global_state)
        told = full["on"] > 0.5 if self.count == "on" else full["queue"].sum(axis=-1) > 0.5
        k = np.broadcast_to(np.clip(np.round(self.scale * told.sum(axis=1, keepdims=True)), 1, sc.num_agents), own["delta2"].shape)
        o, _, _, selected = self.select(own["delta2"], own["weight"], k)
        return sc.encode_shares(o, 1.0 / k, 1.0 / k, selected)


def load_bound(seeds: int, episodes: int) -> None:
    """Part 5: :class:`LoadInformed` (both counts) tuned on seed 900, then on the protocol's evaluation seeds against
    ``grant_select``, normalised per run between ``random`` and ``knapsack``."""
    sc = TaskOrientedQueues()

    def score(policy, seed: int) -> float:
        return evaluate(sc, policy, episodes, seed).mean(sc.primary_metric)

    runs = range(EVAL_SEED_BASE, EVAL_SEED_BASE + seeds)
    ref = {name: np.array([score(make_policy(name, sc), s) for s in runs]) for name in ("random", "knapsack", "grant_select")}
    span = ref["knapsack"] - ref["random"]
    print(f"## {sc.env_id}: local_select told the load, tuned on seed 900, on evaluation seeds {runs[0]}-{runs[-1]} "
          f"({episodes} episodes each)\n")
    print("| rule | parameters (seed 900) | weighted_success per run | normalised mean | per-run gain over grant_select "
          "(of the span) | P(better than grant_select) |")
    print("|---|---|---|---|---|---|")
    rows = {"grant_select": (ref["grant_select"], "k0 = 2, scale = 0.5, tau = 0.05")}
    for count in ("on", "waiting"):
        best = max(((score(LoadInformed(sc, count, scale, tau), 900), scale, tau)
                    for scale in (0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75, 1.0) for tau in (0.0, 0.05, 0.1)), key=lambda t: t[0])
        _, scale, tau = best
        rows[f"told the number of {'cameras ON' if count == 'on' else 'users waiting'}"] = (
            np.array([score(LoadInformed(sc, count, scale, tau), s) for s in runs]), f"scale = {scale}, tau = {tau}")
    for label, (values, params) in rows.items():
        gain = (values - ref["grant_select"]) / span
        print(f"| {label} | {params} | {', '.join(f'{v:.4f}' for v in values)} | "
              f"{np.mean((values - ref['random']) / span):.3f} | {', '.join(f'{g:+.3f}' for g in gain)} | "
              f"{probability_of_improvement(values, ref['grant_select']):.2f} |", flush=True)


class EnergyHarvesting(TaskOrientedQueues):
    """SemCom-TaskOriented-v2 with energy-harvesting cameras (Part 6; a counterfactual, not a task).

    Each camera stores what it harvests in a battery (a supercapacitor) of ``capacity_j``; its harvesting power is
    drawn per episode from ``U[harvest_w]`` (indoor light on a small photovoltaic cell: 0.05-0.5 mW is 5-50 uW/cm^2
    on 10 cm^2), its initial charge from ``U[0, capacity_j]``. A served camera spends ``P_i min(t_i, t0)``; one whose
    battery holds less browns out: it spends what it has and its image is not delivered. Each user observes its own
    battery and harvesting power (two features appended to v2's), the global state holds everyone's.
    """

    metrics = {**TaskOrientedQueues.metrics, "energy_uj": "energy spent per user and slot [uJ]",
               "brownout": "brownouts per user and slot"}

    def __init__(self, harvest_w: tuple[float, float], capacity_j: float = 100e-6, **kwargs) -> None:
        super().__init__(**kwargs)
        self.harvest_w, self.capacity_j = harvest_w, capacity_j
        ones = np.ones(2 * self.num_agents)
        self._obs_space = gymnasium.spaces.Box(np.concatenate([self._obs_space.low, [0, 0]]).astype(np.float32),
                                               np.concatenate([self._obs_space.high, [1, 1]]).astype(np.float32))
        self.state_space = gymnasium.spaces.Box(np.concatenate([self.state_space.low, 0 * ones]).astype(np.float32),
                                                np.concatenate([self.state_space.high, ones]).astype(np.float32))

    def _features(self, state) -> np.ndarray:
        """``(B, U, 2)``: battery over capacity, harvesting power on its range."""
        lo, hi = self.harvest_w
        return np.stack([state["battery_j"] / self.capacity_j, (state["harvest_power_w"] - lo) / (hi - lo)], axis=-1)

    def reset(self, keys):
        state, _ = super().reset(keys)
        u, (lo, hi) = self.num_agents, self.harvest_w
        draw = streams.uniforms(state["key"], state["t"], _D_ENERGY, u)
        state.update(harvest_power_w=lo + (hi - lo) * draw[:, :u], battery_j=self.capacity_j * draw[:, u:])
        return state, self._observe(state)

    def step(self, state, actions):
        c = self.config
        alloc = self.decode_actions(actions, eligible=state["queue"].sum(axis=-1) > 0)
        sel = alloc["selected"]
        energy = np.where(sel, alloc["power_w"] * np.minimum(self.slot_delay_s(state, alloc), c.deadline_s), 0.0)
        short = energy > state["battery_j"]
        # A brown-out is v2's step on a channel too weak to deliver anything.
        tr = super().step({**state, "delta2": np.where(short, 1e-300, state["delta2"])}, actions)
        spent = np.minimum(energy, state["battery_j"])
        battery = np.minimum(state["battery_j"] - spent + state["harvest_power_w"] * c.deadline_s, self.capacity_j)
        new = {**tr.state, "battery_j": battery, "harvest_power_w": state["harvest_power_w"]}
        infos = {**tr.infos, "energy_j": spent, "brownout": sel & short}
        return Transition(new, self._observe(new), tr.rewards, tr.terminated, tr.truncated, infos)

    def step_metrics(self, team_reward, infos):
        return {**super().step_metrics(team_reward, infos), "energy_uj": 1e6 * infos["energy_j"].mean(axis=1),
                "brownout": infos["brownout"].mean(axis=1)}

    def _observe(self, state):
        base = super()._observe(state)
        if "battery_j" not in state:  # v2's reset observes before the battery is drawn
            return base
        extra = self._features(state).astype(np.float32)
        return {a: np.concatenate([base[a], extra[:, i]], axis=-1) for i, a in enumerate(self.agents)}

    def global_state(self, state):
        extra = self._features(state)
        return np.concatenate([super().global_state(state), extra[..., 0], extra[..., 1]], axis=1).astype(np.float32)

    def _decode_energy(self, battery: np.ndarray, harvest: np.ndarray, out: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        lo, hi = self.harvest_w
        out.update(battery_j=battery * self.capacity_j, harvest_power_w=lo + (hi - lo) * harvest)
        return out

    def decode_global_state(self, global_state):
        gs, u = np.asarray(global_state, dtype=np.float64), self.num_agents
        return self._decode_energy(gs[:, -2 * u:-u], gs[:, -u:], super().decode_global_state(gs[:, :-2 * u]))

    def decode_observation(self, observation):
        obs = np.asarray(observation, dtype=np.float64)
        return self._decode_energy(obs[..., -2], obs[..., -1], super().decode_observation(obs[..., :-2]))


def image_energy_j(sc: EnergyHarvesting, full_delay_s: np.ndarray) -> np.ndarray:
    """``P_i t_i`` of an image sent with the same share ``s`` of both budgets: ``s P_max`` for ``t_i = t_full / s``,
    so ``P_max t_full`` whatever ``s`` (``t_full``: its delay at the full budgets)."""
    return sc.config.power_max_w * full_delay_s


class EnergyKnapsack(Knapsack):
    """``knapsack`` serving only cameras with the energy for their image, each image's value less ``price (1 - b /
    capacity)`` per ``P_max t0`` of energy it costs (full information; ``price`` 0: myopic)."""

    scenario: EnergyHarvesting

    def __init__(self, scenario: EnergyHarvesting, price: float) -> None:
        super().__init__(scenario)
        self.price = price

    def item_values(self, slot, need, values):
        sc, c = self.scenario, self.scenario.config
        energy = image_energy_j(sc, need * c.deadline_s)
        battery = slot["battery_j"][..., None]
        cost = self.price * (1.0 - battery / sc.capacity_j) * energy / (c.power_max_w * c.deadline_s)
        # The margin: the server's minimum shares make a served user's B and P shares differ slightly from equal ones,
        # so its energy differs slightly from P_max t_full; the brown-outs the measurement counts check the margin.
        values = np.where(energy * (1.0 + 1e-6) <= battery, values - cost, -np.inf)
        return np.where(values > 0.0, values, -np.inf)


class EnergyGrantSelect(GrantSelect):
    """``grant_select`` joining only with the energy for its image, and only if it costs at most ``theta`` of the
    battery's capacity (local: own battery and channel)."""

    scenario: EnergyHarvesting

    def __init__(self, scenario: EnergyHarvesting, theta: float) -> None:
        super().__init__(scenario)
        self.theta = theta

    def plan(self, own):
        o, k, selected = super().plan(own)
        sc, c = self.scenario, self.scenario.config
        energy = image_energy_j(sc, sc.delay_s(c.data_bits * (1.0 - o), c.bandwidth_max_hz, c.power_max_w, np.sqrt(own["delta2"])))
        return o, k, selected & (energy * (1.0 + 1e-6) <= own["battery_j"]) & (energy <= self.theta * sc.capacity_j)


HARVEST_RANGES_W = ((0.05e-3, 0.5e-3), (0.2e-3, 2e-3), (0.5e-3, 5e-3))
"""Part 6's harvesting powers per camera: the battery binds strongly, sometimes, rarely."""


def energy_regimes(episodes: int) -> None:
    """Part 6: per harvesting range, ``EnergyKnapsack``'s ``price`` and ``EnergyGrantSelect``'s ``theta`` tuned on seed
    900, all scored on seed 901 between ``random`` (0) and the better ``EnergyKnapsack`` (1)."""
    print(f"## SemCom-TaskOriented-v2 with energy-harvesting cameras: tuned on seed 900, scored on seed 901 ({episodes} "
          "episodes)\n")
    print("| harvesting power per camera | random | grant_select (energy-blind) | grant_select with energy (theta) | "
          "knapsack, myopic | knapsack with an energy price (price) | grant_select with energy, normalised | "
          "energy per user and slot, uJ (rule; knapsack) |")
    print("|---|---|---|---|---|---|---|---|")
    for harvest in HARVEST_RANGES_W:
        sc = EnergyHarvesting(harvest)

        def run(policy, seed: int, sc: EnergyHarvesting = sc):
            return evaluate(sc, policy, episodes, seed)

        theta = max((0.1, 0.2, 0.3, 0.5, 1.0), key=lambda t: run(EnergyGrantSelect(sc, t), 900).mean(sc.primary_metric))
        price = max((0.0, 0.3, 1.0, 3.0), key=lambda p: run(EnergyKnapsack(sc, p), 900).mean(sc.primary_metric))
        res = {"random": run(make_policy("random", sc), 901), "blind": run(GrantSelect(sc), 901),
               "rule": run(EnergyGrantSelect(sc, theta), 901), "myopic": run(EnergyKnapsack(sc, 0.0), 901),
               "priced": run(EnergyKnapsack(sc, price), 901)}
        v = {k: r.mean(sc.primary_metric) for k, r in res.items()}
        top = max(v["myopic"], v["priced"])
        print(f"| {harvest[0] * 1e3:g}-{harvest[1] * 1e3:g} mW | {v['random']:.4f} | {v['blind']:.4f} | {v['rule']:.4f} "
              f"({theta}) | {v['myopic']:.4f} | {v['priced']:.4f} ({price}) | {(v['rule'] - v['random']) / (top - v['random']):.3f} | "
              f"{res['rule'].mean('energy_uj'):.2f}; {res['priced'].mean('energy_uj'):.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--mappo", type=Path, default=None, help="folder of MAPPO policy_seed{s}.pt files")
    parser.add_argument("--claim-episodes", type=int, default=32)
    parser.add_argument("--crraus-episodes", type=int, default=4)
    parser.add_argument("--skip-claims", action="store_true")
    parser.add_argument("--power-max-w", type=float, default=None, help="override the task's P_max in part 1")
    parser.add_argument("--regimes", action="store_true", help="part 3 only: local information across regimes")
    parser.add_argument("--regime-episodes", type=int, default=12)
    parser.add_argument("--regime-match", default=None, help="only the regimes whose label contains this text")
    parser.add_argument("--v2", action="store_true", help="part 4 only: SemCom-TaskOriented-v2 and its variations")
    parser.add_argument("--load-bound", action="store_true", help="part 5 only: local_select told the load, on v2")
    parser.add_argument("--energy", action="store_true", help="part 6 only: v2 with energy-harvesting cameras")
    args = parser.parse_args()
    if args.energy:
        energy_regimes(args.episodes)
        return
    if args.load_bound:
        load_bound(args.seeds, args.episodes)
        return
    if args.v2:
        v2_regimes(args.regime_episodes, args.regime_match)
        return
    if args.regimes:
        regimes(args.regime_episodes, args.regime_match)
        return
    warnings.filterwarnings("ignore", category=UserWarning)  # cvxpy "solution may be inaccurate": checked by the SCA
    task_table(args.seeds, args.episodes, args.mappo, args.power_max_w)
    if not args.skip_claims:
        claims(args.claim_episodes, args.crraus_episodes)


if __name__ == "__main__":
    main()
