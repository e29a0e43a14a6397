"""The queue-aware MultiCell baselines (SemCom-MultiCell-v1): references against brute force, delays, local rules.

Float comparisons: as in test_multicell_baselines.py, the oracle and ``dpp`` optimise a float64 model
on the decoded float32 global state, while the step computes in float32; ``_QOE_GAP`` bounds the
model's error per cell (the derivation of test_multicell_baselines plus the delay satisfaction:
the decoded backlog and rate carry <= 3 float32 roundings, 1.8e-7 relative, so a delay of at most
``delay_ratio_max x D`` = 4.1 s errs by <= 7.4e-7 s, which the logistic's slope <= nu / 4 = 27.5 /s
turns into 2e-5 of QoE: 4.4e-4 + 2e-5 < 5e-4).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from semcom_baselines import make_policy, multicell
from semcom_envs import streams
from semcom_envs.physics import radio
from semcom_envs.scenarios.multicell import K_MAX, MultiCellV1

_QOE_GAP = 5e-4


def _start(sc: MultiCellV1, batch: int, seed: int, warmup: int = 3):
    state, obs = sc.reset(streams.episode_key(streams.seed_key(np.arange(seed, seed + batch)), 0))
    rng = np.random.default_rng(seed)
    for _ in range(warmup):
        q = sc.config.num_power_levels
        tr = sc.step(state, {a: np.stack([rng.integers(0, q, batch), rng.integers(0, K_MAX, batch)], -1) for a in sc.agents})
        state, obs = tr.state, tr.observations
    return state, obs


def _model_cells(sc: MultiCellV1, decoded: dict[str, np.ndarray], actions: dict[str, np.ndarray]):
    """(per-unit-QoE reward a(P) (B,), QoE (B, M), service s / (phi D) (B, M)) of ``actions`` in the float64 model."""
    a = np.stack([actions[agent] for agent in sc.agents], axis=1)
    p = sc.power_levels.astype(np.float64)[a[..., 0]]
    sinr, _, _ = radio.interference_matrix_sinr(p, decoded["gain"], float(sc.noise_w))
    _, _, qoe, served = sc.queued_qoe(10 * np.log10(np.maximum(sinr, 1e-30)), p <= 0, a[..., 1], decoded, decoded["backlog"])
    per_qoe, _ = sc.objective(np.ones(1), p.sum(axis=-1) + sc.static_power_w)
    return per_qoe, qoe, served / (decoded["rate_req"] * sc.config.delay_req_s)


def _all_joint_actions(sc: MultiCellV1) -> dict[str, np.ndarray]:
    q, m = sc.config.num_power_levels, sc.num_agents
    joint = np.array(list(itertools.product(range(q * K_MAX), repeat=m)))
    return {a: np.stack(np.divmod(joint[:, i], K_MAX), -1) for i, a in enumerate(sc.agents)}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_queued_oracle_reaches_the_best_reward_of_every_joint_action(seed):
    """Brute force in the real step over all (3 levels x 20 k)^2 joint actions; the oracle's reward is
    within the model gaps of both actions of the maximum (the objective is linear in the summed QoE)."""
    sc = MultiCellV1(num_cells=2, num_power_levels=3)
    state, obs = _start(sc, 1, seed)
    chosen = make_policy("oracle", sc).act(obs, sc.global_state(state))
    joint = _all_joint_actions(sc)
    tiled = {k: np.repeat(v, len(joint["bs_0"]), axis=0) for k, v in state.items()}
    rewards = sc.step(tiled, joint).rewards["bs_0"]
    best = int(rewards.argmax())
    reward = sc.step(state, chosen).rewards["bs_0"][0]
    gap = 2 * sc.objective(np.array([2 * _QOE_GAP]), np.array([sc.static_power_w]))[0][0]  # a(P) is largest at least power
    assert rewards[best] - gap <= reward <= rewards[best]


@pytest.mark.parametrize("v", [0.5, 10.0])
def test_dpp_maximises_its_drift_plus_penalty_score_over_every_joint_action(v):
    sc = MultiCellV1(num_cells=2, num_power_levels=3)
    state, obs = _start(sc, 1, seed=4)
    gs = sc.global_state(state)
    decoded = sc.decode_global_state(gs)
    chosen = multicell.dpp(sc, v=v).act(obs, gs)
    joint = _all_joint_actions(sc)
    tiled = {k: np.repeat(v_, len(joint["bs_0"]), axis=0) for k, v_ in decoded.items()}

    def score(d, actions):
        per_qoe, qoe, service = _model_cells(sc, d, actions)
        z = d["backlog"] / (d["rate_req"] * sc.config.delay_req_s)
        return v * per_qoe * qoe.sum(axis=-1) + (z * service).sum(axis=-1)

    best = score(tiled, joint).max()
    # The same float64 functions on arrays of other shapes: rel 1e-12.
    assert score(decoded, chosen)[0] >= best - 1e-12 * abs(best)


def test_delayed_references_decide_on_the_previous_slots_channel():
    sc = MultiCellV1(num_cells=3)
    state, obs = _start(sc, 8, seed=5)
    gs_before = sc.global_state(state)
    tr = sc.step(state, make_policy("min_power", sc).act(obs, None))
    gs_now = sc.global_state(tr.state)
    m = sc.num_agents
    stale = gs_now.copy()
    stale[:, : m * m] = gs_before[:, : m * m]  # the previous channel, the current queues and requirements
    for delayed, exact in (("oracle_delayed", "oracle"), ("dpp_delayed", "dpp")):
        policy = make_policy(delayed, sc)
        policy.reset(0)
        first = policy.act(obs, gs_before)  # no previous slot: the current channel
        reference = make_policy(exact, sc)
        reference.reset(0)
        assert all(np.array_equal(first[a], reference.act(obs, gs_before)[a]) for a in sc.agents)
        second = policy.act(tr.observations, gs_now)
        reference.reset(0)
        expected = reference.act(tr.observations, stale)
        assert all(np.array_equal(second[a], expected[a]) for a in sc.agents)
        policy.reset(0)  # a reset forgets the previous slot
        reference.reset(0)
        assert all(np.array_equal(policy.act(tr.observations, gs_now)[a], reference.act(tr.observations, gs_now)[a])
                   for a in sc.agents)


def test_local_rules_act_on_observations_alone_and_span_greedy_to_max_weight():
    sc = MultiCellV1(num_cells=3)
    _, obs = _start(sc, 16, seed=6)
    for name in ("greedy", "local_dpp", "max_weight", "min_power", "full_power", "adaptive_k"):
        policy = make_policy(name, sc)
        assert not policy.uses_global_state
        actions = policy.act(obs, None)
        assert all(sc.action_space(a).contains(actions[a][0]) for a in sc.agents)
    # With the reward's weight v -> infinity the local drift-plus-penalty rule is greedy.
    huge = multicell.local_dpp(sc, v=1e12).act(obs, None)
    greedy = make_policy("greedy", sc).act(obs, None)
    assert all(np.array_equal(huge[a], greedy[a]) for a in sc.agents)
    assert all(np.all(make_policy("max_weight", sc).act(obs, None)[a][:, 0] == sc.config.num_power_levels - 1)
               for a in sc.agents)


def test_queue_rules_need_queues_and_a_positive_weight():
    from semcom_envs.scenarios.multicell import MultiCell

    with pytest.raises(ValueError, match="traffic='bursty'"):
        multicell.dpp(MultiCell(num_cells=2))
    with pytest.raises(ValueError, match="v > 0"):
        multicell.local_dpp(MultiCellV1(num_cells=2), v=0.0)
    with pytest.raises(ValueError, match="csi_delay"):
        multicell.Oracle(MultiCellV1(num_cells=2), csi_delay=2)
    sc = MultiCell(num_cells=2)
    _, obs = _start(sc, 2, seed=0, warmup=0)
    with pytest.raises(ValueError, match="max_weight needs traffic='bursty'"):
        multicell.MaxWeight(sc).act(obs, None)
