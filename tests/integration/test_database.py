"""The migration set and the transaction helper, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import DatabaseUnavailable
from core.settings import DatabaseSettings, Settings
from storage.database import Database
from storage.migrations import applied_ids, known_ids, migrate, pending_ids
from storage.tables import TABLES

pytestmark = pytest.mark.anyio


async def columns_of(db: Database, table: str) -> set[str]:
    if db.is_sqlite:
        rows = await db.fetch(f"PRAGMA table_info({table})")
        return {row["name"] for row in rows}
    rows = await db.fetch("SELECT column_name FROM information_schema.columns WHERE table_name = {}", table)
    return {row["column_name"] for row in rows}


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


async def test_schema_matches_the_piccolo_tables(db: Database) -> None:
    for table in TABLES:
        expected = {column._meta.db_column_name for column in table._meta.columns}
        assert await columns_of(db, table._meta.tablename) == expected


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


async def test_nested_tx_joins_the_outer_transaction(db: Database) -> None:
    await db.execute("CREATE TABLE scratch (id INTEGER PRIMARY KEY)")
    with pytest.raises(RuntimeError):
        async with db.tx():
            async with db.tx():
                await db.fetch("INSERT INTO scratch (id) VALUES ({})", 1)
            raise RuntimeError("outer fails after the inner block")
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
