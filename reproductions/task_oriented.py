"""Reproduction of the task-oriented source's results (docs/reproduce-task-oriented.md), as ``semcom reproduce-task-oriented``.

SemCom-TaskOriented-v0 with ``max_steps = 1``: every decision is a fresh draw of the users
(distances, weights and fading), so an evaluation seed's ``episodes`` episodes are ``episodes``
independent slots. Five experiments:

1. ``compression``: average success probability against a fixed compression ratio ``o`` (steps of
   0.05) under equal allocation, computed directly with :meth:`TaskOriented.success` over sampled
   user sets (as ``task_oriented_calibration``), at ``B_max`` = 10, 20, 30 MHz: unimodality and
   argmax.
2. ``bandwidth``: average success probability against ``B_max`` (1-30 MHz) at ``P_max`` = 1 W and
   1 mW for ``crra``, ``fcr``, ``fra``, ``msr``, ``equal``.
3. ``power`` (1 mW - 1 W at 20 MHz) and ``users`` (U = 4-10 at the defaults), same solvers.
4. ``weighted``: weighted success ``Phi`` (preset ``crraus``) for ``crraus``, ``crra``, ``fcr``,
   ``fra`` at ``B_max`` = 1, 5, 20 MHz (few episodes: CRRAUS's branch and bound is slow).
5. ``mappo``: MAPPO (Beta head, parameter sharing, ``runs`` seeds in lockstep) on the default
   configuration, evaluated next to the solvers at the default point.

Statistics: a solver's value per evaluation seed is its mean over that seed's episodes; mean and
Student-t 95% CI over evaluation seeds; every solver meets the same slots (common random numbers).
MAPPO's value per training seed is its deterministic policy's mean over all evaluation episodes,
CI over training seeds. Gains are ``mean(a) / mean(b) - 1``.

Resumable: every evaluated point is cached in ``OUT/points.json`` and the MAPPO training resumes
from its checkpoint (a finished one is reused).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from semcom_agents import load_policy
from semcom_agents.training import policy_path, train
from semcom_baselines import make_policy
from semcom_envs.evaluation import EPISODE_SEED_STRIDE, environment_record, evaluate, mean_ci
from semcom_envs.registration import make_scenario
from semcom_reproductions import fmt_ci

ENV_ID = "SemCom-TaskOriented-v0"
SOLVERS = ("crra", "fcr", "fra", "msr", "equal")
WEIGHTED_SOLVERS = ("crraus", "crra", "fcr", "fra")
O_SWEEP = np.round(np.arange(0.0, 1.0, 0.05), 2)
MAPPO_HYPERPARAMETERS: dict[str, Any] = {"box_distribution": "beta", "num_envs": 16, "rollout_length": 16, "gamma": 0.0}
"""Beta head (the right one for this Box action), 256 transitions per update; ``gamma = 0``: with
``max_steps = 1`` every slot is its own episode (a contextual bandit)."""

DEFAULTS = {"bandwidth_max_hz": 20e6, "power_max_w": 1.0, "num_users": 10}


def reproduce_task_oriented(out: Path, bandwidths_mhz: Sequence[float] = (1, 5, 10, 20, 30),
                            powers_w: Sequence[float] = (1e-3, 1e-2, 0.1, 1.0), users: Sequence[int] = (4, 6, 8, 10),
                            compression_bandwidths_mhz: Sequence[float] = (10, 20, 30), compression_samples: int = 2000,
                            weighted_bandwidths_mhz: Sequence[float] = (1, 5, 20),
                            eval_seeds: Sequence[int] = (1000, 1001, 1002), episodes: int = 16,
                            weighted_seeds: int = 3, weighted_episodes: int = 8,
                            seeds: int = 3, mappo_steps: int = 200_000, mappo_hyperparameters: Mapping[str, Any] | None = None,
                            solvers: Sequence[str] = SOLVERS, weighted_solvers: Sequence[str] = WEIGHTED_SOLVERS,
                            progress: bool = True) -> dict[str, str]:
    """Run the five experiments, write ``results.json``, ``results.md`` and figures; returns titled tables."""
    out.mkdir(parents=True, exist_ok=True)
    cache_path = out / "points.json"
    cache: dict[str, Any] = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    log = (lambda msg: print(msg, flush=True)) if progress else (lambda msg: None)

    def point(kwargs: Mapping[str, Any], names: Sequence[str], seeds_: Sequence[int], n: int, metric: str) -> dict[str, Any]:
        full = {"max_steps": 1, **DEFAULTS, **kwargs}
        result = {}
        for name in names:
            key = json.dumps({"policy": name, "env": full, "seeds": list(seeds_), "episodes": n, "metric": metric}, sort_keys=True)
            if key not in cache:
                scenario = make_scenario(ENV_ID, **full)
                start = time.perf_counter()
                runs = [evaluate(scenario, make_policy(name, scenario), n, s) for s in seeds_]
                per_seed = [r.mean(metric) for r in runs]
                cache[key] = {"per_seed": per_seed, "mean_ci": mean_ci(per_seed),
                              "ms_per_decision": 1e3 * float(np.mean([r.seconds_per_decision for r in runs])) / n,
                              "wall_s": time.perf_counter() - start}
                cache_path.write_text(json.dumps(cache))
                log(f"{name} {kwargs}: {cache[key]['mean_ci'][0]:.4f} ({cache[key]['wall_s']:.1f} s)")
            result[name] = cache[key]
        return result

    solver_point: Callable[[Mapping[str, Any]], dict[str, Any]] = \
        lambda kw: point(kw, solvers, eval_seeds, episodes, "success_prob")  # noqa: E731

    results: dict[str, Any] = {}
    results["compression"] = {f"{b:g}": compression_sweep(b * 1e6, compression_samples, eval_seeds) for b in compression_bandwidths_mhz}
    results["bandwidth"] = {f"{p:g}": {f"{b:g}": solver_point({"bandwidth_max_hz": b * 1e6, "power_max_w": p}) for b in bandwidths_mhz}
                            for p in (1.0, 1e-3)}
    results["power"] = {f"{p:g}": solver_point({"power_max_w": p}) for p in powers_w}
    results["users"] = {str(u): solver_point({"num_users": u}) for u in users}
    results["weighted"] = {f"{b:g}": point({"preset": "crraus", "bandwidth_max_hz": b * 1e6}, weighted_solvers,
                                            eval_seeds[:weighted_seeds], weighted_episodes, "objective")
                           for b in weighted_bandwidths_mhz}

    hyper = {**MAPPO_HYPERPARAMETERS, **dict(mappo_hyperparameters or {})}
    mappo_meta = None
    if seeds > 0 and mappo_steps > 0:
        run_dir = out / "mappo"
        env_kwargs = {"max_steps": 1}
        mappo_meta = train("mappo", ENV_ID, mappo_steps, 0, run_dir, runs=seeds, env_kwargs=env_kwargs, hyperparameters=hyper,
                           resume=True, progress=progress, tensorboard=False, log_every=5000, checkpoint_every=10_000)
        scenario = make_scenario(ENV_ID, **env_kwargs)
        per_training_seed = []
        for s in mappo_meta["seeds"]:
            policy = load_policy(policy_path(run_dir, s), scenario)
            per_training_seed.append(float(np.mean([evaluate(scenario, policy, episodes, e).mean("success_prob")
                                                    for e in eval_seeds])))
        default = solver_point({})
        crra = float(np.mean(default["crra"]["per_seed"])) if "crra" in default else float("nan")
        results["mappo"] = {"per_training_seed": per_training_seed, "mean_ci": mean_ci(per_training_seed),
                            "fraction_of_crra": mean_ci([v / crra for v in per_training_seed]),
                            "training_wall_clock_s": mappo_meta["wall_clock_s"], "steps": mappo_steps}

    results["gains"] = gains(results)
    tables = markdown_tables(results)
    payload = {"env_id": ENV_ID, "defaults": {**DEFAULTS, "max_steps": 1}, "eval_seeds": list(eval_seeds),
               "episodes_per_eval_seed": episodes, "weighted_eval_seeds": list(eval_seeds[:weighted_seeds]),
               "weighted_episodes_per_eval_seed": weighted_episodes, "compression_samples": compression_samples,
               "episode_seed_rule": f"seed * {EPISODE_SEED_STRIDE} + episode",
               "training": {"mappo_steps": mappo_steps, "seeds": seeds, "mappo_hyperparameters": hyper,
                            "meta": mappo_meta and {k: mappo_meta[k] for k in ("seeds", "steps_done", "wall_clock_s")
                                                    if k in mappo_meta}},
               "results": results, **environment_record()}
    (out / "results.json").write_text(json.dumps(payload, indent=1))
    (out / "results.md").write_text("\n\n".join(f"### {t}\n\n{v}" for t, v in tables.items()) + "\n")
    plot(out, results)
    return tables


def compression_sweep(bandwidth_max_hz: float, samples: int, seeds: Sequence[int]) -> dict[str, Any]:
    """Mean success probability vs fixed ``o`` under equal allocation; ``samples`` user sets per seed, CI over seeds."""
    scenario = make_scenario(ENV_ID, bandwidth_max_hz=bandwidth_max_hz)
    c = scenario.config
    u = c.num_users
    per_seed = []
    for seed in seeds:
        distance = np.random.default_rng(seed).uniform(*c.distance_range_m, size=(samples, u))
        delta2 = scenario.channel_variance_at(distance)
        grid = O_SWEEP.reshape(-1, 1, 1)
        phi = scenario.success(grid, np.full(delta2.shape, bandwidth_max_hz / u), np.full(delta2.shape, c.power_max_w / u),
                               delta2)["success_prob"]
        per_seed.append(phi.mean(axis=(1, 2)))
    values = np.array(per_seed)  # (seeds, len(O_SWEEP))
    means = values.mean(axis=0)
    diffs = np.sign(np.diff(means))
    diffs = diffs[diffs != 0]
    return {"o": O_SWEEP.tolist(), "mean_ci": [mean_ci(values[:, j]) for j in range(len(O_SWEEP))],
            "argmax_o": float(O_SWEEP[int(np.argmax(means))]),
            "unimodal": bool(np.sum(diffs[1:] != diffs[:-1]) <= 1 and (diffs.size == 0 or diffs[0] > 0 or np.all(diffs < 0)))}


def _mean(cell: Mapping[str, Any]) -> float:
    return float(cell["mean_ci"][0])


def _gain(a: float, b: float) -> dict[str, float | None]:
    """``a / b - 1`` in % (None when ``b`` < 1e-3: no meaningful relative gain) and the difference ``a - b``."""
    return {"percent": None if b < 1e-3 else 100.0 * (a / b - 1.0), "difference": a - b}


def gains(results: Mapping[str, Any]) -> dict[str, Any]:
    """CRRA's gains over the other solvers at every swept point, CRRAUS's in weighted success."""
    out: dict[str, Any] = {}
    for sweep, points in (*((f"bandwidth@P={p}W", pts) for p, pts in results["bandwidth"].items()),
                          ("power@20MHz", results["power"]), ("users", results["users"])):
        out[sweep] = {x: {other: _gain(_mean(cell["crra"]), _mean(cell[other])) for other in cell if other != "crra"}
                      for x, cell in points.items() if "crra" in cell}
    out["weighted"] = {x: {other: _gain(_mean(cell["crraus"]), _mean(cell[other])) for other in cell if other != "crraus"}
                       for x, cell in results["weighted"].items() if "crraus" in cell}
    return out


def _pct(g: Mapping[str, float | None], points: bool) -> str:
    """``+x%`` and the difference, in percentage points (``points``) or in the metric's units."""
    pct = "n/a" if g["percent"] is None else f"{g['percent']:+.1f}%"
    diff = g["difference"]
    return f"{pct} ({100 * diff:+.1f} pp)" if points else f"{pct} (Δ {diff:+.3f})"


