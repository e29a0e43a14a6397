"""Reproduction of the multi-cell source paper's Figs. 4-5 (docs/reproduce-multicell.md), as ``semcom reproduce-multicell``.

For each preset and number of cells M: train DRQN, DQN and DQN without energy term (reward
``"qoe"``: the paper's "w/o EC") for ``steps`` slots on ``seeds`` training seeds (all seeds of a
variant in one batched process), then evaluate every learned policy greedily next to the
baselines ``random``, ``greedy``, ``min_power`` and the full-CSI ``oracle`` on the same evaluation
episodes, always measuring the normalised semantic EE (the paper's y axis, whatever reward the
agent was trained on).

Statistics: an agent's value per training seed is its mean EE over all evaluation episodes; its
CI is a Student-t interval over training seeds. A baseline's CI is over evaluation seeds. The
fraction of the oracle divides by the oracle's mean EE on the same episodes. The training curve
is the EE of the behaviour (epsilon-greedy) policy in windows of 1,000 slots, as the paper plots
training progress; the baselines appear as their evaluated level.

Everything is resumable: finished trainings are reused, interrupted ones continue from their
checkpoint.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from semcom_agents import load_policy
from semcom_agents.training import policy_path, read_curve, train
from semcom_baselines import make_policy
from semcom_envs.evaluation import EPISODE_SEED_STRIDE, environment_record, evaluate, mean_ci
from semcom_envs.registration import make_scenario

ENV_ID = "SemCom-MultiCell-v0"
VARIANTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "drqn": ("drqn", "ee", {}),
    "dqn": ("dqn", "ee", {}),
    "dqn_wo_ec": ("dqn", "qoe", {}),
    "dqn_shared": ("dqn", "ee", {"parameter_sharing": True}),
}
"""Learned variant -> (agent, training reward, hyperparameters). The first three are the paper's;
``dqn_shared`` (one network for all BSs, agent id in the input) is our addition."""
BASELINES = ("random", "greedy", "min_power", "oracle")
SMOOTH = 5
"""Log windows (of 1,000 slots) averaged in the training-curve figure."""


def reproduce_multicell(out: Path, steps: int = 100_000, seeds: int = 3, cells: Sequence[int] = (3, 7),
                        presets: Sequence[str] = ("paper",), variants: Sequence[str] | None = None,
                        hyperparameters: Mapping[str, Mapping[str, Any]] | None = None,
                        eval_seeds: Sequence[int] = (1000, 1001, 1002), episodes: int = 16,
                        train_only: bool = False, progress: bool = True) -> dict[str, str]:
    """Train, evaluate and plot; returns one Markdown table per (preset, M)."""
    chosen = list(VARIANTS)[:3] if variants is None else list(variants)
    unknown = sorted(set(chosen) - set(VARIANTS))
    if unknown:
        raise ValueError(f"unknown variant(s) {unknown}: known are {', '.join(VARIANTS)}")
    hyperparameters = hyperparameters or {}
    tables = {}
    for preset in presets:
        for m in cells:
            folder = out / f"{preset}-m{m}"
            for variant in chosen:
                agent, reward, defaults = VARIANTS[variant]
                train(agent, ENV_ID, steps, 0, folder / variant, runs=seeds,
                      env_kwargs={"num_cells": m, "preset": preset, "reward": reward},
                      hyperparameters={**defaults, **hyperparameters.get(variant, {})}, resume=True, progress=progress)
            if not train_only:
                done = [v for v in VARIANTS if _finished(folder / v)]
                tables[f"{preset}, M = {m}"] = _evaluate_and_plot(folder, preset, m, done, eval_seeds, episodes)
    return tables


def _finished(run_dir: Path) -> bool:
    """Whether a training folder holds a completed training (its last checkpoint reached the target)."""
    meta_path = run_dir / "meta.json"
    if not meta_path.exists():
        return False
    meta = json.loads(meta_path.read_text())
    return meta["steps_done"] >= meta["steps_target"]


def _evaluate_and_plot(folder: Path, preset: str, m: int, variants: list[str], eval_seeds: Sequence[int],
                       episodes: int) -> str:
    scenario = make_scenario(ENV_ID, num_cells=m, preset=preset)
    results: dict[str, dict[str, Any]] = {}
    for name in BASELINES:
        runs = [evaluate(scenario, make_policy(name, scenario), episodes, s) for s in eval_seeds]
        results[name] = _summarise(runs, per_seed=[r.mean("ee") for r in runs], info="full CSI" if name == "oracle" else "local")
    oracle_per_eval_seed = results["oracle"]["per_seed_ee"]
    for name in BASELINES:  # paired: each evaluation seed's EE over the oracle's on the same episodes
        results[name]["fraction_of_oracle"] = mean_ci([v / o for v, o in zip(results[name]["per_seed_ee"], oracle_per_eval_seed)])
    for variant in variants:
        meta = json.loads((folder / variant / "meta.json").read_text())
        per_train_seed, all_runs = [], []
        for seed in meta["seeds"]:
            policy = load_policy(policy_path(folder / variant, seed), scenario, name=variant)
            runs = [evaluate(scenario, policy, episodes, s) for s in eval_seeds]
            per_train_seed.append(float(np.mean([r.mean("ee") for r in runs])))
            all_runs += runs
        results[variant] = _summarise(all_runs, per_seed=per_train_seed, info="local",
                                      training={"slots": meta["steps_done"], "seeds": meta["seeds"],
                                                "wall_clock_s": meta["wall_clock_s"], "hyperparameters": meta["hyperparameters"],
                                                "reward": meta["env_config"]["reward"]})
    oracle = float(np.mean(oracle_per_eval_seed))
    for variant in variants:  # each training seed was evaluated on all the oracle's episodes
        results[variant]["fraction_of_oracle"] = mean_ci([v / oracle for v in results[variant]["per_seed_ee"]])
    table = _markdown(results, m)
    payload = {"env_id": ENV_ID, "preset": preset, "num_cells": m, "eval_seeds": list(eval_seeds),
               "episodes_per_eval_seed": episodes, "episode_seed_rule": f"seed * {EPISODE_SEED_STRIDE} + episode",
               "results": results, **environment_record()}
    (folder / "results.json").write_text(json.dumps(payload, indent=1))
    (folder / "results.md").write_text(table + "\n")
    _plot(folder, preset, m, variants, results)
    return table


def _summarise(runs: list[Any], per_seed: list[float], info: str, training: dict[str, Any] | None = None) -> dict[str, Any]:
    """EE (CI over ``per_seed``), other metrics pooled over runs, per-episode EE for the box plot."""
    return {
        "ee": mean_ci(per_seed), "per_seed_ee": per_seed, "information": info, "training": training,
        "sum_qoe": float(np.mean([r.mean("sum_qoe") for r in runs])),
        "tx_power_w": float(np.mean([r.mean("tx_power_w") for r in runs])),
        "accuracy_ok": float(np.mean([r.mean("accuracy_ok") for r in runs])),
        "rate_ok": float(np.mean([r.mean("rate_ok") for r in runs])),
        "ms_per_decision": float(1e3 * np.mean([r.seconds_per_decision for r in runs])),
        "episode_ee": [v for r in runs for v in r.episodes["ee"]],
    }


def _markdown(results: Mapping[str, Mapping[str, Any]], m: int) -> str:
    lines = ["| policy | information | training | EE (normalised) | fraction of oracle | sum QoE | tx power per cell [W] "
             "| rate ok | accuracy ok | ms per decision |", "|" + " --- |" * 10]
    for name, r in sorted(results.items(), key=lambda kv: -kv[1]["ee"][0]):
        t = r["training"]
        training = f"{t['slots']:,} slots, {len(t['seeds'])} seeds, reward {t['reward']}" if t else "-"
        label = f"{name} (approx.)" if name == "oracle" and m > 3 else name
        cells = [f"{r['ee'][0]:.4f} ± {r['ee'][1]:.4f}", f"{r['fraction_of_oracle'][0]:.3f} ± {r['fraction_of_oracle'][1]:.3f}",
                 f"{r['sum_qoe']:.3f}", f"{r['tx_power_w']:.3g}", f"{r['rate_ok']:.3f}", f"{r['accuracy_ok']:.3f}",
                 f"{r['ms_per_decision']:.3f}"]
        lines.append(f"| {label} | {r['information']} | {training} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _plot(folder: Path, preset: str, m: int, variants: list[str], results: Mapping[str, Mapping[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy import stats

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for variant in variants:
        rows = read_curve(folder / variant)
        key = "ee_normalised" if "ee_normalised" in rows[0] else "reward"
        seeds = sorted({r["seed"] for r in rows})
        steps = sorted({r["step"] for r in rows})
        table = np.array([[r[key] for r in rows if r["seed"] == s] for s in seeds])  # (seeds, windows)
        # Trailing mean over SMOOTH log windows: one window holds only ~10 episodes' user draws.
        kernel = np.ones(min(SMOOTH, table.shape[1]))
        table = np.stack([np.convolve(row, kernel, mode="full")[:len(row)] / np.convolve(np.ones_like(row), kernel, mode="full")[:len(row)]
                          for row in table])
        mean = table.mean(axis=0)
        half = stats.t.ppf(0.975, len(seeds) - 1) * table.std(axis=0, ddof=1) / np.sqrt(len(seeds)) if len(seeds) > 1 else 0 * mean
        line, = ax.plot(steps, mean, label=f"{variant} (training)")
        ax.fill_between(steps, mean - half, mean + half, alpha=0.2, color=line.get_color())
        ax.plot([steps[-1]], [results[variant]["ee"][0]], marker="D", color=line.get_color(), ls="none",
                label=f"{variant} (greedy evaluation)")
    x_max = ax.get_xlim()[1] if variants else 1.0
    styles = {"oracle": ("black", "-"), "min_power": ("tab:gray", "--"), "greedy": ("tab:brown", "-."), "random": ("tab:pink", ":")}
    for name in BASELINES:
        label = f"{name} (approx.)" if name == "oracle" and m > 3 else name
        color, ls = styles[name]
        ax.axhline(results[name]["ee"][0], ls=ls, lw=1.2, color=color, label=f"{label} (greedy evaluation)")
    ax.set_xlim(0, x_max)
    ax.set_xlabel("training slot")
    ax.set_ylabel("semantic EE (normalised)")
    ax.set_title(f"{preset}, M = {m}: training EE (epsilon-greedy, trailing mean over {SMOOTH} log windows), mean and 95% CI\n"
                 "over seeds; diamonds and lines: greedy evaluation after training (CIs in the table)", fontsize=9)
    ax.legend(fontsize=6.5, ncol=3)
    fig.tight_layout()
    fig.savefig(folder / "ee_vs_slots.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    names = sorted(results, key=lambda n: -results[n]["ee"][0])
    ax.boxplot([results[n]["episode_ee"] for n in names])
    ax.set_xticks(range(1, len(names) + 1), names, rotation=20, fontsize=8)
    ax.set_ylabel("episode mean EE (normalised)")
    ax.set_title(f"{preset}, M = {m}: greedy evaluation, one point per episode (all training seeds)", fontsize=9)
    fig.tight_layout()
    fig.savefig(folder / "ee_boxplot.png", dpi=110)
    plt.close(fig)
