"""How every console page is rendered and protected: the templates, the security headers, the session guard,
the CSRF check of every POST, and the error pages (an operator reads a page, never a problem document).

The pages run no inline script and load styles and the one small script from ``/console/static`` (our own
package), so the CSP allows ``'self'`` only; they may not be framed; no page is cached (they show operational
data, and a new API key once).
"""

from __future__ import annotations

import time
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import urlencode

import jinja2
import msgspec
import structlog
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import UploadFile
from litestar.enums import MediaType
from litestar.exceptions import HTTPException
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect
from litestar.types import ExceptionHandlersMap

from api.console.session import CSRF_FIELD, SESSION_COOKIE, Session, SessionSigner
from api.problems import STATUS_OF, kombo_status
from core.errors import AssessgateError, KomboError, PayloadInvalid
from core.redaction import Redactor

log = structlog.get_logger()
PREFIX: Final = "/console"
CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS: Final = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "content-security-policy": CSP,
}
#: What a page says after an action redirected to it (``?done=<key>``; a fixed text, never the query's own).
NOTICES: Final = {
    "write_back_retried": "The write-back is queued again.",
    "retried": "Queued again.",
    "discarded": "Discarded.",
    "created": "Created.",
    "saved": "Saved.",
    "revoked": "Revoked.",
    "secret_set": "The secret is stored (it is never shown again).",
    "bound": "The integration is bound to its tenant.",
}
#: Route option of the pages open without a session (the login page, the static files).
PUBLIC: Final = "console_public"
_STATE_KEY: Final = "console_session"
_PAGES = jinja2.Environment(
    loader=jinja2.PackageLoader("api", "templates/console"), autoescape=True, undefined=jinja2.StrictUndefined
)


class LoginRequired(Exception):
    """No valid session: the operator is sent to the login page."""


class CsrfRefused(Exception):
    """A POST without the session's CSRF token."""


def query(**values: object) -> str:
    """A query string of the values that are set (for links that keep a list's filters)."""
    return urlencode({k: str(v) for k, v in values.items() if v not in (None, "")})


_PAGES.globals.update(query=query, prefix=PREFIX)


def pretty_json(value: object) -> str:
    """A value as indented JSON, as the console's editors show and take it."""
    return msgspec.json.format(msgspec.json.encode(value), indent=2).decode()


def signer_of(connection: ASGIConnection[Any, Any, Any, Any]) -> SessionSigner:
    signer: SessionSigner = connection.app.state["console_signer"]
    return signer


def page(request: Request[Any, Any, Any], template: str, *, status: int = 200, **values: Any) -> Response[str]:
    """A console page; the session (if any) and its CSRF token are in every template's reach."""
    found = request.scope.get(_STATE_KEY)
    session = found if isinstance(found, Session) else None
    csrf = signer_of(request).csrf_token(session) if session else ""
    values.setdefault("notice", NOTICES.get(request.query_params.get("done", ""), ""))
    html = _PAGES.get_template(template).render(
        session=session, csrf=csrf, csrf_field=CSRF_FIELD, path=request.url.path, **values
    )
    return Response(html, status_code=status, media_type=MediaType.HTML, headers=HEADERS)


def session_of(request: Request[Any, Any, Any]) -> Session:
    """The logged-in operator's session (the guard has put it there)."""
    session = request.scope.get(_STATE_KEY)
    if not isinstance(session, Session):
        raise LoginRequired
    return session


async def require_session(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The guard of every console page but the public ones: a valid session cookie, and on a POST the CSRF
    token of that session in the form (no page can forget it)."""
    if handler.opt.get(PUBLIC):
        return
    session = signer_of(connection).verify(connection.cookies.get(SESSION_COOKIE), int(time.time()))
    if session is None:
        raise LoginRequired
    connection.scope[_STATE_KEY] = session  # type: ignore[typeddict-unknown-key]
    if isinstance(connection, Request) and connection.method == "POST":
        form = await connection.form()
        if not signer_of(connection).csrf_ok(session, form.get(CSRF_FIELD)):
            raise CsrfRefused
        files = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
        if files:  # so pages read text only
            for file in files:
                await file.close()
            raise PayloadInvalid("the console's forms take text, not files")


def _to_login(request: Request[Any, Any, Any], _exc: Exception) -> Response[Any]:
    return Redirect(f"{PREFIX}/login", status_code=303, headers=HEADERS)


def message_page(request: Request[Any, Any, Any], status: int, title: str, message: str) -> Response[str]:
    return page(request, "message.html", status=status, title=title, message=message)


def _csrf_refused(request: Request[Any, Any, Any], _exc: Exception) -> Response[str]:
    log.warning("security_event", kind="console_csrf_refused", path=request.url.path)
    return message_page(
        request,
        403,
        "This form was refused",
        "It did not carry this session's security token: it may come from another site or an old page. "
        "Nothing was changed. Go back, reload the page and try again.",
    )


def _app_error(request: Request[Any, Any, Any], exc: AssessgateError) -> Response[str]:
    status = kombo_status(exc) if isinstance(exc, KomboError) else None
    status = status or next((code for cls, code in STATUS_OF if isinstance(exc, cls)), 500)
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        log.error("console_page_failed", error=type(exc).__name__, detail=exc.message)
    redactor: Redactor = request.app.state["console_redactor"]
    return message_page(request, status, HTTPStatus(status).phrase, redactor.text(exc.message))


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[str]:
    phrase = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if exc.status_code < HTTPStatus.INTERNAL_SERVER_ERROR else "Something went wrong on our side."
    return message_page(request, exc.status_code, phrase, detail or phrase)


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[str]:
    log.error("console_page_failed", error=type(exc).__name__, path=request.url.path, exc_info=exc)
    return message_page(request, 500, "Internal Server Error", "Something went wrong on our side; it is logged.")


ON_ERROR: Final[ExceptionHandlersMap] = {
    LoginRequired: _to_login,
    CsrfRefused: _csrf_refused,
    AssessgateError: _app_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}
