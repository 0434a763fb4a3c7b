"""The Litestar app built by create_app: probes, problem+json for every error, body limit, redaction."""

from __future__ import annotations

import json

import msgspec
import pytest
from litestar import post
from litestar.params import JSONBody
from litestar.testing import AsyncTestClient

from api.app import create_app
from core.settings import Settings
from storage.database import Database
from storage.migrations import migrate

pytestmark = pytest.mark.anyio
PROBLEM = "application/problem+json"


class Echo(msgspec.Struct):
    name: str
    count: int


@post("/test-echo", sync_to_thread=False)
def echo(data: JSONBody[Echo]) -> Echo:
    return data


@post("/test-crash", sync_to_thread=False)
def crash() -> None:
    raise RuntimeError("kaboom while holding test-admin-token-0123456789")


async def migrated(settings: Settings) -> None:
    db = Database(settings.database)
    await db.start()
    await migrate(db)
    await db.close()


async def test_health_answers_without_migrations(test_settings: Settings) -> None:
    async with AsyncTestClient(create_app(test_settings)) as client:
        response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] in {"sqlite", "postgresql"}


async def test_ready_needs_migrations(test_settings: Settings) -> None:
    async with AsyncTestClient(create_app(test_settings)) as client:
        before = await client.get("/ready")
        await migrated(test_settings)
        after = await client.get("/ready")
    assert before.status_code == 503
    assert before.headers["content-type"] == PROBLEM
    assert "0001_tenants" in before.json()["detail"]
    assert after.status_code == 200
    assert after.json() == {
        "status": "ready",
        "database": "ok",
        "pending_migrations": [],
        "misconfigured_tenants": 0,
        "adapters_checked_at": None,  # the check at start found no tables yet; it runs again in five minutes
    }


async def test_unknown_route_and_method_are_problems(test_settings: Settings) -> None:
    async with AsyncTestClient(create_app(test_settings)) as client:
        missing = await client.get("/no-such-route")
        wrong_method = await client.delete("/health")
    for response, status in ((missing, 404), (wrong_method, 405)):
        assert response.status_code == status
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["status"] == status


async def test_malformed_and_wrong_shape_bodies_are_400_problems(test_settings: Settings) -> None:
    app = create_app(test_settings)
    app.register(echo)
    async with AsyncTestClient(app) as client:
        not_json = await client.post("/test-echo", content=b"{not json", headers={"content-type": "application/json"})
        wrong_shape = await client.post("/test-echo", json={"name": "a", "count": "many"})
        ok = await client.post("/test-echo", json={"name": "a", "count": 2})
    assert ok.status_code == 201
    for response in (not_json, wrong_shape):
        assert response.status_code == 400
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["title"] == "Bad Request"
    assert "count" in json.dumps(wrong_shape.json())


async def test_oversized_body_is_a_413_problem(test_settings: Settings) -> None:
    app = create_app(test_settings)
    app.register(echo)
    big = b'{"name":"' + b"x" * (test_settings.max_body_bytes + 10) + b'","count":1}'
    async with AsyncTestClient(app) as client:
        response = await client.post("/test-echo", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


async def test_unexpected_errors_are_500_problems_without_detail_or_secrets(
    test_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(test_settings)
    app.register(crash)
    async with AsyncTestClient(app) as client:
        response = await client.post("/test-crash", headers={"x-request-id": "req-42"})
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "instance": "/test-crash",
        "request_id": "req-42",
    }
    logged = capsys.readouterr().out
    assert "kaboom" in logged  # the error is logged ...
    assert test_settings.admin_token not in logged  # ... without the secret in it
    records = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    assert any(r.get("event") == "unhandled_exception" and r.get("request_id") == "req-42" for r in records)


async def test_request_id_is_echoed_or_generated(test_settings: Settings) -> None:
    async with AsyncTestClient(create_app(test_settings)) as client:
        given = await client.get("/health", headers={"x-request-id": "abc-123"})
        generated = await client.get("/health", headers={"x-request-id": "bad id with spaces"})
    assert given.headers["x-request-id"] == "abc-123"
    assert len(generated.headers["x-request-id"]) == 32


async def test_errors_raised_before_routing_carry_the_request_id(
    test_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """A path nothing serves (404) and a method a path does not take (405) are decided by the router, before any
    route's middleware: they carry the request id all the same, and are logged like every request."""
    async with AsyncTestClient(create_app(test_settings)) as client:
        unknown = await client.get("/no/such/path", headers={"x-request-id": "req-404"})
        wrong_method = await client.delete("/health", headers={"x-request-id": "req-405"})
        generated = await client.get("/v2/nothing")
        routed = await client.get("/v1/tenants", headers={"x-request-id": "req-401"})  # a route's own problem
    for response, request_id, status in ((unknown, "req-404", 404), (wrong_method, "req-405", 405)):
        assert response.status_code == status
        assert response.headers["content-type"] == PROBLEM
        assert response.headers.get_list("x-request-id") == [request_id]
        assert response.json()["request_id"] == request_id
    assert generated.json()["request_id"] == generated.headers["x-request-id"]
    assert len(generated.headers["x-request-id"]) == 32  # a uuid4 in hex
    assert routed.headers.get_list("x-request-id") == ["req-401"]  # once, not once per layer
    assert routed.json()["request_id"] == "req-401"
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    logged = {(r.get("request_id"), r.get("status")) for r in records if r.get("event") == "request"}
    assert {("req-404", 404), ("req-405", 405), ("req-401", 401)} <= logged


async def test_openapi_declares_problem_responses(test_settings: Settings) -> None:
    async with AsyncTestClient(create_app(test_settings)) as client:
        schema = (await client.get("/schema/openapi.json")).json()
    ready = schema["paths"]["/ready"]["get"]["responses"]
    assert PROBLEM in ready["503"]["content"]
    for path in ("/health", "/ready"):
        assert PROBLEM in schema["paths"][path]["get"]["responses"]["500"]["content"]
