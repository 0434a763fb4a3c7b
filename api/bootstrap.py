"""Development conveniences that touch the disk: generate the admin token and the Fernet key ring once.

In production (``ASSESSGATE_ENV=production``) settings must carry both; ``core.settings`` refuses to
start without them. In development a missing value is generated into the data folder (mode 0600) on
first start and read back afterwards. The log says loudly where it went, and never prints the value.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable
from pathlib import Path

import msgspec
import structlog

from core.settings import Settings, is_fernet_key
from storage.sqlite_files import FOLDER_MODE, tighten

log = structlog.get_logger()

ADMIN_TOKEN_FILE = "admin-token"  # noqa: S105 - a file name, not a secret
SECRET_KEYS_FILE = "secret-keys"  # noqa: S105 - a file name, not a secret
SANDBOX_API_KEY_FILE = "sandbox-api-key"
SANDBOX_WEBHOOK_SECRET_FILE = "sandbox-webhook-secret"  # noqa: S105 - a file name, not a secret
SANDBOX_PATH = "/sandbox"


def generate_fernet_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def generate_admin_token() -> str:
    return "agadm_" + secrets.token_urlsafe(32)


def complete_settings(settings: Settings) -> Settings:
    """Fill in development secrets that were not configured; returns new settings.

    In every environment the data folder, if it exists, loses any group or other permission: it holds the
    SQLite database with candidate PII and the generated secrets (an older release left it 0755)."""
    tighten(Path(settings.data_dir), FOLDER_MODE)
    if settings.env == "production":
        return settings
    data_dir = Path(settings.data_dir)
    admin_token = settings.admin_token or _read_or_create(
        data_dir / ADMIN_TOKEN_FILE, generate_admin_token, "ASSESSGATE_ADMIN_TOKEN"
    )
    secret_keys = settings.secret_keys or (
        _read_or_create(data_dir / SECRET_KEYS_FILE, generate_fernet_key, "ASSESSGATE_SECRET_KEYS"),
    )
    if not all(is_fernet_key(k) for k in secret_keys):
        raise SystemExit(f"{data_dir / SECRET_KEYS_FILE} does not hold a Fernet key; remove it to generate a new one")
    completed = msgspec.structs.replace(settings, admin_token=admin_token, secret_keys=secret_keys)
    return with_sandbox(completed) if settings.kombo.sandbox else completed


def with_sandbox(settings: Settings) -> Settings:
    """Sandbox mode: point the Kombo client at the mounted sandbox and share a generated key and secret."""
    data_dir = Path(settings.data_dir)
    api_key = _read_or_create(
        data_dir / SANDBOX_API_KEY_FILE, lambda: "sbx_" + secrets.token_urlsafe(24), "the sandbox API key"
    )
    secret = _read_or_create(
        data_dir / SANDBOX_WEBHOOK_SECRET_FILE,
        lambda: "whsec_" + secrets.token_urlsafe(24),
        "the sandbox webhook secret",
    )
    kombo = msgspec.structs.replace(
        settings.kombo,
        api_url=f"{settings.base_url}{SANDBOX_PATH}/v1",
        api_key=api_key,
        webhook_secrets=(*settings.kombo.webhook_secrets, secret),
    )
    return msgspec.structs.replace(settings, kombo=kombo)


def _read_or_create(path: Path, generate: Callable[[], str], variable: str) -> str:
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = generate()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    log.warning(
        "generated_development_secret",
        variable=variable,
        file=str(path),
        note=f"{variable} was not set, so one was generated into this file (read it there; it is never logged). "
        "Set the variable explicitly in production.",
    )
    return value
