"""Does SemCom-TaskOriented-v1 discriminate between policies, and do the source's claims hold on it?

Part 1 (the leaderboard's measurement): every baseline but ``crraus`` (and, with ``--mappo DIR``,
the MAPPO policies ``DIR/policy_seed{s}.pt`` of ``semcom train``), run ``s`` evaluated on evaluation
seed ``10000 + s`` over ``--episodes`` episodes; the mean primary metric (``weighted_success``)
with its 95% CI over runs, the normalised score ``(x - random) / (best full-information reference -
random)`` per run, and P(a run beats a run of the best local baseline).

Part 2 (the source's claims, on ``--claim-episodes`` one-slot episodes of evaluation seed 10000,
every other field at the task's): CRRA against FRA, FCR and MSR over ``P_max`` for both
``channel_scale`` mappings, and CRRAUS against CRRA in weighted success on ``--crraus-episodes``
of them (CRRAUS costs about a minute and a half per slot at U = 10), with how many users it drops.
Measures; asserts nothing.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/task_oriented_task_study.py [--seeds 5] [--episodes 16]
        [--mappo DIR] [--claim-episodes 32] [--crraus-episodes 4] [--skip-claims] [--power-max-w W]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from agents import load_policy
from agents.training import policy_path
from baselines import make_policy, policies_for
from semcom_envs.evaluation import EPISODE_SEED_STRIDE, evaluate, mean_ci
from semcom_envs.leaderboard.stats import probability_of_improvement
from semcom_envs.scenarios.task_oriented import TaskOrientedV1

EVAL_SEED_BASE = 10_000
"""The protocol's evaluation seeds: run ``s`` on ``10000 + s`` (:mod:`semcom_envs.leaderboard.protocol`)."""


def task_table(seeds: int, episodes: int, mappo: Path | None, power_max_w: float | None = None) -> None:
    """Part 1: every baseline (and MAPPO) on the task (``power_max_w`` overridden if given), the leaderboard's way."""
    sc = TaskOrientedV1(**({} if power_max_w is None else {"power_max_w": power_max_w}))
    names = [n for n in policies_for(sc.env_id) if n != "crraus"]
    per_seed, full, wall = {}, {}, {}
    for name in names:
        start = time.perf_counter()
        policy = make_policy(name, sc)
        full[name] = policy.uses_global_state
        per_seed[name] = np.array([evaluate(sc, policy, episodes, EVAL_SEED_BASE + s).mean(sc.primary_metric)
                                   for s in range(seeds)])
        wall[name] = time.perf_counter() - start
    trained = [s for s in range(seeds) if mappo is not None and policy_path(mappo, s).is_file()]
    if trained:  # the runs whose policy file exists (normalised against the same runs' random and reference)
        runs = [evaluate(sc, load_policy(policy_path(mappo, s), sc, name="mappo"), episodes, EVAL_SEED_BASE + s)
                for s in trained]
        per_seed["mappo"], full["mappo"], wall["mappo"] = np.array([r.mean(sc.primary_metric) for r in runs]), False, 0.0
    mean = {name: v.mean() for name, v in per_seed.items()}
    reference = max((n for n in names if full[n]), key=mean.__getitem__)
    best_local = max((n for n in names if not full[n] and n != "random"), key=mean.__getitem__)
    span = per_seed[reference] - per_seed["random"]
    print(f"## {sc.env_id}, P_max = {sc.config.power_max_w:g} W: {seeds} runs x {episodes} episodes x {sc.config.max_steps} slots")
    print(f"normalised: random 0, best full-information reference ({reference}) 1; best local baseline: {best_local}\n")
    print(f"| policy | information | {sc.primary_metric} (95% CI) | normalised (95% CI) | P(better than {best_local}) "
          "| evaluation wall-clock [s] |")
    print("|---|---|---|---|---|---|")
    for name in sorted(per_seed, key=lambda n: -mean[n]):
        runs_of = trained if name == "mappo" else list(range(seeds))
        m, h = mean_ci(per_seed[name])
        score, score_h = mean_ci((per_seed[name] - per_seed["random"][runs_of]) / span[runs_of])
        poi = probability_of_improvement(per_seed[name], per_seed[best_local])
        label = f"{name} ({len(runs_of)} runs)" if name == "mappo" else name
        print(f"| {label} | {'full' if full[name] else 'local'} | {m:.4f} ± {h:.4f} | {score:.3f} ± {score_h:.3f} | "
              f"{poi:.2f} | {wall[name]:.0f} |")
    print()


