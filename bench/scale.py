"""Scale: many tenants and orders on PostgreSQL, loaded in bulk (COPY, not the API), then the order routes'
latency, reconciliation of every tenant against the sandbox by ``BENCH_WORKERS`` (4) worker processes, and the
resident memory of ``serve`` and ``worker``.

The operator console's order list and order page are timed the same way (``bench/console_pages.py``).

Short mode: 1,000 tenants and 100,000 orders; ``FULL=1``: 10,000 tenants and 1,000,000 orders. Baselines
measured in the same run: the same routes before the load (one tenant, a few orders), and the
reconciliation of one tenant, so each figure is also a ratio showing how it grows with the data.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec

from bench.client import PatientClient
from bench.console_pages import console_latency, percentile
from bench.gateway_processes import API_KEY, ASSESSGATE, AUTH, FERNET, processes, wait_until_up
from bench.ingest import ADMIN_URL, create_postgres_database, drop_postgres_database, free_ports
from bench.limits import NO_ADMISSION_LIMITS
from bench.target import ADMIN
from jobs.outbox import NOTIFY_CHANNEL

FULL = os.environ.get("FULL") == "1"
TENANTS = int(os.environ.get("BENCH_TENANTS", "10000" if FULL else "1000"))
ORDERS = int(os.environ.get("BENCH_ORDERS", "1000000" if FULL else "100000"))
#: Worker processes that reconcile (each with the default 4 slots), as a deployment with several workers runs.
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
REQUESTS = 400
RESULTS = Path(__file__).parent / "results"


def order_json(kombo_id: str, integration: str, n: int) -> str:
    return msgspec.json.encode(
        {
            "id": kombo_id,
            "package_id": "pkg-scale",
            "status": "OPEN",
            "integration_id": integration,
            "candidate": {"email": f"candidate{n}@example.org", "first_name": "C", "last_name": str(n)},
            "application": {"remote_id": f"a{n}"},
            "job": {"remote_id": "j", "name": "Engineer"},
        }
    ).decode()


async def bulk_load(dsn: str, integrations: list[str], orders_count: int) -> float:
    """Tenants (bound to the sandbox's integrations), orders and one timeline entry each, by COPY."""
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    now = datetime.now(UTC)
    tenants = [uuid.uuid4() for _ in integrations]
    await conn.copy_records_to_table(
        "tenant",
        columns=["id", "name", "integration_id", "integration_state", "created_at", "updated_at"],
        records=[(t, f"Tenant {i}", integrations[i], "ACTIVE", now, now) for i, t in enumerate(tenants)],
    )
    batch = 50_000
    rng = random.Random(7)
    for start in range(0, orders_count, batch):
        orders, timeline = [], []
        for n in range(start, min(start + batch, orders_count)):
            index = rng.randrange(len(tenants))
            order_id = uuid.uuid4()
            kombo_id = order_id.hex  # unique across loads
            created = now - timedelta(seconds=n)
            state = "accepted" if n % 3 else "completed"
            body = order_json(kombo_id, integrations[index], n)
            tenant, integration = tenants[index], integrations[index]
            orders.append(
                (
                    *(order_id, kombo_id, tenant, integration, "pkg-scale", "SKILLS_TEST", False, state),
                    *("accept", None, None, "webhook", body, created, created),
                )
            )
            timeline.append((uuid.uuid4(), order_id, created, "received", '{"source": "webhook"}'))
        await conn.copy_records_to_table(
            "assessment_order",
            columns=[
                *("id", "kombo_order_id", "tenant_id", "integration_id", "package_id", "package_type", "inline"),
                *("state", "adapter", "rejection_message", "assessment_url", "source", "order_json"),
                *("created_at", "updated_at"),
            ],
            records=orders,
        )
        await conn.copy_records_to_table(
            "order_timeline", columns=["id", "order_id", "at", "kind", "detail"], records=timeline
        )
    await conn.execute("ANALYZE")
    await conn.close()
    return time.perf_counter() - started


async def route_latency(gateway: str, tenants: list[str], orders: dict[str, str]) -> dict[str, float]:
    rng = random.Random(11)
    lists: list[float] = []
    details: list[float] = []
    async with httpx.AsyncClient(timeout=30) as raw:
        # The vendor's platform: a 503/429 is waited out as Retry-After says (the wait is in the latency) and
        # counted in ``retried``.
        http = PatientClient(raw)
        for _ in range(REQUESTS):
            tenant = rng.choice(tenants)
            started = time.perf_counter()
            response = await http.get(f"{gateway}/v1/tenants/{tenant}/orders", params={"limit": 100}, headers=AUTH)
            lists.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            if tenant in orders:
                started = time.perf_counter()
                detail = await http.get(f"{gateway}/v1/tenants/{tenant}/orders/{orders[tenant]}", headers=AUTH)
                details.append((time.perf_counter() - started) * 1000)
                detail.raise_for_status()

    return {
        "list_p50_ms": statistics.median(lists),
        "list_p99_ms": percentile(lists, 0.99),
        "detail_p50_ms": statistics.median(details),
        "detail_p99_ms": percentile(details, 0.99),
        "retried": sum(http.tally.values()),
        **await console_latency(gateway, ADMIN, tenants, orders),
    }


async def sample_orders(dsn: str, limit: int) -> tuple[list[str], dict[str, str]]:
    conn = await asyncpg.connect(dsn)
    rows = await conn.fetch(
        "SELECT DISTINCT ON (tenant_id) tenant_id, id FROM assessment_order ORDER BY tenant_id, id LIMIT $1", limit
    )
    await conn.close()
    return [str(r["tenant_id"]) for r in rows], {str(r["tenant_id"]): str(r["id"]) for r in rows}


async def reconcile_all(dsn: str) -> float:
    """Time from the periodic ``orders.reconcile_all`` job (it enqueues one batch job per 25 bound tenants,
    which ask the sandbox for their tenants' OPEN orders) until the workers have done them all."""
    conn = await asyncpg.connect(dsn)
    started = time.perf_counter()
    now_ms = int(time.time() * 1000)
    await conn.execute(
        "INSERT INTO outbox_job (id, tenant_id, kind, payload, dedupe_key, state, attempts, max_attempts,"
        " available_at_ms, created_at_ms, updated_at_ms) VALUES ($1, NULL, 'orders.reconcile_all', '{}', NULL,"
        " 'queued', 0, 12, $2, $2, $2)",
        uuid.uuid4(),
        now_ms,
    )
    await conn.execute("SELECT pg_notify($1, 'orders.reconcile_all')", NOTIFY_CHANNEL)
    await until_done(conn, "kind LIKE 'orders.reconcile%'")
    elapsed = time.perf_counter() - started
    await conn.close()
    return elapsed


async def until_done(conn: asyncpg.Connection, jobs: str) -> None:
    """Poll (the benchmark's clock, not the workers') until no job matching ``jobs`` is queued or running."""
    while True:
        left = await conn.fetchval(f"SELECT COUNT(*) FROM outbox_job WHERE {jobs} AND state IN ('queued', 'running')")
        if left == 0:
            return
        await asyncio.sleep(0.1)


async def reconcile_per_tenant(dsn: str) -> float:
    """The baseline: one ``orders.reconcile`` job per bound tenant (how reconciliation fanned out before batches),
    enqueued at once, until the workers have done them all."""
    conn = await asyncpg.connect(dsn)
    started = time.perf_counter()
    now_ms = int(time.time() * 1000)
    await conn.execute(
        "INSERT INTO outbox_job (id, tenant_id, kind, payload, dedupe_key, state, attempts, max_attempts,"
        " available_at_ms, created_at_ms, updated_at_ms) SELECT gen_random_uuid(), id, 'orders.reconcile',"
        " json_build_object('tenant_id', id)::text, NULL, 'queued', 0, 12, $1, $1, $1 FROM tenant"
        " WHERE integration_id IS NOT NULL",
        now_ms,
    )
    await conn.execute("SELECT pg_notify($1, 'orders.reconcile')", NOTIFY_CHANNEL)
    await until_done(conn, "kind = 'orders.reconcile'")
    elapsed = time.perf_counter() - started
    await conn.close()
    return elapsed


def resident_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def cpu_s(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes have used so far, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / ticks


def new_integrations(sandbox: str, count: int) -> list[str]:
    with httpx.Client(timeout=30) as http:
        return [http.post(f"{sandbox}/_sandbox/integrations", json={}).json()["id"] for _ in range(count)]


def run(dsn: str) -> dict[str, Any]:
    sandbox_port, gateway_port = free_ports(2)
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    gateway = f"http://127.0.0.1:{gateway_port}"
    env = {
        **os.environ,
        "ASSESSGATE_DATABASE_URL": dsn,
        "ASSESSGATE_PORT": str(gateway_port),
        "ASSESSGATE_ADMIN_TOKEN": ADMIN,
        "ASSESSGATE_SECRET_KEYS": FERNET,
        "ASSESSGATE_KOMBO_API_URL": f"{sandbox}/v1",
        "ASSESSGATE_KOMBO_API_KEY": API_KEY,
        "ASSESSGATE_KOMBO_WEBHOOK_SECRETS": "unused",
        "ASSESSGATE_EMBEDDED_WORKER": "off",
        "ASSESSGATE_LOG_LEVEL": "error",
        "ASSESSGATE_RECONCILE_INTERVAL_S": "86400",
        **NO_ADMISSION_LIMITS,
    }
    row: dict[str, Any] = {"tenants": TENANTS, "orders": ORDERS, "workers": WORKERS}
    sandbox_cmd = [ASSESSGATE, "sandbox", "serve", "--port", str(sandbox_port), "--api-key", API_KEY]
    with processes([sandbox_cmd], dict(os.environ)) as [sandbox_process]:
        wait_until_up(f"{sandbox}/_sandbox/faults", sandbox_process)
        subprocess.run([ASSESSGATE, "migrate"], env=env, check=True, capture_output=True)
        with processes([[ASSESSGATE, "serve"]], env) as [serve]:
            wait_until_up(f"{gateway}/health", serve)
            # Baseline: one tenant with a few orders, loaded the same way, before the big load.
            asyncio.run(bulk_load(dsn, new_integrations(sandbox, 1), 20))
            tenants, orders = asyncio.run(sample_orders(dsn, 1))
            row["baseline"] = asyncio.run(route_latency(gateway, tenants, orders))
            # Each worker on a /health port of its own, so the baseline starts once they all run (not while they
            # import, which takes seconds on a busy machine).
            worker_ports = free_ports(WORKERS)
            commands = [["env", f"ASSESSGATE_WORKER_METRICS_PORT={p}", ASSESSGATE, "worker"] for p in worker_ports]
            with processes(commands, env) as workers:
                for port, process in zip(worker_ports, workers, strict=True):
                    wait_until_up(f"http://127.0.0.1:{port}/health", process)
                worker = workers[0]
                worker_pids = [w.pid for w in workers]
                row["baseline"]["reconcile_s"] = asyncio.run(reconcile_all(dsn))
                row["integrations_s"] = -time.perf_counter()
                integrations = new_integrations(sandbox, TENANTS)
                row["integrations_s"] += time.perf_counter()
                row["load_s"] = asyncio.run(bulk_load(dsn, integrations, ORDERS))
                tenants, orders = asyncio.run(sample_orders(dsn, 2000))
                row["scale"] = asyncio.run(route_latency(gateway, tenants, orders))
                cpu_before = cpu_s(worker_pids), cpu_s([sandbox_process.pid]), cpu_s([serve.pid])
                row["scale"]["reconcile_s"] = asyncio.run(reconcile_all(dsn))
                # Where reconciliation's time goes: the workers' CPU, the sandbox's (Kombo's stand-in) and serve's.
                row["reconcile_cpu_s"] = {
                    "workers": cpu_s(worker_pids) - cpu_before[0],
                    "sandbox": cpu_s([sandbox_process.pid]) - cpu_before[1],
                    "serve": cpu_s([serve.pid]) - cpu_before[2],
                }
                row["reconcile_per_tenant_s"] = asyncio.run(reconcile_per_tenant(dsn))
                row["serve_mb"], row["serve_peak_mb"] = resident_mb(serve.pid)
                row["worker_mb"], row["worker_peak_mb"] = resident_mb(worker.pid)
    return row


def main() -> int:
    try:
        dsn = asyncio.run(create_postgres_database("ag_scale"))
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"scale: SKIPPED, no PostgreSQL at {ADMIN_URL} ({type(exc).__name__})")
        return 0
    try:
        row = run(dsn)
    finally:
        asyncio.run(drop_postgres_database(dsn))
    base, scale = row["baseline"], row["scale"]
    print(
        f"\nScale: {TENANTS:,} tenants, {ORDERS:,} orders on PostgreSQL (bulk load {row['load_s']:.0f} s),"
        f" {WORKERS} worker(s)"
    )
    print(f"{'figure':<34}{'1 tenant':>10}{'at scale':>10}{'ratio':>8}")
    for key, label in (
        ("list_p50_ms", "order list p50 (ms)"),
        ("list_p99_ms", "order list p99 (ms)"),
        ("detail_p50_ms", "order detail p50 (ms)"),
        ("detail_p99_ms", "order detail p99 (ms)"),
        ("console_list_p50_ms", "console order list p50 (ms)"),
        ("console_list_p99_ms", "console order list p99 (ms)"),
        ("console_detail_p50_ms", "console order page p50 (ms)"),
        ("console_detail_p99_ms", "console order page p99 (ms)"),
        ("reconcile_s", "reconcile every tenant (s)"),
    ):
        print(f"{label:<34}{base[key]:>10.1f}{scale[key]:>10.1f}{scale[key] / base[key]:>8.2f}")
    print(f"{'answers retried (503/429/errors)':<34}{base['retried']:>10.0f}{scale['retried']:>10.0f}")
    per_tenant = row["reconcile_per_tenant_s"]
    ratio = scale["reconcile_s"] / per_tenant
    print(f"{'reconcile, a job per tenant (s)':<34}{'':>10}{per_tenant:>10.1f}{ratio:>8.2f} (batches / this)")
    cpu = row["reconcile_cpu_s"]
    print(f"{'reconcile CPU s workers/sandbox':<34}{cpu['workers']:>10.1f}{cpu['sandbox']:>10.1f}")
    print(f"{'resident memory serve / worker':<34}{row['serve_peak_mb']:>9.0f}M{row['worker_peak_mb']:>9.0f}M (peak)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps(row, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
