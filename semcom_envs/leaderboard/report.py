"""Leaderboard reports from stored rows: the tables (Markdown, and the HTML page's data), the figures,
and the CSV and marl-eval exports.

One table per scenario, best policy first; each column of the tables is defined once here and shared
by the Markdown and the HTML page, so both always show the same numbers.
"""

from __future__ import annotations

import base64
import csv
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from semcom_envs.leaderboard.protocol import AGENT_KIND, SUBMITTED_KIND
from semcom_envs.leaderboard.stats import (
    BEST_LOCAL,
    Interval,
    PolicyResult,
    ScenarioResult,
    aggregate,
    aggregate_members,
    iqm_curve,
    plateau,
    summarise,
)

EVALUATED = ("Evaluated policy: baselines as registered; learning agents at their last checkpoint (the end of the "
             "training budget) with deterministic actions (greedy Q-values, the MAPPO mode). Run s of every policy "
             "is evaluated on the same fixed episodes (evaluation seed eval_seed_base + s); agents are trained with seed s.")
STATISTICS = ("Statistics: IQM over runs with 95% percentile stratified-bootstrap intervals (2,000 resamples; "
              "scipy.stats.bootstrap); normalised score per run between random (0) and the best full-information "
              "baseline (1) on the same episodes; P(improvement) = P(a run beats a run of the best classical "
              "baseline) + ties/2, with its bootstrap interval. 'global' marks policies that read the global state. "
              "ms / decision: one policy call for all of a run's episodes at once (the batch is the episode count).")


def _cell(text: str, value: float | None = None) -> dict[str, Any]:
    return {"text": text, "value": None if value is None or not math.isfinite(value) else float(value)}


def _interval_cell(interval: Interval) -> dict[str, Any]:
    return _cell(interval.text(), interval.point)


def columns(scenario: ScenarioResult) -> list[dict[str, Any]]:
    """The table columns of a scenario: key, label, numeric."""
    direction = "↑" if scenario.higher_is_better else "↓"
    cols = [("policy", "policy", False), ("kind", "type", False), ("information", "information", False),
            ("train_steps", "train steps", True), ("runs", "runs", True),
            ("score", f"{scenario.primary_metric} {direction} IQM [95% CI]", True)]
    if scenario.reference:
        cols.append(("normalised", "normalised IQM [95% CI]", True))
    if scenario.best_classical:
        cols.append(("improvement", f"P(better than {scenario.best_classical}) [95% CI]", True))
    cols += [("ms_per_decision", "ms / decision", True), ("wall_clock_s", "wall-clock s / run", True)]
    return [{"key": k, "label": label, "numeric": numeric} for k, label, numeric in cols]


def _row(p: PolicyResult) -> dict[str, dict[str, Any]]:
    return {
        "policy": _cell(p.policy), "kind": _cell(p.kind), "information": _cell("global" if p.uses_global_state else "local"),
        "train_steps": _cell(f"{p.train_steps:,}" if p.train_steps else "—", p.train_steps or None),
        "runs": _cell(str(len(p.seeds)), len(p.seeds)), "score": _interval_cell(p.score),
        "normalised": _interval_cell(p.normalised), "improvement": _interval_cell(p.improvement),
        "ms_per_decision": _cell(f"{p.ms_per_decision:.3g}", p.ms_per_decision),
        "wall_clock_s": _cell(f"{p.wall_clock_s:.3g}", p.wall_clock_s),
    }


def aggregate_section(scenarios: Sequence[ScenarioResult], figures: bool) -> dict[str, Any] | None:
    """Normalised-score IQM across scenarios (stratified by scenario): the policies run on all of them, each
    scenario's best local baseline, and agents run on some; the chart marks every scenario's own IQM too."""
    members = aggregate_members(scenarios)
    agg = aggregate(scenarios)
    names = [s.env_id for s in scenarios if s.reference]
    if len(agg) < 2 or len(names) < 2:
        return None
    label = {p: p if n == len(names) else f"{p} ({n} of {len(names)})" for p, (_, n) in agg.items()}
    points = [[(env_id, r.normalised.point) for env_id, r in members[p]] for p in agg]
    return {
        "id": "aggregate", "title": "All scenarios with a reference",
        "description": f"normalised score IQM over every run of {', '.join(names)}, stratified by scenario: the "
                       f"policies run on all of them, each scenario's own best local baseline ({BEST_LOCAL}), and "
                       "learning agents run on some (over those)",
        "columns": [{"key": "policy", "label": "policy", "numeric": False},
                    {"key": "scenarios", "label": "scenarios", "numeric": True},
                    {"key": "normalised", "label": "normalised IQM [95% CI]", "numeric": True}],
        "rows": [{"policy": _cell(p), "scenarios": _cell(str(n), n), "normalised": _interval_cell(i)} for p, (i, n) in agg.items()],
        "figures": [interval_figure("normalised score across scenarios: IQM and 95% stratified-bootstrap CI",
                                    "normalised score (random 0, reference 1)",
                                    [(label[p], i, "tab:purple") for p, (i, _) in agg.items()],
                                    floor=NORMALISED_FLOOR, points=points, point_keys=names)] if figures else [],
    }


