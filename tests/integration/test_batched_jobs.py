"""Kinds run in batches (``jobs.kinds.InBatches``, ``jobs/batch_run.py``): one load for a batch, each job's act on
its own with its own outcome, and the jobs whose acts answered committed together, without waiting for slow ones."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest

from core.clock import wall_clock_ms
from core.errors import AssessgateError
from jobs.kinds import InBatches, JobContext, JobKind, JobRegistry
from jobs.lifecycle import JobState
from jobs.outbox import Outbox
from jobs.worker import Worker
from storage.database import Database, Write

pytestmark = pytest.mark.anyio

JOBS = 40


class Item(msgspec.Struct):
    n: int


class Flaky(AssessgateError):
    retryable = True


class Recorder:
    """A batched kind that remembers what each step saw; ``slow`` acts wait for ``release``."""

    def __init__(
        self, db: Database, *, failing: Collection[int] = (), slow: Collection[int] = (), poison: Collection[int] = ()
    ) -> None:
        self.db = db
        self.failing = failing
        self.poison = poison  # their rows cannot be recorded (a constraint, a bug): the commit that holds them fails
        self.slow = slow
        self.release = asyncio.Event()
        self.loads: list[list[int]] = []
        self.acted: list[int] = []
        self.recorded: list[list[int]] = []

    def kind(self) -> JobKind[Item]:
        return JobKind("test.batched", Item, batches=InBatches(self.load, self.act, self.record))

    async def load(self, payloads: Sequence[Item]) -> list[int | None]:
        self.loads.append([p.n for p in payloads])
        return [None if p.n == 0 else p.n for p in payloads]  # 0: nothing to do

    async def act(self, n: int, ctx: JobContext) -> int:
        if n in self.slow:
            await self.release.wait()
        if n in self.failing:
            raise Flaky(f"item {n} failed")
        self.acted.append(n)
        return n * 10

    def record(self, done: Sequence[tuple[int, Any]]) -> list[Write]:
        """Rows in ``batch_record``, made with the jobs' completion; a poisoned item's row twice (a key violation)."""
        assert all(result == n * 10 for n, result in done)
        numbers = [n for n, _ in done]
        if not numbers:  # only jobs with nothing to do
            return []
        self.recorded.append(numbers)
        writes: list[Write] = [(f"INSERT INTO batch_record (n) VALUES {', '.join('({})' for _ in numbers)}", numbers)]
        return writes + [("INSERT INTO batch_record (n) VALUES ({})", [n]) for n in numbers if n in self.poison]


async def recorder_for(db: Database, **options: Collection[int]) -> Recorder:
    await db.execute("CREATE TABLE IF NOT EXISTS batch_record (n INTEGER PRIMARY KEY)")
    return Recorder(db, **options)


async def committed(db: Database) -> list[int]:
    return sorted(row["n"] for row in await db.fetch("SELECT n FROM batch_record"))


async def enqueue(db: Database, count: int) -> list[str]:
    return await enqueue_numbers(db, range(count))


async def enqueue_numbers(db: Database, numbers: Collection[int]) -> list[str]:
    outbox = Outbox(db)
    ids = [await outbox.enqueue("test.batched", Item(n=n), now_ms=0) for n in numbers]
    return [job_id for job_id in ids if job_id is not None]


def worker(db: Database, recorder: Recorder, *, linger_s: float = 0.0) -> Worker:
    registry = JobRegistry([recorder.kind()])
    return Worker(db, registry, concurrency=4, batch_size=16, batch_linger_s=linger_s, rng=random.Random(1))


@asynccontextmanager
async def worker_running(worker: Worker) -> AsyncIterator[None]:
    """``worker`` runs until the block ends; then it is stopped, and its end awaited (ten seconds at most)."""
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=10)


async def test_a_batch_loads_once_acts_on_each_and_commits_them_together(db: Database) -> None:
    recorder = await recorder_for(db)
    await enqueue(db, JOBS)
    await worker(db, recorder).drain()
    assert await Outbox(db).count_by_state() == {"done": JOBS}
    assert sorted(n for load in recorder.loads for n in load) == list(range(JOBS))
    assert len(recorder.loads) <= JOBS // 16 + 1  # a load a batch, not a load a job
    assert sorted(recorder.acted) == list(range(1, JOBS))  # job 0 had nothing to do
    assert await committed(db) == list(range(1, JOBS))  # each act's record, committed with its job's end
    assert len(recorder.recorded) < JOBS // 2


async def test_a_failing_job_fails_alone(db: Database) -> None:
    recorder = await recorder_for(db, failing={3, 17})
    ids = await enqueue(db, JOBS)
    await worker(db, recorder).drain()
    outbox = Outbox(db)
    states = {n: (await outbox.get(job_id)).state for n, job_id in enumerate(ids)}  # type: ignore[union-attr]
    assert {n for n, state in states.items() if state != JobState.DONE} == {3, 17}
    assert states[3] == JobState.QUEUED  # retryable: scheduled again with a backoff
    failed = await outbox.get(ids[3])
    assert failed is not None
    assert failed.last_error is not None
    assert "item 3 failed" in failed.last_error


async def test_a_row_that_cannot_be_recorded_fails_its_job_alone(db: Database) -> None:
    """Found in review: one job's failing row failed the whole batch's commit, and every job in it went dead
    though their calls had succeeded. The commit is retried job by job."""
    recorder = await recorder_for(db, poison={7})
    ids = await enqueue(db, JOBS)
    await worker(db, recorder).drain()
    outbox = Outbox(db)
    states = {n: (await outbox.get(job_id)).state for n, job_id in enumerate(ids)}  # type: ignore[union-attr]
    assert {n for n, state in states.items() if state != JobState.DONE} == {7}
    assert states[7] == JobState.DEAD  # a crash, as it would have been unbatched
    assert await committed(db) == [n for n in range(1, JOBS) if n != 7]  # and nothing of its batch lost


@pytest.mark.parametrize("linger_s", [0.0, 0.05])
async def test_jobs_that_answered_are_done_while_a_slow_one_still_acts(db: Database, linger_s: float) -> None:
    """With a linger, the first answers wait that long for the rest of their batch (one commit for answers a
    moment apart), and no longer: a slow call still holds back nobody."""
    recorder = await recorder_for(db, slow={5})
    ids = await enqueue(db, 8)
    running = asyncio.create_task(worker(db, recorder, linger_s=linger_s).drain())
    outbox = Outbox(db)
    try:
        async with asyncio.timeout(10):
            while (await outbox.count_by_state()).get("done", 0) < 7:  # noqa: ASYNC110 - the worker is a task here
                await asyncio.sleep(0.01)
        slow = await outbox.get(ids[5])
        assert slow is not None
        assert slow.state == JobState.RUNNING
    finally:
        recorder.release.set()
        await running
    assert await outbox.count_by_state() == {"done": 8}


async def test_a_batched_job_due_without_a_notification_runs_within_a_poll_under_a_stream_of_others(
    db: Database,
) -> None:
    """Found in review: the poll's claim of every kind came only when a sleep ran its whole interval, so while
    single jobs kept waking the worker, a write-back whose backoff ran out (no notification) waited for them."""
    outbox = Outbox(db)
    ran = asyncio.Event()
    recorder = await recorder_for(db)

    async def single(payload: Item, ctx: JobContext) -> None:  # each job enqueues the next: a steady stream
        if not ran.is_set():
            await outbox.enqueue("test.single", Item(n=payload.n + 1), now_ms=wall_clock_ms())

    async def act(n: int, ctx: JobContext) -> int:
        ran.set()
        return n * 10

    batched = JobKind("test.batched", Item, batches=InBatches(recorder.load, act, recorder.record))
    registry = JobRegistry([JobKind("test.single", Item, single), batched])
    worker = Worker(db, registry, concurrency=4, poll_interval_s=0.2, rng=random.Random(1))
    async with worker_running(worker):
        try:
            await outbox.enqueue("test.single", Item(n=0), now_ms=wall_clock_ms())
            # Its notification comes now, before it is due: as a retry's backoff, only a claim of every kind finds it.
            await outbox.enqueue("test.batched", Item(n=1), now_ms=wall_clock_ms(), run_at_ms=wall_clock_ms() + 100)
            async with asyncio.timeout(5):  # a few poll intervals; the stream of single jobs never ends by itself
                await ran.wait()
        finally:
            ran.set()  # the stream of single jobs ends before the worker stops


async def test_answers_a_moment_apart_are_committed_together(db: Database) -> None:
    """Found measuring: calls sent together answer a few milliseconds apart, and committed as they came, a batch
    of eight took three or four commits. The first answers now wait for the rest, up to the worker's linger."""
    recorder = await recorder_for(db, slow={2})
    act = recorder.act

    async def releasing_after_one(n: int, ctx: JobContext) -> int:
        answer = await act(n, ctx)
        if n == 1:  # job 2's call answers a moment after job 1's
            asyncio.get_running_loop().call_later(0.02, recorder.release.set)
        return answer

    recorder.act = releasing_after_one  # type: ignore[method-assign]
    await enqueue_numbers(db, (1, 2))
    await worker(db, recorder, linger_s=10).drain()
    assert [sorted(numbers) for numbers in recorder.recorded] == [[1, 2]]
    assert await committed(db) == [1, 2]


