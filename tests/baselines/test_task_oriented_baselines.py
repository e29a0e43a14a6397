"""SemCom-TaskOriented-v0 solvers (docs/policies.md): feasibility of the applied allocation,
the SCA's monotonicity, CRRA against FCR/FRA, FRA's enumeration against brute force, CRRAUS's
branch and bound against brute force over the selections, and the analytic eq. (8) used by the
SCA against the environment's own model.

Float comparisons: the orderings between solvers hold by construction whatever the conic solver
returns (CRRA starts from FCR's and FRA's solutions, FCR's SCA from Equal's, and every step is
accepted only if the same float64 objective does not decrease), so the slacks (1e-6, 1e-12) are not
needed; measured margins are stated where an ordering is not by construction. The applied
allocations meet (14a)-(14d) by the environment's construction (shares summing to the budgets up to
U roundings, < 1e-14 relative), far inside the slack 1e-9.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr

from semcom_baselines import make_policy, policies_for
import itertools

from semcom_baselines.task_oriented import CRRA, O_GRID, FCR
from semcom_envs import streams
from semcom_envs.scenarios import TaskOriented

SOLVERS = ("equal", "msr", "fcr", "fra", "crra", "crraus")
# Small, tight and loose instances: default (20 MHz), scarce bandwidth, scarce power, few users, weights.
CONFIGS = {
    "default": {},
    "tight_bw": {"bandwidth_max_hz": 5e6, "deadline_s": 3e-3},
    "tight_power": {"power_max_w": 0.01, "num_users": 6},
    "weighted": {"preset": "crraus", "num_users": 5, "bandwidth_max_hz": 10e6},
}


def _slots(sc: TaskOriented, batch: int, seed: int):
    state, obs = sc.reset(streams.episode_key(streams.seed_key(np.arange(seed, seed + batch)), 0))
    gs = sc.global_state(state)
    slot = sc.decode_global_state(gs)
    return state, obs, gs, np.asarray(slot["delta2"], np.float64), np.asarray(slot["weight"], np.float64)


def test_every_solver_is_registered():
    assert set(SOLVERS) <= set(policies_for(TaskOriented.env_id))
    for name in SOLVERS:
        # equal (no information) and fra (each user's own gain) are local; the rest need every user's gain.
        assert make_policy(name, TaskOriented()).uses_global_state == (name not in ("equal", "fra"))


@pytest.mark.parametrize("action_type", ["continuous", "discrete"])
@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("name", SOLVERS)
def test_applied_allocation_respects_the_constraints(name, config, action_type):
    sc = TaskOriented(action_type=action_type, **CONFIGS[config])
    c = sc.config
    state, obs, gs, *_ = _slots(sc, 2, seed=7)
    policy = make_policy(name, sc)
    policy.reset(0)
    infos = sc.step(state, policy.act(obs, gs)).infos
    sel, bw, pw = infos["selected"], infos["bandwidth_hz"], infos["power_w"]
    if name != "crraus":
        assert sel.all()  # none of these solvers drops users
    assert sel.any(axis=1).all()
    assert np.all((bw * sel).sum(axis=1) <= c.bandwidth_max_hz * (1 + 1e-9))  # (14a)
    assert np.all(bw[sel] >= c.bandwidth_min_hz * (1 - 1e-9))  # (14b)
    assert np.all((pw * sel).sum(axis=1) <= c.power_max_w * (1 + 1e-9))  # (14c)
    assert np.all(pw[sel] >= c.power_min_w * (1 - 1e-9))  # (14d)
    assert np.all((infos["compression"] >= 0) & (infos["compression"] <= 0.99))  # (14e)
    assert np.all(np.isfinite(infos["success_prob"])) and np.all((infos["success_prob"] >= 0) & (infos["success_prob"] <= 1))


@pytest.mark.parametrize("name", ["equal", "msr", "fcr", "fra", "crra"])
def test_continuous_env_applies_the_computed_allocation(name):
    sc = TaskOriented(num_users=5)
    state, obs, gs, delta2, weight = _slots(sc, 2, seed=3)
    policy = make_policy(name, sc)
    o, bw, pw = policy.solve(delta2, weight)
    infos = sc.step(state, policy.act(obs, gs)).infos
    # encode_allocation gives a user at exactly the minimum a share of 1e-6 of the largest (so it
    # stays selected): up to ~1e-6 of the budget moves, hence an absolute tolerance on the budget scale
    # (10x that); float32 actions add <= (U + 1) * 2^-26 = 9e-8 of the budget, and 1.5e-8 to o.
    np.testing.assert_allclose(infos["bandwidth_hz"], bw, rtol=1e-5, atol=1e-5 * sc.config.bandwidth_max_hz)
    np.testing.assert_allclose(infos["power_w"], pw, rtol=1e-5, atol=1e-5 * sc.config.power_max_w)
    np.testing.assert_allclose(infos["compression"], o, atol=1e-6)


def test_analytic_delivery_matches_the_environment():
    sc = TaskOriented()
    rng = np.random.default_rng(0)
    _, _, _, delta2, _ = _slots(sc, 8, seed=1)
    o = rng.uniform(0, 0.99, delta2.shape)
    bw = rng.uniform(1e4, 6e6, delta2.shape)
    pw = rng.uniform(1e-5, 0.3, delta2.shape)
    x = FCR(sc).x_value(o, bw, pw, delta2)
    # Approximate: both take x in log space, from logs of size <= ~75 where 2 Q(x) is not saturated (a few
    # ULPs: ~5e-14 in ln x, which moves 2 Q(x) by <= 0.48 times that), and ndtr against exp(log_ndtr) a
    # few ULPs more: <= ~3e-14 (measured 2.2e-15); atol 1e-12 leaves >= 30x.
    np.testing.assert_allclose(np.minimum(2 * ndtr(-x), 1.0), sc.success(o, bw, pw, delta2)["delivery_prob"], atol=1e-12)


@pytest.mark.parametrize("config", CONFIGS)
def test_sca_objective_is_non_decreasing(config):
    sc = TaskOriented(**CONFIGS[config])
    _, _, _, delta2, weight = _slots(sc, 3, seed=11)
    for name in ("fcr", "crra"):
        policy = make_policy(name, sc)
        for d, w in zip(delta2, weight):
            policy.solve_one(d, w)
            traces = policy.history
            assert traces and all(len(t) >= 1 for t in traces)
            flat = [v for t in traces for v in t]
            assert np.all(np.diff(flat) >= -1e-12), flat  # within and across SCA runs and alternations
    # The SCA actually improves on equal resources (it is not a no-op) where that start is not hopeless
    # (in "tight_bw" every user's delivery probability underflows at equal resources: nothing to climb).
    fcr = make_policy("fcr", sc)
    fcr.solve_one(delta2[0], weight[0])
    from_equal = fcr.start_traces["equal"]
    if from_equal[0] > 1e-3:
        assert from_equal[-1] > from_equal[0]  # measured gains 0.14-3.2 (of objectives 1.9-5.0)


@pytest.mark.parametrize("config", CONFIGS)
def test_crra_beats_fcr_and_fra(config):
    sc = TaskOriented(**CONFIGS[config])
    _, _, _, delta2, weight = _slots(sc, 3, seed=5)
    value = {}
    for name in ("equal", "msr", "fcr", "fra", "crra"):
        policy = make_policy(name, sc)
        value[name] = policy.objective(*policy.solve(delta2, weight), delta2, weight)
    assert np.all(value["crra"] >= value["fcr"] - 1e-6)
    assert np.all(value["crra"] >= value["fra"] - 1e-6)
    assert np.all(value["fcr"] >= value["equal"] - 1e-6)  # the SCA starts from equal resources
    # (measured margins: crra - fra >= 4.9e-4, crra - fcr >= 0.23, fcr - equal >= 0.084)


@pytest.mark.parametrize("config", CONFIGS)
def test_fra_compression_is_optimal_by_brute_force(config):
    sc = TaskOriented(**CONFIGS[config])
    _, _, _, delta2, weight = _slots(sc, 2, seed=9)
    fra = make_policy("fra", sc)
    o, bw, pw = fra.solve(delta2, weight)
    for b in range(delta2.shape[0]):
        for i in range(delta2.shape[1]):
            values = [float(sc.success(float(g), bw[b, i], pw[b, i], delta2[b, i])["success_prob"]) for g in O_GRID]
            chosen = float(sc.success(o[b, i], bw[b, i], pw[b, i], delta2[b, i])["success_prob"])
            # Exact: FRA takes the argmax of these same element-wise values (1e-15 is 4.5 ULPs of slack).
            assert chosen >= max(values) - 1e-15
            assert o[b, i] in O_GRID


def test_msr_maximises_the_sum_rate_among_the_solvers():
    sc = TaskOriented()
    _, _, _, delta2, weight = _slots(sc, 3, seed=2)
    msr = make_policy("msr", sc)
    _, b_msr, p_msr = msr.solve(delta2, weight)
    rate = msr.sum_rate(b_msr, p_msr, delta2)
    for name in ("equal", "fcr", "crra"):
        _, b, p = make_policy(name, sc).solve(delta2, weight)
        # msr is optimal up to the conic solver's tolerance (~1e-8); measured margins >= 8% here.
        assert np.all(rate >= msr.sum_rate(b, p, delta2) * (1 - 1e-9))


def test_solvers_need_the_global_state():
    sc = TaskOriented(num_users=3)
    _, obs, *_ = _slots(sc, 1, seed=0)
    with pytest.raises(ValueError, match="global state"):
        make_policy("crra", sc).act(obs, None)


def _crraus_objective(policy, delta2, weight):
    o, bw, pw, sel = policy.solve_selected(delta2, weight)
    assert np.all(bw[~sel] == 0) and np.all(pw[~sel] == 0)
    return policy.objective(o, np.where(sel, bw, 1.0), np.where(sel, pw, 1.0), delta2, weight, sel)


@pytest.mark.parametrize("config", ["weighted", "tight_bw"])
def test_crraus_beats_crra_fcr_and_fra(config):
    sc = TaskOriented(**{**CONFIGS[config], "preset": "crraus"})
    _, _, _, delta2, weight = _slots(sc, 2, seed=5)
    value = {name: make_policy(name, sc).objective(*make_policy(name, sc).solve(delta2, weight), delta2, weight)
             for name in ("fcr", "fra", "crra")}
    crraus = _crraus_objective(make_policy("crraus", sc), delta2, weight)
    # By construction (its first incumbent is CRRA on every user, the same code on the same inputs);
    # measured margins >= 0 (crra) and >= 5.9e-4 (fra).
    for name in ("fcr", "fra", "crra"):
        assert np.all(crraus >= value[name] - 1e-6), (name, crraus, value[name])


@pytest.mark.parametrize(("num_users", "bandwidth_max_hz"), [(3, 1e6), (3, 3e6), (5, 1e6)])
def test_crraus_equals_brute_force_over_selections(num_users, bandwidth_max_hz):
    sc = TaskOriented(preset="crraus", num_users=num_users, bandwidth_max_hz=bandwidth_max_hz)
    _, _, _, delta2, weight = _slots(sc, 2, seed=13)
    crraus = make_policy("crraus", sc)
    got = _crraus_objective(crraus, delta2, weight)
    crra = CRRA(sc)
    for b in range(delta2.shape[0]):
        brute = 0.0
        for size in range(1, num_users + 1):
            for subset in itertools.combinations(range(num_users), size):
                idx = list(subset)
                o, bw, pw = crra.solve_one(delta2[b, idx], weight[b, idx])
                brute = max(brute, float(crra.objective(o, bw, pw, delta2[b, idx], weight[b, idx])))
        # The same CRRA code on the same subsets (measured: equal); the branch and bound prunes nodes whose
        # bound is within 1e-9 of the incumbent and accepts leaves 1e-12 better, so it may trail the brute
        # force by up to 1e-9 + 1e-12 plus the roundings of sums over <= 5 users: abs 2e-9 (was 1e-9, which
        # the pruning slack alone could use up).
        assert got[b] == pytest.approx(brute, abs=2e-9)
    assert not crraus.stats["exhausted"]


def test_fcr_escapes_the_underflowed_equal_start():
    # At 10 MHz every user's delivery probability underflows at equal resources (equal = 0); the
    # concentrated start lets the SCA find a positive objective.
    sc = TaskOriented(bandwidth_max_hz=10e6)
    _, _, _, delta2, weight = _slots(sc, 2, seed=0)
    value = {name: make_policy(name, sc).objective(*make_policy(name, sc).solve(delta2, weight), delta2, weight)
             for name in ("equal", "fcr")}
    assert np.all(value["fcr"] > value["equal"] + 1.0), value  # measured 3.77 vs 0
