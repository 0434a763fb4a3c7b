"""Operations on the outbox: list jobs, look at one, retry or discard it (admin only)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from api.auth import ADMIN_SECURITY, authorize
from api.composition import Gateway
from api.problems import problem_responses
from core.clock import as_datetime
from core.permissions import Admin
from jobs.lifecycle import Job, JobState


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


def job_out(job: Job) -> JobOut:
    return JobOut(
        id=job.id,
        tenant_id=job.tenant_id,
        kind=job.kind,
        state=job.state,
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        available_at=as_datetime(job.available_at_ms),
        last_error=job.last_error,
        dedupe_key=job.dedupe_key,
        created_at=as_datetime(job.created_at_ms),
        updated_at=as_datetime(job.updated_at_ms),
    )


class JobsController(Controller):
    path = "/v1/jobs"
    tags = ["jobs"]  # noqa: RUF012 - Litestar's own attribute
    guards = [authorize]  # noqa: RUF012
    opt = {"access": Admin.ONLY}  # noqa: RUF012 - every handler here: the admin token's (core/permissions.py)
    security = ADMIN_SECURITY

    @get("/", summary="List jobs, newest first", responses=problem_responses(401, 403))
    async def list_jobs(
        self,
        gateway: NamedDependency[Gateway],
        *,
        job_state: Annotated[JobState | None, QueryParameter(name="state")] = None,
        tenant_id: FromQuery[uuid.UUID | None] = None,
        kind: Annotated[str | None, QueryParameter(max_length=100)] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> JobPage:
        page, next_cursor = await gateway.jobs.page(
            state=job_state, tenant_id=tenant_id, kind=kind, cursor=cursor, limit=limit
        )
        return JobPage(items=[job_out(j) for j in page], next_cursor=next_cursor)

    @get("/{job_id:str}", summary="One job", responses=problem_responses(401, 403, 404))
    async def get_job(self, gateway: NamedDependency[Gateway], job_id: FromPath[str]) -> JobOut:
        return job_out(await gateway.jobs.get(job_id))

    @post(
        "/{job_id:str}/retry",
        summary="Queue a dead or parked job again",
        status_code=200,
        responses=problem_responses(401, 403, 404, 409),
    )
    async def retry_job(self, gateway: NamedDependency[Gateway], job_id: FromPath[str]) -> JobOut:
        return job_out(await gateway.jobs.retry(job_id))

    @post(
        "/{job_id:str}/discard",
        summary="Give up on a queued, parked or dead job",
        status_code=200,
        responses=problem_responses(401, 403, 404, 409),
    )
    async def discard_job(self, gateway: NamedDependency[Gateway], job_id: FromPath[str]) -> JobOut:
        return job_out(await gateway.jobs.discard(job_id))
