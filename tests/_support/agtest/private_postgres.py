"""A throwaway PostgreSQL server of the drill's own: ``initdb`` into a temporary folder, started on a free loopback
port, restarted under load by the kill drill, stopped and removed at the end.

Why not the server the tests share (``ASSESSGATE_TEST_POSTGRES_URL``): a drill that restarts PostgreSQL must not
bounce the developer's own database, nor the one other test runs on the same machine are using.

The binaries come from ``PATH`` or Debian's ``/usr/lib/postgresql/<version>/bin`` (the newest).
``initdb`` refuses to run as root, so as root every command runs as the ``postgres`` OS user (``runuser``).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from agtest.servers import free_port

#: Room for the drill's processes (two replicas and two workers with 10 connections each, plus the checker).
MAX_CONNECTIONS = 100
START_TIMEOUT_S = 120  # initdb and the first start on a loaded two-core machine


def binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or None."""
    found = shutil.which("initdb")
    if found is not None and shutil.which("pg_ctl") is not None:
        return Path(found).parent
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name.split(".")[0])
    )
    return debian[-1].parent if debian else None


def unavailable() -> str | None:
    """None when a private server can be made here, else why not."""
    if binaries() is None:
        return "no PostgreSQL binaries (initdb, pg_ctl) on PATH or under /usr/lib/postgresql/*/bin"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' OS user for initdb to run as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing"
    return None


@dataclass
class PrivatePostgres:
    folder: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def command(self, program: str, *args: str) -> list[str]:
        binary = binaries()
        assert binary is not None
        command = [str(binary / program), *args]
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command

    def pg_ctl(self, *args: str) -> list[str]:
        return self.command("pg_ctl", "--pgdata", str(self.data), "--log", str(self.log), *args)

    def initdb(self) -> None:
        self.run(
            self.command(
                "initdb",
                "--pgdata",
                str(self.data),
                "--username=postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            )
        )

    def start(self) -> None:
        # The socket goes to our folder, not the shared /var/run/postgresql; fsync off: nothing here must survive
        # a power cut, and a restart still goes through a real shutdown checkpoint and recovery.
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off "
            f"-c max_connections={MAX_CONNECTIONS} -c shared_buffers=32MB"
        )
        self.run(self.pg_ctl("start", "--wait", f"--timeout={START_TIMEOUT_S}", "-o", options))

    def restart(self) -> subprocess.Popen[bytes]:
        """Restart (fast shutdown: connections are cut) in the background; the caller waits for the process."""
        return subprocess.Popen(
            self.pg_ctl("restart", "--wait", "--mode=fast", f"--timeout={START_TIMEOUT_S}"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(self.pg_ctl("stop", "--wait", "--mode=immediate"), capture_output=True, check=False)

    def run(self, command: list[str]) -> None:
        done = subprocess.run(command, capture_output=True, check=False, cwd=self.folder)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            output = (done.stdout + done.stderr).decode(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{output}\n{log}")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A started server; stopped (immediately: it is thrown away) and its folder removed afterwards."""
    # Not under pytest's tmp_path: its parents are private to root, and the server runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="ag-drill-pg-"))
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    server = PrivatePostgres(folder)
    try:
        server.initdb()
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
