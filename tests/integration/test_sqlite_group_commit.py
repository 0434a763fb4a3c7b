"""Group commit on SQLite (storage/sqlite_group_commit.py): write transactions queued together share one COMMIT,
and each caller is still answered only once its writes are durable, with only its own writes undone on failure."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from agtest import only_sqlite
from storage.database import Database
from storage.sqlite_connections import SqliteConnection

pytestmark = [pytest.mark.anyio, only_sqlite]

MEMBERS = 24


class Refused(Exception):
    pass


@contextmanager
def commits(monkeypatch: pytest.MonkeyPatch, *, fail_first: bool = False) -> Iterator[Counter[str]]:
    """Count the COMMITs the writer runs (``fail_first``: the first one fails, as a full disk would)."""
    seen: Counter[str] = Counter()
    real = SqliteConnection.run_each

    async def counted(self: SqliteConnection, statements: list[str]) -> None:
        if "COMMIT" in statements:
            seen["commits"] += 1
            if fail_first and seen["commits"] == 1:
                raise sqlite3.OperationalError("disk I/O error")
        await real(self, statements)

    with monkeypatch.context() as patch:
        patch.setattr(SqliteConnection, "run_each", counted)
        yield seen


async def probe_table(db: Database) -> None:
    await db.execute("CREATE TABLE group_commit_probe (n INTEGER PRIMARY KEY)")


async def visible(db: Database) -> set[int]:
    """What a reader sees: committed rows only (a reader is another connection)."""
    return {row["n"] for row in await db.fetch("SELECT n FROM group_commit_probe")}


async def test_transactions_queued_together_share_a_commit_and_answer_after_it(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await probe_table(db)
    seen_on_return: dict[int, bool] = {}

    async def member(n: int) -> None:
        async with db.tx():
            await db.fetch("INSERT INTO group_commit_probe (n) VALUES ({})", n)
        seen_on_return[n] = n in await visible(db)  # answered: its row must be committed already

    with commits(monkeypatch) as seen:
        await asyncio.gather(*(member(n) for n in range(MEMBERS)))
    assert await visible(db) == set(range(MEMBERS))
    assert all(seen_on_return.values()), seen_on_return
    assert 1 <= seen["commits"] < MEMBERS / 2  # shared: the queue formed while the first one wrote


async def test_a_failing_member_undoes_only_its_own_writes(db: Database) -> None:
    await probe_table(db)

    async def member(n: int) -> None:
        async with db.tx():
            await db.fetch("INSERT INTO group_commit_probe (n) VALUES ({})", n)
            await db.fetch("INSERT INTO group_commit_probe (n) VALUES ({})", 1000 + n)
            if n % 5 == 2:
                raise Refused(n)

    outcomes = await asyncio.gather(*(member(n) for n in range(MEMBERS)), return_exceptions=True)
    refused = {n for n, outcome in enumerate(outcomes) if isinstance(outcome, Refused)}
    assert refused == {n for n in range(MEMBERS) if n % 5 == 2}
    assert all(outcome is None for n, outcome in enumerate(outcomes) if n not in refused)
    kept = set(range(MEMBERS)) - refused
    assert await visible(db) == kept | {1000 + n for n in kept}


async def test_a_failed_commit_fails_every_member_of_its_group(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    await probe_table(db)

    async def member(n: int) -> None:
        async with db.tx():
            await db.fetch("INSERT INTO group_commit_probe (n) VALUES ({})", n)

    with commits(monkeypatch, fail_first=True):
        outcomes = await asyncio.gather(*(member(n) for n in range(MEMBERS)), return_exceptions=True)
    failed = {n for n, outcome in enumerate(outcomes) if outcome is not None}
    assert failed, "the first COMMIT failed: its members must say so"
    assert await visible(db) == set(range(MEMBERS)) - failed  # no member answered OK lost its row, none failed kept it
    async with db.tx():  # and the writer works on
        await db.fetch("INSERT INTO group_commit_probe (n) VALUES ({})", 9999)
    assert 9999 in await visible(db)


async def test_a_checkpoint_commits_an_open_group_first(db: Database) -> None:
    await probe_table(db)

    async def member(n: int) -> None:
        async with db.tx():
            await db.fetch("INSERT INTO group_commit_probe (n) VALUES ({})", n)

    await asyncio.gather(*(member(n) for n in range(MEMBERS)), db.scrub())
    assert await visible(db) == set(range(MEMBERS))


@contextmanager
def gated(monkeypatch: pytest.MonkeyPatch, prefix: str) -> Iterator[tuple[asyncio.Event, asyncio.Event]]:
    """Hold the writer's statements starting with ``prefix`` until the second event is set (the first is set
    when one arrives): a window in which a test can cancel the caller that sent it."""
    arrived, release = asyncio.Event(), asyncio.Event()
    real = SqliteConnection.run_each

    async def held(self: SqliteConnection, statements: list[str]) -> None:
        if any(statement.startswith(prefix) for statement in statements):
            arrived.set()
            await release.wait()
        await real(self, statements)

    with monkeypatch.context() as patch:
        patch.setattr(SqliteConnection, "run_each", held)
        yield arrived, release


async def test_a_member_cancelled_during_its_commit_leaves_the_others_answered(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found in review: the member running the group's COMMIT was cancelled (its client went away) and every
    member was told the write failed, though it was on disk; cancelled twice, the others waited forever."""
    await probe_table(db)
    wrote, proceed = asyncio.Event(), asyncio.Event()

    async def member(n: int, *, hold: bool = False) -> None:
        async with db.tx():
            await db.fetch("INSERT INTO group_commit_probe (n) VALUES ({})", n)
            if hold:
                wrote.set()
                await proceed.wait()

    with gated(monkeypatch, "COMMIT") as (arrived, release):
        first = asyncio.create_task(member(1, hold=True))
        await wrote.wait()
        committer = asyncio.create_task(member(2))
        while not db._writes()._waiting:  # noqa: ASYNC110 - the second queues for the writer: the first hands on
            await asyncio.sleep(0)
        proceed.set()
        await arrived.wait()  # the second, last of the group, sent its COMMIT
        committer.cancel()
        await asyncio.sleep(0)
        committer.cancel()  # twice: a cleanup step interrupted as well
        release.set()
        async with asyncio.timeout(10):  # a member stranded by the cancellation would wait forever
            outcomes = await asyncio.gather(first, committer, return_exceptions=True)
    assert outcomes[0] is None  # the first is answered: its write is durable
    assert isinstance(outcomes[1], asyncio.CancelledError)
    assert await visible(db) == {1, 2}
    async with asyncio.timeout(5):  # and the writer is free again
        await member(3)


