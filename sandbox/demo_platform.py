"""A small demo test platform inside the sandbox, standing in for the vendor's own (``assessgate demo``).

The ``assessment`` adapter's launch link lands on ``/_sandbox/demo-platform/start``, which checks the
link's signature as a vendor's platform must (HMAC-SHA256 of ``"<order>.<expires>"`` with the tenant's
launch secret), shows a stand-in test, and posts a COMPLETED result back through the gateway's results API
with a tenant API key. The ``background_check`` adapter hands cases to ``/_sandbox/demo-platform/cases``
(a Standard Webhook, verified), and the platform's page reports a case clear or consider through the
gateway's order events. None of it runs unless the demo configured it (:class:`DemoPlatform`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime
from typing import Any, Final

import httpx
import msgspec
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from sandbox.service import Sandbox
from sandbox.ui import TEMPLATES

PATH: Final = "/_sandbox/demo-platform"


class DemoPlatform(msgspec.Struct, kw_only=True):
    """What the demo gives its platform: where the gateway is, the demo tenant, its key and secrets."""

    gateway_url: str
    tenant_id: str
    api_key: str
    launch_secret: str
    forward_secret: str
    #: Cases the background-check adapter handed over: Kombo's order id -> the gateway's order id.
    cases: dict[str, str] = msgspec.field(default_factory=dict)

    def signed(self, order: str, expires: str, signature: str) -> bool:
        expected = hmac.new(self.launch_secret.encode(), f"{order}.{expires}".encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature) and expires.isdigit() and int(expires) >= time.time()

    async def call(self, client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any]) -> httpx.Response:
        return await client.request(
            method,
            f"{self.gateway_url}/v1/tenants/{self.tenant_id}{path}",
            json=body,
            headers={"authorization": f"Bearer {self.api_key}"},
            timeout=30,
        )


def _page(title: str, status: int = 200, **values: Any) -> Response[str]:
    html = TEMPLATES.get_template("demo_platform.html").render(title=title, path=PATH, **values)
    return Response(html, status_code=status, media_type=MediaType.HTML)


def _platform(sandbox: Sandbox) -> DemoPlatform | None:
    found = getattr(sandbox, "demo_platform", None)
    return found if isinstance(found, DemoPlatform) else None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@get("/")
async def cases_page(sandbox: NamedDependency[Sandbox]) -> Response[str]:
    platform = _platform(sandbox)
    if platform is None:
        return _page("Demo platform", 404, message="The demo platform runs with `assessgate demo` only.")
    return _page("Demo screening platform", cases=sorted(platform.cases.items()))


@get("/start")
async def start(
    sandbox: NamedDependency[Sandbox],
    order: FromQuery[str] = "",
    expires: FromQuery[str] = "",
    signature: FromQuery[str] = "",
) -> Response[str]:
    platform = _platform(sandbox)
    if platform is None or not platform.signed(order, expires, signature):
        return _page("This link does not work", 403, message="The launch link's signature or expiry is not valid.")
    return _page("Demo test", test={"order": order, "expires": expires, "signature": signature})


@post("/finish", status_code=200)
async def finish(request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox]) -> Response[str]:
    form = {key: str(value) for key, value in (await request.form()).items()}
    platform = _platform(sandbox)
    order = form.get("order", "")
    if platform is None or not platform.signed(order, form.get("expires", ""), form.get("signature", "")):
        return _page("This link does not work", 403, message="The launch link's signature or expiry is not valid.")
    score = max(0, min(100, int(form["score"]) if form.get("score", "").isdigit() else 80))
    result = {
        "status": "COMPLETED",
        "result_url": f"{platform.gateway_url}{request.scope.get('root_path', '')}{PATH}/",
        "completed_at": _now(),
        "score": score,
        "max_score": 100,
        "attributes": [{"type": "TEXT", "label": "Platform", "value": "assessgate demo platform"}],
    }
    answer = await platform.call(sandbox.client, "PUT", f"/orders/{order}/result", result)
    if answer.status_code != 202:  # noqa: PLR2004
        return _page("The result was not taken", 502, message=f"The gateway answered {answer.status_code}.")
    return _page("Result submitted", message=f"Score {score}/100 went to the gateway, which writes it back to the ATS.")


@post("/cases", status_code=200)
async def receive_case(request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox]) -> Response[bytes]:
    platform = _platform(sandbox)
    if platform is None:
        return Response(b"{}", status_code=404, media_type=MediaType.JSON)
    body = await request.body()
    try:
        delivered = Webhook(platform.forward_secret).verify(body, dict(request.headers))
    except WebhookVerificationError:
        return Response(b'{"error": "bad signature"}', status_code=401, media_type=MediaType.JSON)
    order = delivered.get("order", {}) if isinstance(delivered, dict) else {}
    if isinstance(order, dict) and order.get("id"):
        platform.cases[str(order.get("kombo_order_id") or order["id"])] = str(order["id"])
    return Response(b"{}", media_type=MediaType.JSON)


@post("/cases/{kombo_order_id:str}/report", status_code=303)
async def report(
    request: Request[Any, Any, Any], sandbox: NamedDependency[Sandbox], kombo_order_id: FromPath[str]
) -> Response[str] | Redirect:
    platform = _platform(sandbox)
    if platform is None or kombo_order_id not in platform.cases:
        return _page("No such case", 404, message="The demo platform has no case for that order.")
    outcome = "consider" if (await request.form()).get("status") == "consider" else "clear"
    event = {
        "type": "background_check.report",
        "status": outcome,
        "checks": [{"id": "identity", "label": "Identity", "status": outcome}],
        "completed_at": _now(),
    }
    answer = await platform.call(sandbox.client, "POST", f"/orders/{platform.cases[kombo_order_id]}/events", event)
    if answer.status_code != 202:  # noqa: PLR2004
        return _page("The report was not taken", 502, message=f"The gateway answered {answer.status_code}.")
    return Redirect(f"{request.scope.get('root_path', '')}{PATH}/", status_code=303)


def demo_platform_router() -> Router:
    return Router(path=PATH, route_handlers=[cases_page, start, finish, receive_case, report])
