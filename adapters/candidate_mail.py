"""Candidate emails (invitation, reminder, form request) from Jinja2 templates, per language and branding.

Each message has one wording, the ``<kind>.<language>.txt`` template; the HTML part is that text laid out
in ``message.html`` with the tenant's logo and colour. A deployment may override any template by putting a
file of the same name in ``templates_dir``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final, Literal

import jinja2
import msgspec

from adapters.mail import single_line
from core.adapters import AdapterContext, MailMessage, OrderView, Timer

Language = Literal["en", "de"]
SUBJECTS: Final[dict[str, dict[str, str]]] = {
    "invitation": {"en": "Your assessment for {company}", "de": "Ihr Assessment für {company}"},
    "reminder": {"en": "Reminder: your assessment for {company}", "de": "Erinnerung: Ihr Assessment für {company}"},
    "form_request": {"en": "Background check for {company}", "de": "Hintergrundprüfung für {company}"},
}
BUTTONS: Final[dict[str, dict[str, str]]] = {
    "invitation": {"en": "Start the assessment", "de": "Assessment starten"},
    "reminder": {"en": "Continue", "de": "Weiter"},
    "form_request": {"en": "Open the form", "de": "Formular öffnen"},
}


class Branding(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How candidate-facing mail and pages look; a tenant overrides it through its adapter settings."""

    #: The company candidates are told invites them; empty: the tenant's name (:func:`company_of`).
    company: str = ""
    language: Language = "en"
    logo_url: str = ""
    brand_color: str = "#1f6feb"
    reply_to: str = ""
    #: A directory whose templates replace the built-in ones of the same name.
    templates_dir: str = ""


_ENVIRONMENTS: dict[str, jinja2.Environment] = {}


def _environment(templates_dir: str) -> jinja2.Environment:
    if templates_dir not in _ENVIRONMENTS:
        loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("adapters", "templates")]
        if templates_dir:
            loaders.insert(0, jinja2.FileSystemLoader(templates_dir))
        _ENVIRONMENTS[templates_dir] = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
    return _ENVIRONMENTS[templates_dir]


def company_of(branding: Branding, ctx: AdapterContext) -> str:
    """Who invites the candidate: the company the branding names, else the tenant's name, else the vendor's."""
    return branding.company or ctx.tenant_name or ctx.vendor_name


def compose(
    kind: str,
    branding: Branding,
    order: OrderView,
    *,
    link: str,
    expires_at_s: float,
    key: str = "",
    vendor: str = "",
) -> MailMessage:
    """``key`` tells apart messages of one kind for one order (the second reminder from the first); ``vendor``
    is named as the one who runs the assessment or check when it is not the company itself."""
    env = _environment(branding.templates_dir)
    expires = datetime.fromtimestamp(expires_at_s, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    # Names from the ATS and the tenant go into the text one line each, so no value can add a line of its own.
    first_name = single_line(order.candidate.first_name or "")
    job = single_line(order.job.name or "") if order.job else ""
    company = single_line(branding.company or vendor)
    vendor = single_line(vendor)
    values = {
        "first_name": first_name or None,
        "company": company,
        "vendor": vendor if vendor and vendor != company else None,
        "job": job or None,
        "link": link,
        "expires": expires,
    }
    text = env.get_template(f"{kind}.{branding.language}.txt").render(values)
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip() and p.strip() != link]
    html = env.get_template("message.html").render(
        paragraphs=paragraphs,
        link=link,
        button=BUTTONS[kind][branding.language],
        language=branding.language,
        logo_url=branding.logo_url,
        brand_color=branding.brand_color,
        company=company,
    )
    return MailMessage(
        to=single_line(order.candidate.email),
        subject=SUBJECTS[kind][branding.language].format(company=company),
        text=text,
        html=html,
        reply_to=branding.reply_to or None,
        message_id=f"{kind}{key}.{order.id}",
    )


async def send(
    ctx: AdapterContext,
    kind: str,
    branding: Branding,
    order: OrderView,
    *,
    link: str,
    expires_at_s: float,
    key: str = "",
) -> None:
    """Compose the message with the names ``ctx`` gives (the tenant's, the vendor's) and send it."""
    named = msgspec.structs.replace(branding, company=company_of(branding, ctx))
    message = compose(kind, named, order, link=link, expires_at_s=expires_at_s, key=key, vendor=ctx.vendor_name)
    await ctx.mailer.send(message)


async def remind(ctx: AdapterContext, branding: Branding, order: OrderView, timer: Timer, *, purpose: str) -> None:
    """Send the reminder a ``reminder-<n>`` timer stands for, with a fresh link valid until the same expiry."""
    expires_at = float(timer.payload.get("expires_at", 0))
    link = ctx.candidate_link(purpose, max(int(expires_at - ctx.now_s()), 1))
    key = "-" + timer.name.removeprefix("reminder-")
    await send(ctx, "reminder", branding, order, link=link, expires_at_s=expires_at, key=key)
    await ctx.timeline("candidate.reminded", {"reminder": timer.name})
