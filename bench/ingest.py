"""Ingest: signed order webhooks through ``POST /kombo/webhooks`` (stored durably before the answer), from a
load generator on loopback at fixed concurrency, against a bare endpoint that only verifies the signature,
in the same uvicorn setup, run side by side. Also inline orders answered with an ``assessment_url`` by the
``inline_assessment`` adapter (a signed single-use candidate link): under the same load, and one at a time
(the latency a candidate on a career site sees).

Each server runs in its own process (one core each on a two-core machine); the phases alternate.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import msgspec

from bench.client import PatientClient
from bench.target import FERNET, SECRET
from core.catalog import TenantPackage
from core.kombo import PackageType, signature
from core.settings import DatabaseSettings
from storage.database import Database
from storage.migrations import migrate
from tenants.catalogs import Catalogs
from tenants.repository import TenantRepository
from tenants.vault import Vault

INTEGRATION = "sandbox:BenchIntegration0000000001"
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "20" if os.environ.get("FULL") == "1" else "4"))
RESULTS = Path(__file__).parent / "results"


def free_port() -> int:
    [port] = free_ports(1)
    return port


def free_ports(count: int) -> list[int]:
    """Distinct free ports: each socket stays bound until all are chosen (else the same port can come twice)."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def order_body(inline: bool) -> bytes:
    kind = "inline-assessment:order-received" if inline else "assessment:order-received"
    return msgspec.json.encode(
        {
            "id": uuid.uuid4().hex,
            "type": kind,
            "data": {
                "id": uuid.uuid4().hex,
                "package_id": "pkg-bench",
                "status": "OPEN",
                "integration_id": INTEGRATION,
                "candidate": {
                    "remote_id": "c",
                    "email": "bench@example.org",
                    "first_name": "B",
                    "last_name": "C",
                    "phone": None,
                },
                "application": {"remote_id": "a"},
                "job": {
                    "remote_id": "j",
                    "name": "Bench",
                    "job_code": None,
                    "description": None,
                    "location": None,
                    "hiring_team": [],
                },
            },
        }
    )


async def prepare(url: str) -> None:
    db = Database(DatabaseSettings(url=url))
    await db.start()
    await migrate(db)
    tenant = await TenantRepository(db).create(name="Bench", external_id=None)
    await TenantRepository(db).bind_integration(tenant.id, INTEGRATION)
    package = TenantPackage(id="pkg-bench", type=PackageType.SKILLS_TEST, name="Bench", description="")
    await Catalogs(db, max_deletion_share=0.5).set_desired(tenant.id, [package], confirm_deletions=False, now_ms=0)
    # inline_assessment signs its launch links with this secret: without it every inline order waits (503).
    await Vault(db, (FERNET,)).put(tenant.id, "launch_signing_secret", "bench-launch-signing-secret")
    await db.close()


async def load(base: str, *, inline: bool, seconds: float, concurrency: int = CONCURRENCY) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client(http: PatientClient) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            body = order_body(inline)
            headers = {"content-type": "application/json", signature.HEADER: signature.sign(SECRET, body)}
            started = time.perf_counter()
            # As Kombo would: a 503/429 is waited out and sent again (the event id makes that safe); the latency
            # is the sender's, waits included, and the retries are reported beside it.
            response = await http.post(f"{base}/kombo/webhooks", content=body, headers=headers, idempotent=True)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200 or (inline and "assessment_url" not in response.json()):  # noqa: PLR2004
                errors += 1

    started = time.perf_counter()
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as raw:
        http = PatientClient(raw, give_up_after_s=30)
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        "requests": len(latencies),
        "errors": errors,
        "retried": sum(http.tally.values()),
    }


async def paced(base: str, *, rate: float, seconds: float) -> dict[str, float]:
    """Open-loop load: request ``i`` leaves at ``i / rate`` s whatever the earlier ones are doing, so a slow
    answer shows as latency instead of slowing the sender (what a webhook sender does)."""
    latencies: list[float] = []
    errors = 0

    async def one(http: PatientClient) -> None:
        nonlocal errors
        body = order_body(False)
        headers = {"content-type": "application/json", signature.HEADER: signature.sign(SECRET, body)}
        started = time.perf_counter()
        response = await http.post(f"{base}/kombo/webhooks", content=body, headers=headers, idempotent=True)
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:  # noqa: PLR2004
            errors += 1

    count = int(rate * seconds)
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=256)) as raw:
        http = PatientClient(raw, give_up_after_s=30)
        start = time.perf_counter()
        tasks = []
        for i in range(count):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(http)))
        await asyncio.gather(*tasks)
    ordered = sorted(latencies)
    return {
        "rps": rate,
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        "requests": len(latencies),
        "errors": errors,
        "retried": sum(http.tally.values()),
    }


