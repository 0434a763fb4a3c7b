"""Headless Chromium from Debian (never a downloaded browser), driven by Playwright.

Outside CI a missing ``chromium`` skips the browser tests with a plain reason; under ``CI=true`` it fails.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, sync_playwright

from agtest.postgres import in_ci

FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")  # Playwright's sync API holds an event loop: never let it outlive its module
def browser() -> Iterator[Browser]:
    with launched() as instance:
        yield instance


@contextmanager
def launched() -> Iterator[Browser]:
    """Chromium for one block. While it runs, this thread's event loop is Playwright's: a test that also needs
    ``asyncio.run`` (a PostgreSQL database fixture) launches it after those fixtures, with this."""
    path = chromium_path()
    if path is None:
        message = "browser tests skipped: Debian's chromium is not installed (apt-get install chromium)"
        if in_ci():
            pytest.fail(f"CI=true requires chromium: {message}")
        pytest.skip(message)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=FLAGS)
        try:
            yield instance
        finally:
            instance.close()
