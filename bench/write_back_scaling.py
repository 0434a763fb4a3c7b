"""Write-back by worker count when Kombo answers slowly: the figure the workers' slots, not the two cores, bound.

In ``bench/write_back.py`` Kombo is the sandbox on loopback, answering in a millisecond or two: one worker then
writes results back as fast as the results API takes them, and a worker process added only shares the same two
cores (docs/performance.md). What more workers are for is a Kombo that takes its time (an ATS behind it that
answers a write in half a second): then the calls a worker keeps in flight bound how many results go out a
second, and each worker added should add its share, up to what the tenants' limits allow.

Here ``TENANTS`` tenants, each with an integration of its own, hold ``RESULT_COUNT`` results stored while no worker
ran (a backlog, as after an outage; their orders were started beforehand, so nothing else is queued); the sandbox
answers every ``PUT .../result`` after ``LATENCY_MS``. The backlog is held (its jobs due an hour later) while 1, 2
or 4 ``assessgate worker`` processes on PostgreSQL start, and released at once when all of them answer: results/s
run from the release to the last ``written_back`` entry. Reported beside it: its ratio to one worker's, and the
ceiling the settings allow (the calls in flight a worker can hold, and each tenant's limit, over the latency).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from contextlib import ExitStack
from typing import Any

import aiohttp
import httpx

from adapters.http_exchange import MAX_CONNECTIONS
from bench.client import PatientClient
from bench.gateway_processes import ASSESSGATE, gateway_env, processes, sandbox_command, wait_until_up
from bench.ingest import cleanup, create_postgres_database, free_ports
from bench.write_back import (
    RESULTS,
    database,
    fresh_database,
    gateway_orders,
    jobs_left,
    new_tenant,
    place_orders,
    submitter,
    timeline_time,
)
from core.settings import Settings, load_settings
from jobs.outbox import NOTIFY_CHANNEL
from jobs.worker import MAX_BATCHES
from orders.follow_up import START_KIND
from orders.write_back import WRITE_BACK_KIND
from storage.database import Database

FULL = os.environ.get("FULL") == "1"
#: A multiple of 256 (the calls 4 workers hold in flight by default), so that every wave of calls is full.
RESULT_COUNT = int(os.environ.get("BENCH_SCALING_RESULTS", "4096" if FULL else "2048"))
#: Enough tenants that their limits (``worker_tenant_concurrency`` each, 8 by default: 512 in all) are not what
#: bounds 4 workers (256 calls in flight by default).
TENANTS = int(os.environ.get("BENCH_SCALING_TENANTS", "64"))
#: How long the sandbox takes to answer each write-back (Kombo's time plus the ATS's behind it).
LATENCY_MS = int(os.environ.get("BENCH_KOMBO_LATENCY_MS", "500"))
WORKER_COUNTS = (1, 2, 4)
WRITE_BACK_TARGET = "PUT /assessment/orders/{id}/result"
HOLD_MS = 3_600_000


async def until_none_left(db: Database, kind: str, *, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while await jobs_left(db, kind):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{kind} jobs still queued after {within_s:.0f} s")
        await asyncio.sleep(0.1)


def per_tenant() -> list[int]:
    """How many of ``RESULT_COUNT`` results each tenant holds (as even as they divide)."""
    return [RESULT_COUNT // TENANTS + (n < RESULT_COUNT % TENANTS) for n in range(TENANTS)]


async def place(gateway: str, sandbox: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """The tenants, each with its orders (placed in the sandbox, arrived as webhooks): (tenant, orders)."""
    async with httpx.AsyncClient(timeout=60) as raw:
        http = PatientClient(raw)
        tenants = [(*(await new_tenant(http, gateway, sandbox, "Scale")), count) for count in per_tenant()]
        for _, integration, count in tenants:  # 8 at a time, as the sandbox's webhooks reach the gateway
            await place_orders(http, sandbox, integration, count)
        return [(tenant, await gateway_orders(http, gateway, tenant, n)) for tenant, _, n in tenants]


async def store_results(gateway: str, sandbox: str, tenants: list[tuple[str, list[dict[str, Any]]]]) -> None:
    """Every order's result, submitted while no worker runs; then Kombo slows down."""
    async with httpx.AsyncClient(timeout=60) as raw, aiohttp.ClientSession() as session:
        http = PatientClient(raw)
        for tenant, orders in tenants:
            submit = submitter(session, gateway, tenant, http.tally)
            await asyncio.gather(*(submit(n, order) for n, order in enumerate(orders)))
        slow = {"target": WRITE_BACK_TARGET, "action": "latency", "latency_ms": LATENCY_MS, "times": None}
        (await http.post(f"{sandbox}/_sandbox/faults", json=slow)).raise_for_status()


async def hold_or_release(url: str, *, hold: bool) -> float:
    """Make the backlog's jobs due an hour from now (``hold``) or now, notifying the workers; returns the time."""
    async with database(url) as db, db.tx():
        now_ms = round(time.time() * 1000)
        due = now_ms + HOLD_MS if hold else now_ms
        await db.fetch(
            "UPDATE outbox_job SET available_at_ms = {} WHERE kind = {} AND state = 'queued'", due, WRITE_BACK_KIND
        )
        if not hold:  # at the commit: the workers claim at once rather than at their next poll
            await db.notify(NOTIFY_CHANNEL, WRITE_BACK_KIND)
    return now_ms / 1000


