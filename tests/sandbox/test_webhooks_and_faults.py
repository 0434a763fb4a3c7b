"""Webhooks signed like Kombo's and the replies honoured; faults injected per endpoint and per webhook."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from litestar import Litestar, Request, post

from agtest import FIXTURES
from agtest.sandbox_support import API_KEY, SandboxHandle, verify
from agtest.servers import serve
from core.kombo import AssessmentOrderReceived, parse_event, signature
from sandbox.faults import Faults
from sandbox.settings import SandboxSettings
from sandbox.state import SandboxState
from sandbox.webhook_sender import WebhookSender


def test_order_webhooks_are_signed_and_parse_with_core(sandbox: SandboxHandle) -> None:
    integration = sandbox.new_integration(origin_id="tenant-9")
    order = sandbox.place_order(integration, "pkg-java")
    created, _, created_raw = sandbox.receiver.received[0]
    event, headers, raw = sandbox.receiver.received[1]
    verify(raw, headers)
    verify(created_raw, sandbox.receiver.received[0][1])
    parsed = parse_event(raw)
    assert isinstance(parsed, AssessmentOrderReceived)
    assert parsed.data.candidate.email == "cand@example.org"
    assert event["data"]["id"] == order["id"]
    assert event["data"]["integration_id"] == integration
    assert set(event["data"]) == {"id", "package_id", "status", "integration_id", "candidate", "application", "job"}
    assert set(event["data"]["candidate"]) == {"remote_id", "email", "first_name", "last_name", "phone"}
    assert created["data"]["end_user"]["origin_id"] == "tenant-9"
    assert headers["content-type"] == "application/json"


@pytest.mark.anyio
async def test_the_sandbox_signs_the_contracts_v3_bytes_to_the_v3_signature() -> None:
    body = (FIXTURES / "kombo" / "signature_v3_body.bin").read_bytes()
    seen: list[str] = []

    @post("/hook", status_code=200)
    async def hook(request: Request[Any, Any, Any]) -> dict[str, str]:
        seen.append(request.headers[signature.HEADER.lower()])
        return {}

    with serve(Litestar([hook])) as url:
        settings = SandboxSettings(api_key="k", webhook_url=f"{url}/hook", webhook_secret="whsec_demo_7f3K9qLmZ2")
        async with httpx.AsyncClient() as client:
            await WebhookSender(settings, SandboxState(), Faults(), client).deliver(
                body, "assessment:order-received", None
            )
    assert seen == ["-ZReg0H0-npWxslc3jSHqhT_ktMgd3h5cDrX6cFtZUg"]


def test_a_422_with_a_message_rejects_the_order(sandbox: SandboxHandle) -> None:
    integration = sandbox.new_integration()
    sandbox.receiver.replies["pkg-nope"] = (422, {"message": "This package is not part of your plan."})
    order = sandbox.place_order(integration, "pkg-nope")
    assert order["status"] == "REJECTED"
    assert order["rejection_message"] == "This package is not part of your plan."


@pytest.mark.parametrize(
    ("status", "body"),
    [(422, {"error": "no message key"}), (422, "not json"), (500, {"message": "x"}), (404, {})],
)
def test_any_other_failure_leaves_the_order_open(sandbox: SandboxHandle, status: int, body: object) -> None:
    integration = sandbox.new_integration()
    sandbox.receiver.replies["pkg-1"] = (status, body)
    order = sandbox.place_order(integration, "pkg-1")
    assert order["status"] == "OPEN"
    assert order["rejection_message"] is None


def test_inline_orders_record_the_assessment_url(sandbox: SandboxHandle) -> None:
    integration = sandbox.new_integration()
    sandbox.receiver.replies["pkg-inline"] = (200, {"assessment_url": "https://vendor.example/start/abc"})
    order = sandbox.place_order(integration, "pkg-inline", inline=True)
    assert sandbox.receiver.events()[-1]["type"] == "inline-assessment:order-received"
    assert order["assessment_url"] == "https://vendor.example/start/abc"
    assert order["status"] == "OPEN"


def test_an_unreachable_webhook_url_leaves_the_order_open_and_listed() -> None:
    from agtest.servers import free_port
    from sandbox.app import create_sandbox_app

    settings = SandboxSettings(api_key=API_KEY, webhook_url=f"http://127.0.0.1:{free_port()}/hook", webhook_secret="s")
    with serve(create_sandbox_app(settings)) as url, httpx.Client(base_url=url) as control:
        integration = control.post("/_sandbox/integrations", json={}).json()["id"]
        order = control.post(
            f"/_sandbox/integrations/{integration}/orders",
            json={"package_id": "p", "candidate": {"email": "a@example.org"}},
        ).json()
        listed = httpx.get(
            f"{url}/v1/assessment/orders",
            params={"statuses": "OPEN"},
            headers={"Authorization": f"Bearer {API_KEY}", "X-Integration-Id": integration},
        ).json()
        deliveries = control.get("/_sandbox/state").json()["deliveries"]
    assert order["status"] == "OPEN"
    assert [o["id"] for o in listed["data"]["results"]] == [order["id"]]
    assert deliveries[-1]["outcome"] == "failed"


def test_fail_the_next_n_calls_with_a_status_and_code(sandbox: SandboxHandle) -> None:
    integration = sandbox.new_integration()
    sandbox.control.post(
        "/_sandbox/faults",
        json={
            "target": "GET /assessment/packages",
            "status": 429,
            "code": "PLATFORM.RATE_LIMIT_EXCEEDED",
            "times": 2,
        },
    ).raise_for_status()
    headers = {"Authorization": f"Bearer {API_KEY}", "X-Integration-Id": integration}
    with httpx.Client(base_url=sandbox.api_url, headers=headers) as client:
        answers = [client.get("/assessment/packages") for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].json()["error"]["code"] == "PLATFORM.RATE_LIMIT_EXCEEDED"
    assert answers[0].headers["ratelimit-remaining"] == "0"
    assert answers[0].headers["ratelimit-reset"] == "1"


def test_fail_for_a_duration_then_recover(sandbox: SandboxHandle) -> None:
    integration = sandbox.new_integration()
    sandbox.control.post(
        "/_sandbox/faults",
        json={
            "target": "GET /assessment/packages",
            "status": 503,
            "code": "REMOTE.SERVICE_UNAVAILABLE",
            "for_seconds": 0.5,
        },
    ).raise_for_status()
    headers = {"Authorization": f"Bearer {API_KEY}", "X-Integration-Id": integration}
    with httpx.Client(base_url=sandbox.api_url, headers=headers) as client:
        statuses = [client.get("/assessment/packages").status_code for _ in range(3)]
        deadline = time.monotonic() + 10
        while client.get("/assessment/packages").status_code == 503:
            assert time.monotonic() < deadline
    assert statuses == [503, 503, 503]


def test_latency_is_added(sandbox: SandboxHandle) -> None:
    sandbox.control.post(
        "/_sandbox/faults", json={"target": "GET /check-api-key", "action": "latency", "latency_ms": 300}
    ).raise_for_status()
    with httpx.Client(base_url=sandbox.api_url, headers={"Authorization": f"Bearer {API_KEY}"}) as client:
        started = time.monotonic()
        assert client.get("/check-api-key").status_code == 200
        assert time.monotonic() - started >= 0.3


def test_webhooks_can_be_dropped_and_duplicated(sandbox: SandboxHandle) -> None:
    integration = sandbox.new_integration()
    before = len(sandbox.receiver.received)
    sandbox.control.post(
        "/_sandbox/faults", json={"target": "webhook:assessment:order-received", "action": "drop"}
    ).raise_for_status()
    dropped = sandbox.place_order(integration)
    sandbox.control.post(
        "/_sandbox/faults", json={"target": "webhook:assessment:order-received", "action": "duplicate"}
    ).raise_for_status()
    duplicated = sandbox.place_order(integration)
    orders = [e["data"]["id"] for e in sandbox.receiver.events("assessment:order-received")]
    assert dropped["id"] not in orders
    assert orders.count(duplicated["id"]) == 2
    assert len(sandbox.receiver.received) == before + 2
    events = [e for e in sandbox.receiver.events("assessment:order-received") if e["data"]["id"] == duplicated["id"]]
    assert events[0]["id"] == events[1]["id"]  # a redelivery of the same event


def test_delayed_webhooks_arrive_out_of_order(sandbox: SandboxHandle) -> None:
    integration = sandbox.new_integration()
    sandbox.control.post(
        "/_sandbox/faults", json={"target": "webhook:assessment:order-received", "action": "delay", "latency_ms": 300}
    ).raise_for_status()
    first = sandbox.place_order(integration)
    second = sandbox.place_order(integration)
    sandbox.control.post("/_sandbox/webhooks/drain").raise_for_status()
    arrived = [e["data"]["id"] for e in sandbox.receiver.events("assessment:order-received")]
    assert arrived == [second["id"], first["id"]]


@pytest.mark.anyio
async def test_a_webhook_the_receiver_could_not_take_yet_is_retried_until_it_arrives() -> None:
    """The mounted sandbox sends integration-created at start, before the gateway listens: it retries."""
    from agtest.servers import free_port

    arrived: list[bytes] = []

    @post("/hook", status_code=200)
    async def hook(request: Request[Any, Any, Any]) -> dict[str, str]:
        arrived.append(await request.body())
        return {}

    port = free_port()  # nothing listens there yet
    settings = SandboxSettings(
        api_key="k",
        webhook_url=f"http://127.0.0.1:{port}/hook",
        webhook_secret="s",
        webhook_retry_delays_s=(0.2, 0.4, 0.8, 1.6, 3.2),
    )
    state = SandboxState()
    async with httpx.AsyncClient() as client:
        sender = WebhookSender(settings, state, Faults(), client)
        await sender.send("integration-created", {"id": "sandbox:x"})
        assert [d.outcome for d in state.deliveries] == ["retrying"]
        with serve(Litestar([hook]), port):  # the receiver comes up; the sender's next attempt finds it
            await sender.drain()
    assert len(arrived) == 1
    assert state.deliveries[-1].outcome == "delivered"
    assert "failed" not in [d.outcome for d in state.deliveries]


def test_a_sandbox_stops_promptly_while_its_webhook_retries_wait() -> None:
    """Seen in CI: the mounted sandbox's shutdown waited for its whole retry schedule (15 s) to the gateway that
    was shutting down beside it, and `assessgate demo` outlived its test's deadline. Waiting retries are dropped."""
    from agtest.servers import free_port
    from sandbox.app import create_sandbox_app

    dead = f"http://127.0.0.1:{free_port()}/hook"
    settings = SandboxSettings(api_key=API_KEY, webhook_url=dead, webhook_secret="s", webhook_retry_delays_s=(30, 60))
    with serve(create_sandbox_app(settings)) as url, httpx.Client(base_url=url) as control:
        integration = control.post("/_sandbox/integrations", json={}).json()["id"]
        control.post(
            f"/_sandbox/integrations/{integration}/orders", json={"package_id": "p", "candidate": {"email": "a@b.org"}}
        )
        assert control.get("/_sandbox/state").json()["deliveries"][-1]["outcome"] == "retrying"
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 10  # the first retry alone would have waited 30 s
