"""The ``semcom`` command: every subcommand runs and writes what it promises."""

from __future__ import annotations

import json

from semcom_envs.cli import main


def test_list_shows_ids_and_config_fields(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "SemCom-MultiCell-v0" in out and "num_cells" in out


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
    for figure in ("ee_per_slot.png", "ee_boxplot.png", "action_heatmap.png"):
        assert (tmp_path / figure).stat().st_size > 0
    assert "fraction_of_oracle" in (tmp_path / "results.md").read_text()


def test_eval_reports_bad_config_as_an_error_not_a_traceback(tmp_path, capsys):
    assert main(["eval", "SemCom-MultiCell-v0", "--policy", "random", "--set", "num_cells=0", "--out", str(tmp_path)]) == 2
    assert "num_cells" in capsys.readouterr().err


def test_throughput_runs_and_writes_json(tmp_path):
    out = tmp_path / "t.json"
    assert main(["throughput", "--batch", "1", "4", "--cells", "3", "--seconds", "0.01", "--no-anchors",
                 "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert any("batch=4" in r["what"] for r in rows) and all(v > 0 for r in rows for k, v in r.items() if k != "what")
