"""The adapter conformance kit and recording fakes, for a plugin's own tests.

    from assessgate.testing import assert_conforms
    from my_adapter import plugin

    async def test_my_adapter_conforms() -> None:
        await assert_conforms(plugin, {"some_setting": "value"})

:func:`assert_conforms` (or :func:`conformance_problems`, the list it raises on) checks the plugin object,
its config type, ``decide`` on a normal and an inline order, ``start`` twice (it must be idempotent), every
timer it schedules, and every result it submits against the results API's rules. :func:`recording_context`
gives a context whose services record what the adapter did in a :class:`Recorded` (mails, HTTP posts,
timers, results as the JSON documents the gateway would store, timeline); :func:`sample_order` is an order
to drive it with.
"""

from adapters.conformance import (
    Recorded,
    assert_conforms,
    conformance_problems,
    recording_context,
    sample_order,
)

__all__ = [
    "assert_conforms",
    "conformance_problems",
    "recording_context",
    "Recorded",
    "sample_order",
]
