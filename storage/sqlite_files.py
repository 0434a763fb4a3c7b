"""The SQLite database holds candidate PII, so its folder is 0700 and the file and its companions 0600.

SQLite creates a new database file with the process's default mode (0644 under the usual umask) and gives
its ``-wal``, ``-shm`` and ``-journal`` files the database file's mode. So the file is created empty, 0600,
before SQLite opens it (SQLite takes an empty file as a new database), and an existing installation's files
are tightened when the database starts. The folder is created 0700 when it is missing; an existing folder
that is not the data folder (``/var/lib/...``) is left alone (``api.bootstrap`` tightens the data folder).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import Final

import structlog

log = structlog.get_logger()

FOLDER_MODE: Final = 0o700
FILE_MODE: Final = 0o600
COMPANIONS: Final = ("-wal", "-shm", "-journal")


def make_private(path: Path) -> None:
    """Create ``path``'s folder (0700) and the empty database file (0600) if missing; tighten existing files."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=FOLDER_MODE)
        path.parent.chmod(FOLDER_MODE)  # mkdir's mode is filtered through the umask
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    for file in (path, *(path.with_name(path.name + suffix) for suffix in COMPANIONS)):
        tighten(file, FILE_MODE)


def tighten(path: Path, mode: int) -> None:
    """Take away every permission beyond ``mode`` from ``path`` if it exists (a warning if we may not)."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if current & ~mode:
        try:
            path.chmod(current & mode)
        except OSError as exc:
            log.warning("permissions_not_tightened", path=str(path), mode=oct(current), error=type(exc).__name__)
            return
        log.info("permissions_tightened", path=str(path), was=oct(current), now=oct(current & mode))
