"""Candidate pages: the links adapters mint (``/c/<token>``), the confirmation before a link is used, and
the hosted form. Public (the signed token is the credential), server-rendered, no scripts, no cookies.

A GET never uses a link up (mail scanners fetch links); the candidate's POST does. Responses are never
cached and send no referrer, so the token does not leak to the vendor's platform or to a proxy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import jinja2
import structlog
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.types import ExceptionHandlersMap

from api.problems import every_error
from core.adapters import FormField, FormSpec
from core.forms import ADDRESS_PARTS, ADDRESS_ROWS, AddressFault, address_autocomplete, address_fault, row_name
from core.settings import Settings
from orders.adapter_runtime import AdapterRuntime, LinkProblem

HEADERS: Final = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src https:; form-action 'self'",
}
#: The confirmation page's form is answered by a redirect to the vendor's platform, whose origin only the adapter
#: knows when the candidate confirms; browsers hold a form's redirects to ``form-action`` as well, so this page
#: (one form of ours, every value escaped) leaves the directive out rather than strand the candidate.
CONFIRM_HEADERS: Final = HEADERS | {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src https:"
}
#: Each problem's title and message; ``{company}`` is the tenant's name, or a description when the link names none.
PROBLEMS: Final = {
    "invalid": ("This link does not work", "The link is not valid or has expired. Ask {company} for a new one."),
    "used": ("This link was already used", "Each link works once. If that was not you, contact {company}."),
    "closed": ("Nothing left to do", "This request is closed. There is nothing more for you to do here."),
    "unavailable": (
        "This did not work just now",
        "Something went wrong on our side, not yours. Your link still works: try again in a few minutes. "
        "If it keeps happening, contact {company}.",
    ),
}
UNKNOWN_COMPANY: Final = "the company that sent it"
#: Status of each problem page (410: the link is spent or was never valid; 503: try again later).
STATUS: Final = {"unavailable": 503}
log = structlog.get_logger()
_PAGES = jinja2.Environment(
    loader=jinja2.PackageLoader("api", "templates"), autoescape=True, undefined=jinja2.StrictUndefined
)
_PAGES.globals.update(row_name=row_name, address_autocomplete=address_autocomplete)


def page(
    template: str,
    status: int = 200,
    *,
    company: str,
    vendor: str,
    headers: Mapping[str, str] = HEADERS,
    **values: Any,
) -> Response[str]:
    """Every page names the vendor and, once the link names an order, the tenant (``company``; "" when unknown).
    The onboarding page (``api/routes/onboarding_page.py``) is built the same way, with headers of its own."""
    html = _PAGES.get_template(template).render(company=company, vendor=vendor, **values)
    return Response(html, status_code=status, media_type=MediaType.HTML, headers=dict(headers))


def problem_page(problem: LinkProblem, vendor: str) -> Response[str]:
    title, message = PROBLEMS.get(problem.reason, PROBLEMS["invalid"])
    message = message.format(company=problem.company or UNKNOWN_COMPANY)
    return page(
        "candidate_message.html",
        STATUS.get(problem.reason, 410),
        company=problem.company,
        vendor=vendor,
        title=title,
        message=message,
    )


def failure_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Whatever else fails under /c/ (the database, a bug): still a page a candidate can read, never an API error.
    A request the candidate's browser got wrong (an HTTP error under 500) is a dead link to them, not our outage."""
    settings = request.app.state.get("settings")
    vendor = settings.vendor_name if isinstance(settings, Settings) else ""
    if isinstance(exc, HTTPException) and exc.status_code < 500:  # noqa: PLR2004
        title, message = PROBLEMS["invalid"]
        return page(
            "candidate_message.html",
            exc.status_code,
            company="",
            vendor=vendor,
            title=title,
            message=message.format(company=UNKNOWN_COMPANY),
        )
    log.error("candidate_page_failed", path="/c/[redacted]", error=type(exc).__name__)
    return problem_page(LinkProblem("unavailable"), vendor)


#: Every candidate route answers with a page, whatever fails: the app maps our error tree and Litestar's HTTP
#: errors to problem+json, and a route's handler for ``Exception`` would lose to those more specific ones.
ON_FAILURE: Final[ExceptionHandlersMap] = every_error(failure_page)


@get("/c/{token:str}", include_in_schema=False, exception_handlers=ON_FAILURE)
async def open_link(token: FromPath[str], adapter_runtime: NamedDependency[AdapterRuntime]) -> Response[str]:
    vendor = adapter_runtime.settings.vendor_name
    try:
        link = await adapter_runtime.open_link(token)
    except LinkProblem as problem:
        return problem_page(problem, vendor)
    if link.form is not None:
        return form_page(link.form, token, values={}, errors={}, company=link.company, vendor=vendor)
    job = link.order.job.name if link.order.job and link.order.job.name else ""
    return page(
        "candidate_confirm.html",
        company=link.company,
        vendor=vendor,
        title=f"{job}: assessment" if job else "Your assessment",
        job=job,
        first_name=link.order.candidate.first_name,
        action=f"/c/{token}",
        headers=CONFIRM_HEADERS,
    )


@post("/c/{token:str}", include_in_schema=False, status_code=303, exception_handlers=ON_FAILURE)
async def use_link(
    token: FromPath[str], request: Request[Any, Any, Any], adapter_runtime: NamedDependency[AdapterRuntime]
) -> Response[str] | Redirect:
    vendor = adapter_runtime.settings.vendor_name
    try:
        link = await adapter_runtime.open_link(token)
        if link.form is None:
            return Redirect(await adapter_runtime.follow_link(link), status_code=303, headers=HEADERS)
        raw = {key: str(value) for key, value in (await request.form()).items()}
        errors = await adapter_runtime.submit_form(link, raw)
    except LinkProblem as problem:
        return problem_page(problem, vendor)
    if errors:
        return form_page(link.form, token, values=raw, errors=errors, status=422, company=link.company, vendor=vendor)
    return page(
        "candidate_message.html",
        company=link.company,
        vendor=vendor,
        title="Thank you",
        message=f"We have your answers. You can close this page; {link.company or 'the company'} will be in touch.",
    )


def form_page(
    form: FormSpec,
    token: str,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    company: str = "",
    vendor: str = "",
) -> Response[str]:
    faults = {
        field.name: address_fault(field, values)
        for field in form.fields
        if field.kind == "address_history" and field.name in errors
    }
    summary = [
        error_link(field, errors[field.name], faults.get(field.name)) for field in form.fields if field.name in errors
    ]
    return page(
        "candidate_form.html",
        status,
        company=company,
        vendor=vendor,
        # The title is what a screen reader announces first after the submit: it says that something is wrong.
        title=f"Error: {form.title}" if errors else form.title,
        form=form,
        action=f"/c/{token}",
        values=values,
        errors=errors,
        faults=faults,
        summary=summary,
        address_rows=ADDRESS_ROWS,
        address_parts=ADDRESS_PARTS,
    )


def error_link(field: FormField, message: str, fault: AddressFault | None) -> tuple[str, str]:
    """(the id of the control to correct, the link's text): the text names the field (WCAG 2.4.4), and the
    target is a control that takes focus (an address's first part at fault, not its fieldset)."""
    if field.kind == "address_history":
        row, part = (fault.row, fault.parts[0]) if fault else (0, ADDRESS_PARTS[0].key)
        return f"{field.name}-{row}-{part}", message  # the message names the address and its parts
    return f"field-{field.name}", f"{field.label.rstrip('.:')}: {message}"
