"""Group commit for SQLite's write transactions: several callers' transactions share one COMMIT and its fsync.

SQLite has one writer, and with ``synchronous=FULL`` every COMMIT waits for an fsync of the write-ahead log
(about 1.5 ms on the machines this was measured on, docs/performance.md), while the writer's lock is held: write
transactions one after another are bounded by the disk, not by the CPU. Here a transaction that finds others
waiting for the writer does not commit: it hands the still-open transaction to the next waiter, which runs its
writes in it, and so on; the last one, or a flusher queued behind them, commits them all at once. Each caller
still gets an answer only after the COMMIT that made its writes durable (``tx()`` returns after it), and a
caller whose body fails undoes only its own writes: each runs under a SAVEPOINT it rolls back to. If the group's
COMMIT fails, every member's ``tx()`` raises, as each would have alone.

Nothing changes for a single caller on an idle database: BEGIN and its SAVEPOINT are one hop to the writer's
thread, COMMIT the other, as BEGIN and COMMIT were.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Final

from storage.sqlite_connections import SqliteConnection

#: Transactions one COMMIT takes at most (the first waits for the others' writes before its answer).
MAX_MEMBERS: Final = 64


class _Group:
    def __init__(self) -> None:
        self.members = 0
        self.committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.flusher: asyncio.Task[None] | None = None


class GroupCommit:
    """The writer connection's lock, and the open group transaction it guards."""

    def __init__(self, writer: SqliteConnection) -> None:
        self.writer = writer
        self._lock = asyncio.Lock()
        self._waiting = 0  # callers of transaction() queued for the lock (a flusher is not counted)
        self._group: _Group | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """A write transaction on the writer, committed with whichever others run beside it."""
        self._waiting += 1
        try:
            await self._lock.acquire()
        finally:
            self._waiting -= 1
        try:
            group, savepoint = await self._join()
        except BaseException:
            if self._group is not None:  # others' writes are open: commit them or hand them on (and unlock)
                await self._hand_on(self._group)
            else:
                self._lock.release()
            raise
        try:
            yield
        except BaseException:
            await self._undo(group, savepoint)
            await self._hand_on(group)
            raise
        await self._hand_on(group)
        await asyncio.shield(group.committed)  # the answer waits for the commit that makes the writes durable

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[SqliteConnection]:
        """The writer alone, outside any transaction (a checkpoint): an open group is committed first."""
        async with self._lock:
            if self._group is not None:
                await self._commit(self._group)
            yield self.writer

    async def close(self) -> None:
        """Commit what is open (the members waiting are answered)."""
        async with self._lock:
            if self._group is not None:
                await self._commit(self._group)

    async def _join(self) -> tuple[_Group, str]:
        group = self._group
        opening = group is None
        if group is None:
            group = self._group = _Group()
        savepoint = f"member_{group.members}"
        try:
            await self.writer.run_each([*(["BEGIN IMMEDIATE"] if opening else []), f"SAVEPOINT {savepoint}"])
        except BaseException as exc:
            if opening:
                self._group = None
                await self.writer.rollback()
                group.committed.set_exception(exc)
                group.committed.exception()  # retrieved: nobody else waits on a group that never opened
            raise
        group.members += 1
        return group, savepoint

    async def _undo(self, group: _Group, savepoint: str) -> None:
        """Roll back one member's writes. Should the whole transaction be gone (SQLite ends it on some errors),
        the group has failed: its other members must not be answered as if their writes were kept."""
        try:
            await self.writer.run_each([f"ROLLBACK TO {savepoint}"])
        except sqlite3.Error as exc:
            await self._fail(group, exc)

    async def _hand_on(self, group: _Group) -> None:
        """Under the lock: leave the transaction open for the callers queued behind, or commit it; then unlock."""
        try:
            if self._group is group and self._waiting and group.members < MAX_MEMBERS:
                if group.flusher is None:  # queued behind today's waiters: it commits once they have joined
                    group.flusher = asyncio.create_task(self._flush(group), name="sqlite-group-commit")
                return
            if self._group is group:
                await self._commit(group)
        finally:
            self._lock.release()

    async def _flush(self, group: _Group) -> None:
        async with self._lock:
            if self._group is group:
                await self._commit(group)

    async def _commit(self, group: _Group) -> None:
        self._group = None
        try:
            await self.writer.run_each(["COMMIT"])
        except (sqlite3.Error, asyncio.CancelledError) as exc:
            await self._fail(group, exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        if not group.committed.done():
            group.committed.set_result(None)

    async def _fail(self, group: _Group, exc: BaseException) -> None:
        self._group = None if self._group is group else self._group
        with suppress(sqlite3.Error):
            await self.writer.rollback()
        if not group.committed.done():
            group.committed.set_exception(exc)
            group.committed.exception()  # marked retrieved: each member re-raises it from its own await
