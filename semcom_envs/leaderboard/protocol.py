"""The benchmark protocol: which policies run on which scenario configuration, for how long, how they are scored.

A :class:`Protocol` is named and versioned; its results are stored under ``(name, version)`` so a
changed protocol never mixes with results of an earlier one (bump ``version`` whenever a number in
it changes). Per scenario a :class:`Benchmark` fixes the environment config, the training budget of
every learning agent (env steps per run), its hyperparameters and the evaluation episodes.

A version bump that leaves a benchmark unchanged need not rerun it: the benchmark names the version
whose results it shares (:attr:`Benchmark.results_version`), its jobs keep that version's key, and
:meth:`Protocol.stored_rows` checks every shared row against the benchmark's definition (scenario
config, episodes, training budget, hyperparameters), so a benchmark that did change cannot borrow the
old rows silently. A bump that changes only some agents' budgets or hyperparameters names them in
:attr:`Benchmark.rerun`: they run afresh under the protocol's own version, the rest stay shared (every
row is scored against the same evaluation episodes, so old and new rows compare exactly). Rows are
never copied: each keeps the commit and date it was produced with.

Runs and seeds. Every policy runs once per protocol seed ``s``:

- a baseline is evaluated directly (``policy.reset`` receives the evaluation seed, so a stochastic
  baseline such as ``random`` draws differently per run);
- a learning agent is trained with seed ``s`` for its budget, and the **last checkpoint** is
  evaluated with **deterministic actions** (greedy Q-values; the MAPPO mode).

Run ``s`` of every policy is evaluated on the same fixed episodes, those of evaluation seed
``eval_seed_base + s`` (:func:`semcom_envs.evaluation.evaluate`: ``episodes`` episodes, episode ``i``
reset with seed ``(eval_seed_base + s) * 2**32 + i``). No training run ever resets an environment with
those seeds, and every policy meets the same users, channels and requests in run ``s`` (common random
numbers), which makes per-run normalisation and paired comparison meaningful.

The score of a run is the mean of the scenario's primary metric (:attr:`BatchedScenario.primary_metric`,
direction :attr:`BatchedScenario.higher_is_better`) over those episodes and their slots.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from semcom_envs.config import ConfigError, check_int

if TYPE_CHECKING:
    from semcom_envs.api.core import BatchedScenario
    from semcom_envs.leaderboard.store import Store
    from semcom_envs.leaderboard.submission import Submission

AGENT_KIND, BASELINE_KIND, SUBMITTED_KIND = "agent", "baseline", "submitted"
"""Row kinds: a registered baseline, a learning agent trained by the protocol, a user's submitted policy."""


