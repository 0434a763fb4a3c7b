"""The example adapter's own tests: assessgate's conformance kit and its recording context, as any third-party
adapter would use them (through assessgate.testing only)."""

import asyncio

import pytest
from assessgate_example_adapter import SCORED, DomainGuard, DomainGuardConfig, plugin

from assessgate.plugin import Callback, ValidationFailed
from assessgate.testing import assert_conforms, recording_context, sample_order


def test_the_example_adapter_conforms() -> None:
    asyncio.run(assert_conforms(plugin, {"blocked_domains": ["spam.example"]}))


def test_a_reported_score_becomes_a_completed_result() -> None:
    order = sample_order()
    ctx, recorded = recording_context(order)
    scored = {"type": SCORED, "score": 87, "max_score": 100, "report_url": "https://vendor.example/r/1"}
    asyncio.run(DomainGuard(DomainGuardConfig()).handle(order, Callback(payload=scored), ctx))
    [result] = recorded.results
    assert (result["status"], result["score"], result["max_score"]) == ("COMPLETED", 87, 100)
    assert result["completed_at"].endswith("Z")


def test_a_malformed_score_is_refused() -> None:
    order = sample_order()
    ctx, recorded = recording_context(order)
    with pytest.raises(ValidationFailed):
        asyncio.run(DomainGuard(DomainGuardConfig()).handle(order, Callback(payload={"type": SCORED}), ctx))
    assert recorded.results == []
