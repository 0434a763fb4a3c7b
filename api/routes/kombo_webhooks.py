"""``POST /kombo/webhooks``: the one URL Kombo sends every event to, for all tenants.

The raw body (size-limited by ``ASSESSGATE_MAX_BODY_BYTES``) is verified against every configured secret
before it is parsed (401 otherwise), then parsed leniently (400 for what is not a Kombo event) and handed
to the intake, which answers and records it in one transaction.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency

from api.body_guard import SIGNED_BODY
from api.problems import MEDIA_TYPE, Problem, problem_responses
from core.errors import PayloadInvalid, SignatureInvalid
from core.json_depth import nests_deeper_than
from core.kombo import parse_event, signature
from core.settings import Settings
from integrations.webhook_events import IntakeMetrics, WebhookEvents


@post(
    "/kombo/webhooks",
    tags=["kombo"],
    summary="Kombo's webhooks (signed with X-Kombo-Signature)",
    status_code=200,
    responses=problem_responses(401, 503),
    opt={SIGNED_BODY: True},  # the body guard leaves the depth check to after the signature
)
async def kombo_webhook(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    webhook_events: NamedDependency[WebhookEvents],
    intake_metrics: NamedDependency[IntakeMetrics],
) -> Response[Any]:
    raw = await request.body()
    try:
        signature.verify(settings.kombo.webhook_secrets, raw, request.headers.get(signature.HEADER))
    except SignatureInvalid:
        intake_metrics.webhooks.inc(outcome="bad_signature", type="unknown")
        raise
    try:
        if nests_deeper_than(raw, settings.limits.json_max_depth):
            raise PayloadInvalid(f"JSON nested deeper than {settings.limits.json_max_depth} levels")
        event = parse_event(raw)
    except PayloadInvalid:
        intake_metrics.webhooks.inc(outcome="malformed", type="unknown")
        raise
    answer = await webhook_events.handle(event, raw)
    if answer.status >= 500:  # noqa: PLR2004
        problem = Problem(title="Service Unavailable", status=answer.status, detail=str(answer.body.get("message")))
        return Response(problem, status_code=answer.status, media_type=MEDIA_TYPE)
    return Response(answer.body, status_code=answer.status)
