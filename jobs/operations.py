"""What operators do with the outbox (``/v1/jobs``, ``assessgate jobs``, ``/metrics``): list jobs, look at one,
retry or discard it, count them. A job id that is not a UUID is simply one that does not exist (404)."""

from __future__ import annotations

import uuid
from typing import Any

from core.clock import Clock
from core.cursors import Position, decode_cursor, page_of, position_at_ms
from core.errors import Conflict, NotFound
from core.metrics import Gauge
from jobs.lifecycle import Job, JobState
from jobs.outbox import Outbox
from jobs.outbox_gauges import outbox_gauges
from storage.database import Database


def job_position(job: Job) -> Position:
    return position_at_ms(job.created_at_ms, job.id)


def parse_job_id(job_id: str) -> str:
    try:
        return str(uuid.UUID(job_id))
    except ValueError:
        raise NotFound(f"no job {job_id}") from None


class JobOperations:
    def __init__(self, db: Database, clock_ms: Clock) -> None:
        self.outbox = Outbox(db)
        self.clock_ms = clock_ms

    async def page(
        self,
        *,
        state: JobState | None,
        tenant_id: uuid.UUID | None,
        kind: str | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[Job], str | None]:
        """Jobs newest first, after the cursor; the cursor of the next page, if there is one."""
        after = decode_cursor(cursor) if cursor else None
        found = await self.outbox.list_jobs(
            state=state,
            tenant_id=tenant_id,
            kind=kind,
            after=(after.epoch_ms, str(after.id)) if after else None,
            limit=limit + 1,
        )
        return page_of(found, limit, job_position)

    async def listed(
        self, *, state: JobState | None, tenant_id: uuid.UUID | None, kind: str | None, limit: int
    ) -> list[Job]:
        return await self.outbox.list_jobs(state=state, tenant_id=tenant_id, kind=kind, limit=limit)

    async def get(self, job_id: str) -> Job:
        job = await self.outbox.get(parse_job_id(job_id))
        if job is None:
            raise NotFound(f"no job {job_id}")
        return job

    async def retry(self, job_id: str) -> Job:
        """Queue a dead or parked job again (404: no such job; 409: one in another state)."""
        return await self._change(job_id, retry=True)

    async def discard(self, job_id: str) -> Job:
        """Give up on a queued, parked or dead job (404: no such job; 409: one running or done)."""
        return await self._change(job_id, retry=False)

    async def change_each(self, job_ids: list[str], *, retry: bool) -> list[str]:
        """Retry (or discard) each job; returns the ids that were not in a state that allows it (or no job's)."""
        refused = []
        for job_id in job_ids:
            try:
                changed = await self._try_change(parse_job_id(job_id), retry=retry)
            except NotFound:
                changed = None
            if changed is None:
                refused.append(job_id)
        return refused

    async def ids_matching(self, *, state: JobState | None, tenant_id: uuid.UUID | None, kind: str | None) -> list[str]:
        return await self.outbox.ids_matching(state=state, tenant_id=tenant_id, kind=kind)

    async def gauges(self) -> list[Gauge]:
        """The outbox's state as Prometheus gauges (``/metrics`` of serve and of a worker)."""
        return await outbox_gauges(self.outbox, now_ms=self.clock_ms())

    async def stats(self) -> tuple[list[dict[str, Any]], int | None]:
        """Counts and attempts by (state, kind), and the age in ms of the oldest due queued job."""
        return await self.outbox.stats(now_ms=self.clock_ms())

    async def _change(self, job_id: str, *, retry: bool) -> Job:
        job_id = parse_job_id(job_id)
        changed = await self._try_change(job_id, retry=retry)
        if changed is not None:
            return changed
        current = await self.outbox.get(job_id)
        if current is None:
            raise NotFound(f"no job {job_id}")
        action = "retried" if retry else "discarded"
        raise Conflict(f"a {current.state} job cannot be {action}")

    async def _try_change(self, job_id: str, *, retry: bool) -> Job | None:
        now = self.clock_ms()
        if retry:
            return await self.outbox.operator_retry(job_id, now_ms=now)
        return await self.outbox.operator_discard(job_id, now_ms=now)
