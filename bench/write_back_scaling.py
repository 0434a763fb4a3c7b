"""Write-back by worker count when Kombo answers slowly: the figure the workers, not the two cores, bound.

In ``bench/write_back.py`` Kombo is the sandbox on loopback, answering in a millisecond or two: one worker then
writes results back as fast as the results API takes them, and a worker process added only shares the same two
cores (docs/performance.md). What more workers are for is a Kombo that takes its time (an ATS behind it that
answers a write in half a second): then a worker's slots, not the CPU, bound how many results go out a second,
and each worker added should add its slots' worth, up to what the tenants' share allows.

Here ``TENANTS`` tenants, each with an integration of its own, hold ``RESULTS`` results stored while no worker ran
(a backlog, as after an outage); the sandbox answers every ``PUT .../result`` after ``LATENCY_MS``; then 1, 2 or 4
``assessgate worker`` processes on PostgreSQL write them back. Reported: results/s from the first write-back to
the last, its ratio to one worker's, and the ceiling the settings allow: at most ``MAX_BATCHES`` batches of
``worker_batch_size`` in flight per worker, and ``worker_tenant_concurrency`` per tenant across all workers.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import aiohttp
import httpx

from bench.client import PatientClient
from bench.gateway_processes import ASSESSGATE, AUTH, gateway_env, processes, sandbox_command, wait_until_up
from bench.ingest import cleanup, engines, free_ports
from bench.write_back import PACKAGE, RESULTS, drain_rate, fresh_database, gateway_orders, place_orders, submitter
from core.settings import Settings, load_settings
from jobs.worker import MAX_BATCHES

FULL = os.environ.get("FULL") == "1"
RESULT_COUNT = int(os.environ.get("BENCH_SCALING_RESULTS", "4000" if FULL else "2000"))
#: Enough tenants that their share (``worker_tenant_concurrency`` each) is not what bounds 4 workers.
TENANTS = int(os.environ.get("BENCH_SCALING_TENANTS", "32"))
#: How long the sandbox takes to answer each write-back (Kombo's time plus the ATS's behind it).
LATENCY_MS = int(os.environ.get("BENCH_KOMBO_LATENCY_MS", "500"))
WORKER_COUNTS = (1, 2, 4)
WRITE_BACK_TARGET = "PUT /assessment/orders/{id}/result"


async def backlog(gateway: str, sandbox: str) -> list[str]:
    """``TENANTS`` tenants' orders with their results stored (no worker runs): the order ids."""
    async with httpx.AsyncClient(timeout=60) as raw, aiohttp.ClientSession() as session:
        http = PatientClient(raw)
        per_tenant = [RESULT_COUNT // TENANTS + (n < RESULT_COUNT % TENANTS) for n in range(TENANTS)]
        tenants = []
        for count in per_tenant:
            tenant = (await http.post(f"{gateway}/v1/tenants", json={"name": "Scale"}, headers=AUTH)).json()["id"]
            await http.put(f"{gateway}/v1/tenants/{tenant}/packages", json={"packages": [PACKAGE]}, headers=AUTH)
            body = {"origin_id": tenant}
            integration = (await http.post(f"{sandbox}/_sandbox/integrations", json=body)).json()["id"]
            tenants.append((tenant, integration, count))
        await asyncio.gather(*(place_orders(http, sandbox, integration, n) for _, integration, n in tenants))
        order_ids = []
        for tenant, _, count in tenants:
            orders = await gateway_orders(http, gateway, tenant, count)
            submit = submitter(session, gateway, tenant, http.tally)
            await asyncio.gather(*(submit(n, order) for n, order in enumerate(orders)))
            order_ids += [order["id"] for order in orders]
        slow = {"target": WRITE_BACK_TARGET, "action": "latency", "latency_ms": LATENCY_MS, "times": None}
        (await http.post(f"{sandbox}/_sandbox/faults", json=slow)).raise_for_status()
    return order_ids


def run_mode(url: str, ports: tuple[int, int], workers: int) -> float:
    """Results/s ``workers`` worker processes write a backlog back at, against a slow sandbox."""
    sandbox_port, gateway_port = ports
    sandbox, gateway = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{gateway_port}"
    env = gateway_env(url, gateway_port, sandbox_port, embedded=False)
    with processes([sandbox_command(sandbox_port, gateway_port)], dict(os.environ)) as [sandbox_process]:
        wait_until_up(f"{sandbox}/_sandbox/faults", sandbox_process)
        with processes([[ASSESSGATE, "serve"]], env) as [serve]:
            wait_until_up(f"{gateway}/health", serve)
            order_ids = asyncio.run(backlog(gateway, sandbox))
        with processes([[ASSESSGATE, "worker"] for _ in range(workers)], env):
            return asyncio.run(drain_rate(url, order_ids))


def ceiling(workers: int, settings: Settings) -> float:
    """Results/s the settings allow at ``LATENCY_MS``: the workers' batches in flight, or the tenants' shares."""
    in_flight = min(workers * MAX_BATCHES * settings.worker_batch_size, TENANTS * settings.worker_tenant_concurrency)
    return in_flight / (LATENCY_MS / 1000)


def main() -> int:
    found = dict(engines())  # made a PostgreSQL database to learn that the server answers: none is used
    for url in found.values():
        cleanup(url)
    if "postgresql" not in found:
        print("write-back scaling: SKIPPED (it needs PostgreSQL: SQLite runs one embedded worker)")
        return 0
    sandbox_port, gateway_port = free_ports(2)
    settings = load_settings(gateway_env("", gateway_port, sandbox_port, embedded=False))
    rows: dict[int, dict[str, Any]] = {}
    for workers in WORKER_COUNTS:
        url = fresh_database("postgresql", gateway_env("", gateway_port, sandbox_port, embedded=False))
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
    print(f"of {TENANTS} tenants stored while no worker ran, then written back (PostgreSQL)")
    print(f"{'workers':<10}{'results/s':>10}{'vs 1':>7}{'ceiling/s':>11}")
    one = rows[WORKER_COUNTS[0]]["results_per_s"]
    for workers, row in rows.items():
        rate = row["results_per_s"]
        print(f"{workers:<10}{rate:>10.0f}{rate / one:>7.2f}{row['ceiling_per_s']:>11.0f}")


if __name__ == "__main__":
    sys.exit(main())
