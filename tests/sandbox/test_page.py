"""The sandbox's pages in a real headless Chromium: place an order from the ATS simulator and see it arrive and
its outcome; connect an integration. Both pass axe-core's WCAG 2.1 AA rules in every state, reflow at 320 px,
and work from the keyboard alone."""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.sync_api import Browser, Page, expect

from agtest.axe import Axe, audited_page, axe
from agtest.browser import browser
from agtest.keyboard import MIN_OUTLINE_PX, focused, outline, tab_to
from agtest.sandbox_support import API_KEY, SandboxHandle

__all__ = ["axe", "browser"]
RESULT = {
    "status": "COMPLETED",
    "result_url": "https://vendor.example/report",
    "completed_at": "2026-07-23T15:42:10.000Z",
}


def publish(sandbox: SandboxHandle, integration: str) -> None:
    packages = [
        {"id": "pkg-java", "type": "SKILLS_TEST", "name": "Java (Senior)", "description": "90 minutes"},
        {"id": "pkg-bg", "type": "BACKGROUND_CHECK", "name": "Background check", "description": "EU standard"},
    ]
    headers = {"Authorization": f"Bearer {API_KEY}", "X-Integration-Id": integration}
    httpx.put(f"{sandbox.api_url}/assessment/packages", json={"packages": packages}, headers=headers).raise_for_status()


def test_place_orders_from_the_page_and_see_their_outcomes(sandbox: SandboxHandle, browser: Browser) -> None:
    integration = sandbox.new_integration()
    publish(sandbox, integration)
    sandbox.receiver.replies["pkg-bg"] = (422, {"message": "Background checks need a signed contract first."})
    page = browser.new_page()
    try:
        page.goto(f"{sandbox.url}/_sandbox/ui?integration={integration}")
        expect(page.get_by_role("cell", name="Java (Senior)")).to_be_visible()

        page.select_option("#package_id", "pkg-java")
        page.fill("#email", "grace@example.org")
        page.click("#place-order")
        row = page.locator("#orders tbody tr").first
        expect(row).to_contain_text("grace@example.org")
        expect(row.locator(".status")).to_have_text("OPEN")

        page.select_option("#package_id", "pkg-bg")
        page.fill("#email", "alan@example.org")
        page.click("#place-order")
        rejected = page.locator("#orders tbody tr").first
        expect(rejected.locator(".status")).to_have_text("REJECTED")
        expect(rejected).to_contain_text("Background checks need a signed contract first.")
        page.screenshot(path=str(Path(tempfile.gettempdir()) / "assessgate-sandbox-page.png"), full_page=True)
    finally:
        page.close()
    arrived = [e["data"]["candidate"]["email"] for e in sandbox.receiver.events("assessment:order-received")]
    assert arrived == ["grace@example.org", "alan@example.org"]


def test_connect_page_creates_the_integration(sandbox: SandboxHandle, browser: Browser) -> None:
    link = httpx.post(
        f"{sandbox.api_url}/connect/create-link",
        json={
            "end_user_email": "it@acme.example",
            "end_user_organization_name": "Acme GmbH",
            "end_user_origin_id": "tenant-7",
            "integration_category": "ASSESSMENT",
        },
        headers={"Authorization": f"Bearer {API_KEY}"},
    ).json()["data"]["link"]
    page = browser.new_page()
    try:
        page.goto(link)
        expect(page.get_by_text("Acme GmbH")).to_be_visible()
        page.click("#connect")
        expect(page.locator("#connected")).to_contain_text("Acme GmbH")
        token = page.locator("#token").inner_text()
    finally:
        page.close()
    exchanged = httpx.get(
        f"{sandbox.api_url}/connect/integration-by-token/{token}", headers={"Authorization": f"Bearer {API_KEY}"}
    ).json()["data"]
    assert exchanged["end_user_origin_id"] == "tenant-7"
    assert sandbox.receiver.events("integration-created")[0]["data"]["id"] == exchanged["id"]


