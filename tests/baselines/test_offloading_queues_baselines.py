"""The SemCom-Offloading-v1 baselines can fail these tests when they are wrong.

The joint references are checked against brute force over the full joint action grid
``(3 F P) ** N`` by stepping the real core from the exact (float64) state; the delayed reference is
checked to act on the previous slot's state only; the local rules against their definitions.
"""

from __future__ import annotations

import numpy as np
import pytest

from semcom_baselines import make_policy, policies_for
from semcom_baselines.offloading_queues import DriftPlusPenalty, Exhaustive, ExhaustiveDelayed, Opportunistic
from semcom_baselines.search import joint_grid
from semcom_envs import evaluation, streams
from semcom_envs.scenarios.offloading import GAIN_FEATURE
from semcom_envs.scenarios.offloading_queues import HOLD, LOCAL, OFFLOAD, OffloadingQueues

NAMES = policies_for(OffloadingQueues.env_id)
LOCAL_NAMES = ("local_only", "offload_all", "greedy", "max_weight", "local_dpp", "opportunistic")
# Two devices and 3 x 2 x 2 actions each (144 joint actions) keep brute force cheap; "tight" makes the
# device and edge capacities bind, so frequency and power change what is served.
SMALL = {"num_devices": 2, "num_freq_levels": 2, "num_power_levels": 2}
# Shared access: a device's outcome depends on the others' powers; three devices (1,728 joint actions)
# give each offloader interference from up to two others.
CONFIGS = {"default": SMALL, "tight": {**SMALL, "slot_s": 2e-3, "edge_speedup": 2e-3},
           "shared": {**SMALL, "access": "shared"}, "shared-3": {**SMALL, "num_devices": 3, "access": "shared"}}


def _states(sc: OffloadingQueues, batch: int, seed: int, slots: int = 6):
    """States a few slots into episodes after random play (queues of several ages)."""
    rng = np.random.default_rng(seed)
    state, obs = sc.reset(streams.episode_key(streams.seed_key(np.arange(seed, seed + batch)), 0))
    for _ in range(slots):
        yield state, obs
        tr = sc.step(state, {a: rng.integers(0, sc.action_nvec, (batch, 3)) for a in sc.agents})
        state, obs = tr.state, tr.observations


def _joint_actions(sc: OffloadingQueues) -> np.ndarray:
    """Every joint action ``(J, N, 3)``."""
    per_agent = joint_grid(int(np.prod(sc.action_nvec)), 1)[:, 0]
    single = np.stack(np.unravel_index(per_agent, sc.action_nvec), axis=-1)
    return single[joint_grid(len(single), sc.num_agents)]


def _brute_force(sc: OffloadingQueues, state, rule: str) -> np.ndarray:
    """(B,) best summed score over every joint action, by stepping the core."""
    best = np.full(state["t"].shape[0], -np.inf)
    for joint in _joint_actions(sc):
        actions = {a: np.broadcast_to(joint[i], (state["t"].shape[0], 3)) for i, a in enumerate(sc.agents)}
        best = np.maximum(best, _score(sc, state, actions, rule))
    return best


def _score(sc: OffloadingQueues, state, actions, rule: str) -> np.ndarray:
    tr = sc.step(state, actions)
    reward = np.stack([tr.rewards[a] for a in sc.agents], axis=1)
    if rule == "dpp":
        reward = reward + state["backlog"].sum(-1) * tr.infos["served"] / (sc.deadline * sc.mean_arrival_words**2)
    return reward.sum(axis=1)


@pytest.mark.parametrize("config", CONFIGS, ids=list(CONFIGS))
@pytest.mark.parametrize("cls", [Exhaustive, DriftPlusPenalty])
def test_joint_reference_is_the_per_slot_optimum_on_brute_force(cls: type, config: str) -> None:
    sc = OffloadingQueues(**CONFIGS[config])
    policy = cls(sc)
    for state, _ in _states(sc, batch=8, seed=11):
        choice, value = policy.solve(state["backlog"], state["gain"])
        actions = policy.encode(choice)
        achieved = _score(sc, state, actions, policy.rule)
        best = _brute_force(sc, state, policy.rule)
        # Sums of the same per-device terms in another order: a few ulps of the largest term.
        tol = 1e-12 * np.maximum(np.abs(best), 1.0)
        assert (np.abs(achieved - best) <= tol).all(), (achieved, best)
        assert (np.abs(value - best) <= tol).all()