async def test_a_member_cancelled_while_undoing_still_unlocks_the_writer(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found in review: a second cancellation while a failed member rolled back to its savepoint skipped the
    unlocking, and every later write transaction waited forever."""
    await probe_table(db)
    inside = asyncio.Event()

    async def failing() -> None:
        async with db.tx():
            await db.fetch("INSERT INTO group_commit_probe (n) VALUES ({})", 1)
            inside.set()
            await asyncio.Event().wait()  # until cancelled

    with gated(monkeypatch, "ROLLBACK TO") as (arrived, release):
        task = asyncio.create_task(failing())
        await inside.wait()
        task.cancel()
        await arrived.wait()  # now undoing its writes
        task.cancel()
        release.set()
        async with asyncio.timeout(10):
            await asyncio.gather(task, return_exceptions=True)
    async with asyncio.timeout(5), db.tx():
        await db.fetch("INSERT INTO group_commit_probe (n) VALUES ({})", 2)
    assert await visible(db) == {2}


async def test_a_write_outside_a_transaction_goes_through_the_writer(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Noticed in review: a write sent with ``fetch`` outside any transaction ran on a reader connection, which
    takes the file's lock behind the writer's back (and waits out the busy timeout while a group holds it)."""
    await probe_table(db)
    with commits(monkeypatch) as seen:
        await db.fetch("INSERT INTO group_commit_probe (n) VALUES ({})", 1)
    assert seen["commits"] == 1
    assert await visible(db) == {1}
    with pytest.raises(RuntimeError, match="read-only"):
        async with db.tx(write=False):
            await db.fetch("DELETE FROM group_commit_probe")
    assert await visible(db) == {1}
