"""Kombo's success and error envelopes.

Success: ``{"status": "success", "data": ..., "warnings": [...]}`` (``warnings`` only on write endpoints
that touch the ATS). Error: ``{"status": "error", "error": {"code", "title", "message", "log_url"}}``,
where everything but ``message`` may be null (Kombo's "minimal" form) and ``code`` may be a code added
after this was written.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from msgspec import UNSET, Struct, UnsetType

from core.kombo.vocabulary import RETRYABLE_ERROR_CODES

T = TypeVar("T")


class KomboWarning(Struct, frozen=True, kw_only=True):
    message: str


class Success(Struct, Generic[T], frozen=True, kw_only=True):
    status: Literal["success"] = "success"
    data: T
    warnings: tuple[KomboWarning, ...] | UnsetType = UNSET


class Empty(Struct, frozen=True, kw_only=True):
    """``data: {}`` of write endpoints; unknown keys are ignored."""


class ErrorDetail(Struct, frozen=True, kw_only=True):
    message: str
    code: str | None = None
    title: str | None = None
    log_url: str | None = None

    @property
    def retryable(self) -> bool:
        """True for the codes Kombo documents as safe to retry unchanged."""
        return self.code in RETRYABLE_ERROR_CODES


class ErrorEnvelope(Struct, frozen=True, kw_only=True):
    status: Literal["error"] = "error"
    error: ErrorDetail


def success(data: Any, *, warnings: tuple[KomboWarning, ...] | UnsetType = UNSET) -> Success[Any]:
    return Success(data=data, warnings=warnings)