def slot_values(sc: TaskOrientedV1, name: str, episodes: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per episode (one slot each), the objective (13) of policy ``name`` and its infos, on evaluation seed 10000."""
    from semcom_envs.api.runner import BatchRunner

    runner = BatchRunner(sc, episodes, num_threads=1)
    obs = runner.reset([EVAL_SEED_BASE * EPISODE_SEED_STRIDE + i for i in range(episodes)])
    policy = make_policy(name, sc)
    tr = runner.step(policy.act(obs, runner.global_state()))
    runner.close()
    return tr.infos["objective"] / sc.num_agents, tr.infos


def claims(episodes: int, crraus_episodes: int) -> None:
    """Part 2: the source's claims (CRRA >= 15% over FRA; CRRAUS >= 10% over FRA/FCR in weighted success)."""
    print(f"## Source claims: CRRA against the baselines ({episodes} one-slot episodes, weighted success)\n")
    print("| channel_scale | P_max [W] | fra | fcr | msr | crra | crra / fra - 1 | crra / fcr - 1 | crra / msr - 1 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for scale in ("gain", "sqrt-gain"):
        for p_max in (1e-3, 1e-2, 1e-1, 1.0):
            sc = TaskOrientedV1(channel_scale=scale, power_max_w=p_max, max_steps=1)
            v = {name: slot_values(sc, name, episodes)[0].mean() for name in ("fra", "fcr", "msr", "crra")}
            print(f"| {scale} | {p_max:g} | {v['fra']:.4f} | {v['fcr']:.4f} | {v['msr']:.4f} | {v['crra']:.4f} | "
                  f"{v['crra'] / v['fra'] - 1:+.1%} | {v['crra'] / v['fcr'] - 1:+.1%} | {v['crra'] / v['msr'] - 1:+.1%} |")
    print(f"\n## CRRAUS against CRRA ({crraus_episodes} one-slot episodes, the task's config)\n")
    sc = TaskOrientedV1(max_steps=1)
    crra, _ = slot_values(sc, "crra", crraus_episodes)
    start = time.perf_counter()
    crraus, infos = slot_values(sc, "crraus", crraus_episodes)
    fra, _ = slot_values(sc, "fra", crraus_episodes)
    fcr, _ = slot_values(sc, "fcr", crraus_episodes)
    dropped = (~infos["selected"]).sum(axis=1)
    print(f"weighted success: fra {fra.mean():.4f}, fcr {fcr.mean():.4f}, crra {crra.mean():.4f}, crraus {crraus.mean():.4f}; "
          f"crraus / crra - 1 = {crraus.mean() / crra.mean() - 1:+.2%}, crraus / fra - 1 = {crraus.mean() / fra.mean() - 1:+.1%}, "
          f"crraus / fcr - 1 = {crraus.mean() / fcr.mean() - 1:+.1%}")
    print(f"per slot crraus - crra: {np.round(crraus - crra, 5).tolist()}; users dropped: {dropped.tolist()}; "
          f"crraus wall-clock {time.perf_counter() - start:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--mappo", type=Path, default=None, help="folder of MAPPO policy_seed{s}.pt files")
    parser.add_argument("--claim-episodes", type=int, default=32)
    parser.add_argument("--crraus-episodes", type=int, default=4)
    parser.add_argument("--skip-claims", action="store_true")
    parser.add_argument("--power-max-w", type=float, default=None, help="override the task's P_max in part 1")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)  # cvxpy "solution may be inaccurate": checked by the SCA
    task_table(args.seeds, args.episodes, args.mappo, args.power_max_w)
    if not args.skip_claims:
        claims(args.claim_episodes, args.crraus_episodes)


if __name__ == "__main__":
    main()
