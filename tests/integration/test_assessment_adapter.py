"""The ``assessment`` and ``inline_assessment`` adapters end to end: the sandbox sends a real order, the
gateway emails the invitation through a real SMTP server, the link works once, reminders go out and an
expired invitation is written back to the sandbox as CANCELLED."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import msgspec
import pytest

from agtest.smtp import Inbox, link_in, smtp, text_of
from agtest.stack import ADMIN, Clock, Stack, ports, run_jobs, running, stack_settings
from core.settings import MailSettings, Settings
from storage.database import Database

pytestmark = pytest.mark.anyio
__all__ = ["ports", "smtp"]

LAUNCH_SECRET = "vendor-launch-secret-0123456789"
PLUGINS = """
[routes]
default = "accept"
inline = "inline_assessment"
SKILLS_TEST = "assessment"

[adapters.assessment]
launch_url_template = "https://tests.vendor.example/start?order={order_id}&expires={expires}&signature={signature}"
expire_after_hours = 72
reminder_after_hours = [24, 48]

[adapters.assessment.branding]
company = "Acme Hiring"

[adapters.inline_assessment]
launch_url_template = "https://tests.vendor.example/start?order={order_id}&expires={expires}&signature={signature}"
"""


@pytest.fixture
async def mail_stack(
    db: Database, test_settings: Settings, ports: tuple[int, int], smtp: tuple[Inbox, str], tmp_path: Path
) -> AsyncIterator[tuple[Stack, Inbox]]:
    inbox, smtp_url = smtp
    plugins = tmp_path / "plugins.toml"
    plugins.write_text(PLUGINS)
    settings = stack_settings(
        test_settings, *ports, plugins_file=str(plugins), mail=MailSettings(url=smtp_url, sender="Acme <hr@acme.test>")
    )
    with running(settings, ports[1]) as (gateway_url, sandbox_url):
        async with httpx.AsyncClient(timeout=30) as http:
            yield Stack(gateway=gateway_url, sandbox=sandbox_url, settings=settings, http=http), inbox


async def invited(stack: Stack, db: Database, clock: Clock) -> tuple[str, dict[str, Any], dict[str, Any]]:
    tenant, integration = await stack.tenant_with_integration()
    response = await stack.http.put(
        f"{stack.gateway}/v1/tenants/{tenant}/secrets/launch_signing_secret",
        json={"value": LAUNCH_SECRET},
        headers=ADMIN,
    )
    assert response.status_code == 204
    placed = await stack.place(integration)
    [order] = await stack.gateway_orders(tenant)
    assert (order["status"], order["adapter"]) == ("accepted", "assessment")
    clock.catch_up()  # the gateway enqueued the start job on the wall clock
    await run_jobs(db, stack.settings, clock)
    return tenant, order, placed


async def test_the_invitation_arrives_by_smtp_and_its_link_works_once(
    db: Database, mail_stack: tuple[Stack, Inbox]
) -> None:
    stack, inbox = mail_stack
    tenant, order, _ = await invited(stack, db, Clock())
    [mail] = inbox.wait_for(1)
    assert mail["To"] == "ada@example.org"
    assert mail["Subject"] == "Your assessment for Acme Hiring"
    assert "Hello Ada" in text_of(mail)
    assert mail.get_body(preferencelist=("html",)) is not None
    link = link_in(mail)
    assert link.startswith(f"{stack.gateway}/c/")

    looked = await stack.http.get(link)  # a mail scanner's GET must not use the link up
    assert looked.status_code == 200
    assert looked.headers["referrer-policy"] == "no-referrer"
    first = await stack.http.post(link)
    second = await stack.http.post(link)
    again = await stack.http.get(link)

    assert first.status_code == 303
    target = urlsplit(first.headers["location"])
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert (target.netloc, query["order"]) == ("tests.vendor.example", order["id"])
    expected = hmac.new(LAUNCH_SECRET.encode(), f"{order['id']}.{query['expires']}".encode(), hashlib.sha256)
    assert query["signature"] == expected.hexdigest()
    assert second.status_code == 410
    assert "already used" in second.text
    assert again.status_code == 410
    detail = (await stack.http.get(f"{stack.gateway}/v1/tenants/{tenant}/orders/{order['id']}", headers=ADMIN)).json()
    kinds = [entry["kind"] for entry in detail["timeline"]]
    assert kinds.count("link.opened") == 1
    assert "candidate.invited" in kinds


async def test_a_forged_or_altered_link_is_refused(db: Database, mail_stack: tuple[Stack, Inbox]) -> None:
    stack, inbox = mail_stack
    await invited(stack, db, Clock())
    link = link_in(inbox.wait_for(1)[0])
    body, _, signature = link.rsplit("/", 1)[1].partition(".")
    altered = f"{stack.gateway}/c/{body}.{signature[:-2]}xx"
    for url in (altered, f"{stack.gateway}/c/nothing", f"{stack.gateway}/c/{body}"):
        response = await stack.http.post(url)
        assert response.status_code == 410, url
        assert "not valid" in response.text
    assert (await stack.http.post(link)).status_code == 303  # the genuine link is still unused


async def test_reminders_then_expiry_write_back_cancelled(db: Database, mail_stack: tuple[Stack, Inbox]) -> None:
    stack, inbox = mail_stack
    clock = Clock()
    _tenant, _order, placed = await invited(stack, db, clock)
    inbox.wait_for(1)
    clock.now += 25 * 3_600_000
    await run_jobs(db, stack.settings, clock)
    reminder = inbox.wait_for(2)[1]
    assert reminder["Subject"] == "Reminder: your assessment for Acme Hiring"
    clock.now += 24 * 3_600_000  # past 48 hours: the second reminder
    await run_jobs(db, stack.settings, clock)
    assert inbox.wait_for(3)[2]["Subject"] == "Reminder: your assessment for Acme Hiring"
    # Past the 72 hours: the expiry. (Had both come due together, as after a long outage, the expiry may run
    # first and the late reminder is then rightly skipped: the order is closed.)
    clock.now += 24 * 3_600_000
    await run_jobs(db, stack.settings, clock)

    state = (await stack.http.get(f"{stack.sandbox}/_sandbox/orders/{placed['id']}")).json()
    assert state["status"] == "CANCELLED"
    [reason] = state["result"]["attributes"]
    assert reason["label"] == "Reason"
    assert "did not complete the assessment" in reason["value"]
    assert len(inbox.wait_for(3)) == 3
    assert (await stack.http.post(link_in(inbox.messages[0]))).status_code == 410  # closed with the order


async def test_a_completed_order_does_not_expire(db: Database, mail_stack: tuple[Stack, Inbox]) -> None:
    stack, inbox = mail_stack
    clock = Clock()
    tenant, order, placed = await invited(stack, db, clock)
    result = {
        "status": "COMPLETED",
        "result_url": "https://tests.vendor.example/reports/1",
        "completed_at": "2026-11-26T10:00:00.000Z",
        "score": 90,
        "max_score": 100,
    }
    url = f"{stack.gateway}/v1/tenants/{tenant}/orders/{order['id']}/result"
    assert (await stack.http.put(url, json=result, headers=ADMIN)).status_code == 202
    clock.now += 100 * 3_600_000
    await run_jobs(db, stack.settings, clock)
    state = (await stack.http.get(f"{stack.sandbox}/_sandbox/orders/{placed['id']}")).json()
    assert (state["status"], state["result"]["score"]) == ("COMPLETED", 90)
    assert len(inbox.messages) == 1  # no reminders for a finished order


async def test_an_inline_order_gets_its_link_at_once_and_no_email(
    db: Database, mail_stack: tuple[Stack, Inbox]
) -> None:
    stack, inbox = mail_stack
    tenant, integration = await stack.tenant_with_integration()
    await stack.http.put(
        f"{stack.gateway}/v1/tenants/{tenant}/secrets/launch_signing_secret",
        json={"value": LAUNCH_SECRET},
        headers=ADMIN,
    )
    placed = await stack.place(integration, inline=True)
    [order] = await stack.gateway_orders(tenant)
    assert order["adapter"] == "inline_assessment"
    url = order["assessment_url"]
    assert url.startswith(f"{stack.gateway}/c/")
    state = (await stack.http.get(f"{stack.sandbox}/_sandbox/orders/{placed['id']}")).json()
    assert msgspec.json.encode(state).decode().count(url) >= 1  # the sandbox got the same URL back
    await run_jobs(db, stack.settings)
    assert (await stack.http.post(url)).status_code == 303
    assert inbox.messages == []


async def test_a_tenant_gets_its_own_branding_and_language(db: Database, mail_stack: tuple[Stack, Inbox]) -> None:
    stack, inbox = mail_stack
    tenant, integration = await stack.tenant_with_integration()
    secret = {"value": LAUNCH_SECRET}  # the adapter's requirement: without it the order would wait
    await stack.http.put(
        f"{stack.gateway}/v1/tenants/{tenant}/secrets/launch_signing_secret", json=secret, headers=ADMIN
    )
    branding = {"branding": {"company": "Acme GmbH", "language": "de"}}
    url = f"{stack.gateway}/v1/tenants/{tenant}/adapters/assessment/settings"
    assert (await stack.http.put(url, json=branding, headers=ADMIN)).status_code == 200
    await stack.place(integration)
    await run_jobs(db, stack.settings)
    [mail] = inbox.wait_for(1)
    assert mail["Subject"] == "Ihr Assessment für Acme GmbH"
    assert "Acme GmbH lädt Sie zu einem Assessment von assessgate ein." in text_of(mail)  # the vendor by default
    bad = await stack.http.put(url, json={"branding": {"language": "xx"}}, headers=ADMIN)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "$.branding.language"


async def test_a_failure_behind_the_link_is_a_page_for_the_candidate_and_a_fact_for_the_operator(
    db: Database, mail_stack: tuple[Stack, Inbox]
) -> None:
    stack, inbox = mail_stack
    tenant, order, _ = await invited(stack, db, Clock())
    link = link_in(inbox.wait_for(1)[0])
    # Someone deletes the secret the launch URL is signed with after the invitation went out.
    deleted = await stack.http.delete(
        f"{stack.gateway}/v1/tenants/{tenant}/secrets/launch_signing_secret", headers=ADMIN
    )
    assert deleted.status_code == 204
    failed = await stack.http.post(link)
    assert failed.status_code == 503
    assert failed.headers["content-type"].startswith("text/html")
    assert "try again in a few minutes" in failed.text
    assert "launch_signing_secret" not in failed.text  # the cause is the operator's to read, not the candidate's
    detail = (await stack.http.get(f"{stack.gateway}/v1/tenants/{tenant}/orders/{order['id']}", headers=ADMIN)).json()
    [entry] = [e for e in detail["timeline"] if e["kind"] == "candidate.link_failed"]
    assert "launch_signing_secret" in entry["detail"]["error"]
    metrics = (await stack.http.get(f"{stack.gateway}/metrics")).text
    assert 'assessgate_candidate_page_failures_total{adapter="assessment"} 1' in metrics
    # The link was not used up: once the secret is back, it works.
    restored = {"value": LAUNCH_SECRET}
    await stack.http.put(
        f"{stack.gateway}/v1/tenants/{tenant}/secrets/launch_signing_secret", json=restored, headers=ADMIN
    )
    assert (await stack.http.post(link)).status_code == 303
