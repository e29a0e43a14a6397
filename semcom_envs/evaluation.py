"""Batched evaluation and comparison of policies with honest statistics.

Evaluation seed ``s`` runs ``episodes`` episodes as one batch; episode ``i`` is the environment
reset with seed ``s * 2**32 + i``, so runs with different seeds never share an episode, every
policy meets the same users, requirements and fading for the same seed (common random numbers),
and every number is reproducible from (env id, config, seed, episodes). Confidence intervals are
Student-t intervals over seeds (each seed's value is the mean over its episodes and slots).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import platform
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from semcom_baselines.policy import Policy
from semcom_envs.api.core import BatchedScenario
from semcom_envs.api.runner import BatchRunner
from semcom_envs.progress import Steps

EPISODE_SEED_STRIDE = 2**32
"""Episode ``i`` of evaluation seed ``s`` uses environment seed ``s * EPISODE_SEED_STRIDE + i``."""

@dataclasses.dataclass
class RunResult:
    """One policy, one evaluation seed: per-episode means of the scenario's metrics, the reward curve,
    and the counts of the scenario's action grid (if it has one)."""

    policy: str
    seed: int
    episodes: dict[str, list[float]]
    reward_per_slot: list[list[float]]
    action_counts: list[list[int]] | None
    action_axes: tuple[str, str] | None
    seconds_per_decision: float

    def mean(self, metric: str) -> float:
        return float(np.mean(self.episodes[metric]))


def slot_infos(scenario: BatchedScenario, policy: Policy, episodes: int, seed: int, keys: Sequence[str]) -> dict[str, np.ndarray]:
    """The infos ``keys`` of every slot of ``episodes`` episodes of ``policy`` on evaluation seed ``seed`` (the
    episodes :func:`evaluate` scores), each ``(slots, episodes, ...)``: for analyses of what a policy does, where
    the metrics' episode means are not enough. Every episode must last ``max_steps`` slots (truncation only)."""
    runner = BatchRunner(scenario, episodes)
    obs = runner.reset([seed * EPISODE_SEED_STRIDE + i for i in range(episodes)])
    if hasattr(policy, "bind"):  # as in evaluate
        policy.bind(runner)
    policy.reset(seed)
    out: dict[str, list[np.ndarray]] = {key: [] for key in keys}
    for _ in range(scenario.config.max_steps):
        tr = runner.step(policy.act(obs, runner.global_state() if policy.uses_global_state else None))
        obs = tr.observations
        if any(tr.terminated[a].any() for a in scenario.agents):
            runner.close()
            raise ValueError(f"{scenario.env_id}: an episode terminated before max_steps={scenario.config.max_steps}; "
                             "slot_infos stacks whole episodes of max_steps slots (use evaluate for the metrics)")
        for key in keys:
            out[key].append(tr.infos[key])
    runner.close()
    return {key: np.stack(v) for key, v in out.items()}


def evaluate(scenario: BatchedScenario, policy: Policy, episodes: int, seed: int) -> RunResult:
    """Run ``episodes`` full episodes of ``policy`` in one batch (see the module docstring for seeds)."""
    runner = BatchRunner(scenario, episodes)
    obs = runner.reset([seed * EPISODE_SEED_STRIDE + i for i in range(episodes)])
    if hasattr(policy, "bind"):  # full-state references (e.g. the CDRL oracle) read the runner's state
        policy.bind(runner)
    policy.reset(seed)
    sums = {name: np.zeros(episodes) for name in scenario.metrics}
    curve, decision_time, steps = [], 0.0, 0
    counts, axes = None, None
    done = np.zeros(episodes, dtype=bool)
    while not done.all():
        global_state = runner.global_state() if policy.uses_global_state else None
        start = time.perf_counter()
        actions = policy.act(obs, global_state)
        decision_time += time.perf_counter() - start
        tr = runner.step(actions)
        obs, infos = tr.observations, tr.infos
        reward = scenario.team_reward(tr.rewards)
        curve.append(reward)
        for name, value in scenario.step_metrics(reward, infos).items():
            sums[name] += value
        grid = scenario.action_grid(infos)
        if grid is not None:
            cells, shape, axes = grid
            counts = np.zeros(shape, dtype=np.int64) if counts is None else counts
            np.add.at(counts, (cells[..., 0].ravel(), cells[..., 1].ravel()), 1)
        steps += 1
        done = np.logical_and.reduce([tr.terminated[a] | tr.truncated[a] for a in scenario.agents])
    runner.close()
    return RunResult(
        policy=policy.name,
        seed=seed,
        episodes={name: (s / steps).tolist() for name, s in sums.items()},
        reward_per_slot=np.stack(curve, axis=1).tolist(),
        action_counts=None if counts is None else counts.tolist(),
        action_axes=axes,
        seconds_per_decision=decision_time / steps,
    )