def _plateau_status(runs: np.ndarray) -> str:
    """A learning curve ``(runs, points)`` over its last fifth: ``flat`` or ``still changing`` (:func:`.stats.plateau`)."""
    return "flat" if plateau(runs).flat else "still changing"


def _plateaus(curves: LearningCurves) -> str:
    """Each agent's learning curve over its last fifth: ``mappo flat, dqn still changing``."""
    return ", ".join(f"{agent} {_plateau_status(data[1:])}" for agent, data in curves.runs.items())


def sections(scenarios: Sequence[ScenarioResult], curves: Mapping[str, LearningCurves] | None = None,
             figures: bool = True) -> list[dict[str, Any]]:
    """The report sections (the HTML page's layout): one per scenario, then the aggregate, if any. ``curves``
    (:func:`learning_curves`): each agent's plateau status in its scenario's description and, with ``figures``,
    the learning-curve figures; ``figures``: the interval charts too."""
    curves = curves or {}
    out = []
    for s in scenarios:
        cols = columns(s)
        keys = [c["key"] for c in cols]
        description = f"primary metric {s.primary_metric} ({'higher' if s.higher_is_better else 'lower'} is better)"
        if s.reference:
            description += f"; normalised: random = 0, {s.reference} (best full-information baseline) = 1"
        else:
            description += "; no full-information baseline, so no normalised score"
        if s.best_classical:
            description += f"; best classical baseline: {s.best_classical}"
        if s.env_id in curves:
            c = curves[s.env_id]
            description += f"; training curve ({c.metric}) over its last fifth: {_plateaus(c)}"
        out.append({"id": s.env_id, "title": s.env_id, "description": description, "columns": cols,
                    "rows": [{k: v for k, v in _row(p).items() if k in keys} for p in s.policies],
                    "figures": [] if not figures else [scenario_interval_figure(s)] + (
                        [curve_figure(s.env_id, curves[s.env_id])] if s.env_id in curves else [])})
    agg = aggregate_section(scenarios, figures=figures)
    return out + ([agg] if agg else [])


def markdown(section: Mapping[str, Any]) -> str:
    """A section's table in Markdown (cells as displayed)."""
    cols = section["columns"]
    lines = [f"### {section['title']}", "", section["description"], "",
             "| " + " | ".join(c["label"] for c in cols) + " |", "|" + " --- |" * len(cols)]
    lines += ["| " + " | ".join(row[c["key"]]["text"] for c in cols) + " |" for row in section["rows"]]
    return "\n".join(lines)


def markdown_report(page: Mapping[str, Any]) -> str:
    """A whole report in Markdown: title, the run line, then every section's table."""
    return "\n\n".join([f"# {page['title']}", page["subtitle"], *(markdown(section) for section in page["sections"])]) + "\n"


def report(rows: Sequence[Mapping[str, Any]], protocol: Mapping[str, Any], figures: bool = True) -> dict[str, Any]:
    """The whole report of one protocol version's rows (the HTML page's input; see :mod:`.html`)."""
    scenarios = summarise(rows)
    commits = sorted({r["commit"] or "unknown" for r in rows})
    hardware = sorted({f"{r['hardware']['cpu']} ({r['hardware']['cpus']} CPUs)" for r in rows})
    total = sum(r["wall_clock_s"] for r in rows)
    seeds = sorted({r["seed"] for r in rows})
    return {
        "title": "semcom-envs leaderboard",
        "subtitle": f"protocol {protocol['name']} v{protocol['version']} · {len(rows)} runs · seeds {seeds} · "
                    f"{total / 60:.1f} CPU-minutes of jobs · commit {', '.join(commits)} · {', '.join(hardware)}",
        "notes": [protocol.get("description", ""), EVALUATED, STATISTICS],
        "sections": [protocol_section(protocol), *sections(scenarios, learning_curves(rows), figures)],
    }


