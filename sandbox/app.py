"""Assemble the sandbox: one Router (Kombo API at ``/v1``, control API and pages at ``/_sandbox``).

``sandbox_router(sandbox, path)`` mounts it anywhere (the gateway uses ``/sandbox``);
``create_sandbox_app(settings)`` serves it alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from litestar import Litestar, Response, Router, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException

from sandbox.control import control_router
from sandbox.demo_platform import demo_platform_router
from sandbox.errors import KomboApiError, on_http_error, on_kombo_error
from sandbox.general_api import GENERAL_HANDLERS
from sandbox.kombo_api import kombo_router
from sandbox.service import Sandbox
from sandbox.settings import SandboxSettings
from sandbox.ui import ui_router


def add_ratelimit_headers(sandbox: Sandbox):  # type: ignore[no-untyped-def]
    async def after(response: Response[object]) -> Response[object]:
        response.headers["ratelimit-limit"] = str(sandbox.settings.ratelimit_limit)
        response.headers.setdefault("ratelimit-remaining", str(sandbox.settings.ratelimit_limit - 1))
        response.headers.setdefault("ratelimit-reset", "60")
        return response

    return after


def sandbox_router(sandbox: Sandbox, path: str = "/") -> Router:
    def provide() -> Sandbox:
        return sandbox

    return Router(
        path=path,
        route_handlers=[kombo_router(*GENERAL_HANDLERS), control_router(), ui_router(), demo_platform_router()],
        dependencies={"sandbox": Provide(provide, sync_to_thread=False)},
        exception_handlers={KomboApiError: on_kombo_error, HTTPException: on_http_error},
        after_request=add_ratelimit_headers(sandbox),
        include_in_schema=False,
    )


def sandbox_lifespan(sandbox: Sandbox) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """Restore the sandbox's state at start; at the end, stop delayed webhooks and close its HTTP client."""

    @asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        await sandbox.load()
        try:
            yield
        finally:
            await sandbox.webhooks.stop()
            await sandbox.client.aclose()
            if sandbox.downloader is not sandbox.client:
                await sandbox.downloader.aclose()

    return lifespan


def create_sandbox_app(settings: SandboxSettings) -> Litestar:
    sandbox = Sandbox(settings)

    @get("/", include_in_schema=False)
    async def root() -> Response[str]:
        return Response("", status_code=302, headers={"location": "/_sandbox/ui"})

    return Litestar(
        route_handlers=[sandbox_router(sandbox), root],
        lifespan=[sandbox_lifespan(sandbox)],
        state=State({"sandbox": sandbox, "sandbox_prefix": ""}),
        # Alone, the sandbox owns the app: the router's own 404/405 (which only app-level handlers see) use
        # Kombo's envelope too.
        exception_handlers={HTTPException: on_http_error},
        openapi_config=None,
    )
