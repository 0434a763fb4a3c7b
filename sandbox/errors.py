"""Kombo-shaped errors: ``{"status": "error", "error": {"code", "title", "message", "log_url"}}``."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException

from core.kombo import ErrorDetail, ErrorEnvelope

TITLES = {
    "PLATFORM.INPUT_INVALID": "Input invalid",
    "PLATFORM.AUTHENTICATION_INVALID": "Authentication invalid",
    "PLATFORM.INTEGRATION_NOT_FOUND": "Integration not found",
    "PLATFORM.RATE_LIMIT_EXCEEDED": "Rate limit exceeded",
    "PLATFORM.UNKNOWN_ERROR": "Unknown error",
    "INTEGRATION.INACTIVE": "Integration inactive",
    "INTEGRATION.AUTHENTICATION_INVALID": "Integration authentication invalid",
    "INTEGRATION.MODEL_NOT_AVAILABLE": "This data model isn't supported for the selected integration.",
}


class KomboApiError(Exception):
    def __init__(self, status: int, code: str | None, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def input_invalid(message: str) -> KomboApiError:
    return KomboApiError(400, "PLATFORM.INPUT_INVALID", message)


def envelope(code: str | None, message: str) -> bytes:
    detail = ErrorDetail(
        code=code,
        title=TITLES.get(code or "") if code else None,
        message=message,
        log_url=f"https://sandbox.invalid/logs/{code or 'error'}" if code else None,
    )
    return msgspec.json.encode(ErrorEnvelope(error=detail))


def on_kombo_error(_request: Request[Any, Any, Any], exc: KomboApiError) -> Response[bytes]:
    return Response(
        envelope(exc.code, exc.message), status_code=exc.status, media_type="application/json", headers=exc.headers
    )


def on_http_error(_request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    code = "PLATFORM.INPUT_INVALID" if exc.status_code < 500 else "PLATFORM.UNKNOWN_ERROR"  # noqa: PLR2004
    return Response(envelope(code, str(exc.detail)), status_code=exc.status_code, media_type="application/json")
