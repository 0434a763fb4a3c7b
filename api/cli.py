"""The ``assessgate`` command: serve, worker, migrate, demo, jobs, tenants, orders, keys, sandbox.

Settings come from the environment here, and only here; everything below receives them as arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from core.errors import ConfigError, DatabaseUnavailable
from core.settings import Settings, SqliteUrl, load_settings
from sandbox.cli import register as register_sandbox_commands

if TYPE_CHECKING:
    from litestar import Litestar

    from api.services import OrderServices
    from core.ports import KomboApi
    from storage.database import Database


def _settings(args: argparse.Namespace | None = None) -> Settings:
    """Settings from the environment, with ``--host``/``--port`` applied (URLs derived from them follow)."""
    try:
        settings = load_settings(os.environ)
    except ConfigError as exc:
        raise SystemExit(f"assessgate: configuration error: {exc}") from None
    host = getattr(args, "host", None)
    port = getattr(args, "port", None)
    if host or port:
        import msgspec

        settings = msgspec.structs.replace(settings, host=host or settings.host, port=port or settings.port)
    return settings


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[Database]:
    """The started database of a command, closed at the end."""
    from storage.database import Database
    from storage.tables import TABLES

    db = Database(settings.database)
    await db.start()
    db.bind(TABLES)
    try:
        yield db
    finally:
        await db.close()


@asynccontextmanager
async def _kombo(settings: Settings) -> AsyncIterator[KomboApi]:
    """The Kombo client of a command, with its HTTP client closed at the end."""
    from api.kombo import kombo_client, new_http_client

    http = new_http_client()
    try:
        yield kombo_client(settings, http)
    finally:
        await http.aclose()


@asynccontextmanager
async def _order_services(settings: Settings, db: Database, kombo: KomboApi) -> AsyncIterator[OrderServices]:
    """The order services of a command, with the adapters' HTTP client closed at the end."""
    from api.services import order_services
    from jobs.worker import wall_clock_ms

    services = order_services(settings, db, kombo, wall_clock_ms)
    try:
        yield services
    finally:
        await services.http.aclose()


def _run(main: Coroutine[Any, Any, int]) -> int:
    """Run a command's coroutine; a database that cannot be reached is a plain message, not a traceback."""
    try:
        return asyncio.run(main)
    except DatabaseUnavailable as exc:
        raise SystemExit(f"assessgate: {exc}") from None


async def _each_tenant(label: str, tenants: list[uuid.UUID], action: Callable[[uuid.UUID], Awaitable[Any]]) -> int:
    """Run ``action`` for every tenant under a progress bar; returns how many failed (each is printed)."""
    from rich.progress import Progress

    from core.errors import AssessgateError

    failures = 0
    with Progress() as progress:
        task = progress.add_task(label, total=len(tenants))
        for tenant_id in tenants:
            try:
                await action(tenant_id)
            except AssessgateError as exc:
                failures += 1
                progress.console.print(f"{tenant_id}: {exc.message}")
            progress.advance(task)
    return failures


