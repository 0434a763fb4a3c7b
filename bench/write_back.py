"""Write-back: results submitted through the results API until the sandbox has them all, against a plain httpx
loop doing the same PUTs to the same sandbox (the issue's baseline), run side by side in one run; a plain aiohttp
loop is shown beside it, the wire with the cheapest client we know.

The load generator (the vendor's platform) submits through aiohttp: it shares the two cores with what is
measured, and httpx's pool cost it 2 to 4 ms of CPU per submission with 16 in flight, more than the gateway's
own request (docs/performance.md).

Everything is a real process talking real HTTP: the Kombo sandbox, the gateway (``assessgate serve``) and,
on PostgreSQL, 1 or 4 ``assessgate worker`` processes; on SQLite the worker runs inside ``serve`` (the
embedded mode). Orders reach the gateway as the sandbox's signed webhooks. Reported: results/s from the
first submission to the last result written back, the ratio to the plain loop; the rate at which the same
workers write back a backlog of as many results stored while none ran (the write-back path alone, as after
an outage); on an idle queue the latency from a submission to its arrival at the sandbox (p50/p99), which
shows whether LISTEN/NOTIFY wakes the worker (the poll interval is a second); and the CPU each process spent
per result, against the plain loop's (on two cores that is what bounds these figures).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import msgspec

from bench.client import RETRYABLE_STATUSES, PatientClient
from bench.cpu import CpuMeter
from bench.ingest import cleanup, create_postgres_database, engines, free_ports
from bench.limits import NO_ADMISSION_LIMITS
from bench.target import ADMIN
from core.settings import DatabaseSettings
from storage.database import Database, marks

RESULTS = Path(__file__).parent / "results"
ASSESSGATE = str(Path(sys.executable).with_name("assessgate"))
FULL = os.environ.get("FULL") == "1"
ORDERS = int(os.environ.get("BENCH_WRITE_BACK_ORDERS", "3000" if FULL else "1000"))
IDLE_SAMPLES = 40 if FULL else 20
#: Results the vendor's platform submits at once (its connections to the gateway).
SUBMITTERS = int(os.environ.get("BENCH_SUBMITTERS", "16"))
API_KEY = "bench-sandbox-key"
WEBHOOK_SECRET = "bench-sandbox-webhook-secret"
FERNET = "aW5zZWN1cmUtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2Q="
AUTH = {"authorization": f"Bearer {ADMIN}"}
PACKAGE = {"id": "pkg-wb", "type": "SKILLS_TEST", "name": "Write-back", "description": ""}


def result_body(n: int) -> dict[str, Any]:
    return {
        "status": "COMPLETED",
        "result_url": f"https://vendor.example/reports/{n}",
        "completed_at": "2026-11-26T10:00:00.000Z",
        "score": n % 100,
        "max_score": 100,
        "attributes": [{"type": "TEXT", "label": "Recommendation", "value": "Proceed"}],
    }


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


@contextmanager
def processes(commands: list[list[str]], env: dict[str, str]) -> Iterator[list[subprocess.Popen[bytes]]]:
    started = [subprocess.Popen(c, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for c in commands]
    try:
        yield started
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(timeout=30)


def gateway_env(database_url: str, gateway_port: int, sandbox_port: int, *, embedded: bool) -> dict[str, str]:
    return {
        **os.environ,
        "ASSESSGATE_DATABASE_URL": database_url,
        "ASSESSGATE_PORT": str(gateway_port),
        "ASSESSGATE_ADMIN_TOKEN": ADMIN,
        "ASSESSGATE_SECRET_KEYS": FERNET,
        "ASSESSGATE_KOMBO_API_URL": f"http://127.0.0.1:{sandbox_port}/v1",
        "ASSESSGATE_KOMBO_API_KEY": API_KEY,
        "ASSESSGATE_KOMBO_WEBHOOK_SECRETS": WEBHOOK_SECRET,
        "ASSESSGATE_EMBEDDED_WORKER": "on" if embedded else "off",
        "ASSESSGATE_LOG_LEVEL": "error",
        "ASSESSGATE_PLUGINS_FILE": str(Path(__file__).parent / "plugins.toml"),
        **NO_ADMISSION_LIMITS,
    }


async def place_orders(http: PatientClient, sandbox: str, integration: str, count: int) -> list[str]:
    semaphore = asyncio.Semaphore(8)

    async def place(n: int) -> str:
        async with semaphore:
            body = {"package_id": PACKAGE["id"], "candidate": {"email": f"c{n}@example.org", "first_name": "C"}}
            response = await http.post(f"{sandbox}/_sandbox/integrations/{integration}/orders", json=body)
            response.raise_for_status()
            order_id: str = response.json()["id"]
            return order_id

    return list(await asyncio.gather(*(place(n) for n in range(count))))


async def gateway_orders(http: PatientClient, gateway: str, tenant: str, want: int) -> list[dict[str, Any]]:
    """The tenant's orders once there are ``want`` of them."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
            answer = await http.get(f"{gateway}/v1/tenants/{tenant}/orders", params=params, headers=AUTH)
            page = answer.raise_for_status().json()
            items += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                break
        if len(items) >= want:
            return items
        await asyncio.sleep(0.2)
    raise RuntimeError(f"only some of {want} orders reached the gateway")


