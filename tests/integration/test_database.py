"""The migration set and the transaction helper, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from agtest import only_postgres, only_sqlite
from api.composition import worker_process_settings
from core.errors import DatabaseUnavailable
from core.settings import DatabaseSettings, Settings
from storage.database import Database
from storage.migrations import applied_ids, known_ids, migrate, pending_ids
from storage.sqlite_connections import SqliteConnection

pytestmark = pytest.mark.anyio


async def schema_of(db: Database) -> dict[str, set[str]]:
    """Every table of the migrated schema with its columns."""
    if db.is_sqlite:
        names = [r["name"] for r in await db.fetch("SELECT name FROM sqlite_master WHERE type = 'table'")]
        tables = [name for name in names if not name.startswith("sqlite_")]
        return {t: {row["name"] for row in await db.fetch(f"PRAGMA table_info({t})")} for t in tables}
    rows = await db.fetch(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
    )
    schema: dict[str, set[str]] = {}
    for row in rows:
        schema.setdefault(row["table_name"], set()).add(row["column_name"])
    return schema


async def test_migrations_run_forwards_from_empty(test_settings: Settings) -> None:
    db = Database(test_settings.database)
    await db.start()
    try:
        assert await pending_ids(db) == known_ids()
        assert await migrate(db) == known_ids()
        assert await migrate(db) == []
        assert await pending_ids(db) == []
        assert await applied_ids(db) == set(known_ids())
    finally:
        await db.close()


async def test_both_engines_migrate_to_the_same_tables_and_columns(db: Database, tmp_path: Path) -> None:
    """The migrations are the one statement of the schema: whichever engine runs them, the same tables and
    columns result (each engine's half compares itself with a fresh embedded SQLite database)."""
    reference = Database(DatabaseSettings(url=f"sqlite:///{tmp_path / 'reference.db'}"))
    await reference.start()
    try:
        await migrate(reference)
        expected = await schema_of(reference)
    finally:
        await reference.close()
    assert "assessment_order" in expected
    assert await schema_of(db) == expected


async def test_concurrent_migrate_runs_apply_each_step_once(test_settings: Settings) -> None:
    databases = [Database(test_settings.database) for _ in range(3)]
    for database in databases:
        await database.start()
    try:
        results = await asyncio.gather(*(migrate(database) for database in databases))
        applied = [step for result in results for step in result]
        assert sorted(applied) == sorted(known_ids())
        rows = await databases[0].fetch("SELECT id FROM assessgate_migration")
        assert sorted(row["id"] for row in rows) == sorted(known_ids())
    finally:
        for database in databases:
            await database.close()


async def test_tx_commits_on_success_and_rolls_back_on_error(db: Database) -> None:
    await db.execute("CREATE TABLE scratch (id INTEGER PRIMARY KEY, label VARCHAR(20))")
    async with db.tx():
        await db.fetch("INSERT INTO scratch (id, label) VALUES ({}, {})", 1, "kept")
    with pytest.raises(RuntimeError, match="boom"):
        async with db.tx():
            await db.fetch("INSERT INTO scratch (id, label) VALUES ({}, {})", 2, "lost")
            raise RuntimeError("boom")
    rows = await db.fetch("SELECT id, label FROM scratch ORDER BY id")
    assert [(row["id"], row["label"]) for row in rows] == [(1, "kept")]


async def test_fetch_each_runs_statements_in_order_in_one_transaction(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await db.execute("CREATE TABLE scratch (id INTEGER PRIMARY KEY, label VARCHAR(20))")
    hops: list[int] = []
    if db.is_sqlite:  # SQLite: the statements reach the writer's thread in one hop
        run_all = SqliteConnection.run_all

        async def counted(self: SqliteConnection, statements: list[tuple[str, list[Any]]]) -> Any:
            hops.append(len(statements))
            return await run_all(self, statements)

        monkeypatch.setattr(SqliteConnection, "run_all", counted)
    results = await db.fetch_each(
        [
            ("INSERT INTO scratch (id, label) VALUES ({}, {})", [1, "one"]),
            ("UPDATE scratch SET label = {} WHERE id = {} RETURNING label", ["uno", 1]),
            ("SELECT COUNT(*) AS n FROM scratch", []),
        ]
    )
    assert [[dict(row) for row in rows] for rows in results] == [[], [{"label": "uno"}], [{"n": 1}]]  # in order
    assert hops == ([3] if db.is_sqlite else [])
    with pytest.raises(Exception, match=r"(?i)unique|constraint"):
        await db.fetch_each(
            [("INSERT INTO scratch (id) VALUES ({})", [2]), ("INSERT INTO scratch (id) VALUES ({})", [1])]
        )
    assert [row["id"] for row in await db.fetch("SELECT id FROM scratch")] == [1]  # the failure undid row 2


async def test_nested_tx_joins_the_outer_transaction(db: Database) -> None:
    await db.execute("CREATE TABLE scratch (id INTEGER PRIMARY KEY)")
    with pytest.raises(RuntimeError):
        async with db.tx():
            async with db.tx():
                await db.fetch("INSERT INTO scratch (id) VALUES ({})", 1)
            raise RuntimeError("outer fails after the inner block")
    assert await db.fetch("SELECT id FROM scratch") == []


async def test_a_write_inside_a_read_only_transaction_is_refused(db: Database) -> None:
    """Found in review: on PostgreSQL a read-only transaction is a pinned connection without BEGIN (its reads
    gain nothing from one), so a write joined to it would commit statement by statement: it is refused."""
    await db.execute("CREATE TABLE scratch (id INTEGER PRIMARY KEY)")
    with pytest.raises(RuntimeError, match="read-only"):
        async with db.tx(write=False):
            await db.fetch("SELECT id FROM scratch")
            await db.write("INSERT INTO scratch (id) VALUES ({})", 1)
    with pytest.raises(RuntimeError, match="read-only"):
        async with db.tx(write=False), db.tx():
            pass
    assert await db.fetch("SELECT id FROM scratch") == []


async def test_concurrent_read_modify_write_transactions_never_lose_an_update(db: Database) -> None:
    """stack-notes §1.4: without the writer lock SQLite fails 199 of 200 of these with "database is locked"."""
    await db.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    await db.fetch("INSERT INTO counter (id, n) VALUES (1, 0)")
    lock = "" if db.is_sqlite else " FOR UPDATE"

    async def increment() -> None:
        async with db.tx():
            rows = await db.fetch(f"SELECT n FROM counter WHERE id = 1{lock}")
            await db.fetch("UPDATE counter SET n = {} WHERE id = 1", rows[0]["n"] + 1)

    await asyncio.gather(*(increment() for _ in range(200)))
    assert (await db.fetch("SELECT n FROM counter WHERE id = 1"))[0]["n"] == 200


async def test_unreachable_postgres_raises_database_unavailable() -> None:
    db = Database(DatabaseSettings(url="postgresql://nobody@127.0.0.1:1/nothing"))
    with pytest.raises(DatabaseUnavailable, match="cannot reach PostgreSQL"):
        await db.start()


async def test_ping_reports_health(db: Database) -> None:
    assert await db.ping() is True


@only_sqlite
async def test_a_write_cancelled_while_it_waits_for_the_file_lock_leaves_the_database_writable(
    db: Database, database_url: str
) -> None:
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the file's write lock (a CLI command, a backup)

    async def write() -> None:
        async with db.tx():
            await db.fetch("CREATE TABLE never_made (id INTEGER)")

    task = asyncio.create_task(write())
    # BEGIN IMMEDIATE waits for the lock on the connection's thread (the busy timeout is 30 s); the task is still
    # waiting when it is cancelled, as a worker's wait_for or a shutdown cancels it.
    assert await asyncio.wait({task}, timeout=0.3) == (set(), {task})
    task.cancel()
    other.execute("ROLLBACK")  # the lock comes free: the BEGIN on that thread completes after the cancellation
    other.close()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with db.tx():  # the cancelled BEGIN did not leave its connection inside a transaction of its own
        await db.fetch("CREATE TABLE after_cancel (id INTEGER)")
    assert await db.fetch("SELECT count(*) AS n FROM after_cancel") == [{"n": 0}]


@only_postgres
async def test_a_worker_process_plans_each_statement_once_and_the_api_keeps_the_default(
    test_settings: Settings,
) -> None:
    """PostgreSQL planned the claim afresh at every execution, 0.56 ms on top of 0.81 ms to run it (api/composition.py
    ``worker_process_settings``): a worker's pooled connections keep one generic plan a statement."""
    for settings, expected in ((worker_process_settings(test_settings), "force_generic_plan"), (test_settings, "auto")):
        database = Database(settings.database)
        await database.start()
        try:
            rows = [await database.fetch("SHOW plan_cache_mode") for _ in range(3)]  # pooled: whichever connection
        finally:
            await database.close()
        assert [row["plan_cache_mode"] for [row] in rows] == [expected] * 3
