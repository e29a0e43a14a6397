"""The ``semcom`` command: list scenarios, train agents, evaluate policies, reproduce figures, measure throughput,
run the benchmark leaderboard."""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def _parse_set(items: list[str]) -> dict[str, Any]:
    """``key=value`` pairs; values parsed as Python literals where possible (``3``, ``(80, 90)``), ``true`` and
    ``false`` (any case) as booleans, anything else as text."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set expects key=value, got {item!r}")
        if raw.lower() in ("true", "false"):
            out[key] = raw.lower() == "true"
            continue
        try:
            out[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            out[key] = raw
    return out


def _space(space: Any) -> str:
    """A one-line space: ``MultiDiscrete [7 20]``, ``Box (23,) float32``, ``Box (1,) in [-1, 1]``."""
    import numpy as np

    name = type(space).__name__
    if name == "MultiDiscrete":
        nvec = [int(n) for n in space.nvec]
        same = len(nvec) > 4 and len(set(nvec)) == 1
        return f"MultiDiscrete [{nvec[0]}] x {len(nvec)}" if same else f"MultiDiscrete {nvec}"
    if name == "Discrete":
        return f"Discrete {space.n}"
    if name == "Box":
        low, high = np.unique(space.low), np.unique(space.high)
        bounds = f" in [{low[0]:g}, {high[0]:g}]" if low.size == high.size == 1 else ""
        return f"Box {space.shape} {space.dtype}{bounds}"
    return str(space)


def _agent_names(agents: tuple[str, ...]) -> str:
    """``bs_0 .. bs_6 (7)``: the first and last name and the count."""
    return agents[0] if len(agents) == 1 else f"{agents[0]} .. {agents[-1]} ({len(agents)})"


def cmd_list(args: argparse.Namespace) -> int:
    import importlib.util

    from semcom_baselines import policies_for
    from semcom_envs.config import field_specs
    from semcom_envs.scenarios import SCENARIOS, config_reference

    if args.markdown:
        print(config_reference(), end="")
        return 0
    if args.env is not None and args.env not in SCENARIOS:
        raise ValueError(f"unknown environment id {args.env!r}: known ids are {', '.join(SCENARIOS)}")
    selected = {args.env: SCENARIOS[args.env]} if args.env else SCENARIOS
    learners = importlib.util.find_spec("torch") is not None
    if learners:
        from semcom_agents import AGENTS, supports
    console = Console(width=160)
    overview = Table(title="Scenarios (default config): agents, one agent's spaces, the policies that act in each",
                     show_lines=True)
    for column in ("id", "agents", "observation", "action", "baselines", "learning agents"):
        overview.add_column(column, overflow="fold")
    for env_id, cls in selected.items():
        scenario = cls()
        agent = scenario.agents[0]
        agents = ", ".join(a for a in AGENTS if supports(a, scenario)) if learners else "(the 'agents' extra: pip install -e '.[agents]')"
        overview.add_row(env_id, _agent_names(scenario.agents), _space(scenario.observation_space(agent)),
                         _space(scenario.action_space(agent)), ", ".join(policies_for(env_id)), agents)
    console.print(overview)
    for env_id, cls in selected.items():
        table = Table(title=f"{env_id}  (presets: {', '.join(cls.presets)})")
        for column in ("config field", "default", "allowed values"):
            table.add_column(column)
        specs = field_specs(cls.config_class)
        for field in dataclasses.fields(cls.config_class):
            table.add_row(field.name, repr(field.default), specs[field.name].describe().replace("`", ""))
        console.print(table)
    return 0


def _policy(name: str, scenario: Any) -> Any:
    """A registered baseline by name, or a trained agent from a policy file (a path): ``.pt`` files of
    ``semcom train``, or a stable-baselines3 PPO ``.zip`` trained on the joint view."""
    from semcom_baselines import POLICIES, make_policy

    if name in POLICIES:
        return make_policy(name, scenario)
    if name.endswith(".zip"):
        from semcom_agents.sb3_joint import load_ppo_policy

        return load_ppo_policy(name, scenario)  # "sb3_ppo"
    if name.endswith(".pt") or os.sep in name:
        from semcom_agents import load_policy

        return load_policy(name, scenario)  # named by its agent and seed ("dqn-seed0"), short in tables and legends
    return make_policy(name, scenario)  # raises, listing the known names


def cmd_eval(args: argparse.Namespace) -> int:
    from semcom_envs import evaluation
    from semcom_envs.registration import make_scenario

    scenario = make_scenario(args.env, **_parse_set(args.set))
    seeds = args.seeds if args.seeds else [args.seed]
    policies = [_policy(name, scenario) for name in args.policy]
    names = [p.name for p in policies]
    for given, policy in zip(args.policy, policies):  # a policy file is labelled by its agent and seed unless two clash
        if names.count(policy.name) > 1 and given != policy.name:
            policy.name = given
    comparison = evaluation.compare(scenario, policies, seeds, args.episodes, progress=not args.no_progress)
    meta = evaluation.provenance(scenario, seeds, args.episodes)
    paths = evaluation.save(comparison, meta, Path(args.out or f"results/eval/{args.env}"))
    console = Console(width=160)
    console.print(f"[bold]{args.env}[/bold]: {len(seeds)} seed(s) x {args.episodes} episodes, mean ± 95% CI over seeds")
    console.print(evaluation.markdown_table(comparison), markup=False)
    console.print("saved: " + ", ".join(str(p) for p in paths.values()))
    if "curve" not in paths:
        from semcom_envs.extras import missing_extra_message

        console.print("figures skipped: " + missing_extra_message("matplotlib", "semcom eval's figures"), markup=False)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    import torch

    from semcom_agents.training import pick_torch_threads, train

    threads, why = pick_torch_threads(args.threads)
    torch.set_num_threads(threads)
    Console(width=160, stderr=True).print(f"torch threads: {threads} ({why}); recorded in meta.json", markup=False)
    out = args.out or f"runs/{args.env}-{args.agent}-seed{args.seed}"
    meta = train(args.agent, args.env, args.steps, args.seed, out, runs=args.runs, env_kwargs=_parse_set(args.set),
                 hyperparameters=_parse_set(args.hp), log_every=args.log_every, checkpoint_every=args.checkpoint_every,
                 resume=args.resume, progress=not args.no_progress, tensorboard=not args.no_tensorboard)
    console = Console(width=160)
    console.print(f"trained {meta['steps_done']} env steps x {len(meta['seeds'])} run(s) in {meta['wall_clock_s']:.1f} s; "
                  f"policies: {', '.join(str(Path(out) / f'policy_seed{s}.pt') for s in meta['seeds'])}")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from semcom_reproductions.multicell import reproduce_multicell

    hyperparameters: dict[str, dict[str, Any]] = {}
    for item in args.hp:
        variant, sep, pair = item.partition(":")
        if not sep:
            raise SystemExit(f"--hp expects VARIANT:KEY=VALUE, got {item!r}")
        hyperparameters.setdefault(variant, {}).update(_parse_set([pair]))
    tables = reproduce_multicell(Path(args.out), steps=args.steps, seeds=args.seeds, cells=args.cells,
                                 presets=args.preset, variants=args.variant, hyperparameters=hyperparameters,
                                 eval_seeds=args.eval_seeds,
                                 episodes=args.episodes, train_only=args.train_only, progress=not args.no_progress)
    return _print_tables(tables)


def _print_tables(tables: dict[str, str]) -> int:
    """Print titled Markdown tables (the reproduction commands' summary)."""
    console = Console(width=220)
    for title, table in tables.items():
        console.print(f"[bold]{title}[/bold]")
        console.print(table, markup=False)
    return 0


def cmd_reproduce_offloading(args: argparse.Namespace) -> int:
    from semcom_reproductions.offloading import reproduce_offloading

    tables = reproduce_offloading(Path(args.out), ks=args.ks, learned_ks=args.learned_ks, access=args.access,
                                  seeds=args.seeds, mappo_steps=args.mappo_steps, ppo_steps=args.ppo_steps,
                                  mappo_hyperparameters=_parse_set(args.hp), ppo_hyperparameters=_parse_set(args.ppo_hp),
                                  eval_seeds=args.eval_seeds,
                                  episodes=args.episodes, num_devices=args.devices, progress=not args.no_progress)
    return _print_tables(tables)


def cmd_reproduce_iot_auction(args: argparse.Namespace) -> int:
    from semcom_reproductions.iot_auction import reproduce_iot_auction

    tables = reproduce_iot_auction(Path(args.out), ns=args.devices, valuations=args.valuation, eval_seeds=args.eval_seeds,
                                   episodes=args.episodes, myersonnet_iterations=args.myersonnet_iterations,
                                   myersonnet_profiles=args.myersonnet_profiles, myersonnet_restarts=args.myersonnet_restarts,
                                   checkpoint_dir=Path(args.checkpoint_dir) if args.checkpoint_dir else None,
                                   use_shipped=not args.no_shipped, bidder_mechanisms=args.bidder_mechanisms,
                                   bidder_devices=args.bidder_devices, bidder_valuation=args.bidder_valuation,
                                   seeds=args.seeds, mappo_steps=args.mappo_steps, mappo_hyperparameters=_parse_set(args.hp),
                                   progress=not args.no_progress)
    return _print_tables(tables)


def cmd_reproduce_cdrl(args: argparse.Namespace) -> int:
    from semcom_reproductions.cdrl import reproduce_cdrl

    tables = reproduce_cdrl(Path(args.out), seeds=args.seeds, mappo_steps=args.mappo_steps,
                            mappo_hyperparameters=_parse_set(args.hp), eval_seeds=args.eval_seeds, episodes=args.episodes,
                            env_kwargs=_parse_set(args.set), throughput_batches=args.throughput_batch,
                            throughput_seconds=args.throughput_seconds, progress=not args.no_progress)
    return _print_tables(tables)


def cmd_reproduce_task_oriented(args: argparse.Namespace) -> int:
    from semcom_reproductions.task_oriented import reproduce_task_oriented

    tables = reproduce_task_oriented(Path(args.out), eval_seeds=args.eval_seeds, episodes=args.episodes,
                                     weighted_seeds=args.weighted_seeds, weighted_episodes=args.weighted_episodes,
                                     compression_samples=args.compression_samples, seeds=args.seeds,
                                     mappo_steps=args.mappo_steps, mappo_hyperparameters=_parse_set(args.hp),
                                     progress=not args.no_progress)
    return _print_tables(tables)


def cmd_throughput(args: argparse.Namespace) -> int:
    from semcom_envs import throughput

    rows = throughput.run(args.env, args.batch, args.agents, args.seconds, with_anchors=not args.no_anchors)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    console = Console(width=160)
    table = Table(title=f"{args.env} throughput ({machine})")
    for col in ("measurement", "env-steps/s", "agent-steps/s", "vector env-steps/s", "us/step or value"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(r["what"], *(f"{r[k]:,.0f}" if k in r else "" for k in
                                   ("env_steps_per_s", "agent_steps_per_s", "vector_env_steps_per_s")),
                      f"{r.get('us_per_step', r.get('value', float('nan'))):,.1f}" if ("us_per_step" in r or "value" in r) else "")
    console.print(table)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine, "rows": rows}, indent=1))
    return 0


