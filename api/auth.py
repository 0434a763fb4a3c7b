"""Authentication: the admin token of the vendor's operators (tenant API keys arrive with the tenant API).

Routes that need it declare ``guards=[admin_only]`` and ``security=ADMIN_SECURITY`` (for the OpenAPI).
A missing or wrong token is a 401 problem with ``WWW-Authenticate: Bearer``.
"""

from __future__ import annotations

import hmac
from typing import Any, Final

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import Reference, SecurityScheme

from core.settings import Settings

SCHEME_NAME: Final = "bearer"
SECURITY_SCHEMES: Final[dict[str, SecurityScheme | Reference]] = {
    SCHEME_NAME: SecurityScheme(type="http", scheme="bearer")
}
ADMIN_SECURITY: Final[list[dict[str, list[str]]]] = [{SCHEME_NAME: []}]


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    settings: Settings = connection.app.state.settings
    token = bearer_token(connection)
    expected = settings.admin_token
    if token is None or not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise NotAuthorizedException(
            detail="a valid admin token is required (Authorization: Bearer ...)",
            headers={"WWW-Authenticate": 'Bearer realm="assessgate"'},
        )
