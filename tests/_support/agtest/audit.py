"""The secret and PII audit: values that must never appear in clear in anything we emit or store.

Every test's captured output (logs of the gateway, the sandbox and the workers run in-process or in
threads) is scanned for these by ``tests/conftest.py``; end-to-end tests also scan the responses they got,
``/metrics`` and a dump of the whole database with :func:`leaks`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from storage.database import Database

#: name -> value: the configured secrets of the test settings and helpers, and candidate form answers.
WATCHED: Final = {
    "admin token": "test-admin-token-0123456789",
    "Fernet key": "aW5zZWN1cmUtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2Q=",
    "Kombo webhook secret": "whsec-current-secret",
    "previous Kombo webhook secret": "whsec-previous-secret",
    "Kombo API key": "kombo-test-api-key-123",
    "sandbox webhook secret": "whsec-sandbox-test",
    "vendor platform secret": "dmVuZG9yLXBsYXRmb3JtLXNlY3JldC0wMTIzNDU2Nzg5",
    "launch signing secret": "vendor-launch-secret-0123456789",
    "tenant SMTP password": "smtp-Pa55w0rd-which-must-never-leak",
    "candidate's street": "12 Lovelace Lane",
    "candidate's postcode": "M1 1AA",
}


def leaks(text: str, *, allow: tuple[str, ...] = ()) -> list[str]:
    """The names of watched values found in ``text`` (never the values themselves)."""
    return [name for name, value in WATCHED.items() if name not in allow and value in text]


async def dump(db: Database) -> str:
    """Everything the database holds, as text (every table, every column; the SQLite files too)."""
    if db.is_sqlite:
        tables = [r["name"] for r in await db.fetch("SELECT name FROM sqlite_master WHERE type = 'table'")]
    else:
        tables = [r["tablename"] for r in await db.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    text = []
    for table in tables:
        text += [repr(row) for row in await db.fetch(f"SELECT * FROM {table}")]
    if db.sqlite_path is not None:
        for file in Path(db.sqlite_path).parent.glob(Path(db.sqlite_path).name + "*"):
            text.append(file.read_bytes().decode("latin-1"))
    return "\n".join(text)
