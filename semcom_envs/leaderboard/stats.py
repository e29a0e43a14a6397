"""Leaderboard statistics: interquartile mean with stratified-bootstrap confidence intervals, normalised
scores and the probability of improvement, as recommended by Agarwal et al., "Deep reinforcement
learning at the edge of the statistical precipice" (NeurIPS 2021) and implemented in `rliable`.

The bootstrap is :func:`scipy.stats.bootstrap` (percentile intervals, 2,000 resamples, fixed
generator, so a table is reproducible from its rows). Given several samples it resamples each one
independently, which is exactly the stratified bootstrap of rliable: runs are resampled within their
stratum (a scenario; for the probability of improvement, each of the two policies), never across.
We use scipy rather than rliable itself because rliable 1.2.0 (its latest release) requires
``arch<8``, whose releases fail to import with pandas 3; its estimators are the same few lines.

Definitions (a *run* is one seed of one policy; its *score* the primary metric over its episodes):

- **IQM**: the mean of the middle 50% of the run scores (``scipy.stats.trim_mean(x, 0.25)``); robust
  to an outlier run, more statistically efficient than the median.
- **Normalised score** of run ``s``: ``(x_s - random_s) / (reference_s - random_s)``, with
  ``random_s`` and ``reference_s`` the scores of ``random`` and of the best full-information
  reference on the same evaluation episodes (the protocol's common random numbers): 0 is random, 1 the
  reference, for either direction of the metric.
- **Probability of improvement** of X over Y: ``P(X > Y) + P(X = Y) / 2`` over independent runs of
  each (the Mann-Whitney statistic), with ``>`` meaning "better" in the metric's direction.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
RESAMPLES = 2000
BOOTSTRAP_SEED = 0
RANDOM = "random"


@dataclasses.dataclass(frozen=True)
class Interval:
    """A point estimate with its 95% confidence interval."""

    point: float
    low: float
    high: float

    def text(self, digits: int = 4) -> str:
        if not math.isfinite(self.point):
            return "—"
        return f"{self.point:.{digits}g} [{self.low:.{digits}g}, {self.high:.{digits}g}]"

    def as_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


NAN_INTERVAL = Interval(math.nan, math.nan, math.nan)


def iqm(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """Interquartile mean along ``axis``."""
    return stats.trim_mean(values, 0.25, axis=axis)


def _bootstrap(samples: Sequence[np.ndarray], statistic: Callable[..., np.ndarray], axis: int = -1) -> tuple[Any, Any]:
    """Stratified percentile bootstrap: each sample resampled independently; (low, high)."""
    res = stats.bootstrap(tuple(samples), statistic, n_resamples=RESAMPLES, confidence_level=CONFIDENCE,
                          method="percentile", axis=axis, rng=np.random.default_rng(BOOTSTRAP_SEED))
    return res.confidence_interval.low, res.confidence_interval.high


def iqm_interval(strata: Sequence[Sequence[float]]) -> Interval:
    """IQM of all runs of all strata, with its stratified-bootstrap 95% interval."""
    samples = [np.asarray(s, dtype=np.float64) for s in strata]
    pooled = np.concatenate(samples)
    if pooled.size == 0 or not np.all(np.isfinite(pooled)):
        return NAN_INTERVAL
    point = float(iqm(pooled))
    if pooled.size < 2 or np.ptp(pooled) == 0 or min(s.size for s in samples) < 2:
        return Interval(point, point, point) if np.ptp(pooled) == 0 else Interval(point, math.nan, math.nan)
    low, high = _bootstrap(samples, lambda *xs, axis: iqm(np.concatenate(xs, axis=axis), axis=axis))
    return Interval(point, float(low), float(high))


def iqm_curve(runs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IQM over runs (axis 0) at every step of ``runs`` ``(runs, steps)``, with 95% bootstrap bands."""
    point = iqm(runs, axis=0)
    if runs.shape[0] < 2:
        return point, point, point
    low, high = _bootstrap([runs], lambda x, axis: iqm(x, axis=axis), axis=0)
    constant = np.ptp(runs, axis=0) == 0
    return point, np.where(constant, point, low), np.where(constant, point, high)


