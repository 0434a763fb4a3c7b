"""Onboarding links: a signed, expiring token naming one tenant and one issue of its link, and the form token that
guards the onboarding page's form against cross-site requests.

The token is the customer's admin's only credential, so it is signed (``core/sealed_tokens.py``) with a key of
its own. Whether an issue is still the tenant's current one, and whether it was used, is stored beside the tenant
(``tenants/onboarding_links.py``): issuing a new link revokes the previous one.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from enum import StrEnum

import msgspec

from core.sealed_tokens import b64, seal, unseal

KIND = b"assessgate-onboarding-links"
FORM_KIND = b"assessgate-onboarding-form"


class OnboardingClaims(msgspec.Struct, frozen=True, array_like=True):
    tenant_id: uuid.UUID
    #: Which issue of the tenant's link this is: only the latest one works.
    link_id: uuid.UUID
    expires_at_s: int


class TokenCheck(StrEnum):
    GENUINE = "genuine"
    EXPIRED = "expired"
    FORGED = "forged"


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(OnboardingClaims)


def mint(secret: str, claims: OnboardingClaims) -> str:
    return seal(KIND, secret, _ENCODER.encode(claims))


def check(secrets: tuple[str, ...], token: str, *, now_s: float) -> tuple[TokenCheck, OnboardingClaims | None]:
    """Forged (any token we did not sign, or no keys at all), expired (ours, out of date: the claims say whose) or
    genuine."""
    payload = unseal(KIND, secrets, token)
    if payload is None:
        return TokenCheck.FORGED, None
    try:
        claims = _DECODER.decode(payload)
    except msgspec.DecodeError:
        return TokenCheck.FORGED, None
    return (TokenCheck.GENUINE if now_s <= claims.expires_at_s else TokenCheck.EXPIRED), claims


def form_token(secret: str, nonce: str, link: str) -> str:
    """The value the page's form carries: bound to the browser's nonce (its cookie) and to the link."""
    key = hashlib.sha256(FORM_KIND + b":" + secret.encode()).digest()
    return b64(hmac.new(key, f"{nonce}\n{link}".encode("utf-8", "replace"), hashlib.sha256).digest())


def form_token_valid(secrets: tuple[str, ...], nonce: str, link: str, presented: str) -> bool:
    """A form token made for this nonce and link under any of ``secrets`` (an empty nonce never matches)."""
    if not nonce:
        return False
    given = presented.encode("utf-8", "replace")
    return any(hmac.compare_digest(form_token(secret, nonce, link).encode(), given) for secret in secrets)
