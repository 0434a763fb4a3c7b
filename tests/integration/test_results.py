"""Result write-back end to end over real HTTP: the results API, Kombo's failures, parking, attachments."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

import pytest

from agtest.stack import ADMIN, Clock, Stack, ports, run_jobs, running, stack, stack_settings
from core.settings import Settings
from storage.database import Database

pytestmark = pytest.mark.anyio
__all__ = ["ports", "stack"]

COMPLETED: dict[str, Any] = {
    "status": "COMPLETED",
    "result_url": "https://vendor.example/reports/1",
    "completed_at": "2026-07-23T15:42:10.000Z",
    "score": 78.5,
    "max_score": 100,
    "attributes": [
        {"type": "TEXT", "label": "Recommendation", "value": "Proceed"},
        {"type": "SUB_RESULT", "id": "core", "label": "Core", "score": {"value": 41, "max": 50}, "status": "COMPLETED"},
    ],
}


async def accepted_order(stack: Stack) -> tuple[str, str, str, dict[str, Any]]:
    tenant, integration = await stack.tenant_with_integration()
    placed = await stack.place(integration)
    [order] = await stack.gateway_orders(tenant)
    return tenant, integration, order["id"], placed


async def submit(stack: Stack, tenant: str, order: str, body: Any) -> Any:
    return await stack.http.put(f"{stack.gateway}/v1/tenants/{tenant}/orders/{order}/result", json=body, headers=ADMIN)


async def sandbox_order(stack: Stack, kombo_id: str) -> dict[str, Any]:
    order: dict[str, Any] = (await stack.http.get(f"{stack.sandbox}/_sandbox/orders/{kombo_id}")).json()
    return order


async def fault(stack: Stack, **rule: Any) -> None:
    response = await stack.http.post(
        f"{stack.sandbox}/_sandbox/faults", json={"target": "PUT /assessment/orders/{id}/result", **rule}
    )
    response.raise_for_status()


async def write_back_job(stack: Stack) -> dict[str, Any]:
    jobs = (
        await stack.http.get(f"{stack.gateway}/v1/jobs", params={"kind": "result.write_back"}, headers=ADMIN)
    ).json()["items"]
    job: dict[str, Any] = jobs[0]
    return job


VIOLATIONS: list[tuple[str, dict[str, Any], str]] = [
    ("status missing", {k: v for k, v in COMPLETED.items() if k != "status"}, "$.status"),
    ("status REJECTED", {**COMPLETED, "status": "REJECTED"}, "$.status"),
    ("result_url missing", {k: v for k, v in COMPLETED.items() if k != "result_url"}, "$.result_url"),
    (
        "completed_at missing on a final status",
        {k: v for k, v in COMPLETED.items() if k != "completed_at"},
        "$.completed_at",
    ),
    ("completed_at with an offset", {**COMPLETED, "completed_at": "2026-07-23T15:42:10+00:00"}, "$.completed_at"),
    ("score not a number", {**COMPLETED, "score": "high"}, "$.score"),
    ("unknown attribute type", {**COMPLETED, "attributes": [{"type": "CHART"}]}, "$.attributes[0].type"),
    ("TEXT without value", {**COMPLETED, "attributes": [{"type": "TEXT", "label": "L"}]}, "$.attributes[0].value"),
    (
        "SUB_RESULT max below 1",
        {
            **COMPLETED,
            "attributes": [
                {"type": "SUB_RESULT", "id": "a", "label": "A", "score": {"value": 0, "max": 0}, "status": "COMPLETED"}
            ],
        },
        "$.attributes[0].score.max",
    ),
    (
        "SUB_RESULT status OPEN",
        {
            **COMPLETED,
            "attributes": [
                {"type": "SUB_RESULT", "id": "a", "label": "A", "score": {"value": 0, "max": 1}, "status": "OPEN"}
            ],
        },
        "$.attributes[0].status",
    ),
    (
        "six attachments",
        {**COMPLETED, "attachments": [{"name": "a.pdf", "data_url": "https://x.example/a"}] * 6},
        "$.attachments",
    ),
    (
        "attachment without a name",
        {**COMPLETED, "attachments": [{"data_url": "https://x.example/a"}]},
        "$.attachments[0].name",
    ),
    (
        "both data and data_url",
        {
            **COMPLETED,
            "attachments": [
                {"name": "a.pdf", "content_type": "application/pdf", "data": "AA==", "data_url": "https://x.example/a"}
            ],
        },
        "$.attachments[0]",
    ),
    ("neither data nor data_url", {**COMPLETED, "attachments": [{"name": "a.pdf"}]}, "$.attachments[0]"),
    (
        "data without content_type",
        {**COMPLETED, "attachments": [{"name": "a.pdf", "data": "AA=="}]},
        "$.attachments[0].content_type",
    ),
    (
        "data not base64",
        {**COMPLETED, "attachments": [{"name": "a.pdf", "content_type": "application/pdf", "data": "***"}]},
        "$.attachments[0].data",
    ),
    (
        "content_type with parameters",
        {
            **COMPLETED,
            "attachments": [
                {"name": "a.pdf", "content_type": "application/pdf; charset=binary", "data_url": "https://x.example/a"}
            ],
        },
        "$.attachments[0].content_type",
    ),
    (
        "content_type with a plus",
        {
            **COMPLETED,
            "attachments": [{"name": "a.svg", "content_type": "image/svg+xml", "data_url": "https://x.example/a"}],
        },
        "$.attachments[0].content_type",
    ),
    (
        "unknown upload",
        {**COMPLETED, "attachments": [{"name": "a.pdf", "upload_id": str(uuid.uuid4())}]},
        "$.attachments[0].upload_id",
    ),
    ("an unknown field", {**COMPLETED, "scroe": 1}, "$.scroe"),
]


async def test_every_documented_rule_is_a_422_naming_the_field(stack: Stack) -> None:
    tenant, _, order, _ = await accepted_order(stack)
    for rule, body, path in VIOLATIONS:
        response = await submit(stack, tenant, order, body)
        assert response.status_code == 422, rule
        assert response.headers["content-type"] == "application/problem+json", rule
        assert path in {e["path"] for e in response.json()["errors"]}, (rule, response.text)
    several = await submit(stack, tenant, order, {"status": "DONE", "completed_at": "yesterday"})
    assert {e["path"] for e in several.json()["errors"]} >= {"$.status", "$.result_url", "$.completed_at"}


async def test_a_result_is_written_back_with_kombos_warnings(stack: Stack, db: Database) -> None:
    tenant, _, order, placed = await accepted_order(stack)
    response = await submit(stack, tenant, order, COMPLETED)
    assert response.status_code == 202
    assert response.json()["write_back"] == "queued"
    again = await submit(stack, tenant, order, COMPLETED)  # the same submission: the same result
    assert again.json()["result_id"] == response.json()["result_id"]
    assert again.json()["repeated"] is True
    await run_jobs(db, stack.settings)
    state = await sandbox_order(stack, placed["id"])
    assert (state["status"], state["result"]["score"], state["result_count"]) == ("COMPLETED", 78.5, 1)
    detail = (await stack.http.get(f"{stack.gateway}/v1/tenants/{tenant}/orders/{order}", headers=ADMIN)).json()
    written = [e for e in detail["timeline"] if e["kind"] == "written_back"]
    assert written[0]["detail"]["warnings"] == ["Sub-results are shown as formatted text in this ATS."]
    assert detail["status"] == "completed"
    changed = await submit(stack, tenant, order, {**COMPLETED, "status": "CANCELLED"})
    assert changed.status_code == 422
    assert "final" in changed.text


async def test_a_two_minute_outage_is_waited_out(stack: Stack, db: Database) -> None:
    tenant, _, order, placed = await accepted_order(stack)
    await fault(stack, status=503, code="REMOTE.SERVICE_UNAVAILABLE", for_seconds=120)
    await submit(stack, tenant, order, COMPLETED)
    clock = Clock()
    await run_jobs(db, stack.settings, clock)
    clock.now += 60_000
    await run_jobs(db, stack.settings, clock)
    assert (await sandbox_order(stack, placed["id"]))["status"] == "OPEN"  # still down after a minute
    await stack.http.post(f"{stack.sandbox}/_sandbox/time/advance", json={"seconds": 121})
    clock.now += 30 * 60_000
    await run_jobs(db, stack.settings, clock)
    assert (await sandbox_order(stack, placed["id"]))["status"] == "COMPLETED"
    job = await write_back_job(stack)
    assert job["state"] == "done"
    assert job["attempts"] >= 3


async def test_a_rate_limit_reset_is_waited_for(stack: Stack, db: Database) -> None:
    tenant, _, order, placed = await accepted_order(stack)
    await fault(stack, status=429, code="PLATFORM.RATE_LIMIT_EXCEEDED", times=1, headers={"ratelimit-reset": "30"})
    await submit(stack, tenant, order, COMPLETED)
    clock = Clock()
    await run_jobs(db, stack.settings, clock)
    clock.now += 29_000
    await run_jobs(db, stack.settings, clock)  # not yet: the reset is 30 s away
    assert (await write_back_job(stack))["state"] == "queued"
    clock.now += 2_000
    await run_jobs(db, stack.settings, clock)
    assert (await sandbox_order(stack, placed["id"]))["status"] == "COMPLETED"


async def test_an_inactive_integration_parks_write_backs_until_it_is_active(stack: Stack, db: Database) -> None:
    tenant, integration, order, placed = await accepted_order(stack)
    await stack.http.post(f"{stack.sandbox}/_sandbox/integrations/{integration}/state", json={"state": "INACTIVE"})
    await submit(stack, tenant, order, COMPLETED)
    await run_jobs(db, stack.settings)
    assert (await write_back_job(stack))["state"] == "parked"
    await stack.http.post(f"{stack.sandbox}/_sandbox/integrations/{integration}/state", json={"state": "ACTIVE"})
    await run_jobs(db, stack.settings)  # the state-change webhook released it
    assert (await sandbox_order(stack, placed["id"]))["status"] == "COMPLETED"


async def test_an_input_error_goes_dead_with_its_reason_and_succeeds_when_retried(stack: Stack, db: Database) -> None:
    tenant, _, order, placed = await accepted_order(stack)
    await fault(stack, status=400, code="PLATFORM.INPUT_INVALID", message="score must be within max_score", times=1)
    await submit(stack, tenant, order, COMPLETED)
    await run_jobs(db, stack.settings)
    job = await write_back_job(stack)
    assert job["state"] == "dead"
    assert "PLATFORM.INPUT_INVALID" in job["last_error"]
    assert "score must be within max_score" in job["last_error"]
    assert "https://sandbox.invalid/logs/" in job["last_error"]  # Kombo's log link
    detail = (await stack.http.get(f"{stack.gateway}/v1/tenants/{tenant}/orders/{order}", headers=ADMIN)).json()
    failed = [e for e in detail["timeline"] if e["kind"] == "write_back.failed"]
    assert failed[0]["detail"]["code"] == "PLATFORM.INPUT_INVALID"
    retried = await stack.http.post(f"{stack.gateway}/v1/jobs/{job['id']}/retry", headers=ADMIN)
    assert retried.status_code == 200
    await run_jobs(db, stack.settings)
    assert (await sandbox_order(stack, placed["id"]))["status"] == "COMPLETED"


async def test_a_newer_result_supersedes_a_queued_older_one(stack: Stack, db: Database) -> None:
    tenant, _, order, placed = await accepted_order(stack)
    await submit(stack, tenant, order, {"status": "OPEN", "result_url": "https://vendor.example/progress"})
    await submit(stack, tenant, order, COMPLETED)
    await run_jobs(db, stack.settings)
    state = await sandbox_order(stack, placed["id"])
    assert (state["status"], state["result_count"]) == ("COMPLETED", 1)  # the older one never landed
    rows = await db.fetch("SELECT status, write_back FROM order_result ORDER BY created_at")
    assert [(r["status"], r["write_back"]) for r in rows] == [("OPEN", "superseded"), ("COMPLETED", "written")]


async def test_uploaded_attachments_are_fetched_through_a_signed_url(stack: Stack, db: Database) -> None:
    tenant, _, order, placed = await accepted_order(stack)
    report = b"%PDF-1.4 a candidate report " + bytes(range(256))
    upload = await stack.http.post(
        f"{stack.gateway}/v1/tenants/{tenant}/uploads",
        params={"name": "report.pdf"},
        content=report,
        headers={**ADMIN, "content-type": "application/pdf"},
    )
    assert upload.status_code == 201, upload.text
    body = {**COMPLETED, "attachments": [{"name": "Report.pdf", "upload_id": upload.json()["id"]}]}
    await submit(stack, tenant, order, body)
    await run_jobs(db, stack.settings)
    [attachment] = (await sandbox_order(stack, placed["id"]))["attachments"]
    assert attachment["source"] == "data_url"
    assert attachment["sha256"] == hashlib.sha256(report).hexdigest()
    assert attachment["content_type"] == "application/pdf"
    url = (await sandbox_order(stack, placed["id"]))["result"]["attachments"][0]["data_url"]
    assert (await stack.http.get(url)).content == report  # what Kombo fetched, still valid now
    forged = url.replace("signature=", "signature=0")
    assert (await stack.http.get(forged)).status_code == 404
    expired = url.split("?")[0] + f"?expires={int(time.time()) - 1}&signature=" + url.split("signature=")[1]
    assert (await stack.http.get(expired)).status_code == 404


async def test_attachments_can_be_sent_inline_as_base64(
    db: Database, test_settings: Settings, ports: tuple[int, int]
) -> None:
    import httpx

    settings = stack_settings(test_settings, *ports, attachments="base64")
    with running(settings, ports[1]) as (gateway_url, sandbox_url):
        async with httpx.AsyncClient(timeout=30) as http:
            local = Stack(gateway=gateway_url, sandbox=sandbox_url, settings=settings, http=http)
            tenant, _, order, placed = await accepted_order(local)
            upload = await http.post(
                f"{gateway_url}/v1/tenants/{tenant}/uploads",
                params={"name": "r.pdf"},
                content=b"%PDF-1.4",
                headers={**ADMIN, "content-type": "application/pdf"},
            )
            await submit(
                local,
                tenant,
                order,
                {**COMPLETED, "attachments": [{"name": "r.pdf", "upload_id": upload.json()["id"]}]},
            )
            await run_jobs(db, settings)
            [attachment] = (await sandbox_order(local, placed["id"]))["attachments"]
    assert attachment["source"] == "data"
    assert attachment["sha256"] == hashlib.sha256(b"%PDF-1.4").hexdigest()
