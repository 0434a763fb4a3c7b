"""The adapters' outbound HTTP client (httpx): transport failures become retryable errors."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from core.adapters import HttpReply
from core.errors import AssessgateError


class HttpxClient:
    """Opens its httpx client on first use (and again after :meth:`aclose`, when an app restarts)."""

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None

    async def post(self, url: str, *, content: bytes, headers: Mapping[str, str], timeout_s: float) -> HttpReply:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(headers={"User-Agent": "assessgate"})
        try:
            response = await self._client.post(url, content=content, headers=dict(headers), timeout=timeout_s)
        except httpx.TimeoutException:
            raise AssessgateError(f"{url} did not answer within {timeout_s}s", retryable=True) from None
        except httpx.HTTPError as exc:
            raise AssessgateError(f"{url} unreachable ({type(exc).__name__})", retryable=True) from None
        return HttpReply(status=response.status_code, headers=dict(response.headers), body=response.content)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
