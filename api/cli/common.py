"""What every command shares: settings from the environment (read here and only here), the started gateway,
running a coroutine with a plain message for an unreachable database, and a progress bar over tenants."""

from __future__ import annotations

import argparse
import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import msgspec

from core.errors import AssessgateError, ConfigError, DatabaseUnavailable
from core.settings import Settings, load_settings


def settings_from_env(args: argparse.Namespace | None = None) -> Settings:
    """Settings from the environment, with ``--host``/``--port`` applied (URLs derived from them follow)."""
    try:
        settings = load_settings(os.environ)
    except ConfigError as exc:
        raise SystemExit(f"assessgate: configuration error: {exc}") from None
    host = getattr(args, "host", None)
    port = getattr(args, "port", None)
    if host or port:
        settings = msgspec.structs.replace(settings, host=host or settings.host, port=port or settings.port)
    return settings


def tracing_from_env(role: str) -> None:
    """OpenTelemetry tracing for this process when the standard ``OTEL_*`` variables ask for it
    (``api/trace_export.py``)."""
    from api.trace_export import configure_tracing

    try:
        configure_tracing(os.environ, role=role)
    except ConfigError as exc:
        raise SystemExit(f"assessgate: configuration error: {exc}") from None


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop where it exists (not on Windows), as uvicorn picks for ``serve``: the worker spends a
    good part of each result in the loop's own machinery (docs/performance.md)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run(main: Coroutine[Any, Any, int]) -> int:
    """Run a command's coroutine; a database that cannot be reached is a plain message, not a traceback."""
    try:
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            return runner.run(main)
    except DatabaseUnavailable as exc:
        raise SystemExit(f"assessgate: {exc}") from None


async def each_tenant(label: str, tenants: list[uuid.UUID], action: Callable[[uuid.UUID], Awaitable[Any]]) -> int:
    """Run ``action`` for every tenant under a progress bar; returns how many failed (each is printed)."""
    from rich.progress import Progress

    failures = 0
    with Progress() as progress:
        task = progress.add_task(label, total=len(tenants))
        for tenant_id in tenants:
            try:
                await action(tenant_id)
            except AssessgateError as exc:
                failures += 1
                progress.console.print(f"{tenant_id}: {exc.message}")
            progress.advance(task)
    return failures
