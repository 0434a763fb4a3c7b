"""The composition root: ``create_app(settings)`` wires every part of assessgate together.

Nothing else builds long-lived objects; settings are passed in, never read from the environment here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import structlog
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.spec import Components
from litestar.types import ControllerRouterHandler

from adapters.outbound_guard import guarded_client
from api import docs_ui
from api.admission import Admission, AdmissionMiddleware
from api.auth import SECURITY_SCHEMES
from api.body_guard import BodyGuardMiddleware
from api.bootstrap import SANDBOX_PATH
from api.composition import ExtraJobKinds, Gateway, build_gateway
from api.console import console_router
from api.console.session import SessionSigner
from api.logging import configure_logging
from api.middleware import RequestContextMiddleware
from api.problems import exception_handlers
from api.routes import (
    candidate,
    files,
    health,
    kombo_webhooks,
    metrics,
    onboarding_page,
    outbox_jobs,
    packages,
    tenant_adapters,
    tenant_catalog,
    tenant_events,
    tenant_integration,
    tenant_keys,
    tenant_onboarding,
    tenant_orders,
    tenant_routing,
    tenant_secrets,
    tenants,
    unrouted_orders,
)
from core.redaction import Redactor
from core.settings import Settings
from sandbox.app import sandbox_lifespan, sandbox_router
from sandbox.service import Sandbox
from sandbox.settings import SandboxSettings
from storage.sandbox_snapshot import DatabaseSandboxStore

log = structlog.get_logger()


def mount_sandbox(settings: Settings, store: DatabaseSandboxStore) -> Sandbox:
    """Sandbox mode (no Kombo API key): the local Kombo lives in this process and sends its webhooks here."""
    if not settings.kombo.webhook_secrets or not settings.kombo.api_key:
        raise RuntimeError("sandbox mode needs api.bootstrap.with_sandbox(settings) first")
    log.warning(
        "sandbox_mode",
        note="No ASSESSGATE_KOMBO_API_KEY is set: a local Kombo sandbox stands in for Kombo.",
        kombo_api_url=settings.kombo.api_url,
        page=f"{settings.base_url}{SANDBOX_PATH}/_sandbox/ui",
    )
    return Sandbox(
        SandboxSettings(
            api_key=settings.kombo.api_key,
            webhook_url=f"{settings.base_url}/kombo/webhooks",
            webhook_secret=settings.kombo.webhook_secrets[-1],
            public_url=f"{settings.base_url}{SANDBOX_PATH}",
            # In this process the sandbox may send (an integration-created at start) before the gateway listens.
            webhook_retry_delays_s=(0.5, 1.0, 2.0, 4.0, 8.0),
        ),
        store=store,
        # Kombo downloads attachments from URLs tenants give; in this process that is the gateway's request.
        downloader=guarded_client(settings.outbound_policy()),
    )


ROUTES: list[ControllerRouterHandler] = [
    health.health,
    health.ready,
    metrics.metrics,
    outbox_jobs.JobsController,
    tenants.TenantsController,
    tenant_integration.TenantIntegrationController,
    tenant_keys.TenantKeysController,
    tenant_secrets.TenantSecretsController,
    tenant_catalog.TenantCatalogController,
    tenant_events.TenantEventsController,
    tenant_routing.TenantRoutingController,
    tenant_orders.TenantOrdersController,
    packages.VendorPackagesController,
    kombo_webhooks.kombo_webhook,
    unrouted_orders.unrouted_orders,
    files.download,
    candidate.open_link,
    candidate.use_link,
    tenant_adapters.TenantAdaptersController,
    tenant_onboarding.TenantOnboardingController,
    onboarding_page.open_onboarding,
    onboarding_page.start_onboarding,
]


def gateway_lifespan(gateway: Gateway) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """Start the gateway, its embedded worker (when this process runs one) and the adapters' check; stop them."""
    settings, db = gateway.settings, gateway.db

    @asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        await gateway.start()
        log.info("database_started", dialect=db.dialect)
        # Embedded mode: on SQLite the worker must share this process and its writer lock (docs/architecture.md).
        stop = asyncio.Event()
        worker_task = None
        if settings.embedded_worker == "on" or (settings.embedded_worker == "auto" and db.is_sqlite):
            worker = gateway.worker(concurrency=settings.worker_concurrency, name="serve-embedded")
            worker_task = asyncio.create_task(worker.run(stop), name="embedded-worker")
        await gateway.adapter_check.check()  # misconfigured tenants are named in the log before the first request
        check_task = asyncio.create_task(gateway.adapter_check.run(stop), name="adapter-check")
        try:
            yield
        finally:
            stop.set()
            await check_task
            if worker_task is not None:
                await worker_task
            await gateway.close()

    return lifespan


