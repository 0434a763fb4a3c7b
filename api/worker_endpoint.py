"""``assessgate worker``'s own HTTP port (``ASSESSGATE_WORKER_METRICS_PORT``): ``GET /metrics`` and ``GET /health``.

A worker has no web app, and Prometheus and a liveness probe need only two fixed answers, so this is a
deliberately small asyncio server rather than a second Litestar app and uvicorn (whose signal handling would
compete with the worker's own): one request per connection, answered with ``Connection: close``; GET and HEAD
only; the request's head must arrive within a deadline and a size, so a slow or huge client cannot hold it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from http import HTTPStatus
from typing import Final

import structlog

from api.composition import Gateway
from core.errors import AssessgateError
from core.metrics import CONTENT_TYPE, Family, process_info, render

log = structlog.get_logger()
MAX_HEAD_BYTES: Final = 8192
HEAD_TIMEOUT_S: Final = 5.0
Answer = tuple[HTTPStatus, str, str]  # status, content type, body


async def worker_metrics_text(gateway: Gateway) -> str:
    """What this worker counts (claims, outcomes; orders reconciliation fed to the intake) and the outbox's
    gauges; without the database the counters are still answered (the gauges are then missing, and logged)."""
    families: list[Family] = [
        process_info("worker", gateway.process_name),
        *gateway.worker_metrics.families(),
        *gateway.intake_metrics.families(),
    ]
    try:
        families[1:1] = await gateway.jobs.gauges()
    except AssessgateError as exc:
        log.warning("worker_metrics_without_gauges", error=exc.message)
    return render(families)


class WorkerEndpoint:
    def __init__(self, metrics_text: Callable[[], Awaitable[str]], *, head_timeout_s: float = HEAD_TIMEOUT_S) -> None:
        self.metrics_text = metrics_text
        self.head_timeout_s = head_timeout_s

    async def answer(self, method: str, path: str) -> Answer:
        if path not in {"/metrics", "/health"}:
            return HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", "not found: try /metrics or /health\n"
        if method not in {"GET", "HEAD"}:
            return HTTPStatus.METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", "GET or HEAD\n"
        if path == "/health":  # liveness: the loop that answers is the loop that runs the jobs
            return HTTPStatus.OK, "application/json", '{"status":"ok","process":"worker"}'
        return HTTPStatus.OK, CONTENT_TYPE, await self.metrics_text()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.head_timeout_s)
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
            method, target = (request_line[0], request_line[1]) if len(request_line) == 3 else ("", "")  # noqa: PLR2004
            try:
                status, content_type, body = await self.answer(method, target.split("?", 1)[0])
            except Exception as exc:  # a scrape must not end the worker; the scraper sees a 500
                log.error("worker_endpoint_failed", exc_info=exc)
                status, content_type, body = HTTPStatus.INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8", "error\n"
            payload = body.encode()
            headers = (
                f"HTTP/1.1 {status.value} {status.phrase}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(headers.encode("latin-1") + (b"" if method == "HEAD" else payload))
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass  # too slow, too large or gone: nothing to answer
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


@contextlib.asynccontextmanager
async def serving_worker_endpoint(gateway: Gateway) -> AsyncIterator[None]:
    """Listen on ``ASSESSGATE_HOST``:``ASSESSGATE_WORKER_METRICS_PORT`` while the block runs (port 0: not at all)."""
    settings = gateway.settings
    if settings.worker_metrics_port == 0:
        yield
        return
    endpoint = WorkerEndpoint(lambda: worker_metrics_text(gateway))
    try:
        server = await asyncio.start_server(
            endpoint.handle, settings.host, settings.worker_metrics_port, limit=MAX_HEAD_BYTES
        )
    except OSError as exc:
        raise SystemExit(
            f"assessgate: the worker cannot listen on {settings.host}:{settings.worker_metrics_port} "
            f"(ASSESSGATE_WORKER_METRICS_PORT): {exc.strerror or exc}"
        ) from None
    log.info("worker_endpoint_listening", host=settings.host, port=settings.worker_metrics_port)
    try:
        yield
    finally:
        server.close()
        await server.wait_closed()
