"""The shipped protocols run every policy that supports each scenario; bad protocols fail with clear errors."""

from __future__ import annotations

import dataclasses
import json

import pytest

from semcom_agents import AGENTS, supports
from semcom_baselines import policies_for
from semcom_envs.config import ConfigError
from semcom_envs.leaderboard.protocol import (
    AGENT_KIND,
    DEFAULT,
    DEMO,
    OMITTED,
    PROTOCOLS,
    Benchmark,
    Protocol,
    load_protocol,
)
from semcom_envs.registration import make_scenario
from semcom_envs.scenarios import latest_versions


def test_default_protocol_covers_every_scenario_policy_and_agent() -> None:
    assert set(DEFAULT.env_ids) == set(latest_versions())  # the benchmark tasks
    assert len(DEFAULT.seeds) >= 5
    DEFAULT.check()
    for bench in DEFAULT.benchmarks:
        scenario = make_scenario(bench.env_id, **bench.env_kwargs)
        omitted = set(OMITTED.get(bench.env_id, {}))
        assert dict(bench.left_out) == OMITTED.get(bench.env_id, {}), bench.env_id  # the reasons travel with the protocol
        supported = {a for a in AGENTS if supports(a, scenario)}
        assert set(bench.train_steps) == supported - omitted, bench.env_id
        assert omitted <= set(policies_for(bench.env_id)) | supported, bench.env_id  # registered baselines, agents that act
        assert set(bench.policies()) == (set(policies_for(bench.env_id)) | supported) - omitted


def test_demo_protocol_is_baselines_only_on_every_scenario() -> None:
    assert set(DEMO.env_ids) == set(latest_versions())
    DEMO.check()
    assert all(not b.train_steps for b in DEMO.benchmarks)


def test_jobs_seeds_and_selection(tmp_path) -> None:
    jobs = DEFAULT.jobs(tmp_path)
    expected = sum(len(b.policies()) for b in DEFAULT.benchmarks) * len(DEFAULT.seeds)
    assert len(jobs) == expected == len({j.key for j in jobs})
    assert all(j.eval_seed == DEFAULT.eval_seed_base + j.seed for j in jobs)
    kinds = [j.kind for j in jobs]
    assert kinds == sorted(kinds, key=lambda k: k != AGENT_KIND)  # the long jobs first
    only = DEFAULT.jobs(tmp_path, env_ids=["SemCom-MultiCell-v1"], policies=["greedy", "dqn"])
    assert {(j.policy, j.kind) for j in only} == {("greedy", "baseline"), ("dqn", "agent")}
    with pytest.raises(ConfigError, match="no benchmark for 'SemCom-Nope-v0'"):
        DEFAULT.jobs(tmp_path, env_ids=["SemCom-Nope-v0"])
    with pytest.raises(ConfigError, match="no policy of"):
        DEFAULT.jobs(tmp_path, env_ids=["SemCom-IoTAuction-v2"], policies=["dqn"])


@pytest.mark.parametrize("protocol", list(PROTOCOLS.values()), ids=list(PROTOCOLS))
def test_json_round_trip(protocol: Protocol, tmp_path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(protocol.to_dict()))
    assert load_protocol(str(path)) == protocol


def test_bad_protocols_name_the_field() -> None:
    bench = DEFAULT.benchmarks[0]
    with pytest.raises(ConfigError, match="episodes"):
        Benchmark("SemCom-MultiCell-v0", episodes=0)
    with pytest.raises(ConfigError, match="not a scenario"):
        Benchmark("SemCom-Nope-v0")
    with pytest.raises(ConfigError, match="train_steps"):
        Benchmark("SemCom-MultiCell-v0", train_steps={"dqn": 0})
    with pytest.raises(ConfigError, match="without a training budget"):
        Benchmark("SemCom-MultiCell-v0", hyperparameters={"dqn": {}})
    with pytest.raises(ConfigError, match="seeds"):
        dataclasses.replace(DEFAULT, seeds=(0, 0))
    with pytest.raises(ConfigError, match="twice"):
        dataclasses.replace(DEFAULT, benchmarks=(bench, bench))
    with pytest.raises(ConfigError, match="version"):
        dataclasses.replace(DEFAULT, version=0)
    with pytest.raises(ConfigError, match="unknown agent 'ppo'"):
        Benchmark("SemCom-MultiCell-v0", train_steps={"ppo": 10}).check()
    with pytest.raises(ConfigError, match="does not support"):
        Benchmark("SemCom-IoTAuction-v0", train_steps={"dqn": 10}).check()
    with pytest.raises(ConfigError, match="baseline 'exhaustive' is not registered"):
        Benchmark("SemCom-MultiCell-v0", baselines=("exhaustive",)).check()
    with pytest.raises(ConfigError, match="neither a shipped protocol"):
        load_protocol("nope")
    with pytest.raises(ConfigError, match="unknown protocol fields"):
        Protocol.from_dict({**DEFAULT.to_dict(), "budget": 1})


def test_left_out_policies_give_a_reason_and_are_not_run() -> None:
    every = Benchmark("SemCom-TaskOriented-v1")
    assert "crraus" in every.policies()  # registered; left out, every other registered baseline still runs
    assert set(Benchmark("SemCom-TaskOriented-v1", left_out={"crraus": "slow"}).policies()) == set(every.policies()) - {"crraus"}
    bench = DEFAULT.benchmark("SemCom-CDRL-v1")
    assert set(bench.left_out) == {"dqn", "drqn"} and not set(bench.left_out) & set(bench.policies())
    with pytest.raises(ConfigError, match="left_out names \\['dqn'\\], which the benchmark runs"):
        dataclasses.replace(bench, train_steps={**bench.train_steps, "dqn": 10})
    with pytest.raises(ConfigError, match="left_out\\['greedy'\\] must give the reason"):
        Benchmark("SemCom-MultiCell-v1", left_out={"greedy": " "})
    assert Protocol.from_dict(DEFAULT.to_dict()) == DEFAULT


def test_the_page_groups_left_out_policies_by_reason() -> None:
    from semcom_envs.leaderboard.report import left_out_text

    assert left_out_text({}) == "—"
    assert left_out_text({"dqn": "too big", "drqn": "too big", "crraus": "slow"}) == "dqn, drqn (too big); crraus (slow)"
