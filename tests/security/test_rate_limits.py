"""Finding 3: each credential has a token bucket and each tenant a cap on requests in flight, so one tenant
cannot starve the others. A refusal is a 429 problem with ``Retry-After`` and the IETF ``RateLimit`` and
``RateLimit-Policy`` headers; another tenant's credential is unaffected. (The flood itself, with real
processes and latencies, is the noisy-neighbour drill: tests/drills/test_noisy_neighbour.py.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agtest.admission import Gateway, in_this_loop
from core.permissions import DEFAULT_SCOPES
from core.rate_limits import InFlight, TokenBuckets
from core.settings import LimitsSettings, Settings
from storage.database import Database
from tenants.repository import TenantRepository

pytestmark = pytest.mark.anyio
ADMIN = {"authorization": "Bearer test-admin-token-0123456789"}


class Tenants(msgspec.Struct):
    gateway: Gateway
    a: str
    a_key: dict[str, str]
    b: str
    b_key: dict[str, str]


async def tenants_with_keys(db: Database, gateway: Gateway) -> Tenants:
    repo, ids, keys = TenantRepository(db), [], []
    for name in ("A", "B"):  # straight into the database: the API's own limits are what is under test
        tenant = await repo.create(name=name, external_id=None)
        _, key = await repo.create_api_key(tenant.id, "test", DEFAULT_SCOPES)
        ids.append(str(tenant.id))
        keys.append({"authorization": f"Bearer {key}"})
    return Tenants(gateway=gateway, a=ids[0], a_key=keys[0], b=ids[1], b_key=keys[1])


def limited(settings: Settings, **limits: Any) -> Settings:
    unlimited = {"rate_per_s": 100_000.0, "rate_burst": 100_000, "tenant_max_in_flight": 10_000}
    return msgspec.structs.replace(settings, limits=LimitsSettings(**{**unlimited, **limits}))


@pytest.fixture
async def slow_bucket(db: Database, test_settings: Settings) -> AsyncIterator[Tenants]:
    # 3 at once, then one every 100 s: nothing refills while the test runs.
    async with in_this_loop(limited(test_settings, rate_per_s=0.01, rate_burst=3)) as gateway:
        yield await tenants_with_keys(db, gateway)


async def test_a_credential_beyond_its_burst_gets_429_with_retry_after_and_ratelimit_headers(
    slow_bucket: Tenants,
) -> None:
    client, a = slow_bucket.gateway.client, slow_bucket.a
    answers = [await client.get(f"/v1/tenants/{a}/orders", headers=slow_bucket.a_key) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [r.headers["ratelimit"] for r in answers[:3]] == [
        '"credential";r=2;t=100',
        '"credential";r=1;t=200',
        '"credential";r=0;t=300',
    ]
    refused = answers[3]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["status"] == 429
    assert 90 <= int(refused.headers["retry-after"]) <= 100
    assert refused.headers["ratelimit-policy"] == '"credential";q=3;w=300'
    assert refused.headers["ratelimit"].startswith('"credential";r=0;')
    # Tenant B's key has its own bucket; the admin token too.
    assert (await client.get(f"/v1/tenants/{slow_bucket.b}/orders", headers=slow_bucket.b_key)).status_code == 200
    assert (await client.get("/v1/tenants", headers=ADMIN)).status_code == 200


async def test_a_refused_request_is_refused_before_its_body_is_read(slow_bucket: Tenants) -> None:
    client, a = slow_bucket.gateway.client, slow_bucket.a
    for _ in range(3):
        await client.get(f"/v1/tenants/{a}/orders", headers=slow_bucket.a_key)
    result = await client.put(
        f"/v1/tenants/{a}/orders/00000000-0000-0000-0000-000000000000/result",
        content=b"[" * 50_000,
        headers={**slow_bucket.a_key, "content-type": "application/json"},
    )
    assert result.status_code == 429


@pytest.fixture
async def two_in_flight(db: Database, test_settings: Settings) -> AsyncIterator[Tenants]:
    async with in_this_loop(limited(test_settings, tenant_max_in_flight=2)) as gateway:
        yield await tenants_with_keys(db, gateway)


async def held_request(
    gateway: Gateway, path: str, headers: dict[str, str], release: asyncio.Event
) -> asyncio.Task[None]:
    """A PUT whose body arrives only when ``release`` is set: admitted, it holds an in-flight slot until then."""
    body = b'{"status": "COMPLETED"}'
    admitted = asyncio.Event()

    async def receive() -> dict[str, Any]:
        admitted.set()
        await release.wait()
        return {"type": "http.request", "body": body, "more_body": False}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "PUT",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), *((k.encode(), v.encode()) for k, v in headers.items())],
        "client": ("203.0.113.9", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    task = asyncio.create_task(gateway.app(scope, receive, send))  # type: ignore[arg-type]
    await asyncio.wait([task, asyncio.create_task(admitted.wait())], return_when=asyncio.FIRST_COMPLETED)
    assert admitted.is_set(), f"refused before reading its body: {sent}"
    return task


async def test_a_tenant_at_its_in_flight_cap_gets_429_while_another_tenant_is_served(two_in_flight: Tenants) -> None:
    gateway, a = two_in_flight.gateway, two_in_flight.a
    release = asyncio.Event()
    path = f"/v1/tenants/{a}/orders/00000000-0000-0000-0000-000000000000/result"
    held = [await held_request(gateway, path, two_in_flight.a_key, release) for _ in range(2)]
    third = await gateway.client.get(f"/v1/tenants/{a}/orders", headers=two_in_flight.a_key)
    assert third.status_code == 429
    assert third.headers["retry-after"] == "1"
    assert "in flight" in third.json()["detail"]
    assert (await gateway.client.get(f"/v1/tenants/{two_in_flight.b}/orders", headers=two_in_flight.b_key)).is_success
    release.set()
    await asyncio.gather(*held)
    # The slots are free again once the held requests are answered.
    assert (await gateway.client.get(f"/v1/tenants/{a}/orders", headers=two_in_flight.a_key)).status_code == 200


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@given(
    rate=st.floats(min_value=0.1, max_value=50),
    burst=st.integers(min_value=1, max_value=20),
    steps=st.lists(st.tuples(st.floats(min_value=0, max_value=5), st.booleans()), max_size=60),
)
def test_a_token_bucket_never_allows_more_than_burst_plus_rate_times_elapsed(
    rate: float, burst: int, steps: list[tuple[float, bool]]
) -> None:
    clock = FakeClock()
    buckets = TokenBuckets(rate=rate, burst=burst, clock=clock)
    start, allowed = clock.now, 0
    for wait, take in steps:
        clock.now += wait
        if take:
            decision = buckets.take("k")
            allowed += decision.allowed
            if not decision.allowed:
                assert decision.retry_after_s >= 1
                clock_then = clock.now
                clock.now += decision.retry_after_s
                assert buckets.peek("k").allowed, "Retry-After must be long enough"
                clock.now = clock_then
        assert allowed <= burst + rate * (clock.now - start) + 1e-9


def test_in_flight_counts_per_key() -> None:
    slots = InFlight(2)
    assert slots.enter("a")
    assert slots.enter("a")
    assert not slots.enter("a")
    assert slots.enter("b")
    slots.leave("a")
    assert slots.enter("a")
    assert slots.count("a") == 2
