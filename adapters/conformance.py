"""The adapter conformance kit: what a third-party adapter's own tests run to prove it honours the contract.

    from assessgate.testing import assert_conforms
    from my_adapter import plugin

    async def test_my_adapter_conforms() -> None:
        await assert_conforms(plugin, {"some_setting": "value"})

It checks the plugin object and its config type, that ``decide`` answers a normal order and an inline order
quickly with a valid decision (inline orders need an ``assessment_url`` or a rejection), that ``start``
completes, twice (it must be idempotent: the outbox runs it at least once), that every timer it schedules
can be handled, and that every result it submits passes the results API's rules.

:func:`recording_context` gives a context whose services record what the adapter did (mails, HTTP posts,
timers, results, timeline), for an adapter's own unit tests.

Third parties import this kit as :mod:`assessgate.testing`, its public name; this module is where it lives.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import msgspec

from core.adapters import (
    API_VERSION,
    Accept,
    Adapter,
    AdapterContext,
    AdapterPlugin,
    HandlesEvents,
    HttpReply,
    Inline,
    MailMessage,
    OrderView,
    Reject,
    ResultSubmission,
    Timer,
    result_document,
)
from core.errors import ValidationFailed
from core.kombo import Application, Candidate, Job
from core.result_rules import validate_submission

DECIDE_BUDGET_S: Final = 1.0
START_BUDGET_S: Final = 10.0


def sample_order(*, inline: bool = False, email: str = "grace.hopper@example.org") -> OrderView:
    return OrderView(
        id=uuid.uuid4(),
        kombo_order_id="Or4Hk8mPq2RsTvWx9yZaBcDe",
        tenant_id=uuid.uuid4(),
        integration_id="sandbox:Tn5Ab7Cd9Ef2Gh4Jk6Lm8Np3",
        package_id="pkg-python-senior",
        package_type="SKILLS_TEST",
        inline=inline,
        candidate=Candidate(email=email, first_name="Grace", last_name="Hopper", phone=None, remote_id="c-1"),
        application=Application(remote_id="a-1"),
        job=Job(
            remote_id="j-1", name="Backend Engineer", job_code=None, description=None, location=None, hiring_team=()
        ),
    )


@dataclass
class Recorded:
    """What an adapter did through a :func:`recording_context`."""

    timeline: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    mails: list[MailMessage] = field(default_factory=list)
    posts: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)
    timers: list[tuple[str, float, dict[str, Any]]] = field(default_factory=list)
    #: Each submitted result as the JSON document the gateway would store (a typed body in Kombo's wire form).
    results: list[dict[str, Any]] = field(default_factory=list)
    #: Each HTTP post is answered with this reply.
    reply: HttpReply = field(default_factory=lambda: HttpReply(status=200, headers={}, body=b"{}"))


class _RecordingMailer:
    def __init__(self, recorded: Recorded) -> None:
        self.recorded = recorded

    async def send(self, message: MailMessage) -> None:
        self.recorded.mails.append(message)


class _RecordingHttp:
    def __init__(self, recorded: Recorded) -> None:
        self.recorded = recorded

    async def post(self, url: str, *, content: bytes, headers: Mapping[str, str], timeout_s: float) -> HttpReply:
        del timeout_s
        self.recorded.posts.append((url, content, dict(headers)))
        return self.recorded.reply


def recording_context(
    order: OrderView,
    *,
    secrets: Mapping[str, str] | None = None,
    candidate_data: dict[str, Any] | None = None,
    now_s: float = 1_790_000_000.0,
) -> tuple[AdapterContext, Recorded]:
    recorded = Recorded()

    async def timeline(kind: str, detail: dict[str, Any]) -> None:
        recorded.timeline.append((kind, detail))

    async def secret(name: str) -> str | None:
        return (secrets or {}).get(name)

    async def schedule(name: str, at_s: float, payload: dict[str, Any]) -> None:
        recorded.timers.append((name, at_s, payload))

    async def submit_result(result: ResultSubmission) -> str:
        doc = result_document(result)
        errors = validate_submission(doc)
        if errors:
            raise ValidationFailed(errors)
        recorded.results.append(doc)
        return str(uuid.uuid4())

    async def data() -> dict[str, Any] | None:
        return candidate_data

    context = AdapterContext(
        tenant_id=order.tenant_id,
        public_url="https://gateway.example",
        idempotency_key=f"order.start:{order.id}",
        timeline=timeline,
        secret=secret,
        mailer=_RecordingMailer(recorded),
        http=_RecordingHttp(recorded),
        candidate_link=lambda purpose, ttl_s: f"https://gateway.example/c/{order.id}.{purpose}.{ttl_s}",
        schedule=schedule,
        submit_result=submit_result,
        candidate_data=data,
        now_s=lambda: now_s,
    )
    return context, recorded


def decision_problem(decision: object, *, inline: bool) -> str | None:
    if not isinstance(decision, Accept | Reject | Inline):
        return f"decide() returned {decision!r}, not Accept, Reject or Inline"
    if isinstance(decision, Reject) and not decision.message.strip():
        return "a rejection needs a message the recruiter can act on"
    if inline and isinstance(decision, Accept):
        return "an inline order needs Inline(assessment_url=...) or a Reject"
    if isinstance(decision, Inline) and not decision.assessment_url.startswith(("https://", "http://")):
        return f"assessment_url {decision.assessment_url!r} is not an http(s) URL"
    return None


async def conformance_problems(
    plugin: Any, config: dict[str, Any], *, secrets: Mapping[str, str] | None = None
) -> list[str]:
    """Everything the plugin gets wrong; an empty list means it conforms."""
    if not isinstance(plugin, AdapterPlugin):
        return [f"the entry point must name an AdapterPlugin, not {type(plugin).__name__}"]
    problems: list[str] = []
    if not plugin.name:
        problems.append("the plugin has no name")
    if not 1 <= plugin.api_version <= API_VERSION:
        problems.append(f"api_version {plugin.api_version} is not one this assessgate offers (1..{API_VERSION})")
    try:
        parsed = msgspec.convert(config, plugin.config_type, strict=True)
    except msgspec.ValidationError as exc:
        return [*problems, f"the config does not validate: {exc}"]
    created: object = plugin.create(parsed)
    if not isinstance(created, Adapter):
        return [*problems, "create() must return an object with async decide() and start()"]
    return [*problems, *await _decide_problems(created, secrets), *await _start_problems(created, secrets)]


async def _decide_problems(adapter: Adapter, secrets: Mapping[str, str] | None) -> list[str]:
    problems: list[str] = []
    for inline in (False, True):
        order = sample_order(inline=inline)
        context, _ = recording_context(order, secrets=secrets)
        try:
            decision: object = await asyncio.wait_for(adapter.decide(order, context), timeout=DECIDE_BUDGET_S)
        except TimeoutError:
            problems.append(f"decide() took longer than {DECIDE_BUDGET_S}s (the recruiter is waiting)")
            continue
        problem = decision_problem(decision, inline=inline)
        if problem:
            problems.append(problem)
    return problems


async def _start_problems(adapter: Adapter, secrets: Mapping[str, str] | None) -> list[str]:
    problems: list[str] = []
    order = sample_order()
    context, recorded = recording_context(order, secrets=secrets)
    for attempt in (1, 2):
        try:
            await asyncio.wait_for(adapter.start(order, context), timeout=START_BUDGET_S)
        except Exception as exc:  # noqa: BLE001 - reporting is the point
            problems.append(f"start() failed on attempt {attempt}: {type(exc).__name__}: {exc}")
    handler: object = adapter
    if recorded.timers and not isinstance(handler, HandlesEvents):
        problems.append("start() schedules timers but the adapter has no handle() to receive them")
    elif isinstance(handler, HandlesEvents):
        for name, _at, payload in recorded.timers:
            try:
                await asyncio.wait_for(
                    handler.handle(order, Timer(name=name, payload=payload), context), START_BUDGET_S
                )
            except Exception as exc:  # noqa: BLE001 - reporting is the point
                problems.append(f"handle(Timer({name!r})) failed: {type(exc).__name__}: {exc}")
    return problems


async def assert_conforms(plugin: Any, config: dict[str, Any], *, secrets: Mapping[str, str] | None = None) -> None:
    """``secrets``: the tenant secrets the adapter reads (``ctx.secret``)."""
    problems = await conformance_problems(plugin, config, secrets=secrets)
    if problems:
        raise AssertionError("the adapter does not conform:\n- " + "\n- ".join(problems))
