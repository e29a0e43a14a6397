"""The install's layout: import names a user's project cannot shadow, the deprecated 0.1 aliases, the light
core's missing-extra errors, and the progress lines of long commands. (The wheel itself is built, installed
into a clean virtualenv without torch and smoke-tested by ``make test-wheel``: tools/smoke_install.py.)"""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap

import pytest
from rich.console import Console

from semcom_envs.cli import main
from semcom_envs.extras import MissingExtraError, import_optional
from semcom_envs.progress import LOG_STEPS, Steps


def _python(code: str, cwd) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter from ``cwd`` (outside the repository: only the install resolves)."""
    return subprocess.run([sys.executable, "-W", "always::DeprecationWarning", "-c", textwrap.dedent(code)], cwd=cwd,
                          capture_output=True, text=True)


def test_a_users_own_agents_and_baselines_folders_do_not_shadow_the_suite(tmp_path):
    for name in ("agents", "baselines"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("MINE = True\n")
    result = _python("""
        import agents, baselines
        from semcom_agents import load_policy
        from semcom_baselines import make_policy
        from semcom_reproductions import fmt_ci
        assert agents.MINE and baselines.MINE
        print("ok")
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_the_01_names_are_deprecated_aliases_of_the_same_modules(tmp_path):
    result = _python("""
        import agents.dqn, semcom_agents.dqn
        from baselines.policy import Policy
        from semcom_baselines.policy import Policy as Same
        assert agents.dqn is semcom_agents.dqn and Policy is Same
        print("ok")
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "the import name 'agents' is deprecated" in result.stderr and "'baselines' is deprecated" in result.stderr


def test_a_missing_optional_module_names_its_extra_and_other_errors_pass_through(monkeypatch):
    monkeypatch.setitem(sys.modules, "cvxpy", None)  # as if not installed
    with pytest.raises(MissingExtraError, match=r"crra needs cvxpy.*the 'solvers' extra"):
        import_optional("cvxpy", "crra")
    with pytest.raises(ModuleNotFoundError) as info:  # an absent module that no extra installs keeps its own error
        import_optional("no_such_module_of_any_extra", "x")
    assert type(info.value) is ModuleNotFoundError and info.value.name == "no_such_module_of_any_extra"


def test_the_cvxpy_references_fail_at_construction_naming_the_solvers_extra(monkeypatch):
    from semcom_baselines import make_policy
    from semcom_envs.registration import make_scenario

    monkeypatch.setitem(sys.modules, "cvxpy", None)
    scenario = make_scenario("SemCom-TaskOriented-v1")
    make_policy("local_select", scenario)  # the local rules need no solver
    for name in ("msr", "fcr", "crra"):
        with pytest.raises(MissingExtraError, match=r"the 'solvers' extra"):
            make_policy(name, scenario)


def test_semcom_train_without_torch_says_which_extra_in_one_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)
    assert main(["train", "SemCom-MultiCell-v1", "--agent", "dqn", "--steps", "1000", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "semcom train needs torch" in err and "the 'agents' extra" in err


def test_eval_without_matplotlib_writes_the_tables_and_says_the_figures_need_the_plots_extra(monkeypatch, tmp_path, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a))
    assert main(["eval", "SemCom-MultiCell-v1", "--policy", "random", "--episodes", "1", "--set", "max_steps=3",
                 "--out", str(tmp_path), "--no-progress"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json", "results.md"]
    assert "the 'plots' extra" in capsys.readouterr().out


@pytest.mark.parametrize("total", [1, 7, 10, 95])
def test_progress_off_a_terminal_prints_at_most_one_line_per_tenth(total):
    out = io.StringIO()
    with Steps("jobs", total, console=Console(file=out, force_terminal=False, width=120)) as steps:
        for _ in range(total):
            steps.advance()
    lines = out.getvalue().splitlines()
    assert lines[0] == f"jobs: 0/{total}" and lines[-1].startswith(f"jobs: {total}/{total} (")
    assert len(lines) == 1 + min(total, LOG_STEPS)


def test_progress_disabled_prints_nothing():
    out = io.StringIO()
    with Steps("jobs", 5, enabled=False, console=Console(file=out, force_terminal=False)) as steps:
        steps.advance(5)
    assert out.getvalue() == "" and steps.done == 5


def test_progress_of_a_resumed_run_starts_at_its_checkpoint_and_logs_only_the_tenths_left():
    out = io.StringIO()
    with Steps("steps", 100, console=Console(file=out, force_terminal=False, width=40), completed=50) as steps:
        for _ in range(5):
            steps.advance(10, note="a note longer than the console is wide is not wrapped")
    lines = out.getvalue().splitlines()
    assert lines[0] == "steps: 50/100" and [line.split(" (")[0] for line in lines[1:]] == [
        f"steps: {k}/100" for k in (60, 70, 80, 90, 100)]
