"""Reproduction of the semantic-offloading source's Fig. 6 (docs/reproduce-offloading.md), as ``semcom reproduce-offloading``.

Energy per task against the encoder output dimension ``k`` for N = 4 devices (15-24 dBm,
0.96-1.72 GHz): every baseline (``random``, ``local_only``, ``offload_all``, ``greedy`` and the
full-information ``exhaustive`` optimum) at every ``k``, MAPPO (the source's algorithm, with the
source's PPO settings) and the single-agent reference, stable-baselines3 PPO on the joint view, at
a subset of ``k`` (one training per ``k`` and seed).

Statistics: a baseline's value per evaluation seed is its mean over that seed's episodes and
slots, with a Student-t CI over evaluation seeds. A learned agent's value per training seed is its
deterministic policy's mean over all evaluation episodes, with the CI over training seeds. Every
policy meets the same evaluation episodes. ``gap to exhaustive`` is ``E / E_exhaustive - 1`` on
those episodes. The exhaustive optimum maximises the team reward (energy ratio plus penalties),
so a policy that breaks the accuracy or deadline requirement can spend less energy than it: the
tables therefore also give each policy's violation rates and team reward.

Resumable: finished trainings are reused; an interrupted MAPPO training continues from its
checkpoint.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from semcom_agents import load_policy
from semcom_agents.sb3_joint import PPO_DEFAULTS, load_ppo_policy, train_ppo
from semcom_agents.training import policy_path, train
from semcom_baselines import make_policy
from semcom_envs.evaluation import EPISODE_SEED_STRIDE, RunResult, environment_record, evaluate, mean_ci
from semcom_envs.registration import make_scenario
from semcom_reproductions import fmt_ci

ENV_ID = "SemCom-Offloading-v0"
BASELINES = ("random", "local_only", "offload_all", "greedy", "exhaustive")
LEARNED = ("mappo", "sb3_ppo")
REPORTED = ("energy_per_task_j", "reward", "offload_ratio", "accuracy_violation", "deadline_violation")


def reproduce_offloading(out: Path, ks: Sequence[int] = tuple(range(1, 21)), learned_ks: Sequence[int] = (1, 2, 4, 8, 12, 16, 20),
                         access: Sequence[str] = ("ofdma",), seeds: int = 3, mappo_steps: int = 200_000,
                         ppo_steps: int = 100_000, mappo_hyperparameters: Mapping[str, Any] | None = None,
                         ppo_hyperparameters: Mapping[str, Any] | None = None,
                         eval_seeds: Sequence[int] = (1000, 1001, 1002, 1003, 1004), episodes: int = 8,
                         num_devices: int = 4, progress: bool = True) -> dict[str, str]:
    """Train, evaluate and plot; returns one Markdown table per access mode."""
    from semcom_agents.mappo import OFFLOADING_SOURCE

    missing = sorted(set(learned_ks) - set(ks))
    if missing:
        raise ValueError(f"learned_ks {missing} must be among ks")
    hyper = {**OFFLOADING_SOURCE, **dict(mappo_hyperparameters or {})}
    tables = {}
    for mode in access:
        folder = out / mode
        results: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in (*BASELINES, *LEARNED)}
        for k in ks:
            env_kwargs = {"num_devices": num_devices, "k": k, "access": mode}
            scenario = make_scenario(ENV_ID, **env_kwargs)
            for name in BASELINES:
                runs = [evaluate(scenario, make_policy(name, scenario), episodes, s) for s in eval_seeds]
                results[name][k] = _summarise(runs, [[r] for r in runs], None)
            if k not in learned_ks:
                continue
            run_dir = folder / f"mappo-k{k}"
            meta = train("mappo", ENV_ID, mappo_steps, 0, run_dir, runs=seeds, env_kwargs=env_kwargs,
                         hyperparameters=hyper, resume=True, progress=progress, tensorboard=False)
            policies = [load_policy(policy_path(run_dir, s), scenario) for s in meta["seeds"]]
            results["mappo"][k] = _summarise_learned(scenario, policies, eval_seeds, episodes, meta["wall_clock_s"])
            ppo_policies, ppo_wall = [], 0.0
            for s in range(seeds):
                ppo_meta = train_ppo(ENV_ID, ppo_steps, s, folder / f"sb3_ppo-k{k}" / f"seed{s}", env_kwargs=env_kwargs,
                                     hyperparameters=ppo_hyperparameters)
                ppo_wall += ppo_meta["wall_clock_s"]
                ppo_policies.append(load_ppo_policy(folder / f"sb3_ppo-k{k}" / f"seed{s}" / "model.zip", scenario))
            results["sb3_ppo"][k] = _summarise_learned(scenario, ppo_policies, eval_seeds, episodes, ppo_wall)
        table = _markdown(results, mode)
        payload = {"env_id": ENV_ID, "access": mode, "num_devices": num_devices, "eval_seeds": list(eval_seeds),
                   "episodes_per_eval_seed": episodes, "episode_seed_rule": f"seed * {EPISODE_SEED_STRIDE} + episode",
                   "training": {"mappo_steps": mappo_steps, "mappo_hyperparameters": hyper, "ppo_steps": ppo_steps,
                                "ppo_hyperparameters": {**PPO_DEFAULTS, **dict(ppo_hyperparameters or {})}, "seeds": seeds},
                   "results": {name: {str(k): v for k, v in per_k.items()} for name, per_k in results.items()},
                   **environment_record()}
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "results.json").write_text(json.dumps(payload, indent=1))
        (folder / "results.md").write_text(table + "\n")
        _plot(folder / "energy_vs_k.png", results, mode, num_devices)
        tables[f"access = {mode}"] = table
    return tables


def _summarise(runs: list[RunResult], groups: list[list[RunResult]], wall_clock_s: float | None) -> dict[str, Any]:
    """Mean and 95% CI of the reported metrics over ``groups`` (each group's mean is one sample)."""
    out: dict[str, Any] = {m: mean_ci([float(np.mean([r.mean(m) for r in g])) for g in groups]) for m in REPORTED}
    out["per_episode_energy"] = [v for r in runs for v in r.episodes["energy_per_task_j"]]
    out["ms_per_decision"] = float(1e3 * np.mean([r.seconds_per_decision for r in runs]))
    out["training_wall_clock_s"] = wall_clock_s
    return out


def _summarise_learned(scenario: Any, policies: list[Any], eval_seeds: Sequence[int], episodes: int,
                       wall_clock_s: float) -> dict[str, Any]:
    """A learned agent: one sample per training seed (its mean over all evaluation episodes)."""
    groups = [[evaluate(scenario, p, episodes, s) for s in eval_seeds] for p in policies]
    return _summarise([r for g in groups for r in g], groups, wall_clock_s)


def _markdown(results: Mapping[str, Mapping[int, Mapping[str, Any]]], mode: str) -> str:
    """Energy per task [mJ] per policy and k, then the learned agents' gaps at their k values."""
    ks = sorted(results["exhaustive"])
    lines = [f"Energy per task [mJ], access = {mode} (mean ± 95% CI)", "",
             "| policy | " + " | ".join(f"k={k}" for k in ks) + " |", "|" + " --- |" * (len(ks) + 1)]
    for name, per_k in results.items():
        lines.append(f"| {name} | " + " | ".join(fmt_ci(per_k[k]["energy_per_task_j"], 1e3, 2) if k in per_k else ""
                                                for k in ks) + " |")
    lines += ["", "| policy | k | energy [mJ] | gap to exhaustive | team reward | offload ratio | accuracy violations "
              "| deadline violations | training wall-clock [s] |", "|" + " --- |" * 9]
    for name, per_k in results.items():
        for k in sorted(per_k):
            if name in BASELINES and k not in results["mappo"]:
                continue
            r, best = per_k[k], results["exhaustive"][k]["energy_per_task_j"][0]
            wall = r["training_wall_clock_s"]
            lines.append(f"| {name} | {k} | {fmt_ci(r['energy_per_task_j'], 1e3, 3)} | "
                         f"{100 * (r['energy_per_task_j'][0] / best - 1):+.1f}% | {fmt_ci(r['reward'])} | "
                         f"{r['offload_ratio'][0]:.3f} | {r['accuracy_violation'][0]:.4f} | {r['deadline_violation'][0]:.4f} | "
                         f"{'-' if wall is None else f'{wall:.0f}'} |")
    return "\n".join(lines)


def _plot(path: Path, results: Mapping[str, Mapping[int, Mapping[str, Any]]], mode: str, num_devices: int) -> None:
    """Energy per task vs k (the source's Fig. 6) next to the team reward, the objective the agents and
    the exhaustive optimum maximise (energy alone flatters a policy that breaks the requirements)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    for ax, metric, scale in ((axes[0], "energy_per_task_j", 1e3), (axes[1], "reward", 1.0)):
        for name, per_k in results.items():
            if not per_k:
                continue
            ks = sorted(per_k)
            mean = np.array([scale * per_k[k][metric][0] for k in ks])
            half = np.nan_to_num(np.array([scale * per_k[k][metric][1] for k in ks]))
            if name in LEARNED:
                ax.errorbar(ks, mean, yerr=half, marker="D" if name == "mappo" else "s", capsize=3, lw=1.5, label=name)
            else:
                line, = ax.plot(ks, mean, lw=1.2, ls="--" if name == "exhaustive" else "-",
                                label=f"{name} (full information)" if name == "exhaustive" else name)
                ax.fill_between(ks, mean - half, mean + half, alpha=0.2, color=line.get_color())
        ax.set_xlabel("encoder output dimension k (symbols per word)")
    axes[0].set_yscale("log")
    axes[0].set_ylabel("energy per task [mJ]")
    axes[1].set_yscale("symlog", linthresh=1.0)
    axes[1].set_ylabel("team reward per slot (higher is better)")
    axes[0].legend(fontsize=7, ncol=2)
    fig.suptitle(f"SemCom-Offloading-v0, N = {num_devices}, access = {mode}: mean and 95% CI "
                 "(baselines: over evaluation seeds; learned agents: over training seeds)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
