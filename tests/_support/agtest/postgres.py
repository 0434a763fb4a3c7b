"""A throwaway PostgreSQL database per test, created on the server named by ASSESSGATE_TEST_POSTGRES_URL.

Outside CI a missing server skips the PostgreSQL half (and the summary says so); under ``CI=true`` it
fails the run, because CI must test both engines.

Every database this process creates is named ``ag_test_<run>_<random>`` and remembered. Dropping one waits
(bounded) for the server to accept connections again: a server restarting, or refusing a connection because
many test runs share it, is waited out, not left with a stray database. ``sweep`` (called when the pytest
session ends) drops whatever of this run's databases is still there, and only those: other runs on the same
server have another ``<run>``.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

T = TypeVar("T")
DEFAULT_URL: Final = "postgresql://postgres@127.0.0.1:5432/test"
PREFIX: Final = "ag_test_"
#: This process's run: the names of its databases start with ``ag_test_<RUN>_``.
RUN: Final = uuid.uuid4().hex[:8]
#: How long creating or dropping a database waits for the server to take connections again.
READY_WITHIN_S: Final = 90.0
#: The databases this run created and has not dropped yet.
created: set[str] = set()
#: Errors that mean "not now": the server is starting, shutting down or restarting, or has no free connection.
NOT_NOW: Final = (
    OSError,
    TimeoutError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
)


def admin_url() -> str:
    return os.environ.get("ASSESSGATE_TEST_POSTGRES_URL", DEFAULT_URL)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


async def server_problem() -> str | None:
    """None when the server answers, else why not."""
    try:
        conn = await asyncpg.connect(admin_url(), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


async def _on_admin(work: Callable[[asyncpg.Connection], Awaitable[T]], admin: str | None = None) -> T:
    """Run ``work`` on a connection to the admin database (``admin``, else ``admin_url()``), retrying (with
    backoff, up to ``READY_WITHIN_S``) while the server says "not now"."""
    deadline = time.monotonic() + READY_WITHIN_S
    pause = 0.1
    while True:
        try:
            conn = await asyncpg.connect(admin or admin_url(), timeout=10)
            try:
                return await work(conn)
            finally:
                await conn.close(timeout=10)
        except NOT_NOW:
            if time.monotonic() + pause > deadline:
                raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)


async def _admin_execute(statement: str, admin: str | None = None) -> None:
    async def execute(conn: asyncpg.Connection) -> None:
        await conn.execute(statement)

    await _on_admin(execute, admin)


def _name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


async def create_database(
    template: str | None = None, *, admin: str | None = None, registry: set[str] | None = None
) -> str:
    """A new database on the server of ``admin`` (else ``admin_url()``), remembered in ``registry`` (else
    ``created``): empty, or a copy of the database named ``template`` (which nobody may be connected to)."""
    admin = admin or admin_url()
    name = f"{PREFIX}{RUN}_{uuid.uuid4().hex[:16]}"
    (created if registry is None else registry).add(name)  # before CREATE: one whose answer was lost is swept too
    copy = "" if template is None else f' TEMPLATE "{template}"'
    await _admin_execute(f'CREATE DATABASE "{name}"{copy}', admin)
    return with_database(admin, name)


async def drop_database(url: str, *, admin: str | None = None, registry: set[str] | None = None) -> None:
    """Drop the database at ``url`` (through ``admin``, else ``admin_url()``) and forget it in ``registry``
    (else ``created``)."""
    name = _name(url)
    await _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', admin)
    (created if registry is None else registry).discard(name)


async def leftovers() -> list[str]:
    """This run's databases that exist on the server."""

    async def names(conn: asyncpg.Connection) -> list[str]:
        query = "SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname"
        return [row["datname"] for row in await conn.fetch(query, f"{PREFIX}{RUN}_")]

    return await _on_admin(names)


async def sweep() -> list[str]:
    """Drop every database of this run still on the server (a teardown that failed, an interrupted test);
    returns their names."""
    found = await leftovers()
    for name in found:
        await drop_database(with_database(admin_url(), name))
    created.clear()
    return found
