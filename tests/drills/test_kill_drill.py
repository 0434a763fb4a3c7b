"""Fault drill (``make drill``): real processes under load while things break, then a checker compares the
sandbox's view (Kombo's) with ours.

Processes: the Kombo sandbox, two ``serve`` replicas on one PostgreSQL database (Kombo's webhooks go to
replica A; the vendor's platform submits results through replica B) and two ``worker`` processes. While
orders and results flow: 20% of webhooks are dropped, 25% sent twice, 20% delayed past later ones;
Kombo's result endpoint fails with 503 for a few seconds, then answers slowly; worker 1 and replica A
are killed with SIGKILL and started again; PostgreSQL itself is restarted. Afterwards the checker asks:
is every order Kombo has known here exactly once, is every submitted result at Kombo with its score,
and is nothing left queued, running or dead?
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from agtest import only_postgres
from agtest.servers import free_port

pytestmark = [pytest.mark.drill, pytest.mark.anyio]
ASSESSGATE = str(Path(os.environ.get("VIRTUAL_ENV", ".venv")) / "bin" / "assessgate")
ADMIN = "drill-admin-token-0123456789"
AUTH = {"authorization": f"Bearer {ADMIN}"}
API_KEY, WEBHOOK_SECRET = "drill-sandbox-key", "drill-webhook-secret"
ORDERS = int(os.environ.get("DRILL_ORDERS", "300"))
OLDEST = "assessgate_oldest_due_job_age_seconds"
PACKAGE = {"id": "pkg-drill", "type": "SKILLS_TEST", "name": "Drill", "description": ""}


@dataclass
class Cluster:
    env: dict[str, str]
    sandbox: str
    a: str
    b: str
    procs: dict[str, subprocess.Popen[bytes]]

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.procs[name] = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait()


def wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


@pytest.fixture
def cluster(database_url: str) -> Iterator[Cluster]:
    sandbox_port, a_port, b_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "ASSESSGATE_DATABASE_URL": database_url,
        "ASSESSGATE_ADMIN_TOKEN": ADMIN,
        "ASSESSGATE_SECRET_KEYS": "aW5zZWN1cmUtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2Q=",
        "ASSESSGATE_KOMBO_API_URL": f"http://127.0.0.1:{sandbox_port}/v1",
        "ASSESSGATE_KOMBO_API_KEY": API_KEY,
        "ASSESSGATE_KOMBO_WEBHOOK_SECRETS": WEBHOOK_SECRET,
        "ASSESSGATE_EMBEDDED_WORKER": "off",
        "ASSESSGATE_LOG_LEVEL": "error",
        "ASSESSGATE_WORKER_LEASE_S": "5",
        "ASSESSGATE_RECONCILE_INTERVAL_S": "10",
    }
    subprocess.run([ASSESSGATE, "migrate"], env=env, check=True, capture_output=True)
    found = Cluster(
        env=env,
        sandbox=f"http://127.0.0.1:{sandbox_port}",
        a=f"http://127.0.0.1:{a_port}",
        b=f"http://127.0.0.1:{b_port}",
        procs={},
    )
    sandbox = [ASSESSGATE, "sandbox", "serve", "--port", str(sandbox_port), "--api-key", API_KEY]
    sandbox += ["--webhook-url", f"{found.a}/kombo/webhooks", "--webhook-secret", WEBHOOK_SECRET]
    found.start("sandbox", sandbox, dict(os.environ))
    found.start("a", [ASSESSGATE, "serve"], {**env, "ASSESSGATE_PORT": str(a_port)})
    found.start("b", [ASSESSGATE, "serve"], {**env, "ASSESSGATE_PORT": str(b_port)})
    for n in (1, 2):
        found.start(f"worker{n}", [ASSESSGATE, "worker"], env)
    for url in (f"{found.sandbox}/_sandbox/faults", f"{found.a}/health", f"{found.b}/health"):
        wait_up(url)
    try:
        yield found
    finally:
        for process in found.procs.values():
            if process.poll() is None:
                process.terminate()
        stuck = []
        for name, process in found.procs.items():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stuck.append(name)
                process.kill()
                process.wait()
        assert stuck == [], f"did not stop within 30 s of SIGTERM: {stuck}"


async def fault(http: httpx.AsyncClient, cluster: Cluster, **rule: Any) -> None:
    (await http.post(f"{cluster.sandbox}/_sandbox/faults", json=rule)).raise_for_status()


def restart_postgres() -> None:
    """Restart the local PostgreSQL cluster (Debian's pg_ctlcluster) in the background, under load."""
    versions = sorted(Path("/etc/postgresql").glob("*/main")) if Path("/etc/postgresql").exists() else []
    if not versions or shutil.which("pg_ctlcluster") is None:
        print("drill: PostgreSQL restart skipped (no Debian cluster to restart here)")
        return
    version = versions[-1].parent.name
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"]
    RESTARTS.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))


