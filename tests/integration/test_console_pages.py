"""The operator console end to end, in a real headless Chromium against a real gateway and sandbox, on both
engines: an operator logs in, creates a tenant, sends its connect link, publishes its catalog (and sees it
reach the sandbox, and the deletion guard hold), watches an order arrive from the ATS simulator, opens its
timeline, finds its failed write-back under "needs attention" and in the dead jobs, retries it once the fault
is gone and sees it written back; keys and secrets; the audit log shows every action. Each page passes
axe-core (WCAG 2.1 A/AA) and fits 320, 375 and 1280 px; the pages work under their own CSP (no inline script)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from agtest.axe import Axe, audited_page, axe
from agtest.browser import launched
from agtest.console import ADMIN_TOKEN
from agtest.stack import ADMIN, Clock, ports, running, stack_settings
from agtest.sync_jobs import drain, on_loop
from core.settings import Settings
from core.tenants import API_KEY_PREFIX
from storage.migrations import migrate

__all__ = ["axe", "ports"]
CATALOG = '[{"id": "pkg-java", "type": "SKILLS_TEST", "name": "Java", "description": "90 minutes"}]'
RESULT = {"status": "COMPLETED", "result_url": "https://vendor.example/r/1", "completed_at": "2026-11-26T10:00:00.000Z"}
WRITE_BACK = "PUT /assessment/orders/{id}/result"
SECRET_VALUE = "launch-secret-value-0123456789"


@dataclass
class Console:
    gateway: str
    sandbox: str
    settings: Settings
    http: httpx.Client
    clock: Clock

    def url(self, path: str = "") -> str:
        return f"{self.gateway}/console{path}"

    def drain(self) -> None:
        self.http.post(f"{self.sandbox}/_sandbox/webhooks/drain").raise_for_status()
        drain(self.settings, self.clock)

    def sandbox_packages(self, integration: str) -> list[dict[str, Any]]:
        headers = {"Authorization": "Bearer k", "X-Integration-Id": integration}
        body = self.http.get(f"{self.sandbox}/v1/assessment/packages", headers=headers).json()
        packages: list[dict[str, Any]] = body["data"]["packages"]
        return packages


@pytest.fixture
def console_settings(test_settings: Settings, ports: tuple[int, int]) -> Settings:
    settings = stack_settings(test_settings, *ports)
    on_loop(migrate, settings)
    return settings


@pytest.fixture
def console(console_settings: Settings, ports: tuple[int, int]) -> Iterator[Console]:
    with running(console_settings, ports[1]) as (gateway, sandbox), httpx.Client(timeout=30) as http:
        yield Console(gateway, sandbox, console_settings, http, Clock())


@pytest.fixture
def browser(console_settings: Settings) -> Iterator[Browser]:
    """Launched after the database fixtures (which need ``asyncio.run`` on this thread) and closed before them."""
    del console_settings
    with launched() as instance:
        yield instance


def log_in(page: Page, console: Console, axe: Axe) -> None:
    page.goto(console.url())
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    axe.check(page, "console login page")
    page.get_by_label("Admin token").fill("not-the-token-0123456789")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("not this gateway's admin token")
    axe.check(page, "console login page, wrong token")
    page.get_by_label("Admin token").fill(ADMIN_TOKEN)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def create_tenant(page: Page, console: Console, axe: Axe) -> str:
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Tenants").click()
    page.get_by_role("button", name="Create tenant").click()
    expect(page.get_by_text("Give the tenant a name")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
    axe.check(page, "console tenants page, a field in error")
    page.get_by_label("Name", exact=True).fill("Acme")
    page.get_by_role("button", name="Create tenant").click()
    expect(page.get_by_role("heading", name="Acme")).to_be_visible()
    tenant = page.url.rsplit("/", 1)[-1].split("?")[0]
    page.get_by_label("The customer admin's email").fill("it@acme.example")
    page.get_by_role("button", name="Create an onboarding link").click()
    expect(page.locator("#connect-link")).to_contain_text(f"{console.gateway}/connect/")
    axe.check(page, "console tenant page with an onboarding link")
    return tenant


def publish_catalog(page: Page, console: Console, axe: Axe, tenant: str, integration: str) -> None:
    page.get_by_role("link", name="Edit the catalog").click()
    page.get_by_label("Packages (JSON").fill("[{")
    page.get_by_role("button", name="Preview changes").click()
    expect(page.get_by_role("alert")).to_contain_text("not JSON")
    axe.check(page, "console catalog editor, in error")
    page.get_by_label("Packages (JSON").fill(CATALOG)
    page.get_by_role("button", name="Preview changes").click()
    expect(page.get_by_role("region", name="What saving would change")).to_contain_text("Added: pkg-java")
    axe.check(page, "console catalog editor with its preview")
    page.get_by_role("button", name="Save and push to Kombo").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    console.drain()
    assert [p["id"] for p in console.sandbox_packages(integration)] == ["pkg-java"]
    page.reload()
    expect(page.locator("main")).to_contain_text("sync with Kombo: in sync")
    # Removing every package the ATS offers needs a confirmation (the API's mass-deletion guard).
    page.get_by_label("Packages (JSON").fill("[]")
    page.get_by_role("button", name="Preview changes").click()
    expect(page.get_by_role("region", name="What saving would change")).to_contain_text("confirm the deletions")
    page.get_by_role("button", name="Save and push to Kombo").click()
    expect(page.get_by_role("alert")).to_contain_text("would delete 1 of the 1 packages")
    axe.check(page, "console catalog editor, deletions to confirm")
    console.drain()
    assert [p["id"] for p in console.sandbox_packages(integration)] == ["pkg-java"]  # nothing deleted


def test_an_operator_runs_the_gateway_from_the_console(console: Console, browser: Browser, axe: Axe) -> None:
    with audited_page(browser) as page:
        log_in(page, console, axe)
        axe.check(page, "console overview")
        tenant = create_tenant(page, console, axe)
        created = console.http.post(f"{console.sandbox}/_sandbox/integrations", json={"origin_id": tenant})
        integration = created.json()["id"]
        console.drain()
        page.reload()
        expect(page.locator("main")).to_contain_text(f"Kombo integration {integration}")
        axe.check(page, "console tenant page")
        page.get_by_role("button", name="Create a relink link").click()
        expect(page.locator("#connect-link")).to_contain_text(f"{console.sandbox}/_sandbox/connect")
        publish_catalog(page, console, axe, tenant, integration)
        kombo_id, order_url = follow_an_order(page, console, axe, tenant, integration)
        recover_a_failed_write_back(page, console, axe, tenant=tenant, kombo_id=kombo_id, order_url=order_url)
        keys_and_secrets(page, console, axe, tenant)
        page.goto(console.url("/audit"))
        for action in (
            "console.login",
            "tenant.created",
            "onboarding_link.issued",
            "integration.relink_requested",
            "catalog.set",
            "write_back.retried",
            "api_key.created",
            "api_key.revoked",
            "secret.set",
        ):
            expect(page.get_by_role("row").filter(has_text=action).first).to_contain_text("console:")
        axe.check(page, "console audit log")
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        page.goto(console.url("/orders"))
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def follow_an_order(page: Page, console: Console, axe: Axe, tenant: str, integration: str) -> tuple[str, str]:
    """An order placed in the ATS simulator, found in the console's list and opened: its Kombo id and page."""
    body = {"package_id": "pkg-java", "candidate": {"email": "ada@example.org", "first_name": "Ada"}}
    placed = console.http.post(f"{console.sandbox}/_sandbox/integrations/{integration}/orders", json=body).json()
    console.drain()
    page.goto(console.url(f"/orders?tenant={tenant}"))
    expect(page.get_by_role("link", name=placed["id"])).to_be_visible()
    axe.check(page, "console orders")
    page.get_by_role("link", name=placed["id"]).click()
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    expect(page.locator("main")).to_contain_text("No result has been submitted yet.")
    return placed["id"], page.url


