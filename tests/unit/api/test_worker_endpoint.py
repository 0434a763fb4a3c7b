"""The worker's small HTTP server answers its two paths and nothing else, and no client can hold it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from api.worker_endpoint import MAX_HEAD_BYTES, WorkerEndpoint

pytestmark = pytest.mark.anyio


async def serve(endpoint: WorkerEndpoint) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(endpoint.handle, "127.0.0.1", 0, limit=MAX_HEAD_BYTES)
    port: int = server.sockets[0].getsockname()[1]
    return server, port


async def exchange(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)  # the server closes: read to the end
    except ConnectionResetError:  # closed on us with our bytes unread (the oversized head): no answer
        return b""
    finally:
        writer.close()


@pytest.fixture
async def endpoint_port() -> AsyncIterator[Callable[[WorkerEndpoint], Awaitable[int]]]:
    servers: list[asyncio.Server] = []

    async def start(endpoint: WorkerEndpoint) -> int:
        server, port = await serve(endpoint)
        servers.append(server)
        return port

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def metrics_text() -> str:
    return "assessgate_demo 1\n"


async def test_metrics_health_and_everything_else(endpoint_port: Callable[[WorkerEndpoint], Awaitable[int]]) -> None:
    port = await endpoint_port(WorkerEndpoint(metrics_text))
    metrics = await exchange(port, b"GET /metrics?x=1 HTTP/1.1\r\nHost: w\r\n\r\n")
    head = await exchange(port, b"HEAD /metrics HTTP/1.1\r\n\r\n")
    health = await exchange(port, b"GET /health HTTP/1.1\r\n\r\n")
    missing = await exchange(port, b"GET /v1/tenants HTTP/1.1\r\n\r\n")
    posted = await exchange(port, b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
    garbage = await exchange(port, b"nonsense\r\n\r\n")
    assert metrics.startswith(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4")
    assert metrics.endswith(b"\r\n\r\nassessgate_demo 1\n")
    assert b"Content-Length: 18\r\n" in head
    assert head.endswith(b"\r\n\r\n")  # the length of the body a GET would get, and no body
    assert health.endswith(b'\r\n\r\n{"status":"ok","process":"worker"}')
    assert missing.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert posted.startswith(b"HTTP/1.1 405 Method Not Allowed\r\n")
    assert garbage.startswith(b"HTTP/1.1 404 Not Found\r\n")


async def test_a_failing_scrape_is_a_500_and_the_server_keeps_answering(
    endpoint_port: Callable[[WorkerEndpoint], Awaitable[int]],
) -> None:
    calls: list[int] = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return "assessgate_demo 2\n"

    port = await endpoint_port(WorkerEndpoint(flaky))
    first = await exchange(port, b"GET /metrics HTTP/1.1\r\n\r\n")
    second = await exchange(port, b"GET /metrics HTTP/1.1\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert b"boom" not in first
    assert second.endswith(b"assessgate_demo 2\n")


async def test_an_oversized_or_unfinished_head_is_closed_unanswered(
    endpoint_port: Callable[[WorkerEndpoint], Awaitable[int]],
) -> None:
    port = await endpoint_port(WorkerEndpoint(metrics_text, head_timeout_s=0.2))
    oversized = await exchange(port, b"GET /metrics HTTP/1.1\r\nX-Pad: " + b"a" * (2 * MAX_HEAD_BYTES) + b"\r\n\r\n")
    unfinished = await exchange(port, b"GET /metrics HTTP/1.1\r\n")  # the head never ends: the deadline closes it
    assert oversized == b""
    assert unfinished == b""