async def written(http: PatientClient, gateway: str, tenant: str, order_id: str) -> datetime | None:
    detail = (
        (await http.get(f"{gateway}/v1/tenants/{tenant}/orders/{order_id}", headers=AUTH)).raise_for_status().json()
    )
    at = [e["at"] for e in detail["timeline"] if e["kind"] == "written_back"]
    return datetime.fromisoformat(at[0].replace("Z", "+00:00")) if at else None


async def written_count(db: Database, tenant: str) -> int:
    rows = await db.fetch(
        "SELECT COUNT(*) AS n FROM order_result WHERE tenant_id = {} AND write_back = 'written'", uuid.UUID(tenant)
    )
    return int(rows[0]["n"])


async def write_backs_pending(db: Database) -> int:
    """Write-back jobs not finished: an index range over the live jobs (the results table has no index to count
    a tenant's written ones by, and polling it would load the database being measured)."""
    rows = await db.fetch(
        "SELECT COUNT(*) AS n FROM outbox_job WHERE state IN ('queued', 'running') AND kind = 'result.write_back'"
    )
    return int(rows[0]["n"])


async def run_gateway(gateway: str, sandbox: str, database_url: str, meter: CpuMeter) -> dict[str, Any]:
    db = Database(DatabaseSettings(url=database_url))  # reads progress without loading the gateway
    await db.start()
    async with httpx.AsyncClient(timeout=60) as raw, aiohttp.ClientSession() as session:
        # The vendor's platform: a 503/429 is waited out as Retry-After says and counted (``retried``).
        http = PatientClient(raw)
        tenant = (await http.post(f"{gateway}/v1/tenants", json={"name": "WB"}, headers=AUTH)).json()["id"]
        await http.put(f"{gateway}/v1/tenants/{tenant}/packages", json={"packages": [PACKAGE]}, headers=AUTH)
        integration = (await http.post(f"{sandbox}/_sandbox/integrations", json={"origin_id": tenant})).json()["id"]
        await place_orders(http, sandbox, integration, 2 * ORDERS + IDLE_SAMPLES)
        orders = await gateway_orders(http, gateway, tenant, 2 * ORDERS + IDLE_SAMPLES)
        busy, idle, backlog = orders[:ORDERS], orders[ORDERS : ORDERS + IDLE_SAMPLES], orders[ORDERS + IDLE_SAMPLES :]
        await asyncio.sleep(2)  # let the start jobs of the new orders finish: the queue is idle before we begin

        submit = submitter(session, gateway, tenant, http.tally)

        meter.start()
        started = time.perf_counter()
        await asyncio.gather(*(submit(n, o) for n, o in enumerate(busy)))
        submitted = time.perf_counter() - started
        while await write_backs_pending(db):  # noqa: ASYNC110 - another process does the work
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - started
        cpu = meter.stop()
        if (count := await written_count(db, tenant)) != ORDERS:
            raise RuntimeError(f"{count} of {ORDERS} results were written back")

        latencies = []
        for n, order in enumerate(idle):
            sent = datetime.now().astimezone()
            await submit(n, order)
            while (done := await written(http, gateway, tenant, order["id"])) is None:  # noqa: ASYNC110
                await asyncio.sleep(0.005)
            latencies.append((done - sent).total_seconds() * 1000)
            await asyncio.sleep(0.3)  # idle again: the next submission finds the worker waiting
    await db.close()
    ordered = sorted(latencies)
    return {
        "results_per_s": ORDERS / elapsed,
        "idle_p50_ms": statistics.median(ordered),
        "idle_p99_ms": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
        "retried": sum(http.tally.values()),
        "submitted_s": submitted,
        "elapsed_s": elapsed,
        "cpu_ms_per_result": {label: seconds * 1000 / ORDERS for label, seconds in cpu.items()},
        "tenant": tenant,
        "backlog": [order["id"] for order in backlog],
    }


