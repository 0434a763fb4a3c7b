"""Settings that lift the admission limits (api/admission.py) for tests about something else.

The limits themselves are exercised by tests/security; elsewhere a test's rapid requests with one credential
(or its deliberate wrong ones) would only meet 429s.
"""

from __future__ import annotations

from typing import Final

UNLIMITED: Final = {
    "ASSESSGATE_RATE_LIMIT_PER_S": "100000",
    "ASSESSGATE_RATE_LIMIT_BURST": "100000",
    "ASSESSGATE_TENANT_MAX_IN_FLIGHT": "10000",
    "ASSESSGATE_AUTH_FAILURES_BURST": "100000",
}
