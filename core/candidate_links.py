"""Candidate links: signed, expiring tokens naming an order and a purpose (``launch``, ``form``, ...).

Minting is pure computation (an HMAC), so an inline order's ``decide`` can hand one out without any I/O.
Single use is enforced where the link is redeemed: the first redemption of an (order, purpose) is recorded,
and every later one is refused (``tenants.candidate_links``).
"""

from __future__ import annotations

import uuid

import msgspec

from core.sealed_tokens import seal, unseal


class LinkClaims(msgspec.Struct, frozen=True, array_like=True):
    order_id: uuid.UUID
    purpose: str
    expires_at_s: int


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(LinkClaims)
#: The key of candidate links is derived with this name (``core/sealed_tokens.py``).
KIND = b"assessgate-candidate-links"


def mint(secret: str, claims: LinkClaims) -> str:
    return seal(KIND, secret, _ENCODER.encode(claims))


def verify(secrets: tuple[str, ...], token: str, *, now_s: float) -> LinkClaims | None:
    """The claims of a genuine, unexpired token (signed by any of ``secrets``), else None."""
    payload = unseal(KIND, secrets, token)
    if payload is None:
        return None
    try:
        claims = _DECODER.decode(payload)
    except msgspec.DecodeError:
        return None
    return claims if now_s <= claims.expires_at_s else None
