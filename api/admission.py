"""Request admission for the API under ``/v1``: who is calling, and may they be served now. Headers only.

Runs as ASGI middleware before any route handler, so no request body is read (let alone parsed) for a
caller without a valid credential. In order, each step cheaper than the next:

1. a client address with too many failed authentications lately gets 429 (its credential is not even
   looked at, so guessing tokens is slowed to the failure rate);
2. the presented credential's token bucket (keyed by a hash of the token, so a flood is refused before any
   database lookup) answers 429 when empty;
3. the credential is resolved to a principal (:mod:`api.auth`); a missing or wrong one is 401, counted
   against the client address and logged as a ``security_event`` (never with the token);
4. a tenant (or the admin) already at its cap of requests in flight gets 429.

The principal is put in ``scope["user"]`` where :func:`api.auth.provide_principal` reads it. Every answer
to a credential carries the IETF ``RateLimit``/``RateLimit-Policy`` headers. Other routes (Kombo's signed
webhook, candidate links, signed file links, health, metrics, the schema, the sandbox) carry their own
credentials or none, and pass through untouched. The limits hold per process: docs/operations.md says
why, and what that means with several replicas.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Final

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import CHALLENGE, UNAUTHORIZED_DETAIL, Principal, TenantKey, bearer_token_of, resolve_token
from api.problems import send_problem
from core.rate_limits import Decision, InFlight, TokenBuckets
from core.settings import Settings
from tenants.keys import ApiKeys

log = structlog.get_logger()
PROTECTED_PREFIX: Final = "/v1/"
_POLICY: Final = "credential"


class Admission:
    """The per-process state of the limits (one per app)."""

    def __init__(self, settings: Settings, keys: ApiKeys, clock: Callable[[], float] = time.monotonic) -> None:
        limits = settings.limits
        self.settings, self.keys = settings, keys
        self.requests = TokenBuckets(rate=limits.rate_per_s, burst=limits.rate_burst, clock=clock)
        self.failures = TokenBuckets(
            rate=limits.auth_failures_per_minute / 60, burst=limits.auth_failures_burst, clock=clock
        )
        self.in_flight = InFlight(limits.tenant_max_in_flight)
        window = max(1, round(limits.rate_burst / limits.rate_per_s))
        self.policy_header = f'"{_POLICY}";q={limits.rate_burst};w={window}'

    def rate_headers(self, decision: Decision) -> dict[str, str]:
        return {
            "RateLimit-Policy": self.policy_header,
            "RateLimit": f'"{_POLICY}";r={decision.remaining};t={decision.reset_s}',
        }


def _client_address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


def _credential_key(token: str) -> str:
    # The bucket is the credential's, not the raw token's: the token never sits in memory longer than needed.
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _holder(principal: Principal) -> str:
    return f"tenant:{principal.tenant_id}" if isinstance(principal, TenantKey) else "admin"


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, admission: Admission) -> None:
        self.app, self.admission = app, admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or not scope["path"].startswith(PROTECTED_PREFIX):
            await self.app(scope, receive, send)
            return
        admission, address = self.admission, _client_address(scope)
        throttle = admission.failures.peek(address)
        if not throttle.allowed:
            await send_problem(
                scope,
                send,
                429,
                "too many failed authentications from this address; try again later",
                {"Retry-After": str(throttle.retry_after_s)},
            )
            return
        token = bearer_token_of(scope)
        decision = admission.requests.take(_credential_key(token)) if token is not None else None
        if decision is not None and not decision.allowed:
            headers = {"Retry-After": str(decision.retry_after_s), **admission.rate_headers(decision)}
            await send_problem(scope, send, 429, "rate limit of this credential exceeded", headers)
            return
        principal = await resolve_token(admission.settings, admission.keys, token)
        if principal is None or decision is None:
            await self._refuse(scope, send, address, reason="missing" if token is None else "invalid")
            return
        holder = _holder(principal)
        if not admission.in_flight.enter(holder):
            headers = {"Retry-After": "1", **admission.rate_headers(decision)}
            limit = admission.in_flight.limit
            await send_problem(scope, send, 429, f"more than {limit} requests of this tenant in flight", headers)
            return
        scope["user"] = principal
        rate_headers = [(k.lower().encode(), v.encode()) for k, v in admission.rate_headers(decision).items()]

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *rate_headers]
            await send(message)

        try:
            await self.app(scope, receive, send_with_limits)
        finally:
            admission.in_flight.leave(holder)

    async def _refuse(self, scope: Scope, send: Send, address: str, *, reason: str) -> None:
        failures = self.admission.failures
        if reason == "invalid":  # a guess; no credential at all (a probe, a monitor) guesses nothing
            failures.take(address)
        log.warning(
            "security_event",
            kind="authentication_failed",
            reason=reason,
            client=address,
            method=scope.get("method"),
            path=scope["path"],
            throttled_from_now=not failures.peek(address).allowed,
        )
        await send_problem(scope, send, 401, UNAUTHORIZED_DETAIL, CHALLENGE)