def mean_ci(values: Sequence[float]) -> tuple[float, float]:
    """Mean and 95% Student-t half-width (NaN for a single value)."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) < 2:
        return float(v.mean()), float("nan")
    return float(v.mean()), float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))


@dataclasses.dataclass
class Comparison:
    """Several policies on the same seeds of one scenario.

    ``reference`` is the scenario's ``(policy, summary key)`` full-information reference when that
    policy was run: every policy's primary metric is then also given as a ratio to its value on
    the same seed (MultiCell: ``fraction_of_oracle``; Offloading: ``ratio_to_exhaustive``).
    """

    runs: dict[str, list[RunResult]]
    uses_global_state: dict[str, bool]
    approximate: dict[str, bool]
    metrics: tuple[str, ...]
    primary_metric: str
    reference: tuple[str, str] | None
    higher_is_better: bool = True
    """The primary metric's direction (the table's header marks it)."""

    def summary(self, policy: str) -> dict[str, tuple[float, float]]:
        """Mean and 95% CI over seeds of every metric, the decision time and the reference ratio."""
        runs = self.runs[policy]
        out = {m: mean_ci([r.mean(m) for r in runs]) for m in self.metrics}
        out["ms_per_decision"] = mean_ci([1e3 * r.seconds_per_decision for r in runs])
        if self.reference is not None:
            name, key = self.reference
            m = self.primary_metric
            out[key] = mean_ci([r.mean(m) / o.mean(m) for r, o in zip(runs, self.runs[name])])
        return out


def compare(scenario: BatchedScenario, policies: Sequence[Policy], seeds: Sequence[int], episodes: int,
            progress: bool = False) -> Comparison:
    """Evaluate every policy on every seed (same episodes for all policies); ``progress`` counts the
    (policy, seed) runs on stderr."""
    runs: dict[str, list[RunResult]] = {p.name: [] for p in policies}
    with Steps(f"{scenario.env_id}: policy x seed runs", len(policies) * len(seeds), enabled=progress) as bar:
        for p in policies:
            for s in seeds:
                runs[p.name].append(evaluate(scenario, p, episodes, s))
                bar.advance(note=p.name)
    return Comparison(
        runs=runs,
        uses_global_state={p.name: bool(p.uses_global_state) for p in policies},
        approximate={p.name: bool(getattr(p, "approximate", False)) for p in policies},
        metrics=tuple(scenario.metrics),
        primary_metric=scenario.primary_metric,
        reference=scenario.reference if scenario.reference and scenario.reference[0] in runs else None,
        higher_is_better=bool(scenario.higher_is_better),
    )


def environment_record() -> dict[str, Any]:
    """Package versions, Python and machine: recorded with every result."""
    versions = {}
    for pkg in ("semcom-envs", "numpy", "scipy", "gymnasium", "pettingzoo", "torch", "stable-baselines3"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {"versions": versions, "python": platform.python_version(), "machine": platform.platform()}


def provenance(scenario: BatchedScenario, seeds: Sequence[int], episodes: int) -> dict[str, Any]:
    """What a result needs to be reproduced: env id, config, seeds, package versions, machine."""
    return {
        "env_id": scenario.env_id,
        "config": dataclasses.asdict(scenario.config),
        "seeds": list(seeds),
        "episodes_per_seed": episodes,
        "episode_seed_rule": f"seed * {EPISODE_SEED_STRIDE} + episode",
        **environment_record(),
    }


def _label(comparison: Comparison, policy: str) -> str:
    return f"{policy} (approx.)" if comparison.approximate[policy] else policy


def markdown_table(comparison: Comparison) -> str:
    """Comparison table: mean ± 95% CI over seeds, one row per policy."""
    primary = comparison.primary_metric
    columns = [primary, *([comparison.reference[1]] if comparison.reference else []),
               *(m for m in comparison.metrics if m != primary), "ms_per_decision"]
    directed = 1 + (comparison.reference is not None)  # the primary metric and its ratio to the reference
    arrow = "↑" if comparison.higher_is_better else "↓"
    labels = [f"{c} {arrow}" if i < directed else c for i, c in enumerate(columns)]
    lines = ["| policy | information | " + " | ".join(labels) + " |", "|" + " --- |" * (len(columns) + 2)]
    for policy in comparison.runs:
        s = comparison.summary(policy)
        info = "full information" if comparison.uses_global_state[policy] else "local"
        cells = []
        for c in columns:
            mean, half = s[c]
            cells.append(f"{mean:.4g} ± {half:.2g}" if np.isfinite(half) else f"{mean:.4g}")
        lines.append(f"| {_label(comparison, policy)} | {info} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def save(comparison: Comparison, meta: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write results.json (provenance + raw values), results.md and, where matplotlib is installed (the
    ``plots`` extra), three figures; the returned paths name what was written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "results.json", "table": out_dir / "results.md"}
    payload = {
        "meta": meta,
        "summary": {p: comparison.summary(p) for p in comparison.runs},
        "uses_global_state": comparison.uses_global_state,
        "approximate": comparison.approximate,
        "runs": {p: [dataclasses.asdict(r) for r in runs] for p, runs in comparison.runs.items()},
    }
    paths["json"].write_text(json.dumps(payload, indent=1))
    paths["table"].write_text(markdown_table(comparison) + "\n")
    if importlib.util.find_spec("matplotlib") is not None:
        paths.update(_figures(comparison, meta, out_dir))
    return paths


def _figures(comparison: Comparison, meta: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """The reward per slot with CIs, the primary metric's box plot and the action heatmap (where actions are counted)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    primary = comparison.primary_metric
    paths = {"curve": out_dir / "reward_per_slot.png", "box": out_dir / f"{primary}_boxplot.png"}
    reward_name = meta["config"].get("reward", "reward")

    fig, ax = plt.subplots(figsize=(7, 4))
    means = []
    for policy, runs in comparison.runs.items():
        per_seed = np.stack([np.mean(r.reward_per_slot, axis=0) for r in runs])  # (seeds, slots)
        mean = per_seed.mean(axis=0)
        half = (stats.t.ppf(0.975, len(runs) - 1) * per_seed.std(axis=0, ddof=1) / np.sqrt(len(runs))
                if len(runs) > 1 else np.zeros_like(mean))
        slots = np.arange(1, len(mean) + 1)
        ax.plot(slots, mean, label=_label(comparison, policy))
        ax.fill_between(slots, mean - half, mean + half, alpha=0.2)
        means.append(mean)
    low, high = float(np.min(means)), float(np.max(means))
    pad = 0.25 * (high - low) or 1.0
    ax.set_ylim(low - pad, high + pad)  # the means decide the axis: a few seeds' wide bands are cut at it
    ax.set_xlabel("slot")
    ax.set_ylabel("reward" if reward_name == "reward" else f"reward ({reward_name})")
    seeds = len(meta["seeds"])
    ax.set_title(f"{meta['env_id']}: mean over {seeds} seed{'s' if seeds > 1 else ''}"
                 + (", 95% CI (cut at the axis)" if seeds > 1 else ""))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(paths["curve"], dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    names = list(comparison.runs)
    ax.boxplot([np.concatenate([r.episodes[primary] for r in comparison.runs[p]]) for p in names])
    ax.set_xticks(range(1, len(names) + 1), [_label(comparison, p) for p in names], rotation=20, fontsize=8)
    ax.set_ylabel(f"episode mean of {primary}")
    ax.set_title(f"{meta['env_id']}: one point per episode")
    fig.tight_layout()
    fig.savefig(paths["box"], dpi=100)
    plt.close(fig)

    with_counts = [p for p in names if comparison.runs[p][0].action_counts is not None]
    if with_counts:
        shares = {policy: np.sum([r.action_counts for r in comparison.runs[policy]], axis=0).astype(float)
                  for policy in with_counts}
        shares = {policy: counts / counts.sum() for policy, counts in shares.items()}
        top = max(float(share.max()) for share in shares.values())  # one colour scale for every panel
        fig, axes = plt.subplots(1, len(with_counts), figsize=(3.2 * len(with_counts) + 0.8, 3), squeeze=False,
                                 layout="constrained")
        for ax, (policy, share) in zip(axes[0], shares.items()):
            image = ax.imshow(share, origin="lower", aspect="auto", cmap="magma", vmin=0.0, vmax=top,
                              extent=(0.5, share.shape[1] + 0.5, -0.5, share.shape[0] - 0.5))
            ax.set_title(_label(comparison, policy), fontsize=9)
            y_label, x_label = comparison.runs[policy][0].action_axes
            ax.set_xlabel(x_label)
            ax.set_ylabel(y_label)
        fig.colorbar(image, ax=axes[0].tolist(), label="share of choices")
        fig.suptitle(f"share of ({y_label}, {x_label}) choices", fontsize=9)
        paths["heatmap"] = out_dir / "action_heatmap.png"
        fig.savefig(paths["heatmap"], dpi=100)
        plt.close(fig)
    return paths