def test_exhaustive_reads_the_global_state_it_is_given() -> None:
    sc = OffloadingQueues(**CONFIGS["tight"])
    policy = make_policy("exhaustive", sc)
    for state, obs in _states(sc, batch=8, seed=3):
        exact = policy.encode(policy.solve(state["backlog"], state["gain"])[0])
        decoded = policy.act(obs, sc.global_state(state))
        # The decoded gains differ by float32 rounding of a dB feature; the pick can only move where two
        # candidates tie within it, which these states do not (measured: identical).
        for a in sc.agents:
            np.testing.assert_array_equal(decoded[a], exact[a])


def test_delayed_reference_acts_on_the_previous_slot_only() -> None:
    sc = OffloadingQueues(**CONFIGS["tight"])
    policy = ExhaustiveDelayed(sc)
    policy.reset(0)
    history = list(_states(sc, batch=8, seed=5))
    first = policy.act(history[0][1], sc.global_state(history[0][0]))
    assert all((first[a] == 0).all() for a in sc.agents)  # knows nothing yet: holds
    previous_choice = np.stack([first[a] for a in sc.agents], axis=1)
    for (before, _), (now, obs) in zip(history, history[1:]):
        stale = sc.global_state(before)
        # The action depends on the previous state and choice, not on this slot's state:
        twin = ExhaustiveDelayed(sc)
        twin.previous = (stale, previous_choice)
        scrambled = sc.global_state(now)[::-1].copy()  # another copy's current state
        chosen = policy.act(obs, sc.global_state(now))
        blind = twin.act(obs, scrambled)
        np.testing.assert_array_equal(np.stack([chosen[a] for a in sc.agents], axis=1),
                                      np.stack([blind[a] for a in sc.agents], axis=1))
        # ... and it is the per-slot optimum of the previous slot's queues advanced through that choice.
        backlog, gain = policy.predicted_slot(stale, previous_choice)
        expected = Exhaustive.solve(policy, backlog, gain)[0]
        np.testing.assert_array_equal(np.stack([chosen[a] for a in sc.agents], axis=1), expected)
        previous_choice = expected


def test_delayed_prediction_ages_the_known_queues_exactly() -> None:
    sc = OffloadingQueues(**CONFIGS["tight"])
    policy = ExhaustiveDelayed(sc)
    rng = np.random.default_rng(1)
    for state, _ in _states(sc, batch=8, seed=9):
        choice = rng.integers(0, sc.action_nvec, (8, sc.num_agents, 3))
        tr = sc.step(state, policy.encode(choice))
        backlog, _ = policy.predicted_slot(sc.global_state(state), choice)
        np.testing.assert_array_equal(backlog[..., 1:], tr.state["backlog"][..., 1:])  # all but the unknown arrivals
        assert (backlog[..., 0] == 0).all()


@pytest.mark.parametrize("name", LOCAL_NAMES)
def test_local_policies_read_no_global_state(name: str) -> None:
    sc = OffloadingQueues(**CONFIGS["tight"])
    policy, twin = make_policy(name, sc), make_policy(name, sc)  # two copies: a policy may keep memory
    assert not policy.uses_global_state
    for state, obs in _states(sc, batch=8, seed=2):
        blind = policy.act(obs, None)
        seeing = twin.act(obs, sc.global_state(state))
        for a in sc.agents:
            np.testing.assert_array_equal(blind[a], seeing[a])


def test_local_only_and_offload_all_keep_their_mode() -> None:
    sc = OffloadingQueues(**CONFIGS["tight"])
    for _, obs in _states(sc, batch=8, seed=4):
        assert all((make_policy("local_only", sc).act(obs, None)[a][:, 0] == LOCAL).all() for a in sc.agents)
        assert all((make_policy("offload_all", sc).act(obs, None)[a][:, 0] == OFFLOAD).all() for a in sc.agents)


def test_greedy_holds_when_no_word_is_due() -> None:
    """The per-slot reward charges energy now and only this slot's drops: serving early never pays."""
    sc = OffloadingQueues()
    policy = make_policy("greedy", sc)
    for state, obs in _states(sc, batch=16, seed=6, slots=8):
        chosen = np.stack([a[:, 0] for a in policy.act(obs, None).values()], axis=1)
        none_due = state["backlog"][..., -1] == 0
        assert (chosen[none_due] == HOLD).all()


