"""An httpx transport that holds every request to the outbound policy (``core/outbound.py``).

Each request, and each redirect httpx follows (they pass through the transport one by one), is checked:
the URL's scheme and host, then every address its host resolves to. The request then goes to the first
address that was checked, with the original ``Host`` header and TLS server name, so the name cannot resolve
elsewhere between the check and the connection. A refusal raises ``OutboundRefused`` before anything is
sent, and says only that the policy refused it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

import httpx

from core.outbound import REFUSED, Address, OutboundPolicy, OutboundRefused, valid_url


class GuardedTransport(httpx.AsyncBaseTransport):
    def __init__(self, policy: OutboundPolicy, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.policy = policy
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if not valid_url(url):
            raise OutboundRefused()
        if self.policy.admits_url(url):
            return await self.inner.handle_async_request(request)
        host = request.url.host
        addresses = await _resolve(host, request.url.port or (443 if request.url.scheme == "https" else 80))
        if not addresses or not all(self.policy.admits_address(a) for a in addresses):
            raise OutboundRefused()
        pinned = addresses[0]
        if str(pinned) != host:  # connect to the address we checked, not to a fresh resolution of the name
            request.url = request.url.copy_with(host=str(pinned))
            if request.url.scheme == "https":
                request.extensions = {**request.extensions, "sni_hostname": host}
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def _resolve(host: str, port: int) -> list[Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    addresses: list[Address] = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def guarded_client(policy: OutboundPolicy, **kwargs: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` whose every request passes the outbound policy."""
    return httpx.AsyncClient(transport=GuardedTransport(policy), **kwargs)


__all__ = ["REFUSED", "GuardedTransport", "OutboundRefused", "guarded_client"]
