"""Fixtures shared by every test: the async backend, Hypothesis profiles and the two database engines.

Async test modules set ``pytestmark = pytest.mark.anyio``. ``database_url`` is parametrized over
``sqlite`` and ``postgres``; every test that uses it runs on both, and the terminal summary counts the
outcomes per engine so a skipped PostgreSQL half is never silent.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import threading
from collections import Counter
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings

from agtest import dropper, postgres, templates
from agtest.admission import UNLIMITED
from agtest.audit import dump, leaks
from agtest.sandbox_support import receiver, sandbox
from core.settings import Settings, load_settings
from storage.database import Database
from storage.migrations import migrate

__all__ = ["receiver", "sandbox"]  # fixtures: a running sandbox and a recording webhook receiver

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if postgres.in_ci() else "dev"))

_POSTGRES_PROBLEM: list[str | None] = []
#: What the session-end sweep found: databases of this run a teardown left behind (dropped), or why it could not.
_SWEPT: list[str] = []
_SWEEP_PROBLEM: list[str] = []
_ENGINE_OUTCOMES: Counter[tuple[str, str]] = Counter()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # asyncpg is asyncio-only


def postgres_problem() -> str | None:
    if not _POSTGRES_PROBLEM:
        _POSTGRES_PROBLEM.append(asyncio.run(postgres.server_problem()))
    return _POSTGRES_PROBLEM[0]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "postgres" and (problem := postgres_problem()) is not None:
        message = f"PostgreSQL half skipped: no server at {postgres.admin_url()} ({problem})"
        if postgres.in_ci():
            pytest.fail(f"CI=true requires PostgreSQL: {message}")
        pytest.skip(message)
    return name


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file of this test process, copied for each test that uses ``db``."""
    return templates.sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[str]:
    """A migrated PostgreSQL database of this test process: the template of every test database ``db`` uses."""
    with templates.postgres_template() as name:
        yield name


@pytest.fixture
def migrated_copy() -> None:
    """Asked for by ``db`` and by fixtures that migrate the test's database themselves: ``database_url`` is then
    a copy of a migrated database (their migrate finds every step applied) instead of an empty one."""


@pytest.fixture
def database_url(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A database of the test's own on the parametrized engine, dropped afterwards (sync, so CLI tests can use
    it). It has no rows; it is a copy of a migrated one when the test uses ``migrated_copy`` (``db`` does), else
    it has no tables either."""
    migrated = "migrated_copy" in request.fixturenames
    if engine == "sqlite":
        path = tmp_path / "assessgate.db"
        if migrated:
            templates.copy_sqlite(request.getfixturevalue("migrated_sqlite"), path)
        yield f"sqlite:///{path}"
        return
    url = (
        templates.copy_postgres(request.getfixturevalue("migrated_postgres"))
        if migrated
        else asyncio.run(postgres.create_database())
    )
    try:
        yield url
    finally:
        dropper.drop_soon(url)  # DROP DATABASE waits for a checkpoint; the next test need not


@pytest.fixture
def test_settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        {
            "ASSESSGATE_DATABASE_URL": database_url,
            "ASSESSGATE_DATA_DIR": str(tmp_path / "data"),
            "ASSESSGATE_ADMIN_TOKEN": "test-admin-token-0123456789",
            "ASSESSGATE_SECRET_KEYS": "aW5zZWN1cmUtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2Q=",
            "ASSESSGATE_KOMBO_WEBHOOK_SECRETS": "whsec-current-secret,whsec-previous-secret",
            "ASSESSGATE_KOMBO_API_KEY": "kombo-test-api-key-123",
            **UNLIMITED,
        }
    )


@pytest.fixture
async def db(test_settings: Settings, migrated_copy: None) -> AsyncIterator[Database]:
    """A started, migrated database with the tables bound to it; at the end of the test, the audit reads all of
    it: no configured secret or candidate answer may be stored in clear."""
    database = Database(test_settings.database)
    await database.start()
    await migrate(database)
    try:
        yield database
        found = leaks(await dump(database))
        assert found == [], f"in clear in the database: {', '.join(found)}"
    finally:
        await database.close()


@pytest.fixture(autouse=True)
def audited_responses() -> Iterator[None]:
    """The audit of every HTTP response any client in this process read during the test (test clients, the
    gateway's and the sandbox's own clients): none may hold a configured secret or candidate answer."""
    bodies: list[bytes] = []
    sync_send, async_send = httpx.Client.send, httpx.AsyncClient.send

    def send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = sync_send(self, request, **kwargs)
        if not kwargs.get("stream"):
            bodies.append(response.content)
        return response

    async def asend(self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = await async_send(self, request, **kwargs)
        if not kwargs.get("stream"):
            bodies.append(response.content)
        return response

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(httpx.Client, "send", send)
        patch.setattr(httpx.AsyncClient, "send", asend)
        yield
    found = leaks(b"\n".join(bodies).decode("utf-8", "replace"))
    assert found == [], f"in clear in an HTTP response: {', '.join(found)}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    found = sorted({name for title, text in report.sections if title.endswith(report.when) for name in leaks(text)})
    if found and report.outcome == "passed":  # the suite-wide audit: nothing we log may hold these in clear
        report.outcome = "failed"
        report.longrepr = f"in clear in the captured output ({report.when}): {', '.join(found)}"
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count outcomes per engine from the test's id, so the summary adds up under pytest-xdist too (where the
    reports reach this process from the workers)."""
    params = report.nodeid.partition("[")[2]
    engine = next((name for name in ("sqlite", "postgres") if re.search(rf"(^|-){name}(-|\]$)", params)), None)
    if engine is not None and (report.when == "call" or report.outcome != "passed"):
        _ENGINE_OUTCOMES[(engine, report.outcome)] += 1


