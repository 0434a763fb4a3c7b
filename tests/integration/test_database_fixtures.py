"""The ``db`` fixture's database: a copy of a migrated one (``agtest.templates``), of the test's own, with no rows."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import asyncpg
import pytest

from agtest import postgres
from storage.database import Database
from storage.migrations import known_ids, pending_ids

pytestmark = pytest.mark.anyio


async def tables_of(db: Database) -> list[str]:
    if db.is_sqlite:
        rows = await db.fetch("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    else:
        rows = await db.fetch("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'")
    return sorted(row["name"] for row in rows)


async def template_has_table(request: pytest.FixtureRequest, engine: str, table: str) -> bool:
    if engine == "sqlite":
        template: Path = request.getfixturevalue("migrated_sqlite")
        with closing(sqlite3.connect(template)) as file:
            return file.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone() is not None
    conn = await asyncpg.connect(
        postgres.with_database(postgres.admin_url(), request.getfixturevalue("migrated_postgres"))
    )
    try:
        return bool(await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", table))
    finally:
        await conn.close()


async def test_db_is_a_migrated_copy_of_the_tests_own_with_no_rows(
    db: Database, engine: str, request: pytest.FixtureRequest
) -> None:
    assert await pending_ids(db) == []
    assert len(await db.fetch("SELECT id FROM assessgate_migration")) == len(known_ids())
    tables = await tables_of(db)
    assert "assessment_order" in tables
    for table in set(tables) - {"assessgate_migration"}:
        assert await db.fetch(f"SELECT 1 AS found FROM {table} LIMIT 1") == [], table
    await db.execute("CREATE TABLE only_in_this_test (id INTEGER PRIMARY KEY)")
    assert "only_in_this_test" in await tables_of(db)
    assert not await template_has_table(request, engine, "only_in_this_test")
    assert await template_has_table(request, engine, "assessment_order")
