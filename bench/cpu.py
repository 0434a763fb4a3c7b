"""Where the CPU goes: user+system seconds of named processes over a phase, read from ``/proc`` (Linux).

On a two-core machine a throughput benchmark is bounded by CPU long before the network or the disk, so the
useful profile is "CPU milliseconds per unit of work, by process": the gateway, its workers, the sandbox
(standing in for Kombo), the database server, and the load generator itself. Elsewhere than Linux the
figures are absent, never wrong.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float | None:
    """User+system CPU seconds of one process so far; None when it is gone or /proc is absent."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14 and 15 of proc(5))


def pids_named(name: str) -> list[int]:
    """Every process whose command name is ``name`` (PostgreSQL's server runs as many ``postgres``)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if (entry / "comm").read_text().strip() == name:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


class CpuMeter:
    """CPU seconds used by groups of processes between ``start()`` and ``stop()``.

    ``groups`` maps a label to pids; the label ``postgres`` (if given an empty list) means every process
    named postgres at each reading, since PostgreSQL starts a backend per connection."""

    def __init__(self, groups: Mapping[str, list[int]]) -> None:
        self.groups = {label: list(pids) for label, pids in groups.items()}
        self._start: dict[str, float] = {}

    def _read(self) -> dict[str, float]:
        totals = {}
        for label, pids in self.groups.items():
            members = pids_named("postgres") if label == "postgres" and not pids else pids
            totals[label] = sum(cpu_seconds(pid) or 0.0 for pid in members)
        return totals

    def start(self) -> None:
        self._start = self._read()

    def stop(self) -> dict[str, float]:
        """CPU seconds by label since ``start`` (a backend that exited meanwhile takes its share with it)."""
        end = self._read()
        return {label: max(0.0, end[label] - self._start.get(label, 0.0)) for label in end}
