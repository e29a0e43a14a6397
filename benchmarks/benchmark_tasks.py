"""The benchmark tasks' measurements (docs/benchmark-tasks.md): a benchmark, never a test.

Reads the default protocol's rows of a leaderboard store (``make leaderboard`` writes
docs/leaderboard/leaderboard.db: 5 seeds x 16 evaluation episodes, agents trained on the protocol's
2-core budgets) and writes, per benchmark task, what separates information from learning: the best
local baseline's normalised score (random 0, best full-information reference 1), the delayed- and
full-information references, and every learning agent with its probability of improving on the
best local baseline. For SemCom-MultiCell-v1 it also measures the source's ordering (DRQN, DQN,
DQN without energy term, greedy, random): the "w/o EC" DQN (trained on reward ``qoe``, the
protocol's DQN budget and seeds) is trained here and evaluated on the protocol's episodes, on the
semantic EE like every other policy.

Usage::

    .venv/bin/python benchmarks/benchmark_tasks.py [--store docs/leaderboard/leaderboard.db] [--task ENV_ID ...]

The summary replaces the block between ``<!-- tables:split -->`` and ``<!-- /tables:split -->`` of
docs/benchmark-tasks.md, each task's table the block ``<!-- tables:<env id> -->``; ``--task`` selects
the tasks to regenerate (MultiCell's includes training the DQN without energy term).
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from semcom_envs.config import check_int
from semcom_envs.leaderboard.protocol import DEFAULT, MULTICELL, Protocol
from semcom_envs.leaderboard.report import results_versions
from semcom_envs.leaderboard.stats import ScenarioResult, iqm_interval, normalised, poi_interval, summarise_scenario
from semcom_envs.leaderboard.store import Store

DOC = Path("docs/benchmark-tasks.md")
ORDERING = ("drqn", "dqn", "dqn_wo_ec", "greedy", "random")
"""The source's ordering on SemCom-MultiCell (its Figs. 4-5): DRQN >= DQN > DQN w/o EC > greedy > random."""


def _information(result: ScenarioResult, policy: str) -> str:
    row = next(p for p in result.policies if p.policy == policy)
    if row.kind == "agent":
        return "learning agent (local)"
    if not row.uses_global_state:
        return "local"
    return "full, one slot late" if policy.endswith("_delayed") else "full"


