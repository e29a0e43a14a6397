"""The leaderboard as one static HTML page: tables you can sort, figures, notes.

The page is self-contained so that it can be archived next to the results, attached to a release or
opened straight from disk (``file://``) on a machine without network: the style sheet and the sorting
script are inline, figures are ``data:`` PNGs, and nothing refers to a remote resource. It renders the
plain, JSON-able report dict built by the leaderboard (title, subtitle, notes, and one section per table),
so the numbers on the page are exactly the report's texts; each cell also carries its number in
``data-value``, which the sorting script uses, so sorting is numeric and missing values always sort last.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

_STYLE = """
:root { color-scheme: light; --rule: #d0d4da; --muted: #5b6470; --accent: #1f5fa8; }
body { margin: 0 auto; max-width: 96rem; padding: 1.5rem 1.25rem 2rem; color: #1b1f24; background: #fff;
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .35rem; padding-bottom: .2rem; border-bottom: 1px solid var(--rule); }
a { color: var(--accent); }
.subtitle, .description, footer { color: var(--muted); }
.subtitle { margin: 0 0 1rem; }
nav ol { margin: .25rem 0 1rem; padding-left: 1.5rem; columns: 2 18rem; }
.table-wrap { overflow-x: auto; }
table.leaderboard { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .85rem; }
table.leaderboard th, table.leaderboard td { padding: .25rem .5rem; border-bottom: 1px solid var(--rule); text-align: left;
                                             white-space: nowrap; vertical-align: top; }
table.leaderboard thead th { white-space: normal; max-width: 9.5rem; vertical-align: bottom; }
table.leaderboard td:not(.num) { white-space: normal; max-width: 24rem; overflow-wrap: anywhere; }
table.leaderboard .ci { display: block; font-size: .8em; color: var(--muted); }
table.leaderboard thead th { border-bottom: 2px solid #8a929c; background: #f4f6f8; position: sticky; top: 0; }
table.leaderboard th button { font: inherit; color: inherit; text-align: inherit; padding: 0; border: 0; background: none;
                              cursor: pointer; }
table.leaderboard th button::after { content: " \\2195"; color: #a0a7b0; }
table.leaderboard th[aria-sort="ascending"] button::after { content: " \\25B2"; color: inherit; }
table.leaderboard th[aria-sort="descending"] button::after { content: " \\25BC"; color: inherit; }
table.leaderboard .num { text-align: right; }
table.leaderboard td.num { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-variant-numeric: tabular-nums; }
table.leaderboard tbody tr:nth-child(even) { background: #fafbfc; }
table.leaderboard tbody tr:hover { background: #eef3fa; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 34rem), 1fr)); gap: 1rem;
           margin: .5rem 0 1.25rem; }
figure { margin: 0; }
figure img { width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { color: var(--muted); font-size: .9rem; }
footer { margin-top: 2.5rem; padding-top: .5rem; border-top: 1px solid var(--rule); font-size: .85rem; }
"""

# Click a header to sort by its column (ascending, then reversing); numeric columns sort by data-value
# with missing values last in both directions, text columns alphabetically. Array.prototype.sort is stable.
_SCRIPT = """
for (const table of document.querySelectorAll("table.leaderboard")) {
  const heads = Array.from(table.tHead.rows[0].cells);
  heads.forEach((th, col) => th.addEventListener("click", () => {
    const sign = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    for (const h of heads) h.removeAttribute("aria-sort");
    th.setAttribute("aria-sort", sign > 0 ? "ascending" : "descending");
    const numeric = th.classList.contains("num");
    const body = table.tBodies[0];
    const rows = Array.from(body.rows).sort((a, b) => {
      const x = a.cells[col], y = b.cells[col];
      if (!numeric) return sign * x.textContent.localeCompare(y.textContent);
      const u = x.dataset.value, v = y.dataset.value;
      if (u === "" || v === "") return (u === "") - (v === "");
      return sign * (Number(u) - Number(v));
    });
    body.append(...rows);
  }));
}
"""


def render_page(report: Mapping[str, Any]) -> str:
    """A self-contained static HTML page (no network, opens from disk) of a leaderboard report."""
    title = escape(str(report["title"]))
    subtitle = escape(str(report.get("subtitle", "")))
    anchors = _anchors([str(section["id"]) for section in report["sections"]])
    toc = "\n".join(f'<li><a href="#{anchor}">{escape(str(section["title"]))}</a></li>'
                    for anchor, section in zip(anchors, report["sections"]))
    notes = "\n".join(f"<p class=\"note\">{escape(str(note))}</p>" for note in report.get("notes", []))
    sections = "\n".join(_section(anchor, section) for anchor, section in zip(anchors, report["sections"]))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{_STYLE}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<p class="subtitle">{subtitle}</p>
</header>
<nav aria-label="Contents">
<strong>Contents</strong>
<ol>
{toc}
</ol>
</nav>
{notes}
<main>
{sections}
</main>
<footer>{subtitle}</footer>
<script>{_SCRIPT}</script>
</body>
</html>
"""


def write_page(report: Mapping[str, Any], path: str | Path) -> Path:
    """Write :func:`render_page`'s page to ``path`` (UTF-8, parent folders created) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_page(report), encoding="utf-8")
    return path


def _anchors(ids: list[str]) -> list[str]:
    """HTML ids from section ids: characters other than [A-Za-z0-9-] become '-', repeats get a suffix."""
    anchors: list[str] = []
    for raw in ids:
        base = re.sub(r"[^A-Za-z0-9-]", "-", raw) or "section"
        anchor, n = base, 1
        while anchor in anchors:
            n += 1
            anchor = f"{base}-{n}"
        anchors.append(anchor)
    return anchors


def _section(anchor: str, section: Mapping[str, Any]) -> str:
    columns = section["columns"]
    head = "".join(f'<th scope="col"{_num_class(column)} data-key="{escape(str(column["key"]))}">'
                   f'<button type="button">{escape(str(column["label"]))}</button></th>' for column in columns)
    body = "\n".join("<tr>" + "".join(_cell(column, row.get(column["key"])) for column in columns) + "</tr>"
                     for row in section["rows"])
    figures = "\n".join(
        f'<figure><img src="data:image/png;base64,{escape("".join(str(figure["png"]).split()))}" '
        f'alt="{escape(str(figure["title"]))}"><figcaption>{escape(str(figure["title"]))}</figcaption></figure>'
        for figure in section.get("figures", []))
    description = section.get("description")
    return f"""<section id="{anchor}">
<h2>{escape(str(section["title"]))}</h2>
{f'<p class="description">{escape(str(description))}</p>' if description else ""}
<div class="table-wrap">
<table class="leaderboard" id="table-{anchor}">
<thead><tr>{head}</tr></thead>
<tbody>
{body}
</tbody>
</table>
</div>
{f'<div class="figures">{figures}</div>' if figures else ""}
</section>"""


def _num_class(column: Mapping[str, Any]) -> str:
    return ' class="num"' if column.get("numeric") else ""


def _cell(column: Mapping[str, Any], cell: Mapping[str, Any] | None) -> str:
    """A ``<td>`` showing the cell's text; a row without the column's key gets an empty cell."""
    cell = cell or {}
    text = str(cell.get("text", ""))
    interval = _INTERVAL.match(text)
    shown = (f'{escape(interval[1])}<span class="ci">{escape(interval[2])}</span>' if interval and column.get("numeric")
             else escape(text))
    return f'<td{_num_class(column)} data-value="{_data_value(cell.get("value"))}">{shown}</td>'


_INTERVAL = re.compile(r"^(\S+) (\[[^\]]*\])$")
"""An interval cell's text, ``point [low, high]``: the page shows the interval on a second, smaller line."""


def _data_value(value: Any) -> str:
    """The number as JavaScript's ``Number()`` reads it; empty for a missing one (None or NaN)."""
    if value is None:
        return ""
    number = float(value)
    if math.isnan(number):
        return ""
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return repr(number)