def submitter(
    session: aiohttp.ClientSession, gateway: str, tenant: str, tally: Counter[str]
) -> Callable[[int, dict[str, Any]], Awaitable[None]]:
    """Submits an order's result through the results API, ``SUBMITTERS`` at a time; a 429/503 is waited out as
    ``Retry-After`` says and counted in ``tally`` (as ``PatientClient`` does)."""
    semaphore = asyncio.Semaphore(SUBMITTERS)
    headers = {**AUTH, "content-type": "application/json"}

    async def submit(n: int, order: dict[str, Any]) -> None:
        url = f"{gateway}/v1/tenants/{tenant}/orders/{order['id']}/result"
        body = msgspec.json.encode(result_body(n))
        give_up = time.monotonic() + 120
        async with semaphore:
            while True:
                async with session.put(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status not in RETRYABLE_STATUSES or time.monotonic() > give_up:
                        response.raise_for_status()
                        return
                    asked = response.headers.get("retry-after")
                    tally[f"{response.status} Retry-After: {asked}"] += 1
                    await asyncio.sleep(min(30.0, float(asked)) if asked and asked.isdigit() else 1.0)

    return submit


async def store_backlog(gateway: str, tenant: str, order_ids: list[str]) -> None:
    """Results submitted while no worker runs: a backlog of write-backs (as after an outage of Kombo's)."""
    async with aiohttp.ClientSession() as session:
        submit = submitter(session, gateway, tenant, Counter())
        await asyncio.gather(*(submit(n, {"id": order_id}) for n, order_id in enumerate(order_ids)))


async def drain_rate(database_url: str, tenant: str, order_ids: list[str]) -> float:
    """Results/s the workers wrote the backlog back at: from the first ``written_back`` entry to the last."""
    db = Database(DatabaseSettings(url=database_url))
    await db.start()
    try:
        ids = [uuid.UUID(order_id) for order_id in order_ids]
        deadline = time.monotonic() + 300
        while True:
            rows = await db.fetch(
                f"SELECT at FROM order_timeline WHERE kind = 'written_back' AND order_id IN ({marks(ids)})", *ids
            )
            if len(rows) == len(ids):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(rows)} of {len(ids)} backlog results were written back")
            await asyncio.sleep(0.1)
    finally:
        await db.close()
    times = sorted(r["at"] if isinstance(r["at"], datetime) else datetime.fromisoformat(r["at"]) for r in rows)
    return (len(times) - 1) / max((times[-1] - times[0]).total_seconds(), 1e-6)


