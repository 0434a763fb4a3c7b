"""The built-in adapters against the conformance kit, and their behaviour through a recording context."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from adapters import accept, assessment, background_check, forward
from adapters.conformance import assert_conforms, recording_context, sample_order
from agtest.platform import PLATFORM_SECRET
from core.adapters import Accept, AdapterPlugin, Callback, FormSubmitted, Inline, Reject, Timer
from core.errors import ValidationFailed

pytestmark = pytest.mark.anyio
SECRETS = {"launch_signing_secret": "s3cret", "forward_signing_secret": PLATFORM_SECRET}
BUILT_IN: list[tuple[AdapterPlugin, dict[str, Any]]] = [
    (accept.plugin, {}),
    (assessment.plugin, {}),
    (assessment.inline_plugin, {}),
    (background_check.plugin, {"forward_url": "https://screening.example/events"}),
    (forward.plugin, {"url": "https://platform.example/events"}),
    (forward.plugin, {"url": "https://platform.example/events", "sync": True}),
]


@pytest.mark.parametrize(("plugin", "config"), BUILT_IN, ids=lambda v: getattr(v, "name", str(v)))
async def test_built_in_adapters_conform(plugin: AdapterPlugin, config: dict[str, Any]) -> None:
    await assert_conforms(plugin, config, secrets=SECRETS)


async def test_assessment_schedules_reminders_before_its_expiry() -> None:
    adapter = assessment.AssessmentAdapter(
        msgspec.convert({"expire_after_hours": 72, "reminder_after_hours": [24, 48, 96]}, assessment.AssessmentConfig)
    )
    order = sample_order()
    ctx, recorded = recording_context(order, secrets=SECRETS)
    assert await adapter.decide(order, ctx) == Accept()
    await adapter.start(order, ctx)
    now = ctx.now_s()
    assert [(name, at - now) for name, at, _ in recorded.timers] == [
        ("reminder-1", 24 * 3600),
        ("reminder-2", 48 * 3600),
        ("expire", 72 * 3600),
    ]
    [mail] = recorded.mails
    assert mail.to == order.candidate.email
    assert "/c/" in mail.text
    await adapter.handle(order, Timer(name="expire", payload=recorded.timers[-1][2]), ctx)
    [result] = recorded.results
    assert result["status"] == "CANCELLED"
    closed = msgspec.structs.replace(order, state="completed")
    await adapter.handle(closed, Timer(name="reminder-1", payload={}), ctx)
    assert len(recorded.mails) == 1  # nothing for a finished order


async def test_an_inline_assessment_is_a_link_minted_without_io() -> None:
    adapter = assessment.AssessmentAdapter(assessment.InlineAssessmentConfig())
    order = sample_order(inline=True)
    ctx, recorded = recording_context(order)
    decision = await adapter.decide(order, ctx)
    assert isinstance(decision, Inline)
    assert decision.assessment_url.startswith("https://gateway.example/c/")
    assert (recorded.mails, recorded.posts, recorded.timeline) == ([], [], [])


async def test_background_check_reports_are_validated() -> None:
    adapter = background_check.BackgroundCheckAdapter(background_check.BackgroundCheckConfig())
    order = sample_order()
    ctx, recorded = recording_context(order)
    with pytest.raises(ValidationFailed) as caught:
        await adapter.handle(order, Callback(payload={"type": "background_check.report", "status": "??"}), ctx)
    assert caught.value.errors[0].path == "$.status"
    with pytest.raises(ValidationFailed):
        await adapter.handle(order, Callback(payload={"type": "something.else"}), ctx)
    await adapter.handle(order, Callback(payload={"type": "background_check.report", "status": "suspended"}), ctx)
    assert recorded.results[0]["status"] == "OPEN"


async def test_background_check_without_a_platform_keeps_the_case_here() -> None:
    adapter = background_check.BackgroundCheckAdapter(background_check.BackgroundCheckConfig())
    order = sample_order()
    ctx, recorded = recording_context(order, candidate_data={"dob": "1990-01-01"})
    await adapter.handle(order, FormSubmitted(submission_id="s"), ctx)
    assert recorded.posts == []
    assert recorded.results[0]["attributes"][0]["value"] == "Checks in progress"


async def test_forward_sync_falls_back_as_configured() -> None:
    order = sample_order()
    config = {"url": "https://platform.example/events", "sync": True, "on_sync_failure": "reject"}
    adapter = forward.ForwardAdapter(msgspec.convert(config, forward.ForwardConfig))
    ctx, recorded = recording_context(order, secrets=SECRETS)
    recorded.reply = msgspec.structs.replace(recorded.reply, status=503)
    decision = await adapter.decide(order, ctx)
    assert decision == Reject(message=forward.ForwardConfig().sync_failure_message)
    assert recorded.timeline[0][0] == "forward.sync_failed"


@pytest.mark.parametrize(
    ("branding", "tenant", "company"),
    [({}, "Acme", "Acme"), ({"company": "Acme Careers"}, "Acme", "Acme Careers"), ({}, "", "Checkly")],
)
async def test_mails_name_the_tenant_unless_the_branding_names_a_company(
    branding: dict[str, str], tenant: str, company: str
) -> None:
    """Never a made-up "recruiting team": the branding's company, else the tenant's name, else the vendor's."""
    order = sample_order()
    ctx, recorded = recording_context(order, secrets=SECRETS)
    ctx = msgspec.structs.replace(ctx, tenant_name=tenant, vendor_name="Checkly")
    for adapter in (
        assessment.AssessmentAdapter(msgspec.convert({"branding": branding}, assessment.AssessmentConfig)),
        background_check.BackgroundCheckAdapter(
            msgspec.convert({"branding": branding}, background_check.BackgroundCheckConfig)
        ),
    ):
        await adapter.start(order, ctx)
    invitation, form_request = recorded.mails
    assert invitation.subject == f"Your assessment for {company}"
    assert form_request.subject == f"Background check for {company}"
    run_by = ", run by Checkly." if company != "Checkly" else "."
    assert f"{company} has invited you to complete an assessment for the" in invitation.text
    assert invitation.text.split("\n\n")[1].endswith(run_by)
    assert "recruiting team" not in invitation.text + form_request.text