def pytest_configure(config: pytest.Config) -> None:
    """SIGTERM (``timeout``, ``kill``, a CI job cancelled) ends the run like Ctrl-C: fixtures' teardowns and the
    session-end sweep still run. Without this, a run stopped that way left its test databases behind."""
    del config

    def interrupt(signum: int, frame: object) -> None:
        del signum, frame
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The session-end sweep: a test database this run created and a teardown left (PostgreSQL was restarting,
    the run was interrupted) is dropped now, so no ``ag_test_*`` database outlives the run that made it."""
    del session
    if not dropper.drain():
        _SWEEP_PROBLEM.append("the background drops did not finish in time")
    if not postgres.created:
        return
    try:
        _SWEPT.extend(asyncio.run(postgres.sweep()))
    except postgres.NOT_NOW as exc:
        _SWEEP_PROBLEM.append(f"{type(exc).__name__}: {exc}; left: {', '.join(sorted(postgres.created))}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for problem in dropper.problems:
        terminalreporter.write_line(f"a background drop failed (the sweep retried it): {problem}", yellow=True)
    if _SWEPT:
        terminalreporter.write_line(f"test databases a teardown left, dropped at the end: {', '.join(_SWEPT)}")
    for problem in _SWEEP_PROBLEM:
        terminalreporter.write_line(f"test databases NOT dropped ({problem})", red=True, bold=True)
    if not _ENGINE_OUTCOMES:
        return
    terminalreporter.section("database engines")
    for engine in ("sqlite", "postgres"):
        counts = {outcome: n for (name, outcome), n in _ENGINE_OUTCOMES.items() if name == engine}
        text = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "none ran"
        terminalreporter.write_line(f"{engine}: {text}")
    postgres_outcomes = {outcome for (name, outcome) in _ENGINE_OUTCOMES if name == "postgres"}
    if postgres_outcomes == {"skipped"} or (_POSTGRES_PROBLEM and _POSTGRES_PROBLEM[0] is not None):
        terminalreporter.write_line(
            f"PostgreSQL half SKIPPED: no server at {postgres.admin_url()}; "
            "set ASSESSGATE_TEST_POSTGRES_URL or start PostgreSQL to run it.",
            yellow=True,
            bold=True,
        )
