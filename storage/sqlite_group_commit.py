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
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager, suppress
from typing import Any, Final

from core.errors import DatabaseUnavailable
from storage.sqlite_connections import SqliteConnection

#: Transactions one COMMIT takes at most (the first waits for the others' writes before its answer).
MAX_MEMBERS: Final = 64


class _Group:
    def __init__(self) -> None:
        self.members = 0
        self.committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.flusher: asyncio.Task[None] | None = None


class GroupCommit:
    """The writer connection's lock, and the open group transaction it guards.

    Every step that must finish once begun (a member's undo, handing the transaction on or committing it, and
    unlocking) runs as a task of its own that the caller awaits shielded: a caller cancelled meanwhile (a client
    gone, a shutdown) leaves it to finish, so the lock is always released, every member is always answered, and
    an undo always reaches the writer before the COMMIT it must precede (the writer's one thread keeps order)."""

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
            await _finished(self._hand_on(self._group))  # others' writes may be open: commit or hand them on
            raise
        try:
            yield
        except BaseException:
            await _finished(self._undo_and_hand_on(group, savepoint))
            raise
        await _finished(self._hand_on(group))
        await asyncio.shield(group.committed)  # the answer waits for the commit that makes the writes durable

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[SqliteConnection]:
        """The writer alone, outside any transaction (a checkpoint): an open group is committed first."""
        async with self._lock:
            if self._group is not None:
                await _finished(self._commit(self._group))
            yield self.writer

    async def close(self) -> None:
        """Commit what is open (the members waiting are answered)."""
        async with self._lock:
            if self._group is not None:
                await _finished(self._commit(self._group))

    async def _join(self) -> tuple[_Group, str]:
        group = self._group
        opening = group is None
        if group is None:
            group = self._group = _Group()
        savepoint = f"member_{group.members}"
        try:
            await self.writer.run_each([*(["BEGIN IMMEDIATE"] if opening else []), f"SAVEPOINT {savepoint}"])
        except BaseException as exc:
            if opening:  # nobody else is in a group that never opened
                self._group = None
                await _finished(self._rollback())
                _resolve(group, exc)
            raise
        group.members += 1
        return group, savepoint

    async def _undo_and_hand_on(self, group: _Group, savepoint: str) -> None:
        """Roll back one member's writes, then hand on. Should the whole transaction be gone (SQLite ends it on
        some errors), the group has failed: its other members must not be answered as if their writes were kept."""
        try:
            await self.writer.run_each([f"ROLLBACK TO {savepoint}"])
        except BaseException as exc:  # noqa: BLE001 - whatever it was, the group's writes are not known to be intact
            if self._group is group:
                self._group = None
                await self._rollback()
            _resolve(group, exc)
        await self._hand_on(group)

    async def _hand_on(self, group: _Group | None) -> None:
        """Under the lock: leave the transaction open for the callers queued behind, or commit it; then unlock."""
        try:
            if group is None or self._group is not group:
                return
            if self._waiting and group.members < MAX_MEMBERS:
                if group.flusher is None:  # queued behind today's waiters: it commits once they have joined
                    group.flusher = asyncio.create_task(self._flush(group), name="sqlite-group-commit")
                return
            await self._commit(group)
        finally:
            self._lock.release()

    async def _flush(self, group: _Group) -> None:
        async with self._lock:
            if self._group is group:
                await _finished(self._commit(group))

    async def _commit(self, group: _Group) -> None:
        self._group = None
        try:
            await self.writer.run_each(["COMMIT"])
        except BaseException as exc:  # noqa: BLE001 - every member must hear of it, whatever it was
            await self._rollback()
            _resolve(group, exc)
        else:
            _resolve(group, None)

    async def _rollback(self) -> None:
        with suppress(Exception):
            await self.writer.rollback()


async def _finished(step: Coroutine[Any, Any, None]) -> None:
    """Run ``step`` to its end even if the caller is cancelled meanwhile (the caller still sees the cancellation)."""
    await asyncio.shield(asyncio.ensure_future(step))


def _resolve(group: _Group, error: BaseException | None) -> None:
    """Answer every member of ``group``: committed, or failed with ``error`` (each re-raises it)."""
    if group.committed.done():
        return
    if error is None:
        group.committed.set_result(None)
    else:  # a cancellation mid-COMMIT may or may not have committed: the caller is told to try again
        known = error if isinstance(error, Exception) else DatabaseUnavailable("the commit was interrupted")
        group.committed.set_exception(known)
        group.committed.exception()  # marked retrieved: members re-raise it from their own awaits