@dataclasses.dataclass(frozen=True)
class Benchmark:
    """One scenario's part of a protocol."""

    env_id: str
    env_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Environment config (the scenario's config fields, as ``gym.make`` keywords)."""
    train_steps: Mapping[str, int] = dataclasses.field(default_factory=dict)
    """Training budget per learning agent, in env steps per run; agents not listed are not run."""
    hyperparameters: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    """Per-agent hyperparameter overrides (``semcom train --hp``)."""
    episodes: int = 16
    """Evaluation episodes per run."""
    baselines: tuple[str, ...] | None = None
    """Baselines to evaluate; ``None``: every baseline registered for the scenario but those in ``left_out``."""
    results_version: int | None = None
    """The protocol version whose stored results this benchmark shares (``None``: the protocol's own); set
    when a version bump leaves this benchmark exactly as it was in that version."""
    rerun: tuple[str, ...] = ()
    """Policies that run afresh under the protocol's own version although the benchmark shares
    ``results_version``'s results for every other policy: the agents whose budget or hyperparameters the
    bump changed, the baselines whose rule it changed."""
    shared_agents: Mapping[str, int] = dataclasses.field(default_factory=dict)
    """Learning agents whose stored results come from another version than ``results_version``: the version that
    last reran them (v5 shares v4's DQN runs and v2's other runs on MultiCell; v11 shares v10's MAPPO and v9's other
    runs on TaskOriented), agent -> version."""
    left_out: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Policies that could act in the scenario but are not run, each with the reason (listed in the page's protocol
    section): policy -> why."""

    def __post_init__(self) -> None:
        from semcom_envs.scenarios import SCENARIOS

        if self.env_id not in SCENARIOS:
            raise ConfigError(f"benchmark env_id {self.env_id!r} is not a scenario: known ids are {', '.join(SCENARIOS)}")
        check_int("episodes", self.episodes, low=1)
        for agent, steps in self.train_steps.items():
            check_int(f"train_steps[{agent!r}]", steps, low=1)
        unknown = set(self.hyperparameters) - set(self.train_steps)
        if unknown:
            raise ConfigError(f"{self.env_id}: hyperparameters given for agents without a training budget: {sorted(unknown)}")
        if self.baselines is not None:
            object.__setattr__(self, "baselines", tuple(self.baselines))
        if self.results_version is not None:
            check_int("results_version", self.results_version, low=1)
        object.__setattr__(self, "rerun", tuple(self.rerun))
        if self.rerun and self.results_version is None:
            raise ConfigError(f"{self.env_id}: rerun={list(self.rerun)} needs results_version (the version whose "
                              "results the other policies share)")
        extra = sorted(set(self.shared_agents) - set(self.train_steps))
        if extra:
            raise ConfigError(f"{self.env_id}: shared_agents names {extra}, which have no training budget; allowed: "
                              f"{', '.join(self.train_steps) or 'none (no agent is trained)'}")
        if self.rerun:
            runs = self.policies()
            extra = sorted(set(self.rerun) - set(runs))
            if extra:
                raise ConfigError(f"{self.env_id}: rerun names {extra}, which the benchmark does not run; allowed: "
                                  f"{', '.join(runs)}")
        if self.shared_agents and self.results_version is None:
            raise ConfigError(f"{self.env_id}: shared_agents={dict(self.shared_agents)} needs results_version (the "
                              "version whose results the other policies share)")
        both = sorted(set(self.rerun) & set(self.shared_agents))
        if both:
            raise ConfigError(f"{self.env_id}: {both} are both rerun and shared_agents; an agent either runs afresh "
                              "or shares an earlier version's runs")
        for agent, version in self.shared_agents.items():
            check_int(f"shared_agents[{agent!r}]", version, low=1)
        run = sorted(set(self.left_out) & (set(self.train_steps) | set(self.baselines or ())))
        if run:
            raise ConfigError(f"{self.env_id}: left_out names {run}, which the benchmark runs; leave them out of "
                              "train_steps and baselines, or out of left_out")
        for name, why in self.left_out.items():
            if not isinstance(why, str) or not why.strip():
                raise ConfigError(f"{self.env_id}: left_out[{name!r}] must give the reason as a non-empty string")

    def scenario(self) -> BatchedScenario:
        """The benchmark's scenario core at its config."""
        from semcom_envs.registration import make_scenario

        return make_scenario(self.env_id, **dict(self.env_kwargs))

    def policies(self) -> dict[str, str]:
        """Every policy this benchmark runs, mapped to its kind (baseline or agent), baselines first."""
        from semcom_baselines import policies_for

        names = [p for p in policies_for(self.env_id) if p not in self.left_out] if self.baselines is None else self.baselines
        return {**{name: BASELINE_KIND for name in names}, **{agent: AGENT_KIND for agent in self.train_steps}}

    def check(self) -> None:
        """Raise unless the scenario accepts the config and every listed policy acts in it (the learning agents need
        the ``agents`` extra only where a benchmark trains one)."""
        from semcom_baselines import policies_for

        scenario = self.scenario()
        known = policies_for(self.env_id)
        for name in self.baselines or ():
            if name not in known:
                raise ConfigError(f"{self.env_id}: baseline {name!r} is not registered for it; registered: {', '.join(known)}")
        if self.train_steps:
            import semcom_agents as agents  # torch: the ``agents`` extra (the CLI names it where it is missing)
        for agent in self.train_steps:
            if agent not in agents.AGENTS:
                raise ConfigError(f"{self.env_id}: unknown agent {agent!r}; known agents: {', '.join(agents.AGENTS)}")
            if not agents.supports(agent, scenario):
                raise ConfigError(f"{self.env_id}: agent {agent!r} does not support this scenario's action spaces")


@dataclasses.dataclass(frozen=True)
class Job:
    """One (scenario, policy, seed) unit of work: everything a worker needs, picklable for Ray."""

    protocol: str
    version: int
    benchmark: Benchmark
    policy: str
    kind: str
    seed: int
    eval_seed: int
    work_dir: str
    """Folder of the training runs' checkpoints (agents); a rerun resumes from them."""
    source: str | None = None
    """A submitted policy's spec (:mod:`semcom_envs.leaderboard.submission`); ``None`` for the protocol's own."""

    @property
    def key(self) -> tuple[str, str, int]:
        return self.benchmark.env_id, self.policy, self.seed


@dataclasses.dataclass(frozen=True)
class Protocol:
    """A named, versioned benchmark: its seeds and one :class:`Benchmark` per scenario."""

    name: str
    version: int
    seeds: tuple[int, ...]
    benchmarks: tuple[Benchmark, ...]
    eval_seed_base: int = 10_000
    description: str = ""

    def __post_init__(self) -> None:
        check_int("version", self.version, low=1)
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ConfigError(f"seeds must be a non-empty list of distinct integers, got {list(self.seeds)}")
        for s in self.seeds:
            check_int("seeds", s, low=0, high=self.eval_seed_base - 1)
        ids = [b.env_id for b in self.benchmarks]
        if len(set(ids)) != len(ids):
            raise ConfigError(f"protocol {self.name!r} lists a scenario twice: {ids}")
        object.__setattr__(self, "seeds", tuple(self.seeds))
        object.__setattr__(self, "benchmarks", tuple(self.benchmarks))
        for b in self.benchmarks:
            for version in (b.results_version or 0, *b.shared_agents.values()):
                if version > self.version:
                    raise ConfigError(f"protocol {self.name!r} v{self.version}: {b.env_id} shares the results of version "
                                      f"{version}, which is newer than the protocol; allowed: 1..{self.version}")

    def results_version(self, env_id: str, policy: str | None = None) -> int:
        """The protocol version under which ``env_id``'s results (of ``policy``; ``None``: of the benchmark's shared
        policies and submissions) are stored: its own unless the benchmark shares older ones and does not rerun it."""
        bench = self.benchmark(env_id)
        if policy in bench.rerun:
            return self.version
        if policy in bench.shared_agents:
            return bench.shared_agents[policy]
        return bench.results_version or self.version

    def benchmark(self, env_id: str) -> Benchmark:
        for b in self.benchmarks:
            if b.env_id == env_id:
                return b
        raise ConfigError(f"protocol {self.name!r} has no benchmark for {env_id!r}: it covers {', '.join(self.env_ids)}")

    @property
    def env_ids(self) -> tuple[str, ...]:
        return tuple(b.env_id for b in self.benchmarks)

    def jobs(self, work_dir: str | Path, env_ids: Iterable[str] | None = None,
             policies: Iterable[str] | None = None) -> list[Job]:
        """Every job of the protocol (optionally only some scenarios or policies), agents first (longest)."""
        selected = self.env_ids if env_ids is None else tuple(env_ids)
        for env_id in selected:
            self.benchmark(env_id)
        wanted = None if policies is None else set(policies)
        jobs = [Job(self.name, self.results_version(b.env_id, name), b, name, kind, s, self.eval_seed_base + s,
                    str(work_dir))
                for b in self.benchmarks if b.env_id in selected
                for name, kind in b.policies().items() if wanted is None or name in wanted
                for s in self.seeds]
        if wanted is not None and not jobs:
            raise ConfigError(f"no policy of {sorted(wanted)} runs in protocol {self.name!r} on {', '.join(selected)}")
        return sorted(jobs, key=lambda j: j.kind != AGENT_KIND)

    def submission_jobs(self, submissions: Iterable[Submission], work_dir: str | Path,
                        env_ids: Iterable[str] | None = None) -> list[Job]:
        """One job per submitted policy, selected scenario (default: all) and seed; a name the protocol uses raises."""
        selected = self.env_ids if env_ids is None else tuple(env_ids)
        jobs = []
        for sub in submissions:
            for env_id in selected:
                bench = self.benchmark(env_id)
                if sub.name in bench.policies():
                    raise ConfigError(f"submission name {sub.name!r} is already a policy of protocol {self.name!r} on "
                                      f"{env_id}: choose another name")
                jobs += [Job(self.name, self.results_version(env_id), bench, sub.name, SUBMITTED_KIND, s,
                             self.eval_seed_base + s, str(work_dir), sub.spec) for s in self.seeds]
        return jobs

    def check(self) -> None:
        """Raise unless every benchmark's config and policies are valid."""
        for b in self.benchmarks:
            b.check()

    def stored_rows(self, store: Store) -> list[dict[str, Any]]:
        """This protocol's rows in ``store``: every benchmark's, under its results version, ordered like :meth:`Store.rows`.

        Raises a :class:`ConfigError` naming the field if a row shared from an earlier version disagrees with the
        benchmark's definition today (its scenario config, episodes, training budget or hyperparameter overrides).
        """
        rows = []
        versions = {self.results_version(b.env_id, p) for b in self.benchmarks for p in (None, *b.rerun, *b.shared_agents)}
        policies = {b.env_id: b.policies() for b in self.benchmarks}
        for version in sorted(versions):  # a policy the benchmark no longer runs (e.g. an agent left out) is not its row
            rows += [r for r in store.rows(self.name, version) if r["env_id"] in self.env_ids
                     and (r["policy"] in policies[r["env_id"]] or r["kind"] == SUBMITTED_KIND)
                     and self.results_version(r["env_id"], r["policy"]) == version]
        configs: dict[str, tuple[Any, Any]] = {}
        for row in rows:
            if row["version"] != self.version:
                bench = self.benchmark(row["env_id"])
                if bench.env_id not in configs:
                    config = bench.scenario().config
                    configs[bench.env_id] = _json(dataclasses.asdict(config)), _json(dataclasses.asdict(type(config)()))
                _check_shared_row(self, bench, row, *configs[bench.env_id])
        return sorted(rows, key=lambda r: (r["env_id"], r["policy"], r["seed"]))

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Protocol:
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - fields
        if unknown:
            raise ConfigError(f"unknown protocol fields {sorted(unknown)}; accepted: {sorted(fields)}")
        benchmarks = tuple(Benchmark(**{**b, "baselines": None if b.get("baselines") is None else tuple(b["baselines"]),
                                        "rerun": tuple(b.get("rerun", ()))})
                           for b in data.get("benchmarks", ()))
        return cls(**{**data, "seeds": tuple(data.get("seeds", ())), "benchmarks": benchmarks})


def _json(value: Any) -> Any:
    """``value`` as it reads back from the store's JSON columns (tuples become lists)."""
    return json.loads(json.dumps(value))


def _added_at_default(today: Mapping[str, Any], stored: Mapping[str, Any], defaults: Mapping[str, Any]) -> set[str]:
    """Fields gained after a row was stored that today hold their default: unchanged, since a new field (config or
    hyperparameter) defaults to the earlier behaviour (e.g. DQN's ``num_envs = 1``)."""
    return {k for k, v in today.items() if k not in stored and k in defaults and v == defaults[k]}


def _check_shared_row(protocol: Protocol, bench: Benchmark, row: Mapping[str, Any], config: Any, defaults: Any) -> None:
    """Raise unless a row stored under an earlier version is what ``bench`` would produce today (``config`` its
    scenario config today, ``defaults`` the config class's defaults)."""
    where = f"protocol {protocol.name!r} v{protocol.version}: {bench.env_id} shares the results of v{row['version']}, but"
    added = _added_at_default(config, row["config"], defaults)
    changed = sorted(k for k in (set(config) | set(row["config"])) - added if config.get(k) != row["config"].get(k))
    if changed:
        raise ConfigError(f"{where} the scenario config differs in {changed}: drop its results_version to rerun it")
    if row["episodes"] != bench.episodes:
        raise ConfigError(f"{where} episodes={bench.episodes} differs from the stored {row['episodes']}")
    if row["kind"] == AGENT_KIND:
        from semcom_agents import hyperparameters

        budget = bench.train_steps.get(row["policy"])
        if budget != row["train_steps"]:
            raise ConfigError(f"{where} train_steps[{row['policy']!r}]={budget} differs from the stored {row['train_steps']}: "
                              f"list {row['policy']!r} in its rerun")
        resolved = _json(hyperparameters(row["policy"], bench.hyperparameters.get(row["policy"], {})))
        added = _added_at_default(resolved, row["hyperparameters"], _json(hyperparameters(row["policy"])))
        changed = sorted(k for k in (set(resolved) | set(row["hyperparameters"])) - added
                         if resolved.get(k) != row["hyperparameters"].get(k))
        if changed:
            raise ConfigError(f"{where} the {row['policy']} hyperparameters differ in {changed}: list {row['policy']!r} "
                              "in its rerun")


MULTICELL, OFFLOADING, IOT_AUCTION, CDRL, TASK_ORIENTED = (
    "SemCom-MultiCell-v1", "SemCom-Offloading-v1", "SemCom-IoTAuction-v2", "SemCom-CDRL-v1", "SemCom-TaskOriented-v2")
"""The benchmark task of every scenario: its newest version (the v0 ids keep the sources' models and presets)."""

_DQN_BATCHED = {"num_envs": 16, "train_frequency": 16, "replay_size": 8_000}
"""DQN acting in 16 environment copies per run (one batched core call per trainer step) with one learning step
per 16 env steps, and a replay memory of the source's 500 slots per copy. 1.3x MultiCell's single-copy cost
per env step at 1/13 of it, so a run sees 2,000,000 slots in about the wall-clock MAPPO's 1,000,000 take."""
_DRQN_BATCHED = {**_DQN_BATCHED, "bf16_matmul": True}
"""DRQN with DQN's batched recipe (v2-v6: one copy, a learning step per 4 slots, 20,000 steps, at random's level)
and its learning steps' matrix products in bfloat16."""
_ONE_SHOT = {"gamma": 0.0, "box_distribution": "beta"}
"""MAPPO for scenarios whose slots are independent one-shot games (the auction's bids; v1-v8 also TaskOriented-v1's
allocations): no discount, Beta head on the bounded Box, as in their reproductions."""

_RANKED_BIDS = {**_ONE_SHOT, "learn_ranked_metric": True}
"""MAPPO on the IoTAuction task in v11 (v12 adds the memory, :data:`_RANKED_BIDS_MEMORY`): :data:`_ONE_SHOT`, every
bidder learning the slot's mean regret, the ranked metric (centralised training, local bids; docs/mappo.md). v6-v10
trained each bidder on its own utility on v1: with one shared network the bidders learned to shade together (regret
0.054, above every local rule's), where the ranked regret asks how far the profile is from an equilibrium."""

_RANKED_BIDS_MEMORY = {**_RANKED_BIDS, "memory": "episode_mean"}
"""MAPPO on the IoTAuction task (v12): :data:`_RANKED_BIDS` with each bidder's actor also seeing the mean of its
observations over the episode so far (``memory="episode_mean"``): the devices' distances stay fixed over an episode, so
the mean clearing price a device has seen measures its competition (the study's ``capped_price_memory`` bids on it
and beats ``capped`` on every seed; v11's reactive actor, which sees only the current slot, did not)."""

_QUEUES = {"gamma": 0.95}
"""MAPPO on the MultiCell task: a discount horizon of 20 slots (0.4 s), a few delay requirements and bursts long."""

_ARRIVALS = {"gamma": 0.9, "box_distribution": "beta", "num_envs": 16, "rollout_length": 16,
             "entropy_coef": 0.0, "lr_anneal_steps": 2_000_000}
"""MAPPO on the TaskOriented task: a discount horizon of 10 slots (50 ms: a few 20 ms image deadlines), Beta head on
the bounded Box, no entropy bonus and both learning rates annealed linearly to 0 over the 2,000,000-step budget
(v9: entropy 0.01, constant rates, under which its users joined too often: 2.2-2.7 served per slot against the best
local rule's 1.5-1.7; docs/benchmark-tasks.md)."""

OMITTED: dict[str, dict[str, str]] = {
    MULTICELL: {"drqn": "its training curve follows DQN's and is still rising at 820,000 steps (EE 0.66-0.70 up to "
                        "400,000 steps, 0.72 at 580,000, 0.87 at 820,000 on seed 0 with DQN's batched recipe), where "
                        "DQN's v4 curves flatten at 0.90-0.98 from about 1,300,000; at 3.2 ms per env step "
                        "(bf16, benchmarks/training-time-2026-12-04.jsonl) DQN's 2,000,000 steps are 1.8 hours per run, "
                        "9 hours for the 5 seeds; v2-v6 ran 20,000 steps in one copy and scored at random's level"},
    CDRL: {agent: "a target's 8 request and 8 probe bits are 2^16 = 65,536 joint actions, one Q-value output each: "
                  "10-167 env steps/s while training (docs/performance.md), so the 2,000,000 steps at which DQN's curves "
                  "flatten elsewhere take 3.3-55 hours per run; v4 ran 2,000 steps and scored at random's level"
           for agent in ("dqn", "drqn")},
}
"""Registered baselines and supported learning agents that the default protocol leaves out, per task, with the
reason (docs/leaderboard.md)."""


_CDRL_MAPPO = {"num_envs": 16, "rollout_length": 20, "shared_reward": True}
"""MAPPO on the CDRL task: 16 copies x 20 rounds (4 episodes each) per update; every target learns from the team
reward (the targets' mean return, the ranked metric), since the grant one target yields helps another (v5: each its
own return)."""

DEFAULT = Protocol(
    name="default",
    version=12,
    seeds=(0, 1, 2, 3, 4),
    description="Every scenario's benchmark task at its default config; agents trained on a 2-core CPU budget, 5 seeds; "
                "16 evaluation episodes per run.",
    benchmarks=(
        Benchmark(MULTICELL, {}, {"dqn": 2_000_000, "mappo": 1_000_000},
                  {"dqn": _DQN_BATCHED, "mappo": _QUEUES}, results_version=2, shared_agents={"dqn": 4},
                  left_out=OMITTED[MULTICELL]),
        Benchmark(OFFLOADING, {}, {"dqn": 2_000_000, "drqn": 500_000, "mappo": 1_000_000},
                  {"dqn": _DQN_BATCHED, "drqn": _DRQN_BATCHED, "mappo": {"preset": "offloading-source"}}, results_version=2,
                  shared_agents={"dqn": 4, "drqn": 7}),
        Benchmark(IOT_AUCTION, {}, {"mappo": 6_000_000}, {"mappo": _RANKED_BIDS_MEMORY}, results_version=11,
                  rerun=("mappo",)),
        Benchmark(CDRL, {}, {"mappo": 600_000}, {"mappo": _CDRL_MAPPO}, results_version=3, shared_agents={"mappo": 6},
                  left_out=OMITTED[CDRL]),
        Benchmark(TASK_ORIENTED, {}, {"mappo": 2_000_000}, {"mappo": _ARRIVALS}, results_version=9,
                  shared_agents={"mappo": 10}),
    ),
)
"""The leaderboard's protocol (docs/results.md, docs/leaderboard.md). v12 retrains MAPPO on SemCom-IoTAuction-v2 with
the episode memory (:data:`_RANKED_BIDS_MEMORY`) and shares every other run with v11 and earlier versions.
v11 replaces SemCom-IoTAuction-v1 by its v2
(bids of at most the value: on v1 a learner of the ranked regret beat the best local rule with weakly dominated
overbids), runs every IoTAuction policy there, trains MAPPO on the ranked regret (:data:`_RANKED_BIDS`) and shares
every other run with v10 and earlier versions. v10 retrains MAPPO on SemCom-TaskOriented-v2
without the entropy bonus and with annealed learning rates (:data:`_ARRIVALS`) and shares every other run with v9
(and earlier versions). v9 replaces SemCom-TaskOriented-v1 by its v2 (image arrivals with deadlines, per-slot
channels: on v1 the best local rule scored 0.95 of the span) and shares every other run with v8. v8 reruns
IoTAuction's ``price_anchored``, whose bid now lies a sliver of the device's surplus above the last price (ties at
the anchor went to the lowest index, not the highest value), and shares every other run with v7 and earlier
versions. v7 trains DRQN on Offloading with DQN's batched
recipe for 500,000 steps (v2-v6: 20,000 steps in one copy, at random's level; its training curve flattens from about
300,000), leaves DRQN out on MultiCell (:data:`OMITTED`: its plateau lies past 820,000 steps) and shares every other
run: v6's MAPPO on IoTAuction and CDRL among them. v6 trained MAPPO on IoTAuction for 3,000,000
steps (v3-v5: 300,000, where its bidders' utility had levelled off but their regret, the ranked metric, was still
falling: 0.080 at 300,000, 0.061 at 900,000 on seed 0) and MAPPO on CDRL with the team reward (``shared_reward``;
v5: each target its own return), and shares every other run with v5 and earlier versions. v5 trained MAPPO on CDRL for 600,000 steps
(v4: 50,000; its training curve flattens from about 400,000, and the core's speed-up made the budget 16 minutes per
run) and leaves DQN and DRQN out there (:data:`OMITTED`); every other run is shared: v4's DQN on MultiCell and
Offloading (16 copies, 2,000,000 steps), v3's IoTAuction, CDRL baselines and TaskOriented tasks, v2's MultiCell and
Offloading. v2 ran the other three scenarios' v0 ids, v1 every v0 id."""

DEMO = Protocol(
    name="demo",
    version=5,
    seeds=(0, 1, 2),
    description="Baselines only, small configs, 3 seeds x 8 episodes: the quick leaderboard of `make demo`.",
    benchmarks=(
        Benchmark(MULTICELL, {"num_cells": 3}, episodes=8),
        Benchmark(OFFLOADING, {"num_devices": 3}, episodes=8),
        Benchmark(IOT_AUCTION, {}, episodes=8),
        Benchmark(CDRL, {}, episodes=8),
        Benchmark(TASK_ORIENTED, {"num_users": 4, "max_steps": 10}, episodes=8),
    ),
)
"""Baselines only, seconds per scenario."""

PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (DEFAULT, DEMO)}


def load_protocol(name_or_path: str) -> Protocol:
    """A shipped protocol by name, or one from a JSON file (the layout of :meth:`Protocol.to_dict`)."""
    if name_or_path in PROTOCOLS:
        return PROTOCOLS[name_or_path]
    path = Path(name_or_path)
    if path.suffix == ".json" and path.is_file():
        return Protocol.from_dict(json.loads(path.read_text()))
    raise ConfigError(f"protocol {name_or_path!r} is neither a shipped protocol ({', '.join(PROTOCOLS)}) "
                      "nor an existing .json file")