def start(mode: str, url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.target", mode, str(port), url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/schema", timeout=1) if mode == "gateway" else httpx.post(f"{base}/kombo/webhooks")
            return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the {mode} server did not start")


def measure(
    mode: str, url: str, *, inline: bool = False, concurrency: int = CONCURRENCY, rate: float | None = None
) -> dict[str, float]:
    process, base = start(mode, url)
    try:
        if rate is not None:
            return asyncio.run(paced(base, rate=rate, seconds=SECONDS))
        return asyncio.run(load(base, inline=inline, seconds=SECONDS, concurrency=concurrency))
    finally:
        process.terminate()
        process.wait(timeout=15)


ADMIN_URL = os.environ.get("ASSESSGATE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def create_postgres_database(prefix: str = "ag_bench") -> str:
    """A fresh database on the benchmark's PostgreSQL server; returns its URL."""
    import asyncpg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(ADMIN_URL, timeout=5)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


async def drop_postgres_database(url: str) -> None:
    """Drop a benchmark's database, waiting (up to a minute) while the server cannot take a connection (it is
    restarting, or other runs use every connection): a stray database is worse than a late one."""
    import asyncpg

    not_now = (OSError, TimeoutError, asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError)
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = await asyncpg.connect(ADMIN_URL, timeout=5)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
            finally:
                await conn.close()
            return
        except (*not_now, asyncpg.PostgresConnectionError, asyncpg.InterfaceError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(1)


def sqlite_url() -> str:
    """A new SQLite database file's URL (created by ``assessgate migrate``, removed by :func:`cleanup`)."""
    return f"sqlite:///{Path(os.environ.get('TMPDIR', '/tmp')) / f'ag-bench-{uuid.uuid4().hex}.db'}"


def engines() -> list[tuple[str, str]]:
    found = [("sqlite", sqlite_url())]
    try:
        found.append(("postgresql", asyncio.run(create_postgres_database())))
    except (OSError, Exception) as exc:  # noqa: BLE001 - the benchmark says it skipped, and why
        print(f"ingest on PostgreSQL: SKIPPED ({type(exc).__name__})")
    return found


def cleanup(url: str) -> None:
    """Drop the benchmark's database (PostgreSQL) or file (SQLite)."""
    if url.startswith("sqlite:///"):
        for path in Path(url[len("sqlite:///") :]).parent.glob(Path(url).name + "*"):
            path.unlink(missing_ok=True)
        return
    asyncio.run(drop_postgres_database(url))


LABELS = {
    "baseline": "bare (verify only)",
    "gateway": "gateway (durable)",
    "inline": "inline_assessment",
    "inline_one": "inline, 1 client",
    "half_rate": "gateway at half its rate",
}


def main() -> int:
    rows: dict[str, Any] = {}
    for engine, url in engines():
        try:
            asyncio.run(prepare(url))
            base = measure("baseline", url)
            gate = measure("gateway", url)
            inline = measure("gateway", url, inline=True)
            inline_one = measure("gateway", url, inline=True, concurrency=1)
            half = measure("gateway", url, rate=gate["rps"] / 2)
        finally:
            cleanup(url)
        rows[engine] = {
            "baseline": base,
            "gateway": gate,
            "inline": inline,
            "inline_one": inline_one,
            "half_rate": half,
            "ratio": gate["rps"] / base["rps"],
        }
    print(f"\nIngest: signed order webhooks, {CONCURRENCY} concurrent clients, {SECONDS:.0f} s per phase")
    print(f"{'engine':<12}{'endpoint':<22}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'retried':>9}")
    for engine, row in rows.items():
        for name, label in LABELS.items():
            figures = row[name]
            print(
                f"{engine:<12}{label:<22}{figures['rps']:>9.0f}{figures['p50_ms']:>9.1f}{figures['p99_ms']:>9.1f}"
                f"{figures['errors']:>8.0f}{figures['retried']:>9.0f}"
            )
        print(f"{engine:<12}{'ratio gateway/bare':<22}{row['ratio']:>9.3f}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ingest.json").write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