def answering_late(recorder: Recorder, *, after_s: float) -> asyncio.Event:
    """Job 1's call answers ``after_s`` after it is sent (job 2, slow, answers only on ``recorder.release``);
    returns an event set once job 1 has answered."""
    answered = asyncio.Event()
    act = recorder.act

    async def late(n: int, ctx: JobContext) -> int:
        if n == 1:
            await asyncio.sleep(after_s)  # the call's own latency, not a wait for something to happen
        answer = await act(n, ctx)
        if n == 1:
            answered.set()
        return answer

    recorder.act = late  # type: ignore[method-assign]
    return answered


async def test_the_wait_for_the_rest_ends_at_the_batchs_deadline(db: Database) -> None:
    """Found in review: the wait for the rest was bounded by the time left when the batch began waiting, not by its
    deadline, so an answer late in the lease pushed the commit and the slow calls' retries past the lease."""
    recorder = await recorder_for(db, slow={2})
    answering_late(recorder, after_s=1.0)
    outbox = Outbox(db)
    ids = await enqueue_numbers(db, (1, 2))
    registry = JobRegistry([recorder.kind()])
    lingering = Worker(db, registry, lease_ms=2_000, batch_linger_s=10, rng=random.Random(1))  # deadline: 1.8 s
    loop = asyncio.get_running_loop()
    began = loop.time()
    await lingering.drain()
    assert loop.time() - began < 2.4  # past the deadline the wait would have run until 2.8 s
    states = [(await outbox.get(job_id)).state for job_id in ids]  # type: ignore[union-attr]
    assert states == [JobState.DONE, JobState.QUEUED]  # job 2's call timed out: a retry, recorded
    assert await committed(db) == [1]


