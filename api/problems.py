"""RFC 9457 problem details for every error, and their declaration in the OpenAPI document.

Every handler lists its possible problem responses with :func:`problem_responses`, so the schema says
``application/problem+json`` wherever we answer with it (schemathesis flags undocumented ones).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, Final

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ExceptionHandlersMap, Scope, Send

from core.errors import (
    AdapterError,
    AssessgateError,
    ConfigError,
    Conflict,
    CredentialError,
    DatabaseUnavailable,
    FieldError,
    Forbidden,
    KomboError,
    NotFound,
    PayloadInvalid,
    SignatureInvalid,
    Unauthorized,
    ValidationFailed,
)
from core.redaction import Redactor, loggable_path
from jobs.retry_policy import refused_input

MEDIA_TYPE: Final = "application/problem+json"
log = structlog.get_logger()


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An RFC 9457 problem document (``type`` is ``about:blank`` unless a more specific one exists)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


STATUS_OF: Final[tuple[tuple[type[AssessgateError], int], ...]] = (
    (ValidationFailed, 422),
    (PayloadInvalid, 400),
    (SignatureInvalid, 401),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (DatabaseUnavailable, 503),
    (AdapterError, 502),
    (CredentialError, 500),
    (ConfigError, 500),
)
#: Any route may answer these: bad or too deeply nested JSON, a body too slow or too large, admission limits.
DEFAULT_PROBLEMS: Final = (400, 408, 413, 429, 500)


def kombo_status(exc: KomboError) -> int:
    """Kombo refused what the caller gave us (an unknown integration or token): 422. Kombo is busy or
    unreachable: 503, try again. Anything else (our API key, Kombo's own fault): 502."""
    if refused_input(exc):
        return 422
    if exc.retryable:
        return 503
    return 502


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI response declarations for the given statuses plus the ones any route may answer."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=MEDIA_TYPE,
            description=HTTPStatus(status).phrase,
            generate_examples=False,
        )
        for status in sorted({*DEFAULT_PROBLEMS, *statuses})
    }


def problem_response(
    request: Request[Any, Any, Any], problem: Problem, headers: dict[str, str] | None = None
) -> Response[Any]:
    problem.instance = request.url.path
    problem.request_id = request.scope.get("state", {}).get("request_id")
    return Response(
        # ``type`` is spelled out although RFC 9457 lets it default, so clients need not know that rule.
        content=msgspec.json.encode({"type": problem.type, **msgspec.to_builtins(problem)}),
        status_code=problem.status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


#: The error classes the app maps to problem responses, most specific first.
APP_HANDLED: Final = (AssessgateError, HTTPException, RecursionError, Exception)


def exception_handlers(redactor: Redactor) -> ExceptionHandlersMap:
    """Map our error tree, Litestar's HTTP errors and anything unexpected to problem responses."""

    def on_assessgate_error(request: Request[Any, Any, Any], exc: AssessgateError) -> Response[Any]:
        status = kombo_status(exc) if isinstance(exc, KomboError) else None
        status = status or next((code for cls, code in STATUS_OF if isinstance(exc, cls)), 500)
        errors = exc.errors if isinstance(exc, ValidationFailed) else None
        if isinstance(exc, PayloadInvalid) and exc.path:
            errors = [FieldError(path=exc.path, message=redactor.text(exc.message))]
        if status >= 500:  # noqa: PLR2004
            log.error("request_failed", error=type(exc).__name__, detail=exc.message)
        retry = isinstance(exc, DatabaseUnavailable) or (isinstance(exc, KomboError) and status == 503)  # noqa: PLR2004
        headers = {"Retry-After": "5"} if retry else None
        # Internal faults keep their detail to the log; an upstream's or the database's is the caller's business.
        shown = status < 500 or isinstance(exc, DatabaseUnavailable | KomboError)  # noqa: PLR2004
        detail = redactor.text(exc.message) if shown else None
        return problem_response(request, Problem(title=exc.title, status=status, detail=detail, errors=errors), headers)

    def on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
        errors = None
        if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
            errors = [
                FieldError(path=str(e.get("key") or e.get("source") or "$"), message=str(e.get("message", "")))
                for e in exc.extra
                if isinstance(e, dict)
            ]
        status = exc.status_code
        if status >= 500:  # noqa: PLR2004 - a server-side fault raised as an HTTP error: keep its cause
            log.error("request_failed", error=type(exc).__name__, detail=exc.detail, exc_info=exc)
        return problem_response(
            request,
            Problem(title=HTTPStatus(status).phrase, status=status, detail=redactor.text(exc.detail), errors=errors),
            headers=exc.headers,
        )

    def on_recursion(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
        # The net under api.body_guard's depth check (a body it does not read whole): a decoder gave up deep down.
        del exc
        return problem_response(
            request, Problem(title="Bad Request", status=400, detail="the body is nested too deeply to decode")
        )

    def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        log.error("unhandled_exception", exc_info=exc, path=loggable_path(request.url.path))
        return problem_response(request, Problem(title="Internal Server Error", status=500))

    return dict(zip(APP_HANDLED, (on_assessgate_error, on_http_exception, on_recursion, on_unexpected), strict=True))


def every_error(handler: Callable[[Request[Any, Any, Any], Any], Response[Any]]) -> ExceptionHandlersMap:
    """A route's handler for whatever fails there (a page for a person, not problem+json): it must name every class
    the app maps, since Litestar picks the most specific class across route and app, and a route's ``Exception``
    loses to the app's ``AssessgateError``."""
    return dict.fromkeys(APP_HANDLED, handler)


async def send_problem(
    scope: Scope, send: Send, status: int, detail: str, headers: Mapping[str, str] | None = None
) -> None:
    """Answer with a problem straight from an ASGI middleware (before any route handler or body parsing)."""
    problem = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=scope.get("path"),
        request_id=scope.get("state", {}).get("request_id"),
    )
    body = msgspec.json.encode({"type": problem.type, **msgspec.to_builtins(problem)})
    raw_headers = [
        (b"content-type", MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