@dataclasses.dataclass(frozen=True)
class Plateau:
    """Whether learning curves are flat over their last fifth (:func:`plateau`)."""

    final_fifth: float
    """IQM over runs of each run's mean training reward over the last fifth of its curve."""
    end: Interval
    """IQM over runs of the curve's last point, with its 95% bootstrap interval."""

    @property
    def flat(self) -> bool:
        """The final fifth's IQM lies within the end's interval: no change over the last fifth that the runs resolve."""
        return bool(self.end.low <= self.final_fifth <= self.end.high)


def plateau(runs: np.ndarray) -> Plateau:
    """The plateau check of a learning curve ``(runs, points)``: the final fifth's IQM against the end's 95% interval.

    A curve still rising (or falling) over its last fifth by more than the runs' spread at the end puts the
    final fifth's mean outside the end's interval; a single run (no interval) is never called flat.
    """
    runs = np.asarray(runs, dtype=np.float64)
    tail = runs[:, -max(1, math.ceil(runs.shape[1] / 5)):]
    return Plateau(float(iqm(tail.mean(axis=1))), iqm_interval([runs[:, -1]]))


def probability_of_improvement(x: Sequence[float], y: Sequence[float], higher_is_better: bool = True) -> float:
    """P(a run of X is better than a run of Y), ties counted half."""
    return float(_poi(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), higher_is_better))


def _poi(x: np.ndarray, y: np.ndarray, higher_is_better: bool, axis: int = -1) -> np.ndarray:
    x, y = np.moveaxis(x, axis, -1), np.moveaxis(y, axis, -1)
    d = (x[..., :, None] - y[..., None, :]) * (1.0 if higher_is_better else -1.0)
    return (d > 0).mean(axis=(-2, -1)) + 0.5 * (d == 0).mean(axis=(-2, -1))


def poi_interval(x: Sequence[float], y: Sequence[float], higher_is_better: bool = True) -> Interval:
    """Probability of improvement with its 95% interval (X and Y resampled independently)."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    point = probability_of_improvement(a, b, higher_is_better)
    if min(a.size, b.size) < 2 or np.ptp(np.concatenate([a, b])) == 0:
        return Interval(point, point, point) if min(a.size, b.size) >= 1 else NAN_INTERVAL
    low, high = _bootstrap([a, b], lambda p, q, axis: _poi(p, q, higher_is_better, axis))
    return Interval(point, float(low), float(high))


def normalised(scores: Mapping[int, float], random: Mapping[int, float], reference: Mapping[int, float]) -> list[float]:
    """Per-run normalised scores (random 0, reference 1) over the seeds all three were run on."""
    out = []
    for seed, x in sorted(scores.items()):
        if seed in random and seed in reference and reference[seed] != random[seed]:
            out.append((x - random[seed]) / (reference[seed] - random[seed]))
    return out


@dataclasses.dataclass
class PolicyResult:
    """One policy's summary on one scenario."""

    policy: str
    kind: str
    uses_global_state: bool
    seeds: list[int]
    scores: dict[int, float]
    score: Interval
    normalised: Interval
    normalised_runs: list[float]
    improvement: Interval
    ms_per_decision: float
    train_steps: int
    wall_clock_s: float


@dataclasses.dataclass
class ScenarioResult:
    """Every policy's summary on one scenario, with the anchors of the normalisation and comparison."""

    env_id: str
    primary_metric: str
    higher_is_better: bool
    reference: str | None
    """Best full-information baseline (normalised score 1), if any."""
    best_classical: str | None
    """Best baseline other than random, preferring local-information ones: the probability-of-improvement anchor."""
    policies: list[PolicyResult]


def summarise(rows: Sequence[Mapping[str, Any]]) -> list[ScenarioResult]:
    """Per-scenario summaries of store rows (one protocol version), policies sorted best first."""
    return [summarise_scenario([r for r in rows if r["env_id"] == env_id]) for env_id in sorted({r["env_id"] for r in rows})]


