"""The ``assessgate`` command as a user runs it: migrate, serve, and configuration errors."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

ASSESSGATE = str(Path(sys.executable).with_name("assessgate"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def env_for(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSESSGATE_")}
    env.update(ASSESSGATE_DATABASE_URL=database_url, ASSESSGATE_DATA_DIR=str(data_dir), **extra)
    return env


def wait_for_health(url: str, process: subprocess.Popen[str], deadline_s: float = 30) -> httpx.Response:
    """Poll until the server answers (or exits): a readiness condition, not a fixed sleep."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}")
        try:
            return httpx.get(url, timeout=1)
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("server did not answer in time")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_migrate_then_serve(database_url: str, data_dir: Path) -> None:
    env = env_for(database_url, data_dir)
    check = subprocess.run([ASSESSGATE, "migrate", "--check"], env=env, capture_output=True, text=True, check=False)
    assert check.returncode == 1
    assert "0001_tenants" in check.stdout
    first = subprocess.run([ASSESSGATE, "migrate"], env=env, capture_output=True, text=True, check=True)
    assert "applied 0001_tenants" in first.stdout
    again = subprocess.run([ASSESSGATE, "migrate"], env=env, capture_output=True, text=True, check=True)
    assert "0 step(s) applied" in again.stdout

    port = free_port()
    with serving(env, port) as process:
        health = wait_for_health(f"http://127.0.0.1:{port}/health", process)
        ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5)
    assert health.status_code == 200
    assert ready.status_code == 200


def test_development_secrets_are_generated_once_and_never_logged(database_url: str, data_dir: Path) -> None:
    env = env_for(database_url, data_dir)
    port = free_port()
    first = serving(env, port)
    with first as process:
        wait_for_health(f"http://127.0.0.1:{port}/health", process)
    output = first.output
    token = (data_dir / "admin-token").read_text().strip()
    keys = (data_dir / "secret-keys").read_text().strip()
    assert (data_dir / "admin-token").stat().st_mode & 0o777 == 0o600
    assert "generated_development_secret" in output
    assert "ASSESSGATE_ADMIN_TOKEN" in output
    assert token not in output
    assert keys not in output
    port = free_port()  # not the first's: freed by its exit, it may have been handed to another process since
    second = serving(env, port)
    with second as process:  # a second start reuses them silently
        wait_for_health(f"http://127.0.0.1:{port}/health", process)
    assert (data_dir / "admin-token").read_text().strip() == token
    assert "generated_development_secret" not in second.output


@pytest.mark.parametrize(
    ("variable", "value"), [("ASSESSGATE_PORT", "http"), ("ASSESSGATE_DATABASE_URL", "oracle://db")]
)
def test_bad_configuration_fails_at_start_naming_the_variable(tmp_path: Path, variable: str, value: str) -> None:
    env = env_for(f"sqlite:///{tmp_path / 'x.db'}", tmp_path)
    env[variable] = value
    for command in (["serve"], ["migrate"]):
        result = subprocess.run([ASSESSGATE, *command], env=env, capture_output=True, text=True, check=False)
        assert result.returncode != 0
        assert variable in result.stderr


def test_keys_generate_prints_a_usable_fernet_key(tmp_path: Path) -> None:
    key = subprocess.run([ASSESSGATE, "keys", "generate"], capture_output=True, text=True, check=True).stdout.strip()
    env = env_for(f"sqlite:///{tmp_path / 'x.db'}", tmp_path, ASSESSGATE_SECRET_KEYS=key)
    assert subprocess.run([ASSESSGATE, "migrate"], env=env, capture_output=True, check=False).returncode == 0