def kombo(sandbox: SandboxHandle, integration: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {API_KEY}", "X-Integration-Id": integration}
    return httpx.Client(base_url=sandbox.api_url, headers=headers, timeout=30)


def orders_in_every_status(sandbox: SandboxHandle, integration: str) -> None:
    """OPEN (one inline, with an assessment URL), COMPLETED (with attributes and an attachment), CANCELLED and
    REJECTED: every status colour and every kind of cell the orders table draws."""
    sandbox.receiver.replies["pkg-bg"] = (422, {"message": "Background checks need a signed contract first."})
    sandbox.receiver.replies["pkg-inline"] = (
        200,
        {"assessment_url": "https://tests.vendor.example/start/a-long-token"},
    )
    sandbox.place_order(integration, "pkg-java")
    sandbox.place_order(integration, "pkg-inline", inline=True)
    completed = sandbox.place_order(integration, "pkg-java")["id"]
    cancelled = sandbox.place_order(integration, "pkg-java")["id"]
    sandbox.place_order(integration, "pkg-bg")
    report = {
        **RESULT,
        "score": 87,
        "max_score": 100,
        "attributes": [
            {"type": "TEXT", "label": "Summary", "value": "Strong on concurrency"},
            {
                "type": "SUB_RESULT",
                "id": "algo",
                "label": "Algorithms",
                "score": {"value": 9, "max": 10},
                "status": "COMPLETED",
            },
        ],
        "attachments": [{"name": "report.pdf", "content_type": "application/pdf", "data": "AA=="}],
    }
    with kombo(sandbox, integration) as api:
        api.put(f"/assessment/orders/{completed}/result", json=report).raise_for_status()
        api.put(f"/assessment/orders/{cancelled}/result", json={**RESULT, "status": "CANCELLED"}).raise_for_status()


def contrast(page: Page, selector: str) -> float:
    """The WCAG contrast ratio of an element's text colour against white (the cells' background)."""
    rgb: list[float] = page.eval_on_selector(
        selector, "e => getComputedStyle(e).color.match(/[\\d.]+/g).slice(0, 3).map(Number)"
    )
    channels = [c / 255 for c in rgb]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def test_the_ats_simulator_passes_the_audit_in_every_state(sandbox: SandboxHandle, browser: Browser, axe: Axe) -> None:
    with audited_page(browser) as page:
        page.goto(f"{sandbox.url}/_sandbox/ui")
        expect(page.get_by_text("No integration yet")).to_be_visible()
        axe.check(page, "ATS simulator without integrations")

        integration = sandbox.new_integration()
        page.goto(f"{sandbox.url}/_sandbox/ui?integration={integration}")
        expect(page.get_by_text("No packages published")).to_be_visible()
        axe.check(page, "ATS simulator without packages or orders")

        publish(sandbox, integration)
        orders_in_every_status(sandbox, integration)
        for number in range(3):  # long option texts in the integration select
            sandbox.new_integration(origin_id=f"a-rather-long-tenant-identifier-{number}-0123456789abcdef")
        page.goto(f"{sandbox.url}/_sandbox/ui?integration={integration}")
        statuses = page.locator("#orders .status")
        expect(statuses).to_have_count(5)
        assert sorted(set(statuses.all_inner_texts())) == ["CANCELLED", "COMPLETED", "OPEN", "REJECTED"]
        axe.check(page, "ATS simulator with orders in every status")
        for status in ("OPEN", "COMPLETED", "CANCELLED", "REJECTED"):  # WCAG 1.4.3, also checked without axe
            assert contrast(page, f"#orders .status.{status}") >= 4.5, status
        # A result without a score shows no score line; one with a score shows it with its maximum.
        expect(page.locator("#orders tr", has=page.locator(".status.CANCELLED"))).not_to_contain_text("Score")
        completed = page.locator("#orders tr", has=page.locator(".status.COMPLETED"))
        expect(completed.locator(".score")).to_have_text("Score: 87.0 / 100.0")
        for width in (1280, 2400):  # on a laptop and a wide screen the tables fit: no scrolling inside them either
            assert not scrolled_regions(page, width), (
                f"at {width} px these regions scroll: {scrolled_regions(page, width)}"
            )
        page.screenshot(path=str(Path(tempfile.gettempdir()) / "assessgate-sandbox-page-a11y.png"), full_page=True)


def scrolled_regions(page: Page, width: int) -> list[str]:
    """The scrolling regions (``.scroll``) whose content is wider than they are at ``width``."""
    page.set_viewport_size({"width": width, "height": 768})
    wide: list[str] = page.eval_on_selector_all(
        ".scroll", "es => es.filter(e => e.scrollWidth > e.clientWidth).map(e => e.getAttribute('aria-label'))"
    )
    return wide


def test_every_page_states_its_charset_once(sandbox: SandboxHandle) -> None:
    """Content-Type says ``charset=utf-8`` once on each of the sandbox's pages (it once said it twice)."""
    integration = sandbox.new_integration()
    link = httpx.post(
        f"{sandbox.api_url}/connect/create-link",
        json={
            "end_user_email": "it@acme.example",
            "end_user_organization_name": "Acme GmbH",
            "integration_category": "ASSESSMENT",
        },
        headers={"Authorization": f"Bearer {API_KEY}"},
    ).json()["data"]["link"]
    for url in (f"{sandbox.url}/_sandbox/ui?integration={integration}", link, f"{sandbox.url}/_sandbox/demo-platform/"):
        assert httpx.get(url).headers["content-type"] == "text/html; charset=utf-8", url


def test_the_connect_pages_pass_the_audit_and_work_from_the_keyboard(
    sandbox: SandboxHandle, browser: Browser, axe: Axe
) -> None:
    link = httpx.post(
        f"{sandbox.api_url}/connect/create-link",
        json={
            "end_user_email": "it@acme.example",
            "end_user_organization_name": "Acme GmbH",
            "integration_category": "ASSESSMENT",
        },
        headers={"Authorization": f"Bearer {API_KEY}"},
    ).json()["data"]["link"]
    with audited_page(browser) as page:
        page.goto(link)
        axe.check(page, "sandbox connect page")
        tab_to(page, "#connect")  # from the keyboard alone
        page.keyboard.press("Enter")
        expect(page.locator("#connected")).to_be_visible()
        axe.check(page, "sandbox connect page, connected")


def test_the_ats_simulator_works_from_the_keyboard_alone(sandbox: SandboxHandle, browser: Browser, axe: Axe) -> None:
    first = sandbox.new_integration()
    second = sandbox.new_integration()
    publish(sandbox, first)
    with audited_page(browser) as page:
        page.goto(f"{sandbox.url}/_sandbox/ui?integration={second}")
        tab_to(page, "#integration")
        page.keyboard.press("ArrowUp")  # choosing an integration does not leave the page by itself (WCAG 3.2.2)
        assert parse_qs(urlsplit(page.url).query)["integration"] == [second]
        assert page.eval_on_selector("#integration", "e => e.value") == first
        page.keyboard.press("Tab")
        assert focused(page) == "show-integration"
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("integration") == [first])

        tab_to(page, "#email")
        page.keyboard.press("ControlOrMeta+a")
        page.keyboard.type("grace@example.org")
        tab_to(page, "#place-order")
        page.keyboard.press("Enter")
        expect(page.locator("#orders tbody tr").first).to_contain_text("grace@example.org")
        tab_to(page, "[role=region][aria-label=Orders]")  # the table's region scrolls from the keyboard
        assert outline(page) >= MIN_OUTLINE_PX
        axe.check(page, "ATS simulator after an order placed from the keyboard")
    assert [e["data"]["candidate"]["email"] for e in sandbox.receiver.events("assessment:order-received")] == [
        "grace@example.org"
    ]


