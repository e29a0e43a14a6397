"""Reports from a real store: tables, exports and the HTML page (in headless Chromium) show the stored numbers.

Float comparisons are exact by construction: exports copy stored doubles (CSV and JSON hold their
shortest round-trip repr), and the tables' numbers are the same ``stats`` functions on the same
stored values as here (the statistics use only sorting, means and a seeded bootstrap: the same bits
on every CPU, so the published page and Markdown match their committed store anywhere).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from semcom_envs.cli import main
from semcom_envs.leaderboard import report
from semcom_envs.leaderboard.protocol import Protocol
from semcom_envs.leaderboard.stats import iqm, plateau
from semcom_envs.leaderboard.store import Store
from tests.leaderboard.conftest import open_page


def _protocol_file(protocol: Protocol, tmp_path: Path) -> str:
    path = tmp_path / "protocol.json"
    path.write_text(json.dumps(protocol.to_dict()))
    return str(path)


def _stored_iqm(store: Store, env_id: str, policy: str) -> float:
    return float(iqm(np.array([r["primary_value"] for r in store.rows() if r["env_id"] == env_id and r["policy"] == policy])))


def test_show_prints_one_table_per_scenario_with_the_stored_iqm(tiny_store, tmp_path, capsys) -> None:
    protocol, store = tiny_store
    assert main(["leaderboard", "show", "--protocol", _protocol_file(protocol, tmp_path), "--store", str(store.path)]) == 0
    out = capsys.readouterr().out
    for env_id in protocol.env_ids:
        assert f"### {env_id}" in out
    line = next(x for x in out.splitlines() if x.startswith("| dqn |"))
    assert f"| {_stored_iqm(store, 'SemCom-MultiCell-v0', 'dqn'):.4g} [" in line
    assert "random = 0, oracle (best full-information baseline) = 1" in out and "P(better than greedy)" in out
    assert "random = 0, exhaustive (best full-information baseline) = 1" in out and "P(better than local_only)" in out


def test_exports(tiny_store, tmp_path) -> None:
    protocol, store = tiny_store
    pfile = _protocol_file(protocol, tmp_path)
    rows = store.rows()
    for fmt, name in (("csv", "r.csv"), ("marl-eval", "r.json"), ("markdown", "r.md")):
        assert main(["leaderboard", "export", "--protocol", pfile, "--store", str(store.path), "--format", fmt,
                     "--out", str(tmp_path / name)]) == 0
    with (tmp_path / "r.csv").open() as f:
        lines = list(csv.DictReader(f))
    assert len(lines) == len(rows)
    assert {(x["env_id"], x["policy"], int(x["seed"]), float(x["primary_value"])) for x in lines} == \
        {(r["env_id"], r["policy"], r["seed"], r["primary_value"]) for r in rows}
    data = json.loads((tmp_path / "r.json").read_text())["semcom"]
    run = data["SemCom-MultiCell-v0"]["dqn"]["run_1"]
    row = next(r for r in rows if r["policy"] == "dqn" and r["seed"] == 1)
    assert run["absolute_metrics"]["return"] == row["episode_values"]["ee"]
    steps = [k for k in run if k.startswith("step_")]
    assert len(steps) == len(row["curve"]) and run["step_0"]["step_count"] == row["curve"][0]["step"]
    assert set(data["SemCom-Offloading-v0"]["exhaustive"]) == {"run_0", "run_1"}
    assert "### SemCom-Offloading-v0" in (tmp_path / "r.md").read_text()


def test_commands_explain_an_empty_store(tmp_path, capsys) -> None:
    missing = tmp_path / "empty.db"
    assert main(["leaderboard", "show", "--protocol", "demo", "--store", str(missing)]) == 2
    assert "no such store; run `semcom leaderboard run --protocol demo` first" in capsys.readouterr().err
    assert not missing.exists()  # reading never leaves an empty store behind
    assert main(["leaderboard", "html", "--protocol", "default", "--store", str(missing), "--out", str(tmp_path / "p.html")]) == 2
    assert "or read the published results (in a clone of the repository): --store docs/leaderboard/leaderboard.db" in \
        capsys.readouterr().err
    Store(missing)  # a store that exists but holds other results: what it holds, and the same hint
    assert main(["leaderboard", "show", "--protocol", "demo", "--store", str(missing)]) == 2
    assert "holds no results of protocol demo" in capsys.readouterr().err
    assert main(["leaderboard", "protocol", "--protocol", "demo"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "demo"


@pytest.mark.parametrize(("slope", "status"), [(0.0, "flat"), (1.0, "still changing")])
def test_each_scenario_says_whether_its_agents_curves_are_flat(tiny_store, slope, status) -> None:
    """The plateau check reaches the table's description: runs whose curves differ by a constant offset (0 and 0.1,
    which the end's interval spans) are flat; rising by 1 per point, the final fifth (the last 2 of 10 points) has
    its mean 0.5 below the end, outside that interval."""
    protocol, store = tiny_store
    rows = [dict(r) for r in store.rows() if r["env_id"] == "SemCom-MultiCell-v0"]
    for r in rows:
        if r["policy"] == "dqn":
            r["curve"] = [{"step": 100 * (k + 1), "reward": slope * k + 0.1 * r["seed"]} for k in range(10)]
    section = report.sections(report.summarise(rows), report.learning_curves(rows), figures=False)[0]
    assert section["description"].endswith(f"training curve (reward) over its last fifth: dqn {status}")


def test_curves_track_the_primary_metric_where_every_point_has_it(tiny_store) -> None:
    """A reward that has levelled off while the ranked metric still moves (the auction's utility and regret): the
    check follows the metric; one run without it (stored before the metric was) puts the scenario back on reward."""
    protocol, store = tiny_store
    rows = [dict(r) for r in store.rows() if r["env_id"] == "SemCom-MultiCell-v0"]
    agents = [r for r in rows if r["policy"] == "dqn"]
    for r in agents:
        r["curve"] = [{"step": 100 * (k + 1), "reward": 0.1 * r["seed"], "ee": float(k)} for k in range(10)]
    curves = report.learning_curves(rows)["SemCom-MultiCell-v0"]
    assert curves.metric == "ee" and curves.runs["dqn"][1:].tolist() == [list(range(10))] * len(agents)
    section = report.sections(report.summarise(rows), {"SemCom-MultiCell-v0": curves}, figures=False)[0]
    assert section["description"].endswith("training curve (ee) over its last fifth: dqn still changing")
    agents[0]["curve"] = [{k: v for k, v in pt.items() if k != "ee"} for pt in agents[0]["curve"]]
    curves = report.learning_curves(rows)["SemCom-MultiCell-v0"]
    assert curves.metric == "reward" and plateau(curves.runs["dqn"][1:]).flat


@pytest.mark.browser
def test_page_shows_the_stored_numbers_in_chromium(tiny_store, tmp_path) -> None:
    protocol, store = tiny_store
    page_path = tmp_path / "lb.html"
    assert main(["leaderboard", "html", "--protocol", _protocol_file(protocol, tmp_path), "--store", str(store.path),
                 "--out", str(page_path), "--figures-dir", str(tmp_path / "figures")]) == 0
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == [
        "aggregate-interval-estimates.png", "semcom-multicell-v0-interval-estimates.png", "semcom-multicell-v0-learning-curves.png",
        "semcom-offloading-v0-interval-estimates.png"]
    expected = report.report(store.rows(), protocol.to_dict(), figures=False)["sections"]
    with open_page(page_path) as page:
        _assert_page_tables(page, expected)
        score = page.locator("#table-SemCom-MultiCell-v0 tbody tr", has_text="dqn").locator("td").nth(5).inner_text()
        assert " ".join(score.split()).startswith(f"{_stored_iqm(store, 'SemCom-MultiCell-v0', 'dqn'):.4g} [")
        images = page.locator("img").evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
        assert len(images) >= 4 and all(w > 0 for w in images)  # three interval plots and the learning curves


DOCS = Path(__file__).resolve().parents[2] / "docs" / "leaderboard"


def _assert_page_tables(page, sections) -> None:
    for section in sections:
        table = page.locator(f"#table-{section['id']}")
        assert table.is_visible()
        assert [h.strip() for h in table.locator("thead th").all_inner_texts()] == [c["label"] for c in section["columns"]]
        cells = table.locator("tbody tr").evaluate_all("rows => rows.map(r => [...r.cells].map(c => c.innerText))")
        # An interval shows its CI on a second line: the same text up to the line break.
        assert [[" ".join(c.split()) for c in row] for row in cells] == [
            [row[c["key"]]["text"] for c in section["columns"]] for row in section["rows"]]


def _columns_in_view(page, section) -> list[str]:
    """The labels of the section's columns whose header lies wholly inside the visible part of its table box."""
    return page.locator(f"#table-{section['id']}").evaluate(
        """table => {
             const box = table.closest('.table-wrap').getBoundingClientRect();
             return [...table.tHead.rows[0].cells]
               .filter(th => { const r = th.getBoundingClientRect(); return r.left >= box.left - 0.5 && r.right <= box.right + 0.5; })
               .map(th => th.innerText.trim());
           }""")


@pytest.mark.browser
def test_the_published_leaderboard_matches_its_store() -> None:
    """docs/leaderboard (the results of the README and docs/results.md): the page and the Markdown show what the committed store holds."""
    from semcom_envs.leaderboard.protocol import DEFAULT

    committed = (DOCS / "leaderboard.db").read_bytes()
    rows = DEFAULT.stored_rows(Store(DOCS / "leaderboard.db"))  # checks that rows shared from an earlier version still apply
    assert (DOCS / "leaderboard.db").read_bytes() == committed, "reading the committed store wrote to it"
    assert len(rows) == len(DEFAULT.jobs("unused"))
    page = report.report(rows, DEFAULT.to_dict(), figures=False)
    markdown = (DOCS / "leaderboard.md").read_text()
    for section in page["sections"]:
        assert report.markdown(section) in markdown
    with open_page(DOCS / "leaderboard.html", width=1400) as browser_page:
        _assert_page_tables(browser_page, page["sections"])
        for section in page["sections"]:  # a reader at 1400 px sees every column without scrolling
            assert _columns_in_view(browser_page, section) == [c["label"] for c in section["columns"]], section["id"]
    with open_page(DOCS / "leaderboard.html", width=800) as browser_page:
        for section in page["sections"]:  # at 800 px at least the policy and its score with the CI
            key_columns = [c["label"] for c in section["columns"] if c["key"] in ("policy", "score")]
            assert set(key_columns) <= set(_columns_in_view(browser_page, section)), section["id"]


def test_the_results_headings_name_the_current_protocol_version() -> None:
    """The README's and docs/results.md's results sections say which protocol version their tables come from; the
    heading must follow a version bump (the README's once lagged two versions behind)."""
    import re

    from semcom_envs.leaderboard.protocol import DEFAULT

    root = Path(__file__).resolve().parents[2]
    for path in (root / "README.md", root / "docs" / "results.md"):
        versions = re.findall(r"^#+ .*default protocol \(v(\d+)\)", path.read_text(), flags=re.MULTILINE)
        assert versions == [str(DEFAULT.version)], (path.name, versions)
