"""The example adapter's own test: assessgate's conformance kit, as any third-party adapter would run it."""

import asyncio

from assessgate_example_adapter import plugin

from adapters.testing import assert_conforms


def test_the_example_adapter_conforms() -> None:
    asyncio.run(assert_conforms(plugin, {"blocked_domains": ["spam.example"]}))
