"""Enqueue-to-start latency of an idle PostgreSQL worker: LISTEN/NOTIFY against pure polling, side by side.

Both workers poll every second; one also listens for the NOTIFY its enqueue sends. Jobs are enqueued one
at a time from another connection, each after a random pause (so a poll can fall anywhere in between),
and the time from the enqueue's commit to the handler's start is recorded. The two modes alternate job by
job, so machine noise hits both alike. Prints a table and writes JSON to bench/results/.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import statistics
import sys
import time
from pathlib import Path

import asyncpg
import msgspec
import structlog

from bench.ingest import ADMIN_URL, create_postgres_database, drop_postgres_database
from core.settings import DatabaseSettings
from jobs.kinds import JobContext, JobKind, JobRegistry
from jobs.outbox import Outbox
from jobs.worker import Worker
from storage.database import Database
from storage.migrations import migrate

POLL_INTERVAL_S = 1.0
RESULTS = Path(__file__).parent / "results"


class Stamp(msgspec.Struct):
    enqueued_ns: int
    mode: str


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(url: str, jobs_per_mode: int) -> dict[str, dict[str, float]]:
    latencies: dict[str, list[float]] = {"notify": [], "polling": []}
    started: dict[str, asyncio.Event] = {"notify": asyncio.Event(), "polling": asyncio.Event()}

    async def handle(payload: Stamp, _ctx: JobContext) -> None:
        latencies[payload.mode].append((time.perf_counter_ns() - payload.enqueued_ns) / 1e6)
        started[payload.mode].set()

    dbs = {mode: Database(DatabaseSettings(url=url)) for mode in ("notify", "polling", "producer")}
    for db in dbs.values():
        await db.start()
    await migrate(dbs["producer"])
    stop = asyncio.Event()
    runners = [
        asyncio.create_task(
            Worker(
                dbs[mode],
                JobRegistry([JobKind(f"bench.{mode}", Stamp, handle)]),
                poll_interval_s=POLL_INTERVAL_S,
                listen=(mode == "notify"),
                concurrency=1,
            ).run(stop)
        )
        for mode in ("notify", "polling")
    ]
    producer = Outbox(dbs["producer"])
    rng = random.Random(11)
    try:
        for _ in range(jobs_per_mode):
            for mode in ("notify", "polling"):
                await asyncio.sleep(rng.uniform(0, POLL_INTERVAL_S))
                started[mode].clear()
                await producer.enqueue(
                    f"bench.{mode}",
                    Stamp(enqueued_ns=time.perf_counter_ns(), mode=mode),
                    now_ms=time.time_ns() // 1_000_000,
                )
                await asyncio.wait_for(started[mode].wait(), timeout=10)
    finally:
        stop.set()
        await asyncio.gather(*runners)
        for db in dbs.values():
            await db.close()
    return {
        mode: {"p50_ms": statistics.median(v), "p99_ms": percentile(v, 0.99), "n": len(v)}
        for mode, v in latencies.items()
    }


async def main() -> int:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    jobs = int(os.environ.get("BENCH_JOBS", "200" if os.environ.get("FULL") == "1" else "40"))
    try:
        url = await create_postgres_database()
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"outbox latency: SKIPPED, no PostgreSQL at {ADMIN_URL} ({exc})")
        return 0
    try:
        result = await measure(url, jobs)
    finally:
        await drop_postgres_database(url)
    notify, polling = result["notify"], result["polling"]
    print(
        f"\nOutbox: enqueue-to-start latency on an idle PostgreSQL queue (poll every {POLL_INTERVAL_S:.0f} s, "
        f"{jobs} jobs per mode, interleaved)"
    )
    print(f"{'mode':<22}{'p50 ms':>10}{'p99 ms':>10}")
    print(f"{'LISTEN/NOTIFY':<22}{notify['p50_ms']:>10.1f}{notify['p99_ms']:>10.1f}")
    print(f"{'polling (baseline)':<22}{polling['p50_ms']:>10.1f}{polling['p99_ms']:>10.1f}")
    ratio = notify["p50_ms"] / polling["p50_ms"]
    print(
        f"ratio p50 notify/polling: {ratio:.3f}; notify p50 / poll interval: "
        f"{notify['p50_ms'] / (POLL_INTERVAL_S * 1000):.3f}"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "outbox_latency.json").write_text(
        json.dumps(
            {
                "poll_interval_s": POLL_INTERVAL_S,
                "jobs_per_mode": jobs,
                "notify": notify,
                "polling": polling,
                "ratio_p50_notify_to_polling": ratio,
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
