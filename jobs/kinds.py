"""Job kinds: each registers once, with its payload Struct and its handler (or, run in batches, its
:class:`InBatches`, whose ``act`` follows the same rules).

A handler is ``async def handle(payload: P, ctx: JobContext) -> None``. It runs at least once, so it
must be idempotent; ``ctx.idempotency_key`` is stable across re-runs of the same job (pass it on to
remote APIs that accept one). Raise :class:`jobs.lifecycle.RetryAt` to retry at a given time,
:class:`jobs.lifecycle.ParkJob` to wait for a condition, any ``AssessgateError`` with ``retryable=True``
to retry with backoff; anything else is permanent and sends the job to ``dead``. The attempt limit
is stored on each job when it is enqueued.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Final, Generic, TypeVar

import msgspec

from storage.database import Write

P = TypeVar("P", bound=msgspec.Struct)
S = TypeVar("S")


async def _left_to_the_worker() -> bool:
    return False


class JobContext(msgspec.Struct, frozen=True, kw_only=True):
    job_id: str
    tenant_id: str | None
    kind: str
    attempt: int
    idempotency_key: str
    #: This is the job's last attempt: a failure now sends it to ``dead`` even if it could be retried.
    last_attempt: bool = False
    #: Marks the job done inside the handler's open transaction, so its last writes and the job's end are one
    #: commit (a commit and its fsync fewer per job); the worker then does not complete it again. Returns
    #: False when the lease was lost (the fencing check); the handler's own writes still commit. Optional:
    #: a handler that never calls it is completed by the worker after it returns.
    complete_in_tx: Callable[[], Awaitable[bool]] = _left_to_the_worker


class InBatches(Generic[P, S]):
    """How a kind runs many of its jobs at once: one read for them all, each job's own outside call, and one
    commit for the jobs whose calls have answered.

    The worker runs a batch as ``load`` (the payloads of one claim), then ``act`` for each job concurrently (each
    in its job's span and with its job's context: it raises as a handler would, and its failure is that job's
    alone), and, as calls answer, ``record`` for those that succeeded: the data-modifying statements that say so
    (``storage.database.Write``), made with the jobs' completion atomically, one statement on PostgreSQL
    (``Outbox.complete_with``); the first answers wait up to the worker's linger for the rest, and what answered
    while one commit ran goes into the next (group commit). A job
    whose state ``load`` returns as None has nothing to do and is only marked done. Round trips to the database
    per job fall from a claim, a read and a commit each to a share of one of each.
    """

    def __init__(
        self,
        load: Callable[[Sequence[P]], Awaitable[Sequence[S | None]]],
        act: Callable[[S, JobContext], Awaitable[Any]],
        record: Callable[[Sequence[tuple[S, Any]]], Sequence[Write]],
    ) -> None:
        self.load = load
        self.act = act
        self.record = record


class JobKind(Generic[P]):
    def __init__(
        self,
        name: str,
        payload_type: type[P],
        handler: Callable[[P, JobContext], Awaitable[None]] | None = None,
        *,
        max_concurrency: int | None = None,
        batches: InBatches[P, Any] | None = None,
    ) -> None:
        if (handler is None) == (batches is None):
            raise ValueError(f"job kind {name!r} runs either a job at a time (handler) or in batches (batches)")
        self.name = name
        self.payload_type = payload_type
        #: Runs one job (a kind without ``batches``).
        self.handler = handler
        #: Leased jobs of this kind across all workers (e.g. to stay under Kombo's concurrency cap).
        self.max_concurrency = max_concurrency
        self.batches = batches


class PeriodicJob(msgspec.Struct, frozen=True, kw_only=True):
    """A kind enqueued once per period, however many workers run: the period's index is in the dedupe key."""

    kind: str
    every_ms: int
    payload: msgspec.Struct

    def slot(self, now_ms: int) -> tuple[str, int]:
        """The dedupe key and start time of the period containing ``now_ms``."""
        index = now_ms // self.every_ms
        return f"periodic:{self.kind}:{index}", index * self.every_ms


class JobRegistry:
    """The one place job kinds are known; built by the composition root and shared by API and workers."""

    def __init__(self, kinds: Iterable[JobKind[Any]] = (), periodic: Iterable[PeriodicJob] = ()) -> None:
        self._kinds: dict[str, JobKind[Any]] = {}
        self.periodic: list[PeriodicJob] = []
        for kind in kinds:
            self.register(kind)
        for job in periodic:
            self.schedule(job)

    def register(self, kind: JobKind[Any]) -> None:
        if kind.name in self._kinds:
            raise ValueError(f"job kind {kind.name!r} is registered twice")
        self._kinds[kind.name] = kind

    def schedule(self, job: PeriodicJob) -> None:
        if job.kind not in self._kinds:
            raise ValueError(f"periodic job {job.kind!r} has no registered kind")
        if job.every_ms < 1000:  # noqa: PLR2004
            raise ValueError("periodic jobs run at most once a second")
        self.periodic.append(job)

    def get(self, name: str) -> JobKind[Any] | None:
        return self._kinds.get(name)

    @property
    def names(self) -> list[str]:
        return sorted(self._kinds)

    @property
    def batched_names(self) -> list[str]:
        """The kinds a worker runs in batches (:class:`InBatches`)."""
        return [name for name in self.names if self._kinds[name].batches is not None]

    @property
    def concurrency_limits(self) -> dict[str, int]:
        return {k.name: k.max_concurrency for k in self._kinds.values() if k.max_concurrency is not None}


HOURLY_MS: Final = 3_600_000


def hourly(
    name: str, payload_type: type[P], handler: Callable[[P, JobContext], Awaitable[None]]
) -> tuple[JobKind[P], PeriodicJob]:
    """A housekeeping kind and its hourly schedule; its payload is empty (what it needs comes from settings)."""
    return JobKind(name, payload_type, handler), PeriodicJob(kind=name, every_ms=HOURLY_MS, payload=payload_type())
