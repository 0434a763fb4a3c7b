"""Database work from a test whose thread belongs to Playwright's sync API (which owns its event loop)."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable
from typing import TypeVar

from agtest.stack import Clock, run_jobs
from core.settings import Settings
from storage.database import Database

T = TypeVar("T")


def on_loop(make: Callable[[Database], Awaitable[T]], settings: Settings) -> T:
    """Run ``make(db)`` on a fresh event loop in another thread (Playwright's sync API owns this one)."""

    async def main() -> T:
        db = Database(settings.database)
        await db.start()
        try:
            return await make(db)
        finally:
            await db.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


def drain(settings: Settings, clock: Clock) -> None:
    """Run every due job, as a worker would, at the clock's time (caught up with what the gateway enqueued)."""
    clock.catch_up()
    on_loop(lambda db: run_jobs(db, settings, clock), settings)
