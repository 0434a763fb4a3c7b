"""The customer onboarding page in a real headless Chromium, against a real gateway and sandbox: the customer's
admin opens the link, goes through the sandbox's Kombo Connect page in the tab the button opens, comes back and
sees "connected", with the integration bound to the link's tenant. Every state of the page passes axe-core's
WCAG 2.1 A/AA audit and fits 320, 375 and 1280 px without scrolling sideways; the flow works from the keyboard."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from agtest.axe import Axe, audited_page, axe
from agtest.browser import launched
from agtest.keyboard import press_tab
from agtest.onboarding import expired
from agtest.stack import ADMIN, ports, running, stack_settings
from agtest.sync_jobs import on_loop
from core.settings import Settings
from storage.migrations import migrate

__all__ = ["axe", "ports"]
VENDOR = "Checkly"


@dataclass
class World:
    gateway: str
    sandbox: str
    settings: Settings
    http: httpx.Client

    def tenant(self, name: str = "Acme") -> str:
        tenant: str = self.http.post(f"{self.gateway}/v1/tenants", json={"name": name}, headers=ADMIN).json()["id"]
        return tenant

    def link(self, tenant: str) -> str:
        body = {"end_user_email": "it@acme.example"}
        response = self.http.post(f"{self.gateway}/v1/tenants/{tenant}/onboarding-link", json=body, headers=ADMIN)
        url: str = response.json()["url"]
        return url

    def integration_of(self, tenant: str) -> dict[str, Any] | None:
        shown = self.http.get(f"{self.gateway}/v1/tenants/{tenant}", headers=ADMIN).json()
        integration: dict[str, Any] | None = shown["integration"]
        return integration


@pytest.fixture
def page_settings(test_settings: Settings, ports: tuple[int, int]) -> Settings:
    settings = stack_settings(test_settings, *ports, vendor_name=VENDOR)
    on_loop(migrate, settings)
    return settings


@pytest.fixture
def world(page_settings: Settings, ports: tuple[int, int]) -> Iterator[World]:
    with running(page_settings, ports[1]) as (gateway, sandbox), httpx.Client(timeout=30) as http:
        yield World(gateway, sandbox, page_settings, http)


@pytest.fixture
def browser(page_settings: Settings) -> Iterator[Browser]:
    """Launched after the database fixtures (which need ``asyncio.run`` on this thread) and closed before them."""
    del page_settings
    with launched() as instance:
        yield instance


def connect_button(page: Page) -> Any:
    return page.get_by_role("button", name="Connect your ATS")


def test_the_admin_connects_the_ats_and_every_state_passes_the_audit(world: World, browser: Browser, axe: Axe) -> None:
    tenant = world.tenant()
    link = world.link(tenant)
    with audited_page(browser) as page:
        page.goto(link)
        expect(page.get_by_role("heading", name="Connect Acme's ATS")).to_be_visible()
        expect(page.locator("main")).to_contain_text(f"{VENDOR} asks you to connect Acme's applicant tracking system")
        expect(page.locator("footer")).to_have_text(f"{VENDOR}, for Acme")
        axe.check(page, "onboarding page, ready")
        page.get_by_role("link", name="check the connection").click()
        expect(page.get_by_role("status")).to_contain_text("has not heard from Kombo")
        axe.check(page, "onboarding page, not connected yet")

        with page.context.expect_page() as opened:
            connect_button(page).click()
        kombo = opened.value
        kombo.wait_for_url(f"{world.sandbox}/_sandbox/connect?token=*")
        expect(kombo.get_by_text("is about to connect")).to_contain_text("Acme")  # the link's tenant, by name
        kombo.get_by_role("button", name="Connect").click()
        integration = kombo.locator("#connected code").inner_text()
        kombo.close()

        page.get_by_role("link", name="check the connection").click()
        expect(page.get_by_role("heading", name="Your ATS is connected")).to_be_visible()
        assert world.integration_of(tenant) == {"id": integration, "state": "ACTIVE"}
        axe.check(page, "onboarding page, connected")
        page.reload()
        expect(page.get_by_role("heading", name="Already connected")).to_be_visible()
        axe.check(page, "onboarding page, already connected")

        world.http.request(
            "DELETE",
            f"{world.sandbox}/v1/integrations/{integration}",
            json={},
            headers={"authorization": f"Bearer {world.settings.kombo.api_key}"},
        ).raise_for_status()
        page.reload()
        expect(page.get_by_role("heading", name="This link was already used")).to_be_visible()
        axe.check(page, "onboarding page, link already used")


def test_the_pages_of_links_that_cannot_connect_pass_the_audit(world: World, browser: Browser, axe: Axe) -> None:
    tenant = world.tenant()
    replaced, link = world.link(tenant), world.link(tenant)
    with audited_page(browser) as page:
        for name, url, heading in (
            ("onboarding page, link replaced", replaced, "This link was replaced"),
            ("onboarding page, link expired", expired(world.settings, link), "This link has expired"),
            ("onboarding page, link forged", f"{link[:-3]}xyz", "This link does not work"),
        ):
            page.goto(url)
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
            axe.check(page, name)

        # The form posted without the token the page gave it (a cross-site form): refused, nothing starts.
        page.goto(link)
        page.evaluate("() => { const f = document.forms[0]; f.removeAttribute('target'); f.form_token.value = 'x' }")
        connect_button(page).click()
        expect(page.get_by_role("heading", name="Please try again")).to_be_visible()
        axe.check(page, "onboarding page, form refused")

        world.http.post(f"{world.sandbox}/_sandbox/faults", json={"target": "POST /connect/create-link"})
        page.goto(link)
        with page.context.expect_page() as opened:
            connect_button(page).click()
        failed = opened.value
        expect(failed.get_by_role("heading", name="This did not work just now")).to_be_visible()
        axe.check(failed, "onboarding page, Kombo unavailable")
        failed.close()

        # The page between the button and Kombo Connect: Kombo's answer is held back (a 204 leaves it in place).
        page.context.route(f"{world.sandbox}/_sandbox/connect?*", lambda route: route.fulfill(status=204))
        page.goto(link)
        with page.context.expect_page() as opened:
            connect_button(page).click()
        opening = opened.value
        expect(opening.get_by_role("heading", name="Opening Kombo Connect")).to_be_visible()
        expect(opening.get_by_role("link", name="continue to Kombo Connect")).to_have_attribute(
            "href", re.compile(re.escape(f"{world.sandbox}/_sandbox/connect?token=") + r"[\w-]+$")
        )
        axe.check(opening, "onboarding page, opening Kombo Connect")
    assert world.integration_of(tenant) is None


def test_the_page_works_from_the_keyboard(world: World, browser: Browser) -> None:
    link = world.link(world.tenant())
    with audited_page(browser, viewport={"width": 375, "height": 667}) as page:
        page.goto(link)
        assert press_tab(page) == "connect"  # the first stop, with a visible focus indicator
        with page.context.expect_page() as opened:
            page.keyboard.press("Enter")
        opened.value.wait_for_url(f"{world.sandbox}/_sandbox/connect?token=*")
        opened.value.close()
        assert press_tab(page) == "check"
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Not connected yet")).to_be_visible()
