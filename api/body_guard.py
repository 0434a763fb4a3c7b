"""Request bodies, on every route: read within a deadline, no larger than allowed, JSON not nested too deep.

A slow client trickling a body is cut off after ``ASSESSGATE_BODY_TIMEOUT_S`` (408) instead of holding a
connection and a task for as long as it likes. JSON bodies (and bodies without a content type, which routes
may decode as JSON) are read here whole, checked against ``ASSESSGATE_JSON_MAX_DEPTH`` (400 problem+json,
where the decoder would otherwise recurse into a 500) and handed on; other bodies (uploads) stream through
with the deadline and their size limit (an upload's own, ``ASSESSGATE_MAX_UPLOAD_BYTES``, else the
body's). Runs after :mod:`api.admission`, so a caller without credentials never gets here.
A route whose credential is a signature over the body (``opt={SIGNED_BODY: True}``: Kombo's webhook) checks
the depth itself, after the signature, so an unsigned body is refused for its signature before anything
looks inside it.
"""

from __future__ import annotations

import asyncio
from typing import Final

from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from api.problems import send_problem
from core.json_depth import nests_deeper_than
from core.settings import Settings

_BODYLESS: Final = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
#: Route option: the body is the credential's subject (a signature over it), so its depth is the route's to check.
SIGNED_BODY: Final = "signed_body"
#: Route option of routes whose body is a file (uploads): streamed with the deadline only, never read as JSON.
RAW_BODY: Final = "raw_body"


class BodyTimeout(HTTPException):
    status_code = 408


def _content_type(scope: Scope) -> str:
    return next((v for k, v in scope["headers"] if k == b"content-type"), b"").decode("latin-1").lower()


def _declared_length(scope: Scope) -> int | None:
    raw = next((v for k, v in scope["headers"] if k == b"content-length"), None)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _may_be_json(content_type: str) -> bool:
    # Forms and uploads are not JSON; anything claiming JSON, text or nothing at all may be decoded as JSON.
    return not content_type or "json" in content_type or content_type.startswith("text/")


class BodyGuardMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.timeout_s = settings.server.body_timeout_s
        self.max_bytes = settings.max_body_bytes
        self.max_upload_bytes = settings.max_upload_bytes
        self.max_depth = settings.limits.json_max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] in _BODYLESS:
            await self.app(scope, receive, send)
            return
        timed = _TimedReceive(receive, self.timeout_s)
        handler = scope.get("route_handler")
        raw = handler is not None and bool(handler.opt.get(RAW_BODY))  # a file, whatever its media type says
        if raw or not _may_be_json(_content_type(scope)):
            await self._stream(scope, _LimitedReceive(timed, self.max_upload_bytes if raw else self.max_bytes), send)
            return
        try:
            body = await self._read(scope, timed)
        except BodyTimeout as exc:
            await send_problem(scope, send, 408, exc.detail, {"Connection": "close"})
            return
        except _TooLarge:
            await send_problem(scope, send, 413, f"the body exceeds {self.max_bytes} bytes")
            return
        if body is None:  # the client left before the body was in; let the app see the disconnect
            await self.app(scope, receive, send)
            return
        signed = handler is not None and bool(handler.opt.get(SIGNED_BODY))
        if not signed and nests_deeper_than(body, self.max_depth):
            await send_problem(scope, send, 400, f"JSON nested deeper than {self.max_depth} levels")
            return
        await self.app(scope, _replay(body, receive), send)

    async def _stream(self, scope: Scope, receive: _LimitedReceive, send: Send) -> None:
        """Streamed through, counted as it goes: uploads up to their own limit, any other body up to the body's."""
        declared = _declared_length(scope)
        if declared is not None and declared > receive.limit:
            await send_problem(scope, send, 413, f"the body exceeds {receive.limit} bytes")
            return
        await self.app(scope, receive, send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes | None:
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


class _TooLarge(Exception):
    pass


class BodyTooLarge(HTTPException):
    status_code = 413


class _LimitedReceive:
    """``receive`` that refuses (413) a streamed body once it passes ``limit`` bytes."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self.receive, self.limit, self.size = receive, limit, 0

    async def __call__(self) -> ReceiveMessage:
        message = await self.receive()
        if message["type"] == "http.request":
            self.size += len(message.get("body", b""))
            if self.size > self.limit:
                raise BodyTooLarge(detail=f"the body exceeds {self.limit} bytes")
        return message


class _TimedReceive:
    """``receive`` with a deadline on the body: it must be complete within ``timeout_s`` of the first read."""

    def __init__(self, receive: Receive, timeout_s: float) -> None:
        self.receive, self.timeout_s = receive, timeout_s
        self.deadline = asyncio.get_running_loop().time() + timeout_s
        self.complete = False

    async def __call__(self) -> ReceiveMessage:
        if self.complete:  # the body is in; later reads wait for a disconnect, which has no deadline
            return await self.receive()
        remaining = self.deadline - asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(max(remaining, 0)):
                message = await self.receive()
        except TimeoutError:
            raise BodyTimeout(detail=f"the request body did not arrive within {self.timeout_s:g} s") from None
        self.complete = message["type"] != "http.request" or not message.get("more_body", False)
        return message


def _replay(body: bytes, receive: Receive) -> Receive:
    pending: list[ReceiveMessage] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> ReceiveMessage:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
