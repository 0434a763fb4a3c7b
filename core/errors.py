"""The one error tree of assessgate.

Every error raised on purpose by assessgate derives from :class:`AssessgateError`. Callers catch at the
level of generality they need; the HTTP layer maps each class to an RFC 9457 problem response and the
worker uses :attr:`AssessgateError.retryable` to choose between a retry and the dead-letter state.

    AssessgateError
    ├── ConfigError            a setting is missing or malformed (names the variable)
    ├── PayloadInvalid         bytes we received do not form the expected document
    ├── ValidationFailed       a document is well formed but breaks a rule (lists every field)
    ├── SignatureInvalid       a webhook signature is missing or matches no configured secret
    ├── NotFound               the object does not exist (or belongs to another tenant)
    ├── Conflict               the request contradicts the current state
    ├── Unauthorized           no valid credential
    ├── Forbidden              a valid credential that may not do this (its scope, or admin only)
    ├── CredentialError        a stored secret cannot be decrypted or is bound to another owner
    ├── DatabaseUnavailable    the database cannot be reached (retryable)
    └── AdapterError           a handler adapter failed (retryable as it says)
        └── KomboError         Kombo answered with an error envelope or an unusable response
"""

from __future__ import annotations

import re
from typing import Final

import msgspec

_AT: Final = re.compile(r" - at `(?P<path>[^`]*)`$")


class FieldError(msgspec.Struct, frozen=True, kw_only=True):
    """One broken rule, located by a JSON path such as ``$.attachments[2].content_type``."""

    path: str
    message: str

    @classmethod
    def of(cls, exc: msgspec.MsgspecError) -> FieldError:
        """msgspec's error split into its message and its JSON path (``$`` when it names none)."""
        text = str(exc)
        match = _AT.search(text)
        return cls(path=match.group("path") if match else "$", message=_AT.sub("", text))


class AssessgateError(Exception):
    """Base of every deliberate assessgate error."""

    retryable: bool = False
    title: str = "Error"

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        if retryable is not None:
            self.retryable = retryable


class ConfigError(AssessgateError):
    """A setting is missing or malformed; the message names the environment variable."""

    title = "Invalid configuration"

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


class PayloadInvalid(AssessgateError):
    """Received bytes are not the document we expected (not JSON, wrong shape, missing keys)."""

    title = "Malformed payload"

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class ValidationFailed(AssessgateError):
    """A well-formed document breaks one or more rules; ``errors`` lists each of them."""

    title = "Validation failed"

    def __init__(self, errors: list[FieldError]) -> None:
        summary = "; ".join(f"{e.path}: {e.message}" for e in errors) or "invalid"
        super().__init__(summary)
        self.errors = errors


class SignatureInvalid(AssessgateError):
    """The webhook's signature header is absent or matches none of the configured secrets."""

    title = "Invalid signature"


class NotFound(AssessgateError):
    """The object does not exist, or is not visible to the caller (never say which)."""

    title = "Not found"


class Conflict(AssessgateError):
    """The request contradicts the current state of the object."""

    title = "Conflict"


class Unauthorized(AssessgateError):
    """No valid credential was presented."""

    title = "Unauthorized"


class Forbidden(AssessgateError):
    """A valid credential that may not do this: the route is the admin's, or the API key lacks the scope."""

    title = "Forbidden"


class CredentialError(AssessgateError):
    """A stored secret cannot be decrypted, or its ciphertext is bound to another tenant or name."""

    title = "Credential error"


class DatabaseUnavailable(AssessgateError):
    """The database cannot be reached; the caller should answer 503 and let the sender retry."""

    title = "Database unavailable"
    retryable = True


class AdapterError(AssessgateError):
    """A handler adapter failed; ``retryable`` tells the worker whether to try again."""

    title = "Adapter error"


class KomboError(AdapterError):
    """Kombo answered with an error envelope, a non-JSON body, or not at all.

    ``code`` is Kombo's machine code (``None`` for the minimal error form or a non-JSON answer);
    branch on it, never on ``message`` or the HTTP status, as Kombo advises.
    """

    title = "Kombo error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        http_status: int | None = None,
        log_url: str | None = None,
        retryable: bool = False,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message, retryable=retryable)
        self.code = code
        self.http_status = http_status
        self.log_url = log_url
        self.retry_after_s = retry_after_s
