"""Bring your own policy: a user's policy runs on a protocol through `semcom leaderboard run --submit` into the store."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from semcom_agents import load_policy
from semcom_envs.cli import main
from semcom_envs.config import ConfigError
from semcom_envs.evaluation import evaluate
from semcom_envs.leaderboard.jobs import run_dir
from semcom_envs.leaderboard.protocol import Protocol
from semcom_envs.leaderboard.store import Store
from semcom_envs.leaderboard.submission import Submission, load_submitted

from .conftest import tiny_protocol

USER_MODULE = textwrap.dedent('''
    """A user's policy module, outside the package: every agent plays its action space's first action."""
    import numpy as np


    class FirstAction:
        uses_global_state = False

        def __init__(self, scenario):
            self.spaces = {a: scenario.action_space(a) for a in scenario.agents}

        def act(self, observations, global_state):
            batch = next(iter(observations.values())).shape[0]
            return {a: np.zeros((batch, *s.shape), dtype=s.dtype) for a, s in self.spaces.items()}


    def make_policy(scenario):
        return FirstAction(scenario)


    def not_a_policy(scenario):
        return 42
    ''')


@pytest.fixture
def user_module(tmp_path: Path) -> Path:
    path = tmp_path / "my_policy.py"
    path.write_text(USER_MODULE)
    return path


def test_a_user_policy_runs_through_the_cli_into_the_store(user_module: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    protocol = tiny_protocol()
    protocol_file = tmp_path / "tiny.json"
    protocol_file.write_text(json.dumps(protocol.to_dict()))
    store_path = tmp_path / "lb.db"
    assert main(["leaderboard", "run", "--protocol", str(protocol_file), "--store", str(store_path), "--no-progress",
                 "--submit", f"first={user_module}:make_policy", "--env", "SemCom-Offloading-v0"]) == 0
    rows = Store(store_path).rows()
    # Only the submitted policy ran (the protocol's own policies were not asked for), once per seed.
    assert {(r["env_id"], r["policy"], r["seed"], r["kind"]) for r in rows} == {
        ("SemCom-Offloading-v0", "first", s, "submitted") for s in protocol.seeds}
    bench = protocol.benchmark("SemCom-Offloading-v0")
    scenario = bench.scenario()
    for row in rows:
        assert row["hyperparameters"] == {"submitted": f"{user_module.resolve()}:make_policy"}
        assert not row["uses_global_state"]
        policy = load_submitted(Submission("first", f"{user_module}:make_policy"), scenario)
        expected = evaluate(scenario, policy, bench.episodes, protocol.eval_seed_base + row["seed"])
        assert row["episode_values"] == expected.episodes  # evaluated exactly like a baseline, on the run's seed
    # Beside the shipped rows: the protocol's baselines, then the report lists the submission as such.
    assert main(["leaderboard", "run", "--protocol", str(protocol_file), "--store", str(store_path), "--no-progress",
                 "--env", "SemCom-Offloading-v0", "--policy", "random", "--policy", "local_only", "--policy", "exhaustive"]) == 0
    capsys.readouterr()
    assert main(["leaderboard", "show", "--protocol", str(protocol_file), "--store", str(store_path)]) == 0
    table = capsys.readouterr().out
    (line,) = [ln for ln in table.splitlines() if ln.startswith("| first ")]
    assert "submitted" in line


def test_policy_files_of_semcom_train_score_as_the_agent_rows(tiny_store: tuple[Protocol, Store], tmp_path: Path) -> None:
    """The protocol's own DQN policy files, submitted one per seed (``{seed}`` in the path), reproduce its rows."""
    protocol, store = tiny_store
    (job,) = [j for j in protocol.jobs(Path(store.path).parent / "runs", ["SemCom-MultiCell-v0"], ["dqn"]) if j.seed == 0]
    template = str(run_dir(job) / "policy_seed0.pt").replace("seed0", "seed{seed}")
    mine = Store(tmp_path / "mine.db")
    from semcom_envs.leaderboard.run import run

    run(protocol, mine, tmp_path / "runs", env_ids=["SemCom-MultiCell-v0"], progress=False,
        submissions=[Submission.parse(f"my_dqn={template}")])
    for seed in protocol.seeds:
        (dqn,) = [r for r in store.rows() if r["policy"] == "dqn" and r["seed"] == seed]
        (submitted,) = [r for r in mine.rows() if r["seed"] == seed]
        assert submitted["kind"] == "submitted" and submitted["episode_values"] == dqn["episode_values"]
    assert load_policy(template.format(seed=0), job.benchmark.scenario()).uses_global_state is False
    with pytest.raises(ConfigError, match="needs the run's seed"):
        load_submitted(Submission.parse(f"my_dqn={template}"), job.benchmark.scenario())


@pytest.mark.parametrize(("text", "message"), [
    ("first", "expected NAME=SPEC"),
    ("bad name=x.py:f", "must be letters"),
    ("first=missing.py:make", "does not exist"),
    ("first=missing.pt", "does not exist"),
    ("first=missing_folder/policy_seed{seed}.pt", "policy folder"),
    ("first=package_without_factory", "neither MODULE:FACTORY"),
])
def test_malformed_submissions_are_rejected_naming_the_problem(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Submission.parse(text)


def test_a_name_the_protocol_uses_is_rejected(user_module: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'random' is already a policy"):
        tiny_protocol().submission_jobs([Submission.parse(f"random={user_module}:make_policy")], tmp_path)


def test_a_factory_that_returns_no_policy_is_rejected(user_module: Path) -> None:
    scenario = tiny_protocol().benchmark("SemCom-Offloading-v0").scenario()
    with pytest.raises(ConfigError, match="has no act"):
        load_submitted(Submission.parse(f"x={user_module}:not_a_policy"), scenario)
    with pytest.raises(ConfigError, match="no callable 'nothing'"):
        load_submitted(Submission.parse(f"x={user_module}:nothing"), scenario)


def test_the_documented_example_policy_bids_its_value_less_the_margin() -> None:
    from semcom_envs.scenarios.iot_auction import IoTAuctionV2

    example = Path(__file__).resolve().parents[2] / "examples" / "my_policy.py"
    scenario = IoTAuctionV2()
    policy = load_submitted(Submission.parse(f"margin={example}:make_policy"), scenario)
    result = evaluate(scenario, policy, 2, 10_000)
    assert result.mean(scenario.primary_metric) >= 0.0  # regret is never negative
    observations = {a: np.array([[0.05, 0, 0, 0, 0], [0.9, 0, 0, 0, 0]], dtype=np.float32) for a in scenario.agents}
    values = observations[scenario.agents[0]][:, 0].astype(np.float64)
    bids = scenario.actions_to_bids(policy.act(observations, None)[scenario.agents[0]][:, 0], values)
    # v2 sends the bid's fraction of the value, rounded up to the next float32 action: at most one step of the
    # action, at most 2^-23 (float32's eps) in [-1, 1], above the bid, so at most eps / 2 v in value units.
    wanted = np.array([0.0, np.float32(0.9) - 0.1])
    assert np.all(bids >= wanted) and np.all(bids - wanted <= np.finfo(np.float32).eps / 2 * values)
