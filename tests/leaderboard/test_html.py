"""The static leaderboard page: self-contained, escaped, and (in headless Chromium) rendered and sortable."""

from __future__ import annotations

import base64
import io
import math
import re
from pathlib import Path
from typing import Any

import pytest
from matplotlib.figure import Figure
from playwright.sync_api import Page, expect

from semcom_envs.leaderboard.html import render_page, write_page
from tests.leaderboard import conftest
from tests.leaderboard.conftest import open_page

NASTY = "ppo <lr=3e-4> & \"co\""
FIGURE_SIZE = (40, 20)  # pixels


def _png_base64() -> str:
    fig = Figure(figsize=(FIGURE_SIZE[0] / 20, FIGURE_SIZE[1] / 20), dpi=20)  # Agg canvas, no pyplot state
    fig.add_subplot().plot([0, 1, 2], [0, 1, 0.5])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=20)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _cell(value: float | None, fmt: str = "{:.3f}") -> dict[str, Any]:
    return {"text": "—" if value is None or math.isnan(value) else fmt.format(value), "value": value}


def _report() -> dict[str, Any]:
    columns = [{"key": "policy", "label": "policy", "numeric": False},
               {"key": "iqm", "label": "ee IQM [95% CI]", "numeric": True},
               {"key": "norm", "label": "normalised", "numeric": True}]
    values = {"oracle": (1.503, 1.0), "random": (0.2, 0.0), "greedy": (1.1, None), NASTY: (0.9, float("nan")),
              "mappo": (None, 0.5)}
    rows = [{"policy": {"text": name, "value": None}, "iqm": _cell(iqm), "norm": _cell(norm)} for name, (iqm, norm) in values.items()]
    aggregate_rows = [{"policy": {"text": name, "value": None}, "score": _cell(score, "{:.2f}")}
                      for name, score in [("oracle", 1.0), ("zeta", -0.25), ("alpha", 0.75)]]
    return {
        "title": "semcom-envs leaderboard",
        "subtitle": "protocol default v1 · 5 seeds · generated 2025-01-01 <test>",
        "notes": ["Evaluated policy: last checkpoint, deterministic actions & <no> tricks.", "Second paragraph."],
        "sections": [
            {"id": "SemCom-MultiCell-v0", "title": "SemCom-MultiCell-v0",
             "description": "primary metric ee (higher is better); normalised: random = 0, oracle = 1",
             "columns": columns, "rows": rows, "figures": []},
            {"id": "aggregate (all scenarios)", "title": "Aggregate", "description": "mean normalised score",
             "columns": [columns[0], {"key": "score", "label": "score", "numeric": True}], "rows": aggregate_rows,
             "figures": [{"title": "Learning curves <all>", "png": _png_base64()}]},
        ],
    }


ANCHORS = ["SemCom-MultiCell-v0", "aggregate--all-scenarios-"]


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return _report()


@pytest.fixture()
def page_path(report: dict[str, Any], tmp_path: Path) -> Path:
    return write_page(report, tmp_path / "site" / "index.html")


def test_page_is_self_contained(report: dict[str, Any], page_path: Path) -> None:
    page = page_path.read_text(encoding="utf-8")
    assert page == render_page(report)
    assert "http://" not in page and "https://" not in page
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", page)
    assert references and all(ref.startswith(("#", "data:image/png;base64,")) for ref in references), references
    assert "url(" not in page and "@import" not in page
    assert page.count('src="data:image/png;base64,') == 1
    assert report["sections"][1]["figures"][0]["png"] in page
    for anchor in ANCHORS:
        assert f'<table class="leaderboard" id="table-{anchor}">' in page
        assert f'href="#{anchor}"' in page


def test_page_escapes_text_and_marks_values(page_path: Path) -> None:
    page = page_path.read_text(encoding="utf-8")
    assert NASTY not in page and "<lr=" not in page and "<test>" not in page and "<no>" not in page
    assert "ppo &lt;lr=3e-4&gt; &amp; &quot;co&quot;" in page
    assert 'alt="Learning curves &lt;all&gt;"' in page
    assert '<td class="num" data-value="1.503">1.503</td>' in page
    assert '<td class="num" data-value="">—</td>' in page  # None and NaN alike
    assert '<th scope="col" class="num" data-key="iqm">' in page
    assert '<td data-value="">oracle</td>' in page
    assert page.rstrip().endswith("</html>") and "<footer>protocol default v1 · 5 seeds" in page


