"""SemCom-CDRL-v0: the gridworld MDPs against slow references, the transfer semantics, the budget.

Float comparisons: the scenario uses only IEEE basic operations, sqrt and NumPy's fixed-order
(pairwise) sums, no transcendental or BLAS kernels, so its numbers are the same on every CPU and the
thresholds' measured margins (stated at each) hold everywhere. Vectorised value iteration against the
loop reference sums in another order: values are <= 1 in size and each backup adds a few ULPs, damped
by gamma = 0.95, so they agree to ~20 * 4e-16 (measured <= 4.4e-16); atol 1e-10 leaves 1e5x margin.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semcom_envs import ActionError, ConfigError
from semcom_envs.api.runner import BatchRunner
from semcom_envs.cdrl_v0 import parallel_env
from semcom_envs.registration import make_scenario
from semcom_envs.scenarios.cdrl import MOVES, cosine, grid_transitions

ENV = "SemCom-CDRL-v0"


def _slow_next(size, walls, s, m):
    r, c = divmod(s, size)
    r2, c2 = r + MOVES[m][0], c + MOVES[m][1]
    if not (0 <= r2 < size and 0 <= c2 < size) or walls[r2 * size + c2]:
        return s
    return r2 * size + c2


def _slow_q(size, walls, goal, slip, gamma, cost, iterations):
    """Value iteration with explicit loops over cells and moves (the reference)."""
    cells = size * size
    v = np.zeros(cells)
    q = np.zeros((cells, 4))
    for _ in range(iterations):
        for s in range(cells):
            for m in range(4):
                if s == goal:
                    q[s, m] = 0.0
                    continue
                total = 0.0
                for actual in range(4):
                    p = (1 - slip) * (actual == m) + slip / 4
                    s2 = _slow_next(size, walls, s, actual)
                    total += p * ((1.0 if s2 == goal else 0.0) - cost + gamma * (0.0 if s2 == goal else v[s2]))
                q[s, m] = total
        v = q.max(axis=1)
    return q


def _slow_return(size, walls, goal, slip, gamma, cost, horizon, moves):
    cells = size * size
    v = np.zeros(cells)
    for _ in range(horizon):
        new = np.zeros(cells)
        for s in range(cells):
            if s == goal:
                continue
            for actual in range(4):
                p = (1 - slip) * (actual == moves[s]) + slip / 4
                s2 = _slow_next(size, walls, s, actual)
                new[s] += p * ((1.0 if s2 == goal else 0.0) - cost + gamma * (0.0 if s2 == goal else v[s2]))
        v = new
    start = [s for s in range(cells) if s != goal and not walls[s]]
    return v[start].mean()


@pytest.mark.parametrize("num_walls", [0, 4])
def test_value_iteration_and_policy_evaluation_match_slow_references(num_walls):
    sc = make_scenario(ENV, grid_size=5, num_walls=num_walls, value_iterations=60)
    runner = BatchRunner(sc, 2)
    runner.reset(11)
    st_ = runner.state
    walls = st_["walls"]
    for b in range(2):
        goal, slip = int(st_["source_goal"][b, 0]), float(st_["source_slip"][b, 0])
        nxt = grid_transitions(5, walls[b:b + 1])[:, None]
        task = sc._task_arrays(np.array([[goal]]), np.array([[slip]]), walls[b:b + 1])
        q = sc.solve(nxt, task)[0, 0]
        np.testing.assert_allclose(q, _slow_q(5, walls[b], goal, slip, 0.95, 0.01, 60), atol=1e-10)
        moves = np.random.default_rng(b).integers(0, 4, 25)
        ret = sc.policy_return(nxt, task, moves[None, None])[0, 0]
        assert ret == pytest.approx(_slow_return(5, walls[b], goal, slip, 0.95, 0.01, 20, moves), abs=1e-10)


@pytest.mark.parametrize("kwargs", [{"num_walls": 4, "slip_range": (0.0, 0.9)}, {"slip_range": (1.0, 1.0)},
                                    {"value_iterations": 7}])
def test_value_iteration_equals_the_full_table_sweep_in_every_bit(kwargs):
    """``solve`` takes each sweep's maximum as ``(1 - slip) max arrive + slip mean``: equal in every bit to the
    maximum of the full table (rounding is monotonic), so the sweeps, and where they stop, are the same."""
    sc = make_scenario(ENV, grid_size=5, num_sources=3, **kwargs)
    runner = BatchRunner(sc, 4)
    runner.reset(3)
    st_ = runner.state
    nxt = np.broadcast_to(grid_transitions(5, st_["walls"])[:, None], (4, 3, 25, 4))
    task = sc._task_arrays(st_["source_goal"], st_["source_slip"], st_["walls"])
    slip, terminal = task["slip"][..., None, None], task["terminal"]
    value = np.zeros(terminal.shape)
    for _ in range(sc.config.value_iterations):  # the textbook sweep: every Q(s, m), then the maximum
        w = task["arrival_reward"] + 0.95 * np.where(terminal, 0.0, value)
        arrive = np.take_along_axis(w[..., None], nxt.reshape(4, 3, -1)[..., None], axis=2).reshape(nxt.shape)
        mean = (((arrive[..., 0] + arrive[..., 1]) + arrive[..., 2]) + arrive[..., 3]) / 4.0
        q = np.where(terminal[..., None], 0.0, (1.0 - slip) * arrive + slip * mean[..., None])
        value, previous = q.max(axis=-1), value
        if np.array_equal(value, previous):
            break
    assert np.array_equal(sc.solve(nxt, task), q)


def test_permuted_copy_has_low_cosine_but_full_relatedness_and_the_largest_benefit():
    sc = make_scenario(ENV, num_sources=8, source_mix=(0.25, 0.5, 0.25), slip_range=(0.0, 0.1))
    runner = BatchRunner(sc, 64)
    runner.reset(5)
    state = runner.state
    kind, base = state["source_kind"], state["source_base"]
    # Structural similarity of each source with the solved Q of its base target's task in that target's
    # labels: a permuted copy is the same model under other labels, and cosine misses it.
    own_labels = np.take_along_axis(state["sent_q_phys"], np.broadcast_to(
        np.take_along_axis(state["target_perm"], base[..., None], axis=1)[..., None, :], state["sent_q_phys"].shape), axis=-1)
    cos = np.stack([cosine(own_labels[:, j:j + 1], state["source_q"][:, j:j + 1])[:, 0, 0] for j in range(8)], axis=1)
    assert np.median(cos[kind == 1]) < 0.2 and np.mean(cos[kind == 1] < 0.7) > 0.9  # measured -0.008, 0.98
    # Same labels: the parameters coincide, and cos(v, v) is 1 up to a 196-term sum's rounding (~1e-15;
    # measured 2.2e-16) against atol 1e-9.
    np.testing.assert_allclose(cos[kind != 1], 1.0, atol=1e-9)
    # Probe every source: a permuted copy of a target's task is as related as the best source for it.
    probe = {a: np.concatenate([np.zeros((64, 8), dtype=np.int64), np.ones((64, 8), dtype=np.int64)], axis=1)
             for a in sc.agents}
    runner.step(probe)
    rel = runner.state["relatedness"]  # (B, K, n)
    mine = base[:, None, :] == np.arange(3)[None, :, None]
    permuted_rel = np.where(mine & (kind == 1)[:, None, :], rel, np.nan)
    unrelated_rel = np.where((kind == 2)[:, None, :], rel, np.nan)
    assert np.nanmean(permuted_rel) > np.nanmean(unrelated_rel) + 0.02  # measured difference 0.188
    # Benefit: merging one's own permuted copy gives a higher next return than merging an unrelated source.
    returns = {}
    for label, kind_wanted in (("permuted", 1), ("unrelated", 2)):
        r = BatchRunner(sc, 64)
        r.reset(5)
        request = (mine & (kind == kind_wanted)[:, None, :])
        first = request & (np.cumsum(request, axis=-1) == 1)  # one source per target
        tr = r.step({a: np.concatenate([first[:, k], np.zeros((64, 8), dtype=bool)], axis=1).astype(np.int64)
                     for k, a in enumerate(sc.agents)})
        has = first.any(-1)
        returns[label] = (tr.infos["return"], has)
    both = returns["permuted"][1] & returns["unrelated"][1]
    assert returns["permuted"][0][both].mean() > returns["unrelated"][0][both].mean() + 0.05  # measured 0.768


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31), sparsity=st.sampled_from([0.0, 0.5, 0.9]), budget=st.floats(0.0, 4.0),
       k=st.integers(1, 4), n=st.integers(1, 10))
def test_bandwidth_budget_is_never_exceeded_and_unfitting_requests_are_reported(seed, sparsity, budget, k, n):
    sc = make_scenario(ENV, num_targets=k, num_sources=n, sparsity=sparsity, budget_models=budget, train_steps=5,
                       probe_steps=2, max_steps=3, value_iterations=20, grid_size=4)
    runner = BatchRunner(sc, 8)
    runner.reset(seed)
    rng = np.random.default_rng(seed)
    for _ in range(3):
        acts = {a: rng.integers(0, 2, size=(8, 2 * n)) for a in sc.agents}
        tr = runner.step(acts)
        info = tr.infos
        # Bit counts are integer-valued (exact); the 1e-6 slack is not needed.
        assert np.all(info["bits_used_total"] <= sc.budget_bits + 1e-6)
        np.testing.assert_array_equal(info["granted"] + info["ungranted"], info["requested"])
        assert np.all(info["bits_used"] == info["granted"] * sc.model_bits)
        fits = np.floor(sc.budget_bits / sc.model_bits + 1e-9)
        # Every refusal means the budget was full: granted = min(requested, what fits) over the network.
        np.testing.assert_array_equal(info["granted"].sum(1), np.minimum(info["requested"].sum(1), fits))
        for a in sc.agents:
            assert sc.observation_space(a).contains(tr.observations[a][0])
            assert np.all(np.isfinite(tr.rewards[a]))
        assert all(sc.state_space.contains(s) for s in runner.global_state())


def test_sparsified_models_cost_fewer_bits():
    dense, half, tenth = (make_scenario(ENV, sparsity=s) for s in (0.0, 0.5, 0.9))
    assert dense.model_bits == 32 * 196
    assert tenth.model_bits < half.model_bits < dense.model_bits
    assert half.model_bits == 98 * (32 + 8)


def test_episode_return_telescopes_to_final_minus_initial():
    sc = make_scenario(ENV, max_steps=4)
    runner = BatchRunner(sc, 4)
    runner.reset(2)
    initial = runner.state["return"].copy()
    total = np.zeros((4, 3))
    for _ in range(4):
        tr = runner.step({a: np.zeros((4, 16), dtype=np.int64) for a in sc.agents})
        reward = np.stack([tr.rewards[a] for a in sc.agents], axis=1)
        # The reward is this very difference (measured equal); the telescoped sum below adds four
        # roundings of returns <= 2 in size (<= 4 * 2.2e-16; measured 1.1e-16) against atol 1e-12.
        np.testing.assert_allclose(reward, tr.infos["return"] - tr.infos["return_before"], atol=1e-12)
        total += reward
    np.testing.assert_allclose(total, tr.infos["return"] - initial, atol=1e-12)
    assert tr.truncated[sc.agents[0]].all()


def test_learning_without_transfer_improves_the_return():
    sc = make_scenario(ENV)
    runner = BatchRunner(sc, 32)
    runner.reset(0)
    initial = runner.state["return"].mean()
    for _ in range(10):
        tr = runner.step({a: np.zeros((32, 16), dtype=np.int64) for a in sc.agents})
    assert tr.infos["return"].mean() > initial + 0.2  # measured improvement 0.633


def test_cosine_is_zero_for_zero_parameters():
    assert np.all(cosine(np.zeros((1, 2, 4, 4)), np.ones((1, 3, 4, 4))) == 0.0)


@pytest.mark.parametrize("scale", [1.0, 1e-160, 1e-300, 2.0**-1070, 1e150, 1e300])
def test_cosine_does_not_depend_on_the_tables_scale(scale):
    # Tiny tables arise from merges with a tiny ``mix``: their products and norms underflowed (cosine 0
    # or outside [-1, 1]). Scaling a table by a power of two is exact while its entries stay normal,
    # and the cosine rescales each table to the same binade, so it is identical in every bit then; at
    # other scales the tables differ by one rounding per entry (relative 2^-53, so the cosines by
    # ~1e-15: atol 1e-12). In the subnormal range the scaled tables themselves lose all but a few bits
    # (spacing 2^-1074 against entries ~2^-1070), so other cosines change; what must hold there is the
    # range and the cosine of a table with its own copy, 1 up to rounding.
    rng = np.random.default_rng(0)
    q, source = rng.normal(size=(3, 2, 9, 4)), rng.normal(size=(3, 5, 9, 4))
    source[:, 0] = q[:, 0]  # a source equal to target 0: cosine exactly 1 up to rounding
    expected = cosine(q, source)
    got = cosine(q * scale, source * scale)
    assert np.all(np.abs(got) <= 1.0 + 4 * np.finfo(float).eps)
    if np.frexp(scale)[0] == 0.5 and scale > 1e-290:
        np.testing.assert_array_equal(got, expected)
    elif scale < np.finfo(float).tiny:
        assert np.all(np.abs(got[:, 0, 0] - 1.0) <= 4 * np.finfo(float).eps)
    else:
        np.testing.assert_allclose(got, expected, atol=1e-12)
    assert np.all(got[:, 0, 0] > 0.9)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"grid_size": 2}, "grid_size"), ({"num_walls": 40}, "num_walls"), ({"sparsity": 0.7}, "sparsity"),
     ({"source_mix": (0.5, 0.5, 0.5)}, "source_mix"), ({"slip_range": (0.4, 0.1)}, "slip_range"),
     ({"gamma": 1.0}, "gamma"), ({"num_source": 3}, "num_source")],
)
def test_invalid_config_raises_naming_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        gym.make(ENV, **kwargs)


def test_out_of_space_action_raises_naming_agent_and_component():
    env = parallel_env(num_sources=3, max_steps=2)
    env.reset(seed=0)
    actions = {a: np.zeros(6, dtype=np.int64) for a in env.agents}
    actions["target_1"] = np.array([0, 2, 0, 0, 0, 0])
    with pytest.raises(ActionError, match=r"target_1.*request_1=2 must be an integer in \[0, 1\]"):
        env.step(actions)