def dependencies(gateway: Gateway) -> dict[str, Provide]:
    """What route handlers may ask for by name: the gateway and a few of its parts."""
    parts: dict[str, Callable[[], object]] = {
        "gateway": lambda: gateway,
        "worker_metrics": lambda: gateway.worker_metrics,
        "webhook_events": lambda: gateway.webhook_events,
        "adapter_runtime": lambda: gateway.runtime,
        "intake_metrics": lambda: gateway.intake_metrics,
        "adapter_check": lambda: gateway.adapter_check,
        "db": lambda: gateway.db,
        "settings": lambda: gateway.settings,
    }
    return {name: Provide(part, sync_to_thread=False) for name, part in parts.items()}


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="assessgate",
        version=health.VERSION,
        description="Gateway between an assessment vendor and its customers' ATSs through Kombo.",
        path="/schema",
        components=Components(security_schemes=SECURITY_SCHEMES),
        render_plugins=[docs_ui.render_plugin()],
    )


def create_app(settings: Settings, *, extra_job_kinds: ExtraJobKinds | None = None, **overrides: Any) -> Litestar:
    """Build the app; ``extra_job_kinds(db)`` lets an embedding application (or a test) add job kinds, and
    ``overrides`` hand parts to :func:`api.composition.build_gateway` (a test's clock or adapters)."""
    configure_logging(settings)
    gateway = build_gateway(settings, extra_job_kinds=extra_job_kinds, **overrides)
    route_handlers = [*ROUTES, docs_ui.assets_router(), console_router()]
    # One admission per app: the console's logins count against the same failed-authentication throttle as the API.
    admission = Admission(settings, gateway.api_keys)
    lifespans = [gateway_lifespan(gateway)]
    sandbox: Sandbox | None = None
    if settings.kombo.sandbox:
        sandbox = mount_sandbox(settings, gateway.sandbox_store)
        route_handlers.append(sandbox_router(sandbox, SANDBOX_PATH))
        lifespans.append(sandbox_lifespan(sandbox))
    state = {
        "settings": settings,
        "gateway": gateway,
        "sandbox": sandbox,
        "sandbox_prefix": SANDBOX_PATH if sandbox is not None else "",
        "console_admission": admission,
        "console_signer": SessionSigner(settings.admin_token),
        "console_redactor": Redactor(settings.secrets()),
    }
    app = Litestar(
        route_handlers=route_handlers,
        state=State(state),
        dependencies=dependencies(gateway),
        lifespan=lifespans,
        # Outermost first: admission (credentials and limits, headers only), then the body. The request id is
        # outside them all, below.
        middleware=[
            DefineMiddleware(AdmissionMiddleware, admission=admission),
            DefineMiddleware(BodyGuardMiddleware, settings=settings),
        ],
        exception_handlers=exception_handlers(Redactor(settings.secrets())),
        # Uploads have their own, larger limit (their route streams and counts); every other body is held to
        # ASSESSGATE_MAX_BODY_BYTES by api/body_guard.py.
        request_max_body_size=max(settings.max_body_bytes, settings.max_upload_bytes),
        openapi_config=openapi_config(),
        before_send=[docs_ui.docs_headers],
        logging_config=None,
        debug=False,
    )
    # Litestar applies its middleware per route, after routing: a 404 for an unknown path or a 405 would get no
    # request id. Wrapping the app's handler (which holds the router and the exception handlers) gives every
    # request one, in its problem document, its X-Request-Id header and its access-log line.
    app.asgi_handler = RequestContextMiddleware(app.asgi_handler)
    return app
