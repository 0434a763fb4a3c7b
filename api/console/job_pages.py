"""Jobs in the console: dead and parked ones (or any state) with their reason; retry or discard one, or all that
match the filter. Each action is in the audit log, with the job's tenant."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Final

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from api.composition import Gateway
from api.console.pages import HEADERS, PREFIX, page, query, session_of
from core.errors import PayloadInvalid
from jobs.lifecycle import JobState

PAGE_SIZE: Final = 50
Text = Annotated[str, QueryParameter(max_length=200)]


def job_filter(state: str, tenant: str, kind: str) -> tuple[JobState | None, uuid.UUID | None, str | None]:
    try:
        job_state = JobState(state) if state else None
    except ValueError:
        raise PayloadInvalid(f"no job state {state!r}", path="state") from None
    try:
        tenant_id = uuid.UUID(tenant) if tenant else None
    except ValueError:
        raise PayloadInvalid("tenant is not a tenant id", path="tenant") from None
    return job_state, tenant_id, kind or None


@get("/jobs", include_in_schema=False)
async def job_list(
    request: Request[Any, Any, Any],
    gateway: NamedDependency[Gateway],
    *,
    state_name: Annotated[str, QueryParameter(name="state", max_length=20)] = "dead",
    tenant: Text = "",
    kind: Text = "",
    cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
) -> Response[str]:
    job_state, tenant_id, job_kind = job_filter(state_name, tenant.strip(), kind.strip())
    found, next_cursor = await gateway.jobs.page(
        state=job_state, tenant_id=tenant_id, kind=job_kind, cursor=cursor, limit=PAGE_SIZE
    )
    return page(
        request,
        "jobs.html",
        title="Jobs",
        jobs=found,
        filters={"state": state_name, "tenant": tenant.strip(), "kind": kind.strip()},
        states=[s.value for s in JobState],
        next_cursor=next_cursor,
        first_page=cursor is None,
    )


async def _back(request: Request[Any, Any, Any], done: str) -> Response[Any]:
    form = await request.form()
    filters = {name: form.get(name, "") for name in ("state", "tenant", "kind")}
    return Redirect(f"{PREFIX}/jobs?{query(done=done, **filters)}", status_code=303, headers=HEADERS)


@post("/jobs/{job_id:str}/{action:str}", include_in_schema=False, status_code=303)
async def change_job(
    request: Request[Any, Any, Any], gateway: NamedDependency[Gateway], job_id: FromPath[str], action: FromPath[str]
) -> Response[Any]:
    session = session_of(request)
    if action not in ("retry", "discard"):
        raise PayloadInvalid(f"no action {action!r}", path="action")
    job = await (gateway.jobs.retry(job_id) if action == "retry" else gateway.jobs.discard(job_id))
    tenant = uuid.UUID(job.tenant_id) if job.tenant_id else None
    await gateway.administration.note(
        tenant, actor=session.actor, action=f"job.{action}", detail=f"{job.kind} {job.id}"
    )
    return await _back(request, "retried" if action == "retry" else "discarded")


@post("/jobs/all/{action:str}", include_in_schema=False, status_code=303)
async def change_matching(
    request: Request[Any, Any, Any], gateway: NamedDependency[Gateway], action: FromPath[str]
) -> Response[Any]:
    session = session_of(request)
    if action not in ("retry", "discard"):
        raise PayloadInvalid(f"no action {action!r}", path="action")
    form = await request.form()
    job_state, tenant_id, kind = job_filter(form.get("state", ""), form.get("tenant", ""), form.get("kind", ""))
    ids = await gateway.jobs.ids_matching(state=job_state, tenant_id=tenant_id, kind=kind)
    refused = await gateway.jobs.change_each(ids, retry=action == "retry")
    detail = f"{len(ids) - len(refused)} of {len(ids)} job(s) matching state={job_state} kind={kind}"
    await gateway.administration.note(tenant_id, actor=session.actor, action=f"jobs.{action}_all", detail=detail)
    return await _back(request, "retried" if action == "retry" else "discarded")
