"""The Kombo client's error policy, one response shape at a time (httpx.MockTransport: a unit test of one client)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from adapters.kombo_client import KomboClient
from core.errors import KomboError
from core.kombo import Package, PackageType, PutPackagesRequest
from jobs.retry_policy import Outcome, classify

pytestmark = pytest.mark.anyio
REQUEST = PutPackagesRequest(packages=(Package(id="p", type=PackageType.SKILLS_TEST, name="P", description=""),))


def client_for(handler: Callable[[httpx.Request], httpx.Response]) -> KomboClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return KomboClient(http, base_url="https://kombo.test/v1", api_key="key-1")


def envelope(code: str | None, message: str = "m") -> dict[str, object]:
    return {"status": "error", "error": {"code": code, "title": None, "message": message, "log_url": "https://l/1"}}


async def test_success_sends_key_and_integration_and_returns_warnings() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"status": "success", "data": {}, "warnings": [{"message": "w1"}]})

    warnings = await client_for(handler).put_packages("sandbox:abc", REQUEST)
    assert [w.message for w in warnings] == ["w1"]
    assert seen[0].headers["authorization"] == "Bearer key-1"
    assert seen[0].headers["x-integration-id"] == "sandbox:abc"
    assert seen[0].url == "https://kombo.test/v1/assessment/packages"


@pytest.mark.parametrize(
    ("status", "body", "headers", "outcome", "retry_after"),
    [
        (429, envelope("PLATFORM.RATE_LIMIT_EXCEEDED"), {"ratelimit-reset": "57"}, Outcome.RETRY, 57.0),
        (429, envelope("REMOTE.RATE_LIMIT_EXCEEDED"), {"retry-after": "3"}, Outcome.RETRY, 3.0),
        (503, envelope("REMOTE.SERVICE_UNAVAILABLE"), {}, Outcome.RETRY, None),
        (500, envelope("PLATFORM.UNKNOWN_ERROR"), {}, Outcome.RETRY, None),
        (502, "<html>Bad Gateway</html>", {"content-type": "text/html"}, Outcome.RETRY, None),
        (503, "", {}, Outcome.RETRY, None),
        (403, envelope("INTEGRATION.INACTIVE"), {}, Outcome.PARK, None),
        (401, envelope("INTEGRATION.AUTHENTICATION_INVALID"), {}, Outcome.PARK, None),
        (400, envelope("PLATFORM.INPUT_INVALID"), {}, Outcome.DEAD, None),
        (400, envelope("REMOTE.INPUT_INVALID"), {}, Outcome.DEAD, None),
        (409, envelope("INTEGRATION.SETUP_INCOMPLETE"), {}, Outcome.DEAD, None),
        (418, envelope("FUTURE.SOMETHING_NEW"), {}, Outcome.DEAD, None),
        (400, envelope(None, "minimal form"), {}, Outcome.DEAD, None),
    ],
)
async def test_errors_are_classified_by_code(
    status: int, body: object, headers: dict[str, str], outcome: Outcome, retry_after: float | None
) -> None:
    def handler(_request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    with pytest.raises(KomboError) as caught:
        await client_for(handler).put_packages("sandbox:abc", REQUEST)
    assert classify(caught.value) == outcome
    assert caught.value.retry_after_s == retry_after
    assert caught.value.http_status == status


async def test_timeouts_and_refused_connections_are_retryable() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    for handler in (timeout, refused):
        with pytest.raises(KomboError) as caught:
            await client_for(handler).put_packages("sandbox:abc", REQUEST)
        assert classify(caught.value) == Outcome.RETRY


async def test_a_success_that_is_not_kombos_envelope_is_retryable() -> None:
    with pytest.raises(KomboError) as caught:
        await client_for(lambda _r: httpx.Response(200, text="<html>captive portal</html>")).put_packages(
            "sandbox:abc", REQUEST
        )
    assert caught.value.retryable
