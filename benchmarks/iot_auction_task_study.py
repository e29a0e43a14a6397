"""The SemCom-IoTAuction-v1 task study: calibration, bidding track and mechanism track (docs/benchmark-tasks.md).

Prints three tables, every number measured here:

1. Calibration: the feature dimension d* and the value quantiles over sampled device-slots, v0's link budget
   against the task's.
2. Bidding track: every baseline (and trained MAPPO policies given with ``--mappo``) on the leaderboard's
   protocol (evaluation seeds 10000..10004, 16 episodes each): regret (the primary metric), utility,
   welfare, efficiency, revenue, no sale; normalised per run ``(x - random) / (reference - random)`` with the
   reference ``complete_information_nash``; a sweep of the shading factor.
3. Mechanism track at the task's N on the calibrated valuation: truthful bidders under second price, second
   price with the optimal reserve, Myerson and a MyersonNet trained here on the task's value profiles:
   revenue (mean and 95% CI over the 5 seeds), truthful bidders' regret, IR violations (a winner paying
   more than its value) and no-sale share.

Usage: ``python benchmarks/iot_auction_task_study.py [--mappo runs/.../policy_seed*.pt ...] [--myersonnet-iterations 3000]``
(``nice``, one thread: ``OMP_NUM_THREADS=1``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from baselines import make_policy, policies_for
from baselines.iot_auction import Shaded
from semcom_envs import auctions, streams
from semcom_envs.evaluation import EPISODE_SEED_STRIDE, RunResult, evaluate
from semcom_envs.scenarios import IoTAuction, IoTAuctionV1

SEEDS = tuple(range(10000, 10005))
EPISODES = 16


def _ci(xs: Sequence[float]) -> str:
    """Mean and 95% half-width (t, 4 degrees of freedom) over the seeds."""
    x = np.asarray(xs, dtype=np.float64)
    half = 2.776 * x.std(ddof=1) / np.sqrt(len(x)) if len(x) > 1 else 0.0
    return f"{x.mean():.4f} ± {half:.4f}"


def calibration(samples: int = 40_000) -> None:
    """d* and value distributions of one device-slot, v0 against v1."""
    print("## Calibration (first slots of", samples, "episodes, all devices)\n")
    print("| link budget | d* share 0..16 (%) | SNR dB 5/50/95 % | value 5/25/50/75/95 % | P(v = 0) |")
    print("| --- | --- | --- | --- | --- |")
    for label, sc in (("v0 default", IoTAuction()), ("v1 benchmark", IoTAuctionV1())):
        state = sc.reset(streams.episode_key(streams.seed_key(np.arange(samples)), 0))[0]
        d, v = state["link_feature_dim"].ravel(), state["value"].ravel()
        snr = state["link_snr_db"].ravel()
        share = " ".join(f"{100 * s:.1f}" for s in np.bincount(d, minlength=17) / d.size)
        print(f"| {label} | {share} | {' / '.join(f'{q:.0f}' for q in np.percentile(snr, [5, 50, 95]))} | "
              f"{' / '.join(f'{q:.3f}' for q in np.percentile(v, [5, 25, 50, 75, 95]))} | {(v == 0).mean():.4f} |")
    print()


def _table(sc: IoTAuctionV1, runs: dict[str, list[RunResult]]) -> None:
    metrics = ("regret", "utility", "welfare", "efficiency", "revenue", "no_sale")
    print("| policy | information | " + " | ".join(metrics) + " | normalised |")
    print("| --- | --- | " + " | ".join("---" for _ in metrics) + " | --- |")
    rand, ref = runs["random"], runs["complete_information_nash"]
    for name, rs in runs.items():
        norm = [(r.mean("regret") - a.mean("regret")) / (o.mean("regret") - a.mean("regret")) for r, a, o in zip(rs, rand, ref)]
        info = "global" if name == "complete_information_nash" else "local"
        print(f"| {name} | {info} | " + " | ".join(_ci([r.mean(m) for r in rs]) for m in metrics) + f" | {_ci(norm)} |")
    print()


def bidding(mappo: Sequence[str]) -> None:
    """Baselines, shading sweep and MAPPO policies on the protocol."""
    sc = IoTAuctionV1()
    print(f"## Bidding track ({sc.env_id}, defaults; seeds {SEEDS[0]}..{SEEDS[-1]} x {EPISODES} episodes)\n")
    policies = {name: make_policy(name, sc) for name in policies_for(sc.env_id)}
    for alpha in (0.85, 0.9, 0.95):
        policies[f"shaded_{alpha:g}"] = Shaded(sc, alpha)
    runs = {name: [evaluate(sc, p, EPISODES, s) for s in SEEDS] for name, p in policies.items()}
    if mappo:
        from agents import load_policy

        runs["mappo"] = [evaluate(sc, load_policy(path, sc), EPISODES, s) for path, s in zip(mappo * len(SEEDS), SEEDS)]
        # One trained run per evaluation seed (the leaderboard's pairing of train and evaluation seeds).
    _table(sc, runs)
    if mappo:
        local = (n for n in runs if n not in ("complete_information_nash", "mappo"))
        best = min(local, key=lambda n: np.mean([r.mean("regret") for r in runs[n]]))
        wins = np.mean([[m.mean("regret") < b.mean("regret") for b in runs[best]] for m in runs["mappo"]])
        print(f"P(mappo's regret < {best}'s) over run pairs: {wins:.2f}\n")


def mechanisms(iterations: int, out: Path) -> None:
    """Revenue, truthful regret and IR of the mechanisms at the task's N on the calibrated valuation."""
    from agents.myersonnet import train

    n = IoTAuctionV1().num_agents
    checkpoint = out / f"iot_auction_v1_semantic_n{n}.npz"
    if not checkpoint.exists():
        start = time.perf_counter()
        net = train(IoTAuctionV1(mechanism="second_price").sample_valuations, n, iterations, seed=0,
                    valuation="SemCom-IoTAuction-v1 semantic")
        out.mkdir(parents=True, exist_ok=True)
        net.save(checkpoint)
        print(f"MyersonNet: {iterations} iterations in {time.perf_counter() - start:.0f} s; "
              f"held-out revenue {net.metadata['test_revenue']:.4f}\n")
    print(f"## Mechanism track (N = {n}, calibrated semantic valuation, truthful bidders; "
          f"seeds {SEEDS[0]}..{SEEDS[-1]} x {EPISODES} episodes)\n")
    print("| mechanism | revenue | truthful regret | IR violations (share of sales) | no sale | welfare |")
    print("| --- | --- | --- | --- | --- | --- |")
    base = None
    for mechanism in ("second_price", "second_price_reserve", "myerson", "neural"):
        kwargs = {"neural_checkpoint": str(checkpoint)} if mechanism == "neural" else {}
        sc = IoTAuctionV1(mechanism=mechanism, **kwargs)
        policy = make_policy("truthful", sc)
        revenue, regret, violations, no_sale, welfare = [], [], [], [], []
        for s in SEEDS:
            # The episodes of `evaluate` (semcom_envs.evaluation): copy i of seed s is seeded s 2^32 + i.
            keys = streams.episode_key(streams.seed_key(s * EPISODE_SEED_STRIDE + np.arange(EPISODES)), 0)
            runner_state, obs = sc.reset(keys)
            v_paid, sales, rs, rg, ns, wf = 0, 0, [], [], [], []
            for _ in range(sc.config.max_steps):
                tr = sc.step(runner_state, policy.act(obs, None))
                runner_state, obs, info = tr.state, tr.observations, tr.infos
                sold = info["winner"] >= 0
                v_paid += int((sold & (info["revenue"] > info["winner_value"] + 1e-9)).sum())
                sales += int(sold.sum())
                rs.append(info["revenue"]), rg.append(info["regret"].mean(axis=1)), ns.append(~sold), wf.append(info["winner_value"])
            revenue.append(float(np.mean(rs))), regret.append(float(np.mean(rg))), no_sale.append(float(np.mean(ns)))
            welfare.append(float(np.mean(wf))), violations.append(v_paid / max(sales, 1))
        base = base or revenue
        if mechanism == "second_price":
            oracle = [_myerson_given_distances(sc, s) for s in SEEDS]
        gain = 100 * (np.asarray(revenue) / np.asarray(base) - 1)
        print(f"| {mechanism} | {_ci(revenue)} ({_ci(gain)} % vs second price) | {_ci(regret)} | {_ci(violations)} | "
              f"{_ci(no_sale)} | {_ci(welfare)} |")
    gain = 100 * (np.asarray(oracle) / np.asarray(base) - 1)
    print(f"| myerson given the distances (bound) | {_ci(oracle)} ({_ci(gain)} % vs second price) | 0 | 0 | | |")
    print()


