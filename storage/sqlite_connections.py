"""SQLite connections kept open: one writer for write transactions, a few readers for everything else.

piccolo's SQLite engine opens a new connection (and a new thread) for every statement outside a transaction
and for every transaction, and repeats ``PRAGMA foreign_keys`` before every statement inside one: several
thread hand-offs and a file open per query, which made SQLite the slow engine (docs/performance.md). Here
each connection is opened once, with piccolo's own connection settings (so values convert exactly as
before), and used by one thread of its own: sqlite3 calls block, so they run off the event loop, and one
thread per connection keeps each connection's statements in order. The threads belong to
``ThreadPoolExecutor``s, which Python ends at exit even if a connection was never closed.

Write transactions take the one writer (under ``storage/sqlite_group_commit.py``'s lock, never shared); a
statement outside any transaction or a read-only transaction takes a free reader, which WAL lets read while
the writer commits. Every commit still waits for SQLite's fsync (``synchronous`` is left at FULL): a
result is on disk before the gateway answers for it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, Final, TypeVar

T = TypeVar("T")

#: Readers open at most at once: statements beyond that wait for one (each reader is a thread and a file handle).
MAX_READERS: Final = 8


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


class SqliteConnection:
    """One sqlite3 connection, opened on first use, and the one thread that runs its statements."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._connection: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="assessgate-sqlite")

    async def run(self, sql: str, args: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return await self._call(partial(self._fetch, sql, args))

    async def run_all(self, statements: list[tuple[str, list[Any]]]) -> list[list[dict[str, Any]]]:
        """Statements with arguments, one after another, in one hop to the connection's thread; each one's rows."""
        return await self._call(lambda: [self._fetch(sql, args) for sql, args in statements])

    async def run_each(self, statements: list[str]) -> None:
        """Statements without arguments, one after another, in one hop to the connection's thread."""

        def run_each() -> None:
            for statement in statements:
                self._fetch(statement, ())

        await self._call(run_each)

    async def _call(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, work)

    def _fetch(self, sql: str, args: list[Any] | tuple[Any, ...]) -> list[dict[str, Any]]:
        if self._connection is None:
            connection = self._connect()
            connection.row_factory = _dict_row
            connection.execute("PRAGMA foreign_keys = 1")
            # Erased rows are overwritten, not left in free pages (some SQLite builds default to this; not all).
            connection.execute("PRAGMA secure_delete = ON")
            self._connection = connection
        cursor = self._connection.execute(sql, args)
        try:
            return cursor.fetchall()
        finally:
            cursor.close()

    async def rollback(self) -> None:
        """End an open transaction, if there is one (a failed BEGIN or COMMIT may or may not have left one)."""

        def rollback() -> None:
            if self._connection is not None and self._connection.in_transaction:
                self._connection.execute("ROLLBACK")

        await self._call(rollback)

    async def close(self) -> None:
        def close() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        await self._call(close)
        self._thread.shutdown(wait=False)


class SqliteConnections:
    """The writer and the readers of one database file (see the module's docstring)."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self.writer = SqliteConnection(connect)
        self._free: list[SqliteConnection] = []
        self._all: list[SqliteConnection] = [self.writer]
        self._readers = asyncio.Semaphore(MAX_READERS)

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[SqliteConnection]:
        async with self._readers:
            connection = self._free.pop() if self._free else self._open()
            try:
                yield connection
            finally:
                self._free.append(connection)

    def _open(self) -> SqliteConnection:
        connection = SqliteConnection(self._connect)
        self._all.append(connection)
        return connection

    async def close(self) -> None:
        for connection in self._all:
            await connection.close()
        self._all = []
        self._free = []
