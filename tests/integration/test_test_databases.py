"""The test databases' helpers (``agtest.postgres``), on a PostgreSQL server of this test's own (the shared one
must never be stopped): a drop waits for a server that is restarting, and the session-end sweep drops this
run's leftovers and nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest

from agtest import dropper, postgres
from agtest.private_postgres import PrivatePostgres, private_postgres, unavailable

pytestmark = [pytest.mark.postgres, pytest.mark.anyio]


@pytest.fixture
def own_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivatePostgres]:
    if (problem := unavailable()) is not None:
        if postgres.in_ci():
            pytest.fail(f"CI=true requires a private PostgreSQL: {problem}")
        pytest.skip(problem)
    with private_postgres() as server:
        monkeypatch.setenv("ASSESSGATE_TEST_POSTGRES_URL", server.url())
        monkeypatch.setattr(postgres, "created", set())  # this test's bookkeeping, not the session's
        yield server


async def databases(server: PrivatePostgres) -> list[str]:
    conn = await asyncpg.connect(server.url())
    try:
        rows = await conn.fetch("SELECT datname FROM pg_database WHERE datname LIKE 'ag\\_test\\_%' ORDER BY 1")
    finally:
        await conn.close()
    return [row["datname"] for row in rows]


async def test_a_drop_waits_for_the_server_to_accept_connections_again(own_server: PrivatePostgres) -> None:
    url = await postgres.create_database()
    assert postgres.created == {url.rsplit("/", 1)[1]}
    own_server.stop()
    drop = asyncio.create_task(postgres.drop_database(url))
    await asyncio.sleep(1)  # the server stays down this long: the drop must keep trying, not fail
    assert not drop.done()
    await asyncio.to_thread(own_server.start)
    await drop
    assert await databases(own_server) == []
    assert postgres.created == set()


async def test_the_sweep_drops_what_this_run_left_and_nothing_else(own_server: PrivatePostgres) -> None:
    kept = await postgres.create_database()
    left = [await postgres.create_database() for _ in range(2)]
    await postgres.drop_database(kept)
    other_run = "ag_test_0therrun_0123456789abcdef"  # another test run on the same server
    conn = await asyncpg.connect(own_server.url())
    try:
        await conn.execute(f'CREATE DATABASE "{other_run}"')
    finally:
        await conn.close()
    swept = await postgres.sweep()
    assert sorted(swept) == sorted(url.rsplit("/", 1)[1] for url in left)
    assert await databases(own_server) == [other_run]
    assert postgres.created == set()


async def test_a_database_handed_to_the_dropper_is_dropped_on_its_own_server(
    own_server: PrivatePostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = await postgres.create_database()
    dropper.drop_soon(url)
    monkeypatch.setenv("ASSESSGATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:9/elsewhere")
    assert await asyncio.to_thread(dropper.drain)
    assert await databases(own_server) == []
    assert postgres.created == set()
    assert dropper.problems == []
