"""A throwaway PostgreSQL database per test, created on the server named by ASSESSGATE_TEST_POSTGRES_URL.

Outside CI a missing server skips the PostgreSQL half (and the summary says so); under ``CI=true`` it
fails the run, because CI must test both engines.
"""

from __future__ import annotations

import os
import uuid
from typing import Final
from urllib.parse import urlsplit, urlunsplit

import asyncpg

DEFAULT_URL: Final = "postgresql://postgres@127.0.0.1:5432/test"


def admin_url() -> str:
    return os.environ.get("ASSESSGATE_TEST_POSTGRES_URL", DEFAULT_URL)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


async def server_problem() -> str | None:
    """None when the server answers, else why not."""
    try:
        conn = await asyncpg.connect(admin_url(), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


async def create_database() -> str:
    name = f"ag_test_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(admin_url())
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(admin_url(), name)


async def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    conn = await asyncpg.connect(admin_url())
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
