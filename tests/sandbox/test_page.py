"""The ATS-simulator page in a real headless Chromium: place an order, see it arrive and its outcome."""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
from playwright.sync_api import Browser, expect

from agtest.browser import browser
from agtest.sandbox_support import API_KEY, SandboxHandle

__all__ = ["browser"]


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
