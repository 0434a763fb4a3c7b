"""Every paged list takes the one cursor codec's cursors: a page's cursor leads to the next page, and a cursor the
API did not issue is a 400 problem naming ``$.cursor`` on every list, never a 500 (``core/cursors.py``)."""

from __future__ import annotations

import base64
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from core.settings import Settings
from storage.database import Database

pytestmark = pytest.mark.anyio
ADMIN = {"authorization": "Bearer test-admin-token-0123456789"}
LISTS = (
    "/v1/tenants",
    "/v1/tenants/{tenant}/orders",
    "/v1/tenants/{tenant}/orders/changes",
    "/v1/orders/unrouted",
    "/v1/jobs",
)


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


GARBAGE = (
    "x",
    "not a cursor!",
    "ÿ-ünïcode",
    b64("2026-01-02T03:04:05|00000000-0000-4000-8000-000000000001"),  # naive: not one we issue
    b64("1700000000000:00000000-0000-4000-8000-000000000001"),  # the jobs list's former format
    b64("9999-99-99T00:00:00+00:00|nope"),
    base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
)


@pytest.fixture
async def client(db: Database, test_settings: Settings) -> Any:
    del db
    async with AsyncTestClient(create_app(msgspec.structs.replace(test_settings, embedded_worker="off"))) as client:
        yield client


async def test_a_cursor_the_api_did_not_issue_is_a_400_on_every_list(client: AsyncTestClient[Any]) -> None:
    tenant = (await client.post("/v1/tenants", json={"name": "Cursors"}, headers=ADMIN)).json()["id"]
    for path in LISTS:
        for cursor in GARBAGE:
            response = await client.get(path.format(tenant=tenant), params={"cursor": cursor}, headers=ADMIN)
            assert response.status_code == 400, (path, cursor, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["errors"] == [{"path": "$.cursor", "message": "cursor is not one this API issued"}]


async def test_the_next_cursor_leads_through_every_tenant_once(client: AsyncTestClient[Any]) -> None:
    created = [(await client.post("/v1/tenants", json={"name": f"T{n}"}, headers=ADMIN)).json()["id"] for n in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/tenants", params=params, headers=ADMIN)).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == created
