"""Candidate links: signed, expiring tokens naming an order and a purpose (``launch``, ``form``, ...).

Minting is pure computation (an HMAC), so an inline order's ``decide`` can hand one out without any I/O.
Single use is enforced where the link is redeemed: the first redemption of an (order, purpose) is recorded,
and every later one is refused (``tenants.candidate_links``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid

import msgspec


class LinkClaims(msgspec.Struct, frozen=True, array_like=True):
    order_id: uuid.UUID
    purpose: str
    expires_at_s: int


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(LinkClaims)


def _key(secret: str) -> bytes:
    # A key of its own, derived from the primary encryption key: a leaked link says nothing about the key.
    return hashlib.sha256(b"assessgate-candidate-links:" + secret.encode()).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def mint(secret: str, claims: LinkClaims) -> str:
    body = _b64(_ENCODER.encode(claims))
    signature = _b64(hmac.new(_key(secret), body.encode("ascii"), hashlib.sha256).digest()[:20])
    return f"{body}.{signature}"


def verify(secrets: tuple[str, ...], token: str, *, now_s: float) -> LinkClaims | None:
    """The claims of a genuine, unexpired token (signed by any of ``secrets``), else None."""
    body, _, signature = token.partition(".")
    if not body or not signature:
        return None
    raw_signature = signature.encode("utf-8", "replace")
    if not any(
        hmac.compare_digest(
            _b64(hmac.new(_key(secret), body.encode("utf-8", "replace"), hashlib.sha256).digest()[:20]).encode(),
            raw_signature,
        )
        for secret in secrets
    ):
        return None
    try:
        claims = _DECODER.decode(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (msgspec.DecodeError, binascii.Error, ValueError):
        return None
    return claims if now_s <= claims.expires_at_s else None
