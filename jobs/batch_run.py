"""Running one batch of a kind's jobs (:class:`jobs.kinds.InBatches`): one load, each job's act on its own, and
a commit of ``record`` and the jobs' completion for whatever answered since the last commit, or soon after its
first answer (group commit).

Each job keeps its own span (in the trace its payload carries), log context, outcome and failure; the batch shares
the claim's deadline (the lease, less a margin)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import msgspec
from opentelemetry.trace import Span

from jobs.kinds import InBatches, JobKind
from jobs.lifecycle import Job
from jobs.outbox import Outbox
from jobs.outcomes import Outcomes, RanOutOfAttempts, job_context, job_span, log_context
from jobs.trace_context import close_span, payload_without_trace, within


class BatchRun:
    def __init__(
        self, outbox: Outbox, outcomes: Outcomes, clock: Callable[[], int], *, timeout_s: float, gather_s: float = 0.0
    ) -> None:
        self.outbox = outbox
        self.outcomes = outcomes
        self.clock = clock
        self.timeout_s = timeout_s
        #: How long the first answers wait for the rest of the batch before their commit (the worker's linger):
        #: calls sent together answer a few milliseconds apart, and committed as they came, a batch of eight took
        #: three or four commits (docs/outbox.md). A slower call holds back the others' commit no longer than this.
        self.gather_s = gather_s

    async def run(self, kind: JobKind[Any], batches: InBatches[Any, Any], jobs: list[Job]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        spans = {job.id: job_span(job) for job in jobs}
        runnable = await self._decoded(kind, jobs, spans)
        try:
            states = await asyncio.wait_for(batches.load([p for _, p in runnable]), timeout=deadline - loop.time())
        except Exception as exc:  # noqa: BLE001 - the read failed for all of them: each job records it
            for job, _ in runnable:
                await self.outcomes.settle(job, spans[job.id], exc)
            return
        answered: list[tuple[Job, Any, Any]] = []  # (job, its state, what its act returned)
        acting: dict[asyncio.Task[Any], tuple[Job, Any]] = {}
        for (job, _), state in zip(runnable, states, strict=True):
            if state is None:
                answered.append((job, None, None))
            else:
                acting[asyncio.create_task(self._act(batches, job, state, spans[job.id]))] = (job, state)
        try:
            await self._group_commit(batches, answered, acting, spans, deadline)
        except TimeoutError as exc:
            await self._out_of_time(batches, acting, spans, exc)
        finally:
            for task in acting:
                task.cancel()
            for opened in spans.values():  # a shutdown's cancellation: the jobs' leases are given back, spans end
                if opened.is_recording():
                    close_span(opened)

    async def _out_of_time(
        self,
        batches: InBatches[Any, Any],
        acting: dict[asyncio.Task[Any], tuple[Job, Any]],
        spans: dict[str, Span],
        exc: TimeoutError,
    ) -> None:
        """The lease is nearly over: stop the calls still running first (none may land after its job's retry
        is recorded), then commit those that answered meanwhile and record the others' timeout."""
        for task in acting:
            task.cancel()
        await asyncio.gather(*acting, return_exceptions=True)
        answered = [(job, state, task.result()) for task, (job, state) in acting.items() if _succeeded(task)]
        await self._commit(batches, answered, spans, self.clock())
        for task, (job, _) in acting.items():
            if not _succeeded(task):
                await self.outcomes.settle(job, spans[job.id], exc)

    async def _decoded(self, kind: JobKind[Any], jobs: list[Job], spans: dict[str, Span]) -> list[tuple[Job, Any]]:
        """The jobs that can run, with their payloads; the others' failures recorded."""
        runnable: list[tuple[Job, Any]] = []
        for job in jobs:
            if job.attempts > job.max_attempts:
                await self.outcomes.settle(job, spans[job.id], RanOutOfAttempts())
                continue
            try:
                runnable.append((job, msgspec.json.decode(payload_without_trace(job.payload), type=kind.payload_type)))
            except msgspec.ValidationError as exc:
                await self.outcomes.settle(job, spans[job.id], exc)
        return runnable

    async def _group_commit(
        self,
        batches: InBatches[Any, Any],
        answered: list[tuple[Job, Any, Any]],
        acting: dict[asyncio.Task[Any], tuple[Job, Any]],
        spans: dict[str, Span],
        deadline: float,
    ) -> None:
        """Commit what has answered, then wait for more: what answers during one commit, or within ``gather_s`` of
        the first answer after it (and before the deadline), goes into the next."""
        started = self.clock()
        loop = asyncio.get_running_loop()
        while answered or acting:
            if answered:
                await self._commit(batches, answered, spans, started)
                answered = []
            if not acting:
                return
            timeout = max(0.0, deadline - loop.time())
            done, _ = await asyncio.wait(acting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if not done:
                raise TimeoutError
            await self._collect(done, acting, answered, spans)
            if acting and self.gather_s > 0:
                try:
                    more, _ = await asyncio.wait(acting, timeout=max(0.0, min(self.gather_s, deadline - loop.time())))
                except asyncio.CancelledError:  # a shutdown: what answered is committed before the rest is given back
                    await self._commit(batches, answered, spans, started)
                    raise
                await self._collect(more, acting, answered, spans)

    async def _collect(
        self,
        done: set[asyncio.Task[Any]],
        acting: dict[asyncio.Task[Any], tuple[Job, Any]],
        answered: list[tuple[Job, Any, Any]],
        spans: dict[str, Span],
    ) -> None:
        """The calls in ``done`` leave ``acting``: a failure settles its job at once, an answer joins ``answered``."""
        for task in done:
            job, state = acting.pop(task)
            if (error := task.exception()) is not None:
                await self.outcomes.settle(job, spans[job.id], error)
            else:
                answered.append((job, state, task.result()))

    async def _act(self, batches: InBatches[Any, Any], job: Job, state: Any, opened: Span) -> Any:
        with within(opened), log_context(job):
            return await batches.act(state, job_context(job))

    async def _commit(
        self, batches: InBatches[Any, Any], answered: list[tuple[Job, Any, Any]], spans: dict[str, Span], started: int
    ) -> None:
        """``record`` what answered and mark those jobs done, atomically. Should it fail, each job is
        committed alone, so one job's bad row (or a deadlock) fails that job only, as it would have unbatched."""
        if not answered:
            return
        try:
            writes = batches.record([(state, result) for _, state, result in answered if state is not None])
            held = await self.outbox.complete_with([job for job, _, _ in answered], writes, now_ms=self.clock())
        except Exception as exc:  # noqa: BLE001 - e.g. the database went away: each job retries as the policy says
            if len(answered) > 1:
                for one in answered:
                    await self._commit(batches, [one], spans, started)
                return
            [(job, _, _)] = answered
            await self.outcomes.settle(job, spans[job.id], exc)
            return
        for job, _, _ in answered:
            with within(spans[job.id]), log_context(job):
                self.outcomes.done(job, job.id in held, started)
            close_span(spans[job.id])


def _succeeded(task: asyncio.Task[Any]) -> bool:
    return task.done() and not task.cancelled() and task.exception() is None
