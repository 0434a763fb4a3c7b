"""The ``assessgate`` command: serve, worker, migrate, demo, jobs, tenants, orders, keys, adapters, sandbox,
reference.

Settings come from the environment in ``api/cli/common.py``, and only there; everything below receives them as
arguments. Commands import lazily so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from api.cli.operator_commands import (
    cmd_adapters_list,
    cmd_jobs,
    cmd_keys_generate,
    cmd_keys_rotate,
    cmd_onboarding_link,
    cmd_orders_reconcile,
    cmd_reference,
    cmd_sync_packages,
)
from api.cli.process_commands import cmd_demo, cmd_migrate, cmd_serve, cmd_worker
from sandbox.cli import register as register_sandbox_commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assessgate", description="assessgate: Kombo assessment gateway")
    commands = parser.add_subparsers(dest="command", required=True)
    add_process_commands(commands)
    add_operator_commands(commands)
    register_sandbox_commands(commands)
    return parser


def add_process_commands(commands: Any) -> None:
    """The commands that run the gateway: serve, demo, migrate, worker."""
    serve = commands.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default=None, help="default: $ASSESSGATE_HOST, else 127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default: $ASSESSGATE_PORT, else 8000")
    serve.set_defaults(func=cmd_serve)

    demo = commands.add_parser("demo", help="serve in sandbox mode with a demo integration and catalog")
    demo.add_argument("--host", default=None, help="default: $ASSESSGATE_HOST, else 127.0.0.1")
    demo.add_argument("--port", type=int, default=None, help="default: $ASSESSGATE_PORT, else 8000")
    demo.set_defaults(func=cmd_demo)

    migrate = commands.add_parser("migrate", help="apply database migrations (run once per deploy)")
    migrate.add_argument("--check", action="store_true", help="only list pending migrations; exit 1 if any")
    migrate.set_defaults(func=cmd_migrate)

    worker = commands.add_parser("worker", help="run outbox workers alone (PostgreSQL; any number may run)")
    worker.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="jobs run at once by this process (default: $ASSESSGATE_WORKER_CONCURRENCY, else 4)",
    )
    worker.add_argument("--allow-sqlite", action="store_true", help="run against SQLite when no serve process runs")
    worker.set_defaults(func=cmd_worker)


def add_operator_commands(commands: Any) -> None:
    """Operators' commands: jobs, orders, adapters, keys, tenants, the reference."""
    jobs = commands.add_parser("jobs", help="inspect, retry or discard outbox jobs")
    jobs.add_argument("action", choices=["list", "retry", "discard"])
    jobs.add_argument("ids", nargs="*", help="job ids (retry/discard)")
    jobs.add_argument("--all", action="store_true", help="every job matching the filters (retry/discard)")
    jobs.add_argument(
        "--state", choices=["queued", "running", "done", "dead", "parked"], help="only this state (default: any)"
    )
    jobs.add_argument("--tenant", help="only this tenant's jobs (default: every tenant's)")
    jobs.add_argument("--kind", help="only this job kind (default: any)")
    jobs.add_argument("--limit", type=int, default=100, help="rows listed (default: %(default)s)")
    jobs.set_defaults(func=cmd_jobs)

    reference = commands.add_parser("reference", help="write the API reference from the OpenAPI document")
    reference.add_argument("--output", default="docs/reference.md", help="the file written (default: %(default)s)")
    reference.add_argument("--check", action="store_true", help="write nothing; exit 1 if the file is out of date")
    reference.set_defaults(func=cmd_reference)

    orders = commands.add_parser("orders", help="order operations").add_subparsers(dest="orders", required=True)
    reconcile = orders.add_parser("reconcile", help="fetch OPEN orders from Kombo now and ingest missing ones")
    reconcile.add_argument("--tenant", help="one tenant id (default: every bound tenant)")
    reconcile.set_defaults(func=cmd_orders_reconcile)

    adapters = commands.add_parser("adapters", help="handler adapters").add_subparsers(dest="adapters", required=True)
    adapters.add_parser("list", help="installed adapters and whether they loaded").set_defaults(func=cmd_adapters_list)

    keys = commands.add_parser("keys", help="manage the Fernet key ring").add_subparsers(dest="keys", required=True)
    keys.add_parser("generate", help="print a new Fernet key for ASSESSGATE_SECRET_KEYS").set_defaults(
        func=cmd_keys_generate
    )
    keys.add_parser("rotate", help="re-encrypt every tenant secret under the newest key").set_defaults(
        func=cmd_keys_rotate
    )

    register_tenant_commands(commands)


def register_tenant_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``assessgate tenants ...`` (also spelled ``tenant``)."""
    tenants = commands.add_parser("tenants", aliases=["tenant"], help="tenant operations").add_subparsers(
        dest="tenants", required=True
    )
    sync = tenants.add_parser("sync-packages", help="push catalogs to Kombo now")
    sync.add_argument("--all", action="store_true", help="every tenant that has a catalog")
    sync.add_argument("--tenant", help="one tenant id (default: none; give it or --all)")
    sync.set_defaults(func=cmd_sync_packages)
    onboarding = tenants.add_parser("onboarding-link", help="issue the link a customer's admin connects the ATS with")
    onboarding.add_argument("tenant", help="tenant id")
    onboarding.add_argument("--email", required=True, help="the customer's admin who will connect the ATS")
    onboarding.set_defaults(func=cmd_onboarding_link)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
