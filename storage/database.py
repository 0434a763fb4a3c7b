"""The database handle: one piccolo engine for SQLite or PostgreSQL, and the transaction helper.

SQLite allows one writer at a time, and piccolo's engine neither pools nor retries; left alone,
concurrent write transactions fail with "database is locked" (stack-notes §1.4 measured 199 of 200).
So every write transaction on SQLite runs on one writer connection under one process-wide lock
(``storage/sqlite_group_commit.py``, which also lets transactions queued together share a commit), which
makes writers queue in the process instead of failing in the database. That is also why the embedded
SQLite mode runs the API and the worker in a single process.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
import sqlite3
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence, Sized
from contextlib import asynccontextmanager, contextmanager
from functools import lru_cache, partial
from pathlib import Path
from string import Formatter
from typing import Any, Final, Literal

import asyncpg
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from core.errors import DatabaseUnavailable
from core.settings import DatabaseSettings, PostgresUrl, SqliteUrl
from storage.postgres_pool import plan_once, release
from storage.sqlite_connections import SqliteConnection, SqliteConnections
from storage.sqlite_files import make_private
from storage.sqlite_group_commit import GroupCommit

Dialect = Literal["sqlite", "postgresql"]
#: A data-modifying statement with ``{}`` marks and its arguments: what a caller hands another to make in its own
#: transaction (on PostgreSQL, as a CTE of one statement: ``Outbox.complete_with``).
Write = tuple[str, list[Any]]
#: A statement that writes rows (SQLite: it must run on the writer, in a write transaction).
_WRITES_ROWS: Final = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)

_UNAVAILABLE: Final = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
    # A connection cut mid-statement (the server restarted) is left in a state where its next statement fails
    # with "cannot switch to state ...; another operation is in progress": the server went away, not a bug.
    asyncpg.exceptions.InternalClientError,
)


@lru_cache(maxsize=2048)
def placeholders(sql: str, dialect: Dialect) -> str:
    """A statement's ``{}`` placeholders as the engine's own (``$1, $2, ...`` or ``?``), as piccolo's QueryString
    compiles them, but once per statement text rather than at every call: a statement's text is the same at
    every call (only ``IN`` lists vary, by length), and compiling cost more than a short query's round trip."""
    parts: list[str] = []
    count = 0
    for literal, field, _, _ in Formatter().parse(sql):
        parts.append(literal)
        if field is not None:
            count += 1
            parts.append("?" if dialect == "sqlite" else f"${count}")
    return "".join(parts)


def marks(values: Sized) -> str:
    """``{}, {}, ...``: one placeholder for each value, for ``IN (...)`` lists and multi-row ``VALUES``."""
    return ", ".join("{}" for _ in range(len(values)))