async def run_loop(
    sandbox: str, integration: str, order_ids: list[str], meter: CpuMeter
) -> tuple[float, dict[str, float]]:
    """The baseline: one plain httpx loop doing the same PUTs to the same sandbox, one after the other."""
    headers = {"authorization": f"Bearer {API_KEY}", "x-integration-id": integration}
    async with httpx.AsyncClient(timeout=60) as raw:
        http = PatientClient(raw)
        meter.start()
        started = time.perf_counter()
        for n, order_id in enumerate(order_ids):
            url = f"{sandbox}/v1/assessment/orders/{order_id}/result"
            (await http.put(url, json=result_body(n), headers=headers)).raise_for_status()
        rate = len(order_ids) / (time.perf_counter() - started)
        return rate, {label: seconds * 1000 / len(order_ids) for label, seconds in meter.stop().items()}


async def run_aiohttp_loop(sandbox: str, integration: str, order_ids: list[str]) -> float:
    """The same loop through aiohttp: the wire with a client that costs a third of httpx's CPU."""
    headers = {"authorization": f"Bearer {API_KEY}", "x-integration-id": integration}
    headers["content-type"] = "application/json"
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        for n, order_id in enumerate(order_ids):
            url = f"{sandbox}/v1/assessment/orders/{order_id}/result"
            async with session.put(url, data=msgspec.json.encode(result_body(n)), headers=headers) as response:
                await response.read()
                response.raise_for_status()
        return len(order_ids) / (time.perf_counter() - started)


def baseline(sandbox: str, meter: CpuMeter) -> tuple[float, dict[str, float], float]:
    """The httpx loop (its rate and CPU) and the aiohttp loop's rate, each over orders of its own."""

    async def main() -> tuple[float, dict[str, float], float]:
        async with httpx.AsyncClient(timeout=60) as raw:
            http = PatientClient(raw)
            integration = (await http.post(f"{sandbox}/_sandbox/integrations", json={})).json()["id"]
            ids = await place_orders(http, sandbox, integration, 2 * ORDERS)
        rate, cpu = await run_loop(sandbox, integration, ids[:ORDERS], meter)
        return rate, cpu, await run_aiohttp_loop(sandbox, integration, ids[ORDERS:])

    return asyncio.run(main())


def configurations() -> list[tuple[str, str, int]]:
    """(label, database URL, worker processes; 0 = the embedded worker of ``serve``). Each has a fresh database:
    one shared would hand the later modes the earlier modes' orders, results and jobs."""
    found = []
    for engine, url in engines():
        if engine == "sqlite":
            found.append(("SQLite, embedded worker", url, 0))
        else:
            urls = [url] + [asyncio.run(create_postgres_database()) for _ in range(2)]
            found += [
                (f"PostgreSQL, {n} worker{'s' if n > 1 else ''}", u, n) for n, u in zip((1, 2, 4), urls, strict=True)
            ]
    only = os.environ.get("BENCH_ONLY")  # e.g. "PostgreSQL, 1": the modes whose label contains it (for profiling)
    chosen = [mode for mode in found if only is None or only in mode[0]]
    for _, url, _ in found:
        if all(url != kept for _, kept, _ in chosen):
            cleanup(url)
    return chosen


