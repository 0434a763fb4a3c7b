"""The outbound policy: where the gateway may send a request whose URL a tenant, a platform or a plugin's
configuration supplied (not the operator's own settings such as Kombo's API URL or the SMTP server).

Such a URL must be http(s) with a host, and every address its host resolves to must be public: loopback,
private, shared (CGNAT), link-local (cloud metadata at 169.254.169.254 among them), multicast, reserved and
unspecified addresses are refused, IPv4-mapped IPv6 addresses judged as the IPv4 address they carry. The
operator's allow-list (``ASSESSGATE_OUTBOUND_ALLOW``) admits networks (``10.20.0.0/16``) or URL prefixes
(``http://screening.internal:8080/hooks/``). The check runs on every request, each redirect included, after
name resolution; ``adapters/outbound_guard.py`` then connects to the address it checked, so a name that resolves
differently a moment later (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Final
from urllib.parse import urlsplit

import msgspec

from core.errors import AssessgateError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: What a refused request reports, wherever it is shown (a timeline, an error): never what the target said.
REFUSED: Final = "refused by the outbound policy"


class OutboundRefused(AssessgateError):
    """A request to a URL the outbound policy does not allow; it was never sent."""

    title = "Refused by the outbound policy"

    def __init__(self, message: str = REFUSED) -> None:
        super().__init__(message, retryable=False)


def is_public(address: Address) -> bool:
    """Whether an address is on the public internet (see the module doc for what is not)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast and not address.is_reserved


def valid_url(url: str) -> bool:
    """An http(s) URL with a host, the only kind a tenant may give us to fetch or call."""
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


class OutboundPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """The allow-list: networks and URL prefixes the operator admits beside the public internet."""

    networks: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> OutboundPolicy:
        """Entries as the setting gives them; raises ``ValueError`` naming one that is neither kind."""
        networks, prefixes = [], []
        for entry in entries:
            if "://" in entry:
                if not valid_url(entry):
                    raise ValueError(f"{entry!r} is not an http(s) URL prefix with a host")
                prefixes.append(entry)
                continue
            try:
                networks.append(str(ipaddress.ip_network(entry, strict=False)))
            except ValueError:
                raise ValueError(f"{entry!r} is neither a network (10.0.0.0/8) nor a URL prefix") from None
        return cls(networks=tuple(networks), prefixes=tuple(prefixes))

    def with_prefix(self, prefix: str) -> OutboundPolicy:
        return msgspec.structs.replace(self, prefixes=(*self.prefixes, prefix))

    def admits_url(self, url: str) -> bool:
        """Whether the URL falls under an allowed prefix: the same scheme, host and port (no userinfo, which
        could name another host), and a path under the prefix's at a ``/`` boundary with no dot segments."""
        target = _origin_and_path(url)
        if target is None:
            return False
        origin, path = target
        if ".." in path or "%2e" in path.lower() or "%2f" in path.lower() or "\\" in path:
            return False
        for prefix in self.prefixes:
            allowed = _origin_and_path(prefix)
            if allowed is not None and allowed[0] == origin and f"{path}/".startswith(allowed[1]):
                return True
        return False

    def admits_address(self, address: Address) -> bool:
        if is_public(address):
            return True
        return any(address in ipaddress.ip_network(network) for network in self.networks)


def _origin_and_path(url: str) -> tuple[tuple[str, str, int], str] | None:
    """(scheme, host, port) and the path ending in ``/``; None for a URL that is not http(s) with a host or that
    carries userinfo (``http://allowed@elsewhere/``)."""
    if not valid_url(url):
        return None
    parts = urlsplit(url)
    if "@" in parts.netloc:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path if parts.path.endswith("/") else f"{parts.path}/"
    return (parts.scheme, (parts.hostname or "").lower(), port), path
