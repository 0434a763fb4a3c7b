"""Finding 9: slow clients cannot hold connections for as long as they like.

``assessgate serve``'s own server configuration (api/server.py) is run on a loopback port with short
limits: a client that trickles its headers, or its body, is cut off at the deadline (the body with a 408
problem); an idle keep-alive connection is closed; beyond the connection cap requests get 503 at once.
Before: 2,000 connections trickling a body were all held for 20 s.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import msgspec
import pytest
import uvicorn

from agtest.servers import free_port
from api.app import create_app
from api.server import uvicorn_config
from core.settings import ServerSettings, Settings, load_settings

HEADER_TIMEOUT, BODY_TIMEOUT, KEEP_ALIVE = 0.5, 0.5, 1
#: How long a test waits for the server to act; far above the limits, so a pass is not a race.
PATIENCE = 8.0


def settings_for(tmp_path: Path, **server: float | int) -> Settings:
    base = load_settings(
        {
            "ASSESSGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'slow.db'}",
            "ASSESSGATE_DATA_DIR": str(tmp_path / "data"),
            "ASSESSGATE_ADMIN_TOKEN": "test-admin-token-0123456789",
            "ASSESSGATE_SECRET_KEYS": "aW5zZWN1cmUtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2Q=",
            "ASSESSGATE_KOMBO_API_KEY": "kombo-test-api-key-123",
            "ASSESSGATE_KOMBO_WEBHOOK_SECRETS": "whsec-current-secret",
            "ASSESSGATE_LOG_LEVEL": "warning",
        }
    )
    limits = {"header_timeout_s": HEADER_TIMEOUT, "body_timeout_s": BODY_TIMEOUT, "keep_alive_s": KEEP_ALIVE, **server}
    return msgspec.structs.replace(base, embedded_worker="off", server=ServerSettings(**limits))  # type: ignore[arg-type]


@contextmanager
def serving(settings: Settings) -> Iterator[int]:
    port = free_port()
    server = uvicorn.Server(uvicorn_config(create_app(settings), settings.server, host="127.0.0.1", port=port))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        threading.Event().wait(0.01)
    assert server.started, "the server did not start"
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=PATIENCE)
    sock.settimeout(PATIENCE)
    return sock


def read_until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took."""
    started, received = time.monotonic(), b""
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            raise AssertionError(f"still open after {PATIENCE} s; received {received[:200]!r}") from None
        except ConnectionResetError:
            return received, time.monotonic() - started
        if not chunk:
            return received, time.monotonic() - started
        received += chunk


@pytest.fixture
def port(tmp_path: Path) -> Iterator[int]:
    with serving(settings_for(tmp_path)) as running:
        yield running


def test_a_client_trickling_its_headers_is_cut_off(port: int) -> None:
    with connect(port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: gate\r\nX-Slow: ")
        received, waited = read_until_closed(sock)
    assert received == b""
    assert waited < PATIENCE


def test_a_client_that_sends_nothing_is_cut_off(port: int) -> None:
    with connect(port) as sock:
        received, waited = read_until_closed(sock)
    assert (received, waited < PATIENCE) == (b"", True)


@pytest.mark.parametrize("content_type", ["application/json", "text/csv"])
def test_a_client_trickling_its_body_gets_408_and_is_cut_off(port: int, content_type: str) -> None:
    head = (
        f"POST /kombo/webhooks HTTP/1.1\r\nHost: gate\r\nContent-Type: {content_type}\r\nContent-Length: 1000\r\n\r\n"
    )
    with connect(port) as sock:
        sock.sendall(head.encode() + b'{"type": ')
        received, waited = read_until_closed(sock)
    assert received.startswith(b"HTTP/1.1 408 "), received[:200]
    assert b"application/problem+json" in received
    assert waited < PATIENCE


def test_an_idle_keep_alive_connection_is_closed(port: int) -> None:
    with connect(port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: gate\r\n\r\n")
        received, waited = read_until_closed(sock)
    assert received.startswith(b"HTTP/1.1 200 ")
    assert waited < PATIENCE


def test_beyond_the_connection_cap_requests_get_503(tmp_path: Path) -> None:
    cap = 4
    with serving(settings_for(tmp_path, max_connections=cap, header_timeout_s=60)) as port, ExitStack() as stack:
        with connect(port) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: gate\r\nConnection: close\r\n\r\n")
            assert read_until_closed(sock)[0].startswith(b"HTTP/1.1 200 ")
        for _ in range(cap):  # idle connections holding every place
            stack.enter_context(connect(port))
        with connect(port) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: gate\r\nConnection: close\r\n\r\n")
            received, _ = read_until_closed(sock)
    assert received.startswith(b"HTTP/1.1 503 "), received[:200]


def read_response(sock: socket.socket) -> bytes:
    """One response's head (its body read past, by Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head


@pytest.mark.parametrize(
    ("request_head", "then"),
    [
        (b"GET /health HTTP/1.1\r\nHost: gate\r\n\r\n", b"\r\n"),  # a bare CRLF begins no message
        (b"GET /health HTTP/1.1\r\nHost: gate\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n", b"G"),
    ],
)
def test_bytes_that_begin_no_request_after_a_response_are_still_cut_off(
    port: int, request_head: bytes, then: bytes
) -> None:
    """Found in review: after a response, bytes that llhttp does not take as a request's beginning cancelled
    uvicorn's keep-alive timer and armed no header deadline, so the connection was held for ever (h11 answered
    400 and closed)."""
    with connect(port) as sock:
        sock.sendall(request_head)
        assert read_response(sock).startswith(b"HTTP/1.1 200 ")
        sock.sendall(then)
        _, waited = read_until_closed(sock)
    assert waited < PATIENCE


async def slow_or_quick(scope: Any, receive: Any, send: Any) -> None:
    """An app whose ``/slow`` takes 2 s: longer than the header deadline of the test below."""
    if scope["type"] != "http":
        return
    if scope["path"] == "/slow":
        await asyncio.sleep(2)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def test_pipelined_requests_waiting_for_a_slow_one_are_not_cut_off() -> None:
    """Found in review: while an earlier request runs, the server stops reading; a pipelined request whose
    headers came in two segments then sat half-read past the header deadline, and the connection was closed
    with the slow request's answer. The client was not slow: the server was not reading."""
    settings = ServerSettings(header_timeout_s=0.5, body_timeout_s=5, keep_alive_s=5)
    port = free_port()
    server = uvicorn.Server(uvicorn_config(slow_or_quick, settings, host="127.0.0.1", port=port))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        threading.Event().wait(0.01)
    try:
        with connect(port) as sock:
            sock.sendall(
                b"GET /slow HTTP/1.1\r\nHost: g\r\n\r\nGET /a HTTP/1.1\r\nHost: g\r\n\r\nGET /b HTTP/1.1\r\nHo"
            )
            threading.Event().wait(0.05)  # the third request's headers end in a later segment, as a network splits them
            sock.sendall(b"st: g\r\n\r\n")
            received = b""
            while received.count(b"HTTP/1.1 200") < 3 and (chunk := sock.recv(65536)):
                received += chunk
        assert received.count(b"HTTP/1.1 200") == 3, received
    finally:
        server.should_exit = True
        thread.join(timeout=10)