class serving:  # noqa: N801 - reads as a context manager verb
    """Run ``assessgate serve`` for the block; afterwards ``output`` holds everything it printed."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.args = [ASSESSGATE, "serve", "--port", str(port)]
        self.env = env
        self.output = ""

    def __enter__(self) -> subprocess.Popen[str]:
        self.process = subprocess.Popen(
            self.args, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        return self.process

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.output, _ = self.process.communicate(timeout=15)


def enqueue_jobs(database_url: str, kinds: list[str]) -> list[str]:
    import asyncio

    import msgspec

    from core.settings import DatabaseSettings
    from jobs.outbox import Outbox
    from storage.database import Database
    from storage.migrations import migrate

    class Empty(msgspec.Struct):
        pass

    async def run() -> list[str]:
        db = Database(DatabaseSettings(url=database_url))
        await db.start()
        await migrate(db)
        ids = [await Outbox(db).enqueue(kind, Empty(), now_ms=0) for kind in kinds]
        await db.close()
        return [str(i) for i in ids]

    return asyncio.run(run())


def test_jobs_list_discard_and_retry(database_url: str, data_dir: Path) -> None:
    env = env_for(database_url, data_dir)
    first, second, third = enqueue_jobs(database_url, ["alpha", "alpha", "beta"])

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([ASSESSGATE, "jobs", *args], env=env, capture_output=True, text=True, check=False)

    listed = run("list", "--kind", "alpha")
    assert listed.returncode == 0
    assert first in listed.stdout
    assert second in listed.stdout
    assert third not in listed.stdout
    discarded = run("discard", "--all", "--kind", "alpha")
    assert discarded.returncode == 0
    assert "discard: 2 of 2 job(s)" in discarded.stdout
    assert first in run("list", "--state", "dead").stdout
    retried = run("retry", first)
    assert "retry: 1 of 1" in retried.stdout
    refused = run("retry", third)  # queued, not dead or parked
    assert refused.returncode == 1
    assert "not in a state that allows retry" in refused.stderr
    assert run("retry").returncode != 0  # neither ids nor --all


def test_worker_command_runs_jobs_and_stops_on_sigterm(database_url: str, data_dir: Path) -> None:
    import signal

    env = env_for(database_url, data_dir, ASSESSGATE_LOG_FORMAT="json")
    if database_url.startswith("sqlite"):
        refused = subprocess.run([ASSESSGATE, "worker"], env=env, capture_output=True, text=True, check=False)
        assert refused.returncode != 0
        assert "inside `assessgate serve`" in refused.stderr
        return
    [job_id] = enqueue_jobs(database_url, ["outbox.purge"])
    process = subprocess.Popen(
        [ASSESSGATE, "worker", "--concurrency", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        finished = ""
        while job_id not in finished:  # wait for the job's outcome, read through the CLI
            assert time.monotonic() < deadline, "the worker did not process the job"
            time.sleep(0.1)
            finished = subprocess.run(
                [ASSESSGATE, "jobs", "list", "--state", "done"], env=env, capture_output=True, text=True, check=True
            ).stdout
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0
    assert '"event": "worker_stopped"' in output


def test_worker_serves_its_metrics_and_health_on_its_own_port(database_url: str, data_dir: Path) -> None:
    import signal

    port = free_port()
    env = env_for(database_url, data_dir, ASSESSGATE_WORKER_METRICS_PORT=str(port))
    enqueue_jobs(database_url, ["outbox.purge"])  # the periodic purge of the same kind may run beside it
    done = re.compile(r'^assessgate_job_outcomes_total\{kind="outbox.purge",outcome="done"\} [1-9]', re.MULTILINE)
    process = subprocess.Popen(  # on SQLite as an operator may when no serve runs
        [ASSESSGATE, "worker", "--allow-sqlite"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        health = wait_for_health(f"{base}/health", process)
        deadline = time.monotonic() + 30
        metrics = ""
        while not done.search(metrics):
            assert time.monotonic() < deadline, f"the worker's metrics never showed the job done:\n{metrics}"
            time.sleep(0.1)
            metrics = httpx.get(f"{base}/metrics", timeout=5).text
        unknown = httpx.get(f"{base}/v1/tenants", timeout=5)
        posted = httpx.post(f"{base}/metrics", timeout=5)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "process": "worker"}
    # This worker's own counters, the outbox's gauges from the database, and which process answered.
    assert re.search(r'^assessgate_jobs_claimed_total\{kind="outbox.purge"\} [1-9]', metrics, re.MULTILINE)
    assert "assessgate_job_claim_seconds_count " in metrics
    assert re.search(r'^assessgate_jobs\{kind="outbox.purge",state="done"\} [1-9]', metrics, re.MULTILINE)
    # A gauge read from the database: the periodic jobs this worker schedules may be due and not yet claimed.
    assert re.search(r"^assessgate_oldest_due_job_age_seconds \d+(\.\d+)?(e[-+]?\d+)?$", metrics, re.MULTILINE)
    assert 'assessgate_process_info{name="' in metrics
    assert 'role="worker"} 1' in metrics
    assert (unknown.status_code, posted.status_code) == (404, 405)
    assert '"event": "worker_endpoint_listening"' in output


def test_demo_seeds_a_tenant_an_integration_and_a_catalog(database_url: str, data_dir: Path) -> None:
    env = env_for(database_url, data_dir)
    subprocess.run([ASSESSGATE, "migrate"], env=env, capture_output=True, check=True)
    port = free_port()
    demo = serving(env, port)
    demo.args = [ASSESSGATE, "demo", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with demo as process:
        health = wait_for_health(f"{base}/health", process).json()
        admin = {"authorization": f"Bearer {(data_dir / 'admin-token').read_text().strip()}"}
        tenants = httpx.get(f"{base}/v1/tenants", headers=admin, timeout=5).json()["items"]
        deadline = time.monotonic() + 30
        page = ""
        while "demo-java" not in page:  # the embedded worker pushes the catalog to the sandbox
            assert time.monotonic() < deadline, "the demo catalog never reached the sandbox"
            time.sleep(0.1)
            page = httpx.get(f"{base}/sandbox/_sandbox/ui", timeout=5).text
        catalog = httpx.get(f"{base}/v1/tenants/{tenants[0]['id']}/packages", headers=admin, timeout=5).json()
    assert health["mode"] == "sandbox"
    assert [t["name"] for t in tenants] == ["Demo Customer Inc."]
    assert tenants[0]["integration"]["id"].startswith("sandbox:")
    assert catalog["sync_state"] == "in_sync"
    assert f"{base}/sandbox/_sandbox/ui?integration=sandbox:" in demo.output


def test_keys_rotate_reencrypts_under_the_newest_key(database_url: str, data_dir: Path) -> None:
    import asyncio
    import uuid

    from cryptography.fernet import Fernet

    from core.settings import DatabaseSettings
    from storage.database import Database
    from storage.migrations import migrate
    from tenants.repository import TenantRepository
    from tenants.vault import Vault

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()

    async def setup() -> uuid.UUID:
        db = Database(DatabaseSettings(url=database_url))
        await db.start()
        await migrate(db)
        tenant = await TenantRepository(db).create(name="T", external_id=None)
        await Vault(db, [old]).put(tenant.id, "token", "secret-value-1")
        await db.close()
        return tenant.id

    async def read(keys: list[str], tenant_id: uuid.UUID) -> str | None:
        db = Database(DatabaseSettings(url=database_url))
        await db.start()
        try:
            return await Vault(db, keys).get(tenant_id, "token")
        finally:
            await db.close()

    tenant_id = asyncio.run(setup())
    env = env_for(database_url, data_dir, ASSESSGATE_SECRET_KEYS=f"{new},{old}")
    result = subprocess.run([ASSESSGATE, "keys", "rotate"], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "rotated 1 secret(s); 0 left" in result.stdout
    assert asyncio.run(read([new], tenant_id)) == "secret-value-1"


def test_tenants_sync_packages_pushes_every_catalog(database_url: str, data_dir: Path, sandbox: Any) -> None:
    import asyncio

    from agtest.sandbox_support import API_KEY
    from core.catalog import TenantPackage
    from core.kombo import PackageType
    from core.settings import DatabaseSettings
    from storage.database import Database
    from storage.migrations import migrate
    from tenants.catalogs import Catalogs
    from tenants.repository import TenantRepository

    integrations = [sandbox.new_integration(), sandbox.new_integration()]

    async def setup() -> None:
        db = Database(DatabaseSettings(url=database_url))
        await db.start()
        await migrate(db)
        repo, catalogs = TenantRepository(db), Catalogs(db, max_deletion_share=0.5)
        for n, integration in enumerate(integrations):
            tenant = await repo.create(name=f"T{n}", external_id=None)
            await repo.bind_integration(tenant.id, integration)
            package = TenantPackage(id=f"pkg-{n}", type=PackageType.SKILLS_TEST, name=f"P{n}", description="")
            await catalogs.set_desired(tenant.id, [package], confirm_deletions=False, now_ms=0)
        await db.close()

    asyncio.run(setup())
    env = env_for(database_url, data_dir, ASSESSGATE_KOMBO_API_URL=sandbox.api_url, ASSESSGATE_KOMBO_API_KEY=API_KEY)
    result = subprocess.run(
        [ASSESSGATE, "tenants", "sync-packages", "--all"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pushed 2 of 2 catalog(s)" in result.stdout
    for n, integration in enumerate(integrations):
        headers = {"Authorization": f"Bearer {API_KEY}", "X-Integration-Id": integration}
        listed = httpx.get(f"{sandbox.api_url}/assessment/packages", headers=headers).json()["data"]["packages"]
        assert [p["id"] for p in listed] == [f"pkg-{n}"]


def test_orders_reconcile_ingests_what_webhooks_missed(database_url: str, data_dir: Path, sandbox: Any) -> None:
    import asyncio

    from agtest.sandbox_support import API_KEY
    from core.catalog import TenantPackage
    from core.kombo import PackageType
    from core.settings import DatabaseSettings
    from storage.database import Database
    from storage.migrations import migrate
    from tenants.catalogs import Catalogs
    from tenants.repository import TenantRepository

    integration = sandbox.new_integration()
    placed = [sandbox.place_order(integration, "pkg-1")["id"] for _ in range(3)]  # webhooks went elsewhere

    async def setup() -> None:
        db = Database(DatabaseSettings(url=database_url))
        await db.start()
        await migrate(db)
        tenant = await TenantRepository(db).create(name="T", external_id=None)
        await TenantRepository(db).bind_integration(tenant.id, integration)
        package = TenantPackage(id="pkg-1", type=PackageType.SKILLS_TEST, name="P", description="")
        await Catalogs(db, max_deletion_share=0.5).set_desired(tenant.id, [package], confirm_deletions=False, now_ms=0)
        await db.close()

    async def stored() -> list[str]:
        db = Database(DatabaseSettings(url=database_url))
        await db.start()
        rows = await db.fetch("SELECT kombo_order_id FROM assessment_order")
        await db.close()
        return sorted(str(r["kombo_order_id"]) for r in rows)

    asyncio.run(setup())
    env = env_for(database_url, data_dir, ASSESSGATE_KOMBO_API_URL=sandbox.api_url, ASSESSGATE_KOMBO_API_KEY=API_KEY)
    first = subprocess.run([ASSESSGATE, "orders", "reconcile"], env=env, capture_output=True, text=True, check=False)
    again = subprocess.run([ASSESSGATE, "orders", "reconcile"], env=env, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "3 missing order(s) ingested" in first.stdout
    assert "0 missing order(s) ingested" in again.stdout
    assert asyncio.run(stored()) == sorted(placed)


def test_tenant_onboarding_link_issues_a_link_and_audits_it(database_url: str, data_dir: Path) -> None:
    import asyncio
    import uuid

    from core.settings import DatabaseSettings
    from storage.database import Database
    from storage.migrations import migrate
    from tenants.audit import AuditLog
    from tenants.repository import TenantRepository

    async def tenant() -> uuid.UUID:
        db = Database(DatabaseSettings(url=database_url))
        await db.start()
        await migrate(db)
        created = await TenantRepository(db).create(name="Acme", external_id=None)
        await db.close()
        return created.id

    async def audit(tenant_id: uuid.UUID) -> list[tuple[str, str, str | None]]:
        db = Database(DatabaseSettings(url=database_url))
        await db.start()
        entries = await AuditLog(db).of_tenant(tenant_id, limit=10)
        await db.close()
        return [(e.actor, e.action, e.detail) for e in entries]

    tenant_id = asyncio.run(tenant())
    env = env_for(database_url, data_dir, ASSESSGATE_PUBLIC_URL="https://gateway.vendor.example")
    command = [ASSESSGATE, "tenant", "onboarding-link", str(tenant_id), "--email", "it@acme.example"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    link = result.stdout.splitlines()[-1]  # after the log's lines (a development secret generated)
    assert re.fullmatch(r"https://gateway\.vendor\.example/connect/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", link)
    assert "send it to it@acme.example" in result.stderr
    [(actor, action, detail)] = asyncio.run(audit(tenant_id))
    assert (actor, action) == ("cli", "onboarding_link.issued")
    assert detail is not None
    assert detail.endswith("for it@acme.example")
    for wrong, said in ((str(uuid.uuid4()), "no tenant"), ("acme", "is not a tenant id")):
        command = [ASSESSGATE, "tenants", "onboarding-link", wrong, "--email", "it@acme.example"]
        refused = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        assert refused.returncode != 0
        assert said in refused.stderr