def test_missing_browser_fails_unless_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest.shutil, "which", lambda name: None)
    monkeypatch.setattr(conftest.os, "access", lambda path, mode: False)
    monkeypatch.delenv("SEMCOM_SKIP_BROWSER", raising=False)
    with pytest.raises(pytest.fail.Exception, match=r"make chromium. \(run by .make test.\) installs Debian.s chromium"):
        conftest.chromium_path()
    monkeypatch.setenv("SEMCOM_SKIP_BROWSER", "1")
    with pytest.raises(pytest.skip.Exception):
        conftest.chromium_path()


def _rows(page: Page, anchor: str) -> list[list[str]]:
    return page.locator(f"#table-{anchor} tbody tr").evaluate_all("rows => rows.map(r => Array.from(r.cells, c => c.innerText))")


def _expected_rows(section: dict[str, Any]) -> list[list[str]]:
    return [[row[column["key"]]["text"] for column in section["columns"]] for row in section["rows"]]


@pytest.mark.browser
def test_page_renders_in_chromium(report: dict[str, Any], page_path: Path) -> None:
    with open_page(page_path) as page:
        expect(page.locator("h1")).to_have_text(report["title"])
        expect(page.locator("footer")).to_have_text(report["subtitle"])
        for anchor, section in zip(ANCHORS, report["sections"]):
            expect(page.locator(f"#table-{anchor}")).to_be_visible()
            headers = page.locator(f"#table-{anchor} thead th").all_inner_texts()
            assert headers == [column["label"] for column in section["columns"]]
            assert _rows(page, anchor) == _expected_rows(section)
            expect(page.locator(f'nav a[href="#{anchor}"]')).to_have_text(section["title"])
        sizes = page.locator("img").evaluate_all("imgs => imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
        assert sizes == [[True, *FIGURE_SIZE]]


def _header(page: Page, anchor: str, index: int) -> Any:
    return page.locator(f"#table-{anchor} thead th").nth(index)


def _indicator(page: Page, anchor: str, index: int) -> str:
    return _header(page, anchor, index).locator("button").evaluate("b => getComputedStyle(b, '::after').content")


def _sorted_texts(section: dict[str, Any], key: str, descending: bool) -> list[str]:
    """Policy names ordered by a numeric column, missing (None/NaN) values last in either direction."""
    def number(row: dict[str, Any]) -> float | None:
        value = row[key]["value"]
        return None if value is None or math.isnan(value) else value

    present = sorted((row for row in section["rows"] if number(row) is not None), key=number, reverse=descending)
    return [row["policy"]["text"] for row in present + [row for row in section["rows"] if number(row) is None]]


@pytest.mark.browser
def test_tables_sort_on_header_click(report: dict[str, Any], page_path: Path) -> None:
    scenario, aggregate = report["sections"]
    with open_page(page_path) as page:
        anchor = ANCHORS[0]
        assert _header(page, anchor, 1).get_attribute("aria-sort") is None
        for index, key in [(1, "iqm"), (2, "norm")]:
            _header(page, anchor, index).click()
            expect(_header(page, anchor, index)).to_have_attribute("aria-sort", "ascending")
            assert "▲" in _indicator(page, anchor, index)
            assert [row[0] for row in _rows(page, anchor)] == _sorted_texts(scenario, key, descending=False)
            _header(page, anchor, index).click()
            expect(_header(page, anchor, index)).to_have_attribute("aria-sort", "descending")
            assert "▼" in _indicator(page, anchor, index)
            assert [row[0] for row in _rows(page, anchor)] == _sorted_texts(scenario, key, descending=True)
        assert _header(page, anchor, 1).get_attribute("aria-sort") is None  # only the last clicked column
        _header(page, anchor, 0).click()
        names = [row["policy"]["text"] for row in scenario["rows"]]
        assert [row[0] for row in _rows(page, anchor)] == sorted(names)
        _header(page, anchor, 0).click()
        assert [row[0] for row in _rows(page, anchor)] == sorted(names, reverse=True)
        # Rows move whole, and the other table is untouched.
        assert sorted(_rows(page, anchor)) == sorted(_expected_rows(scenario))
        assert _rows(page, ANCHORS[1]) == _expected_rows(aggregate)
        _header(page, ANCHORS[1], 1).click()
        assert [row[0] for row in _rows(page, ANCHORS[1])] == ["zeta", "alpha", "oracle"]
