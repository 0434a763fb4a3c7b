"""The ``background_check`` adapter: collect what the ATS does not hold on a form we host, then hand the case
to the screening process and write its progress and outcome back to the ATS.

``start`` emails the candidate a single-use link to the form (consent, date of birth, address history and
any configured fields; see ``fields``). The submitted data is kept encrypted, only the declared fields, and
purged after ``retention_days``. Then the case goes to the screening platform at ``forward_url`` (a Standard
Webhooks delivery, retried through the outbox) and the ATS sees "Checks in progress". The screening platform
reports with callbacks (``POST /v1/tenants/{tenant}/orders/{order}/events``, a ``background_check.report``
body, see :class:`core.background_checks.CaseReport`): each becomes a Kombo result, its checks as
SUB_RESULT attributes and its documents as attachments.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final

import msgspec
from msgspec import Meta

from adapters.candidate_mail import Branding, remind, send
from adapters.standard_webhooks import deliver, order_event
from core.adapters import (
    API_VERSION,
    Accept,
    AdapterContext,
    AdapterEvent,
    AdapterPlugin,
    Callback,
    Decision,
    FormField,
    FormSpec,
    FormSubmitted,
    Inline,
    OrderView,
    Redirect,
    Requirement,
    Timer,
)
from core.background_checks import CaseReport, CaseStatus, to_result
from core.errors import AssessgateError, FieldError, ValidationFailed
from core.kombo import format_timestamp

FORM: Final = "form"
HOUR_S: Final = 3600
REPORT: Final = "background_check.report"
#: The built-in fields declare their input purpose (WCAG 1.3.5): a date of birth is ``bday``; the address
#: history names the purposes of its parts itself (``core.forms.ADDRESS_PARTS``). A tenant's own fields set
#: ``autocomplete`` the same way.
DEFAULT_FIELDS: Final = (
    FormField(name="date_of_birth", label="Date of birth", kind="date", autocomplete="bday"),
    FormField(
        name="address_history",
        label="Your addresses over the last five years, the current one first",
        kind="address_history",
    ),
    FormField(
        name="consent",
        # Says itself what the candidate agrees to (the page names {company} and {vendor}; core.forms.with_names).
        label="I consent to the background check {company} asked for, carried out by {vendor}, and to the "
        "processing of the details on this form for it.",
        kind="checkbox",
    ),
)


class BackgroundCheckConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    form_title: str = "Background check"
    #: The form's texts may name ``{company}`` (the tenant) and ``{vendor}`` (``ASSESSGATE_VENDOR_NAME``).
    form_intro: str = (
        "{company} has asked for a background check, carried out by {vendor}. We need a few details that your "
        "application does not contain. They are sent encrypted, used only for this background check, and deleted "
        "after it."
    )
    fields: tuple[FormField, ...] = DEFAULT_FIELDS
    #: Days the candidate's answers are kept (encrypted) before they are purged.
    retention_days: Annotated[int, Meta(ge=1, le=3650)] = 30
    link_valid_hours: Annotated[int, Meta(ge=1, le=24 * 90)] = 336
    reminder_after_hours: tuple[int, ...] = (72,)
    #: The screening platform the case is handed to once the form is in (required: set it here or per tenant;
    #: without it a tenant's routes to this adapter are refused and its orders wait).
    forward_url: str = ""
    #: The tenant secret (``whsec_...``) that signs deliveries to ``forward_url``.
    forward_secret_name: str = "forward_signing_secret"  # noqa: S105 - a secret's name, not a secret
    forward_timeout_s: Annotated[float, Meta(gt=0, le=60)] = 10.0
    branding: Branding = Branding()


class BackgroundCheckAdapter:
    def __init__(self, config: BackgroundCheckConfig) -> None:
        self.config = config

    def requirements(self) -> list[Requirement]:
        needed = [Requirement(secret=self.config.forward_secret_name, why="signs the hand-off to forward_url")]
        if not self.config.forward_url:
            needed.append(Requirement(setting="forward_url", why="the screening platform the case is handed to"))
        return needed

    def form(self, order: OrderView) -> FormSpec:
        del order
        return FormSpec(
            title=self.config.form_title,
            intro=self.config.form_intro,
            fields=self.config.fields,
            retention_days=self.config.retention_days,
        )

    async def decide(self, order: OrderView, ctx: AdapterContext) -> Decision:
        if order.inline:  # the candidate is on the career site: straight to the form
            return Inline(assessment_url=ctx.candidate_link(FORM, self.config.link_valid_hours * HOUR_S))
        return Accept()

    async def start(self, order: OrderView, ctx: AdapterContext) -> None:
        expires_at = ctx.now_s() + self.config.link_valid_hours * HOUR_S
        if not order.inline:
            link = ctx.candidate_link(FORM, self.config.link_valid_hours * HOUR_S)
            await send(ctx, "form_request", self.config.branding, order, link=link, expires_at_s=expires_at)
        await ctx.timeline("case.status", {"status": CaseStatus.AWAITING_CANDIDATE.value})
        for number, hours in enumerate(self.config.reminder_after_hours, start=1):
            if hours < self.config.link_valid_hours and not order.inline:
                await ctx.schedule(f"reminder-{number}", ctx.now_s() + hours * HOUR_S, {"expires_at": expires_at})

    async def handle(self, order: OrderView, event: AdapterEvent, ctx: AdapterContext) -> Redirect | None:
        if isinstance(event, FormSubmitted):
            await self.hand_off(order, ctx)
        elif isinstance(event, Callback):
            await self.report(order, event.payload, ctx)
        elif isinstance(event, Timer) and event.name.startswith("reminder-") and await self.waiting(order, ctx):
            await remind(ctx, self.config.branding, order, event, purpose=FORM)
        return None

    @staticmethod
    async def waiting(order: OrderView, ctx: AdapterContext) -> bool:
        """The order is open and the candidate has not submitted the form."""
        return order.state == "accepted" and await ctx.candidate_data() is None

    async def hand_off(self, order: OrderView, ctx: AdapterContext) -> None:
        """The form is in: deliver the case to the screening platform, and show progress in the ATS."""
        if self.config.forward_url:
            data = await ctx.candidate_data()
            if data is None:  # purged before the hand-off could happen: nothing to send
                await ctx.timeline("case.hand_off_skipped", {"reason": "candidate data purged"})
                return
            secret = await ctx.secret(self.config.forward_secret_name)
            if not secret:
                raise AssessgateError(f"the tenant has no secret {self.config.forward_secret_name!r}", retryable=True)
            event = order_event("background_check.candidate_data", order, candidate_data=data)
            await deliver(
                ctx.http,
                self.config.forward_url,
                secret=secret,
                delivery_id=f"bgc-data.{order.id}",
                event=event,
                timeout_s=self.config.forward_timeout_s,
            )
            await ctx.timeline("case.handed_off", {"to": self.config.forward_url})
        await self.write(order, CaseReport(status=CaseStatus.IN_PROGRESS), ctx)

    async def report(self, order: OrderView, payload: dict[str, Any], ctx: AdapterContext) -> None:
        if payload.get("type") != REPORT:
            raise ValidationFailed([FieldError(path="$.type", message=f"expected {REPORT!r}")])
        try:
            report = msgspec.convert({k: v for k, v in payload.items() if k != "type"}, CaseReport)
        except msgspec.ValidationError as exc:
            raise ValidationFailed([FieldError.of(exc)]) from None
        await self.write(order, report, ctx)

    async def write(self, order: OrderView, report: CaseReport, ctx: AdapterContext) -> None:
        now = format_timestamp(datetime.fromtimestamp(ctx.now_s(), tz=UTC))
        await ctx.submit_result(to_result(report, result_url=f"{ctx.public_url}/orders/{order.id}", now=now))
        await ctx.timeline("case.status", {"status": report.status.value})


plugin = AdapterPlugin(
    name="background_check", api_version=API_VERSION, config_type=BackgroundCheckConfig, create=BackgroundCheckAdapter
)
