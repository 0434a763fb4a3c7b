"""The customer onboarding page (``/connect/<token>``): where a customer's admin, holding the link an operator sent
(``POST /v1/tenants/{id}/onboarding-link``), connects the company's ATS through Kombo Connect.

Public (the signed link is the credential), server-rendered, no script at all, never cached, never framed. A GET
shows the link's state and never starts anything (mail scanners fetch links); the button's POST asks Kombo for a
connect link for the link's tenant and opens it in a new tab, so this page stays open to check the connection
afterwards. The POST carries a form token bound to a SameSite=Strict cookie (a cross-site form cannot start a
connection for someone else's link). Whatever fails answers with a page, never problem+json.
"""

from __future__ import annotations

import secrets
from typing import Any, Final

import structlog
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from litestar.types import ExceptionHandlersMap

from api.composition import Gateway
from api.problems import every_error
from api.routes.candidate import page
from core.onboarding_tokens import form_token, form_token_valid
from core.settings import Settings
from tenants.onboarding_links import PAGE_PATH, Onboarding, OnboardingState

HEADERS: Final = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "content-security-policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}
#: The browser's nonce the form token is bound to (HttpOnly, SameSite=Strict, only sent to these pages).
COOKIE: Final = "ag_onboarding"
#: Each state that ends the flow: its status, title and message (``{tenant}``, ``{vendor}`` filled in).
ENDINGS: Final = {
    OnboardingState.CONNECTED: (
        200,
        "Your ATS is connected",
        "{tenant}'s ATS is now connected to {vendor}. There is nothing more to do: you can close this page.",
    ),
    OnboardingState.ALREADY_CONNECTED: (
        200,
        "Already connected",
        "{tenant}'s ATS is already connected to {vendor}. There is nothing more to do here.",
    ),
    OnboardingState.USED: (
        410,
        "This link was already used",
        "This link connected {tenant}'s ATS before. To connect it again, ask {vendor} for a new link.",
    ),
    OnboardingState.EXPIRED: (
        410,
        "This link has expired",
        "Ask {vendor} for a new link to connect {tenant}'s ATS.",
    ),
    OnboardingState.REPLACED: (
        410,
        "This link was replaced",
        "{vendor} has sent a newer link to connect {tenant}'s ATS: please use that one, or ask for another.",
    ),
    OnboardingState.INVALID: (
        404,
        "This link does not work",
        "The link is not valid. Check that you copied all of it, or ask the company that sent it for a new one.",
    ),
}
REFUSED: Final = (
    403,
    "Please try again",
    "The page could not confirm that this request came from it. Open the link again and use the button on the page.",
)
UNAVAILABLE: Final = (
    503,
    "This did not work just now",
    "Something went wrong on our side, not yours. Your link still works: try again in a few minutes.",
)
log = structlog.get_logger()


def settings_of(request: Request[Any, Any, Any]) -> Settings | None:
    settings = request.app.state.get("settings")
    return settings if isinstance(settings, Settings) else None


def message_page(
    ending: tuple[int, str, str], *, vendor: str, tenant: str = "", again: str | None = None
) -> Response[str]:
    status, title, text = ending
    return page(
        "onboarding_message.html",
        status,
        company=tenant,
        vendor=vendor,
        headers=HEADERS,
        title=title,
        message=text.format(tenant=tenant or "your company", vendor=vendor),
        again=again,
    )


def failure_page(request: Request[Any, Any, Any], exc: Exception) -> Response[str]:
    """Whatever else fails here (the database, Kombo, a bug): a page the admin can read, never an API error.
    A request the browser got wrong (an HTTP error under 500) is not our outage: the link's page says to retry."""
    settings = settings_of(request)
    vendor = settings.vendor_name if settings else ""
    if isinstance(exc, HTTPException) and exc.status_code < 500:  # noqa: PLR2004
        return message_page((exc.status_code, *REFUSED[1:]), vendor=vendor)
    log.error("onboarding_page_failed", path=f"{PAGE_PATH}/[redacted]", error=type(exc).__name__)
    return message_page(UNAVAILABLE, vendor=vendor)


#: Every error, also those the app maps to problem+json (ours: Kombo or the database failing; Litestar's): a page.
ON_FAILURE: Final[ExceptionHandlersMap] = every_error(failure_page)


def link_page(onboarding: Onboarding, token: str, request: Request[Any, Any, Any], settings: Settings) -> Response[str]:
    """The page of a link in ``onboarding``'s state: the button while it may start, else how it ended."""
    tenant = onboarding.tenant.name if onboarding.tenant else ""
    if onboarding.state is not OnboardingState.READY:
        return message_page(ENDINGS[onboarding.state], vendor=settings.vendor_name, tenant=tenant)
    nonce = request.cookies.get(COOKIE) or secrets.token_urlsafe(24)
    waiting = request.query_params.get("check") is not None
    response = page(
        "onboarding.html",
        company=tenant,
        vendor=settings.vendor_name,
        headers=HEADERS,
        title="Not connected yet" if waiting else f"Connect {tenant}'s ATS",
        tenant=tenant,
        waiting=waiting,
        expires=f"{onboarding.expires_at:%-d %B %Y}" if onboarding.expires_at else "",
        action=f"{PAGE_PATH}/{token}",
        form_token=form_token(settings.secret_keys[0], nonce, token) if settings.secret_keys else "",
    )
    response.set_cookie(
        COOKIE,
        nonce,
        path=f"{PAGE_PATH}/",
        httponly=True,
        samesite="strict",
        secure=settings.base_url.startswith("https://"),
    )
    return response


@get(f"{PAGE_PATH}/{{token:str}}", include_in_schema=False, exception_handlers=ON_FAILURE)
async def open_onboarding(
    token: FromPath[str], request: Request[Any, Any, Any], gateway: NamedDependency[Gateway]
) -> Response[str]:
    return link_page(await gateway.onboarding.open(token), token, request, gateway.settings)


@post(f"{PAGE_PATH}/{{token:str}}", include_in_schema=False, status_code=200, exception_handlers=ON_FAILURE)
async def start_onboarding(
    token: FromPath[str], request: Request[Any, Any, Any], gateway: NamedDependency[Gateway]
) -> Response[str]:
    settings = gateway.settings
    presented = str((await request.form()).get("form_token", ""))
    if not form_token_valid(settings.secret_keys, request.cookies.get(COOKIE, ""), token, presented):
        return message_page(REFUSED, vendor=settings.vendor_name, again=f"{PAGE_PATH}/{token}")
    onboarding, url = await gateway.onboarding.start(token)
    if url is None:
        return link_page(onboarding, token, request, settings)
    tenant = onboarding.tenant.name if onboarding.tenant else ""
    return page(
        "onboarding_opening.html",
        company=tenant,
        vendor=settings.vendor_name,
        headers=HEADERS,
        title="Opening Kombo Connect",
        url=url,
    )
