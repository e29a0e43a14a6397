"""Does SemCom-Offloading-v1 discriminate between policies? Every baseline, 5 seeds x 16 episodes.

Prints, per baseline, the mean primary metric (team reward per slot) with its 95% CI over seeds and
the normalised score ``(x - random) / (best full-information reference - random)`` (per seed, then
averaged), plus the violation and energy columns, and where the energy goes under the best
reference (radio share, GPU frequency levels chosen). Measures; asserts nothing.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/offloading_task_study.py [--seeds 5] [--episodes 16] [--access ofdma]

``--access`` sets the uplink access (``shared``, the default config's, or ``ofdma``); every other
field keeps its default.
"""

from __future__ import annotations

import argparse

import numpy as np

from semcom_baselines import make_policy, policies_for
from semcom_envs.api.runner import BatchRunner
from semcom_envs.evaluation import EPISODE_SEED_STRIDE, evaluate, mean_ci
from semcom_envs.scenarios.offloading_queues import OFFLOAD, OffloadingQueues


def energy_breakdown(sc: OffloadingQueues, name: str, episodes: int, seed: int) -> dict[str, object]:
    """Radio share of the energy, offloaded share of the words and GPU frequency levels used by ``name``."""
    policy = make_policy(name, sc)
    policy.reset(seed)
    runner = BatchRunner(sc, episodes, num_threads=1)
    obs = runner.reset([seed * EPISODE_SEED_STRIDE + i for i in range(episodes)])
    total = upload = served = offloaded = 0.0
    levels = np.zeros(len(sc.freq_levels_hz))
    for _ in range(sc.config.max_steps):
        actions = policy.act(obs, runner.global_state() if policy.uses_global_state else None)
        tr = runner.step(actions)
        i = tr.infos
        total, upload = total + i["energy_j"].sum(), upload + i["upload_energy_j"].sum()
        served += i["served"].sum()
        offloaded += np.where(i["mode"] == OFFLOAD, i["served"], 0.0).sum()
        busy = i["served"] > 0
        levels += np.bincount(np.searchsorted(sc.freq_levels_hz, i["gpu_freq_hz"][busy]), minlength=len(levels))
        obs = tr.observations
    runner.close()
    return {"upload_share": upload / total, "offloaded_share": offloaded / served,
            "freq_level_share": np.round(levels / levels.sum(), 3).tolist()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--access", choices=("shared", "ofdma"), default="shared")
    args = parser.parse_args()
    sc = OffloadingQueues(access=args.access)
    names = policies_for(sc.env_id)
    runs = {name: [evaluate(sc, make_policy(name, sc), args.episodes, s) for s in range(args.seeds)] for name in names}
    full = {name: make_policy(name, sc).uses_global_state for name in names}
    primary = sc.primary_metric
    per_seed = {name: np.array([r.mean(primary) for r in rs]) for name, rs in runs.items()}
    mean = {name: v.mean() for name, v in per_seed.items()}
    reference = max((n for n in names if full[n]), key=mean.__getitem__)
    best_local = max((n for n in names if not full[n] and n != "random"), key=mean.__getitem__)
    span = per_seed[reference] - per_seed["random"]
    print(f"{sc.env_id}, default config, access={sc.config.access!r}: "
          f"{args.seeds} seeds x {args.episodes} episodes x {sc.config.max_steps} slots")
    print(f"normalised score: random 0, best full-information reference ({reference}) 1; best local: {best_local}\n")
    cols = ["violated_words", "energy_j", "offloaded_words", "backlog_words"]
    print(f"| policy | information | {primary} (95% CI) | normalised | " + " | ".join(cols) + " | ms/decision |")
    print("|---|---|---|---|" + "---|" * len(cols) + "---|")
    for name in sorted(names, key=lambda n: -mean[n]):
        m, h = mean_ci(per_seed[name])
        score, score_h = mean_ci((per_seed[name] - per_seed["random"]) / span)
        extra = " | ".join(f"{np.mean([r.mean(c) for r in runs[name]]):.4g}" for c in cols)
        ms = np.mean([1e3 * r.seconds_per_decision for r in runs[name]])
        print(f"| {name} | {'full' if full[name] else 'local'} | {m:.4f} ± {h:.4f} | {score:.3f} ± {score_h:.3f} | "
              f"{extra} | {ms:.2f} |")
    print()
    for name in (reference, best_local):
        print(name, energy_breakdown(sc, name, args.episodes, 0))
    print("frequency levels [GHz]:", np.round(sc.freq_levels_hz / 1e9, 3).tolist(),
          f"energy-optimal f* = {sc.f_opt_hz / 1e9:.3f} GHz")


if __name__ == "__main__":
    main()
