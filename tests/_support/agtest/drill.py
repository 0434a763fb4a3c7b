"""What every fault drill shares: a cluster of real processes on a PostgreSQL server of its own, and a client that
behaves as the vendor's platform does.

A new drill file imports the fixtures and helpers it uses::

    from agtest.drill import AUTH, PACKAGE, Cluster, cluster, drill_client, drill_postgres

    pytestmark = [pytest.mark.drill, pytest.mark.postgres, pytest.mark.anyio]

    async def test_something(cluster: Cluster) -> None:
        async with drill_client() as http:
            page = await http.get(f"{cluster.b}/v1/tenants", headers=AUTH)  # 503/429 waited out, counted
        print(f"drill: client {figures(http.tally)}")

Processes: the Kombo sandbox, two ``serve`` replicas on one database (Kombo's webhooks go to replica A, the
vendor's platform talks to replica B) and two ``worker`` processes, all on a throwaway PostgreSQL server
(``agtest.private_postgres``) that ``Cluster.restart_postgres`` may restart under load.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from agtest import postgres
from agtest.private_postgres import PrivatePostgres, private_postgres, unavailable
from agtest.servers import free_ports
from bench.client import PatientClient, figures

__all__ = [
    "ADMIN",
    "API_KEY",
    "ASSESSGATE",
    "AUTH",
    "PACKAGE",
    "WEBHOOK_SECRET",
    "Cluster",
    "PatientClient",
    "cluster",
    "drill_client",
    "drill_postgres",
    "fault",
    "figures",
    "paced",
    "wait_up",
]

ASSESSGATE = str(Path(os.environ.get("VIRTUAL_ENV", ".venv")) / "bin" / "assessgate")
ADMIN = "drill-admin-token-0123456789"
AUTH = {"authorization": f"Bearer {ADMIN}"}
API_KEY, WEBHOOK_SECRET = "drill-sandbox-key", "drill-webhook-secret"
PACKAGE = {"id": "pkg-drill", "type": "SKILLS_TEST", "name": "Drill", "description": ""}
#: How long a process may take to answer after its start, on a loaded machine.
UP_TIMEOUT_S = 90


@dataclass
class Cluster:
    env: dict[str, str]
    sandbox: str
    a: str
    b: str
    postgres: PrivatePostgres
    procs: dict[str, subprocess.Popen[bytes]]
    logs: Path
    #: PostgreSQL restarts under way or done (the drill waits for them before its checker runs).
    restarts: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def database_url(self) -> str:
        return self.env["ASSESSGATE_DATABASE_URL"]

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        # Each process's output (errors only: ASSESSGATE_LOG_LEVEL=error) goes to a file, so a 500 the drill sees
        # can be traced to its exception (``errors``).
        with (self.logs / f"{name}.log").open("ab") as log:
            self.procs[name] = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)

    def errors(self, limit: int = 4000) -> str:
        """The error lines the processes logged (the tail of each), for an assertion's message."""
        found = []
        for path in sorted(self.logs.glob("*.log")):
            lines = [line for line in path.read_text(errors="replace").splitlines() if '"level": "error"' in line]
            found += [f"{path.stem}: {line[:limit]}" for line in lines[-3:]]
        return "\n".join(found)

    def kill(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait()

    def restart_postgres(self) -> None:
        """Restart the drill's own PostgreSQL server in the background, under load (never the shared one)."""
        self.restarts.append(self.postgres.restart())

    def wait_for_restarts(self) -> None:
        for restart in self.restarts:
            assert restart.wait(timeout=UP_TIMEOUT_S + 60) == 0, f"PostgreSQL restart failed: {self.postgres.log}"


def wait_up(url: str) -> None:
    deadline = time.monotonic() + UP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


@pytest.fixture
def drill_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server of this drill's own (skipped, or failed under CI, where none can be made)."""
    if (problem := unavailable()) is not None:
        if postgres.in_ci():
            pytest.fail(f"CI=true requires the drills' private PostgreSQL: {problem}")
        pytest.skip(f"drill skipped: {problem}")
    with private_postgres() as server:
        yield server


async def _create_database(server: PrivatePostgres, name: str) -> str:
    conn = await asyncpg.connect(server.url(), timeout=30)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return server.url(name)


@pytest.fixture
def cluster(drill_postgres: PrivatePostgres, tmp_path: Path) -> Iterator[Cluster]:
    database_url = asyncio.run(_create_database(drill_postgres, "assessgate"))
    sandbox_port, a_port, b_port = free_ports(3)
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
        postgres=drill_postgres,
        procs={},
        logs=tmp_path,
    )
    sandbox = [ASSESSGATE, "sandbox", "serve", "--port", str(sandbox_port), "--api-key", API_KEY]
    sandbox += ["--webhook-url", f"{found.a}/kombo/webhooks", "--webhook-secret", WEBHOOK_SECRET]
    found.start("sandbox", sandbox, dict(os.environ))
    found.start("a", [ASSESSGATE, "serve"], {**env, "ASSESSGATE_PORT": str(a_port)})
    found.start("b", [ASSESSGATE, "serve"], {**env, "ASSESSGATE_PORT": str(b_port)})
    for n in (1, 2):
        found.start(f"worker{n}", [ASSESSGATE, "worker"], env)
    try:
        for url in (f"{found.sandbox}/_sandbox/faults", f"{found.a}/health", f"{found.b}/health"):
            wait_up(url)
        yield found
    finally:
        for restart in found.restarts:  # a restart still running would start the server again after its stop
            restart.wait(timeout=UP_TIMEOUT_S + 60)
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


