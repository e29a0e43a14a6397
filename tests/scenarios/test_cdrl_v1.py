"""SemCom-CDRL-v1 (the benchmark task): probe cost, the binding budget, placement, reward, config errors.

Every check here is exact (integer counts, booleans, or floats compared with ``==`` where both sides
come from the same operations), so no tolerance is needed.
"""

from __future__ import annotations

import numpy as np
import pytest

from semcom_baselines import make_policy
from semcom_baselines.cdrl import OracleV1
from semcom_envs import ConfigError, streams
from semcom_envs.api.runner import BatchRunner
from semcom_envs.scenarios.cdrl import CDRL, CDRLV1, FAR_DISTANCE

SMALL = {"grid_size": 9, "num_sources": 4, "max_steps": 3}
"""A quick v1: 9 x 9 still admits strict placement for K = 3 (25 K = 75 < 81)."""


def _actions(sc: CDRL, request: np.ndarray, probe: np.ndarray) -> dict[str, np.ndarray]:
    a = np.concatenate([request, probe], axis=-1).astype(np.int64)
    return {ag: a[:, i] for i, ag in enumerate(sc.agents)}


def _reset(sc: CDRL, copies: int, first: int = 0) -> dict[str, np.ndarray]:
    state, _ = sc.reset(streams.seed_key(np.arange(first, first + copies)))
    return state


def test_benchmark_preset_is_the_default() -> None:
    sc = CDRLV1()
    c = sc.config
    assert (c.preset, c.probe_cost, c.placement, c.reward) == ("benchmark", "train_steps", "strict", "return")
    assert sc.budget_bits == sc.dense_bits  # one dense model per round, shared by the K = 3 targets
    assert CDRL().config.probe_cost == "free" and CDRL().config.placement == "fallback"


@pytest.mark.parametrize("probes_per_target", [0, 1, 2, 3, 4])
def test_probe_steps_are_paid_from_the_round(probes_per_target: int) -> None:
    """train_steps = 40, probe_steps = 20: at most 2 probes fit; each costs 20 learning steps; the rest are refused."""
    sc = CDRLV1(**SMALL, train_steps=40, probe_steps=20)
    state = _reset(sc, 4)
    b, k, n = 4, sc.num_agents, sc.config.num_sources
    probe = np.zeros((b, k, n), dtype=bool)
    probe[..., :probes_per_target] = True
    tr = sc.step(state, _actions(sc, np.zeros_like(probe), probe))
    done = min(probes_per_target, 2)
    assert np.all(tr.infos["probe_steps"] == 20.0 * done)
    assert np.all(tr.infos["train_steps"] == 40.0 - 20.0 * done)
    assert np.all(tr.infos["probes_refused"] == probes_per_target - done)
    probed = tr.state["relatedness"] != -1.0
    assert np.array_equal(probed, probe & (np.arange(n) < 2))  # refused probes observe nothing
    if done == 2:  # no step left to learn and nothing granted: the Q-tables are unchanged
        assert np.array_equal(tr.state["q"], state["q"])
    else:
        assert not np.array_equal(tr.state["q"], state["q"])


def test_probing_costs_learning_steps() -> None:
    """The same round with and without a probe: without, the target learns more (the draws are the same)."""
    sc = CDRLV1(**SMALL, train_steps=40, probe_steps=20)
    free = CDRLV1(**SMALL, train_steps=40, probe_steps=20, probe_cost="free")
    state = _reset(sc, 4)
    k, n = sc.num_agents, sc.config.num_sources
    none = np.zeros((4, k, n), dtype=bool)
    probe = none.copy()
    probe[:, 0, 0] = True
    paid = sc.step(state, _actions(sc, none, probe)).state["q"]
    unpaid = free.step(state, _actions(free, none, probe)).state["q"]
    silent = sc.step(state, _actions(sc, none, none)).state["q"]
    assert np.array_equal(unpaid, silent)  # without a cost, a probe does not change the learning
    assert np.array_equal(paid[:, 1:], silent[:, 1:])  # the targets that did not probe are not affected
    assert not np.array_equal(paid[:, 0], silent[:, 0])


def test_budget_binds_and_refuses() -> None:
    """One dense model per round for three targets: every target requests one source, exactly one is granted."""
    sc = CDRLV1(**SMALL)
    state = _reset(sc, 64)
    k, n = sc.num_agents, sc.config.num_sources
    request = np.zeros((64, k, n), dtype=bool)
    request[..., 0] = True
    tr = sc.step(state, _actions(sc, request, np.zeros_like(request)))
    assert np.all(tr.infos["bits_used_total"] <= tr.infos["budget_bits"])
    assert np.all(tr.infos["granted"].sum(axis=1) == 1)
    assert np.all(tr.infos["ungranted"].sum(axis=1) == k - 1)
    winners = tr.infos["granted"].argmax(axis=1)
    assert len(np.unique(winners)) == k  # the random priority order lets each target win in some copy


