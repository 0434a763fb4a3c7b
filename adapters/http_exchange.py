"""HTTP exchanges with one API we call at volume (Kombo's): a request's bytes out, a status, headers and body back.

Why not httpx here: a worker sends a batch of write-backs at once, and httpx spent 1.5 ms of CPU on one request
alone and 3 ms on each of 32 in flight (its URL parsing, cookie jar and connection pool), against about 0.35 ms
through aiohttp's pool and C parser (llhttp) on this machine (docs/performance.md, issue #18). The adapters'
outbound calls to URLs others supply stay on httpx behind the outbound guard (``adapters/http.py``); Kombo's
URL is the operator's setting.

:class:`Exchange` is what a client of such an API needs; :class:`AiohttpExchange` is the one we ship. A test of
one client may hand in another (a scripted one), as httpx's ``MockTransport`` is used elsewhere.
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Protocol
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDictProxy

#: Connections kept open per exchange (httpx's default pool size).
MAX_CONNECTIONS: Final = 100
#: An idle kept-alive connection is closed after this long (as httpx's pool does).
KEEPALIVE_S: Final = 5.0


@dataclass(frozen=True, slots=True)
class Deadlines:
    """``connect``: getting a connection (a free one from the pool, or a new one); ``read``: each wait for
    the answer's bytes; ``total``: the whole exchange."""

    connect: float
    read: float
    total: float


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    #: Looked up without regard to case.
    headers: Mapping[str, str]
    body: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300  # noqa: PLR2004


class ExchangeFailed(Exception):
    """No answer: the request could not be sent, the connection could not be made or broke, or a deadline
    passed (``timed_out``). The message names the failure's class, never a header's value."""

    def __init__(self, message: str, *, timed_out: bool) -> None:
        super().__init__(message)
        self.timed_out = timed_out


class Exchange(Protocol):
    async def send(
        self, method: str, url: str, *, headers: Mapping[str, str], content: bytes | None, deadlines: Deadlines
    ) -> Reply: ...

    async def aclose(self) -> None: ...


class AiohttpExchange:
    """One aiohttp session, opened at first use inside the event loop that uses it, and again after
    :meth:`aclose` (a gateway restarted in the same process). A proxy comes from the environment as httpx's
    does (``HTTPS_PROXY``/``HTTP_PROXY`` with ``NO_PROXY``), looked up once per host: aiohttp's own lookup
    (``trust_env``) reads the environment and ``~/.netrc`` in a thread at every request, 10% of a write-back's
    CPU. Certificates come from :func:`adapters.http.tls_context`'s bundle."""

    def __init__(self, *, tls: ssl.SSLContext, default_headers: Mapping[str, str] | None = None) -> None:
        self._tls = tls
        self._default_headers = dict(default_headers or {})
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}

    def _open(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._loop = loop  # a session is bound to the loop it was opened in (an abandoned one is dropped)
            connector = aiohttp.TCPConnector(ssl=self._tls, limit=MAX_CONNECTIONS, keepalive_timeout=KEEPALIVE_S)
            self._session = aiohttp.ClientSession(
                connector=connector, headers=self._default_headers, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._session

    def _proxy_for(self, url: str) -> str | None:
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            self._proxies[key] = proxy_from_environment(*key)
        return self._proxies[key]

    async def send(
        self, method: str, url: str, *, headers: Mapping[str, str], content: bytes | None, deadlines: Deadlines
    ) -> Reply:
        timeout = aiohttp.ClientTimeout(total=deadlines.total, connect=deadlines.connect, sock_read=deadlines.read)
        try:
            async with self._open().request(
                method,
                url,
                headers=headers,
                data=content,
                allow_redirects=False,
                timeout=timeout,
                proxy=self._proxy_for(url),
            ) as response:
                body = await response.read()
                return Reply(status=response.status, headers=CIMultiDictProxy(response.headers), body=body)
        except aiohttp.ConnectionTimeoutError as exc:
            raise ExchangeFailed(f"no connection in time ({type(exc).__name__})", timed_out=True) from None
        except aiohttp.ClientConnectorError as exc:
            raise ExchangeFailed(f"no connection ({type(exc).__name__})", timed_out=False) from None
        except (aiohttp.ServerTimeoutError, TimeoutError) as exc:
            raise ExchangeFailed(f"no answer in time ({type(exc).__name__})", timed_out=True) from None
        except aiohttp.ClientError as exc:
            raise ExchangeFailed(f"the exchange broke ({type(exc).__name__})", timed_out=False) from None
        except ValueError as exc:  # e.g. a header value with CR/LF (httpx: LocalProtocolError, a TransportError)
            raise ExchangeFailed(f"the request could not be sent ({type(exc).__name__})", timed_out=False) from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> AiohttpExchange:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()


def proxy_from_environment(scheme: str, host: str) -> str | None:
    """The proxy the environment names for ``scheme`` unless ``NO_PROXY`` exempts ``host`` (as httpx reads them)."""
    if not host or urllib.request.proxy_bypass(host):
        return None
    proxies = urllib.request.getproxies()
    return proxies.get(scheme) or proxies.get("all")