#: The restarts under way (waited for before the checker runs).
RESTARTS: list[subprocess.Popen[bytes]] = []


async def submit_open(
    http: httpx.AsyncClient, cluster: Cluster, tenant: str, scores: dict[str, int], rng: random.Random
) -> None:
    """Submit a result (a random score) through replica B for every accepted order without one yet."""
    page = await http.get(f"{cluster.b}/v1/tenants/{tenant}/orders", params={"limit": 500}, headers=AUTH)
    for order in page.json()["items"]:
        if order["kombo_order_id"] in scores or order["status"] != "accepted":
            continue
        score = rng.randrange(101)
        result = {
            "status": "COMPLETED",
            "result_url": f"https://vendor.example/r/{order['id']}",
            "completed_at": "2026-11-26T10:00:00.000Z",
            "score": score,
            "max_score": 100,
        }
        url = f"{cluster.b}/v1/tenants/{tenant}/orders/{order['id']}/result"
        if (await http.put(url, json=result, headers=AUTH)).status_code == 202:
            scores[order["kombo_order_id"]] = score


async def load(
    http: httpx.AsyncClient, cluster: Cluster, tenant: str, integration: str, scores: dict[str, int]
) -> None:
    """Place the orders and submit results as they arrive, killing and restarting processes on the way."""
    semaphore = asyncio.Semaphore(8)
    rng = random.Random(5)

    async def place(n: int) -> None:
        async with semaphore:
            body = {"package_id": PACKAGE["id"], "candidate": {"email": f"d{n}@example.org", "first_name": "D"}}
            # A transport error is the sandbox's webhook to a killed replica: the order exists at Kombo anyway,
            # and reconciliation must find it.
            with contextlib.suppress(httpx.TransportError):
                await http.post(f"{cluster.sandbox}/_sandbox/integrations/{integration}/orders", json=body)

    restart_a = {**cluster.env, "ASSESSGATE_PORT": cluster.a.rsplit(":", 1)[1]}
    chaos: list[tuple[int, Callable[[], None]]] = [
        (ORDERS // 5, lambda: cluster.kill("worker1")),
        (ORDERS // 3, lambda: cluster.kill("a")),
        (2 * ORDERS // 5, restart_postgres),
        (ORDERS // 2, lambda: cluster.start("a", [ASSESSGATE, "serve"], restart_a)),
        (2 * ORDERS // 3, lambda: cluster.start("worker1", [ASSESSGATE, "worker"], cluster.env)),
    ]
    tasks = [asyncio.create_task(place(n)) for n in range(ORDERS)]
    while not all(t.done() for t in tasks):
        done = sum(t.done() for t in tasks)
        while chaos and done >= chaos[0][0]:
            chaos.pop(0)[1]()
        await submit_open(http, cluster, tenant, scores, rng)
        await asyncio.sleep(0.2)
    for _, action in chaos:
        action()


async def settle(
    http: httpx.AsyncClient, cluster: Cluster, tenant: str, integration: str, scores: dict[str, int]
) -> None:
    """After the chaos: results for orders that arrived late (through reconciliation), then a drained queue."""
    wait_up(f"{cluster.a}/health")
    rng = random.Random(6)
    deadline = time.monotonic() + 240
    conn = await asyncpg.connect(cluster.env["ASSESSGATE_DATABASE_URL"])
    try:
        while time.monotonic() < deadline:
            sandbox_state = (await http.get(f"{cluster.sandbox}/_sandbox/state")).json()
            at_kombo = {o["id"] for o in sandbox_state["orders"] if o["integration_id"] == integration}
            ours = {r["kombo_order_id"] for r in await conn.fetch("SELECT kombo_order_id FROM assessment_order")}
            busy = await conn.fetchval(
                "SELECT COUNT(*) FROM outbox_job WHERE state IN ('queued', 'running')"
                " AND kind NOT LIKE 'orders.reconcile%' AND kind <> 'outbox.purge'"
            )
            if at_kombo <= ours and busy == 0 and ours <= set(scores):
                return
            await submit_open(http, cluster, tenant, scores, rng)
            await asyncio.sleep(1)
        raise AssertionError("the cluster did not settle within four minutes")
    finally:
        await conn.close()


@only_postgres
async def test_nothing_is_lost_or_doubled_when_processes_die_and_kombo_misbehaves(cluster: Cluster) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        tenant = (await http.post(f"{cluster.b}/v1/tenants", json={"name": "Drill"}, headers=AUTH)).json()["id"]
        await http.put(f"{cluster.b}/v1/tenants/{tenant}/packages", json={"packages": [PACKAGE]}, headers=AUTH)
        integration = (await http.post(f"{cluster.sandbox}/_sandbox/integrations", json={"origin_id": tenant})).json()[
            "id"
        ]
        bound = (await http.get(f"{cluster.b}/v1/tenants/{tenant}", headers=AUTH)).json()
        assert bound["integration"]["id"] == integration
        await fault(
            http, cluster, target="webhook:assessment:order-received", action="drop", probability=0.2, times=None
        )
        # One random draw per webhook, checked against the rules in order: the probabilities are cumulative, so
        # 20% are dropped, 25% duplicated and 20% delayed (and overtaken by later ones).
        await fault(
            http, cluster, target="webhook:assessment:order-received", action="duplicate", probability=0.45, times=None
        )
        await fault(
            http,
            cluster,
            target="webhook:assessment:order-received",
            action="delay",
            latency_ms=400,
            probability=0.65,
            times=None,
        )
        await fault(
            http, cluster, target="PUT /assessment/orders/{id}/result", action="fail", status=503, for_seconds=4
        )
        await fault(
            http, cluster, target="PUT /assessment/orders/{id}/result", action="latency", latency_ms=300, for_seconds=8
        )

        scores: dict[str, int] = {}
        await load(http, cluster, tenant, integration, scores)
        for restart in RESTARTS:
            assert restart.wait(timeout=60) == 0
        await settle(http, cluster, tenant, integration, scores)

        state = (await http.get(f"{cluster.sandbox}/_sandbox/state")).json()
        drops = sum(1 for d in state["deliveries"] if d.get("outcome") == "dropped")
        at_kombo = {o["id"]: o for o in state["orders"] if o["integration_id"] == integration}
    conn = await asyncpg.connect(cluster.env["ASSESSGATE_DATABASE_URL"])
    try:
        ours = [r["kombo_order_id"] for r in await conn.fetch("SELECT kombo_order_id FROM assessment_order")]
        dead = await conn.fetch("SELECT kind, last_error FROM outbox_job WHERE state = 'dead'")
        written = await conn.fetch(
            "SELECT order_id, COUNT(*) AS n FROM order_result GROUP BY order_id HAVING COUNT(*) > 1"
        )
    finally:
        await conn.close()
    assert len(at_kombo) == ORDERS
    assert sorted(ours) == sorted(at_kombo)  # every order once: none lost to drops or kills, none doubled
    assert dead == []
    assert written == []
    for kombo_id, score in scores.items():
        order = at_kombo[kombo_id]
        assert (order["status"], order["result"]["score"]) == ("COMPLETED", score), kombo_id
    assert len(scores) == ORDERS
    # A worker killed between Kombo's answer and its own commit sends the same result again when the job reruns:
    # Kombo's PUT is idempotent (same body, same state), so this is counted, not failed.
    repeated = sum(1 for o in at_kombo.values() if o["result_count"] > 1)
    print(
        f"drill: {ORDERS} orders, {drops} webhooks dropped, PostgreSQL restarted {len(RESTARTS)} time(s), "
        f"results repeated after a kill: {repeated}"
    )


async def busy_jobs(conn: asyncpg.Connection) -> int:
    """Jobs queued or running, other than the periodic reconciliation."""
    count: int = await conn.fetchval(
        "SELECT COUNT(*) FROM outbox_job WHERE state IN ('queued', 'running') AND kind NOT LIKE 'orders.reconcile%'"
    )
    return count


async def drained(cluster: Cluster) -> tuple[int, int]:
    """(jobs still busy after waiting up to a minute, dead jobs)."""
    conn = await asyncpg.connect(cluster.env["ASSESSGATE_DATABASE_URL"])
    try:
        deadline = time.monotonic() + 60
        while (busy := await busy_jobs(conn)) and time.monotonic() < deadline:  # noqa: ASYNC110 - other processes
            await asyncio.sleep(0.5)
        dead: int = await conn.fetchval("SELECT COUNT(*) FROM outbox_job WHERE state = 'dead'")
    finally:
        await conn.close()
    return busy, dead


def resident_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024


@only_postgres
async def test_soak_mixed_traffic_without_errors_or_growth(cluster: Cluster) -> None:
    """Orders (signed webhooks), results and reads at a steady rate (``SOAK_RATE`` requests/s for
    ``SOAK_SECONDS``): no errors, resident memory flat, and the queue drained at the end."""
    rate, seconds = float(os.environ.get("SOAK_RATE", "60")), float(os.environ.get("SOAK_SECONDS", "90"))
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=128)) as http:
        tenant = (await http.post(f"{cluster.b}/v1/tenants", json={"name": "Soak"}, headers=AUTH)).json()["id"]
        await http.put(f"{cluster.b}/v1/tenants/{tenant}/packages", json={"packages": [PACKAGE]}, headers=AUTH)
        integration = (await http.post(f"{cluster.sandbox}/_sandbox/integrations", json={"origin_id": tenant})).json()[
            "id"
        ]
        statuses: list[int] = []
        refused: list[str] = []
        accepted: list[str] = []
        memory: list[dict[str, float]] = []

        async def place(n: int) -> None:
            body = {"package_id": PACKAGE["id"], "candidate": {"email": f"s{n}@example.org", "first_name": "S"}}
            placed = await http.post(f"{cluster.sandbox}/_sandbox/integrations/{integration}/orders", json=body)
            statuses.append(placed.status_code)
            # REJECTED only: at this rate a result can be written back before the webhook's answer reaches the
            # sandbox, so an order may already be COMPLETED when its placement returns.
            if placed.json()["status"] == "REJECTED":
                refused.append(f"{placed.json()['status']}: {placed.json().get('webhook_outcome')}")

        async def submit(n: int) -> None:
            del n
            if not accepted:
                return
            order = accepted.pop()
            result = {
                "status": "COMPLETED",
                "result_url": "https://v.example/r",
                "completed_at": "2026-11-26T10:00:00Z",
            }
            url = f"{cluster.b}/v1/tenants/{tenant}/orders/{order}/result"
            statuses.append(
                (await http.put(url, json={**result, "score": 1, "max_score": 2}, headers=AUTH)).status_code
            )

        async def read(n: int) -> None:
            del n
            page = await http.get(f"{cluster.a}/v1/tenants/{tenant}/orders", params={"limit": 20}, headers=AUTH)
            statuses.append(page.status_code)
            accepted.extend(
                o["id"] for o in page.json()["items"] if o["status"] == "accepted" and o["id"] not in accepted
            )

        tasks: list[asyncio.Task[None]] = []
        start = time.perf_counter()
        for i in range(int(rate * seconds)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task((place, read, submit)[i % 3](i)))
            if i % int(rate * 10) == 0:
                memory.append({name: resident_mb(p.pid) for name, p in cluster.procs.items() if name != "sandbox"})
        await asyncio.gather(*tasks)
    busy, dead = await drained(cluster)
    errors = [s for s in statuses if s >= 300]
    growth = {name: memory[-1][name] - memory[1][name] for name in memory[-1]} if len(memory) > 2 else {}
    print(f"soak: {len(statuses)} requests at {rate:.0f}/s for {seconds:.0f} s, errors {len(errors)}")
    print(f"soak: resident memory growth after warm-up, MB: {growth}")
    assert (errors, refused) == ([], [])
    assert (busy, dead) == (0, 0)
    assert all(mb < 40 for mb in growth.values()), growth  # flat: warm-up excluded, a few MB of noise allowed


@only_postgres
async def test_a_kombo_outage_of_a_minute_loses_nothing_and_shows_in_the_metrics(cluster: Cluster) -> None:
    """Kombo's result endpoint fails for ``OUTAGE_SECONDS`` (default 60), then is slow (300 ms) for twice as
    long; results keep coming. During the outage the queue's age is visible on ``/metrics`` (what an alert
    watches); afterwards every result arrives, with nothing dead."""
    outage = float(os.environ.get("OUTAGE_SECONDS", "60"))
    async with httpx.AsyncClient(timeout=30) as http:
        tenant = (await http.post(f"{cluster.b}/v1/tenants", json={"name": "Outage"}, headers=AUTH)).json()["id"]
        await http.put(f"{cluster.b}/v1/tenants/{tenant}/packages", json={"packages": [PACKAGE]}, headers=AUTH)
        integration = (await http.post(f"{cluster.sandbox}/_sandbox/integrations", json={"origin_id": tenant})).json()[
            "id"
        ]
        for n in range(40):
            body = {"package_id": PACKAGE["id"], "candidate": {"email": f"o{n}@example.org", "first_name": "O"}}
            await http.post(f"{cluster.sandbox}/_sandbox/integrations/{integration}/orders", json=body)
        target = "PUT /assessment/orders/{id}/result"
        await fault(http, cluster, target=target, action="fail", status=503, for_seconds=outage)
        started = time.monotonic()
        scores: dict[str, int] = {}
        await submit_open(http, cluster, tenant, scores, random.Random(9))
        assert len(scores) == 40
        age = 0.0
        while time.monotonic() - started < outage * 0.8:
            metrics = (await http.get(f"{cluster.a}/metrics")).text
            ages = [float(line.split()[-1]) for line in metrics.splitlines() if line.startswith(OLDEST)]
            age = max([age, *ages])
            await asyncio.sleep(2)
        await fault(http, cluster, target=target, action="latency", latency_ms=300, for_seconds=outage * 2)
        deadline = time.monotonic() + outage * 3 + 60
        done: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            state = (await http.get(f"{cluster.sandbox}/_sandbox/state")).json()
            done = [o for o in state["orders"] if o["integration_id"] == integration and o["status"] == "COMPLETED"]
            if len(done) == len(scores):
                break
            await asyncio.sleep(2)
    assert {o["id"]: o["result"]["score"] for o in done} == scores
    busy, dead = await drained(cluster)
    assert (busy, dead) == (0, 0)
    assert age > 0  # the stuck write-backs were visible to an alert on the oldest due job's age
    print(f"outage: {outage:.0f} s of 503s; every result arrived {time.monotonic() - started:.0f} s after it began")
