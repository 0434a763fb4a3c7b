"""The claim statement (jobs/claim_sql.py) on both engines: two workers never hold one job, a job is completed
in its handler's transaction, and a claim that looks only at each (tenant, kind)'s oldest jobs still finds
the jobs the full ranking would."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from agtest import only_postgres
from jobs.claim_sql import ClaimSql, claim_statement
from jobs.kinds import JobContext, JobKind, JobRegistry
from jobs.lifecycle import JobState
from jobs.outbox import Outbox
from jobs.worker import Worker
from storage.database import Database, placeholders

pytestmark = pytest.mark.anyio


class Ping(msgspec.Struct):
    n: int


async def tenants(db: Database, count: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    now = datetime.now(UTC)
    for n, tenant in enumerate(ids):
        await db.fetch(
            "INSERT INTO tenant (id, name, created_at, updated_at) VALUES ({}, {}, {}, {})", tenant, f"T{n}", now, now
        )
    return ids


async def test_two_workers_on_their_own_connections_never_hold_one_job(db: Database) -> None:
    outbox = Outbox(db)
    owners = await tenants(db, 5)
    for n in range(200):
        await outbox.enqueue("ping", Ping(n=n), now_ms=n, tenant_id=owners[n % 5])
    held: dict[int, str] = {}  # job -> the worker running it now
    overlaps: list[int] = []
    runs: Counter[int] = Counter()

    def handler(name: str) -> JobKind[Ping]:
        async def handle(payload: Ping, ctx: JobContext) -> None:
            if payload.n in held:
                overlaps.append(payload.n)
            held[payload.n] = name
            runs[payload.n] += 1
            await asyncio.sleep(0)  # let the other worker claim while this one holds the job
            del held[payload.n]

        return JobKind("ping", Ping, handle)

    other = Database(db.settings)  # another process's connections: PostgreSQL's SKIP LOCKED, SQLite's file lock
    await other.start()
    try:
        workers = [
            Worker(database, JobRegistry([handler(name)]), concurrency=4, tenant_concurrency=8, name=name)
            for database, name in ((db, "a"), (other, "b"))
        ]
        await asyncio.gather(*(worker.drain() for worker in workers))
    finally:
        await other.close()
    assert overlaps == []
    assert runs == Counter(range(200))
    assert await outbox.count_by_state() == {"done": 200}


async def test_a_handler_completes_its_job_in_its_own_transaction(db: Database) -> None:
    outbox = Outbox(db)
    seen: list[str] = []

    async def handle(payload: Ping, ctx: JobContext) -> None:
        async with db.tx():
            await db.fetch(
                "INSERT INTO tenant (id, name, created_at, updated_at) VALUES ({}, 'x', {}, {})",
                uuid.uuid4(),
                datetime.now(UTC),
                datetime.now(UTC),
            )
            assert await ctx.complete_in_tx()
            job = await outbox.get(ctx.job_id)
            assert job is not None
            seen.append(job.state)  # done already inside the transaction ...

    job_id = await outbox.enqueue("ping", Ping(n=1), now_ms=0)
    await Worker(db, JobRegistry([JobKind("ping", Ping, handle)])).drain()
    assert seen == [JobState.DONE]
    done = await outbox.get(str(job_id))
    assert done is not None
    assert (done.state, done.attempts) == (JobState.DONE, 1)  # ... and once: the worker did not complete it again


async def test_a_rolled_back_completion_leaves_the_job_to_run_again(db: Database) -> None:
    outbox = Outbox(db)
    job_id = await outbox.enqueue("ping", Ping(n=1), now_ms=0)
    [job] = await outbox.claim(worker="w", limit=1, lease_ms=60_000, now_ms=1)
    with pytest.raises(RuntimeError):
        async with db.tx():
            assert await outbox.complete(job, now_ms=2)
            raise RuntimeError("the handler's own write failed")
    again = await outbox.get(str(job_id))
    assert again is not None
    assert again.state == JobState.RUNNING  # still leased: its lease runs out and it is claimed again


async def test_a_tenants_capped_kind_does_not_hide_its_other_jobs(db: Database) -> None:
    outbox = Outbox(db)
    [tenant] = await tenants(db, 1)
    for n in range(20):  # an old backlog of a kind limited to one at a time ...
        await outbox.enqueue("sync", Ping(n=n), now_ms=n, tenant_id=tenant)
    await outbox.enqueue("ping", Ping(n=99), now_ms=100, tenant_id=tenant)  # ... and one newer job of another kind
    batch = await outbox.claim(worker="w", limit=4, lease_ms=60_000, now_ms=200, kind_limits={"sync": 1})
    assert Counter(job.kind for job in batch) == {"sync": 1, "ping": 1}


async def test_every_tenant_with_due_work_is_seen_however_long_the_backlog(db: Database) -> None:
    outbox = Outbox(db)
    noisy, *quiet = await tenants(db, 4)
    for n in range(400):
        await outbox.enqueue("ping" if n % 2 else "push", Ping(n=n), now_ms=n, tenant_id=noisy)
    for n, tenant in enumerate(quiet):
        await outbox.enqueue("push", Ping(n=n), now_ms=1_000 + n, tenant_id=tenant)
    await outbox.enqueue("ping", Ping(n=-1), now_ms=2_000)  # housekeeping: no tenant
    await outbox.enqueue("ping", Ping(n=-2), now_ms=9_000, tenant_id=quiet[0])  # not due yet
    batch = await outbox.claim(worker="w", limit=6, lease_ms=60_000, now_ms=5_000, kinds=["ping", "push"])
    holders = Counter(job.tenant_id for job in batch)
    expected: dict[str | None, int] = {str(t): 1 for t in quiet}
    assert holders == {**expected, None: 1, str(noisy): 2}
    assert all(job.available_at_ms <= 5_000 for job in batch)


async def test_with_more_pairs_than_a_claim_visits_every_tenant_is_still_reached(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jobs.claim_sql

    monkeypatch.setattr(jobs.claim_sql, "PAIRS", 2)
    owners = [uuid.UUID(int=(n * 2**128) // 5 + 1) for n in range(5)]  # spread evenly: no tenant is hidden
    now = datetime.now(UTC)
    outbox = Outbox(db)
    for n, tenant in enumerate(owners):
        await db.fetch(
            "INSERT INTO tenant (id, name, created_at, updated_at) VALUES ({}, {}, {}, {})", tenant, f"T{n}", now, now
        )
        await outbox.enqueue("ping", Ping(n=n), now_ms=n, tenant_id=tenant)
    reached: Counter[str | None] = Counter()
    for _ in range(40):
        batch = await outbox.claim(worker="w", limit=5, lease_ms=60_000, now_ms=100)
        assert len({job.tenant_id for job in batch}) == len(batch) == 2  # two pairs visited, one job each
        reached.update(job.tenant_id for job in batch)
        for job in batch:
            await outbox.release_lease(job, now_ms=100)
    assert set(reached) == {str(t) for t in owners}


def _plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


async def claim_plan(db: Database, statement: ClaimSql, *, generic: bool) -> dict[str, Any]:
    """The claim's plan with its arguments (``generic``: the one plan an ``assessgate worker``'s connections keep for
    every execution, PREPAREd under ``plan_cache_mode = force_generic_plan``)."""
    if not generic:
        [row] = await db.fetch("EXPLAIN (FORMAT JSON) " + statement.sql, *statement.args)
        return dict(json.loads(row["QUERY PLAN"])[0]["Plan"])
    # A prepared statement outlives a rolled-back transaction on its pooled connection: a name of its own each time,
    # so one left by a failed EXPLAIN cannot make the next PREPARE fail.
    name = f"claim_plan_{uuid.uuid4().hex}"
    async with db.tx():  # one connection; the setting ends with the transaction, the statement is deallocated
        await db.fetch("SET LOCAL plan_cache_mode = force_generic_plan")
        await db.fetch(f"PREPARE {name} AS " + placeholders(statement.sql, "postgresql"))
        # EXECUTE takes no parameters of its own: its arguments are literals (the claim's are ids, numbers, names)
        literals = ", ".join(
            str(a) if isinstance(a, int) else "'" + str(a).replace("'", "''") + "'" for a in statement.args
        )
        [row] = await db.fetch(f"EXPLAIN (FORMAT JSON) EXECUTE {name}({literals})")
        await db.fetch(f"DEALLOCATE {name}")
    return dict(json.loads(row["QUERY PLAN"])[0]["Plan"])


@only_postgres
@pytest.mark.parametrize("generic", [False, True], ids=["planned-each-time", "planned-once"])
async def test_on_postgresql_no_step_of_the_walk_scans_the_table(db: Database, generic: bool) -> None:
    """A queue table's statistics are always stale: when they called the table small, PostgreSQL's planner joined
    each step of the walk back to its row by hashing the whole table, finished jobs included (half of a claim's
    time in the write-back benchmark, and more as finished jobs pile up). Each step now takes its pair from its
    seeks into an index."""
    outbox = Outbox(db)
    [tenant] = await tenants(db, 1)
    for n in range(1_000):
        await outbox.enqueue("ping", Ping(n=n), now_ms=n, tenant_id=tenant)
    await db.fetch("UPDATE outbox_job SET state = 'done'")
    await db.execute("ANALYZE outbox_job")
    for n in range(8):
        await outbox.enqueue("ping", Ping(n=n), now_ms=1_000 + n, tenant_id=tenant)
    statement = claim_statement(
        sqlite=False,
        owner="w",
        limit=32,
        lease_ms=60_000,
        now_ms=2_000,
        tenant_limit=8,
        kind_limits={},
        kinds=["ping"],
        returning="outbox_job.id",
    )
    plan = await claim_plan(db, statement, generic=generic)
    walks = [node for node in _plan_nodes(plan) if node.get("Subplan Name", "").startswith("CTE walk_")]
    assert len(walks) == 2
    scans = [node["Node Type"] for walk in walks for node in _plan_nodes(walk) if node.get("Relation Name")]
    assert scans
    assert set(scans) <= {"Index Only Scan", "Index Scan"}, scans
