"""Logging in to the console with the admin token, and out.

Failed logins count against the client address in the same throttle as the API's failed authentications
(``api/admission.py``): a guesser is slowed to the same rate whichever door it tries. A tenant API key is not
the admin token, so it is refused like any wrong token. Each login and logout is in the audit log.
"""

from __future__ import annotations

import secrets
import time
from typing import Any, Final

import structlog
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.response import Redirect

from api.admission import Admission
from api.auth import is_admin_token
from api.composition import Gateway
from api.console.pages import HEADERS, PREFIX, PUBLIC, page, session_of, signer_of
from api.console.session import LOGIN_COOKIE, SESSION_COOKIE, SESSION_TTL_S, same_text

log = structlog.get_logger()
_LOGIN_TTL_S: Final = 3600


def _cookie(request: Request[Any, Any, Any], name: str, value: str, max_age: int) -> Cookie:
    settings = request.app.state["settings"]
    return Cookie(
        key=name,
        value=value,
        path=PREFIX,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=settings.base_url.startswith("https://"),
    )


def _login_page(request: Request[Any, Any, Any], *, error: str = "", status: int = 200) -> Response[str]:
    token = secrets.token_urlsafe(16)
    response = page(request, "login.html", status=status, title="Log in", error=error, login_token=token)
    response.set_cookie(_cookie(request, LOGIN_COOKIE, token, _LOGIN_TTL_S))
    return response


@get("/login", opt={PUBLIC: True}, include_in_schema=False)
async def login_page(request: Request[Any, Any, Any]) -> Response[str]:
    return _login_page(request)


@post("/login", opt={PUBLIC: True}, include_in_schema=False, status_code=303)
async def login(request: Request[Any, Any, Any], gateway: NamedDependency[Gateway]) -> Response[Any]:
    admission: Admission = request.app.state["console_admission"]
    address = request.client.host if request.client else "unknown"
    throttle = admission.failures.peek(address)
    if not throttle.allowed:
        refused = _login_page(
            request, error="Too many failed logins from here: wait a minute and try again.", status=429
        )
        refused.headers["Retry-After"] = str(throttle.retry_after_s)
        return refused
    form = await request.form()
    expected = request.cookies.get(LOGIN_COOKIE)
    presented, token = form.get("login_token"), form.get("token")
    if not expected or not isinstance(presented, str) or not same_text(presented, expected):
        return _login_page(request, error="This login form expired: please try again.", status=403)
    if not is_admin_token(gateway.settings, token if isinstance(token, str) and token else None):
        admission.failures.take(address)
        log.warning("security_event", kind="console_login_failed", client=address)
        return _login_page(request, error="That is not this gateway's admin token.", status=401)
    session, cookie = signer_of(request).new(int(time.time()))
    await gateway.administration.note(None, actor=session.actor, action="console.login", detail=address)
    response: Response[Any] = Redirect(PREFIX, status_code=303, headers=HEADERS)
    response.set_cookie(_cookie(request, SESSION_COOKIE, cookie, SESSION_TTL_S))
    response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
    return response


@post("/logout", include_in_schema=False, status_code=303)
async def logout(request: Request[Any, Any, Any], gateway: NamedDependency[Gateway]) -> Response[Any]:
    session = session_of(request)
    await gateway.administration.note(None, actor=session.actor, action="console.logout")
    response: Response[Any] = Redirect(f"{PREFIX}/login", status_code=303, headers=HEADERS)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response
