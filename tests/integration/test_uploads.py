"""Uploads have their own size limit and are streamed: into the database in chunks as they arrive, and out of it
the same way, so a file many times the body limit never sits whole in the gateway's memory."""

from __future__ import annotations

import hashlib
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from agtest.stack import ADMIN, Stack, ports, running, stack, stack_settings
from api.composition import build_gateway
from core.settings import Settings
from storage.database import Database

__all__ = ["ports", "stack"]  # fixtures
pytestmark = pytest.mark.anyio
MIB = 1024 * 1024


def pdf_bytes(size: int) -> bytes:
    """A file of ``size`` bytes whose every 64 KiB differs (so a chunk served twice or out of order shows)."""
    return b"".join(hashlib.sha256(str(i).encode()).digest() * 2048 for i in range(size // 65536 + 1))[:size]


async def pieces(data: bytes, size: int = 65536) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def upload(stack: Stack, tenant: str, content: Any, **headers: str) -> Any:
    return await stack.http.post(
        f"{stack.gateway}/v1/tenants/{tenant}/uploads",
        params={"name": "report.pdf"},
        content=content,
        headers={**ADMIN, "content-type": "application/pdf", **headers},
    )


async def test_a_file_past_the_body_limit_is_taken_and_served_back_whole(stack: Stack, db: Database) -> None:
    tenant, _ = await stack.tenant_with_integration()
    report = pdf_bytes(3 * MIB + 12345)  # three times ASSESSGATE_MAX_BODY_BYTES, not a multiple of a chunk
    answer = await upload(stack, tenant, pieces(report))  # chunked: no Content-Length to go by
    assert answer.status_code == 201, answer.text
    assert answer.json()["size"] == len(report)
    url = urlsplit(build_gateway(stack.settings, db=db).uploads.signed_url(uuid.UUID(answer.json()["id"])))
    served = await stack.http.get(f"{stack.gateway}{url.path}?{url.query}")
    assert served.status_code == 200
    assert served.headers["content-length"] == str(len(report))
    assert served.headers.get_list("content-type") == ["application/pdf"]
    assert hashlib.sha256(served.content).hexdigest() == hashlib.sha256(report).hexdigest()


async def test_a_file_over_the_upload_limit_is_a_413_and_leaves_nothing(
    db: Database, test_settings: Settings, ports: tuple[int, int]
) -> None:
    settings = stack_settings(test_settings, *ports, max_upload_bytes=2 * MIB)
    with running(settings, ports[1]) as (gateway_url, sandbox_url):
        async with httpx.AsyncClient(timeout=30) as http:
            local = Stack(gateway=gateway_url, sandbox=sandbox_url, settings=settings, http=http)
            tenant, _ = await local.tenant_with_integration()
            declared = await upload(local, tenant, pdf_bytes(2 * MIB + 1))  # Content-Length says it at once
            streamed = await upload(local, tenant, pieces(pdf_bytes(3 * MIB)))  # only counting finds it
            fits = await upload(local, tenant, pdf_bytes(2 * MIB))
    for refused in (declared, streamed):
        assert refused.status_code == 413, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    assert fits.status_code == 201, fits.text
    uploads = await db.fetch("SELECT id FROM result_upload")
    assert [str(row["id"]) for row in uploads] == [fits.json()["id"]]
    chunks = await db.fetch("SELECT DISTINCT upload_id FROM result_upload_chunk")
    assert [str(row["upload_id"]) for row in chunks] == [fits.json()["id"]]


async def test_a_large_upload_and_its_download_never_hold_the_file_in_memory(stack: Stack, db: Database) -> None:
    tenant, _ = await stack.tenant_with_integration()
    size = 20 * MIB
    digest = hashlib.sha256()
    tracemalloc.start()
    try:
        answer = await upload(stack, tenant, generated(size, digest))
        assert answer.status_code == 201, answer.text
        url = urlsplit(build_gateway(stack.settings, db=db).uploads.signed_url(uuid.UUID(answer.json()["id"])))
        served = hashlib.sha256()
        async with stack.http.stream("GET", f"{stack.gateway}{url.path}?{url.query}") as response:
            async for piece in response.aiter_bytes():
                served.update(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert served.hexdigest() == digest.hexdigest()
    # Client, server and database driver all run in this process: together they held a few chunks at a time.
    assert peak < 8 * MIB, f"peak {peak / MIB:.1f} MiB for a {size // MIB} MiB file"


async def generated(size: int, digest: Any) -> AsyncIterator[bytes]:
    """``size`` bytes made as they are sent (the client holds none of them), hashed on the way."""
    for i in range(size // 65536):
        piece = hashlib.sha256(str(i).encode()).digest() * 2048
        digest.update(piece)
        yield piece
