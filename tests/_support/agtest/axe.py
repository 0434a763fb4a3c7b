"""Accessibility audits in the browser tests: axe-core's WCAG 2.1 A and AA rules, and reflow at 320 CSS px.

With ``ASSESSGATE_SCREENSHOTS=<folder>`` each checked page is also saved as a screenshot at 375 and 1280 px,
named after the check (``make screenshots``; docs/pages.md lists them).

Use it for every page the product serves (candidate pages, sandbox pages, console pages when they come)::

    def test_my_page(browser: Browser, axe: Axe) -> None:
        with audited_page(browser) as page:
            page.goto(url)
            axe.check(page, "my page")  # fails listing each violation: rule, impact, help, elements

axe-core is installed from the npm registry at test time, at the pinned version and integrity, into a cache
outside the repository (``$ASSESSGATE_TEST_CACHE``, else ``$XDG_CACHE_HOME/assessgate``, else
``~/.cache/assessgate``); it is never committed. Without npm or the registry the tests that need it are
skipped with a plain reason, and under ``CI=true`` they fail (like a missing chromium).

The candidate pages send a strict CSP without scripts; :func:`audited_page` opens a browser context with
``bypass_csp=True`` so that the audit itself can be injected (the page's own behaviour does not change).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest
from playwright.sync_api import Browser, Page

from agtest.postgres import in_ci

AXE_VERSION: Final = "4.14.1"
#: The registry's integrity of that version (npm checks the download against it; we check npm's record).
AXE_INTEGRITY: Final = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
WCAG21_AA: Final = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
#: WCAG 1.4.10 (reflow): content fits 320 CSS px without scrolling sideways (so it fits a 375 px phone).
REFLOW_WIDTH: Final = 320
#: The widths every page is also loaded at, and must not scroll sideways at: a phone and a laptop.
PAGE_WIDTHS: Final = (375, 1280)
NPM_TIMEOUT_S: Final = 300
#: Set to a folder, every audited page is also saved there as a screenshot at each width (``make screenshots``).
SCREENSHOTS_VARIABLE: Final = "ASSESSGATE_SCREENSHOTS"


def cache_dir() -> Path:
    if explicit := os.environ.get("ASSESSGATE_TEST_CACHE"):
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "assessgate"


class AxeUnavailableError(Exception):
    """axe-core could not be installed; the message says why, plainly."""


def install_axe(cache: Path) -> Path:
    """The path of ``axe.min.js`` at :data:`AXE_VERSION`, installed with npm into ``cache`` on first use.

    Concurrent test workers wait for one another on a lock file; the install goes to a temporary folder that
    is renamed into place only when complete, so a half-finished install is never used."""
    target = cache / f"axe-core-{AXE_VERSION}"
    script = target / "node_modules" / "axe-core" / "axe.min.js"
    if script.is_file():
        return script
    npm = shutil.which("npm")
    if npm is None:
        raise AxeUnavailableError("npm is not installed (apt-get install npm)")
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / "axe-core.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if script.is_file():
            return script
        staging = Path(tempfile.mkdtemp(prefix="axe-core-", dir=cache))
        try:
            _npm_install(npm, staging)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return script


def _npm_install(npm: str, folder: Path) -> None:
    command = [npm, "install", "--no-save", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", str(folder)]
    try:
        done = subprocess.run(
            [*command, f"axe-core@{AXE_VERSION}"], capture_output=True, text=True, timeout=NPM_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise AxeUnavailableError(f"npm install axe-core@{AXE_VERSION} took over {NPM_TIMEOUT_S} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise AxeUnavailableError(f"npm install axe-core@{AXE_VERSION} failed: {last}")
    record = json.loads((folder / "node_modules" / ".package-lock.json").read_text())
    installed = record["packages"]["node_modules/axe-core"]
    if (installed.get("version"), installed.get("integrity")) != (AXE_VERSION, AXE_INTEGRITY):
        raise AxeUnavailableError(f"npm installed axe-core {installed.get('version')} with an unexpected integrity")


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.rule} ({self.impact}): {self.help}: {', '.join(self.targets)}"


@dataclass(frozen=True)
class Axe:
    source: str

    def audit(self, page: Page, tags: tuple[str, ...] = WCAG21_AA) -> list[Violation]:
        """axe-core's violations of the page as it is now (rules with any of ``tags``)."""
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.add_script_tag(content=self.source)
        options = {"runOnly": {"type": "tag", "values": list(tags)}, "resultTypes": ["violations"]}
        result: dict[str, Any] = page.evaluate("async (options) => await axe.run(document, options)", options)
        return [
            Violation(
                rule=v["id"],
                impact=v.get("impact") or "",
                help=v["help"],
                targets=tuple(" ".join(map(str, node["target"])) for node in v["nodes"]),
            )
            for v in result["violations"]
        ]

    def check(self, page: Page, name: str) -> None:
        """Fails on any WCAG 2.1 A/AA violation, or if the page scrolls sideways at 320 CSS px or at any of
        :data:`PAGE_WIDTHS`."""
        violations = self.audit(page)
        assert not violations, f"{name}: axe-core {AXE_VERSION} found\n" + "\n".join(map(str, violations))
        assert_fits(page, name, (REFLOW_WIDTH, *PAGE_WIDTHS))
        if folder := os.environ.get(SCREENSHOTS_VARIABLE):
            screenshot(page, name, Path(folder))


