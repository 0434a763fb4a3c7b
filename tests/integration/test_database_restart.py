"""A statement that PostgreSQL cuts off because it is shutting down or restarting is "database unavailable"
(a 503 with ``Retry-After``, which the drills' clients wait out), not an internal error. On a server of this
test's own, since the shared one must never restart."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest

from agtest import postgres
from agtest.private_postgres import PrivatePostgres, private_postgres, unavailable
from core.errors import DatabaseUnavailable
from core.settings import DatabaseSettings
from storage.database import Database

pytestmark = [pytest.mark.postgres, pytest.mark.anyio]


@pytest.fixture
def own_server() -> Iterator[PrivatePostgres]:
    if (problem := unavailable()) is not None:
        if postgres.in_ci():
            pytest.fail(f"CI=true requires a private PostgreSQL: {problem}")
        pytest.skip(problem)
    with private_postgres() as server:
        yield server


async def running(server: PrivatePostgres, text: str) -> int:
    """The backend pid of a statement containing ``text``, once it runs on the server."""
    conn = await asyncpg.connect(server.url())
    query = "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()"
    try:
        while (pid := await conn.fetchval(query, f"%{text}%")) is None:  # noqa: ASYNC110 - another connection
            await asyncio.sleep(0.05)
    finally:
        await conn.close()
    return int(pid)


async def terminate(server: PrivatePostgres, pid: int) -> None:
    conn = await asyncpg.connect(server.url())
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()


@pytest.mark.parametrize("cut", ["terminated", "restarted"])
async def test_a_statement_cut_by_the_server_is_database_unavailable(own_server: PrivatePostgres, cut: str) -> None:
    """``terminated``: the backend gets 57P01, as every backend does in a fast shutdown (deterministic);
    ``restarted``: a real fast restart, whichever error reaches the client first."""
    db = Database(DatabaseSettings(url=own_server.url()))
    await db.start()
    try:
        statement = asyncio.create_task(db.fetch("SELECT pg_sleep(60) AS cut_by_the_server"))
        pid = await asyncio.wait_for(running(own_server, "cut_by_the_server"), timeout=30)
        restart = own_server.restart() if cut == "restarted" else None  # fast: running statements are cut
        if restart is None:
            await terminate(own_server, pid)
        with pytest.raises(DatabaseUnavailable):
            await asyncio.wait_for(statement, timeout=60)
        if restart is not None:
            assert await asyncio.to_thread(restart.wait, 120) == 0
        rows = await db.fetch("SELECT 1 AS up")  # and the pool serves again afterwards
        assert [dict(row) for row in rows] == [{"up": 1}]
    finally:
        await db.close()


async def test_a_connection_left_mid_statement_is_unavailable_and_the_pool_starts_afresh(
    own_server: PrivatePostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seen in the kill drill under load: after a restart a pooled connection answered "cannot switch to state
    12; another operation is in progress" (asyncpg's InternalClientError), a 500. It is the server's absence:
    a 503, and every pooled connection is replaced on its next use."""
    db = Database(DatabaseSettings(url=own_server.url()))
    await db.start()
    try:
        before = [dict(r) for r in await db.fetch("SELECT pg_backend_pid() AS pid")]
        real = asyncpg.Connection.fetch

        async def cut_midway(connection: object, *args: object, **kwargs: object) -> object:
            monkeypatch.setattr(asyncpg.Connection, "fetch", real)  # once: the next statement is served
            message = "cannot switch to state 12; another operation (2) is in progress"
            raise asyncpg.exceptions.InternalClientError(message)

        monkeypatch.setattr(asyncpg.Connection, "fetch", cut_midway)
        with pytest.raises(DatabaseUnavailable):
            await db.fetch("SELECT 1 AS up")
        after = [dict(r) for r in await db.fetch("SELECT pg_backend_pid() AS pid")]
        assert after != before  # a fresh connection, not the one that was left mid-statement
    finally:
        await db.close()
