"""Customer onboarding over real HTTP, on both engines: the operator issues a tenant's link, the customer's admin
opens the page, goes through the sandbox's Kombo Connect, and the page then says the ATS is connected (bound by
Kombo's ``integration-created`` webhook to that tenant). Every other state of a link answers a page, never
problem+json and never a 500; a link for one tenant can neither bind to another nor take another's integration."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from agtest.onboarding import expired
from agtest.sandbox_support import sandbox_mode_settings
from agtest.servers import free_port, serve
from agtest.stack import ADMIN, ports, running, stack_settings
from api.app import create_app
from core import onboarding_tokens
from core.onboarding_tokens import OnboardingClaims
from core.settings import Settings
from storage.database import Database

__all__ = ["ports"]
pytestmark = pytest.mark.anyio
VENDOR = "Checkly"
ADMIN_EMAIL = "it@acme.example"


@dataclass
class Onboarding:
    gateway: str
    sandbox: str
    settings: Settings
    http: httpx.AsyncClient

    async def tenant(self, name: str = "Acme") -> str:
        response = await self.http.post(f"{self.gateway}/v1/tenants", json={"name": name}, headers=ADMIN)
        tenant: str = response.json()["id"]
        return tenant

    async def link(self, tenant: str) -> str:
        response = await self.http.post(
            f"{self.gateway}/v1/tenants/{tenant}/onboarding-link", json={"end_user_email": ADMIN_EMAIL}, headers=ADMIN
        )
        assert response.status_code == 200, response.text
        url: str = response.json()["url"]
        return url

    async def start(self, browser: httpx.AsyncClient, url: str, **extra: str) -> httpx.Response:
        """What the button does: the page's form, posted with its token by the browser that loaded it."""
        return await browser.post(url, data={"form_token": form_token_of(await browser.get(url)), **extra})

    async def connect_in_kombo(self, opening: httpx.Response) -> str:
        """The admin's clicks in the sandbox's Kombo Connect page the opening page leads to; the integration's id."""
        assert opening.status_code == 200, opening.text
        found = re.search(r'href="([^"]+)" id="continue"', opening.text)
        assert found is not None, opening.text
        kombo_link = found.group(1).replace("&amp;", "&")
        assert kombo_link.startswith(f"{self.sandbox}/_sandbox/connect?token=")
        done = await self.http.post(
            f"{self.sandbox}/_sandbox/connect", data={"token": kombo_link.partition("token=")[2]}
        )
        integration = re.search(r"Integration <code>([^<]+)</code>", done.text)
        assert integration is not None, done.text
        return integration.group(1)

    async def shown(self, tenant: str) -> dict[str, Any]:
        body: dict[str, Any] = (await self.http.get(f"{self.gateway}/v1/tenants/{tenant}", headers=ADMIN)).json()
        return body

    async def audit(self, tenant: str) -> list[tuple[str, str]]:
        events = (await self.http.get(f"{self.gateway}/v1/tenants/{tenant}/events", headers=ADMIN)).json()
        return [(e["type"], e["actor"]) for e in reversed(events)]


@pytest.fixture
async def onboarding(db: Database, test_settings: Settings, ports: tuple[int, int]) -> AsyncIterator[Onboarding]:
    del db  # migrated, and audited for secrets at the end
    settings = stack_settings(test_settings, *ports, vendor_name=VENDOR)
    with running(settings, ports[1]) as (gateway, sandbox):
        async with httpx.AsyncClient(timeout=30) as http:
            yield Onboarding(gateway, sandbox, settings, http)


def form_token_of(page: httpx.Response) -> str:
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token is not None, page.text
    return token.group(1)


def heading(page: httpx.Response) -> str:
    found = re.search(r"<h1>([^<]*)</h1>", page.text)
    assert found is not None, page.text
    return found.group(1).replace("&#39;", "'")


