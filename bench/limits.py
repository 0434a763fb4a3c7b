"""What every benchmark's gateway runs with: the admission limits off (they exist to stop one tenant starving the
others, which the noisy-neighbour drill measures; a benchmark measures throughput, and a load generator that is
one credential would otherwise measure the rate limiter)."""

from __future__ import annotations

from typing import Final

NO_ADMISSION_LIMITS: Final = {
    "ASSESSGATE_RATE_LIMIT_PER_S": "100000",
    "ASSESSGATE_RATE_LIMIT_BURST": "100000",
    "ASSESSGATE_TENANT_MAX_IN_FLIGHT": "10000",
    "ASSESSGATE_AUTH_FAILURES_BURST": "100000",
}
