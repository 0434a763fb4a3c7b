"""Operators' commands: jobs, keys, catalogs pushed now, orders reconciled now, installed adapters, onboarding
links, the API reference."""

from __future__ import annotations

import argparse
import sys
import uuid

from api.cli.common import each_tenant, run, settings_from_env
from core.errors import AssessgateError, ConfigError

#: The audit log's actor for what an operator did from the command line.
CLI_ACTOR = "cli"


def cmd_jobs(args: argparse.Namespace) -> int:
    from api.composition import open_job_operations
    from jobs.lifecycle import JobState

    settings = settings_from_env()
    state = JobState(args.state) if args.state else None
    tenant = uuid.UUID(args.tenant) if args.tenant else None

    async def main() -> int:
        async with open_job_operations(settings) as jobs:
            if args.action == "list":
                for job in await jobs.listed(state=state, tenant_id=tenant, kind=args.kind, limit=args.limit):
                    error = (job.last_error or "").replace("\n", " ")[:80]
                    print(
                        f"{job.id}  {job.state:<8} {job.kind:<28} attempts={job.attempts}/{job.max_attempts}  {error}"
                    )
                return 0
            if bool(args.ids) == args.all:
                raise SystemExit("assessgate: name job ids, or pass --all (with --state/--tenant/--kind to narrow it)")
            ids = args.ids or await jobs.ids_matching(state=state, tenant_id=tenant, kind=args.kind)
            refused = await jobs.change_each(ids, retry=args.action == "retry")
            for job_id in refused:
                print(f"{job_id}: not in a state that allows {args.action}", file=sys.stderr)
            print(f"{args.action}: {len(ids) - len(refused)} of {len(ids)} job(s)")
            return 0 if not refused else 1

    return run(main())


def cmd_keys_rotate(_args: argparse.Namespace) -> int:
    """Re-encrypt every tenant secret under the first key of ASSESSGATE_SECRET_KEYS, with a progress bar."""
    from rich.progress import Progress

    from api.composition import open_vault

    settings = settings_from_env()
    if not settings.secret_keys:
        raise SystemExit("assessgate: set ASSESSGATE_SECRET_KEYS (newest key first) before rotating")

    async def main() -> int:
        async with open_vault(settings) as vault:
            total = await vault.pending_rotation()
            with Progress() as progress:
                task = progress.add_task("re-encrypting secrets", total=total)
                done = await vault.rotate(on_progress=lambda n: progress.advance(task, n))
            print(f"rotated {done} secret(s); {await vault.pending_rotation()} left under older keys")
            return 0

    return run(main())


def cmd_sync_packages(args: argparse.Namespace) -> int:
    """Push tenants' catalogs to Kombo now, one after another, with a progress bar."""
    from api.bootstrap import complete_settings
    from api.composition import open_gateway

    if bool(args.tenant) == args.all:
        raise SystemExit("assessgate: pass --all or --tenant ID")
    settings = complete_settings(settings_from_env())

    async def main() -> int:
        async with open_gateway(settings) as gateway:
            tenants = [uuid.UUID(args.tenant)] if args.tenant else await gateway.catalogs.tenants_with_catalogs()
            failures = await each_tenant("pushing catalogs", tenants, gateway.catalog_push.push)
            print(f"pushed {len(tenants) - failures} of {len(tenants)} catalog(s)")
            return 1 if failures else 0

    return run(main())


def cmd_orders_reconcile(args: argparse.Namespace) -> int:
    """Compare every bound tenant's OPEN orders with Kombo's now and ingest the missing ones (progress bar)."""
    from api.bootstrap import complete_settings
    from api.composition import open_gateway

    settings = complete_settings(settings_from_env())

    async def main() -> int:
        async with open_gateway(settings) as gateway:
            reconciliation = gateway.reconciliation
            tenants = [uuid.UUID(args.tenant)] if args.tenant else await reconciliation.bound_tenants()
            found = 0

            async def reconcile_one(tenant_id: uuid.UUID) -> None:
                nonlocal found
                found += await reconciliation.reconcile(tenant_id)

            failures = await each_tenant("reconciling orders", tenants, reconcile_one)
            print(
                f"reconciled {len(tenants) - failures} of {len(tenants)} tenant(s); {found} missing order(s) ingested"
            )
            return 1 if failures else 0

    return run(main())


def cmd_adapters_list(_args: argparse.Namespace) -> int:
    """Every installed adapter: its distribution and version, and whether it loaded (and why not)."""
    from api.plugins import load_adapters, load_plugins_file

    settings = settings_from_env()
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


def cmd_onboarding_link(args: argparse.Namespace) -> int:
    """Issue a tenant's onboarding link (the previous one stops working) and print it with its expiry."""
    from api.bootstrap import complete_settings
    from api.composition import open_gateway

    try:
        tenant_id = uuid.UUID(args.tenant)
    except ValueError:
        raise SystemExit(f"assessgate: {args.tenant!r} is not a tenant id") from None
    settings = complete_settings(settings_from_env())

    async def main() -> int:
        async with open_gateway(settings) as gateway:
            try:
                issued = await gateway.onboarding.links.issue(tenant_id, end_user_email=args.email, actor=CLI_ACTOR)
            except AssessgateError as exc:
                raise SystemExit(f"assessgate: {exc.message}") from None
            print(issued.url)
            print(f"expires {issued.expires_at.isoformat()}; send it to {args.email}", file=sys.stderr)
            return 0

    return run(main())


def cmd_reference(args: argparse.Namespace) -> int:
    """Write docs/reference.md from the OpenAPI document; ``--check`` only says whether it is out of date."""
    from pathlib import Path

    from api.reference import reference_app, render_app

    output = Path(args.output)
    text = render_app(reference_app())
    current = output.read_text(encoding="utf-8") if output.exists() else None
    if args.check:
        print(f"{output} is {'up to date' if current == text else 'out of date: run `make reference`'}")
        return 0 if current == text else 1
    if current != text:
        output.write_text(text, encoding="utf-8")
    print(f"{output}: {'unchanged' if current == text else 'written'}")
    return 0
