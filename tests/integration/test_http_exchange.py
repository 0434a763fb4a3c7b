"""Kombo's exchange over real sockets: what is sent, what comes back, and each way an exchange fails.

The server is a few lines of asyncio on a loopback port, so a test can answer late, hang up mid-answer, or not
listen at all: the failures ``KomboClient`` turns into retryable errors with the right words.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from adapters.http import tls_context
from adapters.http_exchange import AiohttpExchange, Deadlines, ExchangeFailed, proxy_from_environment
from agtest.servers import free_port

pytestmark = pytest.mark.anyio
QUICK = Deadlines(connect=2, read=0.3, total=5)


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def listening(handler: Handler) -> AsyncIterator[str]:
    """A server on a free loopback port; at the end every connection's handler has finished and closed it."""
    running: list[asyncio.Task[None]] = []

    async def each(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        running.append(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(each, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await asyncio.gather(*running, return_exceptions=True)


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
    )
    return head, await reader.readexactly(length)


def answering(raw: bytes) -> Handler:
    """A server that reads one request and answers ``raw``, whatever it is."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await read_request(reader)
        except asyncio.IncompleteReadError:
            return  # nothing was sent
        writer.write(raw)
        await writer.drain()

    return answer


@pytest.fixture
def exchange() -> AiohttpExchange:
    return AiohttpExchange(tls=tls_context(), default_headers={"User-Agent": "assessgate"})


async def test_sends_the_request_and_reads_the_whole_answer(exchange: AiohttpExchange) -> None:
    seen: list[tuple[bytes, bytes]] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        writer.write(b'HTTP/1.1 429 Too Many\r\nRetry-After: 3\r\nContent-Length: 7\r\n\r\n{"a":1}')
        await writer.drain()
        writer.close()

    async with listening(answer) as url, exchange:
        reply = await exchange.send(
            "PUT", f"{url}/v1/x?y=1", headers={"X-Integration-Id": "i-1"}, content=b'{"k":2}', deadlines=QUICK
        )
    assert (reply.status, reply.body, reply.headers["retry-after"], reply.is_success) == (429, b'{"a":1}', "3", False)
    head, body = seen[0]
    assert head.startswith(b"PUT /v1/x?y=1 HTTP/1.1\r\n")
    assert b"\r\nX-Integration-Id: i-1\r\n" in head
    assert b"\r\nUser-Agent: assessgate\r\n" in head
    assert body == b'{"k":2}'


async def test_keeps_one_connection_for_calls_one_after_another(exchange: AiohttpExchange) -> None:
    connections = 0

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while not reader.at_eof():
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                break
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    async with listening(answer) as url, exchange:
        for _ in range(5):
            assert (await exchange.send("GET", url, headers={}, content=None, deadlines=QUICK)).body == b"ok"
    assert connections == 1


async def test_a_port_nobody_listens_on_is_a_failed_exchange(exchange: AiohttpExchange) -> None:
    async with exchange:
        with pytest.raises(ExchangeFailed) as caught:
            await exchange.send("GET", f"http://127.0.0.1:{free_port()}/", headers={}, content=None, deadlines=QUICK)
    assert not caught.value.timed_out


async def test_an_answer_that_does_not_come_times_out(exchange: AiohttpExchange) -> None:
    release = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await release.wait()

    async with listening(silent) as url, exchange:
        with pytest.raises(ExchangeFailed) as caught:
            await exchange.send("PUT", url, headers={}, content=b"{}", deadlines=QUICK)
        release.set()
    assert caught.value.timed_out


async def test_a_hang_up_mid_answer_is_a_broken_exchange(exchange: AiohttpExchange) -> None:
    hang_up = answering(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"par')  # then the connection closes

    async with listening(hang_up) as url, exchange:
        with pytest.raises(ExchangeFailed) as caught:
            await exchange.send("PUT", url, headers={}, content=b"{}", deadlines=QUICK)
    assert not caught.value.timed_out


async def test_reopens_after_close(exchange: AiohttpExchange) -> None:
    async with listening(answering(b"HTTP/1.1 204 No Content\r\n\r\n")) as url:
        async with exchange:
            assert (await exchange.send("GET", url, headers={}, content=None, deadlines=QUICK)).status == 204
        async with exchange:  # a gateway stopped and started again in one process
            assert (await exchange.send("GET", url, headers={}, content=None, deadlines=QUICK)).status == 204


def test_a_proxy_comes_from_the_environment_unless_no_proxy_exempts_the_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert proxy_from_environment("https", "api.kombo.dev") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,.corp.example")
    assert proxy_from_environment("https", "api.kombo.dev") == "http://proxy.internal:3128"
    assert proxy_from_environment("http", "api.kombo.dev") is None
    assert proxy_from_environment("https", "kombo.corp.example") is None


async def test_requests_go_through_the_environments_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head, _ = await read_request(reader)
        seen.append(head.split(b"\r\n")[0])
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()

    async with listening(proxy) as proxy_url:
        for name in ("no_proxy", "NO_PROXY", "http_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        async with AiohttpExchange(tls=tls_context()) as exchange:
            reply = await exchange.send("GET", "http://kombo.invalid/v1/x", headers={}, content=None, deadlines=QUICK)
    assert (reply.body, seen) == (b"ok", [b"GET http://kombo.invalid/v1/x HTTP/1.1"])


@pytest.mark.parametrize(
    "raw",
    [
        b"garbage that is not http\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nnotgz",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: " + b"a" * 20000 + b"\r\nContent-Length: 0\r\n\r\n",
    ],
)
async def test_a_broken_answer_is_a_failed_exchange(exchange: AiohttpExchange, raw: bytes) -> None:
    async with listening(answering(raw)) as url, exchange:
        with pytest.raises(ExchangeFailed):
            await exchange.send("GET", url, headers={}, content=None, deadlines=QUICK)


async def test_a_header_that_cannot_be_sent_is_a_failed_exchange(exchange: AiohttpExchange) -> None:
    """Found in review: aiohttp raised a bare ValueError for a line break in a header value (an integration id
    from a webhook, say), which would have been a crash, not a KomboError."""
    async with listening(answering(b"HTTP/1.1 204 No Content\r\n\r\n")) as url, exchange:
        with pytest.raises(ExchangeFailed) as caught:
            await exchange.send("GET", url, headers={"X-Integration-Id": "a\r\nb"}, content=None, deadlines=QUICK)
    assert not caught.value.timed_out


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # the first loop's session, dropped unclosed with its loop
def test_an_exchange_used_from_a_second_event_loop_opens_a_session_there() -> None:
    """Found in review: a session belongs to the event loop it was opened in; an embedding application or a
    test that used the exchange from a new loop got 'Event loop is closed'."""
    exchange = AiohttpExchange(tls=tls_context())

    async def once() -> int:
        async with listening(answering(b"HTTP/1.1 204 No Content\r\n\r\n")) as url:
            return (await exchange.send("GET", url, headers={}, content=None, deadlines=QUICK)).status

    assert asyncio.run(once()) == 204
    assert asyncio.run(once()) == 204


def test_all_proxy_is_the_fallback_as_for_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALL_PROXY", "http://proxy.internal:3128")
    assert proxy_from_environment("https", "api.kombo.dev") == "http://proxy.internal:3128"
