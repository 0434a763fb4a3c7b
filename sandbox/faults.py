"""Fault injection: make the next calls of an endpoint (or webhooks of a type) fail, slow down, or misbehave.

Targets name an endpoint as ``METHOD /path/template`` (e.g. ``PUT /assessment/orders/{id}/result``), a
webhook as ``webhook:<event type>``, or everything with ``*``. A rule applies ``times`` times (None: until
``until`` passes or it is cleared). Actions for endpoints: ``fail`` (answer ``status`` with Kombo's error
envelope and ``code``; 429s carry ``ratelimit-*`` headers) and ``latency`` (answer normally, late). Actions
for webhooks: ``drop`` (never sent), ``duplicate`` (sent twice), ``delay`` (sent ``latency_ms`` late, so later
ones can overtake it) and ``latency``.
"""

from __future__ import annotations

import time
from typing import Literal

import msgspec

Action = Literal["fail", "latency", "drop", "duplicate", "delay"]


class FaultRule(msgspec.Struct, kw_only=True):
    target: str
    action: Action = "fail"
    status: int = 503
    code: str | None = "REMOTE.SERVICE_UNAVAILABLE"
    message: str = "injected fault"
    times: int | None = 1
    for_seconds: float | None = None
    latency_ms: int = 0
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    probability: float = 1.0
    id: int = 0
    until: float | None = None
    hits: int = 0


class Faults:
    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self._next_id = 1
        #: Seconds added to the clock: lets a test live through a two-minute outage without waiting for it.
        self.offset_s = 0.0

    def now(self) -> float:
        return time.monotonic() + self.offset_s

    def add(self, rule: FaultRule) -> FaultRule:
        rule.id = self._next_id
        self._next_id += 1
        if rule.for_seconds is not None:
            rule.until = self.now() + rule.for_seconds
            if rule.times == 1:
                rule.times = None
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def take(self, target: str, *, rng_value: float = 0.0) -> FaultRule | None:
        """The first live rule for ``target`` (consuming one of its ``times``), if any."""
        now = self.now()
        self.rules = [r for r in self.rules if not _expired(r, now)]
        for rule in self.rules:
            if rule.target not in (target, "*"):
                continue
            if rule.target == "*" and target.startswith("webhook:") != (rule.action in {"drop", "duplicate", "delay"}):
                continue
            if rng_value >= rule.probability:
                continue
            rule.hits += 1
            if rule.times is not None:
                rule.times -= 1
            return rule
        return None


def _expired(rule: FaultRule, now: float) -> bool:
    return (rule.times is not None and rule.times <= 0) or (rule.until is not None and now >= rule.until)
