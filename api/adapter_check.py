"""Which tenants' adapters still need something (a secret, a setting), checked at start and every few minutes.

Each finding is logged as ``tenant_misconfigured`` and shown in ``GET /ready`` (which stays ready: one
tenant's missing secret is not the process's fault). Orders for such a tenant are deferred, not failed, until
it is fixed (``orders/intake.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Final

import structlog

from core.clock import Clock, as_datetime
from core.errors import AssessgateError
from orders.adapter_runtime import AdapterRuntime

log = structlog.get_logger()

INTERVAL_S: Final = 300.0


class AdapterCheck:
    def __init__(self, runtime: AdapterRuntime, *, clock_ms: Clock) -> None:
        self.runtime = runtime
        self.clock_ms = clock_ms
        self.misconfigured: dict[str, list[str]] = {}
        self.checked_at: datetime | None = None

    async def refresh(self) -> None:
        found = await self.runtime.misconfigured_tenants()
        for tenant_id, problems in found.items():
            log.warning("tenant_misconfigured", tenant_id=tenant_id, problems=problems)
        self.misconfigured, self.checked_at = found, as_datetime(self.clock_ms())

    async def check(self) -> None:
        """Refresh, never failing: a database that is away or not migrated yet is /ready's to report."""
        try:
            await self.refresh()
        except AssessgateError as exc:
            log.info("adapter_check_skipped", reason=exc.message)
        except Exception as exc:  # noqa: BLE001 - a check must never take the process down
            log.info("adapter_check_skipped", reason=type(exc).__name__)

    async def run(self, stop: asyncio.Event) -> None:
        """Check again every ``INTERVAL_S`` until ``stop`` (the first check runs at start, before serving)."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=INTERVAL_S)
            if not stop.is_set():
                await self.check()