@pytest.mark.parametrize("config", [{}, {"grid_size": 9}, {"grid_size": 9, "num_walls": 5, "num_sources": 16}])
def test_strict_placement(config: dict[str, int]) -> None:
    """Distinct target goals; every unrelated source's goal >= FAR_DISTANCE cells from every target goal."""
    sc = CDRLV1(**config, max_steps=1)
    state = _reset(sc, 512)
    s = sc.config.grid_size
    goals = np.sort(state["target_goal"], axis=1)
    assert np.all(goals[:, 1:] != goals[:, :-1])
    assert not state["walls"][np.arange(512)[:, None], state["target_goal"]].any()
    tr, tc = np.divmod(state["target_goal"], s)
    sr, scol = np.divmod(state["source_goal"], s)
    dist = np.maximum(np.abs(sr[:, None] - tr[:, :, None]), np.abs(scol[:, None] - tc[:, :, None])).min(axis=1)
    unrelated = state["source_kind"] == 2
    assert unrelated.any() and np.all(dist[unrelated] >= FAR_DISTANCE)


def test_fallback_placement_is_v0s() -> None:
    """placement = "fallback" is v0's: on 5 x 5 some unrelated sources land within 2 cells (documented frequency)."""
    sc = CDRL(grid_size=5)
    state = _reset(sc, 256)
    tr, tc = np.divmod(state["target_goal"], 5)
    sr, scol = np.divmod(state["source_goal"], 5)
    dist = np.maximum(np.abs(sr[:, None] - tr[:, :, None]), np.abs(scol[:, None] - tc[:, :, None])).min(axis=1)
    assert (dist[state["source_kind"] == 2] < FAR_DISTANCE).any()


def test_reward_is_the_return_after_the_round() -> None:
    sc = CDRLV1(**SMALL)
    state = _reset(sc, 8)
    none = np.zeros((8, sc.num_agents, sc.config.num_sources), dtype=bool)
    tr = sc.step(state, _actions(sc, none, none))
    for i, ag in enumerate(sc.agents):
        assert np.array_equal(tr.rewards[ag], tr.infos["return"][:, i])
    assert np.array_equal(CDRLV1(**SMALL, reward="improvement").step(state, _actions(sc, none, none)).rewards["target_0"],
                          tr.infos["return"][:, 0] - state["return"][:, 0])


@pytest.mark.parametrize(("kwargs", "fields"), [
    ({"grid_size": 7}, ("placement", "num_targets", "grid_size")),  # 25 * 3 = 75 >= 49
    ({"grid_size": 9, "num_walls": 6}, ("placement", "num_walls")),  # 75 + 6 >= 81
    ({"probe_cost": "reward"}, ("probe_cost",)),
    ({"placement": "far"}, ("placement",)),
    ({"reward": "final"}, ("reward",)),
])
def test_config_errors(kwargs: dict[str, object], fields: tuple[str, ...]) -> None:
    with pytest.raises(ConfigError) as err:
        CDRLV1(**kwargs)
    assert all(f in str(err.value) for f in fields)


def test_oracle_allocation_fits_and_beats_nothing() -> None:
    """The v1 oracle's joint request fits the budget (all granted) and is at least as good as requesting nothing."""
    sc = CDRLV1(**SMALL)
    oracle = make_policy("oracle", sc)
    assert isinstance(oracle, OracleV1) and oracle.uses_global_state
    runner = BatchRunner(sc, 4)
    runner.reset([0, 1, 2, 3])
    oracle.bind(runner)
    subset, value = oracle.best_subsets(runner.state)
    assert np.all(subset.sum(axis=-1) <= 1) and np.all(subset.sum(axis=(1, 2)) <= 1)
    none = np.zeros_like(subset)
    nothing = sc.step(runner.state, _actions(sc, none, none)).infos["return"].mean(axis=1)
    chosen = sc.step(runner.state, _actions(sc, subset, none))
    assert np.all(chosen.infos["ungranted"] == 0)
    assert np.array_equal(chosen.infos["return"].mean(axis=1), value)
    assert np.all(value >= nothing)
    runner.close()


def test_local_baselines_request_one_source_under_v1() -> None:
    """Below one model per target, the local baselines still request one source each (v0's share would be 0)."""
    sc = CDRLV1(**SMALL)
    runner = BatchRunner(sc, 4)
    obs = runner.reset([0, 1, 2, 3])
    for name in ("random", "structural"):
        actions = make_policy(name, sc).act(obs, None)
        assert all(np.all(a[:, : sc.config.num_sources].sum(-1) == 1) for a in actions.values())
    runner.close()


def test_semantic_yield_stops_requesting_once_served() -> None:
    """A target whose own return exceeds ``served`` requests nothing; the others request as ``semantic`` does."""
    sc = CDRLV1(**SMALL)
    runner = BatchRunner(sc, 8)
    obs = runner.reset(list(range(8)))
    semantic, yielding = make_policy("semantic", sc), make_policy("semantic_yield", sc, served=0.2)
    assert not yielding.uses_global_state
    served = 0
    for _ in range(sc.config.max_steps):
        decoded = semantic.decode(obs)
        served += int((decoded["return"] >= 0.2).sum())
        req_s, probe_s = semantic.choose(decoded)
        req_y, probe_y = yielding.choose(decoded)
        assert np.array_equal(probe_s, probe_y)
        assert np.array_equal(req_y, req_s & (decoded["return"] < 0.2)[..., None])
        obs = runner.step(semantic.encode(req_s, probe_s)).observations
    runner.close()
    assert served > 0  # some target was served, so the yielding branch was exercised (measured: 7 target-rounds)
