"""Reproduction of the IoT-auction source's revenue comparison (docs/reproduce-iot-auction.md), as ``semcom reproduce-iot-auction``.

Two experiments on SemCom-IoTAuction-v0:

1. **Revenue vs the number of devices N** under truthful bidding (a dominant strategy in every
   mechanism compared, all of them truthful): ``second_price``, ``myerson`` (exactly optimal for
   i.i.d. textbook values; for the semantic valuation it is Myerson's auction for the *ex-ante
   marginal* value distribution, a heuristic, since values are correlated within an episode
   through the device distances) and ``neural``, a MyersonNet trained per N on the scenario's own
   value profiles (:meth:`~semcom_envs.scenarios.iot_auction.IoTAuction.sample_valuations`) with
   :func:`semcom_agents.myersonnet.train`. For the uniform valuation the closed-form optimum is the
   reference MyersonNet is measured against.
2. **Learned bidders**: MAPPO devices (Box action = bid) trained under a given mechanism, with
   each Box policy head of ``bidder_box_distributions`` (MAPPO's ``box_distribution``: ``"beta"``
   first, the default, then the reference's clipped ``"gaussian"`` for comparison); their
   deterministic bids are compared with their values: truthful bidding ``b = v`` under the truthful
   mechanisms, the Bayes-Nash bid ``b = (n - 1) / n v`` under first price with i.i.d. U[0, 1] values.

Statistics: a mechanism's revenue per evaluation seed is its mean over that seed's episodes and
slots, with a Student-t 95% CI over evaluation seeds; every mechanism meets the same episodes
(common random numbers), so revenue ratios ("gaps") are taken per seed, then averaged. A learned
bidder's statistic is computed per training seed over all evaluation slots, with the CI over
training seeds.

Resumable: MyersonNet checkpoints found in ``checkpoint_dir`` (or shipped in the package, with
``use_shipped``) are reused, and MAPPO trainings continue from their checkpoints.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from semcom_agents import load_policy
from semcom_agents.myersonnet import MyersonNetConfig, reference_revenues
from semcom_agents.myersonnet import train as train_myersonnet
from semcom_agents.training import policy_path, train
from semcom_baselines.iot_auction import truthful
from semcom_baselines.policy import Policy
from semcom_envs.evaluation import EPISODE_SEED_STRIDE, environment_record, evaluate, mean_ci, slot_infos
from semcom_envs.myersonnet import MyersonNet, load_pretrained, pretrained_names
from semcom_envs.registration import make_scenario
from semcom_reproductions import fmt_ci

ENV_ID = "SemCom-IoTAuction-v0"
MECHANISMS = ("second_price", "myerson", "neural")
LABELS = {"second_price": "second price", "myerson": "Myerson", "neural": "MyersonNet", "first_price": "first price"}
MAPPO_BIDDERS: dict[str, Any] = {"gamma": 0.0}
"""MAPPO settings for bidders: a bid changes nothing after its slot (values, channels and the other
devices' bids of later slots do not depend on it), so each slot is its own one-shot game: no discount."""
BIDDER_BOX_DISTRIBUTIONS = ("beta", "gaussian")
"""Bidder policy heads, the default first: the Beta head learned the equilibrium bids far better
than the clipped Gaussian (docs/reproduce-iot-auction.md, "Learned bidders")."""


def reproduce_iot_auction(out: Path, ns: Sequence[int] = tuple(range(2, 11)), valuations: Sequence[str] = ("semantic", "uniform"),
                          eval_seeds: Sequence[int] = (1000, 1001, 1002, 1003, 1004), episodes: int = 8,
                          myersonnet_iterations: int = 20_000, myersonnet_profiles: int = 2**16, myersonnet_seed: int = 0,
                          myersonnet_restarts: int = 3,
                          checkpoint_dir: Path | None = None, use_shipped: bool = True,
                          bidder_mechanisms: Sequence[str] = ("second_price", "first_price", "neural"),
                          bidder_devices: int = 3, bidder_valuation: str = "uniform", seeds: int = 3,
                          bidder_box_distributions: Sequence[str] = BIDDER_BOX_DISTRIBUTIONS,
                          mappo_steps: int = 100_000, mappo_hyperparameters: Mapping[str, Any] | None = None,
                          progress: bool = True) -> dict[str, str]:
    """Train, evaluate and plot into ``out``; returns the Markdown tables by title.

    MyersonNet checkpoints go to ``checkpoint_dir`` (default ``out / "myersonnet"``) as
    ``<valuation>_n<N>.npz``, the names the scenario looks up for ``mechanism="neural"``; pointing
    it at ``semcom_envs/data/myersonnet`` ships them. Bidders train in ``out / "bidders" / mechanism``
    (Gaussian head) or ``mechanism-beta`` (Beta head), once per head of ``bidder_box_distributions``
    (only the head given as ``box_distribution`` in ``mappo_hyperparameters``, if any).
    """
    checkpoint_dir = out / "myersonnet" if checkpoint_dir is None else checkpoint_dir
    hyper = {**MAPPO_BIDDERS, **dict(mappo_hyperparameters or {})}
    heads = (hyper.pop("box_distribution"),) if "box_distribution" in hyper else tuple(bidder_box_distributions)
    net_config = MyersonNetConfig(train_profiles=myersonnet_profiles, restarts=myersonnet_restarts)
    needed = {(v, n) for v in valuations for n in ns}
    if "neural" in bidder_mechanisms:
        needed.add((bidder_valuation, bidder_devices))
    networks = {key: _myersonnet(*key, checkpoint_dir, myersonnet_iterations, net_config, myersonnet_seed, use_shipped)
                for key in sorted(needed)}
    revenue = {v: {n: _revenues(v, n, networks[v, n]["checkpoint"], eval_seeds, episodes) for n in ns} for v in valuations}
    bidders = {(head, m): _learned_bidders(out / "bidders" / (m if head == "gaussian" else f"{m}-{head}"), m,
                                           bidder_devices, bidder_valuation,
                                           networks.get((bidder_valuation, bidder_devices), {}).get("checkpoint"),
                                           seeds, mappo_steps, {**hyper, "box_distribution": head}, eval_seeds, episodes,
                                           progress)
               for head in heads for m in bidder_mechanisms}
    tables = {f"HAP revenue per slot, valuation = {v}, truthful bids (mean ± 95% CI over evaluation seeds)":
              _revenue_table(v, revenue[v], networks) for v in valuations}
    if bidders:
        tables[f"MAPPO bidders, N = {bidder_devices}, valuation = {bidder_valuation} (mean ± 95% CI over training seeds)"] = \
            _bidder_table(bidders)
    by_head = {head: {m: {k: v for k, v in bidders[head, m].items() if k != "samples"} for m in bidder_mechanisms}
               for head in heads}
    payload = {
        "env_id": ENV_ID, "eval_seeds": list(eval_seeds), "episodes_per_eval_seed": episodes,
        "episode_seed_rule": f"seed * {EPISODE_SEED_STRIDE} + episode", "truthful_bids": "b = v (float32 observation)",
        "myersonnet": {"iterations": myersonnet_iterations, "seed": myersonnet_seed, "config": net_config.__dict__,
                       "checkpoints": {f"{v}_n{n}": rec for (v, n), rec in networks.items()}},
        "revenue": {v: {str(n): r for n, r in per_n.items()} for v, per_n in revenue.items()},
        "bidders": {"num_devices": bidder_devices, "valuation": bidder_valuation, "seeds": seeds, "mappo_steps": mappo_steps,
                    "mappo_hyperparameters": hyper, "box_distributions": list(heads),
                    "results": by_head[heads[0]] if heads else {}, "results_by_box_distribution": by_head},
        **environment_record(),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(payload, indent=1))
    (out / "results.md").write_text("\n\n".join(f"**{title}**\n\n{table}" for title, table in tables.items()) + "\n")
    for v in valuations:
        _plot_revenue(out / f"revenue_vs_n_{v}.png", v, revenue[v], eval_seeds, episodes)
    if bidders:
        _plot_bids(out / "bids_vs_values.png", bidders, bidder_devices, bidder_valuation)
    return tables


def _myersonnet(valuation: str, n: int, folder: Path, iterations: int, config: MyersonNetConfig, seed: int,
                use_shipped: bool) -> dict[str, Any]:
    """The MyersonNet for ``valuation`` and ``n`` bidders: ``folder``'s checkpoint, else the shipped one
    (``use_shipped``), else one trained now on the scenario's value profiles and saved to ``folder``.

    Returns ``checkpoint`` (what the scenario's ``neural_checkpoint`` takes), ``source``, ``iterations``
    and ``train_wall_clock_s`` (the optimisation loop, from the checkpoint's metadata), and the
    network's revenue on its held-out profiles.
    """
    name = f"{valuation}_n{n}"
    path = folder / f"{name}.npz"
    if path.exists():
        net, source, checkpoint = MyersonNet.load(path), "reused", str(path)
    elif use_shipped and name in pretrained_names():
        net, source, checkpoint = load_pretrained(name), "shipped", name
    else:
        sampler = make_scenario(ENV_ID, num_devices=n, valuation=valuation).sample_valuations
        net = train_myersonnet(sampler, n, iterations, seed, config, valuation=f"{ENV_ID} {valuation}")
        net.save(path)
        source, checkpoint = "trained", str(path)
    meta = net.metadata
    return {"checkpoint": checkpoint, "source": source, "iterations": meta.get("iterations"), "seed": meta.get("seed"),
            "train_wall_clock_s": meta.get("train_wall_clock_s"), "test_revenue": meta.get("test_revenue")}


def _revenues(valuation: str, n: int, checkpoint: str, eval_seeds: Sequence[int], episodes: int) -> dict[str, Any]:
    """Every mechanism's revenue under truthful bids at one N, and MyersonNet's per-seed gaps."""
    per_seed: dict[str, list[float]] = {}
    out: dict[str, Any] = {}
    for mechanism in MECHANISMS:
        scenario = make_scenario(ENV_ID, num_devices=n, valuation=valuation, mechanism=mechanism,
                                 **({"neural_checkpoint": checkpoint} if mechanism == "neural" else {}))
        runs = [evaluate(scenario, truthful(scenario), episodes, s) for s in eval_seeds]
        per_seed[mechanism] = [r.mean("revenue") for r in runs]
        out[mechanism] = {"revenue": mean_ci(per_seed[mechanism]), "revenue_per_seed": per_seed[mechanism],
                          "no_sale": mean_ci([r.mean("no_sale") for r in runs])}
    for name, reference in (("second_price", "gap_to_second_price"), ("myerson", "gap_to_myerson")):
        out["neural"][reference] = mean_ci([a / b - 1.0 for a, b in zip(per_seed["neural"], per_seed[name])])
    out["myerson"]["gap_to_second_price"] = mean_ci([a / b - 1.0 for a, b in zip(per_seed["myerson"], per_seed["second_price"])])
    if valuation == "uniform":
        exact = reference_revenues("uniform", n)
        out["closed_form"] = exact
        for mechanism in MECHANISMS:
            mean, half = out[mechanism]["revenue"]
            out[mechanism]["gap_to_optimum"] = (mean / exact["myerson"] - 1.0, half / exact["myerson"])
    return out


def _learned_bidders(folder: Path, mechanism: str, n: int, valuation: str, checkpoint: str | None, seeds: int, steps: int,
                     hyper: Mapping[str, Any], eval_seeds: Sequence[int], episodes: int, progress: bool) -> dict[str, Any]:
    """Train MAPPO bidders under ``mechanism``, then measure their deterministic bids against their values.

    ``reference`` is the equilibrium bid the bids are compared with: ``b = v`` under the truthful
    mechanisms, ``b = (n - 1) / n v`` under first price with uniform values (none otherwise).
    """
    env_kwargs = {"num_devices": n, "valuation": valuation, "mechanism": mechanism,
                  **({"neural_checkpoint": checkpoint} if mechanism == "neural" else {})}
    meta = train("mappo", ENV_ID, steps, 0, folder, runs=seeds, env_kwargs=env_kwargs, hyperparameters=hyper, resume=True,
                 progress=progress, tensorboard=False)
    scenario = make_scenario(ENV_ID, **env_kwargs)
    slope = 1.0 if mechanism != "first_price" else (n - 1) / n if valuation == "uniform" else None
    stats: dict[str, list[float]] = {k: [] for k in ("median_abs_bid_minus_value", "fit_slope", "fit_intercept",
                                                     "median_abs_bid_minus_reference", "revenue", "truthful_revenue")}
    samples = []
    truthful_revenue = [evaluate(scenario, truthful(scenario), episodes, s).mean("revenue") for s in eval_seeds]
    for s in meta["seeds"]:
        policy = load_policy(policy_path(folder, s), scenario)
        value, bid = _bids_and_values(scenario, policy, eval_seeds, episodes)
        fit = np.polyfit(value, bid, 1)
        stats["median_abs_bid_minus_value"].append(float(np.median(np.abs(bid - value))))
        stats["fit_slope"].append(float(fit[0]))
        stats["fit_intercept"].append(float(fit[1]))
        stats["median_abs_bid_minus_reference"].append(float(np.median(np.abs(bid - slope * value))) if slope else float("nan"))
        stats["revenue"].append(float(np.mean([evaluate(scenario, policy, episodes, e).mean("revenue") for e in eval_seeds])))
        stats["truthful_revenue"].append(float(np.mean(truthful_revenue)))
        samples.append((value, bid))
    return {"env_kwargs": env_kwargs, "reference_slope": slope, "training_wall_clock_s": meta["wall_clock_s"],
            "per_seed": stats, **{k: mean_ci(v) for k, v in stats.items()}, "samples": samples}


def _bids_and_values(scenario: Any, policy: Policy, eval_seeds: Sequence[int], episodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Values and bids of every device in every slot of the evaluation episodes (those of :func:`evaluate`)."""
    runs = [slot_infos(scenario, policy, episodes, seed, ("value", "bid")) for seed in eval_seeds]
    return np.concatenate([r["value"].ravel() for r in runs]), np.concatenate([r["bid"].ravel() for r in runs])


def _pct(mean_half: Sequence[float]) -> str:
    """A relative gap as ``+x.xx% ± y.yy%``."""
    return fmt_ci([100 * x for x in mean_half], digits=2) + "%"


def _revenue_table(valuation: str, per_n: Mapping[int, Mapping[str, Any]], networks: Mapping[tuple[str, int], Any]) -> str:
    """Revenue per N and mechanism, MyersonNet's gaps and its training time."""
    myerson = "Myerson (ex-ante marginal)" if valuation == "semantic" else "Myerson"
    optimum = valuation == "uniform"
    head = ["N", "second price", myerson, "MyersonNet"] + (["optimum (closed form)"] if optimum else []) + \
        ["MyersonNet vs second price", f"MyersonNet vs {myerson}"] + (["MyersonNet vs optimum"] if optimum else []) + \
        ["MyersonNet training [s]"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for n, r in sorted(per_n.items()):
        net = networks[valuation, n]
        row = [str(n)] + [fmt_ci(r[m]["revenue"], digits=4) for m in MECHANISMS]
        row += [f"{r['closed_form']['myerson']:.4f}"] if optimum else []
        row += [_pct(r["neural"]["gap_to_second_price"]), _pct(r["neural"]["gap_to_myerson"])]
        row += [_pct(r["neural"]["gap_to_optimum"])] if optimum else []
        wall = net["train_wall_clock_s"]
        row.append(f"{wall:.1f} ({net['source']}, {net['iterations']} it.)" if wall is not None else net["source"])
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _bidder_table(bidders: Mapping[tuple[str, str], Mapping[str, Any]]) -> str:
    """Learned bids against values and the equilibrium bid, and the revenue they earn the HAP, per (head, mechanism)."""
    head = ["policy head", "mechanism", "equilibrium bid", "median abs(b - v)", "LS slope", "LS intercept", "median abs(b - equilibrium)",
            "revenue (learned bids)", "revenue (truthful bids)", "training [s]"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for (box, m), r in bidders.items():
        slope = r["reference_slope"]
        lines.append("| " + " | ".join([
            box, LABELS[m], "-" if slope is None else "b = v" if slope == 1.0 else f"b = {slope:.3f} v",
            fmt_ci(r["median_abs_bid_minus_value"], digits=4), fmt_ci(r["fit_slope"]), fmt_ci(r["fit_intercept"]),
            "-" if slope is None else fmt_ci(r["median_abs_bid_minus_reference"], digits=4),
            fmt_ci(r["revenue"], digits=4), f"{r['truthful_revenue'][0]:.4f}", f"{r['training_wall_clock_s']:.0f}"]) + " |")
    return "\n".join(lines)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plot_revenue(path: Path, valuation: str, per_n: Mapping[int, Mapping[str, Any]], eval_seeds: Sequence[int],
                  episodes: int) -> None:
    """Revenue vs N per mechanism with CI bands, and MyersonNet's gap to second price (and to the optimum)."""
    plt = _pyplot()
    ns = sorted(per_n)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for m in MECHANISMS:
        mean, half = (np.array([per_n[n][m]["revenue"][i] for n in ns]) for i in (0, 1))
        label = f"{LABELS[m]} (ex-ante marginal)" if m == "myerson" and valuation == "semantic" else LABELS[m]
        line, = axes[0].plot(ns, mean, marker="o", ms=3, label=label)
        axes[0].fill_between(ns, mean - half, mean + half, alpha=0.25, color=line.get_color())
    gaps = [("neural", "gap_to_second_price", "MyersonNet vs second price")]
    if valuation == "uniform":
        exact = [reference_revenues("uniform", n) for n in ns]
        axes[0].plot(ns, [e["myerson"] for e in exact], "k--", lw=1, label="optimum (closed form)")
        gaps += [("neural", "gap_to_optimum", "MyersonNet vs optimum"), ("myerson", "gap_to_optimum", "Myerson vs optimum")]
    else:
        gaps += [("neural", "gap_to_myerson", "MyersonNet vs Myerson (ex-ante marginal)")]
    gaps.append(("myerson", "gap_to_second_price", "Myerson vs second price"))
    for m, key, label in gaps:
        mean, half = (100 * np.array([per_n[n][m][key][i] for n in ns]) for i in (0, 1))
        axes[1].errorbar(ns, mean, yerr=np.nan_to_num(half), marker="o", ms=3, capsize=3, label=label)
    axes[1].axhline(0.0, color="k", lw=0.8)
    axes[0].set_ylabel("HAP revenue per slot")
    axes[1].set_ylabel("revenue gap [%]")
    for ax in axes:
        ax.set_xlabel("number of devices N")
        ax.legend(fontsize=7)
    fig.suptitle(f"SemCom-IoTAuction-v0, valuation = {valuation}, truthful bids: mean and 95% CI over "
                 f"{len(eval_seeds)} evaluation seeds x {episodes} episodes", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_bids(path: Path, bidders: Mapping[tuple[str, str], Mapping[str, Any]], n: int, valuation: str,
               points: int = 1500) -> None:
    """Learned deterministic bids vs values (a random subset of evaluation slots per training seed):
    one row per policy head, one column per mechanism."""
    plt = _pyplot()
    heads = list(dict.fromkeys(box for box, _ in bidders))
    mechanisms = list(dict.fromkeys(m for _, m in bidders))
    fig, axes = plt.subplots(len(heads), len(mechanisms), figsize=(4.2 * len(mechanisms), 4.0 * len(heads)),
                             squeeze=False)
    rng = np.random.default_rng(0)
    for (box, m), r in bidders.items():
        ax = axes[heads.index(box)][mechanisms.index(m)]
        top = 0.0
        for s, (value, bid) in enumerate(r["samples"]):
            pick = rng.choice(len(value), min(points, len(value)), replace=False)
            ax.scatter(value[pick], bid[pick], s=2, alpha=0.4, label=f"training seed {s}")
            top = max(top, float(value.max()), float(bid.max()))
        grid = np.array([0.0, top])
        ax.plot(grid, grid, "k-", lw=1, label="b = v (truthful)")
        if m == "first_price" and r["reference_slope"] is not None:
            ax.plot(grid, r["reference_slope"] * grid, "k--", lw=1, label=f"Bayes-Nash b = {n - 1}/{n} v")
        ax.set_title(f"{box}, {LABELS[m]}: slope {r['fit_slope'][0]:.3f}, median |b - v| {r['median_abs_bid_minus_value'][0]:.3f}",
                     fontsize=8)
        ax.set_xlabel("value v")
        ax.legend(fontsize=6, markerscale=4)
    for row in axes:
        row[0].set_ylabel("learned bid b (deterministic)")
    fig.suptitle(f"MAPPO bidders, SemCom-IoTAuction-v0, N = {n}, valuation = {valuation}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
