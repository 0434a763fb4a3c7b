"""The ``background_check`` adapter end to end, with the candidate in a real headless Chromium: the form
link arrives by SMTP, the form refuses incomplete answers (accessibly), the answers are stored encrypted and
handed to the screening platform (signed), progress and the final report reach the sandbox as a Kombo
result with one SUB_RESULT per check, and the answers are purged after their retention."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from agtest.audit import dump, leaks
from agtest.browser import launched
from agtest.platform import PLATFORM_SECRET, Platform, platform
from agtest.smtp import Inbox, link_in, smtp, text_of
from agtest.stack import ADMIN, Clock, ports, running, stack_settings
from agtest.sync_jobs import drain, on_loop
from core.settings import MailSettings, Settings
from storage.migrations import migrate

__all__ = ["platform", "ports", "smtp"]
CATALOG = [{"id": "pkg-bg", "type": "BACKGROUND_CHECK", "name": "Background check", "description": "EU standard"}]
REPORT = {
    "type": "background_check.report",
    "status": "consider",
    "checks": [
        {"id": "identity", "label": "Identity", "status": "clear"},
        {"id": "criminal", "label": "Criminal record", "status": "consider", "note": "A 2019 traffic offence"},
        {"id": "credit", "label": "Credit", "status": "not_performed"},
    ],
    "completed_at": "2026-11-26T12:00:00.000Z",
}


def fill_the_form(browser: Browser, link: str) -> None:
    page = browser.new_page()
    try:
        page.goto(link)
        expect(page.get_by_role("heading", name="Background check")).to_be_visible()
        page.get_by_role("button", name="Submit securely").click()
        expect(page.get_by_role("alert")).to_contain_text("Please check 3 answers")
        expect(page.get_by_label("Date of birth")).to_have_attribute("aria-invalid", "true")
        page.get_by_label("Date of birth").fill("1990-04-01")
        page.fill("#address_history-0-street", "12 Lovelace Lane")
        page.fill("#address_history-0-city", "Manchester")
        page.fill("#address_history-0-postal_code", "M1 1AA")
        page.fill("#address_history-0-country", "GB")
        page.fill("#address_history-0-from", "2019-03")
        page.get_by_label("I consent").check()
        page.get_by_role("button", name="Submit securely").click()
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
        page.goto(link)
        expect(page.get_by_role("heading", name="This link was already used")).to_be_visible()
    finally:
        page.close()


@pytest.fixture
def bg_settings(
    test_settings: Settings, ports: tuple[int, int], smtp: tuple[Inbox, str], platform: Platform, tmp_path: Path
) -> Settings:
    plugins = tmp_path / "plugins.toml"
    plugins.write_text(
        f'[routes]\nBACKGROUND_CHECK = "background_check"\n\n[adapters.background_check]\n'
        f'forward_url = "{platform.url}"\nretention_days = 30\n'
    )
    settings = stack_settings(  # the screening platform runs on loopback: the operator's allow-list admits it
        test_settings,
        *ports,
        plugins_file=str(plugins),
        mail=MailSettings(url=smtp[1]),
        outbound_allow=("127.0.0.1/32",),
        vendor_name="Checkly Screening",
    )
    on_loop(migrate, settings)
    return settings


@pytest.fixture
def browser(bg_settings: Settings) -> Iterator[Browser]:
    """Launched after the database fixtures (which need ``asyncio.run`` on this thread) and closed before them."""
    del bg_settings
    with launched() as instance:
        yield instance


def test_the_candidate_fills_the_form_and_the_report_reaches_the_ats(
    bg_settings: Settings, ports: tuple[int, int], smtp: tuple[Inbox, str], platform: Platform, browser: Browser
) -> None:
    inbox, clock = smtp[0], Clock()
    with running(bg_settings, ports[1]) as (gateway, sandbox), httpx.Client(timeout=30) as http:
        tenant = http.post(f"{gateway}/v1/tenants", json={"name": "Acme"}, headers=ADMIN).json()["id"]
        http.put(f"{gateway}/v1/tenants/{tenant}/packages", json={"packages": CATALOG}, headers=ADMIN)
        secret = {"value": PLATFORM_SECRET}
        http.put(f"{gateway}/v1/tenants/{tenant}/secrets/forward_signing_secret", json=secret, headers=ADMIN)
        integration = http.post(f"{sandbox}/_sandbox/integrations", json={"origin_id": tenant}).json()["id"]
        body = {"package_id": "pkg-bg", "candidate": {"email": "alan@example.org", "first_name": "Alan"}}
        placed = http.post(f"{sandbox}/_sandbox/integrations/{integration}/orders", json=body).json()
        drain(bg_settings, clock)
        [mail] = inbox.wait_for(1)
        # Without a company in the tenant's branding, the tenant's name; the vendor's is said as who checks.
        assert mail["Subject"] == "Background check for Acme"
        assert "Acme has asked for a background check, carried out by Checkly Screening." in text_of(mail)
        link = link_in(mail)

        fill_the_form(browser, link)

        stored = on_loop(lambda db: db.fetch("SELECT ciphertext, field_names FROM candidate_data"), bg_settings)
        assert stored[0]["field_names"] == "address_history,consent,date_of_birth"
        # The answers are nowhere in clear: not in the whole database, not in what the gateway serves.
        served = [http.get(f"{gateway}{path}", headers=ADMIN).text for path in ("/metrics", "/v1/jobs")]
        served.append(http.get(f"{gateway}/v1/tenants/{tenant}/orders", headers=ADMIN).text)
        assert leaks("\n".join([on_loop(dump, bg_settings), *served])) == []
        assert "1990-04-01" not in on_loop(dump, bg_settings)

        drain(bg_settings, clock)
        [handed] = platform.wait_for(1)
        assert handed["type"] == "background_check.candidate_data"
        assert handed["candidate_data"]["date_of_birth"] == "1990-04-01"
        assert handed["candidate_data"]["address_history"][0]["city"] == "Manchester"
        in_progress = http.get(f"{sandbox}/_sandbox/orders/{placed['id']}").json()
        assert in_progress["status"] == "OPEN"
        assert {"type": "TEXT", "label": "Outcome", "value": "Checks in progress"} in in_progress["result"][
            "attributes"
        ]

        order_id = handed["order"]["id"]
        events = f"{gateway}/v1/tenants/{tenant}/orders/{order_id}/events"
        bad = http.post(events, json={**REPORT, "status": "done"}, headers=ADMIN)
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["path"] == "$.status"
        documents = [{"name": "report.pdf", "url": f"{platform.base}/reports/7.pdf"}]
        reported = http.post(events, json={**REPORT, "documents": documents}, headers=ADMIN)
        assert reported.status_code == 202
        drain(bg_settings, clock)
        final = http.get(f"{sandbox}/_sandbox/orders/{placed['id']}").json()
    assert final["status"] == "COMPLETED"
    attributes = final["result"]["attributes"]
    assert attributes[0] == {"type": "TEXT", "label": "Outcome", "value": "Consider"}
    sub_results = {a["id"]: a for a in attributes if a["type"] == "SUB_RESULT"}
    assert sub_results["identity"]["score"] == {"value": 1, "max": 1}
    assert sub_results["criminal"]["score"] == {"value": 0, "max": 1}
    assert sub_results["credit"]["status"] == "CANCELLED"
    assert {"type": "TEXT", "label": "Criminal record note", "value": "A 2019 traffic offence"} in attributes
    assert [a["name"] for a in final["result"]["attachments"]] == ["report.pdf"]
    assert platform.refused_signatures == 0