def results_versions(benchmark: Mapping[str, Any], version: int) -> str:
    """Which version's runs a benchmark shows: ``v2``, or ``v2; dqn: v4`` when some agents' runs come from
    another version (rerun under ``version``, or shared from an earlier one)."""
    agents: dict[int, list[str]] = {}
    for agent, agent_version in (benchmark.get("shared_agents") or {}).items():
        agents.setdefault(int(agent_version), []).append(agent)
    for agent in benchmark.get("rerun") or ():
        agents.setdefault(version, []).append(agent)
    parts = [f"v{benchmark.get('results_version') or version}"]
    parts += [f"{', '.join(names)}: v{v}" for v, names in sorted(agents.items())]
    return "; ".join(parts)


def left_out_text(left_out: Mapping[str, str]) -> str:
    """``dqn, drqn (why); crraus (why)``: the policies a benchmark leaves out, those with the same reason together."""
    names: dict[str, list[str]] = {}
    for name, why in left_out.items():
        names.setdefault(why, []).append(name)
    return "; ".join(f"{', '.join(group)} ({why})" for why, group in names.items()) or "—"


def _baselines_text(benchmark: Mapping[str, Any]) -> str:
    """A benchmark's baselines: its list, or ``all registered`` (``but crraus`` for registered ones it leaves out)."""
    from semcom_baselines import policies_for

    if benchmark["baselines"] is not None:
        return ", ".join(benchmark["baselines"])
    left_out = [n for n in benchmark.get("left_out") or () if n in policies_for(benchmark["env_id"])]
    return "all registered" + (f" but {', '.join(left_out)}" if left_out else "")


