"""Keep secrets out of everything we emit: logs, problem responses, metrics.

Two nets: a key net (any mapping key that names a secret has its value replaced) and a value net
(any string containing a configured secret value has that value replaced), so a secret that slips
into an exception message or a URL is caught too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

REDACTED: Final = "[redacted]"
SECRET_KEY_PATTERN: Final = re.compile(
    r"secret|token|password|passwd|authorization|api[_-]?key|signature|cookie|credential", re.IGNORECASE
)
_MIN_SECRET_LENGTH: Final = 6  # shorter values would redact ordinary words
#: Paths whose segment after the prefix is a credential (a candidate's signed link, a customer's onboarding link).
_CREDENTIAL_PATH: Final = re.compile(r"^(/c/|/connect/)[^/]+")
#: Such a link anywhere in a text (an email body, a URL in a message): its token is a credential. (Kombo's own
#: ``/v1/connect/...`` paths are not ours.)
_CANDIDATE_LINK: Final = re.compile(r"(/c/|(?<!/v1)/connect/)[A-Za-z0-9_.~%-]+")


def loggable_path(path: str) -> str:
    """A request path fit for logs: a candidate or onboarding link's token (a credential) is replaced."""
    return _CREDENTIAL_PATH.sub(rf"\g<1>{REDACTED}", path)


def without_link_tokens(text: str) -> str:
    """``text`` with every candidate and onboarding link's token replaced (``.../c/[redacted]``)."""
    return _CANDIDATE_LINK.sub(rf"\g<1>{REDACTED}", text) if "/c/" in text or "/connect/" in text else text


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = sorted({s for s in secrets if len(s) >= _MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._values: tuple[str, ...] = tuple(values)

    def text(self, value: str) -> str:
        value = without_link_tokens(value)
        for secret in self._values:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def __call__(self, value: Any) -> Any:
        """Return a copy of ``value`` with secrets removed (dicts, lists, tuples and strings; others as is)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {
                k: (REDACTED if isinstance(k, str) and SECRET_KEY_PATTERN.search(k) and v else self(v))
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return type(value)(self(v) for v in value)
        return value
