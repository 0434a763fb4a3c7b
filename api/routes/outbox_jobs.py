"""Operations on the outbox: list jobs, look at one, retry or discard it (admin only)."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from api.auth import ADMIN_SECURITY, authorize
from api.problems import problem_responses
from core.clock import wall_clock_ms
from core.errors import Conflict, NotFound, PayloadInvalid
from core.permissions import Admin
from jobs.lifecycle import Job, JobState
from jobs.outbox import Outbox
from storage.database import Database


class JobOut(msgspec.Struct, kw_only=True):
    """A job as operators see it. The payload is left out: it may hold candidate data."""

    id: str
    tenant_id: str | None
    kind: str
    state: JobState
    attempts: int
    max_attempts: int
    available_at: datetime
    last_error: str | None
    dedupe_key: str | None
    created_at: datetime
    updated_at: datetime


class JobPage(msgspec.Struct, kw_only=True):
    items: list[JobOut]
    next_cursor: str | None


def _when(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def job_out(job: Job) -> JobOut:
    return JobOut(
        id=job.id,
        tenant_id=job.tenant_id,
        kind=job.kind,
        state=job.state,
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        available_at=_when(job.available_at_ms),
        last_error=job.last_error,
        dedupe_key=job.dedupe_key,
        created_at=_when(job.created_at_ms),
        updated_at=_when(job.updated_at_ms),
    )


def encode_cursor(job: Job) -> str:
    return base64.urlsafe_b64encode(f"{job.created_at_ms}:{job.id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        created, _, job_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition(":")
        return int(created), str(uuid.UUID(job_id))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise PayloadInvalid("cursor is not one this API issued", path="$.cursor") from None


def parse_job_id(job_id: str) -> str:
    try:
        return str(uuid.UUID(job_id))
    except ValueError:
        raise NotFound(f"no job {job_id}") from None


class JobsController(Controller):
    path = "/v1/jobs"
    tags = ["jobs"]  # noqa: RUF012 - Litestar's own attribute
    guards = [authorize]  # noqa: RUF012
    opt = {"access": Admin.ONLY}  # noqa: RUF012 - every handler here: the admin token's (core/permissions.py)
    security = ADMIN_SECURITY

    @get("/", summary="List jobs, newest first", responses=problem_responses(401, 403))
    async def list_jobs(
        self,
        db: NamedDependency[Database],
        *,
        job_state: Annotated[JobState | None, QueryParameter(name="state")] = None,
        tenant_id: FromQuery[uuid.UUID | None] = None,
        kind: Annotated[str | None, QueryParameter(max_length=100)] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> JobPage:
        after = decode_cursor(cursor) if cursor else None
        jobs = await Outbox(db).list_jobs(state=job_state, tenant_id=tenant_id, kind=kind, after=after, limit=limit + 1)
        page = jobs[:limit]
        more = len(jobs) > limit
        return JobPage(items=[job_out(j) for j in page], next_cursor=encode_cursor(page[-1]) if more else None)

    @get("/{job_id:str}", summary="One job", responses=problem_responses(401, 403, 404))
    async def get_job(self, db: NamedDependency[Database], job_id: FromPath[str]) -> JobOut:
        job = await Outbox(db).get(parse_job_id(job_id))
        if job is None:
            raise NotFound(f"no job {job_id}")
        return job_out(job)

    @post(
        "/{job_id:str}/retry",
        summary="Queue a dead or parked job again",
        status_code=200,
        responses=problem_responses(401, 403, 404, 409),
    )
    async def retry_job(self, db: NamedDependency[Database], job_id: FromPath[str]) -> JobOut:
        return await self._change(db, job_id, retry=True)

    @post(
        "/{job_id:str}/discard",
        summary="Give up on a queued, parked or dead job",
        status_code=200,
        responses=problem_responses(401, 403, 404, 409),
    )
    async def discard_job(self, db: NamedDependency[Database], job_id: FromPath[str]) -> JobOut:
        return await self._change(db, job_id, retry=False)

    @staticmethod
    async def _change(db: Database, job_id: str, *, retry: bool) -> JobOut:
        outbox = Outbox(db)
        job_id = parse_job_id(job_id)
        now = wall_clock_ms()
        changed = await (
            outbox.operator_retry(job_id, now_ms=now) if retry else outbox.operator_discard(job_id, now_ms=now)
        )
        if changed is not None:
            return job_out(changed)
        current = await outbox.get(job_id)
        if current is None:
            raise NotFound(f"no job {job_id}")
        action = "retried" if retry else "discarded"
        raise Conflict(f"a {current.state} job cannot be {action}")
