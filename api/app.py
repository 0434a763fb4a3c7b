"""The composition root: ``create_app(settings)`` wires every part of assessgate together.

Nothing else builds long-lived objects; settings are passed in, never read from the environment here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Any

import structlog
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.spec import Components

from api.auth import SECURITY_SCHEMES
from api.jobs import build_registry
from api.logging import configure_logging
from api.middleware import RequestContextMiddleware
from api.problems import exception_handlers
from api.routes import health, jobs, metrics
from core.job_kinds import JobKind
from core.metrics import WorkerMetrics
from core.redaction import Redactor
from core.settings import Settings
from tenants.db import Database
from tenants.tables import TABLES
from tenants.worker import Worker

log = structlog.get_logger()


def create_app(
    settings: Settings, *, extra_job_kinds: Callable[[Database], Iterable[JobKind[Any]]] | None = None
) -> Litestar:
    """Build the app; ``extra_job_kinds(db)`` lets an embedding application (or a test) add job kinds."""
    configure_logging(settings)
    db = Database(settings.database)
    registry = build_registry(settings, db, extra_job_kinds(db) if extra_job_kinds else ())
    worker_metrics = WorkerMetrics()

    @asynccontextmanager
    async def database_lifespan(_app: Litestar) -> AsyncIterator[None]:
        await db.start()
        db.bind(TABLES)
        log.info("database_started", dialect=db.dialect)
        # Embedded mode: on SQLite the worker must share this process and its writer lock (docs/architecture.md).
        stop = asyncio.Event()
        worker_task = None
        if db.is_sqlite and settings.embedded_worker:
            worker = Worker(
                db,
                registry,
                concurrency=settings.worker_concurrency,
                tenant_concurrency=settings.worker_tenant_concurrency,
                name="serve-embedded",
                metrics=worker_metrics,
            )
            worker_task = asyncio.create_task(worker.run(stop), name="embedded-worker")
        try:
            yield
        finally:
            stop.set()
            if worker_task is not None:
                await worker_task
            await db.close()

    def provide_db() -> Database:
        return db

    def provide_settings() -> Settings:
        return settings

    def provide_worker_metrics() -> WorkerMetrics:
        return worker_metrics

    return Litestar(
        route_handlers=[health.health, health.ready, metrics.metrics, jobs.JobsController],
        state=State({"settings": settings}),
        dependencies={
            "worker_metrics": Provide(provide_worker_metrics, sync_to_thread=False),
            "db": Provide(provide_db, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
        },
        lifespan=[database_lifespan],
        middleware=[DefineMiddleware(RequestContextMiddleware)],
        exception_handlers=exception_handlers(Redactor(settings.secrets())),
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="assessgate",
            version=version("assessgate"),
            description="Gateway between an assessment vendor and its customers' ATSs through Kombo.",
            path="/schema",
            components=Components(security_schemes=SECURITY_SCHEMES),
        ),
        logging_config=None,
        debug=False,
    )
