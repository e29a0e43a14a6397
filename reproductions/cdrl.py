"""Reproduction of the collaborative-DRL source-selection result (docs/reproduce-cdrl.md), as ``semcom reproduce-cdrl``.

Every baseline of :mod:`semcom_baselines.cdrl` and MAPPO trained on SemCom-CDRL-v0 act on the same
evaluation episodes at equal bandwidth (the scenario's shared budget; every baseline requests at
most its fair share). The quantity is the targets' average exact return **after the
last round** (the final return), read from the last round's ``return`` info, not the scenario's
per-round ``final_return`` metric, which ``evaluate`` averages over rounds. Hence the episodes are
stepped here on a :class:`~semcom_envs.api.runner.BatchRunner`, which also lets the ``oracle``
read the state it needs (:meth:`semcom_baselines.cdrl.Oracle.bind`).

Statistics (as the offloading reproduction): a baseline's value per evaluation seed is its mean
over that seed's episodes, with a Student-t 95% CI over evaluation seeds; MAPPO's value per
training seed is its deterministic policy's mean over all evaluation episodes, with the CI over
training seeds. The gains of semantic-aware selection are paired per evaluation seed,
``final_a / final_b - 1``. Probe steps are per target and episode.

Throughput: rounds (environment steps of one copy) per second of the batched core at the given
batch sizes, stepping alone (reset excluded) and whole episodes (reset included; a reset solves
the sources by value iteration and pre-trains the targets, so it costs several rounds).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from semcom_agents import load_policy
from semcom_agents.training import policy_path, train
from semcom_baselines import make_policy, policies_for
from semcom_baselines.policy import Policy
from semcom_envs.api.runner import BatchRunner
from semcom_envs.evaluation import EPISODE_SEED_STRIDE, environment_record, mean_ci
from semcom_envs.registration import make_scenario
from semcom_envs.scenarios.cdrl import CDRL
from semcom_reproductions import fmt_ci

ENV_ID = "SemCom-CDRL-v0"
BASELINES = ("no_transfer", "random", "structural", "semantic", "structural_semantic", "oracle")
SEMANTIC_AWARE = ("semantic", "structural_semantic")
GAIN_OVER = ("structural", "random")
MAPPO_SETTINGS: dict[str, Any] = {"num_envs": 16, "rollout_length": 20}
"""MAPPO on CDRL: 16 copies x 20 rounds (two episodes) per update, the rest the suite's defaults, so
that an update comes every 320 environment steps instead of 6,400 (the budget allows ~10^5 steps)."""


def run_episodes(scenario: CDRL, policy: Policy, episodes: int, seed: int) -> dict[str, Any]:
    """One batch of ``episodes`` episodes (evaluation seed rule of :mod:`semcom_envs.evaluation`).

    Returns the targets' mean return per episode before round 1 and after every round
    (``curve``: ``(episodes, R + 1)``), probe steps and bits per target and episode.
    """
    runner = BatchRunner(scenario, episodes)
    obs = runner.reset([seed * EPISODE_SEED_STRIDE + i for i in range(episodes)])
    policy.reset(seed)
    bind = getattr(policy, "bind", None)
    if bind is not None:
        bind(runner)
    assert runner.state is not None
    curve = [runner.state["return"].mean(axis=1)]
    probes, bits = np.zeros(episodes), np.zeros(episodes)
    for _ in range(scenario.config.max_steps):
        tr = runner.step(policy.act(obs, runner.global_state() if policy.uses_global_state else None))
        obs = tr.observations
        curve.append(tr.infos["return"].mean(axis=1))
        probes += tr.infos["probe_steps"].mean(axis=1)
        bits += tr.infos["bits_used"].mean(axis=1)
    runner.close()
    return {"curve": np.stack(curve, axis=1), "probe_steps": probes, "bits": bits}


def _summarise(groups: Sequence[Sequence[Mapping[str, Any]]], wall_clock_s: float | None = None) -> dict[str, Any]:
    """Mean ± 95% CI over ``groups`` (one sample per group: its mean over all its episodes)."""
    def per_group(fn: Any) -> list[float]:
        return [float(np.mean(np.concatenate([fn(r) for r in g]))) for g in groups]

    curves = np.stack([np.concatenate([r["curve"] for r in g]).mean(axis=0) for g in groups])  # (groups, R + 1)
    return {"final_return": mean_ci(per_group(lambda r: r["curve"][:, -1])),
            "initial_return": mean_ci(per_group(lambda r: r["curve"][:, 0])),
            "probe_steps": mean_ci(per_group(lambda r: r["probe_steps"])),
            "bits_per_round": mean_ci(per_group(lambda r: r["bits"] / (r["curve"].shape[1] - 1))),
            "per_seed_final_return": per_group(lambda r: r["curve"][:, -1]),
            "curve": [mean_ci(curves[:, i]) for i in range(curves.shape[1])],
            "training_wall_clock_s": wall_clock_s}


def _gains(results: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, tuple[float, float]]]:
    """Paired gain in % of each semantic-aware policy's final return over each structural/random baseline."""
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for a in SEMANTIC_AWARE:
        out[a] = {}
        for b in GAIN_OVER:
            pairs = zip(results[a]["per_seed_final_return"], results[b]["per_seed_final_return"])
            mean, half = mean_ci([100.0 * (x / y - 1.0) for x, y in pairs])
            out[a][b] = (mean, half)
    return out