def task_table(result: ScenarioResult) -> str:
    """Every policy of one task: information, score, normalised score and P(improvement) on the best local baseline."""
    direction = "higher" if result.higher_is_better else "lower"
    lines = [f"Primary metric `{result.primary_metric}` ({direction} is better), the objective the agents pursue and the "
             f"per-slot references optimise; normalised: random 0, `{result.reference}` (best full-information reference) 1; "
             f"P(improvement) against `{result.best_classical}`, the best local baseline.", "",
             f"| policy | information | {result.primary_metric} IQM [95% CI] | normalised IQM [95% CI] | "
             f"P(better than {result.best_classical}) [95% CI] | train steps | wall-clock s / run |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for p in result.policies:
        lines.append(f"| {p.policy} | {_information(result, p.policy)} | {p.score.text()} | {p.normalised.text()} | "
                     f"{p.improvement.text() if p.policy != result.best_classical else '(anchor)'} | "
                     f"{f'{p.train_steps:,}' if p.train_steps else '—'} | {p.wall_clock_s:.3g} |")
    return "\n".join(lines)


def split_table(results: Sequence[ScenarioResult]) -> str:
    """Per task: the best local baseline, the delayed and full references and the best agent, normalised."""
    lines = ["| task | best local baseline | delayed-information references | full-information references | best agent: "
             "normalised, P(better than best local) |", "| --- | --- | --- | --- | --- |"]
    for r in results:
        by = {p.policy: p for p in r.policies}
        local = by[r.best_classical]
        delayed = [p for p in r.policies if p.uses_global_state and p.policy.endswith("_delayed")]
        full = [p for p in r.policies if p.uses_global_state and p.kind == "baseline" and not p.policy.endswith("_delayed")
                and np.isfinite(p.normalised.point) and p.normalised.point >= 0.5]
        agents = [p for p in r.policies if p.kind == "agent"]
        best_agent = agents[0] if agents else None  # policies are sorted best first
        lines.append(
            f"| {r.env_id} | {local.policy} {local.normalised.text()} | "
            + ", ".join(f"{p.policy} {p.normalised.text()}" for p in delayed) + " | "
            + ", ".join(f"{p.policy} {p.normalised.text()}" for p in full) + " | "
            + (f"{best_agent.policy} {best_agent.normalised.text()}, {best_agent.improvement.text()}" if best_agent else "—")
            + " |")
    return "\n".join(lines)


def _train_and_score_wo_ec(protocol: Protocol, work: Path, seed: int) -> float:
    """One seed of the DQN without energy term: trained on reward ``qoe``, scored by the semantic EE."""
    import torch

    from semcom_agents import load_policy
    from semcom_agents.training import policy_path, train
    from semcom_envs.evaluation import evaluate
    from semcom_envs.registration import make_scenario

    torch.set_num_threads(1)  # one process per core: never oversubscribe the cores the seeds share
    bench = protocol.benchmark(MULTICELL)
    judge = make_scenario(MULTICELL, **bench.env_kwargs)  # reward "ee": the metric every policy is ranked by
    out = work / f"dqn_wo_ec-seed{seed}"
    train("dqn", MULTICELL, bench.train_steps["dqn"], seed, out, env_kwargs={**bench.env_kwargs, "reward": "qoe"},
          hyperparameters=dict(bench.hyperparameters.get("dqn", {})), resume=True, progress=False, tensorboard=False)
    policy = load_policy(policy_path(out, seed), judge, name="dqn_wo_ec")
    return float(evaluate(judge, policy, bench.episodes, protocol.eval_seed_base + seed).mean(judge.primary_metric))


def train_dqn_without_energy_term(protocol: Protocol, work: Path, workers: int = 1) -> dict[int, float]:
    """The source's "DQN w/o EC" on the MultiCell task: DQN trained on reward ``qoe`` with the protocol's DQN budget,
    hyperparameters and seeds (``workers`` seeds at a time, one process and one torch thread each; resumable from
    ``work``), evaluated on the protocol's episodes by the semantic EE: ``{seed: mean EE}``."""
    check_int("workers", workers, low=1)
    if workers == 1:
        return {seed: _train_and_score_wo_ec(protocol, work, seed) for seed in protocol.seeds}
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {seed: pool.submit(_train_and_score_wo_ec, protocol, work, seed) for seed in protocol.seeds}
        return {seed: future.result() for seed, future in futures.items()}


def ordering_table(result: ScenarioResult, wo_ec: Mapping[int, float]) -> str:
    """The source's ordering measured on the task: IQM and normalised IQM of DRQN, DQN, DQN w/o EC, greedy, random."""
    by = {p.policy: p for p in result.policies}
    scores = {name: by[name].scores for name in ORDERING if name in by} | {"dqn_wo_ec": dict(wo_ec)}
    anchor, reference = scores["random"], by[result.reference].scores
    lines = ["| policy (the source's order) | ee IQM [95% CI] | normalised IQM [95% CI] | P(better than the next) [95% CI] |",
             "| --- | --- | --- | --- |"]
    names = [n for n in ORDERING if n in scores]
    for i, name in enumerate(names):
        values = [scores[name][s] for s in sorted(scores[name])]
        runs = normalised(scores[name], anchor, reference)
        after = (poi_interval(values, [scores[names[i + 1]][s] for s in sorted(scores[names[i + 1]])]).text()
                 if i + 1 < len(names) else "—")
        lines.append(f"| {name} | {iqm_interval([values]).text()} | {iqm_interval([runs]).text()} | {after} |")
    return "\n".join(lines)


def blocks(store: Path, work: Path, tasks: Sequence[str], protocol: Protocol = DEFAULT,
           workers: int = 1) -> dict[str, str]:
    """The generated blocks of docs/benchmark-tasks.md: ``split`` (every task) and one per task in ``tasks``."""
    rows = protocol.stored_rows(Store(store))
    results = {}
    for env_id in protocol.env_ids:
        task_rows = [r for r in rows if r["env_id"] == env_id]
        if not task_rows:
            raise SystemExit(f"{store} holds no rows of {env_id} for protocol {protocol.name} v{protocol.version}: run "
                             "`make leaderboard` first")
        results[env_id] = summarise_scenario(task_rows)
    versions = ", ".join(f"{b.env_id} {results_versions(dataclasses.asdict(b), protocol.version)}" for b in protocol.benchmarks)
    out = {"split": "\n".join([
        f"Measured by `benchmarks/benchmark_tasks.py` from the leaderboard store (protocol `{protocol.name}` "
        f"v{protocol.version}, runs of {versions}: seeds {list(protocol.seeds)}, "
        f"{protocol.benchmarks[0].episodes} evaluation episodes per run).", "", split_table(list(results.values())), ""])}
    for env_id in tasks:
        parts = [task_table(results[env_id]), ""]
        if env_id == MULTICELL:
            parts += ["#### The source's ordering on SemCom-MultiCell-v1", "",
                      ordering_table(results[env_id], train_dqn_without_energy_term(protocol, work, workers)), ""]
        out[env_id] = "\n".join(parts)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=Path("docs/leaderboard/leaderboard.db"))
    parser.add_argument("--work", type=Path, default=Path("results/benchmark-tasks"))
    parser.add_argument("--task", action="append", choices=DEFAULT.env_ids, default=[],
                        help="regenerate this task's table (repeatable; default: every task). The summary table is "
                             "always regenerated; MultiCell's trains the DQN without energy term: 5 runs of about 13 min)")
    parser.add_argument("--workers", type=int, default=1, help="seeds of the DQN without energy term trained at once "
                        "(one process and one torch thread each; at most the free cores)")
    args = parser.parse_args()
    text = DOC.read_text()
    for name, block in blocks(args.store, args.work, args.task or DEFAULT.env_ids, workers=args.workers).items():
        text, count = re.subn(rf"<!-- tables:{re.escape(name)} -->.*?<!-- /tables:{re.escape(name)} -->",
                              lambda _, b=block, n=name: f"<!-- tables:{n} -->\n{b}\n<!-- /tables:{n} -->", text, flags=re.S)
        if count != 1:
            raise SystemExit(f"{DOC} needs one <!-- tables:{name} --> ... <!-- /tables:{name} --> block")
        print(block)
    DOC.write_text(text)


if __name__ == "__main__":
    main()