def recover_a_failed_write_back(
    page: Page, console: Console, axe: Axe, *, tenant: str, kombo_id: str, order_url: str
) -> None:
    fault = {"target": WRITE_BACK, "status": 400, "code": "PLATFORM.INPUT_INVALID", "message": "score too high"}
    console.http.post(f"{console.sandbox}/_sandbox/faults", json={**fault, "for_seconds": 600}).raise_for_status()
    order_id = order_url.rsplit("/", 1)[-1]
    submitted = console.http.put(
        f"{console.gateway}/v1/tenants/{tenant}/orders/{order_id}/result", json=RESULT, headers=ADMIN
    )
    assert submitted.status_code == 202
    console.drain()
    page.goto(console.url("/orders?status=needs_attention"))
    expect(page.get_by_role("link", name=kombo_id)).to_be_visible()
    page.goto(console.url("/jobs"))  # dead jobs first
    expect(page.get_by_role("row").filter(has_text="result.write_back")).to_contain_text("PLATFORM.INPUT_INVALID")
    axe.check(page, "console dead jobs")
    page.goto(order_url)
    expect(page.locator("main")).to_contain_text("score too high")
    axe.check(page, "console order with a failed write-back")
    console.http.delete(f"{console.sandbox}/_sandbox/faults").raise_for_status()
    page.get_by_role("button", name="Retry the write-back").click()
    expect(page.get_by_role("status")).to_have_text("The write-back is queued again.")
    console.drain()
    page.reload()
    expect(page.locator("dd.status-completed")).to_have_text("completed")
    assert console.http.get(f"{console.sandbox}/_sandbox/orders/{kombo_id}").json()["status"] == "COMPLETED"