def throughput(batches: Sequence[int], env_kwargs: Mapping[str, Any], min_seconds: float = 1.0) -> list[dict[str, Any]]:
    """Rounds per second of the batched core per batch size: stepping only, and whole episodes with reset."""
    scenario = make_scenario(ENV_ID, **env_kwargs)
    rounds = scenario.config.max_steps
    rows = []
    for batch in batches:
        policy = make_policy("random", scenario)
        policy.reset(0)
        runner = BatchRunner(scenario, batch)
        obs = runner.reset(0)
        actions = [policy.act(obs, None) for _ in range(rounds)]
        step_time, reset_time, episodes = 0.0, 0.0, 0
        while step_time + reset_time < min_seconds or episodes < 2:
            start = time.perf_counter()
            runner.reset()
            reset_time += time.perf_counter() - start
            start = time.perf_counter()
            for a in actions:
                runner.step(a)
            step_time += time.perf_counter() - start
            episodes += 1
        runner.close()
        rows.append({"batch": batch, "episodes": episodes,
                     "rounds_per_s_step_only": batch * rounds * episodes / step_time,
                     "rounds_per_s_with_reset": batch * rounds * episodes / (step_time + reset_time),
                     "ms_per_reset_per_copy": 1e3 * reset_time / (episodes * batch)})
    return rows


def reproduce_cdrl(out: Path, seeds: int = 3, mappo_steps: int = 100_000, mappo_hyperparameters: Mapping[str, Any] | None = None,
                   eval_seeds: Sequence[int] = (1000, 1001, 1002, 1003, 1004), episodes: int = 16,
                   env_kwargs: Mapping[str, Any] | None = None, throughput_batches: Sequence[int] = (1, 256),
                   throughput_seconds: float = 2.0, progress: bool = True) -> dict[str, str]:
    """Evaluate the baselines, train and evaluate MAPPO, measure throughput; write results and figures."""
    env_kwargs = dict(env_kwargs or {})
    scenario = make_scenario(ENV_ID, **env_kwargs)
    assert isinstance(scenario, CDRL)
    missing = set(BASELINES) - set(policies_for(ENV_ID))
    if missing:
        raise ValueError(f"baselines {sorted(missing)} are not registered for {ENV_ID}")
    results: dict[str, dict[str, Any]] = {}
    for name in BASELINES:
        start = time.perf_counter()
        runs = [run_episodes(scenario, make_policy(name, scenario), episodes, s) for s in eval_seeds]
        results[name] = {**_summarise([[r] for r in runs]), "eval_wall_clock_s": time.perf_counter() - start}
    hyper = {**MAPPO_SETTINGS, **dict(mappo_hyperparameters or {})}
    run_dir = out / "mappo"
    meta = train("mappo", ENV_ID, mappo_steps, 0, run_dir, runs=seeds, env_kwargs=env_kwargs, hyperparameters=hyper,
                 resume=True, progress=progress, tensorboard=False)
    policies = [load_policy(policy_path(run_dir, s), scenario) for s in meta["seeds"]]
    results["mappo"] = _summarise([[run_episodes(scenario, p, episodes, s) for s in eval_seeds] for p in policies],
                                  meta["wall_clock_s"])
    results["mappo"]["env_steps_per_s_training"] = seeds * mappo_steps / meta["wall_clock_s"]
    gains = _gains(results)
    speed = throughput(throughput_batches, env_kwargs, throughput_seconds)
    tables = {"final return after the last round (mean ± 95% CI)": _markdown(results),
              "gain of semantic-aware selection in final return (paired per evaluation seed, %)": _gains_markdown(gains),
              "throughput of the batched core": _throughput_markdown(speed)}
    payload = {"env_id": ENV_ID, "config": scenario.config.__dict__, "eval_seeds": list(eval_seeds),
               "episodes_per_eval_seed": episodes, "episode_seed_rule": f"seed * {EPISODE_SEED_STRIDE} + episode",
               "training": {"mappo_steps": mappo_steps, "seeds": seeds, "mappo_hyperparameters": hyper},
               "results": results, "gains_percent": gains, "throughput": speed, **environment_record()}
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(payload, indent=1, default=list))
    (out / "results.md").write_text("\n\n".join(f"### {t}\n\n{table}" for t, table in tables.items()) + "\n")
    _plot(out, results, len(eval_seeds), seeds)
    return tables


