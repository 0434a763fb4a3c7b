"""Write-back: results submitted through the results API until the sandbox has them all, against a plain httpx
loop doing the same PUTs to the same sandbox (the issue's baseline), run side by side in one run; a plain aiohttp
loop is shown beside it, the wire with the cheapest client we know.

The load generator (the vendor's platform) submits through aiohttp: it shares the two cores with what is
measured, and httpx's pool cost it 2 to 4 ms of CPU per submission with 16 in flight, more than the gateway's
own request (docs/performance.md).

Everything is a real process talking real HTTP: the Kombo sandbox, the gateway (``assessgate serve``) and,
on PostgreSQL, 1, 2 or 4 ``assessgate worker`` processes; on SQLite the worker runs inside ``serve`` (the
embedded mode). Orders reach the gateway as the sandbox's signed webhooks. The busy phase runs in rounds
(``ROUNDS``), the modes in turn within each, every round on a fresh database with its own baselines; each mode
is shown by its round of median ratio. Reported: results/s from the first submission to the last result
written back, the ratio to the plain loop; the rate at which the same workers write back a backlog of as many
results stored while none ran (the write-back path alone, as after an outage); on an idle queue the latency
from a submission to its arrival at the sandbox (p50/p99), which shows whether LISTEN/NOTIFY wakes the worker
(the poll interval is a second); and the CPU each process spent per result, against the plain loop's (on two
cores that is what bounds these figures). The backlog and the idle latencies are measured in the first round.
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
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import msgspec

from bench.client import RETRYABLE_STATUSES, PatientClient
from bench.cpu import CpuMeter
from bench.gateway_processes import (
    API_KEY,
    ASSESSGATE,
    AUTH,
    gateway_env,
    processes,
    sandbox_command,
    wait_until_up,
)
from bench.ingest import cleanup, create_postgres_database, engines, free_ports, sqlite_url
from core.settings import DatabaseSettings
from orders.write_back import WRITE_BACK_KIND
from storage.database import Database, marks

RESULTS = Path(__file__).parent / "results"
FULL = os.environ.get("FULL") == "1"
ORDERS = int(os.environ.get("BENCH_WRITE_BACK_ORDERS", "3000" if FULL else "1000"))
IDLE_SAMPLES = 40 if FULL else 20
#: Results the vendor's platform submits at once (its connections to the gateway).
SUBMITTERS = int(os.environ.get("BENCH_SUBMITTERS", "16"))
#: Rounds of the busy phase, each mode once a round in turn: the table shows each mode's median round, since one
#: round's ratio moved by 20-30 % between runs on the two-core machine (the backlog and idle phases run once).
ROUNDS = int(os.environ.get("BENCH_WRITE_BACK_ROUNDS", "3"))
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


async def new_tenant(http: PatientClient, gateway: str, sandbox: str, name: str) -> tuple[str, str]:
    """A tenant with the benchmark's package, and its integration in the sandbox (bound by its origin id)."""
    tenant = (await http.post(f"{gateway}/v1/tenants", json={"name": name}, headers=AUTH)).json()["id"]
    await http.put(f"{gateway}/v1/tenants/{tenant}/packages", json={"packages": [PACKAGE]}, headers=AUTH)
    integration = (await http.post(f"{sandbox}/_sandbox/integrations", json={"origin_id": tenant})).json()["id"]
    return tenant, integration


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


@asynccontextmanager
async def database(url: str) -> AsyncIterator[Database]:
    """The benchmark's own connection to the database measured: it reads progress without loading the gateway."""
    db = Database(DatabaseSettings(url=url))
    await db.start()
    try:
        yield db
    finally:
        await db.close()


async def jobs_left(db: Database, kind: str) -> int:
    """Jobs of ``kind`` not finished: an index range over the live jobs (the results table has no index to count
    a tenant's written ones by, and polling it would load the database being measured)."""
    rows = await db.fetch(
        "SELECT COUNT(*) AS n FROM outbox_job WHERE state IN ('queued', 'running') AND kind = {}", kind
    )
    return int(rows[0]["n"])


