"""The ``assessgate`` command: serve, migrate, keys, and room for more.

Settings come from the environment here, and only here; everything below receives them as arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from core.errors import ConfigError, DatabaseUnavailable
from core.settings import Settings, load_settings


def _settings() -> Settings:
    try:
        return load_settings(os.environ)
    except ConfigError as exc:
        raise SystemExit(f"assessgate: configuration error: {exc}") from None


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.bootstrap import complete_settings

    settings = complete_settings(_settings())
    app = create_app(settings)
    host = args.host or settings.host
    port = args.port or settings.port
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, server_header=False)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from tenants.db import Database
    from tenants.migrations import migrate, pending_ids

    settings = _settings()

    async def run() -> int:
        db = Database(settings.database)
        await db.start()
        try:
            if args.check:
                pending = await pending_ids(db)
                print("pending: " + (", ".join(pending) if pending else "none"))  # noqa: T201
                return 1 if pending else 0
            applied = await migrate(db, on_step=lambda mid: print(f"applied {mid}"))  # noqa: T201
            print(f"database {db.dialect} is up to date ({len(applied)} step(s) applied)")  # noqa: T201
            return 0
        finally:
            await db.close()

    try:
        return asyncio.run(run())
    except DatabaseUnavailable as exc:
        raise SystemExit(f"assessgate: {exc}") from None


def cmd_keys_generate(_args: argparse.Namespace) -> int:
    from api.bootstrap import generate_fernet_key

    print(generate_fernet_key())  # noqa: T201 - the operator asked for a new key on stdout
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assessgate", description="assessgate: Kombo assessment gateway")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default=None, help="overrides ASSESSGATE_HOST")
    serve.add_argument("--port", type=int, default=None, help="overrides ASSESSGATE_PORT")
    serve.set_defaults(func=cmd_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations (run once per deploy)")
    migrate.add_argument("--check", action="store_true", help="only list pending migrations; exit 1 if any")
    migrate.set_defaults(func=cmd_migrate)

    keys = commands.add_parser("keys", help="manage the Fernet key ring").add_subparsers(dest="keys", required=True)
    keys.add_parser("generate", help="print a new Fernet key for ASSESSGATE_SECRET_KEYS").set_defaults(
        func=cmd_keys_generate
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
