"""``semcom leaderboard run|show|export|html|protocol``: the benchmark from the command line."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

DEFAULT_STORE = "results/leaderboard/leaderboard.db"
PUBLISHED_STORE = "docs/leaderboard/leaderboard.db"
"""The default protocol's committed results (`make leaderboard`), relative to a clone's root."""


def _protocol_and_rows(args: argparse.Namespace) -> tuple[dict, list[dict]]:
    from semcom_envs.leaderboard.protocol import load_protocol
    from semcom_envs.leaderboard.store import Store

    hint = f"run `semcom leaderboard run --protocol {args.protocol}` first"
    if args.protocol == "default" and Path(args.store) != Path(PUBLISHED_STORE):
        hint += f", or read the published results (in a clone of the repository): --store {PUBLISHED_STORE}"
    if not Path(args.store).exists():  # reading never creates a store
        raise ValueError(f"{args.store}: no such store; {hint}")
    store = Store(args.store)
    protocol = load_protocol(args.protocol)
    rows = protocol.stored_rows(store)
    if not rows:
        stored = ", ".join(f"{n} v{v}" for n, v in store.protocols()) or "none"
        raise ValueError(f"{args.store} holds no results of protocol {protocol.name} v{protocol.version} "
                         f"(stored: {stored}); {hint}")
    return protocol.to_dict(), rows


def cmd_run(args: argparse.Namespace) -> int:
    from semcom_envs.leaderboard.protocol import load_protocol
    from semcom_envs.leaderboard.run import run
    from semcom_envs.leaderboard.store import Store
    from semcom_envs.leaderboard.submission import Submission

    protocol = load_protocol(args.protocol)
    submissions = [Submission.parse(text) for text in args.submit]
    store = Store(args.store)
    work_dir = args.work_dir or str(Path(args.store).parent / "runs")
    start = time.perf_counter()
    summary = run(protocol, store, work_dir, env_ids=args.env or None, policies=args.policy or None, backend=args.backend,
                  workers=args.workers, address=args.address, progress=not args.no_progress, submissions=submissions)
    print(f"protocol {protocol.name} v{protocol.version}: {summary.stored} results stored, {summary.already_stored} already "
          f"stored, of {summary.total}; {time.perf_counter() - start:.1f} s wall-clock; store {args.store}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from semcom_envs.leaderboard import report

    protocol, rows = _protocol_and_rows(args)
    print(report.markdown_report(report.report(rows, protocol, figures=False)))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from semcom_envs.leaderboard import report

    protocol, rows = _protocol_and_rows(args)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.format == "csv":
        report.write_csv(rows, out)
    elif args.format == "marl-eval":
        out.write_text(json.dumps(report.marl_eval(rows)))
    else:
        out.write_text(report.markdown_report(report.report(rows, protocol, figures=False)))
    print(f"wrote {out} ({len(rows)} runs)")
    return 0


def cmd_html(args: argparse.Namespace) -> int:
    from semcom_envs.leaderboard import report
    from semcom_envs.leaderboard.html import write_page

    protocol, rows = _protocol_and_rows(args)
    page = report.report(rows, protocol)
    path = write_page(page, args.out)
    print(f"wrote {path} ({len(rows)} runs); open it in a browser")
    if args.figures_dir:
        for name, png in report.figure_files(page).items():
            (Path(args.figures_dir) / name).parent.mkdir(parents=True, exist_ok=True)
            (Path(args.figures_dir) / name).write_bytes(png)
        print(f"wrote the figures to {args.figures_dir}")
    return 0


def cmd_protocol(args: argparse.Namespace) -> int:
    from semcom_envs.leaderboard.protocol import load_protocol

    print(json.dumps(load_protocol(args.protocol).to_dict(), indent=1))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``semcom leaderboard ...`` on the top-level subparsers."""
    lb = sub.add_parser("leaderboard", help="the benchmark: run a protocol, show tables, export, write the HTML page")
    cmds = lb.add_subparsers(dest="leaderboard_command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--protocol", default="default", help="a shipped protocol (default, demo) or a protocol JSON file")
        p.add_argument("--store", default=DEFAULT_STORE, help="SQLite result store (`run` creates it if missing; the others only read)")

    p = cmds.add_parser("run", help="run every job of the protocol the store lacks (resumable: rerun after an interruption)")
    common(p)
    p.add_argument("--work-dir", help="training checkpoints (default: runs/ beside the store)")
    p.add_argument("--env", action="append", default=[], help="only this scenario (repeatable)")
    p.add_argument("--policy", action="append", default=[], help="only this policy (repeatable)")
    p.add_argument("--backend", default="local", choices=("local", "ray"), help="local processes or a Ray cluster")
    p.add_argument("--workers", type=int, default=1, help="parallel jobs (local processes, or the CPUs of a local Ray instance)")
    p.add_argument("--address", help="Ray cluster address (auto, host:port, ray://host:port); default: a local instance")
    p.add_argument("--submit", action="append", default=[], metavar="NAME=SPEC",
                   help="run your own policy (repeatable): SPEC is FILE.py:FACTORY or MODULE:FACTORY (factory(scenario) "
                        "returns a batched policy), a .pt file of `semcom train` or an SB3 PPO .zip; only the submitted "
                        "policies run (plus any --policy); docs/leaderboard.md")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_run)

    p = cmds.add_parser("show", help="Markdown tables of the stored results, one per scenario")
    common(p)
    p.set_defaults(func=cmd_show)

    p = cmds.add_parser("export", help="CSV (one line per run), marl-eval JSON (raw per-episode values) or Markdown")
    common(p)
    p.add_argument("--format", required=True, choices=("csv", "marl-eval", "markdown"))
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_export)

    p = cmds.add_parser("html", help="a self-contained sortable HTML page with the tables and figures")
    common(p)
    p.add_argument("--out", default="results/leaderboard/leaderboard.html")
    p.add_argument("--figures-dir", help="also save every figure there as a PNG file (<scenario>-<figure>.png)")
    p.set_defaults(func=cmd_html)

    p = cmds.add_parser("protocol", help="print a protocol as JSON (edit it and pass the file as --protocol)")
    p.add_argument("--protocol", default="default")
    p.set_defaults(func=cmd_protocol)