#: Shorter than the 5 s after which uvicorn closes an idle connection: with equal timeouts a request sent on a
#: connection the server is closing at that moment fails with ReadError (a race a loaded machine makes common).
KEEPALIVE_EXPIRY_S = 2.0


@asynccontextmanager
async def drill_client(*, max_connections: int = 100) -> AsyncIterator[PatientClient]:
    """The vendor's platform (and the test's hand on the sandbox): waits out 503/429 as ``Retry-After`` says,
    retries transport errors with backoff, and counts both in ``.tally`` for the drill's figures."""
    limits = httpx.Limits(max_connections=max_connections, keepalive_expiry=KEEPALIVE_EXPIRY_S)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        yield PatientClient(http)


async def fault(http: PatientClient, cluster: Cluster, **rule: Any) -> None:
    (await http.post(f"{cluster.sandbox}/_sandbox/faults", json=rule)).raise_for_status()


@dataclass(frozen=True)
class Sent:
    count: int
    late: int  #: requests that left more than a second after their time (the sender fell behind)
    elapsed_s: float


async def paced(
    send: Callable[[int], Awaitable[None]],
    rate: float,
    seconds: float,
    in_flight: int,
    *,
    every_10_s: Callable[[], None] = lambda: None,
) -> Sent:
    """Open-loop load as a real platform sends it: request ``i`` is due at ``i / rate`` s, from a pool of at most
    ``in_flight`` requests awaiting an answer; sending stops after ``seconds``, then every answer is awaited.

    When the machine serves less than ``rate`` (a loaded CI machine), the sender falls behind and counts it,
    instead of queueing thousands of requests in its own connection pool (which then measures the client's
    CPU, not the gateway)."""
    slots = asyncio.Semaphore(in_flight)
    tasks: list[asyncio.Task[None]] = []
    late = 0

    async def one(i: int) -> None:
        try:
            await send(i)
        finally:
            slots.release()

    start = sample = time.perf_counter()
    i = 0
    while i < int(rate * seconds) and time.perf_counter() - start < seconds:
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await slots.acquire()
        late += time.perf_counter() - (start + i / rate) > 1
        tasks.append(asyncio.create_task(one(i)))
        if time.perf_counter() >= sample:
            every_10_s()
            sample += 10
        i += 1
    await asyncio.gather(*tasks)
    return Sent(count=i, late=late, elapsed_s=time.perf_counter() - start)
