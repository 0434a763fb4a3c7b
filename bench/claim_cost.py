"""What one claim costs with a small and with a large backlog of due jobs, on both engines (issue #20, "flat claims").

One fresh database gets ``SMALL`` due jobs and a second one ``LARGE``, spread over ``TENANTS`` tenants and two
kinds, bulk-inserted. A claim of 4 jobs of the kinds a worker runs (as ``jobs/worker.py`` asks) is timed
``CLAIMS`` times in each (``FULL=1``: more), alternating between the two so the machine's noise hits both
alike; each claim's jobs are given back at once, so the backlog stays as large as it began. Reported: the
median and p90 claim time and the ratio of the medians, large/small (goal: within 2x).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench.ingest import create_postgres_database, drop_postgres_database, engines
from core.settings import DatabaseSettings
from jobs.outbox import Outbox
from storage.database import Database
from storage.migrations import migrate

RESULTS = Path(__file__).parent / "results"
SMALL, LARGE = 100, int(os.environ.get("BENCH_CLAIM_BACKLOG", "100000"))
TENANTS = 50
CLAIMS = 200 if os.environ.get("FULL") == "1" else 60
KINDS = ("result.write_back", "order.start")
BATCH = 4
NOW_MS = 10_000_000


async def fill(db: Database, jobs: int) -> None:
    tenants = [uuid.uuid4() for _ in range(TENANTS)]
    for tenant in tenants:
        await db.fetch(
            "INSERT INTO tenant (id, name, created_at, updated_at) VALUES ({}, {}, CURRENT_TIMESTAMP,"
            " CURRENT_TIMESTAMP)",
            tenant,
            f"bench {tenant.hex[:6]}",
        )
    batch = 500
    for start in range(0, jobs, batch):
        rows = range(start, min(jobs, start + batch))
        values = ", ".join("({}, {}, {}, {}, NULL, 'queued', 0, 5, {}, NULL, NULL, NULL, 0, 0)" for _ in rows)
        args: list[object] = []
        for n in rows:
            args += [uuid.uuid4(), tenants[n % TENANTS], KINDS[n % 2], "{}", NOW_MS - jobs + n]
        async with db.tx():
            await db.fetch(
                "INSERT INTO outbox_job (id, tenant_id, kind, payload, dedupe_key, state, attempts, max_attempts,"
                " available_at_ms, lease_until_ms, lease_owner, last_error, created_at_ms, updated_at_ms)"
                f" VALUES {values}",
                *args,
            )
    if not db.is_sqlite:
        await db.execute("ANALYZE outbox_job")


async def claim_times(urls: dict[int, str]) -> dict[int, list[float]]:
    """Claims timed in turn against each backlog (so the machine's noise hits both alike)."""
    dbs = {size: Database(DatabaseSettings(url=url)) for size, url in urls.items()}
    for size, db in dbs.items():
        await db.start()
        await migrate(db)
        await fill(db, size)
        if db.is_sqlite:  # the bulk load's pages into the file, as SQLite's own checkpoints do in a steady state
            await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    times: dict[int, list[float]] = {size: [] for size in dbs}
    for _ in range(CLAIMS):
        for size, db in dbs.items():
            outbox = Outbox(db)
            started = time.perf_counter()
            claimed = await outbox.claim(worker="bench", limit=BATCH, lease_ms=60_000, now_ms=NOW_MS, kinds=KINDS)
            times[size].append((time.perf_counter() - started) * 1000)
            assert len(claimed) == BATCH
            for job in claimed:
                await outbox.release_lease(job, now_ms=NOW_MS)
    for db in dbs.values():
        await db.close()
    return times


def database(engine: str) -> str:
    if engine == "sqlite":
        return f"sqlite:///{Path(os.environ.get('TMPDIR', '/tmp')) / f'ag-claims-{uuid.uuid4().hex}.db'}"
    return asyncio.run(create_postgres_database("ag_claims"))


def forget(url: str) -> None:
    if url.startswith("sqlite:///"):
        for path in Path(url[len("sqlite:///") :]).parent.glob(Path(url).name + "*"):
            path.unlink(missing_ok=True)
    else:
        asyncio.run(drop_postgres_database(url))


def main() -> int:
    rows: dict[str, dict[str, Any]] = {}
    for engine, probe in engines():
        forget(probe)
        urls = {size: database(engine) for size in (SMALL, LARGE)}
        try:
            measured = asyncio.run(claim_times(urls))
        finally:
            for url in urls.values():
                forget(url)
        figures = {}
        for size, times in measured.items():
            ordered = sorted(times)
            figures[size] = {"p50_ms": statistics.median(ordered), "p90_ms": ordered[int(0.9 * (len(ordered) - 1))]}
        rows[engine] = {
            **{str(k): v for k, v in figures.items()},
            "ratio": figures[LARGE]["p50_ms"] / figures[SMALL]["p50_ms"],
        }
    print(f"\nClaim cost: a claim of 4 jobs with {SMALL} and with {LARGE:,} jobs due ({TENANTS} tenants)")
    print(f"{'engine':<12}{'p50 small':>11}{'p90 small':>11}{'p50 large':>11}{'p90 large':>11}{'ratio':>8}")
    for engine, row in rows.items():
        small, large = row[str(SMALL)], row[str(LARGE)]
        print(
            f"{engine:<12}{small['p50_ms']:>9.2f}ms{small['p90_ms']:>9.2f}ms"
            f"{large['p50_ms']:>9.2f}ms{large['p90_ms']:>9.2f}ms{row['ratio']:>8.2f}"
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "claim_cost.json").write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