def screenshot_name(name: str, width: int) -> str:
    """The file a page's screenshot gets: its audit name in lower case, words joined by dashes, and the width."""
    return "-".join(re.findall(r"[a-z0-9]+", name.lower())) + f"-{width}.png"


def screenshot(page: Page, name: str, folder: Path) -> None:
    """The page as it is now, whole, at each of :data:`PAGE_WIDTHS` (``make screenshots``; docs/pages.md)."""
    folder.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    try:
        for width in PAGE_WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            page.screenshot(path=str(folder / screenshot_name(name, width)), full_page=True)
    finally:
        if before:
            page.set_viewport_size(before)


def assert_fits(page: Page, name: str, widths: tuple[int, ...] = PAGE_WIDTHS) -> None:
    """Fails naming the widths at which the page scrolls sideways, and the elements too wide at each."""
    too_wide = {width: found for width in widths if (found := sideways_overflow(page, width))}
    assert not too_wide, f"{name} scrolls sideways: " + "; ".join(f"at {w} px {e}" for w, e in too_wide.items())


def sideways_overflow(page: Page, width: int = REFLOW_WIDTH) -> list[str]:
    """The elements wider than the viewport at ``width`` (empty when the page reflows), at the same height."""
    before = page.viewport_size
    page.set_viewport_size({"width": width, "height": before["height"] if before else 720})
    try:
        wide: list[str] = page.evaluate(
            """() => {
              if (document.documentElement.scrollWidth <= innerWidth) return [];
              const describe = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '');
              const wide = [...document.body.querySelectorAll('*')]
                .filter(e => e.getBoundingClientRect().right > innerWidth);
              return (wide.length ? wide : [document.documentElement]).slice(0, 10).map(describe);
            }"""
        )
    finally:
        if before:
            page.set_viewport_size(before)
    return wide


@pytest.fixture(scope="session")
def axe() -> Axe:
    try:
        script = install_axe(cache_dir())
    except AxeUnavailableError as problem:
        message = f"accessibility tests skipped: axe-core cannot be installed ({problem})"
        if in_ci():
            pytest.fail(f"CI=true requires axe-core: {message}")
        pytest.skip(message)
    return Axe(source=script.read_text())


@contextmanager
def audited_page(browser: Browser, **context: Any) -> Iterator[Page]:
    """A page in a context of its own that lets the audit in past the page's CSP (``bypass_csp=True``), in
    English (a date input's fields then read month, day, year)."""
    options: dict[str, Any] = {"bypass_csp": True, "locale": "en-US", "viewport": {"width": 1024, "height": 768}}
    instance = browser.new_context(**(options | context))
    try:
        yield instance.new_page()
    finally:
        instance.close()
