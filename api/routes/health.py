"""Liveness and readiness probes."""

from __future__ import annotations

from datetime import datetime
from importlib.metadata import version
from typing import Final

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.exceptions import ServiceUnavailableException

from api.adapter_check import AdapterCheck
from api.problems import problem_responses
from core.settings import Settings
from storage.database import Database
from storage.migrations import pending_ids

#: Read once: ``importlib.metadata.version`` parses the package's metadata file at every call, which was half of
#: a liveness probe's CPU (``py-spy``), and the installed version cannot change under a running process.
VERSION: Final = version("assessgate")


class Health(msgspec.Struct, kw_only=True):
    status: str
    version: str
    database: str
    #: ``kombo`` (a Kombo API key is configured) or ``sandbox`` (the local sandbox stands in).
    mode: str


class Readiness(msgspec.Struct, kw_only=True):
    status: str
    database: str
    pending_migrations: list[str]
    #: How many tenants' adapters still need a secret or a setting (their orders wait). Which ones and what is
    #: in the log (``tenant_misconfigured``): this probe is public, and names no tenant.
    misconfigured_tenants: int
    #: When that was last checked (at start, then every five minutes); ``null``: not yet.
    adapters_checked_at: datetime | None


@get("/health", tags=["operations"], summary="Liveness: the process serves requests", responses=problem_responses())
async def health(db: NamedDependency[Database], settings: NamedDependency[Settings]) -> Health:
    mode = "sandbox" if settings.kombo.sandbox else "kombo"
    return Health(status="ok", version=VERSION, database=db.dialect, mode=mode)


@get(
    "/ready",
    tags=["operations"],
    summary="Readiness: the database answers and every migration is applied",
    responses=problem_responses(503),
)
async def ready(db: NamedDependency[Database], adapter_check: NamedDependency[AdapterCheck]) -> Readiness:
    if not await db.ping():
        raise ServiceUnavailableException(detail="the database does not answer")
    pending = await pending_ids(db)
    if pending:
        raise ServiceUnavailableException(
            detail=f"migrations not applied: {', '.join(pending)}; run `assessgate migrate`"
        )
    return Readiness(
        status="ready",
        database="ok",
        pending_migrations=[],
        misconfigured_tenants=len(adapter_check.misconfigured),
        adapters_checked_at=adapter_check.checked_at,
    )
