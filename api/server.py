"""How ``assessgate serve`` runs uvicorn: timeouts and a connection cap from :class:`core.settings.ServerSettings`.

uvicorn closes idle keep-alive connections (``keep_alive_s``) and answers 503 beyond ``max_connections``,
but gives a client unlimited time to send a request's headers. :class:`GuardedHttpToolsProtocol` adds that
deadline (``header_timeout_s``): from the moment a connection opens, or the first byte of a next request
arrives, the request line and headers must be in within it, or the connection is closed. The body's own
deadline is :mod:`api.body_guard`'s (it needs the ASGI ``receive``, not the socket).

The protocol is uvicorn's httptools one (llhttp, in C) on uvloop's event loop: the same parsing rules as the
pure-Python h11 it replaced, at a fraction of its CPU per request (docs/performance.md, issue #18).
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from core.settings import ServerSettings


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    header_timeout_s: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()  # a connection that never sends a byte is cut off too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Bytes that begin no message (a bare CRLF, which llhttp skips) cancelled uvicorn's keep-alive timer:
        # between requests, any byte puts the connection on the header clock.
        between = self.cycle is None or self.cycle.response_complete
        if between and not self.pipeline and not self.transport.is_closing():
            self._arm_header_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_deadline()  # a next request's first byte: its headers are on the clock

    def on_headers_complete(self) -> None:
        self._disarm_header_deadline()
        super().on_headers_complete()

    def _arm_header_deadline(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _disarm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.flow is not None and self.flow.read_paused:  # we stopped reading (pipelined requests wait): not
            self._arm_header_deadline()  # the client's delay; its clock starts again
            return
        if not self.transport.is_closing():
            self.logger.info("closing a connection whose request headers took longer than %ss", self.header_timeout_s)
            self.transport.close()


def protocol_for(settings: ServerSettings) -> type[GuardedHttpToolsProtocol]:
    """A protocol class carrying this deployment's header deadline (uvicorn instantiates it per connection)."""
    return type(
        "GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"header_timeout_s": settings.header_timeout_s}
    )


def uvicorn_config(app: Any, settings: ServerSettings, *, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol_for(settings),
        timeout_keep_alive=settings.keep_alive_s,
        limit_concurrency=settings.max_connections,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        log_config=None,
        access_log=False,
        server_header=False,
    )


def run(app: Any, settings: ServerSettings, *, host: str, port: int) -> None:
    server = uvicorn.Server(uvicorn_config(app, settings, host=host, port=port))
    server.run()
    if not server.started:  # as uvicorn.run does: the port was taken, or the app failed to start
        raise SystemExit(3)
