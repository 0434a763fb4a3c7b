"""What a worker records about each job it runs: its outcome (done, parked, retried or dead, as the retry policy
says), and the span, log context and :class:`JobContext` the job runs in. Shared by the worker's two ways of
running jobs: one at a time (``jobs/worker.py``) and in batches (``jobs/batch_run.py``)."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager

import msgspec
import structlog
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind

from core.errors import AssessgateError
from core.metrics import WorkerMetrics
from jobs.kinds import JobContext
from jobs.lifecycle import Job, JobState
from jobs.outbox import Outbox
from jobs.retry_policy import Failure, ParkJob, RetryAt, on_failure
from jobs.trace_context import close_span, context_of, open_span, trace_parent_of, within

log = structlog.get_logger()


class RanOutOfAttempts(AssessgateError):
    """A job claimed again after its last attempt's lease expired (the worker running it died, or hung)."""

    def __init__(self) -> None:
        super().__init__("attempts used up (its leases expired repeatedly)")


def job_span(job: Job) -> Span:
    """The job's span, in the trace it was enqueued in (started, not yet current: see ``trace_context.within``)."""
    return open_span(
        f"job {job.kind}",
        context=context_of(trace_parent_of(job.payload)),
        kind=SpanKind.CONSUMER,
        attributes={"job.id": job.id, "job.kind": job.kind, "job.attempt": job.attempts},
    )


def log_context(job: Job) -> AbstractContextManager[None]:
    return structlog.contextvars.bound_contextvars(job_id=job.id, tenant_id=job.tenant_id, kind=job.kind)


def job_context(job: Job, complete_in_tx: Callable[[], Awaitable[bool]] | None = None) -> JobContext:
    extra = {} if complete_in_tx is None else {"complete_in_tx": complete_in_tx}
    return JobContext(
        job_id=job.id,
        tenant_id=job.tenant_id,
        kind=job.kind,
        attempt=job.attempts,
        idempotency_key=job.dedupe_key or job.id,
        last_attempt=job.attempts >= job.max_attempts,
        **extra,
    )


class Outcomes:
    def __init__(self, outbox: Outbox, metrics: WorkerMetrics, clock: Callable[[], int], rng: random.Random) -> None:
        self.outbox = outbox
        self.metrics = metrics
        self.clock = clock
        self.rng = rng

    def done(self, job: Job, held: bool, started_ms: int) -> None:
        if held:
            self.metrics.outcomes.inc(kind=job.kind, outcome="done")
            trace.get_current_span().set_attribute("job.outcome", "done")
            log.info("job_done", attempt=job.attempts, duration_ms=self.clock() - started_ms)
        else:
            self.metrics.outcomes.inc(kind=job.kind, outcome="lease_lost")
            log.warning("job_lease_lost", note="another worker re-claimed it; this result is dropped")

    async def error(self, job: Job, exc: BaseException) -> None:
        """What a job's failure makes of it, as the retry policy says (parked, retried, or dead)."""
        if isinstance(exc, ParkJob):
            parked = await self.outbox.park(job, reason=exc.message, now_ms=self.clock())
            self.metrics.outcomes.inc(kind=job.kind, outcome="parked")
            trace.get_current_span().set_attribute("job.outcome", "parked")
            log.info("job_parked", reason=exc.message, recorded=parked)
        elif isinstance(exc, RanOutOfAttempts):
            await self.failure(job, exc.message, retryable=False)
        elif isinstance(exc, RetryAt):
            await self.failure(job, exc.message, retryable=True, retry_at_ms=exc.at_ms)
        elif isinstance(exc, AssessgateError):
            await self.failure(job, f"{type(exc).__name__}: {exc.message}", retryable=exc.retryable)
        elif isinstance(exc, TimeoutError):
            await self.failure(job, "timed out before its lease ran out", retryable=True)
        elif isinstance(exc, msgspec.ValidationError):
            await self.failure(job, f"payload does not decode: {exc}", retryable=False)
        else:
            log.error("job_crashed", exc_info=exc)
            await self.failure(job, f"{type(exc).__name__}: {exc}", retryable=False)

    async def failure(self, job: Job, error: str, *, retryable: bool, retry_at_ms: int | None = None) -> None:
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

    async def settle(self, job: Job, opened: Span, error: BaseException) -> None:
        """Record a failure in the job's span and log context, and end its span (a batch's job)."""
        with within(opened), log_context(job):
            await self.error(job, error)
        close_span(opened, error)
