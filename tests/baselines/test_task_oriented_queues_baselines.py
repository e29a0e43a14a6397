"""The SemCom-TaskOriented-v2 baselines can fail these tests when they are wrong: the knapsack against brute force
on the same integer instance, its allocation against the environment's delivery, the local rules' locality."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from semcom_baselines import make_policy, policies_for
from semcom_baselines.task_oriented_queues import GrantSelect, Knapsack, multiple_choice_knapsack
from semcom_envs import streams
from semcom_envs.scenarios.task_oriented_queues import TaskOrientedQueues

LOCAL = ("equal", "fra", "local_select", "grant_select")


def _played(sc: TaskOrientedQueues, seeds, slots: int = 6, policy: str = "random"):
    """(state, observations) a few slots into episodes of ``policy`` (queues of several ages, grants set)."""
    player = make_policy(policy, sc)
    player.reset(0)
    state, obs = sc.reset(streams.seed_key(np.asarray(seeds)))
    for _ in range(slots):
        tr = sc.step(state, player.act(obs, sc.global_state(state)))
        state, obs = tr.state, tr.observations
    return state, obs


def test_every_policy_is_registered_with_its_information():
    sc = TaskOrientedQueues()
    assert set(policies_for(sc.env_id)) == {"random", *LOCAL, "knapsack"}
    for name in LOCAL:
        assert not make_policy(name, sc).uses_global_state, name
    assert make_policy("knapsack", sc).uses_global_state


@pytest.mark.parametrize("seed", range(20))
def test_multiple_choice_knapsack_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    batch, items, options, capacity = 3, 4, 3, 12
    units = rng.integers(0, 9, (batch, items, options))
    values = np.where(rng.random((batch, items, options)) < 0.2, -np.inf, rng.random((batch, items, options)))
    pick = multiple_choice_knapsack(units, values, capacity)
    for b in range(batch):
        best = 0.0
        for combo in itertools.product(range(-1, options), repeat=items):
            used = sum(units[b, i, j] for i, j in enumerate(combo) if j >= 0)
            value = sum(values[b, i, j] for i, j in enumerate(combo) if j >= 0)
            if used <= capacity:
                best = max(best, value)
        chosen = [(i, j) for i, j in enumerate(pick[b]) if j >= 0]
        assert sum(units[b, i, j] for i, j in chosen) <= capacity
        assert np.isfinite([values[b, i, j] for i, j in chosen]).all()
        # The same values added in another order: partial sums stay below 4, so each of the <= 3 additions rounds
        # by at most half an ulp of 4 (2 eps), <= 6 eps per sum, <= 12 eps between the two sums.
        assert sum(values[b, i, j] for i, j in chosen) == pytest.approx(best, rel=0, abs=12 * np.finfo(float).eps)


@pytest.mark.parametrize("config", [{}, {"num_users": 4, "power_max_w": 3e-3}, {"num_users": 6, "action_type": "discrete"}])
def test_knapsack_delivers_every_image_it_schedules(config):
    sc = TaskOrientedQueues(**config)
    state, obs = _played(sc, range(32))
    policy = Knapsack(sc)
    infos = sc.step(state, policy.act(obs, sc.global_state(state))).infos
    sel = infos["selected"]
    assert sel.any()
    assert not (sel & (state["queue"].sum(axis=-1) == 0)).any()
    if sc.config.action_type == "continuous":  # exact allocation: every scheduled image makes its deadline
        np.testing.assert_array_equal(infos["delivered"], sel)
        np.testing.assert_allclose(infos["bandwidth_hz"].sum(axis=1)[sel.any(axis=1)], sc.config.bandwidth_max_hz, rtol=1e-12)


def test_knapsack_beats_the_local_rules_and_random_on_the_same_slots():
    sc = TaskOrientedQueues()
    state, obs = _played(sc, range(64), policy="local_select")
    gs = sc.global_state(state)

    def value(name: str) -> float:
        policy = make_policy(name, sc)
        policy.reset(0)
        return float(sc.step(state, policy.act(obs, gs)).infos["objective"].sum())

    ref = value("knapsack")
    # The local rules' allocations lie in the knapsack's family up to its 1/200 rounding and o grid, so on 64
    # slots it is the best of them (a sum over slots, not a per-slot guarantee).
    for name in ("random", *LOCAL):
        assert value(name) < ref, name


@pytest.mark.parametrize("name", LOCAL)
def test_a_local_rule_acts_on_its_own_observation_only(name):
    sc = TaskOrientedQueues()
    _, own = _played(sc, range(16), policy="knapsack")
    _, others = _played(sc, range(100, 116), policy="knapsack")
    policy = make_policy(name, sc)
    alone = policy.act(own, None)
    for agent in sc.agents:
        mixed = {**others, agent: own[agent]}
        np.testing.assert_array_equal(policy.act(mixed, None)[agent], alone[agent])


def test_grant_select_plans_for_the_load_its_last_grant_shows():
    sc = TaskOrientedQueues(num_users=4)
    state, obs = _played(sc, range(32), policy="knapsack")
    policy = GrantSelect(sc, k0=3, scale=1.0, tau=0.0)
    own = sc.decode_observation(np.stack([obs[a] for a in sc.agents], axis=1))
    grant = own["grant_last"]
    assert (grant > 0).any() and (grant == 0).any()
    k = np.where(grant > 0, np.clip(np.round(1.0 / np.maximum(grant, 1e-12)), 1, 4), 3)
    expected = policy.select(own["delta2"], own["weight"], k)
    actions = np.stack([policy.act(obs, None)[a] for a in sc.agents], axis=1)
    request = (actions[..., 1] + 1.0) / 2.0
    np.testing.assert_allclose(request[expected[3]], (1.0 / k)[expected[3]], rtol=1e-6)  # float32 actions
    assert (actions[..., 1][~expected[3]] == -1.0).all()


def test_the_variant_hooks_decide_the_allocation():
    """``Knapsack.item_values`` and ``GrantSelect.plan`` are what the policies act on: a variant that forbids an item
    or a user removes it from the allocation, and one that keeps them changes nothing."""
    sc = TaskOrientedQueues()
    state, obs = _played(sc, range(8))
    gs = sc.global_state(state)
    waiting = state["queue"].sum(axis=-1) > 0

    class NoFirstUser(Knapsack):
        def item_values(self, slot, need, values):
            return np.where(np.arange(sc.num_agents)[None, :, None] == 0, -np.inf, super().item_values(slot, need, values))

    class Keep(Knapsack):
        def item_values(self, slot, need, values):
            return super().item_values(slot, need, values)

    served = sc.decode_actions(Knapsack(sc).act(obs, gs), eligible=waiting)["selected"]
    assert served[:, 0].any()  # the instance tests something
    assert not sc.decode_actions(NoFirstUser(sc).act(obs, gs), eligible=waiting)["selected"][:, 0].any()
    for a, b in zip(Keep(sc).act(obs, gs).values(), Knapsack(sc).act(obs, gs).values()):
        np.testing.assert_array_equal(a, b)

    class Silent(GrantSelect):
        def plan(self, own):
            o, k, selected = super().plan(own)
            return o, k, np.zeros_like(selected)

    assert sc.decode_actions(GrantSelect(sc).act(obs, None), eligible=waiting)["selected"].any()
    assert not sc.decode_actions(Silent(sc).act(obs, None), eligible=waiting)["selected"].any()