def main() -> int:
    sandbox_port, gateway_port = free_ports(2)
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    sandbox_cmd = [ASSESSGATE, "sandbox", "serve", "--port", str(sandbox_port), "--api-key", API_KEY]
    sandbox_cmd += ["--webhook-url", f"http://127.0.0.1:{gateway_port}/kombo/webhooks"]
    sandbox_cmd += ["--webhook-secret", WEBHOOK_SECRET]
    rows: dict[str, Any] = {}
    configs = configurations()
    with processes([sandbox_cmd], dict(os.environ)) as [sandbox_process]:
        wait_until_up(f"{sandbox}/_sandbox/faults", sandbox_process)
        for label, url, workers in configs:
            env = gateway_env(url, gateway_port, sandbox_port, embedded=workers == 0)
            subprocess.run([ASSESSGATE, "migrate"], env=env, check=True, capture_output=True)
            commands = [[ASSESSGATE, "serve"]] + [[ASSESSGATE, "worker"] for _ in range(workers)]
            with processes(commands, env) as started:
                wait_until_up(f"http://127.0.0.1:{gateway_port}/health", started[0])
                groups = {"gateway": [started[0].pid], "workers": [p.pid for p in started[1:]]}
                groups |= {"sandbox": [sandbox_process.pid], "bench client": [os.getpid()]}
                meter = CpuMeter(groups | ({} if url.startswith("sqlite") else {"postgres": []}))
                # side by side: the baselines run just before and just after the gateway's phase, and their mean
                # is what the gateway is compared with (one machine's speed drifts within a minute here)
                loop_meter = CpuMeter({k: groups[k] for k in ("sandbox", "bench client")})
                before = baseline(sandbox, loop_meter)
                figures = asyncio.run(run_gateway(f"http://127.0.0.1:{gateway_port}", sandbox, url, meter))
                after = baseline(sandbox, loop_meter)
                loop, fast_loop = (before[0] + after[0]) / 2, (before[2] + after[2]) / 2
                loop_cpu = {k: (before[1][k] + after[1][k]) / 2 for k in before[1]}
            # The backlog: results stored with no worker running, then drained by the same workers.
            quiet_env = gateway_env(url, gateway_port, sandbox_port, embedded=False)
            with processes([[ASSESSGATE, "serve"]], quiet_env) as [serve]:
                wait_until_up(f"http://127.0.0.1:{gateway_port}/health", serve)
                backlog = figures.pop("backlog")
                asyncio.run(store_backlog(f"http://127.0.0.1:{gateway_port}", figures["tenant"], backlog))
            with processes(commands, env):
                drained = asyncio.run(drain_rate(url, figures["tenant"], backlog))
            rows[label] = {**figures, "loop_results_per_s": loop, "ratio": figures["results_per_s"] / loop}
            rows[label] |= {
                "aiohttp_loop_results_per_s": fast_loop,
                "aiohttp_ratio": figures["results_per_s"] / fast_loop,
            }
            rows[label] |= {"loop_cpu_ms_per_result": loop_cpu, "drain_per_s": drained, "drain_ratio": drained / loop}
        for url in {url for _, url, _ in configs}:
            cleanup(url)
    print(f"\nWrite-back: {ORDERS} results through the results API until the sandbox has them all")
    print("(backlog: as many results stored while no worker ran, then written back by the same workers)")
    print("(loop/s: the plain httpx loop, the issue's baseline; ratios are to it; aiohttp: the same loop in aiohttp)")
    header = f"{'mode':<26}{'results/s':>10}{'loop/s':>9}{'ratio':>8}{'backlog/s':>11}{'ratio':>7}"
    print(f"{header}{'aiohttp/s':>11}{'ratio':>7}{'idle p50':>10}{'idle p99':>10}{'retried':>9}")
    for label, row in rows.items():
        print(
            f"{label:<26}{row['results_per_s']:>10.0f}{row['loop_results_per_s']:>9.0f}{row['ratio']:>8.2f}"
            f"{row['drain_per_s']:>11.0f}{row['drain_ratio']:>7.2f}"
            f"{row['aiohttp_loop_results_per_s']:>11.0f}{row['aiohttp_ratio']:>7.2f}"
            f"{row['idle_p50_ms']:>8.1f}ms{row['idle_p99_ms']:>8.1f}ms{row['retried']:>9.0f}"
        )
    print("\nCPU ms per result during that run, by process (two cores: 2,000 ms of CPU per second at most)")
    for label, row in rows.items():
        spent = row["cpu_ms_per_result"]
        shares = "  ".join(f"{name} {ms:.2f}" for name, ms in spent.items() if name != "workers" or ms)
        print(f"{label:<26}{shares}  (all {sum(spent.values()):.2f}; submissions took {row['submitted_s']:.2f} s)")
        loop_cpu = row["loop_cpu_ms_per_result"]
        print(f"{'  its plain loop':<26}" + "  ".join(f"{name} {ms:.2f}" for name, ms in loop_cpu.items()))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "write_back.json").write_text(json.dumps({"orders": ORDERS, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
