"""A result's attachments as the sandbox keeps them: base64 data decoded, ``data_url`` downloaded through the
outbound guard (as Kombo downloads them), each recorded by name, type, size and digest."""

from __future__ import annotations

import base64
import binascii
import hashlib

import httpx
import msgspec

from core.kombo import ResultBody
from core.outbound import REFUSED, OutboundRefused
from sandbox.errors import input_invalid
from sandbox.settings import SandboxSettings
from sandbox.state import Attachment


async def fetch_attachments(
    settings: SandboxSettings, downloader: httpx.AsyncClient, body: ResultBody
) -> list[Attachment]:
    """What Kombo would store of a result's attachments: inline data decoded, URLs downloaded (when enabled)."""
    fetched: list[Attachment] = []
    for item in body.attachments:
        if item.data is not msgspec.UNSET:
            try:
                content = base64.b64decode(item.data, validate=True)
            except (binascii.Error, ValueError):
                raise input_invalid(f"Attachment {item.name!r}: data is not valid base64.") from None
            fetched.append(
                Attachment(
                    name=item.name,
                    content_type=_opt(item.content_type),
                    source="data",
                    size=len(content),
                    sha256=hashlib.sha256(content).hexdigest(),
                )
            )
            continue
        url = str(item.data_url)
        if not settings.download_attachments:
            fetched.append(
                Attachment(name=item.name, content_type=_opt(item.content_type), source="data_url", size=0, sha256="")
            )
            continue
        try:
            response = await downloader.get(url, timeout=30)
        except OutboundRefused:
            raise input_invalid(f"Attachment {item.name!r} could not be downloaded: {REFUSED}.") from None
        except httpx.HTTPError as exc:
            raise input_invalid(f"Attachment {item.name!r} could not be downloaded: {type(exc).__name__}.") from None
        if not response.is_success:
            raise input_invalid(f"Attachment {item.name!r} could not be downloaded: HTTP {response.status_code}.")
        content_type = _opt(item.content_type) or response.headers.get("content-type", "").split(";")[0] or None
        fetched.append(
            Attachment(
                name=item.name,
                content_type=content_type,
                source="data_url",
                size=len(response.content),
                sha256=hashlib.sha256(response.content).hexdigest(),
            )
        )
    return fetched


def _opt(value: object) -> str | None:
    return value if isinstance(value, str) else None
