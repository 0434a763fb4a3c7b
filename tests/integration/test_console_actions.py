"""The console's operator actions over HTTP, on both engines: jobs retried and discarded one by one and all
that match a filter (only those), lists paged with their filters kept, bad filters answered with a page, and
each action in the audit log with its session and tenant."""

from __future__ import annotations

import re
import uuid

import msgspec
import pytest

from agtest.admission import in_this_loop
from agtest.console import csrf, log_in
from core.clock import wall_clock_ms
from core.settings import Settings
from jobs.outbox import Outbox
from storage.database import Database

pytestmark = pytest.mark.anyio
ADMIN = {"authorization": "Bearer test-admin-token-0123456789"}


class Ping(msgspec.Struct):
    n: int


async def dead_jobs(db: Database, kind: str, count: int, tenant_id: uuid.UUID | None = None) -> list[str]:
    outbox, ids = Outbox(db), []
    for n in range(count):
        job_id = await outbox.enqueue(kind, Ping(n=n), now_ms=wall_clock_ms() + n, tenant_id=tenant_id)
        assert job_id is not None
        await outbox.operator_discard(job_id, now_ms=wall_clock_ms())  # dead, with a reason
        ids.append(job_id)
    return ids


async def test_jobs_are_retried_and_discarded_one_or_all_matching(test_settings: Settings, db: Database) -> None:
    async with in_this_loop(test_settings) as gateway:
        http = gateway.client
        tenant = uuid.UUID((await http.post("/v1/tenants", json={"name": "Acme"}, headers=ADMIN)).json()["id"])
        pings = await dead_jobs(db, "console.ping", 3, tenant)
        [pong] = await dead_jobs(db, "console.pong", 1)
        await log_in(http)
        token = await csrf(http, "/console/jobs")
        listed = await http.get("/console/jobs", params={"state": "dead"})
        assert all(job_id in listed.text for job_id in [*pings, pong])
        retried = await http.post(
            "/console/jobs/all/retry", data={"csrf_token": token, "state": "dead", "kind": "console.ping"}
        )
        assert retried.status_code == 303
        assert "done=retried" in retried.headers["location"]
        assert "kind=console.ping" in retried.headers["location"]  # back to the same filter
        states = {str(r["id"]): r["state"] for r in await db.fetch("SELECT id, state FROM outbox_job")}
        assert [states[i] for i in pings] == ["queued"] * 3
        assert states[pong] == "dead"  # another kind: not matched
        one = await http.post(f"/console/jobs/{pings[0]}/discard", data={"csrf_token": token, "state": "queued"})
        assert one.status_code == 303
        again = await http.post(f"/console/jobs/{pong}/retry", data={"csrf_token": token})
        assert again.status_code == 303
        refused = await http.post(f"/console/jobs/{pong}/retry", data={"csrf_token": token})
        assert refused.status_code == 409  # a queued job is not retried: a page says so
        assert "cannot be retried" in refused.text
        bad = await http.get("/console/jobs", params={"state": "sleeping"})
        assert bad.status_code == 400
        assert "no job state" in bad.text
    rows = await db.fetch("SELECT actor, action, tenant_id, detail FROM audit_event ORDER BY at")
    actions = [r for r in rows if r["action"].startswith("job")]
    assert [r["action"] for r in actions] == ["jobs.retry_all", "job.discard", "job.retry"]
    assert actions[0]["detail"].startswith("3 of 3 job(s)")
    assert [str(r["tenant_id"]) for r in actions] == ["None", str(tenant), "None"]  # the job's tenant, when it has one
    assert len({r["actor"] for r in rows if r["actor"].startswith("console:")}) == 1


async def test_lists_page_with_their_filters(test_settings: Settings, db: Database) -> None:
    del db
    async with in_this_loop(test_settings) as gateway:
        http = gateway.client
        for n in range(55):
            await http.post("/v1/tenants", json={"name": f"Tenant {n:02}"}, headers=ADMIN)
        await log_in(http)
        first = await http.get("/console/tenants", params={"q": "tenant"})
        assert first.text.count('href="/console/tenants/') == 50
        [next_link] = re.findall(r'href="\?([^"]*cursor=[^"]*)"', first.text)
        assert "q=tenant" in next_link
        second = await http.get(f"/console/tenants?{next_link.replace('&amp;', '&')}")
        assert second.text.count('href="/console/tenants/') == 5
        assert "Tenant 54" in second.text
        narrowed = await http.get("/console/tenants", params={"q": "ENANT 1"})
        assert narrowed.text.count('href="/console/tenants/') == 10  # Tenant 10 to 19, whatever the case
        for path, params in (("/console/orders", {"tenant": "nope"}), ("/console/orders", {"created_from": "x"})):
            bad = await http.get(path, params=params)
            assert bad.status_code == 400
            assert "<h1>Bad Request</h1>" in bad.text
        assert (await http.get("/console/orders", params={"cursor": "not-a-cursor"})).status_code == 400
        assert (await http.get(f"/console/orders/{uuid.uuid4()}")).status_code == 404
        assert (await http.get(f"/console/tenants/{uuid.uuid4()}")).status_code == 404


def figure(html: str, label: str) -> str:
    """The number the overview shows for ``label``, and the link it sits in."""
    match = re.search(r'<a href="([^"]*)"><span class="n">([^<]*)</span> ' + re.escape(label) + "</a>", html)
    assert match is not None, f"no figure {label!r} on the overview"
    return f"{match[2]} -> {match[1]}"


async def test_the_overview_shows_the_numbers_of_metrics(test_settings: Settings, db: Database) -> None:
    async with in_this_loop(test_settings) as gateway:
        http = gateway.client
        await dead_jobs(db, "console.ping", 2)
        await Outbox(db).enqueue("result.write_back", Ping(n=1), now_ms=wall_clock_ms() - 5_000)
        refused = await http.post("/kombo/webhooks", content=b"{}", headers={"x-kombo-signature": "x"})
        assert refused.status_code == 401
        await log_in(http)
        html = (await http.get("/console")).text
        metrics = (await http.get("/metrics")).text
    assert figure(html, "Dead jobs") == "2 -> /console/jobs?state=dead"
    assert figure(html, "Write-back backlog") == "1 -> /console/jobs?state=queued&amp;kind=result.write_back"
    assert figure(html, "Webhooks with a bad signature").startswith("1 ->")
    assert 'assessgate_webhooks_total{outcome="bad_signature",type="unknown"} 1' in metrics
    assert figure(html, "Orders in the last hour") == "0 -> /console/orders"
    waited = int(figure(html, "Oldest due job waits").split(" s ->")[0])
    assert waited >= 5  # the write-back was due five seconds ago
