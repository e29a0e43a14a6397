"""Does SemCom-CDRL-v1 discriminate between policies? Every baseline, 5 seeds x 16 episodes.

Prints, per baseline, the information it uses, the mean primary metric (the targets' mean exact
return after each round, averaged over the rounds) with its 95% CI over seeds, the normalised
score ``(x - random) / (oracle - random)`` (per seed, then averaged), the final return, and the
probe steps, refused probes, bits and refused requests per target and round; then the primary
metric of the local baselines against the bandwidth budget, the source's claim (semantic vs
structural and random at equal bandwidth, paired per seed, as differences: the returns straddle 0)
and the placement frequencies of v1 and v0. Measures; asserts nothing.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/cdrl_task_study.py [--seeds 5] [--episodes 16]
        [--config '{"max_steps": 3}'] [--budgets 0.333,0.667,1,2] [--placement-episodes 4096]

``--config`` overrides fields of the ``benchmark`` preset (JSON). Evaluation seeds 10000.. as the
leaderboard's protocol.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from semcom_baselines import make_policy, policies_for
from semcom_envs import streams
from semcom_envs.api.runner import BatchRunner
from semcom_envs.evaluation import EPISODE_SEED_STRIDE, evaluate, mean_ci
from semcom_envs.scenarios.cdrl import CDRL, CDRLV1

FIRST_SEED = 10_000
INFO_COLUMNS = ("probe_steps", "probes_refused", "bits_used", "ungranted")


def run(sc: CDRL, name: str, seeds: int, episodes: int) -> dict[str, Any]:
    """Per seed: the primary metric, the final return and the per-target, per-round info means of ``name``."""
    rows = []
    for s in range(FIRST_SEED, FIRST_SEED + seeds):
        result = evaluate(sc, make_policy(name, sc), episodes, s)
        rows.append({"primary": result.mean(sc.primary_metric), "per_round": np.mean(result.reward_per_slot, axis=0)})
    final = [episode_infos(sc, name, episodes, s) for s in range(FIRST_SEED, FIRST_SEED + seeds)]
    return {"primary": np.array([r["primary"] for r in rows]), "final": np.array([f["final"] for f in final]),
            **{col: float(np.mean([f[col] for f in final])) for col in INFO_COLUMNS}}


def episode_infos(sc: CDRL, name: str, episodes: int, seed: int) -> dict[str, float]:
    """The final return and the mean per target and round of the info columns, from a runner (as ``evaluate``)."""
    policy = make_policy(name, sc)
    runner = BatchRunner(sc, episodes, num_threads=1)
    obs = runner.reset([seed * EPISODE_SEED_STRIDE + i for i in range(episodes)])
    if hasattr(policy, "bind"):
        policy.bind(runner)
    policy.reset(seed)
    sums = dict.fromkeys(INFO_COLUMNS, 0.0)
    for _ in range(sc.config.max_steps):
        tr = runner.step(policy.act(obs, runner.global_state() if policy.uses_global_state else None))
        obs = tr.observations
        for col in INFO_COLUMNS:
            sums[col] += float(np.mean(tr.infos.get(col, 0.0)))
    runner.close()
    return {"final": float(tr.infos["return"].mean()), **{c: v / sc.config.max_steps for c, v in sums.items()}}


def placement(sc: CDRL, episodes: int) -> dict[str, float]:
    """Share of unrelated sources within 2 cells of some target goal, and of episodes with two equal target goals."""
    state, _ = sc.reset(streams.seed_key(np.arange(episodes)))
    s = sc.config.grid_size
    tg, sg = np.divmod(state["target_goal"], s), np.divmod(state["source_goal"], s)
    dist = np.maximum(np.abs(sg[0][:, None] - tg[0][:, :, None]), np.abs(sg[1][:, None] - tg[1][:, :, None])).min(axis=1)
    unrelated = state["source_kind"] == 2
    goals = np.sort(state["target_goal"], axis=1)
    return {"unrelated_within_2": float((dist[unrelated] <= 2).mean()),
            "equal_target_goals": float((goals[:, 1:] == goals[:, :-1]).any(axis=1).mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--config", default="{}")
    parser.add_argument("--budgets", default="0.3333333333333333,0.6666666666666666,1")
    parser.add_argument("--placement-episodes", type=int, default=4096)
    parser.add_argument("--skip", default="", help="comma-separated baselines to leave out")
    args = parser.parse_args()
    overrides = json.loads(args.config)
    sc = CDRLV1(**overrides)
    names = [n for n in policies_for(sc.env_id) if n not in args.skip.split(",")]
    res = {name: run(sc, name, args.seeds, args.episodes) for name in names}
    full = {name: make_policy(name, sc).uses_global_state for name in names}
    ref = max((n for n in names if full[n]), key=lambda n: res[n]["primary"].mean())
    lo, hi = res["random"]["primary"], res[ref]["primary"]
    print(f"SemCom-CDRL-v1 {json.dumps(overrides)}: {args.seeds} seeds x {args.episodes} episodes; reference {ref}")
    print("| policy | information | return (primary) | normalised | final return | probe steps | probes refused | "
          "bits | requests refused |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in names:
        r = res[name]
        m, ci = mean_ci(r["primary"])
        norm = (r["primary"] - lo) / (hi - lo)
        print(f"| {name} | {'full' if full[name] else 'local'} | {m:.3f} ± {ci:.3f} | {norm.mean():.3f} | "
              f"{r['final'].mean():.3f} | {r['probe_steps']:.1f} | {r['probes_refused']:.2f} | {r['bits_used']:.0f} | "
              f"{r['ungranted']:.2f} |")
    for a in ("semantic", "structural_semantic", "semantic_yield"):
        for b in ("structural", "random"):
            if a in res and b in res:
                # Differences, not ratios: with the step cost the returns straddle 0 (structural's is about 0).
                m, ci = mean_ci(res[a]["primary"] - res[b]["primary"])
                fm, fci = mean_ci(res[a]["final"] - res[b]["final"])
                print(f"claim: {a} - {b} (paired per seed): return {m:+.3f} ± {ci:.3f}, final return {fm:+.3f} ± {fci:.3f}, "
                      f"normalised {(m / (hi - lo).mean()):+.3f}")
    print("| budget (dense models per target and round) | " + " | ".join(n for n in names if n != "oracle") + " |")
    for budget in (float(x) for x in args.budgets.split(",")):
        b_sc = CDRLV1(**{**overrides, "budget_models": budget})
        cells = [mean_ci(run(b_sc, n, args.seeds, args.episodes)["primary"])[0] for n in names if n != "oracle"]
        print(f"| {budget:.3f} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    for label, p_sc in (("v1 (strict)", sc), ("v1 with placement=fallback", CDRLV1(**{**overrides, "placement": "fallback"})),
                        ("v0 default", CDRL()), ("v0 on 5x5", CDRL(grid_size=5))):
        print(f"placement {label}: {placement(p_sc, args.placement_episodes)}")


if __name__ == "__main__":
    main()
