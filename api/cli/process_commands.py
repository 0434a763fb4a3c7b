"""The commands that run the gateway: ``serve``, ``demo``, ``worker`` and ``migrate``."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

import structlog

from api.cli.common import run, settings_from_env, tracing_from_env
from core.settings import SqliteUrl

if TYPE_CHECKING:
    from litestar import Litestar


def cmd_serve(args: argparse.Namespace) -> int:
    from api import server
    from api.app import create_app
    from api.bootstrap import complete_settings
    from api.logging import configure_logging

    base = settings_from_env(args)
    configure_logging(base)  # so the bootstrap's own warnings are JSON lines like the rest
    tracing_from_env("serve")
    settings = complete_settings(base)
    app = create_app(settings)
    # Where a newcomer goes next: the API docs page (served offline) and the same reference in the repository.
    structlog.get_logger().info(
        "serving", url=settings.base_url, api_docs=f"{settings.base_url}/schema", reference="docs/reference.md"
    )
    server.run(app, settings.server, host=settings.host, port=settings.port)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Sandbox mode with something to look at: a sandbox integration and a published demo catalog."""
    import msgspec

    from api import server
    from api.app import create_app
    from api.bootstrap import SANDBOX_PATH, complete_settings
    from api.demo import equip_demo, platform_url, seed_demo
    from api.logging import configure_logging

    base = settings_from_env(args)
    if not base.kombo.sandbox:
        raise SystemExit("assessgate demo runs in sandbox mode: unset ASSESSGATE_KOMBO_API_KEY")
    configure_logging(base)
    # The demo runs its worker in-process on either engine, so the catalog push happens with nothing else running.
    settings = complete_settings(base)
    # The demo platform lives in this process's sandbox: the adapters may call it although it is on loopback.
    allowed = (*settings.outbound_allow, f"{platform_url(settings)}/")
    settings = msgspec.structs.replace(settings, embedded_worker="on", outbound_allow=allowed)
    app = create_app(settings)

    async def seed(app: Litestar) -> None:
        """After the sandbox restored its state: what the demo needs and is missing (``api/demo.py``)."""
        sandbox, gateway = app.state.sandbox, app.state.gateway
        demo = await seed_demo(sandbox, gateway)
        created = demo.created + await equip_demo(sandbox, gateway, demo.tenant)
        added = f"added {', '.join(created)}" if created else "nothing to add: the demo is as it was left"
        print(
            "\nassessgate demo (sandbox mode)\n"
            f"  ATS simulator:  {settings.base_url}{SANDBOX_PATH}/_sandbox/ui?integration={demo.integration_id}\n"
            f"  demo tenant:    {settings.base_url}/v1/tenants/{demo.tenant.id} (admin token in "
            f"{settings.data_dir}/admin-token)\n"
            f"  console:        {settings.base_url}/console (log in with the admin token)\n"
            f"  demo platform:  {platform_url(settings)}/ (where launch links land and cases arrive)\n"
            "  candidate mail: logged, not sent (ASSESSGATE_SMTP_URL is log:)\n"
            f"  gateway health: {settings.base_url}/health\n"
            f"  API docs:       {settings.base_url}/schema\n"
            "Place a Java test (an invitation), an inline order (a link at once) or a background check (a form) on\n"
            "the simulator page.\n"
            f"This start {added}. The demo catalog is pushed to the sandbox by the embedded worker within a second\n"
            "or two; orders placed on the simulator page reach the gateway's webhook endpoint and the order API.\n",
            flush=True,
        )

    app.on_startup.append(seed)
    server.run(app, settings.server, host=args.host or settings.host, port=args.port or settings.port)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from api.composition import open_database
    from storage.migrations import migrate, pending_ids

    settings = settings_from_env()

    async def main() -> int:
        async with open_database(settings) as db:
            if args.check:
                pending = await pending_ids(db)
                print("pending: " + (", ".join(pending) if pending else "none"))
                return 1 if pending else 0
            applied = await migrate(db, on_step=lambda mid: print(f"applied {mid}"))
            print(f"database {db.dialect} is up to date ({len(applied)} step(s) applied)")
            return 0

    return run(main())


def cmd_worker(args: argparse.Namespace) -> int:
    import signal

    from api.bootstrap import complete_settings
    from api.composition import open_gateway, worker_process_settings
    from api.logging import configure_logging
    from api.worker_endpoint import serving_worker_endpoint

    base = settings_from_env()
    configure_logging(base)
    tracing_from_env("worker")
    settings = worker_process_settings(complete_settings(base))  # sandbox mode: the same key and URLs as serve
    if isinstance(settings.database.parsed, SqliteUrl) and not args.allow_sqlite:
        raise SystemExit(
            "assessgate: on SQLite the worker runs inside `assessgate serve`; a separate worker process would "
            "fight it for the database file. Use PostgreSQL to scale out (or --allow-sqlite when no serve runs)."
        )

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with open_gateway(settings) as gateway, serving_worker_endpoint(gateway):
            concurrency = args.concurrency or settings.worker_concurrency
            await gateway.worker(concurrency=concurrency, name=gateway.process_name).run(stop)
        return 0

    return run(main())
