"""Leaderboard test helpers: a tiny protocol and its store, and a static page opened in Debian's headless
Chromium via Playwright.

Playwright drives the system browser (``/usr/bin/chromium``, which ``make test`` installs where missing); it never downloads
one. Without the browser the browser tests fail, unless ``SEMCOM_SKIP_BROWSER=1`` is set, in which case
they are skipped. Each call starts its own browser with a fresh temporary profile, so tests run in parallel.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, sync_playwright

from semcom_envs.leaderboard.protocol import Benchmark, Protocol
from semcom_envs.leaderboard.run import run
from semcom_envs.leaderboard.store import Store

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    """The system Chromium; fails the calling test when it is missing (skips it with ``SEMCOM_SKIP_BROWSER=1``)."""
    found = shutil.which("chromium") or ("/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None)
    if found:
        return found
    if os.environ.get("SEMCOM_SKIP_BROWSER") == "1":
        pytest.skip("no chromium and SEMCOM_SKIP_BROWSER=1")
    pytest.fail("Chromium not found (looked for `chromium` on PATH and /usr/bin/chromium): `make chromium` (run by "
                "`make test`) installs Debian's chromium package (apt-get install chromium); set SEMCOM_SKIP_BROWSER=1 "
                "to skip the browser tests")


@contextmanager
def open_page(path: str | Path, timeout_ms: float = 10_000, width: int = 1280) -> Iterator[Page]:
    """Open ``path`` (a local HTML file) as ``file://`` in headless Chromium, ``width`` CSS pixels wide, and yield
    the Playwright page.

    Console errors and uncaught page errors are collected; if the ``with`` body finished without raising,
    leaving the block asserts there were none.
    """
    executable = chromium_path()
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.set_default_timeout(timeout_ms)
            page.on("console", lambda message: _console_error(message, errors))
            page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
            page.goto(Path(path).resolve().as_uri(), wait_until="load")
            yield page
        finally:
            browser.close()
    assert not errors, f"browser errors on {path}: {errors}"


def _console_error(message: ConsoleMessage, errors: list[str]) -> None:
    if message.type == "error":
        errors.append(f"console error: {message.text}")



def tiny_protocol(name: str = "tiny", dqn_steps: int = 300) -> Protocol:
    """A protocol small enough for tests: two scenarios, three baselines, one agent, two seeds."""
    return Protocol(name=name, version=1, seeds=(0, 1), benchmarks=(
        Benchmark("SemCom-MultiCell-v0", {"num_cells": 2, "max_steps": 10}, {"dqn": dqn_steps}, {"dqn": {"learning_starts": 50}},
                  episodes=3, baselines=("random", "greedy", "oracle")),
        Benchmark("SemCom-Offloading-v0", {"num_devices": 2, "max_steps": 5}, episodes=3,
                  baselines=("random", "local_only", "exhaustive")),
    ))


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Protocol, Store]:
    """The tiny protocol, run once into a store shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("tiny")
    protocol, store = tiny_protocol(), Store(root / "lb.db")
    run(protocol, store, root / "runs", progress=False)
    return protocol, store