def _sweep_table(points: Mapping[str, Mapping[str, Any]], label: str, title: str) -> str:
    xs = list(points)
    names = list(next(iter(points.values())))
    lines = [title, "", "| policy | " + " | ".join(f"{label}={x}" for x in xs) + " |", "|" + " --- |" * (len(xs) + 1)]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(fmt_ci(points[x][name]["mean_ci"], digits=4) for x in xs) + " |")
    return "\n".join(lines)


def markdown_tables(results: Mapping[str, Any]) -> dict[str, str]:
    """One table per experiment, plus the gains."""
    tables: dict[str, str] = {}
    comp = results["compression"]
    o = next(iter(comp.values()))["o"]
    lines = ["Average success probability vs fixed o, equal allocation, P_max = 1 W, U = 10 (mean ± 95% CI over seeds)", "",
             "| o | " + " | ".join(f"B_max={b} MHz" for b in comp) + " |", "|" + " --- |" * (len(comp) + 1)]
    for j, oj in enumerate(o):
        lines.append(f"| {oj:.2f} | " + " | ".join(fmt_ci(comp[b]["mean_ci"][j], digits=4) for b in comp) + " |")
    lines.append("| argmax | " + " | ".join(f"{comp[b]['argmax_o']:.2f} (unimodal: {comp[b]['unimodal']})" for b in comp) + " |")
    tables["1. success vs compression ratio"] = "\n".join(lines)
    for p, points in results["bandwidth"].items():
        tables[f"2. success vs B_max at P_max = {p} W"] = _sweep_table(
            points, "B_max[MHz]", f"Average success probability vs B_max, P_max = {p} W, U = 10 (mean ± 95% CI)")
    tables["3a. success vs P_max"] = _sweep_table(results["power"], "P_max[W]",
                                                  "Average success probability vs P_max, B_max = 20 MHz, U = 10 (mean ± 95% CI)")
    tables["3b. success vs users"] = _sweep_table(results["users"], "U",
                                                  "Average success probability vs number of users, 20 MHz, 1 W (mean ± 95% CI)")
    tables["4. weighted success"] = _sweep_table(results["weighted"], "B_max[MHz]",
                                                 "Weighted success Phi = sum_i w_i Phi_i (preset crraus), 1 W, U = 10 (mean ± 95% CI)")
    if "mappo" in results:
        m = results["mappo"]
        default = results["bandwidth"].get("1", {}).get("20") or results["power"].get("1")
        lines = ["Default point (20 MHz, 1 W, U = 10): average success probability (mean ± 95% CI)", "",
                 "| policy | success probability | fraction of crra | ms per decision |", "| --- | --- | --- | --- |"]
        crra = _mean(default["crra"]) if default and "crra" in default else float("nan")
        for name, cell in (default or {}).items():
            lines.append(f"| {name} | {fmt_ci(cell['mean_ci'], digits=4)} | {_mean(cell) / crra:.3f} | {cell['ms_per_decision']:.1f} |")
        lines.append(f"| mappo ({len(m['per_training_seed'])} training seeds, {m['steps']} steps, "
                     f"{m['training_wall_clock_s']:.0f} s) | {fmt_ci(m['mean_ci'], digits=4)} | {fmt_ci(m['fraction_of_crra'])} | - |")
        tables["5. MAPPO at the default point"] = "\n".join(lines)
    lines = ["Gains: mean(a) / mean(b) - 1 (n/a where mean(b) < 1e-3) and mean(a) - mean(b) "
             "(percentage points of success probability; weighted: in units of Phi)", "",
             "| sweep | point | gains |", "| --- | --- | --- |"]
    for sweep, per_x in results["gains"].items():
        a = "crraus" if sweep == "weighted" else "crra"
        for x, g in per_x.items():
            lines.append(f"| {sweep} | {x} | " + ", ".join(f"{a} vs {o}: {_pct(v, sweep != 'weighted')}" for o, v in g.items()) + " |")
    tables["gains"] = "\n".join(lines)
    return tables