async def test_a_shutdown_during_the_wait_for_the_rest_commits_what_answered(db: Database) -> None:
    """Found in review: a shutdown that cancelled a batch while its first answers waited for the rest lost them:
    their jobs were given back and their calls would have been made again."""
    recorder = await recorder_for(db, slow={2})
    answered = answering_late(recorder, after_s=0)
    outbox = Outbox(db)
    ids = await enqueue_numbers(db, (1, 2))
    registry = JobRegistry([recorder.kind()])
    lingering = Worker(db, registry, batch_linger_s=600, grace_s=0.1, poll_interval_s=600, rng=random.Random(1))
    # The block's end stops the worker: after the grace the batch, still waiting for job 2, is cancelled.
    async with worker_running(lingering):
        await asyncio.wait_for(answered.wait(), timeout=10)
    states = [(await outbox.get(job_id)).state for job_id in ids]  # type: ignore[union-attr]
    assert states == [JobState.DONE, JobState.QUEUED]  # job 2 given back, its attempt not counted
    assert await committed(db) == [1]


def records_announced(recorder: Recorder) -> asyncio.Event:
    """An event set each time the recorder records a batch (a test clears it, then waits)."""
    recorded = asyncio.Event()
    record = recorder.record

    def noting(done: Sequence[tuple[int, Any]]) -> list[Write]:
        recorded.set()
        return record(done)

    recorder.record = noting  # type: ignore[method-assign]
    return recorded


