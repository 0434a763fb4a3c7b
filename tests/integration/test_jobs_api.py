"""The jobs API, /metrics, and the embedded worker of ``serve`` under concurrent API writes."""

from __future__ import annotations

import asyncio
import uuid

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from agtest import only_sqlite
from api.app import create_app
from core.clock import wall_clock_ms
from core.errors import AssessgateError
from core.settings import Settings
from jobs.kinds import JobContext, JobKind
from jobs.outbox import Outbox
from storage.database import Database

pytestmark = pytest.mark.anyio


class Ping(msgspec.Struct):
    n: int


def without_worker(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, embedded_worker="off")


def admin(settings: Settings) -> dict[str, str]:
    return {"authorization": f"Bearer {settings.admin_token}"}


async def failing(payload: Ping, ctx: JobContext) -> None:
    raise AssessgateError("permanent", retryable=False)


async def test_jobs_api_needs_the_admin_token(db: Database, test_settings: Settings) -> None:
    async with AsyncTestClient(create_app(test_settings)) as client:
        missing = await client.get("/v1/jobs")
        wrong = await client.get("/v1/jobs", headers={"authorization": "Bearer not-the-token"})
        right = await client.get("/v1/jobs", headers=admin(test_settings))
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert test_settings.admin_token not in response.text
    assert right.status_code == 200


async def test_list_filter_paginate_retry_and_discard(db: Database, test_settings: Settings) -> None:
    outbox = Outbox(db)
    ids = [await outbox.enqueue("ping", Ping(n=n), now_ms=1_000 + n) for n in range(5)]
    other = await outbox.enqueue("pong", Ping(n=9), now_ms=2_000)
    [claimed] = await outbox.claim(worker="w", limit=1, lease_ms=60_000, now_ms=3_000)
    async with AsyncTestClient(create_app(without_worker(test_settings))) as client:
        headers = admin(test_settings)
        first = (await client.get("/v1/jobs", params={"kind": "ping", "limit": 3}, headers=headers)).json()
        second = (
            await client.get(
                "/v1/jobs", params={"kind": "ping", "limit": 3, "cursor": first["next_cursor"]}, headers=headers
            )
        ).json()
        listed = [item["id"] for item in first["items"] + second["items"]]
        assert sorted(listed) == sorted(str(i) for i in ids)
        assert second["next_cursor"] is None
        assert "payload" not in first["items"][0]
        running = (await client.get("/v1/jobs", params={"state": "running"}, headers=headers)).json()
        assert [item["id"] for item in running["items"]] == [claimed.id]

        discard = await client.post(f"/v1/jobs/{other}/discard", headers=headers)
        assert discard.status_code == 200
        assert discard.json()["state"] == "dead"
        assert discard.json()["last_error"] == "discarded by an operator"
        retry = await client.post(f"/v1/jobs/{other}/retry", headers=headers)
        assert retry.json()["state"] == "queued"
        assert retry.json()["attempts"] == 0

        conflict = await client.post(f"/v1/jobs/{claimed.id}/retry", headers=headers)
        assert conflict.status_code == 409
        assert "running" in conflict.json()["detail"]
        missing = await client.post(f"/v1/jobs/{uuid.uuid4()}/discard", headers=headers)
        not_an_id = await client.get("/v1/jobs/not-a-uuid", headers=headers)
        bad_cursor = await client.get("/v1/jobs", params={"cursor": "%%%"}, headers=headers)
    assert missing.status_code == 404
    assert not_an_id.status_code == 404
    assert bad_cursor.status_code == 400


async def test_metrics_expose_job_states_and_the_oldest_waiting_job(db: Database, test_settings: Settings) -> None:
    outbox = Outbox(db)
    await outbox.enqueue("ping", Ping(n=1), now_ms=wall_clock_ms() - 30_000)
    await outbox.enqueue("ping", Ping(n=2), now_ms=wall_clock_ms())
    async with AsyncTestClient(create_app(without_worker(test_settings))) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = response.text.splitlines()
    assert "# TYPE assessgate_jobs gauge" in lines
    samples = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in lines if not line.startswith("#")}
    assert samples['assessgate_jobs{kind="ping",state="queued"}'] == 2
    assert samples['assessgate_job_attempts{kind="ping",state="queued"}'] == 0
    assert 29 <= samples["assessgate_oldest_due_job_age_seconds"] < 120


@only_sqlite
async def test_embedded_worker_and_concurrent_api_writes_share_sqlite_without_lock_errors(
    db: Database, test_settings: Settings
) -> None:
    """SQLite mode: ``serve`` runs the worker in-process while the API writes; nothing may fail."""
    done: list[int] = []
    all_done = asyncio.Event()

    def kinds(app_db: Database) -> list[JobKind[Ping]]:
        async def record(payload: Ping, ctx: JobContext) -> None:
            async with app_db.tx():  # a write of the job's own, competing with the API's writes
                await app_db.fetch("UPDATE tenant SET name = name WHERE id = {}", uuid.uuid4())
            done.append(payload.n)
            if len(done) == 100:
                all_done.set()

        return [JobKind("record", Ping, record), JobKind("fail", Ping, failing)]

    outbox = Outbox(db)
    dead = []
    for n in range(100):
        await outbox.enqueue("record", Ping(n=n), now_ms=0)
        dead.append(await outbox.enqueue("fail", Ping(n=n), now_ms=0))
    app = create_app(test_settings, extra_job_kinds=kinds)
    async with AsyncTestClient(app) as client:
        headers = admin(test_settings)

        async def retry_until_done(job_id: str | None) -> list[int]:
            statuses = []
            for _ in range(3):
                response = await client.post(f"/v1/jobs/{job_id}/retry", headers=headers)
                statuses.append(response.status_code)
            return statuses

        results = await asyncio.gather(*(retry_until_done(job_id) for job_id in dead))

        await asyncio.wait_for(all_done.wait(), timeout=60)
    statuses = [status for result in results for status in result]
    assert set(statuses) <= {200, 409}  # never a 500, never "database is locked"
    assert sorted(done) == list(range(100))
