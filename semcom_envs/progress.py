"""Progress of the commands that run longer than a few seconds: a live bar on a terminal, and where the
output is a log or a pipe (``make demo``, CI) one plain line per tenth of the work, so no command is
silent for minutes."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

LOG_STEPS = 10
"""Lines a non-terminal output gets over the whole run (one per tenth)."""


class Steps:
    """Counts ``total`` units of work under ``description``; ``enabled=False`` shows nothing.

    Use as a context manager and call :meth:`advance` after each unit or batch of units (``note`` is shown
    beside the count, e.g. how many jobs failed, or the training reward).
    """

    def __init__(self, description: str, total: int, enabled: bool = True, console: Console | None = None,
                 completed: int = 0) -> None:
        self.description, self.total, self.enabled = description, total, enabled and total > 0
        self.console = console or Console(stderr=True)
        self.done, self._start = completed, time.perf_counter()  # completed: work done before (a resumed run)
        self._logged = completed * LOG_STEPS // max(total, 1)
        self._bar: Progress | None = None

    def __enter__(self) -> Steps:
        if self.enabled and self.console.is_terminal:
            self._bar = Progress(TextColumn(self.description), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                 TimeRemainingColumn(), TextColumn("{task.fields[note]}"), console=self.console)
            self._bar.__enter__()
            self._task = self._bar.add_task(self.description, total=self.total, completed=self.done, note="")
        elif self.enabled:
            self.console.print(f"{self.description}: {self.done}/{self.total}", markup=False, highlight=False, soft_wrap=True)
        return self

    def advance(self, n: int = 1, note: str = "") -> None:
        """``n`` more units done."""
        self.done += n
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(self._task, advance=n, note=note)
            return
        tenth = self.done * LOG_STEPS // self.total
        if tenth > self._logged:
            self._logged = tenth
            elapsed = time.perf_counter() - self._start
            extra = f", {note}" if note else ""
            self.console.print(f"{self.description}: {self.done}/{self.total} ({elapsed:.0f} s{extra})", markup=False, soft_wrap=True,
                               highlight=False)

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.__exit__(kind, value, tb)
