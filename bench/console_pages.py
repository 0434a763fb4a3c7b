"""The operator console's order pages at scale (``bench/scale.py`` calls it): the order list of every tenant,
one tenant's and those needing attention, and an order's page, each as a logged-in operator's browser asks.

Logs in once through the login form with the admin token (the session cookie then rides along), then times
:data:`REQUESTS` list pages and order pages. The issue's bar: p99 under 50 ms at 100,000 orders.
"""

from __future__ import annotations

import random
import re
import statistics
import time
from collections.abc import Sequence
from typing import Final

import httpx

REQUESTS: Final = 400
_LOGIN_TOKEN: Final = re.compile(r'name="login_token" value="([^"]+)"')


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def log_in(http: httpx.AsyncClient, gateway: str, admin_token: str) -> None:
    form = await http.get(f"{gateway}/console/login")
    match = _LOGIN_TOKEN.search(form.text)
    assert match is not None, "the console's login form has no token"
    done = await http.post(f"{gateway}/console/login", data={"login_token": match[1], "token": admin_token})
    assert done.status_code == 303, done.text  # noqa: PLR2004 - a redirect to the overview


async def console_latency(
    gateway: str, admin_token: str, tenants: list[str], orders: dict[str, str]
) -> dict[str, float]:
    """p50 and p99 in ms of the console's order list (all tenants, one tenant, needing attention, in turn) and
    of an order's page."""
    rng = random.Random(17)
    lists: list[float] = []
    details: list[float] = []
    async with httpx.AsyncClient(timeout=30) as http:
        await log_in(http, gateway, admin_token)
        for n in range(REQUESTS):
            tenant = rng.choice(tenants)
            params = ({}, {"tenant": tenant}, {"status": "needs_attention"})[n % 3]
            started = time.perf_counter()
            response = await http.get(f"{gateway}/console/orders", params=params)
            lists.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            if tenant in orders:
                started = time.perf_counter()
                detail = await http.get(f"{gateway}/console/orders/{orders[tenant]}")
                details.append((time.perf_counter() - started) * 1000)
                detail.raise_for_status()
    return {
        "console_list_p50_ms": statistics.median(lists),
        "console_list_p99_ms": percentile(lists, 0.99),
        "console_detail_p50_ms": statistics.median(details),
        "console_detail_p99_ms": percentile(details, 0.99),
    }
