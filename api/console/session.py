"""The operator console's session: a signed cookie, and the CSRF token every form carries.

Logging in with the admin token gives a cookie holding a random session id and its expiry, signed with a key
derived from the admin token (HMAC-SHA256): nothing is stored server-side, so any replica accepts it, and
changing the admin token ends every session at once. The CSRF token of a session is another HMAC of its id, so
a form posted from elsewhere (which cannot read the cookie or the page) cannot carry it. Logging out clears
the cookie; a copied cookie stays valid until it expires (docs/console.md says so).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Final

import msgspec

SESSION_COOKIE: Final = "assessgate_console"
#: The login form's own token (double submit): the form's hidden field must equal this cookie.
LOGIN_COOKIE: Final = "assessgate_console_login"
#: How long a session lasts after logging in, in seconds (then the operator logs in again).
SESSION_TTL_S: Final = 8 * 3600
CSRF_FIELD: Final = "csrf_token"


class Session(msgspec.Struct, frozen=True):
    """A logged-in operator: the session id (what the audit log names) and when it ends."""

    id: str
    expires_s: int

    @property
    def actor(self) -> str:
        """Who, in the audit log: the console and this session's id (never the token)."""
        return f"console:{self.id}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def same_text(presented: str, expected: str) -> bool:
    """A constant-time comparison that takes any text: ``compare_digest`` refuses non-ASCII ``str`` (a 500)."""
    return hmac.compare_digest(presented.encode("utf-8", "replace"), expected.encode("utf-8", "replace"))


class SessionSigner:
    def __init__(self, admin_token: str) -> None:
        if not admin_token:  # a key derived from nothing would let anyone sign a session
            raise ValueError("the console's sessions are signed with a key derived from the admin token: set one")
        # A key of its own, derived from the admin token: a cookie is never the token, nor reveals it.
        self._key = hmac.new(admin_token.encode(), b"assessgate console session v1", hashlib.sha256).digest()

    def new(self, now_s: int) -> tuple[Session, str]:
        """A new session and its cookie value."""
        session = Session(id=secrets.token_hex(8), expires_s=now_s + SESSION_TTL_S)
        body = _b64(msgspec.json.encode(session))
        return session, f"{body}.{self._sign(body)}"

    def verify(self, cookie: str | None, now_s: int) -> Session | None:
        """The session a cookie stands for, or None (absent, forged, malformed or expired)."""
        if not cookie or cookie.count(".") != 1:
            return None
        body, signature = cookie.split(".")
        if not same_text(signature, self._sign(body)):
            return None
        try:
            session = msgspec.json.decode(_unb64(body), type=Session)
        except (ValueError, msgspec.DecodeError):
            return None
        return session if session.expires_s > now_s else None

    def csrf_token(self, session: Session) -> str:
        return self._sign(f"csrf:{session.id}")

    def csrf_ok(self, session: Session, presented: object) -> bool:
        return isinstance(presented, str) and same_text(presented, self.csrf_token(session))

    def _sign(self, text: str) -> str:
        return _b64(hmac.new(self._key, text.encode(), hashlib.sha256).digest())