class Database:
    """Owns the engine; ``start()`` before use and ``close()`` at the end (the app's lifespan does both)."""

    def __init__(self, settings: DatabaseSettings) -> None:
        self.settings = settings
        parsed = settings.parsed
        self.engine: Engine[Any]
        if isinstance(parsed, SqliteUrl):
            self.dialect: Dialect = "sqlite"
            self.sqlite_path: Path | None = Path(parsed.path)
            self.engine = SQLiteEngine(path=parsed.path, timeout=settings.sqlite_busy_timeout_s)
            # piccolo's engine only lends its connection settings (and its type converters): the connections
            # themselves are kept open by storage/sqlite_connections.py.
            self._connect = partial(sqlite3.connect, **self.engine.connection_kwargs, check_same_thread=False)
        else:
            assert isinstance(parsed, PostgresUrl)
            self.dialect = "postgresql"
            self.sqlite_path = None
            # piccolo's constructor probes the server version synchronously and only *warns* when the server
            # is down; reachability is checked properly (and reported as DatabaseUnavailable) in start().
            with warnings.catch_warnings(action="ignore"):
                self.engine = PostgresEngine(config={"dsn": parsed.dsn})
        self._in_tx: contextvars.ContextVar[bool] = contextvars.ContextVar(f"in_tx_{id(self)}", default=False)
        self._read_only: contextvars.ContextVar[bool] = contextvars.ContextVar(f"read_only_{id(self)}", default=False)
        # SQLite has no NOTIFY: channels notified in a transaction are announced to this process's listeners
        # once it commits (the embedded worker shares the process with everything that enqueues on SQLite).
        self._pending: contextvars.ContextVar[set[tuple[str, str]] | None] = contextvars.ContextVar(
            f"pending_{id(self)}", default=None
        )
        self._local_listeners: dict[str, list[Callable[[str], None]]] = {}
        self._sqlite: SqliteConnections | None = None
        self._group_commit: GroupCommit | None = None
        self._pg_pinned: contextvars.ContextVar[Any] = contextvars.ContextVar(f"pg_pinned_{id(self)}", default=None)
        self._sqlite_tx: contextvars.ContextVar[SqliteConnection | None] = contextvars.ContextVar(
            f"sqlite_tx_{id(self)}", default=None
        )
        self._started = False

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    async def start(self) -> None:
        if self._started:
            return
        if self.sqlite_path is not None:
            make_private(self.sqlite_path)  # candidate PII: folder 0700, file and its WAL 0600
            # WAL lets readers proceed while the single writer commits; the mode persists in the file.
            await self.execute("PRAGMA journal_mode=WAL")
        else:
            assert isinstance(self.engine, PostgresEngine)
            try:
                size = {"min_size": self.settings.pool_min_size, "max_size": self.settings.pool_max_size}
                init = plan_once if self.settings.generic_plans else None
                await self.engine.start_connection_pool(**size, reset=release, init=init)
            except _UNAVAILABLE as exc:
                raise DatabaseUnavailable(f"cannot reach PostgreSQL: {type(exc).__name__}") from None
        self._started = True

    async def close(self, *, timeout_s: float = 10.0) -> None:
        """Close the pool gracefully, or terminate it after ``timeout_s``: after a PostgreSQL restart asyncpg's
        graceful close can wait on connections that will never answer (the fault drill found a worker that
        did not exit on SIGTERM)."""
        if self._started and isinstance(self.engine, PostgresEngine) and self.engine.pool is not None:
            pool = self.engine.pool
            try:
                await asyncio.wait_for(self.engine.close_connection_pool(), timeout=timeout_s)
            except (TimeoutError, *_UNAVAILABLE):
                pool.terminate()
                self.engine.pool = None
        if self._group_commit is not None:
            await self._group_commit.close()
            self._group_commit = None
        if self._sqlite is not None:
            await self._sqlite.close()
            self._sqlite = None
        self._started = False

    @asynccontextmanager
    async def tx(self, *, write: bool = True) -> AsyncIterator[None]:
        """A transaction: commit on success, roll back on error. Nested calls join the outer one.

        Never hold one across an HTTP call: on SQLite it blocks every other writer meanwhile.
        """
        if self._in_tx.get():
            if write:
                self._refuse_if_read_only()
            yield
            return
        token = self._in_tx.set(True)
        read_only = self._read_only.set(not write)
        pending: set[tuple[str, str]] = set()
        pending_token = self._pending.set(pending)
        try:
            if self.is_sqlite and write:
                async with self._writes().transaction():
                    with self._on(self._connections().writer):
                        yield
            elif self.is_sqlite:
                async with self._connections().reader() as reader, self._read_transaction(reader):
                    yield
            elif write:
                assert isinstance(self.engine, PostgresEngine)
                async with self.engine.transaction():
                    yield
            else:
                async with self._pinned():
                    yield
        except _UNAVAILABLE as exc:
            raise await self._unavailable(exc) from None
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "unable to open" in str(exc):
                raise DatabaseUnavailable(f"database unavailable: {exc}") from None
            raise
        finally:
            self._in_tx.reset(token)
            self._read_only.reset(read_only)
            self._pending.reset(pending_token)
        self._announce(pending)  # reached only after a commit

    def _refuse_if_read_only(self) -> None:
        if self._read_only.get():
            raise RuntimeError("a write inside a read-only transaction (Database.tx(write=False)) would not be atomic")

    @asynccontextmanager
    async def _read_transaction(self, connection: SqliteConnection) -> AsyncIterator[None]:
        """A read-only transaction on a SQLite reader: its reads see one snapshot."""
        token = self._sqlite_tx.set(connection)
        try:
            await connection.run("BEGIN DEFERRED")
            yield
            await connection.run("COMMIT")
        except BaseException:
            await connection.rollback()
            raise
        finally:
            self._sqlite_tx.reset(token)

    @asynccontextmanager
    async def _pinned(self) -> AsyncIterator[None]:
        """A read-only transaction on PostgreSQL: its reads share one pooled connection, without BEGIN and COMMIT
        (two round trips fewer). Under READ COMMITTED, PostgreSQL's default and ours, each statement of a
        transaction sees its own snapshot anyway, so a read-only one guarantees nothing more than this."""
        assert isinstance(self.engine, PostgresEngine)
        if self.engine.pool is None:
            raise DatabaseUnavailable("the database is not started")
        async with self.engine.pool.acquire() as connection:
            token = self._pg_pinned.set(connection)
            try:
                yield
            finally:
                self._pg_pinned.reset(token)

    @contextmanager
    def _on(self, connection: SqliteConnection) -> Iterator[None]:
        """The connection the statements of the current transaction run on."""
        token = self._sqlite_tx.set(connection)
        try:
            yield
        finally:
            self._sqlite_tx.reset(token)

    def _writes(self) -> GroupCommit:
        if self._group_commit is None:
            self._group_commit = GroupCommit(self._connections().writer)
        return self._group_commit

    def _connections(self) -> SqliteConnections:
        if self._sqlite is None:
            self._sqlite = SqliteConnections(self._connect)
        return self._sqlite

    async def _run_sqlite(self, sql: str, args: list[Any]) -> list[dict[str, Any]]:
        connection = self._sqlite_tx.get()
        if _WRITES_ROWS.match(sql):
            self._refuse_if_read_only()
            if connection is None:  # a write outside a transaction: on the writer, as Database.write does, not on a
                async with self.tx():  # reader, which would take the file's lock behind the writer's back
                    return await self._run_sqlite(sql, args)
        if connection is not None:
            return await connection.run(sql, args)
        async with self._connections().reader() as reader:
            return await reader.run(sql, args)

    async def scrub(self) -> None:
        """After erasing data (retention): leave no copy of it in SQLite's write-ahead log.

        With connections kept open, SQLite checkpoints the WAL into the database file now and then but never
        empties it, so an erased value's old page could stay in the ``-wal`` file. A TRUNCATE checkpoint copies
        every page into the file (over the old ones) and empties the log. PostgreSQL: nothing to do here.
        Call it after the erasing transaction committed: inside one it would wait for its own writer lock."""
        if self._in_tx.get():
            raise RuntimeError("Database.scrub() runs after the erasing transaction, not inside it")
        if self.is_sqlite:
            async with self._writes().exclusive() as writer:
                [outcome] = await writer.run("PRAGMA wal_checkpoint(TRUNCATE)")
            if outcome["busy"]:  # a reader kept the log past the busy timeout: the purge's job tries again
                raise DatabaseUnavailable("the SQLite write-ahead log could not be emptied after erasing (busy)")

    async def notify(self, channel: str, payload: str = "") -> None:
        """Tell listeners on ``channel`` once the current transaction commits (at once outside one).

        PostgreSQL: ``pg_notify``, delivered to every process. SQLite: this process's listeners only, which
        is every worker there can be (the embedded one)."""
        if not self.is_sqlite:
            await self.fetch("SELECT pg_notify({}, {})", channel, payload)
            return
        pending = self._pending.get()
        if pending is not None and self._in_tx.get():
            pending.add((channel, payload))
        else:
            self._announce({(channel, payload)})

    def _announce(self, notifications: set[tuple[str, str]]) -> None:
        for channel, payload in notifications:
            for listener in list(self._local_listeners.get(channel, ())):
                listener(payload)

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Run one statement with piccolo's ``{}`` placeholders; joins the current transaction if any."""
        try:
            if self.is_sqlite:
                return await self._run_sqlite(placeholders(sql, "sqlite"), list(args))
            assert isinstance(self.engine, PostgresEngine)
            query = placeholders(sql, "postgresql")
            transaction = self.engine.current_transaction.get()
            pinned = self._pg_pinned.get()
            if transaction is not None:
                rows = await transaction.connection.fetch(query, *args)
            elif pinned is not None:
                rows = await pinned.fetch(query, *args)
            elif self.engine.pool is not None:
                async with self.engine.pool.acquire() as pooled:
                    rows = await pooled.fetch(query, *args)
            else:  # not started (a one-off command): a connection of its own, as piccolo's engine does
                assert isinstance(self.settings.parsed, PostgresUrl)
                own = await asyncpg.connect(self.settings.parsed.dsn)
                try:
                    rows = await own.fetch(query, *args)
                finally:
                    await own.close()
        except _UNAVAILABLE as exc:
            raise await self._unavailable(exc) from None
        return list(rows or [])

    async def fetch_each(self, statements: Sequence[Write]) -> list[list[dict[str, Any]]]:
        """Several statements, one after another, in one write transaction (the current one, or their own); each
        one's rows. On SQLite they go to the writer's thread in one hop (a hop costs 60-100 µs of CPU); on
        PostgreSQL each is a round trip (a caller that can say it in one statement does: ``Outbox.complete_with``)."""
        async with self.tx():
            if not self.is_sqlite:
                return [await self.fetch(sql, *args) for sql, args in statements]
            connection = self._sqlite_tx.get()
            assert connection is not None  # a write transaction holds the writer
            try:
                return await connection.run_all([(placeholders(sql, "sqlite"), list(args)) for sql, args in statements])
            except _UNAVAILABLE as exc:
                raise await self._unavailable(exc) from None

    async def write(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """One statement that writes, atomic on its own: inside a transaction it joins it; outside one it is
        its own transaction. On PostgreSQL that is the statement's implicit transaction, one round trip
        instead of BEGIN, the statement and COMMIT; on SQLite a write transaction (the writer's lock)."""
        if self.is_sqlite or self._in_tx.get():
            async with self.tx():
                return await self.fetch(sql, *args)
        return await self.fetch(sql, *args)

    async def execute(self, sql: str) -> None:
        """Run DDL or a statement without arguments (may contain several statements on PostgreSQL)."""
        try:
            if self.is_sqlite:
                await self._run_sqlite(sql, [])
                return
            await self.engine.run_ddl(sql)
        except _UNAVAILABLE as exc:
            raise await self._unavailable(exc) from None

    async def _unavailable(self, exc: BaseException) -> DatabaseUnavailable:
        """The error a caller sees (503, try again), and on PostgreSQL every pooled connection is replaced on its
        next use: after a server restart they are all stale, and one cut mid-statement would fail every user."""
        if isinstance(self.engine, PostgresEngine) and self.engine.pool is not None:
            await self.engine.pool.expire_connections()
        return DatabaseUnavailable(f"database unavailable: {type(exc).__name__}")

    async def listen(self, channel: str, on_notify: Callable[[str], None]) -> Callable[[], Awaitable[None]] | None:
        """Call ``on_notify`` with the payload of every notification on ``channel``; returns a closer.

        PostgreSQL: LISTEN on its own connection, outside the pool, because a listening connection must stay
        open. SQLite: the notifications of this process (see :meth:`notify`).
        """
        if not isinstance(self.settings.parsed, PostgresUrl):
            self._local_listeners.setdefault(channel, []).append(on_notify)

            async def forget() -> None:
                self._local_listeners[channel].remove(on_notify)

            return forget
        try:
            conn = await asyncpg.connect(self.settings.parsed.dsn)
        except _UNAVAILABLE as exc:
            raise DatabaseUnavailable(f"cannot listen on PostgreSQL: {type(exc).__name__}") from None
        await conn.add_listener(channel, lambda _conn, _pid, _channel, payload: on_notify(payload))

        async def close() -> None:
            await conn.close()

        return close

    async def ping(self) -> bool:
        try:
            rows = await self.fetch("SELECT 1 AS ok")
        except DatabaseUnavailable:
            return False
        return bool(rows) and rows[0].get("ok") == 1