def cmd_train_auction(args: argparse.Namespace) -> int:
    """Train a MyersonNet (docs/myersonnet.md) and compare its test revenue with Myerson's and the second price.

    ``semantic`` trains on SemCom-IoTAuction-v0's own value profiles (``sample_valuations``); its
    references are Monte Carlo estimates on the network's held-out profiles: the second price, and
    Myerson on the ex-ante marginal distribution (the scenario's ``mechanism="myerson"``).
    """
    import torch

    from semcom_agents.myersonnet import MyersonNetConfig, reference_revenues, train

    if args.threads:
        torch.set_num_threads(args.threads)
    config = MyersonNetConfig(restarts=args.restarts)
    if args.valuation == "semantic":
        from semcom_envs import auctions
        from semcom_envs.scenarios.iot_auction import IoTAuction

        scenario = IoTAuction(num_devices=args.bidders, mechanism="myerson")
        net = train(scenario.sample_valuations, args.bidders, args.iterations, args.seed, config, valuation="semantic")
        test = scenario.sample_valuations(config.test_profiles, 2**41 + args.seed)
        ref = {"myerson": float(scenario.mechanism(test)[1].mean()), "second_price": float(auctions.second_price(test)[1].mean())}
        net.metadata["test_revenue"] = float(net(test)[1].mean())
    else:
        net = train(args.valuation, args.bidders, args.iterations, args.seed, config)
        ref = reference_revenues(args.valuation, args.bidders)
    path = net.save(args.out)
    meta = net.metadata
    console = Console(width=160)
    console.print(f"{args.valuation}, n = {args.bidders}: {args.iterations} iterations x {args.restarts} restart(s) in "
                  f"{meta['train_wall_clock_s']:.1f} s; test revenue {meta['test_revenue']:.5f} on "
                  f"{meta['config']['test_profiles']} profiles ({meta['test_revenue'] / ref['myerson']:.2%} of Myerson's "
                  f"{ref['myerson']:.5f}; second price {ref['second_price']:.5f}); saved {path}")
    return 0