def test_max_weight_serves_the_most_in_its_own_view() -> None:
    sc = OffloadingQueues(**CONFIGS["tight"])
    policy = make_policy("max_weight", sc)
    for _, obs in _states(sc, batch=8, seed=8):
        own = sc.decode_observations(obs)
        cand = policy.candidates
        m = np.where(cand[:, 0] == OFFLOAD, own["others_offloading"][..., None] + 1.0, 0.0)
        served = policy.outcomes(own["backlog"], own["gain"], cand, m)["served"]
        chosen = np.stack([a for a in policy.act(obs, None).values()], axis=1)
        index = [int(np.flatnonzero((cand == c).all(axis=1))[0]) for c in chosen.reshape(-1, 3)]
        np.testing.assert_array_equal(served.reshape(-1, len(cand))[np.arange(len(index)), index],
                                      served.reshape(-1, len(cand)).max(axis=1))


@pytest.mark.parametrize("name", ("greedy", "max_weight", "local_dpp"))
def test_local_policies_alone_last_slot_expect_no_interference(name: str) -> None:
    """Shared access, own view: ``others`` copies of itself interfere; with none it sees the OFDMA slot of m = 1."""
    shared = OffloadingQueues(**CONFIGS["shared-3"])
    ofdma = OffloadingQueues(**{**CONFIGS["shared-3"], "access": "ofdma"})
    seen = 0
    for _, obs in _states(shared, batch=16, seed=7):
        alone = shared.decode_observations(obs)["others_offloading"] == 0
        a = np.stack(list(make_policy(name, shared).act(obs, None).values()), axis=1)
        b = np.stack(list(make_policy(name, ofdma).act(obs, None).values()), axis=1)
        np.testing.assert_array_equal(a[alone], b[alone])  # the same expressions: bit for bit
        seen += int(alone.sum())
    assert seen > 0


def _observations(sc: OffloadingQueues, backlog: np.ndarray, gain: np.ndarray) -> dict[str, np.ndarray]:
    """Observations of queues ``backlog`` (B, N, D) [words] and gains ``gain`` (B, N) (nobody offloaded last slot)."""
    obs = np.zeros((*gain.shape, sc.deadline + 3), dtype=np.float32)
    obs[..., :sc.deadline] = backlog / sc.max_task_words
    obs[..., sc.deadline] = GAIN_FEATURE.encode(gain)
    return {a: obs[:, i] for i, a in enumerate(sc.agents)}


def _opportunistic_run(sc: OffloadingQueues, policy: Opportunistic, slots: int, seed: int):
    """Constructed slots of Rayleigh gains around per-device means, random queues: (obs, decoded, actions)."""
    rng = np.random.default_rng(seed)
    batch = 64
    mean = 10.0 ** rng.uniform(-12.0, -10.0, (batch, sc.num_agents))
    for _ in range(slots):
        backlog = rng.integers(0, 100, (batch, sc.num_agents, sc.deadline)) * (rng.random((batch, sc.num_agents, 1)) < 0.7)
        backlog[..., -1] *= rng.random((batch, sc.num_agents)) < 0.5
        obs = _observations(sc, backlog, mean * rng.exponential(size=mean.shape))
        yield obs, sc.decode_observations(obs), np.stack(list(policy.act(obs, None).values()), axis=1)


@pytest.mark.parametrize("access", ("shared", "ofdma"))
def test_opportunistic_follows_its_threshold_exactly(access: str) -> None:
    """Offload iff the queue is not empty and g_t > tau_k * (mean of the k earlier gains); else local iff due;
    levels: local_only's locally, the most served then the cheapest alone on the band when offloading."""
    sc = OffloadingQueues(access=access)
    policy = Opportunistic(sc)
    local_only = make_policy("local_only", sc)
    past, offloads = [], 0
    for k, (obs, own, chosen) in enumerate(_opportunistic_run(sc, policy, slots=12, seed=3)):
        nonempty, due = own["backlog"].sum(-1) > 0, own["backlog"][..., -1] > 0
        if k == 0:
            expected_offload = np.zeros_like(nonempty)  # nothing known yet
        else:
            tau = k * (sc.num_agents ** (1.0 / k) - 1.0)
            assert policy.threshold(k) == pytest.approx(tau, rel=1e-12)
            expected_offload = nonempty & (own["gain"] / np.mean(past, axis=0) > tau)
        np.testing.assert_array_equal(chosen[..., 0], np.where(expected_offload, OFFLOAD, np.where(due, LOCAL, HOLD)))
        past.append(own["gain"])
        offloads += int(expected_offload.sum())
        local = chosen[..., 0] == LOCAL
        np.testing.assert_array_equal(chosen[local], np.stack(list(local_only.act(obs, None).values()), axis=1)[local])
        go = chosen[..., 0] == OFFLOAD
        cand = policy.candidates[policy.candidates[:, 0] == OFFLOAD]
        alone = policy.outcomes(own["backlog"], own["gain"], cand, 1)["served"]
        index = [int(np.flatnonzero((cand == c).all(axis=1))[0]) for c in chosen[go]]
        np.testing.assert_array_equal(alone[go][np.arange(len(index)), index], alone[go].max(axis=-1))
    assert offloads > 0 and policy.threshold(1) == pytest.approx(sc.num_agents - 1.0)
    assert policy.threshold(10**6) == pytest.approx(np.log(sc.num_agents), rel=1e-5)  # tau_k -> ln N


