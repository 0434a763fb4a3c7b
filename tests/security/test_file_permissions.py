"""Finding 11: the SQLite database holding candidate PII was created 0644 (readable by every local user),
while the generated secret files were 0600. Now the data folder is 0700 and the database with its WAL and
shared-memory files 0600, from the first start under the usual umask, and an older installation's looser
modes are tightened on start. (PostgreSQL keeps no file of ours; this is SQLite's half by nature.)
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.bootstrap import complete_settings
from core.settings import load_settings
from storage.database import Database

pytestmark = pytest.mark.anyio
ASSESSGATE = str(Path(sys.executable).with_name("assessgate"))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask of a default shell, under which SQLite made the database 0644."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_a_first_migrate_creates_a_private_folder_and_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSESSGATE_")}
    env |= {"ASSESSGATE_DATA_DIR": str(data_dir), "ASSESSGATE_LOG_LEVEL": "warning"}
    subprocess.run([ASSESSGATE, "migrate"], env=env, capture_output=True, check=True, cwd=tmp_path)
    database = data_dir / "assessgate.db"
    assert mode(data_dir) == 0o700
    assert mode(database) == 0o600
    # SQLite gives its WAL and shared-memory files the database file's mode: open it as another writer would.
    connection = sqlite3.connect(database)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        connection.execute("CREATE TABLE probe (x INTEGER)")
        connection.commit()
        for suffix in ("-wal", "-shm"):
            assert mode(database.with_name(database.name + suffix)) == 0o600, suffix
    finally:
        connection.close()


async def test_the_database_start_creates_a_missing_folder_0700_and_the_file_0600(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere" / "nested" / "pii.db"
    db = Database(load_settings({"ASSESSGATE_DATABASE_URL": f"sqlite:///{path}"}).database)
    await db.start()
    try:
        await db.execute("CREATE TABLE probe (x INTEGER)")
    finally:
        await db.close()
    assert mode(path.parent) == 0o700
    assert mode(path) == 0o600


async def test_an_older_installation_is_tightened_on_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    database = data_dir / "assessgate.db"
    sqlite3.connect(database).close()
    for file in (database, database.with_name("assessgate.db-wal")):
        file.touch()
        file.chmod(0o644)
    settings = complete_settings(
        load_settings({"ASSESSGATE_DATA_DIR": str(data_dir), "ASSESSGATE_DATABASE_URL": f"sqlite:///{database}"})
    )
    db = Database(settings.database)
    await db.start()
    await db.close()
    assert mode(data_dir) == 0o700
    assert mode(database) == 0o600
    assert mode(database.with_name("assessgate.db-wal")) == 0o600
    assert mode(data_dir / "admin-token") == 0o600
