"""A worker process with test job kinds, for the multi-process outbox tests (run with ``python -m``).

Kinds: ``record`` (writes one ``job_run`` row per run), ``hang_first`` (writes a row, then hangs on its
first attempt, finishes on later ones) and ``tick`` (a periodic ``record``). Stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal

import msgspec

from core.settings import DatabaseSettings
from jobs.kinds import JobContext, JobKind, JobRegistry, PeriodicJob
from jobs.worker import Worker
from storage.database import Database

RUN_TABLE = """
CREATE TABLE IF NOT EXISTS job_run (
    job_id VARCHAR(64) NOT NULL, kind VARCHAR(50) NOT NULL, attempt INTEGER NOT NULL,
    dedupe_key VARCHAR(300), pid INTEGER NOT NULL
)
"""


class Work(msgspec.Struct):
    n: int = 0


def registry(db: Database, *, periodic_ms: int | None) -> JobRegistry:
    async def record_run(ctx: JobContext) -> None:
        async with db.tx():
            await db.fetch(
                "INSERT INTO job_run (job_id, kind, attempt, dedupe_key, pid) VALUES ({}, {}, {}, {}, {})",
                ctx.job_id,
                ctx.kind,
                ctx.attempt,
                ctx.idempotency_key,
                os.getpid(),
            )

    async def record(_payload: Work, ctx: JobContext) -> None:
        await record_run(ctx)

    async def hang_first(_payload: Work, ctx: JobContext) -> None:
        await record_run(ctx)
        if ctx.attempt == 1:
            await asyncio.Event().wait()  # killed here with SIGKILL by the test

    kinds = [JobKind("record", Work, record), JobKind("hang_first", Work, hang_first), JobKind("tick", Work, record)]
    periodic = [PeriodicJob(kind="tick", every_ms=periodic_ms, payload=Work())] if periodic_ms else []
    return JobRegistry(kinds, periodic)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--lease-ms", type=int, default=60_000)
    parser.add_argument("--periodic-ms", type=int, default=None)
    args = parser.parse_args()
    db = Database(DatabaseSettings(url=args.url, pool_max_size=args.concurrency + 2))
    await db.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    worker = Worker(
        db,
        registry(db, periodic_ms=args.periodic_ms),
        concurrency=args.concurrency,
        lease_ms=args.lease_ms,
        poll_interval_s=0.2,
        grace_s=5,
    )
    try:
        await worker.run(stop)
    finally:
        await db.close()


if __name__ == "__main__":
    asyncio.run(main())
