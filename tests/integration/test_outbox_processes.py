"""The outbox across real worker processes on PostgreSQL: exactly once, crash recovery, periodic jobs.

These are PostgreSQL's promises (SQLite runs one embedded worker), so they run on PostgreSQL only.
Every wait polls the database for the condition it waits for, under a deadline.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import pytest

from agtest import REPO_ROOT, only_postgres
from agtest.worker_proc import RUN_TABLE, Work
from jobs.lifecycle import JobState
from jobs.outbox import Outbox
from storage.database import Database

pytestmark = [pytest.mark.anyio, only_postgres]


@pytest.fixture
async def pg(db: Database) -> Database:
    await db.execute(RUN_TABLE)
    return db


@contextmanager
def workers(url: str, count: int, *extra: str) -> Iterator[list[subprocess.Popen[bytes]]]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "tests" / "_support")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "agtest.worker_proc", "--url", url, *extra],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(count)
    ]
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            _, err = proc.communicate(timeout=30)
            assert proc.returncode in (0, -signal.SIGKILL), err.decode()[-2000:]


async def until(condition: Callable[[], Awaitable[bool]], *, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.1)


async def scalar(db: Database, sql: str) -> int:
    rows = await db.fetch(sql)
    return int(next(iter(rows[0].values())))


async def test_four_worker_processes_run_5000_jobs_exactly_once(pg: Database) -> None:
    outbox = Outbox(pg)
    async with pg.tx():
        for n in range(5_000):
            await outbox.enqueue("record", Work(n=n), now_ms=0)

    async def all_done() -> bool:
        return await scalar(pg, "SELECT COUNT(*) FROM outbox_job WHERE state = 'done'") == 5_000

    with workers(pg.settings.url, 4, "--concurrency", "8") as procs:
        await until(all_done)
    assert all(proc.returncode == 0 for proc in procs)  # SIGTERM: a graceful stop
    assert await scalar(pg, "SELECT COUNT(*) FROM job_run") == 5_000
    assert await scalar(pg, "SELECT COUNT(DISTINCT job_id) FROM job_run") == 5_000
    assert await scalar(pg, "SELECT COUNT(DISTINCT pid) FROM job_run") > 1  # the work was shared
    assert await scalar(pg, "SELECT MAX(attempts) FROM outbox_job") == 1
    assert await outbox.count_by_state() == {"done": 5_000}


async def test_a_job_of_a_killed_worker_runs_again_after_its_lease(pg: Database) -> None:
    outbox = Outbox(pg)
    job_id = await outbox.enqueue("hang_first", Work(), now_ms=0)
    assert job_id is not None

    async def started() -> bool:
        return await scalar(pg, "SELECT COUNT(*) FROM job_run") == 1

    with workers(pg.settings.url, 1, "--lease-ms", "1500") as [victim]:
        await until(started)
        victim.send_signal(signal.SIGKILL)  # no chance to release the lease
        victim.wait(timeout=10)
    job = await outbox.get(job_id)
    assert job is not None
    assert job.state == JobState.RUNNING  # still leased by the dead process

    async def finished() -> bool:
        current = await outbox.get(job_id)
        return current is not None and current.state == JobState.DONE

    with workers(pg.settings.url, 1, "--lease-ms", "1500"):
        await until(finished, timeout_s=60)
    rows = await pg.fetch("SELECT attempt FROM job_run ORDER BY attempt")
    assert [row["attempt"] for row in rows] == [1, 2]


async def test_a_periodic_job_runs_once_per_period_with_three_replicas(pg: Database) -> None:
    async def three_periods() -> bool:
        return await scalar(pg, "SELECT COUNT(DISTINCT dedupe_key) FROM job_run WHERE kind = 'tick'") >= 3

    with workers(pg.settings.url, 3, "--periodic-ms", "1000"):
        await until(three_periods, timeout_s=60)
    runs = await pg.fetch("SELECT dedupe_key, COUNT(*) AS n FROM job_run WHERE kind = 'tick' GROUP BY dedupe_key")
    assert len(runs) >= 3
    assert all(row["n"] == 1 for row in runs), runs
    jobs = await pg.fetch("SELECT dedupe_key, COUNT(*) AS n FROM outbox_job WHERE kind = 'tick' GROUP BY dedupe_key")
    assert all(row["n"] == 1 for row in jobs)
