"""The ``semcom`` command: every subcommand runs and writes what it promises.

Float comparisons: only exact ones, a policy's score over its own (``fraction_of_oracle`` of the
oracle, ``ratio_to_exhaustive`` of the exhaustive policy: x / x = 1) and configuration values read
back verbatim.
"""

from __future__ import annotations

import json

import pytest
import torch

from semcom_envs.cli import main


def test_list_shows_ids_and_config_fields(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "SemCom-MultiCell-v0" in out and "num_cells" in out


def test_list_one_scenario_shows_its_agents_spaces_and_policies(capsys):
    assert main(["list", "SemCom-MultiCell-v1"]) == 0
    out = capsys.readouterr().out
    assert "bs_0 .. bs_6 (7)" in out and "MultiDiscrete [7, 20]" in out and "local_dpp" in out
    assert "dqn, drqn, mappo" in out and "SemCom-Offloading-v1" not in out
    assert main(["list", "SemCom-Nope-v0"]) == 2
    assert "unknown environment id 'SemCom-Nope-v0'" in capsys.readouterr().err


def test_eval_writes_table_json_with_provenance_and_figures(tmp_path, capsys):
    code = main(["eval", "SemCom-MultiCell-v0", "--policy", "random", "--policy", "oracle", "--episodes", "2",
                 "--seeds", "5", "6", "--set", "num_cells=2", "--set", "max_steps=5", "--out", str(tmp_path)])
    assert code == 0
    payload = json.loads((tmp_path / "results.json").read_text())
    assert payload["meta"]["seeds"] == [5, 6] and payload["meta"]["config"]["num_cells"] == 2
    assert payload["meta"]["versions"]["numpy"]
    assert list(payload["runs"]) == ["random", "oracle"] and len(payload["runs"]["random"]) == 2
    assert payload["uses_global_state"] == {"random": False, "oracle": True}
    assert payload["summary"]["oracle"]["fraction_of_oracle"][0] == 1.0
    assert len(payload["runs"]["random"][0]["reward_per_slot"]) == 2
    for figure in ("reward_per_slot.png", "ee_boxplot.png", "action_heatmap.png"):
        assert (tmp_path / figure).stat().st_size > 0
    assert "| policy | information | ee ↑ | fraction_of_oracle ↑ | " in (tmp_path / "results.md").read_text()


def test_eval_reports_bad_config_as_an_error_not_a_traceback(tmp_path, capsys):
    assert main(["eval", "SemCom-MultiCell-v0", "--policy", "random", "--set", "num_cells=0", "--out", str(tmp_path)]) == 2
    assert "num_cells" in capsys.readouterr().err


def test_throughput_runs_and_writes_json(tmp_path):
    out = tmp_path / "t.json"
    assert main(["throughput", "--batch", "1", "4", "--cells", "3", "--seconds", "0.01", "--no-anchors",
                 "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert any("batch=4" in r["what"] for r in rows) and all(v > 0 for r in rows for k, v in r.items() if k != "what")


def test_train_writes_curve_checkpoint_and_a_policy_that_eval_loads(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "SemCom-MultiCell-v0", "--agent", "dqn", "--steps", "300", "--seed", "4", "--set", "num_cells=2",
                 "--hp", "learning_starts=50", "--log-every", "100", "--checkpoint-every", "150", "--out", str(out),
                 "--no-progress", "--threads", "1"]) == 0
    meta = json.loads((out / "meta.json").read_text())
    assert meta["seeds"] == [4] and meta["steps_done"] == 300 and meta["env_config"]["num_cells"] == 2
    assert meta["torch_threads"] == 1 and "torch threads: 1 (--threads)" in capsys.readouterr().err
    assert meta["hyperparameters"]["learning_starts"] == 50 and meta["versions"]["torch"]
    assert (out / "curve.csv").read_text().count("\n") == 4 and any((out / "tb" / "seed4").iterdir())
    policy = str(out / "policy_seed4.pt")
    assert main(["eval", "SemCom-MultiCell-v0", "--policy", policy, "--policy", "random", "--set", "num_cells=2",
                 "--episodes", "2", "--set", "max_steps=5", "--out", str(tmp_path / "eval")]) == 0
    assert set(json.loads((tmp_path / "eval" / "results.json").read_text())["runs"]) == {"dqn-seed4", "random"}
    # Two files of the same agent and seed would clash: each is then labelled by its path.
    assert main(["eval", "SemCom-MultiCell-v0", "--policy", policy, "--policy", policy.replace(str(tmp_path), str(tmp_path / ".")),
                 "--set", "num_cells=2", "--episodes", "1", "--set", "max_steps=2", "--out", str(tmp_path / "eval2")]) == 0
    assert policy in json.loads((tmp_path / "eval2" / "results.json").read_text())["runs"]
    # A second train into the same folder must not silently overwrite it.
    assert main(["train", "SemCom-MultiCell-v0", "--agent", "dqn", "--steps", "300", "--set", "num_cells=2",
                 "--out", str(out), "--no-progress"]) == 2
    assert "--resume" in capsys.readouterr().err


def test_reproduce_multicell_trains_evaluates_and_plots(tmp_path):
    assert main(["reproduce-multicell", "--out", str(tmp_path), "--steps", "300", "--seeds", "2", "--cells", "2",
                 "--variant", "dqn", "dqn_wo_ec", "--hp", "dqn:learning_starts=50", "--eval-seeds", "1", "2",
                 "--episodes", "2", "--no-progress"]) == 0
    folder = tmp_path / "paper-m2"
    payload = json.loads((folder / "results.json").read_text())
    assert set(payload["results"]) == {"random", "greedy", "min_power", "oracle", "dqn", "dqn_wo_ec"}
    assert payload["results"]["dqn"]["training"]["hyperparameters"]["learning_starts"] == 50
    assert payload["results"]["dqn_wo_ec"]["training"]["reward"] == "qoe"
    assert payload["results"]["oracle"]["fraction_of_oracle"][0] == 1.0
    for figure in ("ee_vs_slots.png", "ee_boxplot.png"):
        assert (folder / figure).stat().st_size > 0


def test_train_mappo_counts_env_steps_and_eval_loads_its_policy(tmp_path):
    out = tmp_path / "mappo"
    assert main(["train", "SemCom-MultiCell-v0", "--agent", "mappo", "--steps", "160", "--seed", "2", "--runs", "2",
                 "--set", "num_cells=2", "--set", "max_steps=10", "--hp", "num_envs=4", "--hp", "rollout_length=10",
                 "--log-every", "40", "--out", str(out), "--no-progress", "--no-tensorboard", "--threads", "1"]) == 0
    meta = json.loads((out / "meta.json").read_text())
    assert meta["agent"] == "mappo" and meta["seeds"] == [2, 3] and meta["steps_done"] == 160
    assert meta["learning_steps"] == 4 and meta["hyperparameters"]["num_envs"] == 4
    assert (out / "curve.csv").read_text().count("\n") == 1 + 2 * 160 // 40
    policy = str(out / "policy_seed3.pt")
    assert main(["eval", "SemCom-MultiCell-v0", "--policy", policy, "--set", "num_cells=2", "--set", "max_steps=5",
                 "--episodes", "2", "--out", str(tmp_path / "eval")]) == 0
    assert "mappo-seed3" in json.loads((tmp_path / "eval" / "results.json").read_text())["runs"]


def test_reproduce_offloading_trains_mappo_and_ppo_evaluates_and_plots(tmp_path):
    assert main(["reproduce-offloading", "--out", str(tmp_path), "--ks", "2", "8", "--learned-ks", "8", "--seeds", "2",
                 "--mappo-steps", "512", "--ppo-steps", "512", "--hp", "num_envs=8", "--hp", "rollout_length=8", "--hp", "ppo_epoch=2",
                 "--ppo-hp", "n_steps=32", "--ppo-hp", "batch_size=64", "--ppo-hp", "n_epochs=2", "--eval-seeds", "1", "2",
                 "--episodes", "2", "--no-progress"]) == 0
    folder = tmp_path / "ofdma"
    payload = json.loads((folder / "results.json").read_text())
    results = payload["results"]
    assert set(results) == {"random", "local_only", "offload_all", "greedy", "exhaustive", "mappo", "sb3_ppo"}
    assert set(results["exhaustive"]) == {"2", "8"} and set(results["mappo"]) == {"8"}
    assert payload["training"]["mappo_hyperparameters"]["num_envs"] == 8
    assert payload["training"]["mappo_hyperparameters"]["gamma"] == 0.95  # the source's settings
    assert payload["training"]["ppo_hyperparameters"]["n_steps"] == 32
    # The full-information optimum of the team reward is never beaten on it.
    for name, per_k in results.items():
        for k, r in per_k.items():
            assert r["reward"][0] <= results["exhaustive"][k]["reward"][0] + 1e-9, (name, k)
    assert (folder / "energy_vs_k.png").stat().st_size > 0
    # The SB3 model file is a policy for `semcom eval`.
    model = str(folder / "sb3_ppo-k8" / "seed1" / "model.zip")
    assert main(["eval", "SemCom-Offloading-v0", "--policy", model, "--policy", "exhaustive", "--set", "k=8",
                 "--episodes", "2", "--set", "max_steps=5", "--out", str(tmp_path / "eval")]) == 0
    summary = json.loads((tmp_path / "eval" / "results.json").read_text())["summary"]
    assert summary["exhaustive"]["ratio_to_exhaustive"][0] == 1.0 and "sb3_ppo" in summary
    # A finished PPO run is reused only with the same settings.
    from semcom_agents.sb3_joint import train_ppo

    with pytest.raises(ValueError, match="other steps"):
        train_ppo("SemCom-Offloading-v0", 1024, 1, folder / "sb3_ppo-k8" / "seed1", env_kwargs={"num_devices": 4, "k": 8,
                  "access": "ofdma"}, hyperparameters={"n_steps": 32, "batch_size": 64, "n_epochs": 2})


def test_train_auction_on_the_scenarios_semantic_values_writes_a_usable_checkpoint(tmp_path, capsys):
    out = tmp_path / "semantic_n2.npz"
    assert main(["train-auction", "--valuation", "semantic", "--bidders", "2", "--iterations", "200", "--restarts", "2",
                 "--out", str(out), "--threads", "1"]) == 0
    assert "of Myerson's" in capsys.readouterr().out
    assert main(["eval", "SemCom-IoTAuction-v0", "--set", "mechanism=neural", "--set", f"neural_checkpoint={out}",
                 "--set", "num_devices=2", "--set", "max_steps=5", "--policy", "truthful", "--episodes", "2",
                 "--out", str(tmp_path / "eval")]) == 0
    summary = json.loads((tmp_path / "eval" / "results.json").read_text())["summary"]
    assert summary["truthful"]["revenue"][0] > 0


def test_train_picks_torch_threads_that_leave_busy_cores_alone(monkeypatch):
    from semcom_agents.training import pick_torch_threads

    assert pick_torch_threads(3) == (3, "--threads")
    with pytest.raises(ValueError, match="threads"):
        pick_torch_threads(0)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    threads, why = pick_torch_threads()
    assert "OMP_NUM_THREADS=1" in why and threads == torch.get_num_threads()  # torch sized its pool from it
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1}, raising=False)
    for load, expected in ((0.2, 2), (0.6, 1), (1.4, 1), (7.0, 1)):
        monkeypatch.setattr("os.getloadavg", lambda load=load: (load, 0.0, 0.0), raising=False)
        threads, why = pick_torch_threads()
        assert threads == expected and "2 cores available" in why


