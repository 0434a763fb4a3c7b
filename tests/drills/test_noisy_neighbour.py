"""Noisy-neighbour drill (``make drill``): tenant A floods the gateway, tenant B must not notice much.

Processes: the Kombo sandbox and one ``serve`` (on PostgreSQL also a ``worker``), with the default admission
limits. Tenant A has 300 orders, tenant B 20. First B's probes run alone (the idle median, measured again after the
flood and pooled, as the machine may be busier at one time than another); then a separate
process floods as A for ``DRILL_FLOOD_S`` seconds (20) with ``DRILL_FLOODERS`` concurrent clients (300):
half submit results, half list 500 orders, each honouring 429/503 ``Retry-After`` as a real client would.
Meanwhile B keeps probing on a fixed schedule (order lists and order details, and a result for each of its
orders), whether or not earlier probes have finished, so a stall shows as many slow probes. Every one
of B's requests must succeed, and B's median latency must stay within 3x its idle median. The figures are
printed (``-s``) for docs/performance.md; ``DRILL_LIMITS=off`` runs the same flood with the limits lifted, for
comparison (it is expected to fail).

This file is also the flood process: ``python test_noisy_neighbour.py flood ...`` (separate, so A's clients
do not share an event loop, or a GIL, with B's probes and distort B's latencies).
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
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.drill, pytest.mark.anyio]
HERE = Path(__file__).resolve()
ASSESSGATE = str(Path(os.environ.get("VIRTUAL_ENV", ".venv")) / "bin" / "assessgate")
ADMIN = "nn-drill-7c41e09b5fa2d3867b1c0e94f5a2d318"
API_KEY, WEBHOOK_SECRET = "nn-drill-sandbox-key", "nn-drill-webhook-secret"
FLOOD_S = float(os.environ.get("DRILL_FLOOD_S", "20"))
FLOODERS = int(os.environ.get("DRILL_FLOODERS", "300"))
IDLE_S = 6.0
A_ORDERS, B_ORDERS = 300, 20
#: B's pace: 5 reads and 1 result a second, well inside its own rate limit (10 a second).
PROBE_EVERY_S = 0.2
PACKAGE = {"id": "pkg-nn", "type": "SKILLS_TEST", "name": "Noisy", "description": ""}
RESULT = {
    "status": "COMPLETED",
    "result_url": "https://vendor.example/r/1",
    "completed_at": "2026-11-26T10:00:00.000Z",
    "score": 50,
    "max_score": 100,
}


async def polite(http: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """A request as a real client makes it: on 429 or 503, wait what ``Retry-After`` says and try again."""
    while True:
        response = await http.request(method, url, **kwargs)
        if response.status_code not in {429, 503}:
            return response
        await asyncio.sleep(float(response.headers.get("retry-after", "1")))


# ------------------------------------------------------------------------------------------ the flood process
async def flood(
    base: str, tenant: str, key: str, order_ids: list[str], *, seconds: float, clients: int
) -> Counter[str]:
    headers = {"authorization": f"Bearer {key}"}
    outcomes: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60, limits=limits) as http:
        end = time.monotonic() + seconds

        async def client(n: int) -> None:
            rng = random.Random(n)
            while time.monotonic() < end:
                try:
                    if n % 2:
                        order = rng.choice(order_ids)
                        response = await http.put(f"/v1/tenants/{tenant}/orders/{order}/result", json=RESULT)
                    else:
                        response = await http.get(f"/v1/tenants/{tenant}/orders", params={"limit": 500})
                except httpx.TransportError as exc:
                    outcomes[type(exc).__name__] += 1
                    await asyncio.sleep(1)
                    continue
                outcomes[str(response.status_code)] += 1
                if response.status_code in {429, 503}:  # a real client waits as told
                    await asyncio.sleep(float(response.headers.get("retry-after", "1")))

        print("flooding", flush=True)
        await asyncio.gather(*(client(n) for n in range(clients)))
    return outcomes


def flood_main(argv: list[str]) -> None:
    base, tenant, key, orders_file, seconds, clients = argv
    order_ids = json.loads(Path(orders_file).read_text())
    outcomes = asyncio.run(flood(base, tenant, key, order_ids, seconds=float(seconds), clients=int(clients)))
    print(json.dumps(dict(outcomes)), flush=True)


# ------------------------------------------------------------------------------------------------ the drill
@dataclass
class Gateway:
    url: str
    sandbox: str
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)


@pytest.fixture
def gateway(database_url: str, engine: str, tmp_path: Path) -> Iterator[Gateway]:
    # Imported here: the flood process (this file run as a script) needs neither, nor the app they import.
    from agtest.admission import UNLIMITED
    from agtest.drill import wait_up
    from agtest.servers import free_ports

    sandbox_port, port = free_ports(2)
    env = {
        **os.environ,
        "ASSESSGATE_DATABASE_URL": database_url,
        "ASSESSGATE_DATA_DIR": str(tmp_path / "data"),
        "ASSESSGATE_ADMIN_TOKEN": ADMIN,
        "ASSESSGATE_SECRET_KEYS": "aW5zZWN1cmUtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2Q=",
        "ASSESSGATE_KOMBO_API_URL": f"http://127.0.0.1:{sandbox_port}/v1",
        "ASSESSGATE_KOMBO_API_KEY": API_KEY,
        "ASSESSGATE_KOMBO_WEBHOOK_SECRETS": WEBHOOK_SECRET,
        "ASSESSGATE_PORT": str(port),
        "ASSESSGATE_LOG_LEVEL": "error",
    }
    if os.environ.get("DRILL_LIMITS") == "off":  # the comparison for docs/performance.md: no admission limits
        env |= UNLIMITED
    subprocess.run([ASSESSGATE, "migrate"], env=env, check=True, capture_output=True)
    found = Gateway(url=f"http://127.0.0.1:{port}", sandbox=f"http://127.0.0.1:{sandbox_port}")
    sandbox = [ASSESSGATE, "sandbox", "serve", "--port", str(sandbox_port), "--api-key", API_KEY]
    sandbox += ["--webhook-url", f"{found.url}/kombo/webhooks", "--webhook-secret", WEBHOOK_SECRET]
    commands = [(sandbox, dict(os.environ)), ([ASSESSGATE, "serve"], env)]
    if engine == "postgres":
        commands.append(([ASSESSGATE, "worker"], env))
    for command, environ in commands:
        found.procs.append(subprocess.Popen(command, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        wait_up(f"{found.sandbox}/_sandbox/faults")
        wait_up(f"{found.url}/health")
        yield found
    finally:
        for process in found.procs:
            process.terminate()
        for process in found.procs:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class Tenant:
    id: str
    key: str
    orders: list[str]


async def tenant_with_orders(http: httpx.AsyncClient, gateway: Gateway, name: str, count: int) -> Tenant:
    admin = {"authorization": f"Bearer {ADMIN}"}
    tenant = (await polite(http, "POST", f"{gateway.url}/v1/tenants", json={"name": name}, headers=admin)).json()["id"]
    # The platform's key: the default scopes, and its tenant's catalog to set up.
    scopes = {"scopes": ["tenant:read", "orders:read", "results:write", "catalog:write"]}
    key = (await polite(http, "POST", f"{gateway.url}/v1/tenants/{tenant}/api-keys", json=scopes, headers=admin)).json()
    own = {"authorization": f"Bearer {key['key']}"}
    put = await polite(
        http, "PUT", f"{gateway.url}/v1/tenants/{tenant}/packages", json={"packages": [PACKAGE]}, headers=own
    )
    assert put.is_success, put.text
    created = await http.post(f"{gateway.sandbox}/_sandbox/integrations", json={"origin_id": tenant})
    integration = created.json()["id"]
    gate = asyncio.Semaphore(8)

    async def place(n: int) -> None:
        async with gate:
            body = {"package_id": PACKAGE["id"], "candidate": {"email": f"{name}{n}@example.org", "first_name": name}}
            (
                await http.post(f"{gateway.sandbox}/_sandbox/integrations/{integration}/orders", json=body)
            ).raise_for_status()

    await asyncio.gather(*(place(n) for n in range(count)))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        page = await polite(
            http, "GET", f"{gateway.url}/v1/tenants/{tenant}/orders", params={"limit": 500}, headers=own
        )
        items = [o for o in page.json()["items"] if o["status"] == "accepted"]
        if len(items) >= count:
            return Tenant(id=tenant, key=key["key"], orders=[o["id"] for o in items])
        await asyncio.sleep(0.5)
    raise AssertionError(f"{name}'s {count} orders did not arrive within two minutes")


@dataclass
class Probes:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    results: Counter[int] = field(default_factory=Counter)


async def probe(http: httpx.AsyncClient, gateway: Gateway, b: Tenant, seconds: float, results: list[str]) -> Probes:
    """B's requests on a fixed schedule, whether or not earlier ones have finished (so a stalled gateway shows
    as many slow probes, not as a few): order lists and order details (timed from their scheduled start), and
    a result for each order in ``results`` (each must be accepted)."""
    own = {"authorization": f"Bearer {b.key}"}
    found = Probes()

    async def read(n: int, scheduled: float) -> None:
        if n % 2:
            url = f"{gateway.url}/v1/tenants/{b.id}/orders/{b.orders[n % len(b.orders)]}"
            response = await http.get(url, headers=own)
        else:
            response = await http.get(f"{gateway.url}/v1/tenants/{b.id}/orders", params={"limit": 50}, headers=own)
        found.latencies_ms.append((time.monotonic() - scheduled) * 1000)
        found.statuses[response.status_code] += 1

    async def submit(order: str) -> None:
        url = f"{gateway.url}/v1/tenants/{b.id}/orders/{order}/result"
        found.results[(await http.put(url, json=RESULT, headers=own)).status_code] += 1

    started, tasks = time.monotonic(), []
    for n in range(round(seconds / PROBE_EVERY_S)):
        scheduled = started + n * PROBE_EVERY_S
        await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
        tasks.append(asyncio.create_task(read(n, scheduled)))
        if results and n % 5 == 0:
            tasks.append(asyncio.create_task(submit(results.pop())))
    await asyncio.gather(*tasks)
    return found


def summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[int(len(ordered) * 0.95) - 1] if ordered else float("nan")
    return f"n={len(ordered)} median={statistics.median(ordered):.1f} ms p95={p95:.1f} ms max={ordered[-1]:.1f} ms"


async def test_a_flooding_tenant_does_not_starve_another(gateway: Gateway, engine: str, tmp_path: Path) -> None:
    async with httpx.AsyncClient(timeout=60) as http:
        a = await tenant_with_orders(http, gateway, "A", A_ORDERS)
        b = await tenant_with_orders(http, gateway, "B", B_ORDERS)
        idle = await probe(http, gateway, b, IDLE_S, [])

        orders_file = tmp_path / "a-orders.json"
        orders_file.write_text(json.dumps(a.orders))
        environ = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        command = [sys.executable, str(HERE), "flood", gateway.url, a.id, a.key, str(orders_file)]
        command += [str(FLOOD_S), str(FLOODERS)]
        flooder = await asyncio.create_subprocess_exec(*command, env=environ, stdout=asyncio.subprocess.PIPE)
        assert flooder.stdout is not None
        assert (await flooder.stdout.readline()).strip() == b"flooding"
        flooded = await probe(http, gateway, b, FLOOD_S, list(b.orders))
        out, _ = await flooder.communicate()
        assert flooder.returncode == 0
        a_outcomes = json.loads(out.decode().strip().splitlines()[-1])
        # The machine is shared (CI, other processes): the idle baseline is measured before and after the flood.
        after = await probe(http, gateway, b, IDLE_S, [])
        idle.latencies_ms += after.latencies_ms
        idle.statuses += after.statuses

    print(
        f"\nnoisy neighbour ({engine}, {FLOODERS} flooders for {FLOOD_S:g} s):\n"
        f"  B idle:    {summary(idle.latencies_ms)}\n"
        f"  B flooded: {summary(flooded.latencies_ms)} statuses={dict(flooded.statuses)}"
        f" results={dict(flooded.results)}\n"
        f"  A:         {dict(sorted(a_outcomes.items()))}"
    )
    assert set(idle.statuses) == {200}
    assert set(flooded.statuses) == {200}, flooded.statuses
    assert set(flooded.results) == {202}, flooded.results
    assert int(a_outcomes.get("429", 0)) > 0, "the flood never met a limit: it was no flood"
    assert statistics.median(flooded.latencies_ms) <= 3 * statistics.median(idle.latencies_ms)


if __name__ == "__main__" and sys.argv[1:2] == ["flood"]:
    flood_main(sys.argv[2:])