def _myerson_given_distances(sc: IoTAuctionV1, seed: int) -> float:
    """Revenue of Myerson's auction for each episode's own (asymmetric) value distributions: given the distances
    fixed at reset, values are independent across devices and slots, so this is the optimal revenue of a
    mechanism that knows the distances (what a learned mechanism could at best reach with them)."""
    keys = streams.episode_key(streams.seed_key(seed * EPISODE_SEED_STRIDE + np.arange(EPISODES)), 0)
    state, _ = sc.reset(keys)
    values, distances = [], state["distance_m"]
    for _ in range(sc.config.max_steps):
        values.append(state["value"])
        state = sc.step(state, {a: np.full((EPISODES, 1), -1.0, np.float32) for a in sc.agents}).state
    values = np.stack(values, axis=1)  # (episodes, slots, N)
    revenue = []
    for e in range(EPISODES):
        # One device at a fixed distance: the scenario with a degenerate distance range samples its values.
        dists = [auctions.ValueDistribution.empirical(
            IoTAuctionV1(distance_range_m=(float(d), float(d))).sample_valuations(4000, seed=2**41).ravel())
            for d in distances[e]]
        revenue.append(auctions.Myerson(dists)(values[e])[1].mean())
    return float(np.mean(revenue))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mappo", nargs="*", default=[], help="policy_seed*.pt files of `semcom train --agent mappo`")
    parser.add_argument("--myersonnet-iterations", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=Path("runs/iot_auction_task_study"))
    parser.add_argument("--skip", nargs="*", default=[], choices=("calibration", "bidding", "mechanisms"))
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    if "calibration" not in args.skip:
        calibration()
    if "bidding" not in args.skip:
        bidding(args.mappo)
    if "mechanisms" not in args.skip:
        mechanisms(args.myersonnet_iterations, args.out)


if __name__ == "__main__":
    main()
