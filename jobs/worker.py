"""The worker: claims due jobs from the outbox, runs their handlers, and records each outcome.

Several workers (tasks in one process, or processes) may run against one PostgreSQL database; on
SQLite run one, inside ``serve``. The loop claims as many jobs as it has free slots (kinds that run in
batches a batch a slot, ``jobs/batch_run.py``), runs them concurrently, and sleeps ``poll_interval_s`` (or until
``wake()`` or a running job's end) when nothing is due. On ``stop`` it claims nothing more, lets running jobs
finish for ``grace_s`` and gives unfinished ones back. docs/outbox.md says what wakes it and why.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import time
import uuid
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any, Final

import msgspec
import structlog

from core.clock import wall_clock_ms
from core.errors import AssessgateError
from core.metrics import WorkerMetrics
from jobs.batch_run import BatchRun
from jobs.kinds import JobRegistry
from jobs.lifecycle import Job
from jobs.outbox import NOTIFY_CHANNEL, Outbox
from jobs.outcomes import Outcomes, RanOutOfAttempts, job_context, job_span, log_context
from jobs.trace_context import (
    close_span,
    payload_without_trace,
    within,
)
from storage.database import Database

log = structlog.get_logger()


#: The classes of kinds a claim asks for: those run in batches (``InBatches``) and those run a job at a time.
BATCHED: Final = "batched"
SINGLE: Final = "single"
#: Batches a worker runs at once. While they run, newly due jobs of batched kinds wait and join the next batch.
MAX_BATCHES: Final = 2
#: After a claim that found nothing, the next claim waits: 10 ms, doubling with each empty claim in a row up to
#: 100 ms, back to none after one that found work. With several workers every enqueue wakes them all, and under
#: load one of them has taken the job: the others' claims came back empty, a cost each that grew with the
#: number of workers (docs/performance.md). A job on a queue that has been idle that long still starts at once.
QUIET_FIRST_S: Final = 0.01
QUIET_MAX_S: Final = 0.1
#: In a stream of enqueues of batched kinds (each notification within ``stream_within_s`` of the one before) a claim
#: woken by one waits ``batch_linger_s`` first, so that the jobs arriving meanwhile join its batch (Kafka's
#: ``linger.ms``). Every worker hears the same notifications, so with several workers all of them linger and the
#: first to claim takes the batch, where without it whichever was idle took each job alone and claims, reads and
#: commits per job grew with the number of workers (docs/outbox.md). The first enqueue after a quiet spell is
#: claimed at once. By default a stream's gap is 2.5 lingers: 50 ms for 20 ms, 20 notifications a second or more.
STREAM_WITHIN_LINGERS: Final = 2.5


class Worker:
    def __init__(
        self,
        db: Database,
        registry: JobRegistry,
        *,
        concurrency: int = 4,
        tenant_concurrency: int = 8,
        batch_size: int = 32,
        poll_interval_s: float = 1.0,
        lease_ms: int = 60_000,
        grace_s: float = 10.0,
        clock: Callable[[], int] = wall_clock_ms,
        rng: random.Random | None = None,
        name: str | None = None,
        metrics: WorkerMetrics | None = None,
        listen: bool = True,
        batch_linger_s: float = 0.0,
        stream_within_s: float | None = None,
    ) -> None:  # shape: the worker's settings and state, each set and said once
        self.outbox = Outbox(db)
        self.metrics = metrics or WorkerMetrics()
        self.listen = listen
        self.registry = registry
        self.concurrency = concurrency
        self.tenant_concurrency = tenant_concurrency
        #: Jobs of a batched kind (``InBatches``) one task runs at most: a batch takes one of ``concurrency``'s slots.
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.batch_linger_s = batch_linger_s  # see STREAM_WITHIN_LINGERS
        self.stream_within_s = STREAM_WITHIN_LINGERS * batch_linger_s if stream_within_s is None else stream_within_s
        self.lease_ms = lease_ms
        self.grace_s = grace_s
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.name = name or f"{socket.gethostname()}:{uuid.uuid4().hex[:6]}"
        self.outcomes = Outcomes(self.outbox, self.metrics, clock, self.rng)
        timeout_s = lease_ms / 1000 * 0.9  # a batch ends before its lease does
        self.batch_run = BatchRun(self.outbox, self.outcomes, clock, timeout_s=timeout_s, gather_s=batch_linger_s)
        self._wake = asyncio.Event()
        #: Set while the loop sleeps with nothing to do (lets tests and operators observe idleness).
        self.idle = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._jobs_of: dict[asyncio.Task[None], list[Job]] = {}
        self._finished = 0  # jobs finished so far (drain uses it to know its last claim saw their effects)
        self._next_schedule_ms = 0
        self._batched = frozenset(registry.batched_names)
        self._batched_names = sorted(self._batched)
        self._single_names = [name for name in registry.names if name not in self._batched]
        #: The classes of kinds (``BATCHED``, ``SINGLE``) a claim may find work in: set by a notification of an
        #: enqueue, a running task's end (its slot and its tenant's share are free), a full claim (there may be
        #: more) and a poll that timed out (anything may be due by now); a claim asks only for these.
        self._hints: set[str] = {BATCHED, SINGLE}
        self._batches_running = 0
        self._quiet_until = 0.0  # loop time until which a claim waits (see QUIET_FIRST_S)
        self._quiet_s = 0.0
        self._linger_until = 0.0  # loop time until which a claim for batched kinds waits (batch_linger_s)
        self._notified_at: float | None = None  # loop time of the last notification of a batched kind
        self._stopping = False
        self._next_poll = 0.0  # loop time of the next poll (see _poll_if_due)
        #: Classes whose hint was used up without a claim (no room): a running task's end hints them again.
        self._owed: set[str] = set()

    def wake(self, kind: str = "") -> None:
        """Skip the rest of the current poll sleep: a job of ``kind`` was enqueued (a notification's payload;
        empty: any kind). The next claim asks only for that kind's class, batched or not; while a batch runs,
        a batched kind's job waits for its end (a claim now would mostly find the tenant's share in use)."""
        before = set(self._hints)
        if kind in self._batched:
            now = asyncio.get_running_loop().time()
            streaming = self._notified_at is not None and now - self._notified_at <= self.stream_within_s
            self._notified_at = now
            if not self._batches_running:  # else the running batch's end claims it, with whatever else came
                if streaming and self._linger_until <= now:  # a later notification does not put the claim off
                    self._linger_until = now + self.batch_linger_s
                self._hints.add(BATCHED)
        else:
            self._hints |= {SINGLE} if kind else {BATCHED, SINGLE}
        if self._hints == before:
            return  # nothing new to claim: no need to wake
        self._wake.set()  # the loop's sleep ends: at once, or when a quiet period after an empty claim ends

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker_started", worker=self.name, concurrency=self.concurrency, kinds=self.registry.names)
        unlisten = None
        try:
            if self.listen:
                unlisten = await self.outbox.db.listen(NOTIFY_CHANNEL, self.wake)
        except AssessgateError as exc:
            log.warning("worker_listen_failed", error=exc.message, note="falling back to polling")
        stopping = asyncio.create_task(self._wake_on(stop))
        try:
            while not stop.is_set():
                self._wake.clear()
                self._poll_if_due()
                try:
                    await self.schedule_periodic()
                    await self.claim_and_start()
                except Exception as exc:  # noqa: BLE001 - database down or not migrated yet: keep trying
                    log.warning("worker_claim_failed", error=f"{type(exc).__name__}: {exc}")
                await self._sleep()
        finally:
            stopping.cancel()
            await self._shutdown()
            if unlisten is not None:
                await unlisten()

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._stopping = True  # a linger under way ends
        self._wake.set()

    async def schedule_periodic(self) -> None:
        """Enqueue the current period of every periodic job (once per period: the dedupe key says which)."""
        now = self.clock()
        if not self.registry.periodic or now < self._next_schedule_ms:
            return
        for periodic in self.registry.periodic:
            key, start = periodic.slot(now)
            await self.outbox.enqueue(periodic.kind, periodic.payload, now_ms=now, dedupe_key=key, run_at_ms=start)
        self._next_schedule_ms = now + min(1_000, min(p.every_ms for p in self.registry.periodic) // 4)

    async def claim_and_start(self) -> int:
        """Claim up to the free slots and start each job; returns how many were claimed.

        Kinds that run in batches are claimed first, up to ``batch_size`` jobs a free slot, each batch one task,
        with at most ``MAX_BATCHES`` batches running: jobs enqueued meanwhile wait for the next claim, so under
        load batches grow by themselves and the claims, reads and commits per job shrink, while on an idle
        queue a job still starts at once. The other kinds take the slots left, a job each."""
        hints, self._hints = self._hints, set()
        claimed = queried = 0
        room = self._batches_running < MAX_BATCHES and len(self._running) < self.concurrency
        if BATCHED in hints and self._batched and room:
            claimed += await self._claim_batches()
            queried += 1
        elif BATCHED in hints and self._batched:
            self._owed.add(BATCHED)
        if SINGLE in hints and self._single_names:
            free = self.concurrency - len(self._running)
            if free <= 0:
                self._owed.add(SINGLE)
            else:
                jobs = await self._claim(limit=free, kinds=self._single_names)
                claimed += len(jobs)
                queried += 1
                if len(jobs) == free:
                    self._hints.add(SINGLE)  # there may be more
                for job in jobs:
                    self._start(self.execute(job), [job], f"job:{job.kind}:{job.id}", batch=False)
        if queried:
            self._quiet_s = 0.0 if claimed else min(QUIET_MAX_S, max(QUIET_FIRST_S, 2 * self._quiet_s))
            self._quiet_until = asyncio.get_running_loop().time() + self._quiet_s
        return claimed

    async def _claim_batches(self) -> int:
        room = min(MAX_BATCHES - self._batches_running, self.concurrency - len(self._running))
        jobs = await self._claim(limit=room * self.batch_size, kinds=self._batched_names)
        if len(jobs) == room * self.batch_size:
            self._hints.add(BATCHED)
        by_kind: dict[str, list[Job]] = {}
        for job in jobs:
            by_kind.setdefault(job.kind, []).append(job)
        for name, of_kind in by_kind.items():
            kind = self.registry.get(name)
            assert kind is not None  # claimed by the names of batched kinds
            assert kind.batches is not None
            for first in range(0, len(of_kind), self.batch_size):
                batch = of_kind[first : first + self.batch_size]
                self._start(self.batch_run.run(kind, kind.batches, batch), batch, f"batch:{name}", batch=True)
        return len(jobs)

    async def _claim(self, *, limit: int, kinds: list[str]) -> list[Job]:
        started = time.perf_counter()
        jobs = await self.outbox.claim(
            worker=self.name,
            limit=limit,
            lease_ms=self.lease_ms,
            now_ms=self.clock(),
            tenant_limit=self.tenant_concurrency,
            kind_limits=self.registry.concurrency_limits,
            kinds=kinds,
        )
        self.metrics.claims.observe(time.perf_counter() - started)
        for job in jobs:
            self.metrics.claimed.inc(kind=job.kind)
        return jobs

    def _start(self, work: Coroutine[Any, Any, None], jobs: list[Job], name: str, *, batch: bool) -> None:
        task = asyncio.create_task(work, name=name)
        self._running.add(task)
        self._jobs_of[task] = jobs
        self._batches_running += batch
        task.add_done_callback(partial(self._forget, batch=batch))

    def _forget(self, task: asyncio.Task[None], *, batch: bool) -> None:
        self._running.discard(task)
        self._jobs_of.pop(task, None)
        self._finished += 1
        self._batches_running -= batch
        # A slot is free, and a tenant's share: claim again what this task's kind was (more may have come in
        # meanwhile: a batch's jobs wait for its end), and whatever could not be claimed for lack of room.
        self._hints |= self._owed | {BATCHED if batch else SINGLE}
        self._owed = set()
        self._wake.set()

    async def drain(self) -> None:
        """Run until nothing is due and nothing runs (for tests and one-shot commands).

        It stops only after a claim that began once every job had finished came back empty: a job that
        finishes during a claim may have enqueued follow-up work that claim could not see yet.
        """
        while True:
            finished_before = self._finished
            self._hints |= {BATCHED, SINGLE}
            claimed = await self.claim_and_start()
            if self._running:
                await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)
            elif claimed == 0 and self._finished == finished_before:
                return

    async def execute(self, job: Job) -> None:
        """Run one claimed job in a span of the trace it was enqueued in, and record its outcome."""
        opened = job_span(job)
        try:
            with within(opened), log_context(job):
                await self._execute(job)
        except BaseException as exc:
            close_span(opened, exc)
            raise
        close_span(opened)

    async def _execute(self, job: Job) -> None:
        kind = self.registry.get(job.kind)
        if kind is None or kind.handler is None:  # claims name our single kinds: only a registry changed under us
            await self.outcomes.failure(job, f"no handler is registered for job kind {job.kind!r}", retryable=False)
            return
        if job.attempts > job.max_attempts:
            await self.outcomes.error(job, RanOutOfAttempts())
            return
        completed: list[bool] = []  # set when the handler completed the job in its own transaction

        async def complete_in_tx() -> bool:
            completed.append(await self.outbox.complete(job, now_ms=self.clock()))
            return completed[-1]

        started = self.clock()
        try:
            payload = msgspec.json.decode(payload_without_trace(job.payload), type=kind.payload_type)
            context = job_context(job, complete_in_tx)
            await asyncio.wait_for(kind.handler(payload, context), timeout=self.lease_ms / 1000 * 0.9)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded as the retry policy says
            await self.outcomes.error(job, exc)
            return
        self.outcomes.done(
            job, completed[-1] if completed else await self.outbox.complete(job, now_ms=self.clock()), started
        )

    async def _sleep(self) -> None:
        """Until there is something to claim: at once when a claim is due (a full claim may have left more, a
        notification came during the claim), else until a wake-up (a notification with work for this worker,
        a running job's end, which frees a slot and its tenant's share, or the stop) or the poll interval.
        After a claim that found nothing, a claim waits at least until the quiet period ends; one that lingers
        (``batch_linger_s``) until the linger ends, or a wake-up with other work, or the stop."""
        loop = asyncio.get_running_loop()
        quiet = self._quiet_until - loop.time()
        if self._hints and quiet <= 0 and not self.lingering:
            return
        if not self._running and not self.lingering:
            self.idle.set()
        try:
            if quiet > 0:
                await asyncio.sleep(quiet)
            if not self._hints:
                await self._woken_or(self._next_poll)
            while self.lingering:  # a job of a single kind, a single job's end or the stop cut it short
                self.idle.clear()
                self._wake.clear()
                await self._woken_or(self._linger_until)
        finally:
            self.idle.clear()

    async def _woken_or(self, deadline: float) -> None:
        """Until a wake-up, or the loop time ``deadline`` (at once if it has passed)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(deadline):
                await self._wake.wait()

    @property
    def lingering(self) -> bool:
        """Whether the next claim waits for more jobs to join its batch: it asks only for batched kinds, and a
        notification in a stream set a linger that has not run out (``batch_linger_s``)."""
        loop = asyncio.get_running_loop()
        return not self._stopping and self._hints == {BATCHED} and self._linger_until > loop.time()

    def _poll_if_due(self) -> None:
        """The poll: every ``poll_interval_s`` (jittered) a claim asks for every kind, however often the worker
        was woken meanwhile, since work may become due without a notification (a backoff that ran out)."""
        now = asyncio.get_running_loop().time()
        if now >= self._next_poll:
            self._hints |= {BATCHED, SINGLE}
            self._next_poll = now + self.poll_interval_s * (0.75 + self.rng.random() / 2)

    async def _shutdown(self) -> None:
        if self._running:
            _, unfinished = await asyncio.wait(self._running, timeout=self.grace_s)
            jobs = [job for task in unfinished for job in self._jobs_of.get(task, [])]
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
            for job in jobs:  # give them back now rather than when their leases run out (finished ones stay)
                await self.outbox.release_lease(job, now_ms=self.clock())
        log.info("worker_stopped", worker=self.name)