def plot(out: Path, results: Mapping[str, Any]) -> None:
    """One figure per sweep: ``compression``, ``bandwidth``, ``power``, ``users``, ``weighted`` (PNG in ``out``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def band(ax: Any, x: Sequence[float], cells: Sequence[Sequence[float]], label: str, **kw: Any) -> None:
        mean = np.array([c[0] for c in cells])
        half = np.nan_to_num(np.array([c[1] for c in cells]))
        line, = ax.plot(x, mean, marker="o", ms=3, label=label, **kw)
        ax.fill_between(x, mean - half, mean + half, alpha=0.2, color=line.get_color())

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for b, sweep in results["compression"].items():
        band(ax, sweep["o"], sweep["mean_ci"], f"B_max = {b} MHz (argmax {sweep['argmax_o']:.2f})")
    ax.set_xlabel("compression ratio o (equal allocation)")
    ax.set_ylabel("average success probability")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "compression.png", dpi=110)
    plt.close(fig)

    def sweep_fig(name: str, panels: Mapping[str, Mapping[str, Any]], xlabel: str, ylabel: str, log_x: bool,
                  extra: Callable[[Any, str], None] | None = None) -> None:
        fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4), squeeze=False)
        for ax, (title, points) in zip(axes[0], panels.items()):
            xs = [float(x) for x in points]
            for policy in next(iter(points.values())):
                band(ax, xs, [points[x][policy]["mean_ci"] for x in points], policy)
            if extra:
                extra(ax, title)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
            ax.set_title(title, fontsize=9)
            if log_x:
                ax.set_xscale("log")
            ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / f"{name}.png", dpi=110)
        plt.close(fig)

    def mappo_marker(ax: Any, title: str) -> None:
        if "mappo" in results and title.startswith("P_max = 1 W"):
            mean, half = results["mappo"]["mean_ci"]
            ax.errorbar([20.0], [mean], yerr=[np.nan_to_num(half)], fmt="D", color="k", capsize=3, label="mappo")

    sweep_fig("bandwidth", {f"P_max = {p} W": pts for p, pts in results["bandwidth"].items()}, "B_max [MHz]",
              "average success probability", False, mappo_marker)
    sweep_fig("power", {"B_max = 20 MHz": results["power"]}, "P_max [W]", "average success probability", True)
    sweep_fig("users", {"B_max = 20 MHz, P_max = 1 W": results["users"]}, "number of users U", "average success probability", False)
    sweep_fig("weighted", {"preset crraus, P_max = 1 W": results["weighted"]}, "B_max [MHz]",
              "weighted success sum_i w_i Phi_i", False)
