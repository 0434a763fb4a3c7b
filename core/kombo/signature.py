"""Kombo's webhook signature: ``X-Kombo-Signature`` = base64url(HMAC-SHA256(secret, raw body)), unpadded.

The key is the secret's UTF-8 bytes, used as they are (an assumption the contract marks unconfirmed:
third-party handlers do this and the docs say only "sign with your webhook secret"). The bytes signed
are the body exactly as received; never re-serialise parsed JSON. Several secrets may be configured at
once so a secret can be rotated without losing webhooks: any one of them may match.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from typing import Final

from core.errors import SignatureInvalid

HEADER: Final = "X-Kombo-Signature"
_DIGEST_LENGTH: Final = 43  # 32 bytes in unpadded base64url


def sign(secret: str, raw_body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def matches(secrets: Iterable[str], raw_body: bytes, header_value: str | None) -> bool:
    """True when ``header_value`` is the signature of ``raw_body`` under any of ``secrets``.

    Every secret is compared in constant time, and all of them are tried even after a match, so the
    timing does not reveal which secret (or whether an early one) matched.
    """
    if header_value is None:
        return False
    candidate = header_value.strip()
    if len(candidate) != _DIGEST_LENGTH or not candidate.isascii():
        return False
    found = False
    for secret in secrets:
        found |= hmac.compare_digest(sign(secret, raw_body), candidate)
    return found


def verify(secrets: Iterable[str], raw_body: bytes, header_value: str | None) -> None:
    """Raise :class:`core.errors.SignatureInvalid` unless the signature matches a configured secret."""
    if header_value is None or not header_value.strip():
        raise SignatureInvalid(f"missing {HEADER} header")
    if not matches(secrets, raw_body, header_value):
        raise SignatureInvalid(f"{HEADER} does not match any configured webhook secret")
