"""The outbox and worker on SQLite and PostgreSQL: transactional enqueue, leases, fencing, outcomes."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import Awaitable
from typing import Any

import msgspec
import pytest

from agtest import only_postgres, only_sqlite
from core.errors import AssessgateError
from jobs.kinds import JobContext, JobKind, JobRegistry
from jobs.lifecycle import Job, JobState
from jobs.outbox import NOTIFY_CHANNEL, Outbox
from jobs.retry_policy import Failure, ParkJob, RetryAt
from jobs.worker import Worker
from storage.database import Database

pytestmark = pytest.mark.anyio


class Ping(msgspec.Struct):
    n: int


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


async def test_enqueue_is_part_of_the_callers_transaction(db: Database) -> None:
    outbox = Outbox(db)
    with pytest.raises(RuntimeError):
        async with db.tx():
            await outbox.enqueue("ping", Ping(n=1), now_ms=0)
            raise RuntimeError("the domain write failed")
    assert await outbox.count_by_state() == {}
    async with db.tx():
        job_id = await outbox.enqueue("ping", Ping(n=2), now_ms=0)
    assert job_id is not None
    job = await outbox.get(job_id)
    assert job is not None
    assert job.state == JobState.QUEUED
    assert msgspec.json.decode(job.payload, type=Ping) == Ping(n=2)


async def test_dedupe_key_makes_enqueue_idempotent(db: Database) -> None:
    outbox = Outbox(db)
    first = await outbox.enqueue("ping", Ping(n=1), now_ms=0, dedupe_key="order:42:start")
    second = await outbox.enqueue("ping", Ping(n=1), now_ms=0, dedupe_key="order:42:start")
    assert first is not None
    assert second is None
    assert await outbox.count_by_state() == {"queued": 1}


async def test_concurrent_claims_never_share_a_job(db: Database) -> None:
    outbox = Outbox(db)
    for n in range(60):
        await outbox.enqueue("ping", Ping(n=n), now_ms=0)
    batches = await asyncio.gather(
        *(outbox.claim(worker=f"w{i}", limit=7, lease_ms=60_000, now_ms=10) for i in range(12))
    )
    ids = [job.id for batch in batches for job in batch]
    assert len(ids) == 60
    assert len(set(ids)) == 60
    assert all(len(batch) <= 7 for batch in batches)


async def test_jobs_are_claimed_only_when_due(db: Database) -> None:
    outbox = Outbox(db)
    await outbox.enqueue("ping", Ping(n=1), now_ms=0, run_at_ms=5_000)
    assert await outbox.claim(worker="w", limit=10, lease_ms=1_000, now_ms=4_999) == []
    assert len(await outbox.claim(worker="w", limit=10, lease_ms=1_000, now_ms=5_000)) == 1


async def test_expired_lease_is_reclaimed_and_the_old_owner_is_fenced_off(db: Database) -> None:
    outbox = Outbox(db)
    await outbox.enqueue("ping", Ping(n=1), now_ms=0)
    [first] = await outbox.claim(worker="a", limit=1, lease_ms=100, now_ms=0)
    assert await outbox.claim(worker="b", limit=1, lease_ms=100, now_ms=50) == []  # lease still held
    [second] = await outbox.claim(worker="b", limit=1, lease_ms=100, now_ms=101)
    assert second.id == first.id
    assert second.attempts == 2
    assert await outbox.complete(first, now_ms=102) is False  # stale owner changes nothing
    assert await outbox.complete(second, now_ms=103) is True
    job = await outbox.get(first.id)
    assert job is not None
    assert job.state == JobState.DONE


async def test_parked_jobs_wait_until_released(db: Database) -> None:
    import uuid
    from datetime import UTC, datetime

    tenant = uuid.uuid4()
    now = datetime.now(UTC)
    await db.fetch(
        "INSERT INTO tenant (id, name, created_at, updated_at) VALUES ({}, {}, {}, {})", tenant, "T", now, now
    )
    outbox = Outbox(db)
    await outbox.enqueue("ping", Ping(n=1), now_ms=0, tenant_id=tenant)
    [job] = await outbox.claim(worker="w", limit=1, lease_ms=100, now_ms=0)
    assert await outbox.park(job, reason="integration INACTIVE", now_ms=1)
    assert await outbox.claim(worker="w", limit=1, lease_ms=100, now_ms=10_000) == []
    assert await outbox.release_parked(tenant_id=tenant, now_ms=20_000) == 1
    [again] = await outbox.claim(worker="w", limit=1, lease_ms=100, now_ms=20_000)
    assert again.id == job.id
    assert again.tenant_id == str(tenant)


def registry_with(handler: object) -> JobRegistry:
    return JobRegistry([JobKind("ping", Ping, handler)])  # type: ignore[arg-type]


async def test_worker_runs_each_job_exactly_once_with_its_payload_and_context(db: Database) -> None:
    seen: Counter[int] = Counter()
    contexts: list[JobContext] = []

    async def handle(payload: Ping, ctx: JobContext) -> None:
        await asyncio.sleep(0)
        seen[payload.n] += 1
        contexts.append(ctx)

    outbox = Outbox(db)
    for n in range(200):
        await outbox.enqueue("ping", Ping(n=n), now_ms=0, dedupe_key=f"ping-{n}")
    await Worker(db, registry_with(handle), concurrency=4).drain()
    assert seen == Counter(range(200))
    assert await outbox.count_by_state() == {"done": 200}
    assert {ctx.idempotency_key for ctx in contexts} == {f"ping-{n}" for n in range(200)}
    assert all(ctx.kind == "ping" and ctx.attempt == 1 for ctx in contexts)


async def test_retryable_errors_back_off_and_permanent_errors_go_dead(db: Database) -> None:
    clock = Clock()

    async def handle(payload: Ping, ctx: JobContext) -> None:
        if payload.n == 1:
            raise AssessgateError("kombo 503", retryable=True)
        raise AssessgateError("input invalid", retryable=False)

    outbox = Outbox(db)
    retry_id = await outbox.enqueue("ping", Ping(n=1), now_ms=clock.now, max_attempts=3)
    dead_id = await outbox.enqueue("ping", Ping(n=2), now_ms=clock.now, max_attempts=3)
    worker = Worker(db, registry_with(handle), clock=clock, rng=random.Random(3))
    await worker.drain()
    assert retry_id is not None
    assert dead_id is not None
    retried = await outbox.get(retry_id)
    dead = await outbox.get(dead_id)
    assert retried is not None
    assert dead is not None
    assert retried.state == JobState.QUEUED
    assert clock.now <= retried.available_at_ms <= clock.now + 1_000
    assert retried.last_error == "AssessgateError: kombo 503"
    assert dead.state == JobState.DEAD
    assert dead.attempts == 1
    for _ in range(2):  # the remaining attempts, each after its backoff
        clock.now += 10 * 60_000
        await worker.drain()
    exhausted = await outbox.get(retry_id)
    assert exhausted is not None
    assert exhausted.state == JobState.DEAD
    assert exhausted.attempts == 3


async def test_retry_at_is_honoured(db: Database) -> None:
    clock = Clock()

    async def handle(payload: Ping, ctx: JobContext) -> None:
        raise RetryAt("rate limited", at_ms=clock.now + 57_000)

    outbox = Outbox(db)
    job_id = await outbox.enqueue("ping", Ping(n=1), now_ms=clock.now)
    await Worker(db, registry_with(handle), clock=clock).drain()
    assert job_id is not None
    job = await outbox.get(job_id)
    assert job is not None
    assert job.state == JobState.QUEUED
    assert job.available_at_ms >= clock.now + 57_000


async def test_park_unknown_kind_bad_payload_and_crash_outcomes(db: Database) -> None:
    async def handle(payload: Ping, ctx: JobContext) -> None:
        if payload.n == 1:
            raise ParkJob("integration INACTIVE")
        raise ZeroDivisionError("handler bug")

    outbox = Outbox(db)
    parked = await outbox.enqueue("ping", Ping(n=1), now_ms=0)
    crashed = await outbox.enqueue("ping", Ping(n=2), now_ms=0)
    unknown = await outbox.enqueue("mystery", Ping(n=3), now_ms=0)
    await db.fetch("UPDATE outbox_job SET payload = {} WHERE id = {}", '{"n": "x"}', __import__("uuid").UUID(crashed))
    await Worker(db, registry_with(handle)).drain()
    states = {name: await outbox.get(str(job_id)) for name, job_id in (("p", parked), ("c", crashed), ("u", unknown))}
    # A kind this worker cannot run is left for a worker that can (e.g. during a rolling deploy).
    assert states["p"] is not None
    assert states["p"].state == JobState.PARKED
    assert states["p"].last_error == "integration INACTIVE"
    assert states["c"] is not None
    assert states["c"].state == JobState.DEAD
    assert "payload does not decode" in (states["c"].last_error or "")
    assert states["u"] is not None
    assert states["u"].state == JobState.QUEUED
    assert states["u"].attempts == 0


async def test_worker_stops_gracefully_releasing_unfinished_jobs(db: Database) -> None:
    started = asyncio.Event()

    async def slow(payload: Ping, ctx: JobContext) -> None:
        started.set()
        await asyncio.Event().wait()  # never finishes on its own

    outbox = Outbox(db)
    job_id = await outbox.enqueue("ping", Ping(n=1), now_ms=0)
    stop = asyncio.Event()
    worker = Worker(db, registry_with(slow), grace_s=0.1, poll_interval_s=0.05)
    runner = asyncio.create_task(worker.run(stop))
    await started.wait()
    stop.set()
    await runner
    assert job_id is not None
    job = await outbox.get(job_id)
    assert job is not None
    assert job.state == JobState.QUEUED
    assert job.lease_owner is None
    assert job.attempts == 0


async def make_tenants(db: Database, count: int) -> list[str]:
    import uuid
    from datetime import UTC, datetime

    ids = [uuid.uuid4() for _ in range(count)]
    now = datetime.now(UTC)
    for n, tenant in enumerate(ids):
        await db.fetch(
            "INSERT INTO tenant (id, name, created_at, updated_at) VALUES ({}, {}, {}, {})", tenant, f"T{n}", now, now
        )
    return [str(t) for t in ids]


async def test_a_noisy_tenant_does_not_starve_the_others(db: Database) -> None:
    import uuid

    noisy, quiet_a, quiet_b = await make_tenants(db, 3)
    outbox = Outbox(db)
    for n in range(300):  # an old backlog of the noisy tenant ...
        await outbox.enqueue("ping", Ping(n=n), now_ms=n, tenant_id=uuid.UUID(noisy))
    for tenant in (quiet_a, quiet_b):  # ... and one newer job of each quiet tenant
        await outbox.enqueue("ping", Ping(n=-1), now_ms=1_000, tenant_id=uuid.UUID(tenant))
    batch = await outbox.claim(worker="w", limit=6, lease_ms=60_000, now_ms=2_000)
    tenants = Counter(job.tenant_id for job in batch)
    assert tenants[quiet_a] == 1
    assert tenants[quiet_b] == 1
    assert tenants[noisy] == 4


async def test_tenant_and_kind_concurrency_limits_hold_across_claims(db: Database) -> None:
    import uuid

    first, second = await make_tenants(db, 2)
    outbox = Outbox(db)
    for n in range(20):
        await outbox.enqueue("ping", Ping(n=n), now_ms=0, tenant_id=uuid.UUID(first))
        await outbox.enqueue("push", Ping(n=n), now_ms=0, tenant_id=uuid.UUID(second))
    leased: list[str] = []
    for worker in ("a", "b", "c"):  # three workers claiming one after another
        batch = await outbox.claim(
            worker=worker, limit=50, lease_ms=60_000, now_ms=1, tenant_limit=5, kind_limits={"push": 2}
        )
        leased += [f"{job.tenant_id}/{job.kind}" for job in batch]
    counts = Counter(leased)
    assert counts[f"{first}/ping"] == 5
    assert counts[f"{second}/push"] == 2


async def test_periodic_jobs_are_enqueued_once_per_period_by_any_number_of_workers(db: Database) -> None:
    from jobs.kinds import PeriodicJob

    runs: list[int] = []

    async def tick(payload: Ping, ctx: JobContext) -> None:
        runs.append(payload.n)

    clock = Clock()
    registry = registry_with(tick)
    registry.schedule(PeriodicJob(kind="ping", every_ms=60_000, payload=Ping(n=7)))
    workers = [Worker(db, registry, clock=clock, name=f"replica-{i}") for i in range(3)]
    for _period in range(4):
        for worker in workers:
            worker._next_schedule_ms = 0
            await worker.schedule_periodic()
        await asyncio.gather(*(worker.drain() for worker in workers))
        clock.now += 60_000
    assert runs == [7, 7, 7, 7]
    rows = await db.fetch("SELECT dedupe_key FROM outbox_job WHERE kind = 'ping'")
    assert len({row["dedupe_key"] for row in rows}) == 4


async def test_purge_deletes_old_finished_jobs_only(db: Database) -> None:
    outbox = Outbox(db)
    done_id = await outbox.enqueue("ping", Ping(n=1), now_ms=0)
    dead_id = await outbox.enqueue("ping", Ping(n=2), now_ms=0)
    [first, second] = await outbox.claim(worker="w", limit=2, lease_ms=100, now_ms=0)
    by_id = {first.id: first, second.id: second}
    assert done_id is not None
    assert dead_id is not None
    await outbox.complete(by_id[done_id], now_ms=10)
    from jobs.retry_policy import Failure

    await outbox.fail(by_id[dead_id], Failure(state=JobState.DEAD, available_at_ms=10), error="x", now_ms=10)
    assert await outbox.purge_done(before_ms=5) == 0
    assert await outbox.purge_done(before_ms=11) == 1
    assert await outbox.get(done_id) is None
    assert await outbox.get(dead_id) is not None


@only_postgres
async def test_an_idle_postgres_worker_wakes_on_notify_not_on_its_poll(db: Database) -> None:
    ran = asyncio.Event()

    async def handle(payload: Ping, ctx: JobContext) -> None:
        ran.set()

    stop = asyncio.Event()
    worker = Worker(db, registry_with(handle), poll_interval_s=600)  # would sleep ten minutes between polls
    runner = asyncio.create_task(worker.run(stop))
    other = Database(db.settings)  # another process's connection: only NOTIFY can reach the worker
    await other.start()
    try:
        await worker.idle.wait()  # its first poll found nothing; it now sleeps for ten minutes
        await Outbox(other).enqueue("ping", Ping(n=1), now_ms=wall_ms())
        await asyncio.wait_for(ran.wait(), timeout=10)
    finally:
        stop.set()
        await runner
        await other.close()


@only_postgres
async def test_an_enqueue_behind_an_announced_job_of_its_kind_does_not_notify(db: Database) -> None:
    heard: list[str] = []
    arrived = asyncio.Event()

    def hear(payload: str) -> None:
        heard.append(payload)
        arrived.set()

    async def heard_after(action: Awaitable[object]) -> list[str]:
        """What the channel carried for ``action``: a marker notified after it arrives after its notifications."""
        heard.clear()
        await action
        await db.notify(NOTIFY_CHANNEL, "marker")
        while "marker" not in heard:
            arrived.clear()
            await asyncio.wait_for(arrived.wait(), timeout=10)
        return heard[:-1]

    outbox = Outbox(db)
    forget = await db.listen(NOTIFY_CHANNEL, hear)
    assert forget is not None
    try:
        now = wall_ms()
        assert await heard_after(outbox.enqueue("ping", Ping(n=1), now_ms=now)) == ["ping"]
        assert await heard_after(outbox.enqueue("ping", Ping(n=2), now_ms=now)) == []  # the workers are awake
        assert await heard_after(outbox.enqueue("pong", Ping(n=3), now_ms=now)) == ["pong"]  # another kind
        claimed = await outbox.claim(worker="w", limit=10, lease_ms=60_000, now_ms=now + 1)
        assert len(claimed) == 3
        assert await heard_after(outbox.enqueue("ping", Ping(n=4), now_ms=now + 2)) == ["ping"]  # none waits
        [fourth] = await outbox.claim(worker="w", limit=10, lease_ms=60_000, now_ms=now + 3)
        # Waiting jobs nobody was told of do not count: one due later, and a retry whose backoff ran out.
        await outbox.enqueue("ping", Ping(n=5), now_ms=now + 3, run_at_ms=now + 4)
        await outbox.fail(fourth, Failure(state=JobState.QUEUED, available_at_ms=now + 4), error="x", now_ms=now + 3)
        assert await heard_after(outbox.enqueue("ping", Ping(n=6), now_ms=now + 5)) == ["ping"]
    finally:
        await forget()


@only_postgres
async def test_jobs_enqueued_without_a_notification_run_without_waiting_for_the_poll(db: Database) -> None:
    """Each job enqueued behind an announced one is found by the claim its claimer makes when its work ends:
    two workers that would poll every ten minutes run 200 jobs enqueued by four writers at once."""
    ran: set[int] = set()
    all_ran = asyncio.Event()

    async def handle(payload: Ping, ctx: JobContext) -> None:
        ran.add(payload.n)
        if len(ran) == 200:
            all_ran.set()

    stop = asyncio.Event()
    workers = [Worker(db, registry_with(handle), poll_interval_s=600, concurrency=2) for _ in range(2)]
    runners = [asyncio.create_task(worker.run(stop)) for worker in workers]
    other = Database(db.settings)  # another process's connections: only NOTIFY reaches the workers
    await other.start()
    try:
        await asyncio.gather(*(worker.idle.wait() for worker in workers))

        async def writer(first: int) -> None:
            for n in range(first, 200, 4):
                await Outbox(other).enqueue("ping", Ping(n=n), now_ms=wall_ms())

        await asyncio.gather(*(writer(first) for first in range(4)))
        await asyncio.wait_for(all_ran.wait(), timeout=30)
    finally:
        stop.set()
        await asyncio.gather(*runners)
        await other.close()


def claims_coming_back(worker: Worker) -> asyncio.Event:
    """An event the worker sets each time one of its claims has come back (a test clears it, then waits)."""
    came_back = asyncio.Event()
    claim = worker.outbox.claim

    async def watched(**kwargs: Any) -> list[Job]:
        try:
            return await claim(**kwargs)
        finally:
            came_back.set()

    worker.outbox.claim = watched  # type: ignore[method-assign]
    return came_back


@only_postgres
async def test_a_job_of_another_tenant_is_not_held_up_by_a_tenant_at_its_limit(db: Database) -> None:
    """Found in review: tenant A at its limit (one job running) leaves its next job queued, looking announced;
    tenant B's job of that kind was then enqueued without a notification, and waited for the poll while the
    worker had free slots. Only a job of the same tenant, held by the same limit, now spares a notification."""
    tenant_a, tenant_b = (uuid.UUID(t) for t in await make_tenants(db, 2))
    release, started_a1, ran_b = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def handle(payload: Ping, ctx: JobContext) -> None:
        if payload.n == 1:
            started_a1.set()
            await release.wait()
        if payload.n == 3:
            ran_b.set()

    stop = asyncio.Event()
    worker = Worker(db, registry_with(handle), poll_interval_s=600, concurrency=4, tenant_concurrency=1)
    claim_came_back = claims_coming_back(worker)
    runner = asyncio.create_task(worker.run(stop))
    other = Database(db.settings)  # another process's connections: only NOTIFY reaches the worker
    await other.start()
    try:
        await worker.idle.wait()
        outbox = Outbox(other)
        await outbox.enqueue("ping", Ping(n=1), now_ms=wall_ms(), tenant_id=tenant_a)
        await asyncio.wait_for(started_a1.wait(), timeout=10)
        claim_came_back.clear()
        await outbox.enqueue("ping", Ping(n=2), now_ms=wall_ms(), tenant_id=tenant_a)  # held by the tenant limit
        await asyncio.wait_for(claim_came_back.wait(), timeout=10)  # the claim it woke came back empty (A's limit)
        await outbox.enqueue("ping", Ping(n=3), now_ms=wall_ms(), tenant_id=tenant_b)
        await asyncio.wait_for(ran_b.wait(), timeout=10)  # a free slot: at once, not at the poll in ten minutes
    finally:
        release.set()
        stop.set()
        await runner
        await other.close()


@only_postgres
async def test_a_lease_given_back_at_shutdown_wakes_the_other_workers(db: Database) -> None:
    """Found in review: a stopping worker gave its unfinished job back with attempts 0 and due since its enqueue,
    so it looked announced, and neither it nor the next jobs of its kind woke anyone until the poll."""
    release, started, ran = asyncio.Event(), asyncio.Event(), set[int]()
    both_ran = asyncio.Event()

    async def handle(payload: Ping, ctx: JobContext) -> None:
        if payload.n == 1 and not started.is_set():
            started.set()
            await release.wait()
            return
        ran.add(payload.n)
        if ran == {1, 2}:
            both_ran.set()

    stopping, staying = asyncio.Event(), asyncio.Event()
    first = Worker(db, registry_with(handle), poll_interval_s=600, concurrency=1, grace_s=0.05)
    second = Worker(db, registry_with(handle), poll_interval_s=600, concurrency=4)
    other = Database(db.settings)
    await other.start()
    first_runner = asyncio.create_task(first.run(stopping))
    second_runner: asyncio.Task[None] | None = None
    try:
        await first.idle.wait()
        await Outbox(other).enqueue("ping", Ping(n=1), now_ms=wall_ms())
        await asyncio.wait_for(started.wait(), timeout=10)  # the first worker holds job 1
        second_runner = asyncio.create_task(second.run(staying))
        await second.idle.wait()  # its first claim found job 1 leased; it waits for ten minutes
        stopping.set()
        await first_runner  # gives job 1 back
        await Outbox(other).enqueue("ping", Ping(n=2), now_ms=wall_ms())
        await asyncio.wait_for(both_ran.wait(), timeout=10)  # the job given back and the next one, at once
    finally:
        release.set()
        stopping.set()
        staying.set()
        await asyncio.gather(first_runner, *([second_runner] if second_runner is not None else []))
        await other.close()


@only_sqlite
async def test_an_idle_embedded_sqlite_worker_wakes_when_its_process_enqueues(db: Database) -> None:
    ran = asyncio.Event()

    async def handle(payload: Ping, ctx: JobContext) -> None:
        ran.set()

    stop = asyncio.Event()
    worker = Worker(db, registry_with(handle), poll_interval_s=600)
    runner = asyncio.create_task(worker.run(stop))
    try:
        await worker.idle.wait()
        async with db.tx():
            await Outbox(db).enqueue("ping", Ping(n=1), now_ms=wall_ms())
            assert not ran.is_set()  # announced on commit, not before
        await asyncio.wait_for(ran.wait(), timeout=10)
    finally:
        stop.set()
        await runner


@only_sqlite
async def test_sqlite_announces_only_committed_notifications(db: Database) -> None:
    heard: list[str] = []
    forget = await db.listen("assessgate_jobs_test", heard.append)
    assert forget is not None
    with pytest.raises(RuntimeError):
        async with db.tx():
            await db.notify("assessgate_jobs_test")
            raise RuntimeError("rolled back")
    assert heard == []
    async with db.tx():
        await db.notify("assessgate_jobs_test", "x")
    assert heard == ["x"]
    await forget()
    await db.notify("assessgate_jobs_test")
    assert heard == ["x"]  # forgotten


def wall_ms() -> int:
    import time

    return time.time_ns() // 1_000_000


async def test_jobs_of_no_tenant_are_not_held_to_the_tenant_limit(db: Database) -> None:
    outbox = Outbox(db)
    for n in range(12):
        await outbox.enqueue("ping", Ping(n=n), now_ms=0)
    batch = await outbox.claim(worker="w", limit=50, lease_ms=60_000, now_ms=1, tenant_limit=3)
    assert len(batch) == 12


async def test_claims_are_limited_to_the_kinds_a_worker_can_run(db: Database) -> None:
    outbox = Outbox(db)
    await outbox.enqueue("new-kind", Ping(n=1), now_ms=0)
    await outbox.enqueue("ping", Ping(n=2), now_ms=0)
    batch = await outbox.claim(worker="old", limit=10, lease_ms=1_000, now_ms=1, kinds=["ping"])
    assert [job.kind for job in batch] == ["ping"]
    assert await outbox.claim(worker="old", limit=10, lease_ms=1_000, now_ms=1, kinds=[]) == []


async def test_parking_does_not_use_up_attempts(db: Database) -> None:
    import uuid as uuid_module
    from datetime import UTC, datetime

    tenant = uuid_module.uuid4()
    now = datetime.now(UTC)
    await db.fetch(
        "INSERT INTO tenant (id, name, created_at, updated_at) VALUES ({}, {}, {}, {})", tenant, "T", now, now
    )
    outbox = Outbox(db)
    await outbox.enqueue("ping", Ping(n=1), now_ms=0, tenant_id=tenant, max_attempts=2)
    for cycle in range(5):  # an integration flapping INACTIVE/ACTIVE five times
        [job] = await outbox.claim(worker="w", limit=1, lease_ms=100, now_ms=cycle * 10)
        assert job.attempts == 1
        await outbox.park(job, reason="integration INACTIVE", now_ms=cycle * 10 + 1)
        await outbox.release_parked(tenant_id=tenant, now_ms=cycle * 10 + 2)
    [job] = await outbox.claim(worker="w", limit=1, lease_ms=100, now_ms=100)
    assert job.attempts == 1
