"""Signed tokens for links we hand out (candidate links, onboarding links): a url-safe body and its HMAC.

Each kind of link signs with a key of its own, derived from the primary encryption key and the kind's name, so
a leaked link says nothing about the key and a token of one kind never passes for another. Verifying tries every
configured key (newest first), so links survive a key rotation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

#: Bytes of HMAC-SHA256 kept in a token: 160 bits, out of reach of guessing, and a shorter link.
SIGNATURE_BYTES = 20


def _key(kind: bytes, secret: str) -> bytes:
    return hashlib.sha256(kind + b":" + secret.encode()).digest()


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _signature(kind: bytes, secret: str, body: bytes) -> bytes:
    return b64(hmac.new(_key(kind, secret), body, hashlib.sha256).digest()[:SIGNATURE_BYTES]).encode()


def seal(kind: bytes, secret: str, payload: bytes) -> str:
    """``<body>.<signature>``: the payload, url-safe, and its HMAC under ``kind``'s key derived from ``secret``."""
    body = b64(payload)
    return f"{body}.{_signature(kind, secret, body.encode('ascii')).decode('ascii')}"


def unseal(kind: bytes, secrets: tuple[str, ...], token: str) -> bytes | None:
    """The payload of a token signed by any of ``secrets`` for ``kind``; None for anything else."""
    body, _, signature = token.partition(".")
    if not body or not signature:
        return None
    # Bytes, not str: compare_digest refuses non-ASCII text, and a link is anyone's input.
    raw_body, raw_signature = body.encode("utf-8", "replace"), signature.encode("utf-8", "replace")
    if not any(hmac.compare_digest(_signature(kind, secret, raw_body), raw_signature) for secret in secrets):
        return None
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return None
