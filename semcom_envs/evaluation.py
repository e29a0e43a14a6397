"""Batched evaluation of policies: every episode is one copy of a batch, stepped in one array call.

Episode ``i`` of an evaluation with seed ``s`` is the environment reset with seed ``s + i``, so
every policy meets the same users, requirements and fading (common random numbers), and a result
is reproducible from (env id, config, seed, episodes).
"""

from __future__ import annotations

import dataclasses
import json
import platform
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from baselines.policy import Policy
from semcom_envs.api.core import BatchedScenario
from semcom_envs.api.runner import BatchRunner

METRICS = {
    "ee": "reward (semantic EE by default)",
    "sum_qoe": "sum of QoE over agents",
    "rate_ok": "share of agent-slots meeting the rate requirement",
    "accuracy_ok": "share of agent-slots meeting the accuracy requirement",
    "tx_power_w": "mean transmit power per agent [W]",
}


@dataclasses.dataclass
class EvalResult:
    """Per-episode metrics (means over the episode's slots) and the per-slot reward curve."""

    policy: str
    uses_global_state: bool
    episodes: dict[str, list[float]]
    reward_per_slot: list[list[float]]
    seconds_per_decision: float

    def summary(self) -> dict[str, tuple[float, float]]:
        """Mean and 95% confidence half-width (Student t over episodes) of each metric."""
        out = {}
        for name, values in self.episodes.items():
            v = np.asarray(values)
            half = float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else float("nan")
            out[name] = (float(v.mean()), half)
        return out


def evaluate(scenario: BatchedScenario, policy: Policy, episodes: int, seed: int) -> EvalResult:
    """Run ``episodes`` full episodes of ``policy`` in one batch; episode i is seeded ``seed + i``."""
    runner = BatchRunner(scenario, episodes)
    obs = runner.reset(seed)
    policy.reset(seed)
    sums: dict[str, np.ndarray] = {name: np.zeros(episodes) for name in METRICS}
    curve = []
    decision_time = 0.0
    steps = 0
    done = np.zeros(episodes, dtype=bool)
    while not done.all():
        global_state = runner.global_state() if policy.uses_global_state else None
        start = time.perf_counter()
        actions = policy.act(obs, global_state)
        decision_time += time.perf_counter() - start
        tr = runner.step(actions)
        infos, obs = tr.infos, tr.observations
        reward = scenario.team_reward(tr.rewards)
        curve.append(reward)
        sums["ee"] += reward
        sums["sum_qoe"] += infos["qoe"].sum(axis=1)
        sums["rate_ok"] += infos["rate_ok"].mean(axis=1)
        sums["accuracy_ok"] += infos["accuracy_ok"].mean(axis=1)
        sums["tx_power_w"] += infos["tx_power_w"].mean(axis=1)
        steps += 1
        done = np.logical_and.reduce([tr.terminated[a] | tr.truncated[a] for a in scenario.agents])
    runner.close()
    return EvalResult(
        policy=policy.name,
        uses_global_state=policy.uses_global_state,
        episodes={name: (s / steps).tolist() for name, s in sums.items()},
        reward_per_slot=np.stack(curve, axis=1).tolist(),
        seconds_per_decision=decision_time / steps,
    )


def provenance(scenario: BatchedScenario, seed: int, episodes: int) -> dict[str, Any]:
    """What a result needs to be reproduced: env id, config, seed, package versions, machine."""
    versions = {}
    for pkg in ("semcom-envs", "numpy", "gymnasium", "pettingzoo", "torch", "stable-baselines3"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {
        "env_id": scenario.env_id,
        "config": dataclasses.asdict(scenario.config),
        "seed": seed,
        "episodes": episodes,
        "versions": versions,
        "python": platform.python_version(),
        "machine": platform.platform(),
    }


def markdown_table(results: Sequence[EvalResult]) -> str:
    """Comparison table: mean +- 95% CI over episodes for every metric, one row per policy."""
    header = "| policy | full CSI | " + " | ".join(METRICS) + " | ms/decision |"
    lines = [header, "|" + " --- |" * (len(METRICS) + 3)]
    for r in results:
        s = r.summary()
        cells = " | ".join(f"{s[m][0]:.4g} ± {s[m][1]:.2g}" for m in METRICS)
        lines.append(f"| {r.policy} | {'yes' if r.uses_global_state else 'no'} | {cells} | "
                     f"{1e3 * r.seconds_per_decision:.3f} |")
    return "\n".join(lines)


def save(results: Sequence[EvalResult], meta: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write ``results.json`` (with provenance), ``results.md`` and ``ee_per_slot.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "results.json", "table": out_dir / "results.md", "plot": out_dir / "ee_per_slot.png"}
    payload = {"meta": meta, "results": [dataclasses.asdict(r) | {"summary": r.summary()} for r in results]}
    paths["json"].write_text(json.dumps(payload, indent=1))
    paths["table"].write_text(markdown_table(results) + "\n")
    fig, ax = plt.subplots(figsize=(7, 4))
    for r in results:
        curve = np.asarray(r.reward_per_slot)
        mean = curve.mean(axis=0)
        half = stats.t.ppf(0.975, max(len(curve) - 1, 1)) * curve.std(axis=0, ddof=1) / np.sqrt(len(curve)) \
            if len(curve) > 1 else np.zeros_like(mean)
        slots = np.arange(1, len(mean) + 1)
        ax.plot(slots, mean, label=r.policy)
        ax.fill_between(slots, mean - half, mean + half, alpha=0.2)
    ax.set_xlabel("slot")
    ax.set_ylabel(f"reward ({meta['config'].get('reward', 'reward')})")
    ax.set_title(f"{meta['env_id']}: mean over {meta['episodes']} episodes, 95% CI")
    ax.legend()
    fig.tight_layout()
    fig.savefig(paths["plot"], dpi=100)
    plt.close(fig)
    return paths
