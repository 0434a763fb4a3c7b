"""A CPU hog for ``make drill PRESSURE=1``: one core kept busy beside the drills, as another process on a CI
machine would, for at most ``SECONDS`` (it stops by itself even if nobody stops it).

``python tests/_support/agtest/pressure.py SECONDS``
"""

from __future__ import annotations

import sys
import time


def spin(seconds: float) -> int:
    """Busy-loop on one core until ``seconds`` have passed; returns the loops done (no memory, no I/O)."""
    deadline = time.monotonic() + seconds
    loops = 0
    while time.monotonic() < deadline:
        for _ in range(100_000):
            loops += 1
    return loops


def main(argv: list[str]) -> int:
    if len(argv) != 2:  # the program and one argument
        print(__doc__, file=sys.stderr)
        return 2
    spin(float(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
