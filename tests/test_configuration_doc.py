"""The configuration reference in the docs is the one the code declares."""

from __future__ import annotations

from pathlib import Path

from semcom_envs.cli import main
from semcom_envs.scenarios import config_reference

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_the_committed_configuration_reference_is_current():
    assert DOC.read_text() == config_reference(), "regenerate it: semcom list --markdown > docs/configuration.md"


def test_semcom_list_prints_allowed_values_and_the_markdown_reference(capsys):
    assert main(["list"]) == 0
    assert "integer [1, 19]" in capsys.readouterr().out
    assert main(["list", "--markdown"]) == 0
    assert capsys.readouterr().out == config_reference()