def test_the_demo_platform_pages_pass_the_audit(browser: Browser, axe: Axe) -> None:
    """The demo's stand-in vendor platform: the test page a launch link lands on, the cases page, its refusals."""
    import base64
    import hashlib
    import hmac
    import time

    from agtest.servers import free_port, serve
    from sandbox.app import create_sandbox_app
    from sandbox.demo_platform import PATH, DemoPlatform
    from sandbox.settings import SandboxSettings

    port = free_port()
    app = create_sandbox_app(SandboxSettings(api_key=API_KEY, public_url=f"http://127.0.0.1:{port}"))
    app.state.sandbox.demo_platform = DemoPlatform(
        gateway_url="http://127.0.0.1:9",
        tenant_id="tenant-1",
        api_key="agk_unused",
        launch_secret="launch-secret",
        forward_secret="whsec_" + base64.b64encode(b"f" * 32).decode(),
        cases={"kombo-order-1": "order-1"},
    )
    expires = str(int(time.time()) + 600)
    signature = hmac.new(b"launch-secret", f"order-1.{expires}".encode(), hashlib.sha256).hexdigest()
    with serve(app, port) as url:
        pages = {
            "demo platform test page": f"{url}{PATH}/start?order=order-1&expires={expires}&signature={signature}",
            "demo platform cases page": f"{url}{PATH}/",
            "demo platform refusal": f"{url}{PATH}/start?order=order-1&expires={expires}&signature=forged",
        }
        for name, page_url in pages.items():
            with audited_page(browser) as page:
                page.goto(page_url)
                axe.check(page, name)
                if name == "demo platform test page":
                    expect(page.get_by_role("button", name="Finish the test")).to_be_visible()
