"""The vendor's own platform, standing in for the ``forward`` and ``background_check`` deliveries: a real
HTTP server that verifies each Standard Webhooks signature and records what arrived."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest
from litestar import Litestar, Request, Response, get, post
from litestar.params import FromPath
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from agtest.servers import serve

PLATFORM_SECRET = "whsec_" + base64.b64encode(b"vendor-platform-secret-0123456789").decode()


REPORT_PDF = b"%PDF-1.4\n% a screening report\n%%EOF\n"


@dataclass
class Platform:
    url: str = ""
    #: Where the platform serves its report documents (``{base}/reports/<name>``), fetched by Kombo.
    base: str = ""
    #: Deliveries the platform took (answered 2xx), with their headers.
    deliveries: list[tuple[dict[str, Any], dict[str, str]]] = field(default_factory=list)
    #: Every correctly signed attempt: (event type, webhook-id, the status answered).
    attempts: list[tuple[str, str, int]] = field(default_factory=list)
    #: Answers by event type (status, body); default 200 {"decision": "accept"}.
    replies: dict[str, tuple[int, Any]] = field(default_factory=dict)
    refused_signatures: int = 0
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout_s: float = 10) -> list[dict[str, Any]]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.deliveries) >= count, timeout=timeout_s):
                raise AssertionError(f"expected {count} deliveries, got {len(self.deliveries)}")
            return [event for event, _ in self.deliveries[:count]]


@pytest.fixture
def platform() -> Iterator[Platform]:
    state = Platform()

    @post("/events", status_code=200)
    async def events(request: Request[Any, Any, Any]) -> Response[bytes]:
        raw = await request.body()
        try:
            event = Webhook(PLATFORM_SECRET).verify(raw.decode(), dict(request.headers))
        except WebhookVerificationError:
            state.refused_signatures += 1
            return Response(b'{"error": "bad signature"}', status_code=401, media_type="application/json")
        status, body = state.replies.get(event["type"], (200, {"decision": "accept"}))
        with state._changed:
            state.attempts.append((event["type"], request.headers["webhook-id"], status))
            if status < 300:
                state.deliveries.append((event, dict(request.headers)))
            state._changed.notify_all()
        return Response(msgspec.json.encode(body), status_code=status, media_type="application/json")

    @get("/reports/{name:str}", media_type="application/pdf")
    async def report(name: FromPath[str]) -> bytes:
        del name
        return REPORT_PDF

    with serve(Litestar([events, report])) as url:
        state.url, state.base = f"{url}/events", url
        yield state
