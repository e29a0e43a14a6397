"""Leaderboard statistics against hand calculations and the properties that make them trustworthy.

Float comparisons: ``==`` where the arithmetic is exact (means and ratios of small integers and
halves, constant samples, the same seeded bootstrap twice, ratios x / x); ``approx`` (rel 1e-6)
for hand calculations in another operation order, a few ULPs apart; the bootstrap interval may sit a
few ULPs off its point estimate (values <= 1: slack 1e-12).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semcom_envs.leaderboard import stats


def test_iqm_is_the_mean_of_the_middle_half() -> None:
    assert stats.iqm(np.arange(1.0, 9.0)) == pytest.approx(4.5)  # mean of 3, 4, 5, 6
    assert stats.iqm(np.array([0.0, 1.0, 1.0, 100.0])) == pytest.approx(1.0)  # the outlier is trimmed


def test_interval_contains_the_point_and_is_reproducible() -> None:
    values = [0.1, 0.5, 0.3, 0.9, 0.4, 0.45]
    a, b = stats.iqm_interval([values]), stats.iqm_interval([values])
    assert a == b
    assert a.low <= a.point <= a.high and a.low >= min(values) and a.high <= max(values)
    assert a.high > a.low


def test_constant_runs_give_a_zero_width_interval() -> None:
    iv = stats.iqm_interval([[2.0] * 5])
    assert (iv.point, iv.low, iv.high) == (2.0, 2.0, 2.0)


def test_bootstrap_is_stratified() -> None:
    # Resampling within strata keeps four 0s and four 10s in every resample, so the IQM never moves;
    # a pooled bootstrap would move it.
    iv = stats.iqm_interval([[0.0] * 4, [10.0] * 4])
    assert (iv.point, iv.low, iv.high) == (5.0, 5.0, 5.0)


def test_probability_of_improvement_by_hand() -> None:
    x, y = [1.0, 2.0, 3.0], [2.0, 2.0, 2.0]
    assert stats.probability_of_improvement(x, y) == pytest.approx((3 + 0.5 * 3) / 9)
    assert stats.probability_of_improvement([3.0, 4.0], [1.0, 2.0]) == 1.0
    assert stats.probability_of_improvement([3.0, 4.0], [1.0, 2.0], higher_is_better=False) == 0.0
    iv = stats.poi_interval([3.0, 4.0, 5.0], [1.0, 2.0, 3.5])
    assert iv.low <= iv.point <= iv.high <= 1.0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-10, 10), min_size=2, max_size=8), st.lists(st.floats(-10, 10), min_size=2, max_size=8),
       st.booleans())
def test_probability_of_improvement_is_a_probability_and_antisymmetric(x: list[float], y: list[float], higher: bool) -> None:
    p = stats.probability_of_improvement(x, y, higher)
    assert 0.0 <= p <= 1.0
    assert p + stats.probability_of_improvement(y, x, higher) == pytest.approx(1.0)
    iv = stats.poi_interval(x, y, higher)
    assert 0.0 <= iv.low <= iv.point + 1e-12 and iv.point <= iv.high + 1e-12 and iv.high <= 1.0


def test_normalised_scores_use_the_same_runs() -> None:
    scores = {0: 5.0, 1: 7.0, 2: 1.0}
    random, reference = {0: 1.0, 1: 3.0}, {0: 9.0, 1: 7.0}
    assert stats.normalised(scores, random, reference) == [0.5, 1.0]  # seed 2 lacks its anchors
    assert stats.normalised(random, random, reference) == [0.0, 0.0]


def _row(policy: str, seed: int, value: float, kind: str = "baseline", global_state: bool = False,
         higher: bool = True) -> dict:
    return {"env_id": "E", "policy": policy, "seed": seed, "primary_value": value, "kind": kind,
            "uses_global_state": global_state, "higher_is_better": higher, "primary_metric": "m",
            "seconds_per_decision": 1e-3, "train_steps": 100 if kind == "agent" else 0, "wall_clock_s": 1.0}


@pytest.mark.parametrize("higher", [True, False])
def test_summary_anchors_and_order(higher: bool) -> None:
    sign = 1.0 if higher else -1.0
    rows = []
    for s in range(5):
        rows += [_row("random", s, sign * 0.0 + 0.1 * s, higher=higher),
                 _row("oracle", s, sign * 10.0 + 0.1 * s, global_state=True, higher=higher),
                 _row("weak_oracle", s, sign * 2.0 + 0.1 * s, global_state=True, higher=higher),
                 _row("greedy", s, sign * 6.0 + 0.1 * s, higher=higher),
                 _row("agent", s, sign * (7.0 + (s % 2)) + 0.1 * s, kind="agent", higher=higher)]
    (result,) = stats.summarise(rows)
    assert result.reference == "oracle" and result.best_classical == "greedy"
    assert [p.policy for p in result.policies] == ["oracle", "agent", "greedy", "weak_oracle", "random"]
    by = {p.policy: p for p in result.policies}
    assert by["random"].normalised_runs == [0.0] * 5 and by["oracle"].normalised_runs == [1.0] * 5
    assert by["greedy"].normalised.point == pytest.approx(0.6)
    assert by["agent"].improvement.point == 1.0 and by["random"].improvement.point == 0.0
    assert math.isnan(by["greedy"].improvement.point)  # no comparison with itself


def test_no_reference_without_random_or_full_information() -> None:
    rows = [_row("greedy", s, 1.0 + s) for s in range(3)] + [_row("random", s, 0.5 * s) for s in range(3)]
    (result,) = stats.summarise(rows)
    assert result.reference is None and result.best_classical == "greedy"
    assert all(math.isnan(p.normalised.point) for p in result.policies)


def test_aggregate_is_stratified_over_scenarios() -> None:
    rows = []
    for env in ("A", "B"):
        for s in range(4):
            rows += [{**_row("random", s, 0.0), "env_id": env}, {**_row("ref", s, 1.0, global_state=True), "env_id": env},
                     {**_row("x", s, 0.5 if env == "A" else 0.25), "env_id": env}]
    rows += [{**_row("agent", s, 0.75, kind="agent"), "env_id": "A"} for s in range(4)]  # run on A only
    rows += [{**_row("y", s, 0.125), "env_id": "B"} for s in range(4)]  # a baseline of B only
    agg = stats.aggregate(stats.summarise(rows))
    # best first (x and the best local baseline tie); one-scenario agents and baselines are left out
    assert set(agg) == {"ref", stats.BEST_LOCAL, "x", "random"} and list(agg)[::3] == ["ref", "random"]
    assert agg["x"][1] == 2 and agg["x"][0].point == pytest.approx(0.375)
    assert agg[stats.BEST_LOCAL] == agg["x"]  # x is the best local baseline of both scenarios


def test_learning_curve_bands() -> None:
    runs = np.array([[0.0, 1.0, 2.0], [0.0, 2.0, 3.0], [0.0, 3.0, 4.0]])
    point, low, high = stats.iqm_curve(runs)
    assert point[0] == low[0] == high[0] == 0.0
    assert np.all(low <= point) and np.all(point <= high)


def test_plateau_tells_a_flat_curve_from_a_rising_one() -> None:
    """Five runs of ten points: noise of +-1 around a constant is flat (the last two points' mean sits in the end's
    interval); the same noise on a ramp of 10 per point is not (the last fifth's mean lies 5 below the end, its
    interval spans the runs' +-1 spread at the end)."""
    noise = np.array([[1.0, -1.0] * 5, [-1.0, 1.0] * 5, [0.5, -0.5] * 5, [-0.5, 0.5] * 5, [0.0, 0.0] * 5])
    flat = stats.plateau(3.0 + noise)
    assert flat.flat and flat.final_fifth == 3.0
    rising = stats.plateau(10.0 * np.arange(10) + noise)
    assert not rising.flat
    assert rising.final_fifth == 85.0 and rising.end.low <= 90.0 <= rising.end.high and rising.end.high <= 91.0
    assert not stats.plateau(np.arange(10.0)[None, :]).flat  # one run: no interval, never called flat