def test_key_value_options_parse_literals_booleans_and_text():
    from semcom_envs.cli import _parse_set

    assert _parse_set(["a=3", "b=(80, 90)", "c=true", "d=False", "e=FALSE", "f=beta", "g=1e-3"]) == {
        "a": 3, "b": (80, 90), "c": True, "d": False, "e": False, "f": "beta", "g": 1e-3}


def test_version_and_help_show_the_version_and_each_default(capsys):
    from semcom_envs import __version__

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"semcom-envs {__version__}"
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps to the terminal width
    assert "--episodes EPISODES default: 16" in text and "(default: results/eval/ENV," in text and "(default: 0)" in text
    assert "(default: None)" not in text and "(default: [])" not in text  # no default: nothing shown


def test_train_refuses_a_budget_that_ends_before_the_first_update(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "SemCom-MultiCell-v0", "--agent", "mappo", "--steps", "3000", "--out", str(out),
                 "--no-progress", "--no-tensorboard", "--threads", "1"]) == 2
    err = capsys.readouterr().err
    assert "steps=3000 ends before mappo's first update, at 6400 env steps per run" in err
    assert "num_envs x rollout_length" in err and not out.exists()  # nothing untrained saved


@pytest.mark.parametrize("argv", [["list", "--markdown"], ["leaderboard", "protocol", "--protocol", "demo"]],
                         ids=["long output", "output within the stdout buffer"])
