"""Migrated databases to copy: built once per test process, so a test that uses ``db`` does not migrate from empty.

Running every migration was most of the ``db`` fixture's time; ``CREATE DATABASE ... TEMPLATE`` (PostgreSQL)
and SQLite's backup API copy a migrated database in a fraction of it. A copy is still a database of the test's
own with no rows, and ``db`` still runs ``migrate`` on it (which then finds every step applied). Tests of the
migrations themselves take ``database_url`` without ``db`` and get an empty database, as before.

On PostgreSQL the next test's copy is made ahead, on a thread, while the test before it runs (a copy still takes
a round of the server's work); each copy is used by one test only.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from pathlib import Path

from agtest import postgres
from core.settings import DatabaseSettings
from storage.database import Database
from storage.migrations import migrate

#: The copy made ahead for the next test, by template name.
_ahead: dict[str, Future[str]] = {}
_maker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-database-maker")


async def _migrate(url: str) -> None:
    database = Database(DatabaseSettings(url=url))
    await database.start()
    try:
        await migrate(database)
    finally:
        await database.close()


def sqlite_template(folder: Path) -> Path:
    """A migrated SQLite database file in ``folder``."""
    path = folder / "migrated.db"
    asyncio.run(_migrate(f"sqlite:///{path}"))
    return path


def copy_sqlite(template: Path, path: Path) -> None:
    """A copy of ``template`` at ``path``, created 0600 like the gateway's own database file."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(path)) as target:
        source.backup(target)


@contextmanager
def postgres_template() -> Iterator[str]:
    """The name of a migrated PostgreSQL database of this run, for :func:`copy_postgres`; dropped (with the copy
    made ahead, if any) when the block ends."""
    url = asyncio.run(postgres.create_database())
    name = url.rsplit("/", 1)[-1]
    try:
        asyncio.run(_migrate(url))
        yield name
    finally:
        try:
            if (ahead := _ahead.pop(name, None)) is not None:
                asyncio.run(postgres.drop_database(ahead.result()))
        finally:
            asyncio.run(postgres.drop_database(url))


def copy_postgres(template: str) -> str:
    """A new copy of ``template`` (the one made ahead, if any), and the next one started."""
    ahead = _ahead.pop(template, None)
    url = asyncio.run(postgres.create_database(template)) if ahead is None else ahead.result()
    make = postgres.create_database(template, admin=postgres.admin_url(), registry=postgres.created)
    _ahead[template] = _maker.submit(asyncio.run, make)
    return url
