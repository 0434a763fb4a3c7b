"""The Kombo HTTP client: one :class:`adapters.http_exchange.Exchange`, Kombo's envelopes decoded, every failure a
KomboError.

Error policy (contract §1.4): branch on ``error.code``, never on the HTTP status or the message. Retryable:
the codes Kombo documents as safe to retry, any 5xx, timeouts, connection errors and non-JSON bodies (a
load balancer's HTML 502). The retry time comes from ``Retry-After`` or ``ratelimit-reset`` (seconds) when
Kombo sends one. Everything else is permanent until a person changes something.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar
from urllib.parse import quote, urlsplit

import msgspec

from adapters.http_exchange import Deadlines, Exchange, ExchangeFailed, Reply
from adapters.outbound_spans import client_span
from core.errors import KomboError, PayloadInvalid
from core.kombo import (
    CreateLinkRequest,
    Empty,
    ErrorEnvelope,
    Integration,
    IntegrationByToken,
    KomboWarning,
    Link,
    OrderPage,
    PutPackagesRequest,
    RelinkRequest,
    ResultBody,
    Success,
    decode_json,
)
from core.kombo.vocabulary import RETRYABLE_ERROR_CODES

T = TypeVar("T")
#: A connection within 5 s, each wait for the answer within 30 s, the whole call within 60 s.
DEADLINES: Final = Deadlines(connect=5, read=30, total=60)


class KomboClient:
    def __init__(self, http: Exchange, *, base_url: str, api_key: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key

    async def create_link(self, request: CreateLinkRequest) -> str:
        data = await self._call("POST", "/connect/create-link", Link, body=request)
        return data.link

    async def integration_by_token(self, token: str) -> IntegrationByToken:
        return await self._call("GET", f"/connect/integration-by-token/{quote(token, safe='')}", IntegrationByToken)

    async def get_integration(self, integration_id: str) -> Integration:
        return await self._call("GET", f"/integrations/{quote(integration_id, safe='')}", Integration)

    async def relink(self, integration_id: str) -> str:
        path = f"/integrations/{quote(integration_id, safe='')}/relink"
        data = await self._call("POST", path, Link, body=RelinkRequest())
        return data.link

    async def put_packages(self, integration_id: str, request: PutPackagesRequest) -> tuple[KomboWarning, ...]:
        envelope = await self._request(
            "PUT", "/assessment/packages", Empty, body=request, integration_id=integration_id
        )
        return () if envelope.warnings is msgspec.UNSET else envelope.warnings

    async def list_orders(
        self,
        integration_id: str,
        *,
        statuses: str | None = None,
        created_after: str | None = None,
        cursor: str | None = None,
        page_size: int = 100,
    ) -> OrderPage:
        """One page of ``GET /assessment/orders``; filters must be sent again with every cursor (Kombo's rule)."""
        params = [("page_size", str(page_size))]
        for key, value in (("statuses", statuses), ("created_after", created_after), ("cursor", cursor)):
            if value is not None:
                params.append((key, value))
        query = "&".join(f"{k}={quote(v, safe=',')}" for k, v in params)
        return await self._call("GET", f"/assessment/orders?{query}", OrderPage, integration_id=integration_id)

    async def put_result(self, integration_id: str, order_id: str, body: ResultBody) -> tuple[KomboWarning, ...]:
        path = f"/assessment/orders/{quote(order_id, safe='')}/result"
        envelope = await self._request("PUT", path, Empty, body=body, integration_id=integration_id)
        return () if envelope.warnings is msgspec.UNSET else envelope.warnings

    async def _call(
        self, method: str, path: str, data_type: type[T], *, body: Any = None, integration_id: str | None = None
    ) -> T:
        envelope = await self._request(method, path, data_type, body=body, integration_id=integration_id)
        return envelope.data

    async def _request(
        self, method: str, path: str, data_type: type[T], *, body: Any, integration_id: str | None
    ) -> Success[T]:
        url = urlsplit(self.base_url + path)
        with client_span(f"kombo {method}", method=method, url=str(url), path=url.path) as span:
            success = await self._send(method, path, data_type, body=body, integration_id=integration_id)
            span.set_attribute("kombo.outcome", "ok")
            return success

    async def _send(
        self, method: str, path: str, data_type: type[T], *, body: Any, integration_id: str | None
    ) -> Success[T]:
        headers = {"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"}
        if integration_id is not None:
            headers["X-Integration-Id"] = integration_id
        content = None if body is None else msgspec.json.encode(body)
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            reply = await self.http.send(
                method, self.base_url + path, headers=headers, content=content, deadlines=DEADLINES
            )
        except ExchangeFailed as exc:  # e.g. "Kombo: no connection (ClientConnectorError)"
            raise KomboError(f"Kombo: {exc}", retryable=True) from None
        if reply.is_success:
            try:
                return decode_json(reply.body, Success[data_type], what="Kombo response")  # type: ignore[valid-type]
            except PayloadInvalid as exc:
                raise KomboError(exc.message, http_status=reply.status, retryable=True) from None
        raise error_from(reply)


def error_from(response: Reply) -> KomboError:
    """Kombo's error envelope (or whatever came instead) as a KomboError with the retry decision made."""
    retry_after = _retry_after(response)
    try:
        envelope = decode_json(response.body, ErrorEnvelope, what="Kombo error")
    except PayloadInvalid:
        return KomboError(
            f"Kombo answered HTTP {response.status} without its error envelope",
            http_status=response.status,
            retryable=True,  # load balancers answer like this; Kombo says a plain 5xx may be retried
            retry_after_s=retry_after,
        )
    error = envelope.error
    retryable = error.code in RETRYABLE_ERROR_CODES or response.status >= 500  # noqa: PLR2004
    return KomboError(
        error.message,
        code=error.code,
        http_status=response.status,
        log_url=error.log_url,
        retryable=retryable,
        retry_after_s=retry_after,
    )


def _retry_after(response: Reply) -> float | None:
    for header in ("retry-after", "ratelimit-reset"):
        value = response.headers.get(header)
        if value is None:
            continue
        try:
            return max(0.0, float(value))
        except ValueError:
            continue
    return None