def assert_page(response: httpx.Response, status: int, title: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src" not in policy
    assert "default-src 'none'" in policy  # so no script at all, inline or not
    assert heading(response) == title


async def test_the_customer_connects_through_the_link_and_the_tenant_is_bound(onboarding: Onboarding) -> None:
    tenant = await onboarding.tenant()
    url = await onboarding.link(tenant)
    assert url.startswith(f"{onboarding.gateway}/connect/")
    async with httpx.AsyncClient(timeout=30) as browser:
        page = await browser.get(url)
        assert_page(page, 200, "Connect Acme's ATS")
        assert VENDOR in page.text
        cookie = page.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        assert "path=/connect/" in cookie
        token = form_token_of(page)
        opening = await browser.post(url, data={"form_token": token})
        assert_page(opening, 200, "Opening Kombo Connect")
        assert '<meta http-equiv="refresh" content="0; url=' in opening.text
        waiting = await browser.get(f"{url}?check=1")
        assert_page(waiting, 200, "Not connected yet")
        integration = await onboarding.connect_in_kombo(opening)

        assert (await onboarding.shown(tenant))["integration"] == {"id": integration, "state": "ACTIVE"}
        assert_page(await browser.get(f"{url}?check=1"), 200, "Your ATS is connected")
        assert_page(await browser.get(url), 200, "Already connected")
        again = await browser.post(url, data={"form_token": token})
        assert_page(again, 200, "Already connected")  # no second Kombo link: it would make a second integration
    link_actor = [actor for action, actor in await onboarding.audit(tenant) if action.startswith("onboarding_link.c")]
    assert [action for action, _ in await onboarding.audit(tenant)] == [
        "tenant.created",
        "onboarding_link.issued",
        "onboarding_link.connect_started",
        "integration-created",
        "onboarding_link.completed",
    ]
    assert (await onboarding.audit(tenant))[1] == ("onboarding_link.issued", "admin")
    assert len(set(link_actor)) == 1
    assert link_actor[0].startswith("onboarding_link:")


async def test_every_state_of_a_link_is_a_page(onboarding: Onboarding) -> None:
    tenant = await onboarding.tenant()
    first = await onboarding.link(tenant)
    latest = await onboarding.link(tenant)  # revokes the first
    async with httpx.AsyncClient(timeout=30) as browser:
        assert_page(await browser.get(first), 410, "This link was replaced")
        assert_page(await browser.get(expired(onboarding.settings, latest)), 410, "This link has expired")
        for forged in (f"{latest[:-3]}xyz", f"{onboarding.gateway}/connect/nothing", f"{latest}%00"):
            assert_page(await browser.get(forged), 404, "This link does not work")
        # A POST without the page's form token (another site's form, or none) starts nothing.
        refused = await browser.post(latest, data={"form_token": "guessed"})
        assert_page(refused, 403, "Please try again")
        # A body the server cannot read is the browser's mistake, not an outage on our side.
        broken = await browser.post(latest, content=b"--x\r\n", headers={"content-type": "multipart/form-data"})
        assert_page(broken, broken.status_code, "Please try again")
        assert 400 <= broken.status_code < 500
        async with httpx.AsyncClient(timeout=30) as other_browser:  # a token from another browser's cookie
            token = form_token_of(await browser.get(latest))
            assert_page(await other_browser.post(latest, data={"form_token": token}), 403, "Please try again")
        await onboarding.http.post(
            f"{onboarding.sandbox}/_sandbox/faults", json={"target": "POST /connect/create-link", "times": None}
        )
        assert_page(await onboarding.start(browser, latest), 503, "This did not work just now")
        await onboarding.http.delete(f"{onboarding.sandbox}/_sandbox/faults")
        # The revoked link cannot start anything either, even with a form token made for it.
        made = onboarding_tokens.form_token(
            onboarding.settings.secret_keys[0], browser.cookies["ag_onboarding"], first.rpartition("/")[2]
        )
        assert_page(await browser.post(first, data={"form_token": made}), 410, "This link was replaced")

        integration = await onboarding.connect_in_kombo(await onboarding.start(browser, latest))
        assert_page(await browser.get(latest), 200, "Your ATS is connected")
        deleted = await onboarding.http.request(
            "DELETE",
            f"{onboarding.sandbox}/v1/integrations/{integration}",
            json={},
            headers={"authorization": f"Bearer {onboarding.settings.kombo.api_key}"},
        )
        assert deleted.status_code == 200, deleted.text
        assert (await onboarding.shown(tenant))["integration"] is None
        assert_page(await browser.get(latest), 410, "This link was already used")
    assert "onboarding_link.connect_started" in [a for a, _ in await onboarding.audit(tenant)]


async def test_a_link_for_one_tenant_cannot_bind_another_or_take_its_integration(onboarding: Onboarding) -> None:
    tenant_a, tenant_b = await onboarding.tenant("Acme"), await onboarding.tenant("Bolt")
    held = await onboarding.http.post(f"{onboarding.sandbox}/_sandbox/integrations", json={"origin_id": tenant_b})
    b_integration = held.json()["id"]
    assert (await onboarding.shown(tenant_b))["integration"]["id"] == b_integration
    link_a = await onboarding.link(tenant_a)
    async with httpx.AsyncClient(timeout=30) as browser:
        # A's link with B's id spliced into its claims is forged; naming B or B's integration in the form is ignored.
        base, _, token = link_a.rpartition("/")
        _, claims = onboarding_tokens.check(onboarding.settings.secret_keys, token, now_s=0)
        assert claims is not None
        spliced = onboarding_tokens.mint("another-key", OnboardingClaims(**{**_fields(claims), "tenant_id": tenant_b}))
        assert_page(await browser.get(f"{base}/{spliced}"), 404, "This link does not work")
        opening = await onboarding.start(browser, link_a, tenant_id=tenant_b, integration_id=b_integration)
        a_integration = await onboarding.connect_in_kombo(opening)
        assert_page(await browser.get(link_a), 200, "Your ATS is connected")
    assert a_integration != b_integration
    assert (await onboarding.shown(tenant_a))["integration"]["id"] == a_integration
    assert (await onboarding.shown(tenant_b))["integration"]["id"] == b_integration  # untouched
    events_b = [a for a, _ in await onboarding.audit(tenant_b)]
    assert not [a for a in events_b if a.startswith("onboarding_link")]


def _fields(claims: OnboardingClaims) -> dict[str, Any]:
    return {"tenant_id": claims.tenant_id, "link_id": claims.link_id, "expires_at_s": claims.expires_at_s}


async def test_only_the_admin_token_issues_links(onboarding: Onboarding) -> None:
    tenant = await onboarding.tenant()
    url = f"{onboarding.gateway}/v1/tenants/{tenant}/onboarding-link"
    key = await onboarding.http.post(
        f"{onboarding.gateway}/v1/tenants/{tenant}/api-keys",
        json={"scopes": ["integration:manage", "tenant:read", "keys:manage"]},
        headers=ADMIN,
    )
    tenant_key = {"authorization": f"Bearer {key.json()['key']}"}
    refused = await onboarding.http.post(url, json={"end_user_email": ADMIN_EMAIL}, headers=tenant_key)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await onboarding.http.post(url, json={"end_user_email": ADMIN_EMAIL})).status_code == 401
    assert (await onboarding.http.post(url, json={"end_user_email": "nobody"}, headers=ADMIN)).status_code == 400
    missing = f"{onboarding.gateway}/v1/tenants/00000000-0000-4000-8000-000000000000/onboarding-link"
    assert (await onboarding.http.post(missing, json={"end_user_email": ADMIN_EMAIL}, headers=ADMIN)).status_code == 404
    issued = (await onboarding.http.post(url, json={"end_user_email": ADMIN_EMAIL}, headers=ADMIN)).json()
    days = (_parse(issued["expires_at"]) - time.time()) / 86_400
    assert 6.99 < days <= 7  # ASSESSGATE_ONBOARDING_LINK_TTL_DAYS's default


def _parse(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text).timestamp()


async def test_in_sandbox_mode_the_button_leads_to_the_mounted_sandboxs_connect_page(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    """No Kombo API key: Kombo Connect is the sandbox mounted in the gateway, whose webhook binds the tenant."""
    del db  # migrated
    settings = sandbox_mode_settings(database_url, tmp_path, free_port())
    with serve(create_app(settings), settings.port) as gateway:
        async with httpx.AsyncClient(timeout=30) as http:
            world = Onboarding(gateway, f"{gateway}/sandbox", settings, http)
            tenant = await world.tenant()
            url = await world.link(tenant)
            integration = await world.connect_in_kombo(await world.start(http, url))
            assert_page(await http.get(url), 200, "Your ATS is connected")
            assert (await world.shown(tenant))["integration"]["id"] == integration