def protocol_section(protocol: Mapping[str, Any]) -> dict[str, Any]:
    """The protocol as a table: per scenario its config changes, agents' budgets and hyperparameters, episodes."""
    def text(mapping: Mapping[str, Any]) -> str:
        return ", ".join(f"{k}={v}" for k, v in mapping.items()) or "defaults"

    rows = []
    for b in protocol["benchmarks"]:
        budgets = ", ".join(f"{agent} {steps:,}" for agent, steps in b["train_steps"].items()) or "— (baselines only)"
        hyper = "; ".join(f"{agent}: {text(hp)}" for agent, hp in b["hyperparameters"].items()) or "defaults"
        rows.append({"scenario": _cell(b["env_id"]), "config": _cell(text(b["env_kwargs"])),
                     "budget": _cell(budgets), "hyperparameters": _cell(hyper),
                     "baselines": _cell(_baselines_text(b)),
                     "episodes": _cell(str(b["episodes"]), b["episodes"]),
                     "results": _cell(results_versions(b, protocol["version"]))})
    labels = [("scenario", "scenario", False), ("config", "env config", False),
              ("budget", "training budget (env steps per run)", False), ("hyperparameters", "agent hyperparameters", False),
              ("baselines", "baselines", False), ("episodes", "evaluation episodes per run", True),
              ("results", "runs of (unchanged since)", False)]
    return {"id": "protocol", "title": f"Protocol {protocol['name']} v{protocol['version']}",
            "description": f"runs: seeds {list(protocol['seeds'])}; run s is evaluated on evaluation seed "
                           f"{protocol['eval_seed_base']} + s" + "".join(
                               f". Left out of {b['env_id']}: {left_out_text(b['left_out'])}"
                               for b in protocol["benchmarks"] if b.get("left_out")),
            "columns": [{"key": k, "label": label, "numeric": numeric} for k, label, numeric in labels],
            "rows": rows, "figures": []}


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(height: float, layout: str = "tight") -> tuple[Any, Any]:
    """A figure of the object-oriented API (no pyplot state, no display backend); ``layout="constrained"`` for
    a legend outside the axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, height), layout=layout)
    return fig, fig.subplots()


def interval_figure(title: str, xlabel: str, bars: Sequence[tuple[str, Interval, str]],
                    legend: Mapping[str, str] | None = None, floor: float | None = None,
                    points: Sequence[Sequence[tuple[str, float]]] | None = None,
                    point_keys: Sequence[str] = ()) -> dict[str, str]:
    """IQM (tick) and 95% interval (bar) per ``(label, interval, colour)``, the first on top; ``legend`` maps
    the colours used to what they mean (drawn under the axis).

    ``points``: per bar, ``(key, value)`` markers drawn on its row (the aggregate's per-scenario IQMs), one
    marker shape per key of ``point_keys``, which the legend names.

    ``floor``: the axis starts there at the lowest, so one far-off policy cannot squash the others; what lies
    below is cut at the axis, and an IQM below it is drawn as a ``<`` at the edge with its value written.
    """
    below = legend or points
    fig, ax = _figure(0.35 * len(bars) + 1.2 + (0.3 if legend else 0.0) + (0.5 if points else 0.0),
                      layout="constrained" if below else "tight")
    values = [v for _, iv, _ in bars for v in (iv.low, iv.point) if math.isfinite(v)]
    values += [v for row in points or () for _, v in row if math.isfinite(v)]
    edge = floor if floor is not None and values and min(values) < floor else None
    for i, (_, iv, color) in enumerate(reversed(bars)):
        if math.isfinite(iv.low) and (edge is None or iv.high > edge):
            ax.plot([iv.low if edge is None else max(iv.low, edge), iv.high], [i, i], color=color, lw=6, alpha=0.6,
                    solid_capstyle="butt")
        if edge is not None and iv.point < edge:
            ax.plot([edge], [i], "<", color="black", ms=7)
            ax.annotate(f"{iv.point:.3g}", (edge, i), xytext=(7, 0), textcoords="offset points", va="center", fontsize=8)
        else:
            ax.plot([iv.point], [i], "|", color="black", ms=12)
    handles: list[Any] = []
    if points:
        from matplotlib.lines import Line2D

        shape = {key: "osD^vP*X"[k % 8] for k, key in enumerate(point_keys)}
        for i, row in enumerate(reversed(points)):
            for key, value in row:
                ax.plot([max(value, edge) if edge is not None else value], [i], shape[key], color="black",
                        mfc="none", ms=5, alpha=0.8)
        handles += [Line2D([], [], color="black", marker=shape[k], mfc="none", ls="none", label=k) for k in point_keys]
    if edge is not None:
        right = max(max(values), max(iv.high for _, iv, _ in bars if math.isfinite(iv.high)))
        ax.set_xlim(left=edge - 0.03 * (right - edge))  # room for the edge markers
    ax.set_yticks(range(len(bars)), [label for label, _, _ in reversed(bars)], fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=9)
    if legend:
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], color=colour, lw=6, alpha=0.6, label=label) for colour, label in legend.items()]
        handles.append(Line2D([], [], color="black", marker="|", ms=10, ls="none", label="IQM"))
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 3), fontsize=8, frameon=False)
    return {"title": "Interval estimates", "png": _png(fig)}


NORMALISED_FLOOR = -1.0
"""Interval charts of normalised scores start at -1 at the lowest (random sits at 0): a policy a whole span below
random is marked at the edge with its value, rather than stretching the axis for every other policy."""

KIND_COLOURS = {AGENT_KIND: ("tab:orange", "learning agents"), "full": ("tab:gray", "full-information baselines"),
                "local": ("tab:blue", "local baselines"), SUBMITTED_KIND: ("tab:green", "submitted policies")}
"""The interval charts' colour of each kind of policy (baselines by their information), and its legend text."""


def scenario_interval_figure(s: ScenarioResult) -> dict[str, str]:
    """Every policy's IQM and 95% interval on a scenario: normalised where it has a reference."""
    normalise = s.reference is not None
    bars = [(p.policy, p.normalised if normalise else p.score, _colour(p)) for p in s.policies]
    xlabel = f"normalised {s.primary_metric} (random 0, {s.reference} 1)" if normalise else s.primary_metric
    used = {colour for _, _, colour in bars}
    legend = {colour: label for colour, label in KIND_COLOURS.values() if colour in used}
    return interval_figure(f"{s.env_id}: IQM and 95% CI", xlabel, bars, legend, floor=NORMALISED_FLOOR if normalise else None)


def _colour(p: PolicyResult) -> str:
    """An interval bar's colour by the policy's kind and, for baselines, its information (:data:`KIND_COLOURS`)."""
    kind = p.kind if p.kind in KIND_COLOURS else ("full" if p.uses_global_state else "local")
    return KIND_COLOURS[kind][0]


def curve_figure(env_id: str, curves: LearningCurves) -> dict[str, str]:
    """Learning curves: IQM over runs of the tracked quantity per log window (:class:`LearningCurves`), with 95%
    bootstrap bands; the legend says whether each agent's curve is at its plateau
    (:func:`~semcom_envs.leaderboard.stats.plateau`)."""
    fig, ax = _figure(3.6)
    for agent, data in curves.runs.items():
        steps, values = data[0], data[1:]
        point, low, high = iqm_curve(values)
        ax.plot(steps, point, label=f"{agent} ({values.shape[0]} runs; {_plateau_status(values)} over the last fifth)")
        ax.fill_between(steps, low, high, alpha=0.25)
    ax.set_xscale("log")
    ax.set_xlabel("env steps per run")
    ax.set_ylabel(f"training {'team reward' if curves.metric == 'reward' else curves.metric} (window mean)")
    ax.set_title(f"{env_id}: learning curves, IQM over runs and 95% CI", fontsize=9)
    ax.legend(fontsize=8)
    return {"title": "Learning curves", "png": _png(fig)}


class LearningCurves(NamedTuple):
    """A scenario's learning curves: ``metric``, the quantity they track, and per agent an array
    ``(1 + runs, points)`` of the steps then each run's curve."""

    metric: str
    runs: dict[str, np.ndarray]


def learning_curves(rows: Sequence[Mapping[str, Any]]) -> dict[str, LearningCurves]:
    """Per scenario, its agents' learning curves (runs truncated to the shortest curve, so every point has every run).

    They track the scenario's primary metric where every stored point of the scenario has it (the training log's
    window mean of the ranked quantity: on SemCom-IoTAuction-v1 the bidders' utility, their reward, levels off while
    their regret still falls), else the training team reward (rows stored before the metric was).
    """
    out: dict[str, dict[str, list[list[dict[str, float]]]]] = {}
    primary: dict[str, str] = {}
    for r in rows:
        if r["curve"]:
            out.setdefault(r["env_id"], {}).setdefault(r["policy"], []).append(r["curve"])
            primary[r["env_id"]] = r["primary_metric"]
    result: dict[str, LearningCurves] = {}
    for env_id, agents in out.items():
        points = [pt for runs in agents.values() for c in runs for pt in c]
        metric = primary[env_id] if all(primary[env_id] in pt for pt in points) else "reward"
        arrays = {}
        for agent, runs in agents.items():
            n = min(len(c) for c in runs)
            steps = [pt["step"] for pt in runs[0][:n]]
            arrays[agent] = np.array([steps, *([pt[metric] for pt in c[:n]] for c in runs)])
        result[env_id] = LearningCurves(metric, arrays)
    return result


def figure_files(page: Mapping[str, Any]) -> dict[str, bytes]:
    """A report's figures as PNG files: ``{"<section id>-<figure title>.png": bytes}`` (lower case, dashes)."""
    out = {}
    for section in page["sections"]:
        for fig in section["figures"]:
            name = f"{section['id']}-{fig['title']}".lower().replace(" ", "-")
            out[f"{name}.png"] = base64.b64decode(fig["png"])
    return out


def write_csv(rows: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    """One line per stored run: keys, scalars and every metric's mean (raw values stay in the store)."""
    metrics = sorted({m for r in rows for m in r["metrics"]})
    fields = ["protocol", "version", "env_id", "policy", "seed", "kind", "uses_global_state", "primary_metric",
              "higher_is_better", "primary_value", "eval_seed", "episodes", "train_steps", "seconds_per_decision",
              "wall_clock_s", "train_wall_clock_s", "eval_wall_clock_s", "commit", "created_at"]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(fields + [f"metric:{m}" for m in metrics])
        for r in rows:
            writer.writerow([r[k] for k in fields] + [r["metrics"].get(m, "") for m in metrics])
    return path


def marl_eval(rows: Sequence[Mapping[str, Any]], environment: str = "semcom") -> dict[str, Any]:
    """The raw-data layout of marl-eval (InstaDeep) / rliable tooling:
    ``{environment: {task (env id): {algorithm (policy): {"run_<seed>": {...}}}}}``.

    Each run holds ``absolute_metrics`` (the per-episode values of every metric on the evaluation
    episodes, including ``return`` = the primary metric) and, for agents, one ``step_<k>`` entry per
    learning-curve point with its ``step_count`` and the window's mean training reward.
    """
    out: dict[str, Any] = {environment: {}}
    for r in rows:
        run: dict[str, Any] = {}
        for k, pt in enumerate(r["curve"]):
            run[f"step_{k}"] = {"step_count": int(pt["step"]), "train_reward": [pt["reward"]]}
        absolute = {m: list(v) for m, v in r["episode_values"].items()}
        absolute["return"] = list(r["episode_values"][r["primary_metric"]])
        run["absolute_metrics"] = absolute
        out[environment].setdefault(r["env_id"], {}).setdefault(r["policy"], {})[f"run_{r['seed']}"] = run
    return out
