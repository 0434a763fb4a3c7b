"""A running sandbox (real HTTP on loopback) and a recording webhook receiver standing in for the gateway.

The fixtures ``receiver`` and ``sandbox`` are registered by ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar, Request, Response, post

from adapters.http import tls_context
from agtest.servers import free_port, serve
from api.bootstrap import with_sandbox
from core.kombo import signature
from core.settings import Settings, load_settings
from sandbox.app import create_sandbox_app
from sandbox.settings import SandboxSettings

API_KEY = "sandbox-test-key"
WEBHOOK_SECRET = "whsec-sandbox-test"


@dataclass
class Receiver:
    """Records every webhook; answers with ``reply(event)`` (default 200 ``{}``)."""

    received: list[tuple[dict[str, Any], dict[str, str], bytes]] = field(default_factory=list)
    replies: dict[str, tuple[int, Any]] = field(default_factory=dict)

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        return [e for e, _, _ in self.received if event_type is None or e["type"] == event_type]


@dataclass
class SandboxHandle:
    url: str
    api_url: str
    control: httpx.Client
    receiver: Receiver
    settings: SandboxSettings

    def new_integration(self, origin_id: str | None = None) -> str:
        response = self.control.post(
            "/_sandbox/integrations", json={"organization_name": "Acme", "origin_id": origin_id}
        )
        response.raise_for_status()
        integration_id: str = response.json()["id"]
        return integration_id

    def place_order(self, integration_id: str, package_id: str = "pkg-1", **extra: Any) -> dict[str, Any]:
        body = {"package_id": package_id, "candidate": {"email": "cand@example.org", "first_name": "Ada"}, **extra}
        response = self.control.post(f"/_sandbox/integrations/{integration_id}/orders", json=body)
        response.raise_for_status()
        order: dict[str, Any] = response.json()
        return order


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()

    @post("/hook", status_code=200)
    async def hook(request: Request[Any, Any, Any]) -> Response[bytes]:
        raw = await request.body()
        event = msgspec.json.decode(raw)
        state.received.append((event, dict(request.headers), raw))
        key = event["data"].get("package_id") or event["type"]
        status, body = state.replies.get(key, (200, {}))
        return Response(msgspec.json.encode(body), status_code=status, media_type="application/json")

    with serve(Litestar([hook])) as url:
        yield state, f"{url}/hook"


@pytest.fixture
def sandbox(receiver: tuple[Receiver, str]) -> Iterator[SandboxHandle]:
    state, hook_url = receiver
    port = free_port()
    settings = SandboxSettings(
        api_key=API_KEY, webhook_url=hook_url, webhook_secret=WEBHOOK_SECRET, public_url=f"http://127.0.0.1:{port}"
    )
    with (
        serve(create_sandbox_app(settings), port) as url,
        httpx.Client(base_url=url, timeout=30, verify=tls_context()) as control,
    ):
        yield SandboxHandle(url=url, api_url=f"{url}/v1", control=control, receiver=state, settings=settings)


def verify(raw: bytes, headers: dict[str, str]) -> None:
    signature.verify([WEBHOOK_SECRET], raw, headers.get("x-kombo-signature"))


def sandbox_mode_settings(database_url: str, tmp_path: Path, port: int) -> Settings:
    """The gateway in sandbox mode (no Kombo key: the local Kombo is mounted at /sandbox) on ``port``, with no
    embedded worker (a test runs the jobs it wants)."""
    base = load_settings(
        {
            "ASSESSGATE_DATABASE_URL": database_url,
            "ASSESSGATE_DATA_DIR": str(tmp_path / "data"),
            "ASSESSGATE_ADMIN_TOKEN": "test-admin-token-0123456789",
            "ASSESSGATE_SECRET_KEYS": "aW5zZWN1cmUtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2Q=",
            "ASSESSGATE_PORT": str(port),
        }
    )
    return with_sandbox(msgspec.structs.replace(base, embedded_worker="off"))
