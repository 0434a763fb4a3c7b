"""Finding 4: credentials are checked before a request body is read, and deep JSON is a 400 everywhere.

An unauthenticated request to any route under ``/v1`` is answered 401 without the body being read at all
(the ASGI ``receive`` is never called), whatever the body is: 50,000 levels of nesting, malformed JSON, or a
valid document. With a credential, JSON nested deeper than ``ASSESSGATE_JSON_MAX_DEPTH`` is a 400
problem+json on every route that takes a body (Kombo's webhook and the candidate form included), never a 500.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar import Litestar

from agtest.admission import Gateway, in_this_loop
from core.json_depth import nests_deeper_than
from core.kombo import signature
from core.settings import Settings
from storage.database import Database

pytestmark = pytest.mark.anyio
ADMIN = {"authorization": "Bearer test-admin-token-0123456789"}
DEEP = b"[" * 50_000 + b"]" * 50_000
DEEP_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
BODIES = {"deep array": DEEP, "deep object": DEEP_OBJECT, "malformed": b'{"name": ', "valid": b'{"name": "x"}'}
TENANT = "0b7a2f0e-51d6-4a43-9d3c-111111111111"
ORDER = "0b7a2f0e-51d6-4a43-9d3c-222222222222"


@pytest.fixture
async def gateway(db: Database, test_settings: Settings) -> AsyncIterator[Gateway]:
    del db  # migrated
    async with in_this_loop(test_settings) as running:
        yield running


async def call(
    app: Litestar, method: str, path: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes, bool]:
    """One request straight through the ASGI app; also whether the app ever asked for the body."""
    body_read = False

    async def receive() -> dict[str, Any]:
        nonlocal body_read
        body_read = True
        return {"type": "http.request", "body": body, "more_body": False}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw_headers += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method.upper(),
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": raw_headers,
        "client": ("203.0.113.9", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    await app(scope, receive, send)  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    response_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], response_headers, content, body_read


async def body_routes(gateway: Gateway) -> list[tuple[str, str]]:
    schema = (await gateway.client.get("/schema/openapi.json")).json()
    return sorted(
        (method, path.replace("{tenant_id}", TENANT).replace("{order_id}", ORDER).replace("{name}", "x"))
        for path, operations in schema["paths"].items()
        if path.startswith("/v1/")
        for method in operations
        if method in {"post", "put", "patch"}
    )


@pytest.mark.parametrize("kind", sorted(BODIES))
async def test_no_body_is_read_without_a_credential(gateway: Gateway, kind: str) -> None:
    app, routes = gateway.app, await body_routes(gateway)
    assert ("post", "/v1/tenants") in routes
    assert ("post", f"/v1/tenants/{TENANT}/orders/{ORDER}/events") in routes
    for method, path in routes:
        for headers in (None, {"authorization": "Bearer agk_wrong-key"}, {"authorization": "Basic abc"}):
            status, response_headers, content, body_read = await call(app, method, path, BODIES[kind], headers)
            assert (status, body_read) == (401, False), (method, path, headers, content[:200])
            assert response_headers["content-type"] == "application/problem+json"
            assert response_headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["array", "object"])
async def test_deep_json_is_a_400_problem_on_every_route(gateway: Gateway, body: bytes) -> None:
    # Kombo's webhook: its credential is a signature over the body, checked first (401 unsigned, 400 signed).
    signed = {**ADMIN, signature.HEADER: signature.sign("whsec-current-secret", body)}
    # Uploads take files, not documents: a file that looks like deep JSON is stored (test_upload_names.py).
    routes = [(m, p) for m, p in await body_routes(gateway) if not p.endswith("/uploads")]
    routes.append(("post", "/c/some-token"))
    for method, path, headers in [*((m, p, ADMIN) for m, p in routes), ("post", "/kombo/webhooks", signed)]:
        status, response_headers, content, _ = await call(gateway.app, method, path, body, headers)
        assert status == 400, (method, path, status, content[:300])
        assert response_headers["content-type"] == "application/problem+json"
        assert b"nested deeper than 64 levels" in content
    assert (await call(gateway.app, "post", "/kombo/webhooks", body, ADMIN))[0] == 401


async def test_deep_json_under_another_content_type_is_a_400_not_a_500(gateway: Gateway) -> None:
    # The body guard reads only bodies that may be JSON; the decoder's own limit is the net under it.
    headers = {**ADMIN, "content-type": "application/pdf"}
    response = await gateway.client.post("/v1/tenants", content=DEEP, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def test_with_a_credential_bodies_still_work_and_malformed_json_is_a_400(gateway: Gateway) -> None:
    app = gateway.app
    status, _, content, body_read = await call(app, "post", "/v1/tenants", b'{"name": "Acme"}', ADMIN)
    assert (status, body_read, json.loads(content)["name"]) == (201, True, "Acme")
    status, headers, _, _ = await call(app, "post", "/v1/tenants", b'{"name": ', ADMIN)
    assert (status, headers["content-type"]) == (400, "application/problem+json")
    nested_ok = b'{"name": "n", "external_id": null}'
    assert (await call(app, "post", "/v1/tenants", nested_ok, ADMIN))[0] == 201


async def test_routes_with_their_own_credentials_stay_open(gateway: Gateway) -> None:
    client = gateway.client
    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/schema/openapi.json")).status_code == 200
    assert (await client.get("/metrics")).status_code == 200
    # Kombo's webhook reads its body to check the signature: refused for the signature, not for a bearer token.
    webhook = await client.post("/kombo/webhooks", content=b"{}", headers={"content-type": "application/json"})
    assert webhook.status_code == 401
    assert "signature" in webhook.text.lower()
    assert "Bearer" not in webhook.headers.get("www-authenticate", "")
    # A candidate link is its own credential: an unknown one is the candidate's HTML page, not a 401.
    page = await client.get("/c/not-a-valid-token")
    assert page.status_code != 401
    assert page.headers["content-type"].startswith("text/html")


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:'),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\a'), children, max_size=3)
    ),
    max_leaves=40,
)


@given(value=json_values, limit=st.integers(min_value=0, max_value=12))
def test_the_depth_check_agrees_with_the_decoded_document(value: Any, limit: int) -> None:
    body = json.dumps(value).encode()
    assert nests_deeper_than(body, limit) == (depth(value) > limit)


async def test_a_json_body_over_the_size_limit_is_a_413_problem(gateway: Gateway) -> None:
    big = b'{"name": "' + b"x" * (1_048_576 + 10) + b'"}'
    status, headers, _, _ = await call(gateway.app, "post", "/v1/tenants", big, ADMIN)
    assert (status, headers["content-type"]) == (413, "application/problem+json")
    status, _, _, _ = await call(gateway.app, "post", "/kombo/webhooks", big)
    assert status == 413
