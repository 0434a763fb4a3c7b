"""``assessgate sandbox ...``: run the sandbox alone, and drive a running one (faults, integrations, orders).

The standalone sandbox is a local development tool: its default API key and webhook secret are fixed,
public values (``sandbox-api-key``, ``sandbox-webhook-secret``); pass your own with the flags or the
``ASSESSGATE_SANDBOX_*`` variables.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:9000"


def register(commands: Any) -> None:
    sandbox = commands.add_parser("sandbox", help="the local Kombo sandbox: serve it, or drive a running one")
    actions = sandbox.add_subparsers(dest="sandbox_command", required=True)

    serve = actions.add_parser("serve", help="serve the sandbox alone (Kombo's API at /v1, the page at /)")
    serve.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    serve.add_argument("--port", type=int, default=9000, help="default: %(default)s")
    serve.add_argument(
        "--api-key",
        default=os.environ.get("ASSESSGATE_SANDBOX_API_KEY", "sandbox-api-key"),
        help="the key Kombo's API takes (default: $ASSESSGATE_SANDBOX_API_KEY, else sandbox-api-key)",
    )
    serve.add_argument(
        "--webhook-url",
        default=os.environ.get("ASSESSGATE_SANDBOX_WEBHOOK_URL", ""),
        help="where webhooks go, e.g. http://127.0.0.1:8000/kombo/webhooks "
        "(default: $ASSESSGATE_SANDBOX_WEBHOOK_URL, else none, and no webhooks are sent)",
    )
    serve.add_argument(
        "--webhook-secret",
        default=os.environ.get("ASSESSGATE_SANDBOX_WEBHOOK_SECRET", "sandbox-webhook-secret"),
        help="signs the webhooks (default: $ASSESSGATE_SANDBOX_WEBHOOK_SECRET, else sandbox-webhook-secret)",
    )
    serve.set_defaults(func=cmd_serve)

    def with_url(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument(
            "--url",
            default=os.environ.get("ASSESSGATE_SANDBOX_URL", DEFAULT_URL),
            help=f"the running sandbox (default: $ASSESSGATE_SANDBOX_URL, else {DEFAULT_URL}, the standalone one of "
            "`assessgate sandbox serve`; the one inside a gateway in sandbox mode is $GATEWAY/sandbox, e.g. "
            "http://127.0.0.1:8000/sandbox)",
        )
        return parser

    add_fault_command(with_url(actions.add_parser("fault", help="inject, list or clear faults")))

    integration = with_url(actions.add_parser("integration", help="create a sandbox integration"))
    integration.add_argument("--organization", default="Sandbox Customer", help="default: %(default)s")
    integration.add_argument(
        "--origin-id", default=None, help="your tenant id (end_user.origin_id; default: none, nothing is bound)"
    )
    integration.set_defaults(func=cmd_integration)

    order = with_url(actions.add_parser("order", help="place an order as a recruiter would"))
    order.add_argument("--integration", required=True)
    order.add_argument("--package", required=True)
    order.add_argument("--email", required=True)
    order.add_argument("--inline", action="store_true")
    order.set_defaults(func=cmd_order)


def add_fault_command(fault: argparse.ArgumentParser) -> None:
    fault.add_argument("action", choices=["add", "list", "clear"])
    fault.add_argument(
        "--target",
        default="*",
        help="'PUT /assessment/orders/{id}/result', 'webhook:<type>' or '*' (default: %(default)s)",
    )
    fault.add_argument(
        "--kind",
        dest="fault_action",
        default="fail",
        choices=["fail", "latency", "drop", "duplicate", "delay"],
        help="default: %(default)s",
    )
    fault.add_argument("--status", type=int, default=503, help="the status a `fail` answers (default: %(default)s)")
    fault.add_argument("--code", default="REMOTE.SERVICE_UNAVAILABLE", help="Kombo's error code (default: %(default)s)")
    fault.add_argument(
        "--times", type=int, default=1, help="how many calls it applies to (0: until cleared; default: %(default)s)"
    )
    fault.add_argument("--for-seconds", type=float, default=None, help="default: no time limit")
    fault.add_argument("--latency-ms", type=int, default=0, help="default: %(default)s")
    fault.add_argument("--probability", type=float, default=1.0, help="default: %(default)s")
    fault.set_defaults(func=cmd_fault)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from sandbox.app import create_sandbox_app
    from sandbox.settings import SandboxSettings

    settings = SandboxSettings(
        api_key=args.api_key,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        public_url=f"http://{args.host}:{args.port}",
    )
    print(
        f"Kombo sandbox: API {settings.public_url}/v1, page {settings.public_url}/_sandbox/ui, "
        f"webhooks to {settings.webhook_url or '(none configured)'}"
    )
    uvicorn.run(create_sandbox_app(settings), host=args.host, port=args.port, log_config=None, access_log=False)
    return 0


def _call(method: str, url: str, body: Any = None) -> int:
    try:
        response = httpx.request(method, url, json=body, timeout=60)
    except httpx.HTTPError as exc:
        print(f"assessgate sandbox: cannot reach {url}: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(response.json(), indent=2))
    return 0 if response.is_success else 1


def cmd_fault(args: argparse.Namespace) -> int:
    base = f"{args.url.rstrip('/')}/_sandbox/faults"
    if args.action == "list":
        return _call("GET", base)
    if args.action == "clear":
        return _call("DELETE", base)
    rule = {
        "target": args.target,
        "action": args.fault_action,
        "status": args.status,
        "code": args.code,
        "times": args.times or None,
        "for_seconds": args.for_seconds,
        "latency_ms": args.latency_ms,
        "probability": args.probability,
    }
    return _call("POST", base, rule)


def cmd_integration(args: argparse.Namespace) -> int:
    body = {"organization_name": args.organization, "origin_id": args.origin_id}
    return _call("POST", f"{args.url.rstrip('/')}/_sandbox/integrations", body)


def cmd_order(args: argparse.Namespace) -> int:
    body = {"package_id": args.package, "candidate": {"email": args.email}, "inline": args.inline}
    return _call("POST", f"{args.url.rstrip('/')}/_sandbox/integrations/{args.integration}/orders", body)
