"""Finding 7: server-side fetches of tenant-supplied URLs pass the outbound policy.

In sandbox mode the Kombo sandbox runs inside the gateway and downloads a result's ``attachments[].data_url``
itself, so a tenant could point it at loopback ports, the cloud metadata address or the gateway's own admin
API and read the answer's status off the order's timeline (a port scanner). Now such a download is refused
before anything is sent, the timeline says only that the outbound policy refused it, and the gateway's own
signed file links still work. A URL that is not http(s) with a host is refused when the result is submitted.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agtest.sandbox_support import sandbox_mode_settings
from agtest.servers import free_port, serve
from agtest.stack import run_jobs
from agtest.sync_jobs import on_loop
from api.app import create_app
from storage.migrations import migrate

ADMIN = {"authorization": "Bearer test-admin-token-0123456789"}


class Listener:
    """A TCP port that counts the connections made to it (a stand-in for a database or an internal service)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.sock.settimeout(0.2)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.close()


def place(http: httpx.Client, integration: str) -> str:
    """An order placed on the ATS (the sandbox); returns Kombo's order id."""
    placed = http.post(
        f"/sandbox/_sandbox/integrations/{integration}/orders",
        json={"package_id": "p1", "candidate": {"email": "a@example.org"}},
    )
    order_id: str = placed.json()["id"]
    return order_id


def result(data_url: str | None = None, upload_id: str | None = None) -> dict[str, Any]:
    attachment = {"name": "report.pdf", "content_type": "application/pdf"}
    attachment.update({"data_url": data_url} if data_url else {"upload_id": upload_id or ""})
    return {
        "status": "COMPLETED",
        "result_url": "https://vendor.example/r/1",
        "completed_at": "2026-01-01T00:00:00Z",
        "attachments": [attachment],
    }


def test_tenant_urls_cannot_reach_internal_addresses(database_url: str, tmp_path: Path, listener: Listener) -> None:
    port = free_port()
    settings = sandbox_mode_settings(database_url, tmp_path, port)

    on_loop(migrate, settings)
    with serve(create_app(settings), port) as url, httpx.Client(base_url=url, timeout=30) as http:
        tenant = http.post("/v1/tenants", json={"name": "T"}, headers=ADMIN).json()["id"]
        created = http.post(f"/v1/tenants/{tenant}/api-keys", json={}, headers=ADMIN).json()
        key = {"authorization": f"Bearer {created['key']}"}
        integration = http.post("/sandbox/_sandbox/integrations", json={"origin_id": tenant}).json()["id"]
        packages = [{"id": "p1", "type": "SKILLS_TEST", "name": "P", "description": ""}]
        assert http.put(f"/v1/tenants/{tenant}/packages", json={"packages": packages}, headers=ADMIN).is_success
        on_loop(lambda db: run_jobs(db, settings), settings)  # the catalog push
        targets = {
            "a local port": f"http://127.0.0.1:{listener.port}/dump",
            "cloud metadata": "http://169.254.169.254/latest/meta-data/",
            "the gateway's admin API": f"{url}/v1/jobs",
            "a name for loopback": f"http://localhost:{listener.port}/",
            "IPv4 in IPv6": f"http://[::ffff:127.0.0.1]:{listener.port}/",
        }
        for what, target in targets.items():
            order = place(http, integration)  # order routes take Kombo's id as it is
            submitted = http.put(f"/v1/tenants/{tenant}/orders/{order}/result", json=result(target), headers=key)
            assert submitted.status_code == 202, (what, submitted.text)
            on_loop(lambda db: run_jobs(db, settings), settings)
            timeline = http.get(f"/v1/tenants/{tenant}/orders/{order}", headers=key).json()["timeline"]
            [failure] = [e["detail"]["error"] for e in timeline if e["kind"] == "write_back.failed"]
            assert "could not be downloaded: refused by the outbound policy." in failure, (what, failure)
            for told in (
                "HTTP",
                "Error",
                "Timeout",
                "Unauthorized",
                "Forbidden",
                "Not Found",
            ):  # nothing of the target's
                assert told not in failure, (what, told, failure)
        assert listener.accepted == 0  # nothing was ever sent there

        # The gateway's own signed file links are what the policy lets through.
        order = place(http, integration)  # order routes take Kombo's id as it is
        upload = http.post(
            f"/v1/tenants/{tenant}/uploads",
            params={"name": "report.pdf"},
            content=b"%PDF-1.4 fine",
            headers={**key, "content-type": "application/pdf"},
        ).json()["id"]
        assert (
            http.put(
                f"/v1/tenants/{tenant}/orders/{order}/result", json=result(upload_id=upload), headers=key
            ).status_code
            == 202
        )
        on_loop(lambda db: run_jobs(db, settings), settings)
        timeline = http.get(f"/v1/tenants/{tenant}/orders/{order}", headers=key).json()["timeline"]
        assert "written_back" in [e["kind"] for e in timeline], timeline

        # Not http(s) with a host: refused at the door, naming the field.
        for bad in ("httpx://x.example/a", "http://", "file:///etc/passwd", "javascript:alert(1)"):
            refused = http.put(f"/v1/tenants/{tenant}/orders/{order}/result", json=result(bad), headers=key)
            assert refused.status_code == 422, (bad, refused.text)
            assert "data_url" in refused.text
