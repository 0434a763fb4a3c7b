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
