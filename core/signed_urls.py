"""Short-lived signed URLs for uploaded attachments: Kombo downloads them at once, without credentials."""

from __future__ import annotations

import hashlib
import hmac


def _key(secret: str) -> bytes:
    # A key of its own, derived from the primary encryption key, so a leaked URL says nothing about it.
    return hashlib.sha256(b"assessgate-file-urls:" + secret.encode()).digest()


def sign(secret: str, upload_id: str, expires_at_s: int) -> str:
    return hmac.new(_key(secret), f"{upload_id}:{expires_at_s}".encode(), hashlib.sha256).hexdigest()


def valid(secret: str, upload_id: str, expires_at_s: int, signature: str, *, now_s: float) -> bool:
    if now_s > expires_at_s:
        return False
    # Bytes, not str: compare_digest refuses non-ASCII text, and a link is anyone's input.
    return hmac.compare_digest(sign(secret, upload_id, expires_at_s).encode(), signature.encode("utf-8", "replace"))