def timeline_time(value: datetime | str) -> datetime:
    """A timeline entry's ``at`` as read: a datetime on PostgreSQL, ISO text on SQLite."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


async def run_gateway(gateway: str, sandbox: str, database_url: str, meter: CpuMeter, *, first: bool) -> dict[str, Any]:
    """The busy phase (a new tenant's ``ORDERS`` results, ``SUBMITTERS`` at a time, until all are written back);
    in a mode's ``first`` round also the idle latencies and the orders of the backlog phase."""
    async with (
        database(database_url) as db,
        httpx.AsyncClient(timeout=60) as raw,
        aiohttp.ClientSession() as session,
    ):
        # The vendor's platform: a 503/429 is waited out as Retry-After says and counted (``retried``).
        http = PatientClient(raw)
        tenant, integration = await new_tenant(http, gateway, sandbox, "WB")
        wanted = 2 * ORDERS + IDLE_SAMPLES if first else ORDERS
        await place_orders(http, sandbox, integration, wanted)
        orders = await gateway_orders(http, gateway, tenant, wanted)
        busy, idle, backlog = orders[:ORDERS], orders[ORDERS : ORDERS + IDLE_SAMPLES], orders[ORDERS + IDLE_SAMPLES :]
        await asyncio.sleep(2)  # let the start jobs of the new orders finish: the queue is idle before we begin

        submit = submitter(session, gateway, tenant, http.tally)

        meter.start()
        started = time.perf_counter()
        await asyncio.gather(*(submit(n, o) for n, o in enumerate(busy)))
        submitted = time.perf_counter() - started
        while await jobs_left(db, WRITE_BACK_KIND):  # noqa: ASYNC110 - another process does the work
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
    ordered = sorted(latencies) or [float("nan")]
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


async def drain_rate(database_url: str, order_ids: list[str]) -> float:
    """Results/s the workers wrote the backlog back at: from the first ``written_back`` entry to the last."""
    async with database(database_url) as db:
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
    times = sorted(timeline_time(r["at"]) for r in rows)
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
    """(label, engine, worker processes; 0 = the embedded worker of ``serve``). Every round of a mode has a fresh
    database (``fresh_database``): one shared would hand the later rounds and modes the earlier ones' orders,
    results and jobs."""
    found = []
    for engine, url in engines():  # which engines answer
        cleanup(url)
        if engine == "sqlite":
            found.append(("SQLite, embedded worker", engine, 0))
        else:
            found += [(f"PostgreSQL, {n} worker{'s' if n > 1 else ''}", engine, n) for n in (1, 2, 4)]
    only = os.environ.get("BENCH_ONLY")  # e.g. "PostgreSQL, 1": the modes whose label contains it (for profiling)
    return [mode for mode in found if only is None or only in mode[0]]


def fresh_database(engine: str, env: dict[str, str]) -> str:
    """A new database of ``engine``, migrated; its URL (dropped again if the migration fails)."""
    url = sqlite_url() if engine == "sqlite" else asyncio.run(create_postgres_database())
    try:
        migrate_env = {**env, "ASSESSGATE_DATABASE_URL": url}
        subprocess.run([ASSESSGATE, "migrate"], env=migrate_env, check=True, capture_output=True)
    except BaseException:
        cleanup(url)
        raise
    return url


def mode_round(ports: tuple[int, int], url: str, workers: int, *, first: bool) -> dict[str, Any]:
    """One round of one mode: its processes, the busy phase between two baselines, and in the ``first`` round the
    backlog phase (results stored while no worker runs, then written back by the same workers). The round has a
    sandbox of its own, as it has a database: the sandbox's state grows with every order and result (some 37,000
    orders over a run's twelve rounds) and the modes run in a fixed order, so a shared one would weigh on the
    later modes."""
    sandbox_port, gateway_port = ports
    sandbox, gateway = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{gateway_port}"
    env = gateway_env(url, gateway_port, sandbox_port, embedded=workers == 0)
    quiet_env = gateway_env(url, gateway_port, sandbox_port, embedded=False)
    commands = [[ASSESSGATE, "serve"]] + [[ASSESSGATE, "worker"] for _ in range(workers)]
    with processes([sandbox_command(sandbox_port, gateway_port)], dict(os.environ)) as [sandbox_process]:
        wait_until_up(f"{sandbox}/_sandbox/faults", sandbox_process)
        with processes(commands, env) as started:
            wait_until_up(f"{gateway}/health", started[0])
            groups = {"gateway": [started[0].pid], "workers": [p.pid for p in started[1:]]}
            groups |= {"sandbox": [sandbox_process.pid], "bench client": [os.getpid()]}
            meter = CpuMeter(groups | ({} if url.startswith("sqlite") else {"postgres": []}))
            # side by side: the baselines run just before and just after the gateway's phase, and their mean
            # is what the gateway is compared with (one machine's speed drifts within a minute here)
            loop_meter = CpuMeter({k: groups[k] for k in ("sandbox", "bench client")})
            before = baseline(sandbox, loop_meter)
            figures = asyncio.run(run_gateway(gateway, sandbox, url, meter, first=first))
            after = baseline(sandbox, loop_meter)
        loop, fast_loop = (before[0] + after[0]) / 2, (before[2] + after[2]) / 2
        row = {**figures, "loop_results_per_s": loop, "ratio": figures["results_per_s"] / loop}
        row |= {"aiohttp_loop_results_per_s": fast_loop, "aiohttp_ratio": figures["results_per_s"] / fast_loop}
        row["loop_cpu_ms_per_result"] = {k: (before[1][k] + after[1][k]) / 2 for k in before[1]}
        backlog = row.pop("backlog")
        if first:
            with processes([[ASSESSGATE, "serve"]], quiet_env) as [serve]:
                wait_until_up(f"{gateway}/health", serve)
                asyncio.run(store_backlog(gateway, row["tenant"], backlog))
            with processes(commands, env):
                row["drain_per_s"] = asyncio.run(drain_rate(url, backlog))
            row["drain_ratio"] = row["drain_per_s"] / loop
    return row


def median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round of median ratio (its figures stay together; of an even number of rounds, the lower of the middle
    two), with the first round's backlog and idle figures and every round's results/s and ratio."""
    ranked = sorted(rounds, key=lambda r: r["ratio"])
    first = rounds[0]
    row = {**ranked[(len(ranked) - 1) // 2], "rounds": [[r["results_per_s"], r["ratio"]] for r in rounds]}
    return row | {k: first[k] for k in ("drain_per_s", "drain_ratio", "idle_p50_ms", "idle_p99_ms")}


def main() -> int:
    if ROUNDS < 1:
        raise SystemExit("BENCH_WRITE_BACK_ROUNDS must be at least 1")
    sandbox_port, gateway_port = free_ports(2)
    configs = configurations()
    rounds: dict[str, list[dict[str, Any]]] = {label: [] for label, _, _ in configs}
    for number in range(ROUNDS):  # the modes in turn, round after round: a slow minute hits each mode once
        for label, engine, workers in configs:
            url = fresh_database(engine, gateway_env("", gateway_port, sandbox_port, embedded=False))
            try:
                rounds[label].append(mode_round((sandbox_port, gateway_port), url, workers, first=number == 0))
            finally:
                cleanup(url)
    rows = {label: median_round(runs) for label, runs in rounds.items()}
    report(rows)
    RESULTS.mkdir(exist_ok=True)
    figures = {"orders": ORDERS, "rounds": ROUNDS, "rows": rows}
    (RESULTS / "write_back.json").write_text(json.dumps(figures, indent=2) + "\n")
    return 0


def report(rows: dict[str, dict[str, Any]]) -> None:
    print(f"\nWrite-back: {ORDERS} results through the results API until the sandbox has them all; each mode's")
    print(f"median of {ROUNDS} rounds (the modes in turn, round after round; every round's results/s and ratio below)")
    print("(backlog: as many results stored while no worker ran, then written back by the same workers; it and the")
    print(" idle latencies are the first round's, the backlog's ratio to that round's loop)")
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
    print("\nEvery round, in order: results/s (ratio)")
    for label, row in rows.items():
        print(f"{label:<26}" + "  ".join(f"{rate:.0f} ({ratio:.2f})" for rate, ratio in row["rounds"]))
    report_against_one_worker(rows)
    print("\nCPU ms per result in the median round, by process (two cores: 2,000 ms of CPU per second at most)")
    for label, row in rows.items():
        spent = row["cpu_ms_per_result"]
        shares = "  ".join(f"{name} {ms:.2f}" for name, ms in spent.items() if name != "workers" or ms)
        print(f"{label:<26}{shares}  (all {sum(spent.values()):.2f}; submissions took {row['submitted_s']:.2f} s)")
        loop_cpu = row["loop_cpu_ms_per_result"]
        print(f"{'  its plain loop':<26}" + "  ".join(f"{name} {ms:.2f}" for name, ms in loop_cpu.items()))


def report_against_one_worker(rows: dict[str, dict[str, Any]]) -> None:
    """Each PostgreSQL mode's results/s over one worker's in the same round (the modes of a round run minutes
    apart, rounds further apart: pairing them takes the machine's drift out of the comparison)."""
    one = rows.get("PostgreSQL, 1 worker")
    if one is None:
        return
    print("\nPostgreSQL results/s over 1 worker's in the same round: median (each round)")
    for label, row in rows.items():
        if label.startswith("PostgreSQL") and row is not one:
            paired = [rate / base for (rate, _), (base, _) in zip(row["rounds"], one["rounds"], strict=True)]
            each = "  ".join(f"{p:.2f}" for p in paired)
            print(f"{label:<26}{statistics.median(paired):.2f}  ({each})")


if __name__ == "__main__":
    sys.exit(main())