async def drained_at(url: str) -> float:
    """When the last result of the backlog was written back (its order's timeline says), once none is left."""
    async with database(url) as db:
        await until_none_left(db, WRITE_BACK_KIND, within_s=60 + 4 * RESULT_COUNT * LATENCY_MS / 1000)
        rows = await db.fetch("SELECT COUNT(*) AS n, MAX(at) AS last FROM order_timeline WHERE kind = 'written_back'")
    if rows[0]["n"] != RESULT_COUNT:
        raise RuntimeError(f"{rows[0]['n']} of {RESULT_COUNT} results were written back")
    return timeline_time(rows[0]["last"]).timestamp()


async def orders_started(url: str) -> None:
    async with database(url) as db:
        await until_none_left(db, START_KIND, within_s=120)


def run_mode(url: str, ports: tuple[int, int], workers: int) -> float:
    """Results/s ``workers`` worker processes write the held backlog back at, against the slow sandbox."""
    sandbox_port, gateway_port = ports
    sandbox, gateway = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{gateway_port}"
    env = gateway_env(url, gateway_port, sandbox_port, embedded=False)
    with processes([sandbox_command(sandbox_port, gateway_port)], dict(os.environ)) as [sandbox_process]:
        wait_until_up(f"{sandbox}/_sandbox/faults", sandbox_process)
        with processes([[ASSESSGATE, "serve"], [ASSESSGATE, "worker"]], env) as [serve, _]:
            wait_until_up(f"{gateway}/health", serve)
            tenants = asyncio.run(place(gateway, sandbox))
            asyncio.run(orders_started(url))  # the orders' own jobs are done: the drain runs write-backs alone
        with processes([[ASSESSGATE, "serve"]], env) as [serve]:
            wait_until_up(f"{gateway}/health", serve)
            asyncio.run(store_results(gateway, sandbox, tenants))
        asyncio.run(hold_or_release(url, hold=True))
        with ExitStack() as running:
            for port in free_ports(workers):  # each worker's /health says it is up
                worker_env = env | {"ASSESSGATE_WORKER_METRICS_PORT": str(port)}
                [worker] = running.enter_context(processes([[ASSESSGATE, "worker"]], worker_env))
                wait_until_up(f"http://127.0.0.1:{port}/health", worker)
            released = asyncio.run(hold_or_release(url, hold=False))
            finished = asyncio.run(drained_at(url))
        hits = httpx.get(f"{sandbox}/_sandbox/faults").json()[0]["hits"]
        if hits != RESULT_COUNT:
            raise RuntimeError(f"{hits} write-backs met the slow sandbox, not {RESULT_COUNT}")
    return RESULT_COUNT / (finished - released)


def ceiling(workers: int, settings: Settings) -> float:
    """Results/s the settings allow at ``LATENCY_MS`` at most: the calls the workers hold in flight (their batches,
    each in one of their slots, over one connection pool each) or the tenants' limits, whichever is fewer."""
    batches = min(MAX_BATCHES, settings.worker_concurrency)
    per_worker = min(batches * settings.worker_batch_size, MAX_CONNECTIONS)
    tenants = sum(min(settings.worker_tenant_concurrency, count) for count in per_tenant())
    return min(workers * per_worker, tenants) / (LATENCY_MS / 1000)


def postgres_answers() -> bool:
    try:
        cleanup(asyncio.run(create_postgres_database()))
    except (OSError, Exception):  # noqa: BLE001 - the benchmark says it skipped, and why
        return False
    return True


def main() -> int:
    if not postgres_answers():
        print("write-back scaling: SKIPPED (it needs PostgreSQL: SQLite runs one embedded worker)")
        return 0
    sandbox_port, gateway_port = free_ports(2)
    base_env = gateway_env("", gateway_port, sandbox_port, embedded=False)
    settings = load_settings(base_env)
    rows: dict[int, dict[str, Any]] = {}
    for workers in WORKER_COUNTS:
        url = fresh_database("postgresql", base_env)
        try:
            rate = run_mode(url, (sandbox_port, gateway_port), workers)
        finally:
            cleanup(url)
        rows[workers] = {"results_per_s": rate, "ceiling_per_s": ceiling(workers, settings)}
    report(rows)
    RESULTS.mkdir(exist_ok=True)
    figures = {"results": RESULT_COUNT, "tenants": TENANTS, "latency_ms": LATENCY_MS, "rows": rows}
    (RESULTS / "write_back_scaling.json").write_text(json.dumps(figures, indent=2) + "\n")
    return 0


def report(rows: dict[int, dict[str, Any]]) -> None:
    print(f"\nWrite-back by worker count, Kombo answering each result after {LATENCY_MS} ms: {RESULT_COUNT} results")
    print(f"of {TENANTS} tenants stored while no worker ran, released at once to the workers (PostgreSQL)")
    print(f"{'workers':<10}{'results/s':>10}{'vs 1':>7}{'ceiling/s':>11}{'of it':>7}")
    one = rows[WORKER_COUNTS[0]]["results_per_s"]
    for workers, row in rows.items():
        rate, most = row["results_per_s"], row["ceiling_per_s"]
        print(f"{workers:<10}{rate:>10.0f}{rate / one:>7.2f}{most:>11.0f}{rate / most:>7.2f}")


if __name__ == "__main__":
    sys.exit(main())