def test_a_closed_pipe_ends_the_command_quietly(argv):
    import subprocess
    import sys

    # `semcom ... | true`: the reader is gone before the first write (a short output reaches the pipe only when
    # stdout is flushed, which main does before it returns).
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from semcom_envs.cli import main; sys.exit(main())",
                             *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait() == 141 and "Traceback" not in err, err


def test_train_names_the_agents_that_act_in_a_scenario_instead_of_a_traceback(tmp_path, capsys):
    assert main(["train", "SemCom-IoTAuction-v1", "--agent", "dqn", "--steps", "1000", "--out", str(tmp_path / "run"),
                 "--no-progress", "--no-tensorboard", "--threads", "1"]) == 2
    err = capsys.readouterr().err
    assert "SemCom-IoTAuction-v1: dqn cannot act here" in err and err.rstrip().endswith("agents that act in it: mappo")


def test_eval_writes_each_scenario_into_its_own_folder_by_default(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for env_id in ("SemCom-MultiCell-v0", "SemCom-Offloading-v0"):
        assert main(["eval", env_id, "--policy", "random", "--episodes", "1", "--set", "max_steps=2"]) == 0
    for env_id in ("SemCom-MultiCell-v0", "SemCom-Offloading-v0"):  # neither overwrote the other
        assert json.loads((tmp_path / "results" / "eval" / env_id / "results.json").read_text())["meta"]["env_id"] == env_id


def test_eval_of_a_policy_on_another_config_names_the_differing_field(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "SemCom-MultiCell-v0", "--agent", "dqn", "--steps", "60", "--hp", "learning_starts=50",
                 "--set", "num_cells=2", "--out", str(out), "--no-progress", "--no-tensorboard", "--threads", "1"]) == 0
    assert main(["eval", "SemCom-MultiCell-v0", "--policy", str(out / "policy_seed0.pt"), "--set", "num_cells=3",
                 "--episodes", "1", "--out", str(tmp_path / "eval")]) == 2
    err = capsys.readouterr().err
    assert "Trained with num_cells=2 (here 3); evaluate it with --set num_cells=2" in err and "size mismatch" not in err