def cmd_serve(args: argparse.Namespace) -> int:
    from api import server
    from api.app import create_app
    from api.bootstrap import complete_settings
    from api.logging import configure_logging

    base = _settings(args)
    configure_logging(base)  # so the bootstrap's own warnings are JSON lines like the rest
    settings = complete_settings(base)
    app = create_app(settings)
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

    base = _settings(args)
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
        sandbox, db = app.state.sandbox, app.state.db
        demo = await seed_demo(sandbox, db, max_deletion_share=settings.catalog_max_deletion_share)
        created = demo.created + await equip_demo(sandbox, db, settings, demo.tenant)
        added = f"added {', '.join(created)}" if created else "nothing to add: the demo is as it was left"
        print(
            "\nassessgate demo (sandbox mode)\n"
            f"  ATS simulator:  {settings.base_url}{SANDBOX_PATH}/_sandbox/ui?integration={demo.integration_id}\n"
            f"  demo tenant:    {settings.base_url}/v1/tenants/{demo.tenant.id} (admin token in "
            f"{settings.data_dir}/admin-token)\n"
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
    from storage.migrations import migrate, pending_ids

    settings = _settings()

    async def run() -> int:
        async with _database(settings) as db:
            if args.check:
                pending = await pending_ids(db)
                print("pending: " + (", ".join(pending) if pending else "none"))
                return 1 if pending else 0
            applied = await migrate(db, on_step=lambda mid: print(f"applied {mid}"))
            print(f"database {db.dialect} is up to date ({len(applied)} step(s) applied)")
            return 0

    return _run(run())


def cmd_worker(args: argparse.Namespace) -> int:
    import signal

    from api.bootstrap import complete_settings
    from api.jobs import build_registry
    from api.logging import configure_logging
    from jobs.worker import Worker

    base = _settings()
    configure_logging(base)
    settings = complete_settings(base)  # sandbox mode: the same generated key and URLs as serve
    if isinstance(settings.database.parsed, SqliteUrl) and not args.allow_sqlite:
        raise SystemExit(
            "assessgate: on SQLite the worker runs inside `assessgate serve`; a separate worker process would "
            "fight it for the database file. Use PostgreSQL to scale out (or --allow-sqlite when no serve runs)."
        )

    async def run() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with (
            _database(settings) as db,
            _kombo(settings) as kombo,
            _order_services(settings, db, kombo) as services,
        ):
            registry = build_registry(settings, db, kombo, services=services)
            worker = Worker(
                db,
                registry,
                concurrency=args.concurrency,
                tenant_concurrency=settings.worker_tenant_concurrency,
                lease_ms=settings.worker_lease_s * 1000,
            )
            await worker.run(stop)
        return 0

    return _run(run())


def cmd_jobs(args: argparse.Namespace) -> int:
    from jobs.lifecycle import JobState
    from jobs.outbox import Outbox
    from jobs.worker import wall_clock_ms

    settings = _settings()
    state = JobState(args.state) if args.state else None
    tenant = uuid.UUID(args.tenant) if args.tenant else None

    async def run() -> int:
        async with _database(settings) as db:
            outbox = Outbox(db)
            if args.action == "list":
                for job in await outbox.list_jobs(state=state, tenant_id=tenant, kind=args.kind, limit=args.limit):
                    error = (job.last_error or "").replace("\n", " ")[:80]
                    print(
                        f"{job.id}  {job.state:<8} {job.kind:<28} attempts={job.attempts}/{job.max_attempts}  {error}"
                    )
                return 0
            if bool(args.ids) == args.all:
                raise SystemExit("assessgate: name job ids, or pass --all (with --state/--tenant/--kind to narrow it)")
            ids = args.ids or await outbox.ids_matching(state=state, tenant_id=tenant, kind=args.kind)
            change = outbox.operator_retry if args.action == "retry" else outbox.operator_discard
            changed = 0
            for job_id in ids:
                if await change(str(uuid.UUID(job_id)), now_ms=wall_clock_ms()) is not None:
                    changed += 1
                else:
                    print(f"{job_id}: not in a state that allows {args.action}", file=sys.stderr)
            print(f"{args.action}: {changed} of {len(ids)} job(s)")
            return 0 if changed == len(ids) else 1

    return _run(run())


def cmd_keys_rotate(_args: argparse.Namespace) -> int:
    """Re-encrypt every tenant secret under the first key of ASSESSGATE_SECRET_KEYS, with a progress bar."""
    from rich.progress import Progress

    from tenants.vault import Vault

    settings = _settings()
    if not settings.secret_keys:
        raise SystemExit("assessgate: set ASSESSGATE_SECRET_KEYS (newest key first) before rotating")

    async def run() -> int:
        async with _database(settings) as db:
            vault = Vault(db, settings.secret_keys)
            total = await vault.pending_rotation()
            with Progress() as progress:
                task = progress.add_task("re-encrypting secrets", total=total)
                done = await vault.rotate(on_progress=lambda n: progress.advance(task, n))
            print(f"rotated {done} secret(s); {await vault.pending_rotation()} left under older keys")
            return 0

    return _run(run())


def cmd_sync_packages(args: argparse.Namespace) -> int:
    """Push tenants' catalogs to Kombo now, one after another, with a progress bar."""
    from api.bootstrap import complete_settings
    from jobs.kinds import JobContext
    from jobs.worker import wall_clock_ms
    from tenants.catalog_push import catalog_push_kind
    from tenants.catalogs import Catalogs, PushCatalog

    if bool(args.tenant) == args.all:
        raise SystemExit("assessgate: pass --all or --tenant ID")
    settings = complete_settings(_settings())

    async def run() -> int:
        async with _database(settings) as db, _kombo(settings) as kombo:
            catalogs = Catalogs(db, max_deletion_share=settings.catalog_max_deletion_share)
            push = catalog_push_kind(db, kombo, catalogs, wall_clock_ms).handler
            tenants = [uuid.UUID(args.tenant)] if args.tenant else await catalogs.tenants_with_catalogs()

            async def push_one(tenant_id: uuid.UUID) -> None:
                current = await catalogs.desired(tenant_id)
                if current is not None:
                    context = JobContext(
                        job_id="cli",
                        tenant_id=str(tenant_id),
                        kind="catalog.push",
                        attempt=1,
                        idempotency_key=f"cli:{tenant_id}",
                    )
                    await push(PushCatalog(tenant_id=str(tenant_id), version=current[0]), context)

            failures = await _each_tenant("pushing catalogs", tenants, push_one)
            print(f"pushed {len(tenants) - failures} of {len(tenants)} catalog(s)")
            return 1 if failures else 0

    return _run(run())


def cmd_orders_reconcile(args: argparse.Namespace) -> int:
    """Compare every bound tenant's OPEN orders with Kombo's now and ingest the missing ones (progress bar)."""
    from api.bootstrap import complete_settings
    from tenants.repository import TenantRepository

    settings = complete_settings(_settings())

    async def run() -> int:
        async with (
            _database(settings) as db,
            _kombo(settings) as kombo,
            _order_services(settings, db, kombo) as services,
        ):
            jobs = services.jobs
            if args.tenant:
                tenants = [uuid.UUID(args.tenant)]
            else:
                tenants = [t.id for t in await TenantRepository(db).list_tenants(limit=100_000) if t.integration_id]
            found = 0

            async def reconcile_one(tenant_id: uuid.UUID) -> None:
                nonlocal found
                found += await jobs.reconcile(tenant_id)

            failures = await _each_tenant("reconciling orders", tenants, reconcile_one)
            print(
                f"reconciled {len(tenants) - failures} of {len(tenants)} tenant(s); {found} missing order(s) ingested"
            )
            return 1 if failures else 0

    return _run(run())


def cmd_adapters_list(_args: argparse.Namespace) -> int:
    """Every installed adapter: its distribution and version, and whether it loaded (and why not)."""
    from api.plugins import load_adapters, load_plugins_file

    settings = _settings()
    try:
        plugins = load_plugins_file(settings.plugins_file)
    except ConfigError as exc:
        raise SystemExit(f"assessgate: {exc}") from None
    adapters = load_adapters(plugins, settings.adapters)
    print(f"{'adapter':<20}{'distribution':<32}{'version':<12}status")
    for status in adapters.statuses:
        reason = f" ({status.reason})" if status.reason else ""
        print(f"{status.name:<20}{status.distribution:<32}{status.version:<12}{status.status}{reason}")
    return 0


def cmd_keys_generate(_args: argparse.Namespace) -> int:
    from api.bootstrap import generate_fernet_key

    print(generate_fernet_key())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assessgate", description="assessgate: Kombo assessment gateway")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default=None, help="overrides ASSESSGATE_HOST")
    serve.add_argument("--port", type=int, default=None, help="overrides ASSESSGATE_PORT")
    serve.set_defaults(func=cmd_serve)

    demo = commands.add_parser("demo", help="serve in sandbox mode with a demo integration and catalog")
    demo.add_argument("--host", default=None)
    demo.add_argument("--port", type=int, default=None)
    demo.set_defaults(func=cmd_demo)

    migrate = commands.add_parser("migrate", help="apply database migrations (run once per deploy)")
    migrate.add_argument("--check", action="store_true", help="only list pending migrations; exit 1 if any")
    migrate.set_defaults(func=cmd_migrate)

    worker = commands.add_parser("worker", help="run outbox workers alone (PostgreSQL; any number may run)")
    worker.add_argument("--concurrency", type=int, default=4, help="jobs run at once by this process")
    worker.add_argument("--allow-sqlite", action="store_true", help="run against SQLite when no serve process runs")
    worker.set_defaults(func=cmd_worker)

    jobs = commands.add_parser("jobs", help="inspect, retry or discard outbox jobs")
    jobs.add_argument("action", choices=["list", "retry", "discard"])
    jobs.add_argument("ids", nargs="*", help="job ids (retry/discard)")
    jobs.add_argument("--all", action="store_true", help="every job matching the filters (retry/discard)")
    jobs.add_argument("--state", choices=["queued", "running", "done", "dead", "parked"])
    jobs.add_argument("--tenant", help="tenant id")
    jobs.add_argument("--kind", help="job kind")
    jobs.add_argument("--limit", type=int, default=100, help="rows listed")
    jobs.set_defaults(func=cmd_jobs)

    register_sandbox_commands(commands)

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

    tenants = commands.add_parser("tenants", help="tenant operations").add_subparsers(dest="tenants", required=True)
    sync = tenants.add_parser("sync-packages", help="push catalogs to Kombo now")
    sync.add_argument("--all", action="store_true", help="every tenant that has a catalog")
    sync.add_argument("--tenant", help="one tenant id")
    sync.set_defaults(func=cmd_sync_packages)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
