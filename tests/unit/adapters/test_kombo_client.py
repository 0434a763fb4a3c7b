"""The Kombo client's error policy, one response shape at a time (a scripted exchange: a unit test of one client)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from adapters.http_exchange import Deadlines, ExchangeFailed, Reply
from adapters.kombo_client import KomboClient
from core.errors import KomboError
from core.kombo import Package, PackageType, PutPackagesRequest
from jobs.retry_policy import Outcome, classify

pytestmark = pytest.mark.anyio
REQUEST = PutPackagesRequest(packages=(Package(id="p", type=PackageType.SKILLS_TEST, name="P", description=""),))


@dataclass(frozen=True)
class Sent:
    method: str
    url: str
    headers: CIMultiDictProxy[str]
    content: bytes | None


class Scripted:
    """An exchange whose answers ``handler`` gives."""

    def __init__(self, handler: Callable[[Sent], Reply]) -> None:
        self.handler = handler

    async def send(
        self, method: str, url: str, *, headers: Mapping[str, str], content: bytes | None, deadlines: Deadlines
    ) -> Reply:
        return self.handler(Sent(method, url, CIMultiDictProxy(CIMultiDict(headers)), content))

    async def aclose(self) -> None:
        pass


def reply(status: int, body: object = None, *, text: str | None = None, headers: dict[str, str] | None = None) -> Reply:
    content = text.encode() if text is not None else json.dumps(body).encode()
    return Reply(status=status, headers=CIMultiDictProxy(CIMultiDict(headers or {})), body=content)


def client_for(handler: Callable[[Sent], Reply]) -> KomboClient:
    return KomboClient(Scripted(handler), base_url="https://kombo.test/v1", api_key="key-1")


def envelope(code: str | None, message: str = "m") -> dict[str, object]:
    return {"status": "error", "error": {"code": code, "title": None, "message": message, "log_url": "https://l/1"}}


async def test_success_sends_key_and_integration_and_returns_warnings() -> None:
    seen: list[Sent] = []

    def handler(request: Sent) -> Reply:
        seen.append(request)
        return reply(200, {"status": "success", "data": {}, "warnings": [{"message": "w1"}]})

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
    def handler(_request: Sent) -> Reply:
        if isinstance(body, str):
            return reply(status, text=body, headers=headers)
        return reply(status, body, headers=headers)

    with pytest.raises(KomboError) as caught:
        await client_for(handler).put_packages("sandbox:abc", REQUEST)
    assert classify(caught.value) == outcome
    assert caught.value.retry_after_s == retry_after
    assert caught.value.http_status == status


async def test_timeouts_and_refused_connections_are_retryable() -> None:
    def timeout(_request: Sent) -> Reply:
        raise ExchangeFailed("no answer in time (ServerTimeoutError)", timed_out=True)

    def refused(_request: Sent) -> Reply:
        raise ExchangeFailed("no connection (ClientConnectorError)", timed_out=False)

    cases = ((timeout, "no answer in time (ServerTimeoutError)"), (refused, "no connection (ClientConnectorError)"))
    for handler, says in cases:
        with pytest.raises(KomboError) as caught:
            await client_for(handler).put_packages("sandbox:abc", REQUEST)
        assert classify(caught.value) == Outcome.RETRY
        assert caught.value.message == f"Kombo: {says}"


async def test_a_success_that_is_not_kombos_envelope_is_retryable() -> None:
    with pytest.raises(KomboError) as caught:
        await client_for(lambda _r: reply(200, text="<html>captive portal</html>")).put_packages("sandbox:abc", REQUEST)
    assert caught.value.retryable