def keys_and_secrets(page: Page, console: Console, axe: Axe, tenant: str) -> None:
    page.goto(console.url(f"/tenants/{tenant}"))
    page.get_by_label("New key's name").fill("platform")
    page.get_by_role("button", name="Create the key").click()
    key = page.locator("#new-key").inner_text()
    assert key.startswith(API_KEY_PREFIX)
    axe.check(page, "console tenant page with a new API key")
    listed = console.http.get(f"{console.gateway}/v1/tenants/{tenant}", headers={"authorization": f"Bearer {key}"})
    assert listed.status_code == 200
    page.goto(console.url(f"/tenants/{tenant}"))
    expect(page.locator("main")).not_to_contain_text(key)  # shown once
    page.get_by_role("button", name="Revoke the key platform").click()
    expect(page.get_by_role("status")).to_have_text("Revoked.")
    revoked = console.http.get(f"{console.gateway}/v1/tenants/{tenant}", headers={"authorization": f"Bearer {key}"})
    assert revoked.status_code == 401
    page.get_by_label("Name", exact=True).fill("Not A Name!")
    page.get_by_role("button", name="Store the secret").click()
    expect(page.get_by_text("Use 1 to 100 lower-case letters")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("launch_signing_secret")
    page.get_by_label("Value").fill(SECRET_VALUE)
    page.get_by_role("button", name="Store the secret").click()
    expect(page.get_by_role("status")).to_contain_text("The secret is stored")
    expect(page.locator("#secrets ~ p").first).to_contain_text("launch_signing_secret")
    assert SECRET_VALUE not in page.content()


def test_the_pages_run_under_their_own_csp(console: Console, browser: Browser) -> None:
    """No bypass here: the stylesheet and the copy button's script load from our origin, nothing is refused."""
    instance = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    refused: list[str] = []
    try:
        page = instance.new_page()
        page.on("console", lambda message: refused.append(message.text) if "Content Security" in message.text else None)
        page.goto(console.url())
        page.get_by_label("Admin token").fill(ADMIN_TOKEN)
        page.get_by_role("button", name="Log in").click()
        tenant = console.http.post(f"{console.gateway}/v1/tenants", json={"name": "Acme"}, headers=ADMIN).json()["id"]
        page.goto(console.url(f"/tenants/{tenant}"))
        page.get_by_label("The customer admin's email").fill("it@acme.example")
        page.get_by_role("button", name="Create an onboarding link").click()
        page.get_by_role("button", name="Copy link").click()
        expect(page.locator("#connect-link-copied")).to_have_text("Copied.")
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert copied == page.locator("#connect-link").inner_text()
        assert page.evaluate("() => getComputedStyle(document.querySelector('header')).display") == "flex"
    finally:
        instance.close()
    assert refused == []


def test_held_orders_are_bound_and_adapters_set_from_the_console(console: Console, browser: Browser, axe: Axe) -> None:
    tenant = console.http.post(f"{console.gateway}/v1/tenants", json={"name": "Acme"}, headers=ADMIN).json()["id"]
    console.http.put(
        f"{console.gateway}/v1/tenants/{tenant}/packages", json={"packages": json.loads(CATALOG)}, headers=ADMIN
    ).raise_for_status()
    # An integration nobody connected through the gateway: its orders wait for an operator to bind it.
    integration = console.http.post(f"{console.sandbox}/_sandbox/integrations", json={}).json()["id"]
    body = {"package_id": "pkg-java", "candidate": {"email": "ada@example.org", "first_name": "Ada"}}
    placed = console.http.post(f"{console.sandbox}/_sandbox/integrations/{integration}/orders", json=body).json()
    console.drain()
    with audited_page(browser) as page:
        page.goto(console.url())
        page.get_by_label("Admin token").fill(ADMIN_TOKEN)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("navigation", name="Console").get_by_role("link", name="Webhooks").click()
        expect(page.get_by_role("link", name=placed["id"])).to_be_visible()
        expect(page.get_by_role("row").filter(has_text="assessment:order-received").first).to_be_visible()
        axe.check(page, "console webhooks")
        field = page.get_by_label(f"Tenant id for {integration}")
        field.fill("not a tenant id")
        page.get_by_role("button", name="Bind").click()
        expect(page.get_by_text("Give the id of the tenant")).to_be_visible()
        axe.check(page, "console webhooks, a field in error")
        page.get_by_label(f"Tenant id for {integration}").fill(tenant)
        page.get_by_role("button", name="Bind").click()
        expect(page.get_by_role("status")).to_have_text("The integration is bound to its tenant.")
        console.drain()
        page.goto(console.url(f"/orders?tenant={tenant}"))
        expect(page.get_by_role("row").filter(has_text=placed["id"])).to_contain_text("accepted")

        page.goto(console.url(f"/tenants/{tenant}/adapters"))
        axe.check(page, "console routes and adapter settings")
        page.get_by_label("SKILLS_TEST").select_option("assessment")
        page.get_by_role("button", name="Save the routes").click()
        expect(page.get_by_role("alert")).to_contain_text("launch_signing_secret")  # what the adapter needs first
        page.get_by_label("accept", exact=True).fill('{"no_such_setting": 1}')
        page.get_by_role("button", name="Save accept's settings").click()
        expect(page.locator("#settings-accept-error")).to_contain_text("no_such_setting")
        expect(page.get_by_label("accept", exact=True)).to_have_attribute("aria-invalid", "true")
        axe.check(page, "console routes and adapter settings, in error")
        page.get_by_label("SKILLS_TEST").select_option("accept")
        page.get_by_role("button", name="Save the routes").click()
        expect(page.get_by_role("status")).to_have_text("Saved.")
        expect(page.get_by_label("SKILLS_TEST")).to_have_value("accept")
    assert console.http.get(f"{console.gateway}/v1/tenants/{tenant}/routes", headers=ADMIN).json() == {
        "routes": {"SKILLS_TEST": "accept"}
    }
