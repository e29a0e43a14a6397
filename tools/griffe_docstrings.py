"""A griffe extension for the documentation site (``mkdocs.yml``): the docstrings' reStructuredText habits as Markdown.

The docstrings are written for ``help()`` and Sphinx-style readers; mkdocstrings renders them as Markdown.
This extension rewrites, at load time and only for the site (the source is untouched):

- simple tables (``====  ====`` borders, the scenario modules' spaces/reward/infos tables) into Markdown
  tables, continuation lines joined into their row (a first column starting with "(" continues the label above);
- cross-reference roles (``:func:`x```, ``:class:`~a.b.C```, ``:mod:``, ``:meth:``, ``:attr:``,
  ``:data:``, ``:exc:``, ``:obj:``) into code spans (``~`` keeps the last component, as Sphinx shows it);
- doctest blocks (``>>>`` lines and their output) into fenced ``pycon`` blocks;
- a paragraph ending in ``::`` before an indented literal block into one ending in ``:``.

Static: griffe reads the source and nothing is imported.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_BORDER = re.compile(r"^(\s*)(=+)(\s+=+)+\s*$")
_ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|exc|obj|py:\w+):`(~?)([^`]+)`")


def _role(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    target = target.strip()
    if "<" in target and target.endswith(">"):  # :func:`text <target>`
        target = target.split("<")[0].strip()
    elif tilde:
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def _cell(text: str) -> str:
    return text.strip().replace("|", "\\|")


def _table(lines: list[str], start: int) -> tuple[list[str], int] | None:
    """The Markdown form of the simple table whose top border is ``lines[start]``, and the index after it."""
    border = lines[start]
    indent = len(border) - len(border.lstrip())
    spans = [m.span() for m in re.finditer(r"=+", border)]
    borders = [start]
    i = start + 1
    while i < len(lines):
        if _BORDER.match(lines[i]) and len(lines[i]) - len(lines[i].lstrip()) == indent:
            borders.append(i)
            # A header is closed by a second border; the table by the border after the rows.
            if len(borders) == 3 or (len(borders) == 2 and not _has_more_rows(lines, i)):
                break
        i += 1
    else:
        return None
    header: list[str] | None = None
    body_start = borders[0] + 1
    if len(borders) == 3:
        header = [_cell(c) for c in _split(lines[borders[0] + 1], spans)]
        body_start = borders[1] + 1
    rows: list[list[str]] = []
    for line in lines[body_start:borders[-1]]:
        if not line.strip():
            continue
        cells = _split(line, spans)
        # A new row starts where the first column has text; a parenthesis there continues the label above.
        if (cells[0].strip() and not cells[0].strip().startswith("(")) or not rows:
            rows.append([c.strip() for c in cells])
        else:
            rows[-1] = [f"{a} {b.strip()}".strip() for a, b in zip(rows[-1], cells)]
    width = len(spans)
    out = ["", "| " + " | ".join(header or [""] * width) + " |", "|" + " --- |" * width]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    out.append("")
    return out, borders[-1] + 1


def _has_more_rows(lines: list[str], i: int) -> bool:
    """Whether the border at ``i`` is a header's closing border: non-blank rows follow before the next border."""
    j = i + 1
    while j < len(lines) and lines[j].strip() and not _BORDER.match(lines[j]):
        j += 1
    return j > i + 1 and j < len(lines) and bool(_BORDER.match(lines[j]))


def _split(line: str, spans: list[tuple[int, int]]) -> list[str]:
    cells = []
    for k, (a, _) in enumerate(spans):
        b = spans[k + 1][0] if k + 1 < len(spans) else len(line)
        cells.append(line[a:b] if a < len(line) else "")
    return cells


def convert(text: str) -> str:
    """The docstring ``text`` in Markdown (see the module docstring)."""
    text = _ROLE.sub(_role, text)
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if _BORDER.match(line):
            table = _table(lines, i)
            if table is not None:
                out += table[0]
                i = table[1]
                continue
        if line.lstrip().startswith(">>> "):
            indent = line[: len(line) - len(line.lstrip())]
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i].lstrip())
                i += 1
            out += [indent + "```pycon", *(indent + b for b in block), indent + "```"]
            continue
        if line.rstrip().endswith("::") and i + 2 < len(lines) and not lines[i + 1].strip() and lines[i + 2].startswith(" "):
            stripped = line.rstrip()[:-1]
            out.append(stripped if stripped.strip() != ":" else "")
            i += 1
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


class RstToMarkdown(griffe.Extension):
    """Rewrites every loaded docstring with :func:`convert`."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value)