def _markdown(results: Mapping[str, Mapping[str, Any]]) -> str:
    lines = ["| policy | information | final return | initial return | probe steps / target / episode | "
             "bits / target / round | CI over |", "|" + " --- |" * 7]
    for name, r in results.items():
        info = "full (state)" if name == "oracle" else "local"
        over = "training seeds" if name == "mappo" else "evaluation seeds"
        lines.append(f"| {name} | {info} | {fmt_ci(r['final_return'])} | {fmt_ci(r['initial_return'])} | "
                     f"{fmt_ci(r['probe_steps'], digits=1)} | {r['bits_per_round'][0]:,.0f} | {over} |")
    return "\n".join(lines)


def _gains_markdown(gains: Mapping[str, Mapping[str, Sequence[float]]]) -> str:
    lines = ["| policy | " + " | ".join(f"vs {b}" for b in GAIN_OVER) + " |", "|" + " --- |" * (len(GAIN_OVER) + 1)]
    for a, per in gains.items():
        lines.append(f"| {a} | " + " | ".join(f"{fmt_ci(per[b], digits=1)}%" for b in GAIN_OVER) + " |")
    return "\n".join(lines)


def _throughput_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    lines = ["| batch | rounds/s, stepping only | rounds/s, episodes with reset | ms per reset and copy |", "|" + " --- |" * 4]
    for r in rows:
        lines.append(f"| {r['batch']} | {r['rounds_per_s_step_only']:,.0f} | {r['rounds_per_s_with_reset']:,.0f} | "
                     f"{r['ms_per_reset_per_copy']:.2f} |")
    return "\n".join(lines)


def _plot(out: Path, results: Mapping[str, Mapping[str, Any]], eval_seeds: int, seeds: int) -> None:
    """``final_return.png``: bar chart with 95% CIs; ``return_vs_round.png``: mean return after each round."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    fig, ax = plt.subplots(figsize=(8, 4))
    mean = [results[n]["final_return"][0] for n in names]
    half = np.nan_to_num([results[n]["final_return"][1] for n in names])
    ax.bar(range(len(names)), mean, yerr=half, capsize=4, color=[f"C{i}" for i in range(len(names))])
    ax.set_xticks(range(len(names)), names, rotation=15, fontsize=8)
    ax.set_ylabel("targets' mean exact return after the last round")
    ax.set_title(f"{ENV_ID}: 95% CI over {eval_seeds} evaluation seeds (mappo: {seeds} training seeds)", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "final_return.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 4))
    for i, n in enumerate(names):
        curve = np.array(results[n]["curve"])
        rounds = np.arange(len(curve))
        ax.plot(rounds, curve[:, 0], marker="o", ms=3, color=f"C{i}", label=n)
        ax.fill_between(rounds, curve[:, 0] - np.nan_to_num(curve[:, 1]), curve[:, 0] + np.nan_to_num(curve[:, 1]),
                        color=f"C{i}", alpha=0.15)
    ax.set_xlabel("round (0: after reset)")
    ax.set_ylabel("targets' mean exact return")
    ax.set_title(f"{ENV_ID}: return after each round, mean and 95% CI", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "return_vs_round.png", dpi=110)
    plt.close(fig)