def test_opportunistic_reset_forgets_the_running_mean() -> None:
    sc = OffloadingQueues()
    used = Opportunistic(sc)
    for _ in _opportunistic_run(sc, used, slots=7, seed=1):
        pass
    assert used.slots == 7
    used.reset(0)
    fresh = Opportunistic(sc)
    fresh_run = _opportunistic_run(sc, fresh, slots=7, seed=2)
    for (_, _, a), (_, _, b) in zip(_opportunistic_run(sc, used, slots=7, seed=2), fresh_run):
        np.testing.assert_array_equal(a, b)


def _collision_rate(sc: OffloadingQueues, name: str, episodes: int, seed: int) -> float:
    """Share of the slots with two or more offloaders (on the shared band: at most one meets the accuracy
    requirement, unless received within 0.47 dB)."""
    policy = make_policy(name, sc)
    policy.reset(seed)
    state, obs = sc.reset(streams.episode_key(streams.seed_key(np.arange(seed, seed + episodes)), 0))
    collisions = 0
    for _ in range(sc.config.max_steps):
        tr = sc.step(state, policy.act(obs, None))
        collisions += int((tr.infos["offloaders"] >= 2).sum())
        state, obs = tr.state, tr.observations
    return collisions / (episodes * sc.config.max_steps)


def test_opportunistic_collides_less_than_offload_all_on_the_shared_band() -> None:
    """``offload_all``: all N offload in every slot, a collision rate of exactly 1. ``opportunistic``: each
    device with traffic offloads with probability 1 / N per slot given its past (tau_k), independently of
    the others' fading, so P(2 or more of N) <= 1 - (1 - 1/N)^N - (1 - 1/N)^(N-1) = 0.262 at N = 4; the
    margin is five standard errors of a rate over 1,600 slots, 5 sqrt(0.262 0.738 / 1600) = 0.055."""
    sc = OffloadingQueues()
    assert sc.shared and sc.num_agents == 4
    n = sc.num_agents
    bound = 1.0 - (1.0 - 1.0 / n) ** n - (1.0 - 1.0 / n) ** (n - 1)
    slots = 16 * sc.config.max_steps
    assert _collision_rate(sc, "offload_all", 16, seed=0) == 1.0
    rate = _collision_rate(sc, "opportunistic", 16, seed=0)
    assert rate <= bound + 5.0 * np.sqrt(bound * (1.0 - bound) / slots), rate


@pytest.mark.parametrize("name", NAMES)
def test_every_policy_runs_an_evaluation(name: str) -> None:
    sc = OffloadingQueues(num_devices=3, max_steps=6)
    result = evaluation.evaluate(sc, make_policy(name, sc), episodes=3, seed=0)
    assert all(np.isfinite(v).all() for v in result.episodes.values())


def test_exhaustive_refuses_too_many_devices() -> None:
    with pytest.raises(ValueError, match="max_devices"):
        Exhaustive(OffloadingQueues(num_devices=13))
    with pytest.raises(ValueError, match=r"max_devices=6 \(5\^7 joint offload-power"):
        Exhaustive(OffloadingQueues(num_devices=7, access="shared"))


def test_shared_search_is_the_same_in_any_chunking() -> None:
    """The chunked search keeps the first best assignment in grid order: a tiny memory budget (one
    assignment per chunk) and the default one (all at once) give the same choice and value, exactly."""
    sc = OffloadingQueues(**CONFIGS["shared-3"])
    whole, tiny = DriftPlusPenalty(sc), DriftPlusPenalty(sc, memory_mb=1e-9)
    for state, _ in _states(sc, batch=8, seed=13):
        (c1, v1), (c2, v2) = whole.solve(state["backlog"], state["gain"]), tiny.solve(state["backlog"], state["gain"])
        np.testing.assert_array_equal(c1, c2)
        np.testing.assert_array_equal(v1, v2)