def _best(candidates: Sequence[str], mean_score: Mapping[str, float]) -> str | None:
    return max(candidates, key=mean_score.__getitem__) if candidates else None


def summarise_scenario(rows: Sequence[Mapping[str, Any]]) -> ScenarioResult:
    """Every policy's summary on one scenario's rows, best first."""
    higher = rows[0]["higher_is_better"]
    sign = 1.0 if higher else -1.0
    by_policy: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        by_policy.setdefault(r["policy"], []).append(r)
    scores = {p: {r["seed"]: r["primary_value"] for r in rs} for p, rs in by_policy.items()}
    mean_score = {p: sign * float(np.mean(list(s.values()))) for p, s in scores.items()}
    baselines = [p for p, rs in by_policy.items() if rs[0]["kind"] == "baseline" and p != RANDOM]
    full_info = [p for p in baselines if by_policy[p][0]["uses_global_state"]]
    reference = _best(full_info, mean_score) if RANDOM in scores else None
    if reference is not None and mean_score[reference] <= mean_score[RANDOM]:
        reference = None
    local = [p for p in baselines if not by_policy[p][0]["uses_global_state"]]
    best_classical = _best(local, mean_score) or _best(baselines, mean_score)
    results = []
    for p, rs in by_policy.items():
        runs = normalised(scores[p], scores[RANDOM], scores[reference]) if reference else []
        anchor = scores[best_classical] if best_classical and p != best_classical else None
        values = list(scores[p].values())
        results.append(PolicyResult(
            policy=p, kind=rs[0]["kind"], uses_global_state=rs[0]["uses_global_state"], seeds=sorted(scores[p]),
            scores=scores[p], score=iqm_interval([values]),
            normalised=iqm_interval([runs]) if runs else NAN_INTERVAL, normalised_runs=runs,
            improvement=poi_interval(values, list(anchor.values()), higher) if anchor else NAN_INTERVAL,
            ms_per_decision=1e3 * float(np.median([r["seconds_per_decision"] for r in rs])),
            train_steps=int(rs[0]["train_steps"]), wall_clock_s=float(np.mean([r["wall_clock_s"] for r in rs]))))
    results.sort(key=lambda r: -sign * r.score.point if math.isfinite(r.score.point) else math.inf)
    return ScenarioResult(rows[0]["env_id"], rows[0]["primary_metric"], higher, reference, best_classical, results)


BEST_LOCAL = "best local baseline"
"""The aggregate's row that takes, in each scenario, that scenario's best local baseline (its ``best_classical``)."""


def aggregate_members(scenarios: Sequence[ScenarioResult]) -> dict[str, list[tuple[str, PolicyResult]]]:
    """The rows of the aggregate and, per row, ``(env_id, result)`` in each scenario with a reference it was run on:
    every policy run on all of them, :data:`BEST_LOCAL`, and learning agents or submissions run on two or more."""
    normalisable = [s for s in scenarios if s.reference is not None]
    members: dict[str, list[tuple[str, PolicyResult]]] = {}
    for s in normalisable:
        for p in s.policies:
            if p.normalised_runs:
                members.setdefault(p.policy, []).append((s.env_id, p))
            if p.policy == s.best_classical and p.normalised_runs and not p.uses_global_state:
                members.setdefault(BEST_LOCAL, []).append((s.env_id, p))
    return {name: ms for name, ms in members.items()
            if len(ms) == len(normalisable) or (ms[0][1].kind != "baseline" and len(ms) >= 2)}


def aggregate(scenarios: Sequence[ScenarioResult]) -> dict[str, tuple[Interval, int]]:
    """IQM of normalised scores across the scenarios with a reference, stratified by scenario, for the rows of
    :func:`aggregate_members`: ``{policy: (interval, scenarios)}``, best first. An agent run on fewer scenarios than
    the others is aggregated over its own (the count says how many)."""
    out = {name: (iqm_interval([p.normalised_runs for _, p in ms]), len(ms))
           for name, ms in aggregate_members(scenarios).items()}
    return dict(sorted(out.items(), key=lambda kv: -kv[1][0].point))
