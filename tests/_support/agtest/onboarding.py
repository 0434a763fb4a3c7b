"""What the onboarding tests share: a genuine link made to have expired."""

from __future__ import annotations

import time

from core import onboarding_tokens
from core.onboarding_tokens import OnboardingClaims
from core.settings import Settings


def expired(settings: Settings, url: str) -> str:
    """The same tenant and issue as the onboarding link ``url``, signed correctly, but expired a minute ago."""
    base, _, token = url.rpartition("/")
    _, claims = onboarding_tokens.check(settings.secret_keys, token, now_s=0)
    assert claims is not None
    late = OnboardingClaims(tenant_id=claims.tenant_id, link_id=claims.link_id, expires_at_s=int(time.time()) - 60)
    return f"{base}/{onboarding_tokens.mint(settings.secret_keys[0], late)}"
