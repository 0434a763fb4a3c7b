"""The adapters' outbound HTTP client (httpx): transport failures become retryable errors, a URL the outbound
policy refuses a final ``OutboundRefused``."""

from __future__ import annotations

import functools
import ssl
from collections.abc import Mapping

import httpx

from adapters.outbound_guard import guarded_client
from adapters.outbound_spans import client_span, with_trace_headers
from core.adapters import HttpReply
from core.errors import AssessgateError
from core.outbound import OutboundPolicy


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default TLS context (certifi's CA bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``), built once per
    process: building one parses the bundle, about 30 ms of CPU for each client that did (a gateway opened by a
    CLI command or a test made one every time)."""
    return httpx.create_ssl_context()


class HttpxClient:
    """Opens its httpx client on first use (and again after :meth:`aclose`, when an app restarts). Every
    request passes the outbound policy: adapters call URLs that tenants' settings and platforms supply."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy
        self._client: httpx.AsyncClient | None = None

    async def post(self, url: str, *, content: bytes, headers: Mapping[str, str], timeout_s: float) -> HttpReply:
        if self._client is None or self._client.is_closed:
            self._client = guarded_client(self.policy, headers={"User-Agent": "assessgate"})
        with client_span("POST", method="POST", url=url) as span:
            try:
                response = await self._client.post(
                    url, content=content, headers=with_trace_headers(dict(headers)), timeout=timeout_s
                )
            except httpx.TimeoutException:
                raise AssessgateError(f"{url} did not answer within {timeout_s}s", retryable=True) from None
            except httpx.HTTPError as exc:
                raise AssessgateError(f"{url} unreachable ({type(exc).__name__})", retryable=True) from None
            span.set_attribute("http.response.status_code", response.status_code)
        return HttpReply(status=response.status_code, headers=dict(response.headers), body=response.content)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
