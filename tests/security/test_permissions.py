"""Finding 2: what a tenant key may do is its scopes, enforced in one guard and listed in docs/security.md.

A tenant key cannot rename its tenant or change its external id (admin only); a new key gets the narrow
default; a key may grant only scopes it holds; revoking a key revokes every key it minted (so a leaked key
cannot outlive its own revocation); no message names another tenant's data.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from core.permissions import DEFAULT_SCOPES, Admin, Scope
from core.settings import Settings
from storage.database import Database

pytestmark = pytest.mark.anyio
ADMIN = {"authorization": "Bearer test-admin-token-0123456789"}
DOCS = Path(__file__).parents[2] / "docs" / "security.md"


@pytest.fixture
async def client(db: Database, test_settings: Settings) -> AsyncIterator[AsyncTestClient[Any]]:
    del db
    async with AsyncTestClient(create_app(test_settings)) as test_client:
        yield test_client


async def new_key(client: AsyncTestClient[Any], tenant: str, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post(f"/v1/tenants/{tenant}/api-keys", json=body, headers=auth)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def bearer(key: dict[str, Any]) -> dict[str, str]:
    return {"authorization": f"Bearer {key['key']}"}


async def test_tenant_fields_are_the_admins(client: AsyncTestClient[Any]) -> None:
    tenant = (await client.post("/v1/tenants", json={"name": "Mine", "external_id": "mine"}, headers=ADMIN)).json()
    other = (await client.post("/v1/tenants", json={"name": "Other", "external_id": "other-ext"}, headers=ADMIN)).json()
    every = await new_key(client, tenant["id"], ADMIN, scopes=[s.value for s in Scope])  # even with every scope
    for change in ({"name": "Renamed"}, {"external_id": "taken-over"}):
        refused = await client.patch(f"/v1/tenants/{tenant['id']}", json=change, headers=bearer(every))
        assert refused.status_code == 403, refused.text
    assert (await client.get(f"/v1/tenants/{tenant['id']}", headers=ADMIN)).json()["name"] == "Mine"
    clash = await client.patch(f"/v1/tenants/{tenant['id']}", json={"external_id": "other-ext"}, headers=ADMIN)
    assert clash.status_code == 409
    assert "other-ext" not in clash.text
    assert other["id"] not in clash.text


async def test_a_new_key_gets_the_narrow_default(client: AsyncTestClient[Any]) -> None:
    tenant = (await client.post("/v1/tenants", json={"name": "T"}, headers=ADMIN)).json()["id"]
    key = await new_key(client, tenant, ADMIN)
    assert set(key["scopes"]) == {s.value for s in DEFAULT_SCOPES}
    auth = bearer(key)
    assert (await client.get(f"/v1/tenants/{tenant}/orders", headers=auth)).status_code == 200
    refused = {
        "mint": await client.post(f"/v1/tenants/{tenant}/api-keys", json={}, headers=auth),
        "secret": await client.put(f"/v1/tenants/{tenant}/secrets/x", json={"value": "v"}, headers=auth),
        "catalog": await client.put(f"/v1/tenants/{tenant}/packages", json={"packages": []}, headers=auth),
        "connect": await client.post(
            f"/v1/tenants/{tenant}/connect-link", json={"end_user_email": "a@b.example"}, headers=auth
        ),
    }
    assert {name: r.status_code for name, r in refused.items()} == dict.fromkeys(refused, 403)
    assert "keys:manage" in refused["mint"].json()["detail"]


async def test_a_key_grants_only_what_it_holds_and_its_revocation_takes_its_offspring(
    client: AsyncTestClient[Any],
) -> None:
    tenant = (await client.post("/v1/tenants", json={"name": "T"}, headers=ADMIN)).json()["id"]
    manager = await new_key(client, tenant, ADMIN, scopes=["keys:manage", "orders:read"])
    escalate = await client.post(
        f"/v1/tenants/{tenant}/api-keys", json={"scopes": ["secrets:write"]}, headers=bearer(manager)
    )
    assert escalate.status_code == 403
    child = await new_key(client, tenant, bearer(manager), scopes=["keys:manage", "orders:read"])
    assert child["created_by"] == manager["id"]
    grandchild = await new_key(client, tenant, bearer(child), scopes=["orders:read"])
    sibling = await new_key(client, tenant, ADMIN, scopes=["orders:read"])
    # The leaked manager key is revoked by the admin: what it minted, directly or not, goes with it.
    assert (await client.delete(f"/v1/tenants/{tenant}/api-keys/{manager['id']}", headers=ADMIN)).status_code == 204
    for gone in (manager, child, grandchild):
        assert (await client.get(f"/v1/tenants/{tenant}/orders", headers=bearer(gone))).status_code == 401
    assert (await client.get(f"/v1/tenants/{tenant}/orders", headers=bearer(sibling))).status_code == 200
    events = (await client.get(f"/v1/tenants/{tenant}/events", headers=ADMIN)).json()
    revoked = next(e for e in events if e["type"] == "api_key.revoked")
    assert set(revoked["note"].split()) == {manager["id"], child["id"], grandchild["id"]}
    assert revoked["actor"] == "admin"
    assert all(key["key"] not in str(events) for key in (manager, child, grandchild, sibling))


def declared_rules(app: Litestar) -> set[tuple[str, str, str]]:
    """(method, path, rule) of every route behind the tenant guard, as the routes declare them."""
    rows = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            rule = handler.opt.get("access")
            if rule is None:
                continue
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                text = "admin only" if rule is Admin.ONLY else rule.value
                rows.add((method, re.sub(r":\w+}", "}", route.path), text))
    return rows


def documented_rules() -> set[tuple[str, str, str]]:
    rows = set()
    for line in DOCS.read_text().splitlines():
        match = re.match(r"\| (GET|PUT|POST|PATCH|DELETE) \| `([^`]+)` \| (?:`([^`]+)`|(admin only)) \|", line)
        if match:
            rows.add((match[1], match[2], match[3] or match[4]))
    return rows


def test_every_tenant_route_declares_a_rule_and_the_docs_list_them_all(test_settings: Settings) -> None:
    app = create_app(test_settings)
    guarded = {
        (method, re.sub(r":\w+}", "}", route.path))
        for route in app.routes
        if route.path.startswith("/v1/")
        for handler in getattr(route, "route_handlers", [])
        for method in handler.http_methods
        if method not in {"HEAD", "OPTIONS"}
    }
    declared = declared_rules(app)
    assert {(m, p) for m, p, _ in declared} == guarded  # no tenant route without a rule
    assert documented_rules() == declared