def lingering_worker(db: Database, recorder: Recorder, linger_s: float) -> Worker:
    """A worker that polls every ten minutes and treats every notification but its first as part of a stream."""
    registry = JobRegistry([recorder.kind()])
    return Worker(db, registry, poll_interval_s=600, batch_linger_s=linger_s, stream_within_s=60, rng=random.Random(1))


async def begin_stream(worker: Worker, recorded: asyncio.Event) -> float:
    """On the idle worker, job 1's enqueue begins a stream (its notification, the first, is claimed at once); waits
    until it is recorded and the worker sleeps again, and returns how long the recording took."""
    loop = asyncio.get_running_loop()
    await worker.idle.wait()
    enqueued = loop.time()
    await worker.outbox.enqueue("test.batched", Item(n=1), now_ms=wall_clock_ms())
    await asyncio.wait_for(recorded.wait(), timeout=10)
    took = loop.time() - enqueued
    recorded.clear()
    await worker.idle.wait()
    return took


async def test_in_a_stream_of_enqueues_a_claim_lingers_so_that_jobs_arriving_meanwhile_join_its_batch(
    db: Database,
) -> None:
    """Issue #18: with several workers, whichever was idle when a result arrived took it alone, so claims and
    commits per result grew with the workers. A notification close behind another makes its claim linger; the
    first after a quiet spell is claimed at once."""
    recorder = await recorder_for(db)
    recorded = records_announced(recorder)
    linger_s = 1.0
    worker = lingering_worker(db, recorder, linger_s)
    outbox, loop = Outbox(db), asyncio.get_running_loop()
    async with worker_running(worker):
        first_took = await begin_stream(worker, recorded)
        enqueued = loop.time()
        for n in (2, 3, 4):  # one after the other, each notified (or spared: job 2 is announced and waits)
            await outbox.enqueue("test.batched", Item(n=n), now_ms=wall_clock_ms())
        await asyncio.wait_for(recorded.wait(), timeout=10)
        stream_took = loop.time() - enqueued
    assert first_took < linger_s  # a quiet queue: at once
    # which jobs joined the batch, in any order: jobs due in the same millisecond are claimed in their ids' order
    assert [sorted(load) for load in recorder.loads] == [[1], [2, 3, 4]]
    assert stream_took >= linger_s  # the claim waited for the jobs behind job 2 (without the linger: 15-20 ms)


async def test_a_stream_of_notifications_does_not_put_a_lingering_claim_off(db: Database) -> None:
    """Notifications coming faster than the linger do not put the claim off for ever: it comes one linger after the
    notification that began it, however many follow (found in review: the first version of this test never
    lingered, its claim found the job it was meant to wait for)."""
    recorder = await recorder_for(db)
    recorded = records_announced(recorder)
    linger_s = 0.3
    worker = lingering_worker(db, recorder, linger_s)
    outbox, loop = Outbox(db), asyncio.get_running_loop()
    async with worker_running(worker):
        await begin_stream(worker, recorded)
        enqueued = loop.time()
        await outbox.enqueue("test.batched", Item(n=2), now_ms=wall_clock_ms())  # its claim lingers
        async with asyncio.timeout(10):
            while not recorded.is_set():  # more notifications, faster than the linger
                worker.wake("test.batched")
                await asyncio.sleep(0.01)
        took = loop.time() - enqueued
    assert recorder.loads == [[1], [2]]
    assert took >= linger_s