def _add_mappo_arguments(p: argparse.ArgumentParser, steps: int, base: str, seeds_help: str = "", steps_unit: str = "") -> None:
    """The MAPPO training options shared by the reproduction commands."""
    p.add_argument("--seeds", type=int, default=3, help=f"MAPPO training seeds 0 .. seeds-1{seeds_help}")
    p.add_argument("--mappo-steps", type=int, default=steps, help=f"environment steps{steps_unit} per MAPPO run")
    p.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE",
                   help=f"MAPPO hyperparameter on top of {base} (repeatable)")


class _Parser(argparse.ArgumentParser):
    """Every ``semcom`` (sub)command's parser: its help shows each option's default, where it has one (not
    ``None``, ``False`` or empty) and the help text does not already say it."""

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        empty = action.default is None or action.default is False or action.default == [] or action.default is argparse.SUPPRESS
        shown = not empty and action.help is not argparse.SUPPRESS
        if action.option_strings and shown and "default" not in (action.help or ""):
            action.help = f"{action.help} (default: %(default)s)" if action.help else "default: %(default)s"
        return action


def build_parser() -> argparse.ArgumentParser:
    from semcom_envs import __version__

    parser = _Parser(prog="semcom", description=__doc__)
    parser.add_argument("--version", action="version", version=f"semcom-envs {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="scenario ids, agents, spaces, the policies that act in each, and their config fields")
    p.add_argument("env", nargs="?", help="one environment id (default: every scenario)")
    p.add_argument("--markdown", action="store_true", help="print docs/configuration.md (the configuration reference)")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("eval", help="compare policies over seeds; prints a table, saves JSON, Markdown and figures")
    p.add_argument("env", help="environment id, e.g. SemCom-MultiCell-v0")
    p.add_argument("--policy", action="append", required=True, help="policy name (repeatable)")
    p.add_argument("--episodes", type=int, default=16)
    p.add_argument("--seed", type=int, default=0, help="evaluation seed (episode i: env seed seed * 2**32 + i)")
    p.add_argument("--seeds", type=int, nargs="+", help="several evaluation seeds (overrides --seed)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config field (repeatable)")
    p.add_argument("--out", help="output folder (default: results/eval/ENV, one per scenario)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("train", help="train a learning agent: progress bar, CSV curve, TensorBoard, checkpoints, resume")
    p.add_argument("env", help="environment id, e.g. SemCom-MultiCell-v0")
    p.add_argument("--agent", required=True, choices=("dqn", "drqn", "mappo"),
                   help="dqn/drqn: the multi-cell source's Q-learners; mappo: multi-agent PPO, centralised critic")
    p.add_argument("--steps", type=int, default=100_000, help="environment steps per run: num_envs x slots (num_envs copies per "
                   "run: dqn/drqn default 1, mappo 32; --hp num_envs=N)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--runs", type=int, default=1, help="train seeds seed .. seed+runs-1 together in one batched process")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="env config field (repeatable)")
    p.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE", help="hyperparameter (repeatable)")
    p.add_argument("--out", help="output folder (default runs/ENV-AGENT-seedS)")
    p.add_argument("--log-every", type=int, default=1000, help="environment steps per curve row")
    p.add_argument("--checkpoint-every", type=int, default=10_000, help="environment steps between checkpoints")
    p.add_argument("--resume", action="store_true", help="continue the checkpoint in --out")
    p.add_argument("--threads", type=int, help="torch threads (default: OMP_NUM_THREADS if set, else the idle cores: "
                   "available cores less the 1-minute load average, at least 1)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--no-tensorboard", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("reproduce-multicell", help="the multi-cell source's Figs. 4-5: agents vs baselines over training slots")
    p.add_argument("--out", default="results/reproduce-multicell")
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--seeds", type=int, default=3, help="training seeds 0 .. seeds-1")
    p.add_argument("--cells", type=int, nargs="+", default=[3, 7])
    p.add_argument("--preset", nargs="+", default=["paper"])
    p.add_argument("--variant", nargs="+", help="subset of the learned variants (default: all)")
    p.add_argument("--hp", action="append", default=[], metavar="VARIANT:KEY=VALUE",
                   help="hyperparameter of one variant, e.g. drqn:train_frequency=4 (repeatable)")
    p.add_argument("--eval-seeds", type=int, nargs="+", default=[1000, 1001, 1002])
    p.add_argument("--episodes", type=int, default=16, help="evaluation episodes per evaluation seed")
    p.add_argument("--train-only", action="store_true", help="train (or resume) without the evaluation and figures")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_reproduce)

    p = sub.add_parser("reproduce-offloading", help="the offloading source's Fig. 6: energy per task vs k, MAPPO and baselines")
    p.add_argument("--out", default="results/reproduce-offloading")
    p.add_argument("--ks", type=int, nargs="+", default=list(range(1, 21)), help="encoder output dimensions (baselines)")
    p.add_argument("--learned-ks", type=int, nargs="+", default=[1, 2, 4, 8, 12, 16, 20],
                   help="the k values at which MAPPO and SB3 PPO are trained (a subset of --ks)")
    p.add_argument("--access", nargs="+", default=["ofdma"], choices=("ofdma", "shared"))
    p.add_argument("--seeds", type=int, default=3, help="training seeds 0 .. seeds-1")
    p.add_argument("--mappo-steps", type=int, default=200_000, help="environment steps per MAPPO run")
    p.add_argument("--ppo-steps", type=int, default=100_000, help="joint environment steps per SB3 PPO run")
    p.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE",
                   help="MAPPO hyperparameter on top of the source's settings (repeatable)")
    p.add_argument("--ppo-hp", action="append", default=[], metavar="KEY=VALUE",
                   help="stable-baselines3 PPO argument on top of the source's settings (repeatable)")
    p.add_argument("--eval-seeds", type=int, nargs="+", default=[1000, 1001, 1002, 1003, 1004])
    p.add_argument("--episodes", type=int, default=8, help="evaluation episodes per evaluation seed")
    p.add_argument("--devices", type=int, default=4, help="number of devices N")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_reproduce_offloading)

    p = sub.add_parser("reproduce-task-oriented",
                       help="the task-oriented source: success vs o, B_max, P_max, U (CRRA, FCR, FRA, MSR, equal), "
                            "CRRAUS's weighted success and MAPPO")
    p.add_argument("--out", default="results/reproduce-task-oriented")
    p.add_argument("--eval-seeds", type=int, nargs="+", default=[1000, 1001, 1002])
    p.add_argument("--episodes", type=int, default=16, help="one-slot episodes (fresh user draws) per evaluation seed")
    p.add_argument("--weighted-seeds", type=int, default=3, help="the first evaluation seeds used for the crraus experiment")
    p.add_argument("--weighted-episodes", type=int, default=8, help="episodes per seed of the crraus experiment (slow solver)")
    p.add_argument("--compression-samples", type=int, default=2000, help="user sets per seed of the compression sweep")
    _add_mappo_arguments(p, 200_000, "the experiment's", seeds_help=" (0: no MAPPO)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_reproduce_task_oriented)

    p = sub.add_parser("reproduce-iot-auction",
                       help="the IoT-auction source's revenue vs N (second price, Myerson, MyersonNet) and MAPPO bidders' bids")
    p.add_argument("--out", default="results/reproduce-iot-auction")
    p.add_argument("--devices", type=int, nargs="+", default=list(range(2, 11)), help="numbers of devices N of the revenue sweep")
    p.add_argument("--valuation", nargs="+", default=["semantic", "uniform"], choices=("semantic", "uniform", "exponential"))
    p.add_argument("--eval-seeds", type=int, nargs="+", default=[1000, 1001, 1002, 1003, 1004])
    p.add_argument("--episodes", type=int, default=8, help="evaluation episodes per evaluation seed")
    p.add_argument("--myersonnet-iterations", type=int, default=20_000, help="Adam steps per MyersonNet")
    p.add_argument("--myersonnet-profiles", type=int, default=2**16, help="value profiles in MyersonNet's training pool")
    p.add_argument("--myersonnet-restarts", type=int, default=3,
                   help="initialisations per MyersonNet trained here; the best on validation profiles is kept")
    p.add_argument("--checkpoint-dir", help="where MyersonNet checkpoints are reused or saved (default OUT/myersonnet; "
                   "semcom_envs/data/myersonnet ships them)")
    p.add_argument("--no-shipped", action="store_true", help="train MyersonNets even where the package ships one")
    p.add_argument("--bidder-mechanisms", nargs="*", default=["second_price", "first_price", "neural"],
                   choices=("second_price", "first_price", "myerson", "neural"), help="mechanisms MAPPO bidders learn under")
    p.add_argument("--bidder-devices", type=int, default=3, help="N of the learned-bidder experiment")
    p.add_argument("--bidder-valuation", default="uniform", choices=("semantic", "uniform", "exponential"))
    _add_mappo_arguments(p, 100_000, "the bidder settings")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_reproduce_iot_auction)

    p = sub.add_parser("reproduce-cdrl",
                       help="the collaborative-DRL source selection: final return of the baselines and MAPPO at equal bandwidth")
    p.add_argument("--out", default="results/reproduce-cdrl")
    _add_mappo_arguments(p, 100_000, "the CDRL settings", steps_unit=" (rounds)")
    p.add_argument("--eval-seeds", type=int, nargs="+", default=[1000, 1001, 1002, 1003, 1004])
    p.add_argument("--episodes", type=int, default=16, help="evaluation episodes per evaluation seed")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="env config field (repeatable)")
    p.add_argument("--throughput-batch", type=int, nargs="+", default=[1, 256], help="batch sizes of the throughput table")
    p.add_argument("--throughput-seconds", type=float, default=2.0, help="minimum timing window per batch size")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_reproduce_cdrl)

    p = sub.add_parser("throughput", help="environment steps per second (a benchmark, never a test)")
    p.add_argument("env", nargs="?", default="SemCom-MultiCell-v0")
    p.add_argument("--batch", type=int, nargs="+", default=[1, 64, 1024, 4096])
    p.add_argument("--agents", "--cells", dest="agents", type=int, nargs="+", default=[3, 7],
                   help="numbers of agents (the scenario's num_cells / num_devices)")
    p.add_argument("--seconds", type=float, default=1.0, help="minimum timing window per measurement")
    p.add_argument("--no-anchors", action="store_true", help="skip the other packages' reference numbers")
    p.add_argument("--json", help="also write the rows to this JSON file")
    p.set_defaults(func=cmd_throughput)

    p = sub.add_parser("train-auction", help="train a MyersonNet auction (IoT auction's neural mechanism) and report its revenue")
    p.add_argument("--valuation", default="uniform", choices=("uniform", "exponential", "asymmetric_uniform", "semantic"),
                   help="semantic: SemCom-IoTAuction-v0's default value profiles")
    p.add_argument("--bidders", type=int, default=3)
    p.add_argument("--restarts", type=int, default=1, help="initialisations; the best on held-out validation profiles is kept")
    p.add_argument("--iterations", type=int, default=20_000, help="Adam steps of 64 profiles")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="checkpoint path (.npz)")
    p.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    p.set_defaults(func=cmd_train_auction)

    from semcom_envs.leaderboard.cli import add_parser as add_leaderboard_parser

    add_leaderboard_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
        sys.stdout.flush()  # here, not at exit: a reader that left (below) surfaces inside the try
        return code
    except ValueError as err:
        print(f"semcom: error: {err}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:  # an optional part of the install: name the extra, not a traceback
        from semcom_envs.extras import EXTRA_OF, MissingExtraError, missing_extra_message

        top = (err.name or "").split(".")[0]
        if not isinstance(err, MissingExtraError) and top not in EXTRA_OF:
            raise
        message = str(err) if isinstance(err, MissingExtraError) else missing_extra_message(top, f"semcom {args.command}")
        print(f"semcom: error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader left (`semcom ... | head`): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's flush at exit would raise again on the closed pipe
        return 141  # 128 + SIGPIPE, the status a shell reports for a tool killed by it


if __name__ == "__main__":
    sys.exit(main())
