"""The worker: claims due jobs from the outbox, runs their handlers, and records each outcome.

Several workers (tasks in one process, or processes) may run against one PostgreSQL database; on
SQLite run one, inside ``serve``. The loop claims as many jobs as it has free slots, runs them
concurrently, and sleeps ``poll_interval_s`` (or until ``wake()``) when nothing is due. On ``stop``
it claims nothing more, lets running jobs finish for ``grace_s`` and gives unfinished ones back.
"""

from __future__ import annotations

import asyncio
import random
import socket
import time
import uuid
from collections.abc import Callable

import msgspec
import structlog
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from core.clock import wall_clock_ms
from core.errors import AssessgateError
from core.metrics import WorkerMetrics
from jobs.kinds import JobContext, JobRegistry
from jobs.lifecycle import Job, JobState
from jobs.outbox import NOTIFY_CHANNEL, Outbox
from jobs.retry_policy import Failure, ParkJob, RetryAt, on_failure
from jobs.trace_context import context_of, payload_without_trace, span, trace_parent_of
from storage.database import Database

log = structlog.get_logger()


class Worker:
    def __init__(
        self,
        db: Database,
        registry: JobRegistry,
        *,
        concurrency: int = 4,
        tenant_concurrency: int = 8,
        poll_interval_s: float = 1.0,
        lease_ms: int = 60_000,
        grace_s: float = 10.0,
        clock: Callable[[], int] = wall_clock_ms,
        rng: random.Random | None = None,
        name: str | None = None,
        metrics: WorkerMetrics | None = None,
        listen: bool = True,
    ) -> None:
        self.outbox = Outbox(db)
        self.metrics = metrics or WorkerMetrics()
        self.listen = listen
        self.registry = registry
        self.concurrency = concurrency
        self.tenant_concurrency = tenant_concurrency
        self.poll_interval_s = poll_interval_s
        self.lease_ms = lease_ms
        self.grace_s = grace_s
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.name = name or f"{socket.gethostname()}:{uuid.uuid4().hex[:6]}"
        self._wake = asyncio.Event()
        #: Set while the loop sleeps with nothing to do (lets tests and operators observe idleness).
        self.idle = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._job_of: dict[asyncio.Task[None], Job] = {}
        self._finished = 0  # jobs finished so far (drain uses it to know its last claim saw their effects)
        self._next_schedule_ms = 0

    def wake(self) -> None:
        """Skip the rest of the current poll sleep (called after an in-process enqueue)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker_started", worker=self.name, concurrency=self.concurrency, kinds=self.registry.names)
        unlisten = None
        try:
            if self.listen:
                unlisten = await self.outbox.db.listen(NOTIFY_CHANNEL, self.wake)
        except AssessgateError as exc:
            log.warning("worker_listen_failed", error=exc.message, note="falling back to polling")
        try:
            while not stop.is_set():
                try:
                    await self.schedule_periodic()
                    claimed = await self.claim_and_start()
                except Exception as exc:  # noqa: BLE001 - database down or not migrated yet: keep trying
                    log.warning("worker_claim_failed", error=f"{type(exc).__name__}: {exc}")
                    claimed = 0
                if claimed == 0:
                    await self._sleep(stop)
                elif len(self._running) >= self.concurrency:
                    await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await self._shutdown()
            if unlisten is not None:
                await unlisten()

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
        """Claim up to the free slots and start each job; returns how many were claimed."""
        free = self.concurrency - len(self._running)
        if free <= 0:
            return 0
        started = time.perf_counter()
        jobs = await self.outbox.claim(
            worker=self.name,
            limit=free,
            lease_ms=self.lease_ms,
            now_ms=self.clock(),
            tenant_limit=self.tenant_concurrency,
            kind_limits=self.registry.concurrency_limits,
            kinds=self.registry.names,
        )
        self.metrics.claims.observe(time.perf_counter() - started)
        for job in jobs:
            self.metrics.claimed.inc(kind=job.kind)
            task = asyncio.create_task(self.execute(job), name=f"job:{job.kind}:{job.id}")
            self._running.add(task)
            self._job_of[task] = job
            task.add_done_callback(self._forget)
        return len(jobs)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._job_of.pop(task, None)
        self._finished += 1

    async def drain(self) -> None:
        """Run until nothing is due and nothing runs (for tests and one-shot commands).

        It stops only after a claim that began once every job had finished came back empty: a job that
        finishes during a claim may have enqueued follow-up work that claim could not see yet.
        """
        while True:
            finished_before = self._finished
            claimed = await self.claim_and_start()
            if self._running:
                await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)
            elif claimed == 0 and self._finished == finished_before:
                return

    async def execute(self, job: Job) -> None:
        """Run one claimed job in a span of the trace it was enqueued in, and record its outcome."""
        with (
            structlog.contextvars.bound_contextvars(job_id=job.id, tenant_id=job.tenant_id, kind=job.kind),
            span(
                f"job {job.kind}",
                context=context_of(trace_parent_of(job.payload)),
                kind=SpanKind.CONSUMER,
                attributes={"job.id": job.id, "job.kind": job.kind, "job.attempt": job.attempts},
            ),
        ):
            await self._execute(job)

    async def _execute(self, job: Job) -> None:
        kind = self.registry.get(job.kind)
        if kind is None:  # claims name our kinds, so only a registry changed under us gets here
            await self._record_failure(job, f"no handler is registered for job kind {job.kind!r}", retryable=False)
            return
        if job.attempts > job.max_attempts:
            await self._record_failure(job, "attempts used up (its leases expired repeatedly)", retryable=False)
            return
        completed: list[bool] = []  # set when the handler completed the job in its own transaction

        async def complete_in_tx() -> bool:
            completed.append(await self.outbox.complete(job, now_ms=self.clock()))
            return completed[-1]

        context = JobContext(
            job_id=job.id,
            tenant_id=job.tenant_id,
            kind=job.kind,
            attempt=job.attempts,
            idempotency_key=job.dedupe_key or job.id,
            last_attempt=job.attempts >= job.max_attempts,
            complete_in_tx=complete_in_tx,
        )
        started = self.clock()
        try:
            payload = msgspec.json.decode(payload_without_trace(job.payload), type=kind.payload_type)
            await asyncio.wait_for(kind.handler(payload, context), timeout=self.lease_ms / 1000 * 0.9)
        except ParkJob as exc:
            parked = await self.outbox.park(job, reason=exc.message, now_ms=self.clock())
            self.metrics.outcomes.inc(kind=job.kind, outcome="parked")
            trace.get_current_span().set_attribute("job.outcome", "parked")
            log.info("job_parked", reason=exc.message, recorded=parked)
        except RetryAt as exc:
            await self._record_failure(job, exc.message, retryable=True, retry_at_ms=exc.at_ms)
        except AssessgateError as exc:
            await self._record_failure(job, f"{type(exc).__name__}: {exc.message}", retryable=exc.retryable)
        except TimeoutError:
            await self._record_failure(job, "timed out before its lease ran out", retryable=True)
        except msgspec.ValidationError as exc:
            await self._record_failure(job, f"payload does not decode: {exc}", retryable=False)
        except Exception as exc:
            log.error("job_crashed", exc_info=exc)
            await self._record_failure(job, f"{type(exc).__name__}: {exc}", retryable=False)
        else:
            if completed[-1] if completed else await self.outbox.complete(job, now_ms=self.clock()):
                self.metrics.outcomes.inc(kind=job.kind, outcome="done")
                trace.get_current_span().set_attribute("job.outcome", "done")
                log.info("job_done", attempt=job.attempts, duration_ms=self.clock() - started)
            else:
                self.metrics.outcomes.inc(kind=job.kind, outcome="lease_lost")
                log.warning("job_lease_lost", note="another worker re-claimed it; this result is dropped")

    async def _record_failure(self, job: Job, error: str, *, retryable: bool, retry_at_ms: int | None = None) -> None:
        failure: Failure = on_failure(
            attempts=job.attempts,
            max_attempts=job.max_attempts,
            retryable=retryable,
            now_ms=self.clock(),
            rng=self.rng,
            retry_at_ms=retry_at_ms,
        )
        recorded = await self.outbox.fail(job, failure, error=error, now_ms=self.clock())
        event = "job_dead" if failure.state == JobState.DEAD else "job_retry_scheduled"
        trace.get_current_span().set_attribute("job.outcome", str(failure.state))
        self.metrics.outcomes.inc(kind=job.kind, outcome="dead" if failure.state == JobState.DEAD else "retry")
        log.warning(
            event, error=error, attempt=job.attempts, available_at_ms=failure.available_at_ms, recorded=recorded
        )

    async def _sleep(self, stop: asyncio.Event) -> None:
        self._wake.clear()
        waiters = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
        jitter = self.poll_interval_s * (0.75 + self.rng.random() / 2)
        self.idle.set()
        try:
            _, pending = await asyncio.wait(waiters, timeout=jitter, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.idle.clear()
        for task in pending:
            task.cancel()

    async def _shutdown(self) -> None:
        if self._running:
            _, unfinished = await asyncio.wait(self._running, timeout=self.grace_s)
            jobs = [self._job_of[task] for task in unfinished if task in self._job_of]
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
            for job in jobs:  # give them back now rather than when their leases run out
                await self.outbox.release_lease(job, now_ms=self.clock())
        log.info("worker_stopped", worker=self.name)