async def test_a_job_that_runs_alone_and_the_stop_cut_a_linger_short(db: Database) -> None:
    """Found in review: the linger was a plain sleep, so a job of a kind that runs alone, enqueued meanwhile,
    waited for it, as did the stop. A linger of ten minutes shows it: neither waits for it."""
    recorder = await recorder_for(db)
    ran = asyncio.Event()

    async def single(payload: Item, ctx: JobContext) -> None:
        ran.set()

    registry = JobRegistry([recorder.kind(), JobKind("test.single", Item, single)])
    worker = Worker(db, registry, poll_interval_s=600, batch_linger_s=600, stream_within_s=600)
    outbox = Outbox(db)
    async with worker_running(worker):
        await worker.idle.wait()
        worker.wake("test.batched")
        worker.wake("test.batched")  # a stream: the worker lingers for ten minutes
        assert worker.lingering
        await outbox.enqueue("test.single", Item(n=1), now_ms=wall_clock_ms())
        await asyncio.wait_for(ran.wait(), timeout=10)
        worker.wake("test.batched")  # lingering again, then stopped
        worker.wake("test.batched")


async def test_a_batch_that_ends_claims_at_once_what_came_while_it_ran(db: Database) -> None:
    """Found in review: a notification while the worker's batch ran set a linger for the claim at its end, though
    the jobs had waited for the whole batch already. A linger of ten minutes shows that claim does not wait."""
    recorder = await recorder_for(db, slow={1})
    acting = asyncio.Event()
    act = recorder.act

    async def announcing(n: int, ctx: JobContext) -> int:
        acting.set()
        return await act(n, ctx)

    recorder.act = announcing  # type: ignore[method-assign]
    recorded = records_announced(recorder)
    worker = lingering_worker(db, recorder, 600)
    outbox = Outbox(db)
    async with worker_running(worker):
        await worker.idle.wait()
        await outbox.enqueue("test.batched", Item(n=1), now_ms=wall_clock_ms())  # claimed at once; its act waits
        await asyncio.wait_for(acting.wait(), timeout=10)
        await outbox.enqueue("test.batched", Item(n=2), now_ms=wall_clock_ms())  # a stream, while the batch runs
        worker.wake("test.batched")  # its notification, for certain before the batch ends
        recorder.release.set()
        async with asyncio.timeout(10):
            while recorder.loads != [[1], [2]] or len(recorder.recorded) < 2:
                recorded.clear()
                await recorded.wait()


async def test_only_a_notification_close_behind_another_lingers(db: Database) -> None:
    """The first notification after a quiet spell, longer than ``stream_within_s``, is claimed at once; one close
    behind it lingers. By default the spell is 2.5 lingers."""
    recorder = await recorder_for(db)
    registry = JobRegistry([recorder.kind()])
    assert Worker(db, registry, batch_linger_s=0.02).stream_within_s == pytest.approx(0.05)
    worker = Worker(db, registry, poll_interval_s=600, batch_linger_s=600, stream_within_s=0.5)
    async with worker_running(worker):
        await worker.idle.wait()
        worker.wake("test.batched")
        assert not worker.lingering  # the first: at once
        await asyncio.sleep(0.6)  # a quiet spell (its claim finds nothing)
        worker.wake("test.batched")
        assert not worker.lingering
        worker.wake("test.batched")
        assert worker.lingering


def test_a_kind_runs_either_one_job_at_a_time_or_in_batches() -> None:
    async def handler(payload: Item, ctx: JobContext) -> None:
        return None

    recorder = Recorder(None)  # type: ignore[arg-type]  # never runs
    with pytest.raises(ValueError, match="either"):
        JobKind("test.neither", Item)
    with pytest.raises(ValueError, match="either"):
        JobKind("test.both", Item, handler, batches=InBatches(recorder.load, recorder.act, recorder.record))
