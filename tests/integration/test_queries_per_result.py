"""How many database round trips one result costs, from the results API to Kombo's answer being recorded.

A counting wrapper around :class:`storage.database.Database` (every instance in this process: the gateway
serving the API runs in a thread here) counts statements and transactions while results are submitted over
real HTTP and then written back by a worker, and while orders arrive as webhooks. The bounds are
docs/performance.md's figures (before issue #18: 10 and 13.5 round trips a result): a change that adds a query
to these paths fails here before it shows up as a slower benchmark.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest

from agtest.stack import ADMIN, Stack, ports, run_jobs, stack
from storage.database import Database, Write

pytestmark = pytest.mark.anyio
__all__ = ["ports", "stack"]

RESULTS = 6
SHOW = False
RESULT: dict[str, Any] = {
    "status": "COMPLETED",
    "result_url": "https://vendor.example/reports/1",
    "completed_at": "2026-07-23T15:42:10.000Z",
    "score": 50,
    "max_score": 100,
}


@contextmanager
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Count ``statements`` (each a round trip) and ``transactions`` (their BEGIN and COMMIT: two more)."""
    counts: Counter[str] = Counter()
    fetch, tx = Database.fetch, Database.tx

    async def counted_fetch(self: Database, sql: str, *args: Any) -> list[dict[str, Any]]:
        counts["statements"] += 1
        if SHOW:
            print("SQL", " ".join(sql.split())[:150])
        return await fetch(self, sql, *args)

    @asynccontextmanager
    async def counted_tx(self: Database, *, write: bool = True) -> AsyncIterator[None]:
        # A read-only transaction on PostgreSQL is a pinned connection: no BEGIN or COMMIT is sent.
        outermost = not self._in_tx.get() and (write or self.is_sqlite)
        async with tx(self, write=write):
            counts["transactions"] += outermost
            yield

    fetch_each = Database.fetch_each

    async def counted_fetch_each(self: Database, statements: Sequence[Write]) -> list[list[dict[str, Any]]]:
        counts["statements"] += self.is_sqlite  # one hop for them all; on PostgreSQL each is a fetch, counted there
        return await fetch_each(self, statements)

    with monkeypatch.context() as patch:
        patch.setattr(Database, "fetch", counted_fetch)
        patch.setattr(Database, "fetch_each", counted_fetch_each)
        patch.setattr(Database, "tx", counted_tx)
        yield counts


def per_result(counts: Counter[str]) -> float:
    return (counts["statements"] + 2 * counts["transactions"]) / RESULTS


async def test_a_result_costs_a_bounded_number_of_round_trips(
    stack: Stack, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant, integration = await stack.tenant_with_integration()
    for _ in range(RESULTS):
        await stack.place(integration)
    orders = await stack.gateway_orders(tenant)
    assert len(orders) == RESULTS
    await run_jobs(db, stack.settings)  # the orders' own start jobs, so only write-backs are left
    with counting(monkeypatch) as submission:
        for order in orders:
            url = f"{stack.gateway}/v1/tenants/{tenant}/orders/{order['id']}/result"
            assert (await stack.http.put(url, json=RESULT, headers=ADMIN)).status_code == 202
    with counting(monkeypatch) as write_back:
        await run_jobs(db, stack.settings)
    rows = await db.fetch("SELECT COUNT(*) AS n FROM order_result WHERE write_back = 'written'")
    assert rows[0]["n"] == RESULTS
    print(f"\nsubmission {dict(submission)} {per_result(submission):.1f}/result")
    print(f"write-back {dict(write_back)} {per_result(write_back):.1f}/result")
    # Submission: the order with its tenant's check, then its latest result and three inserts (result, timeline,
    # job) in one statement on PostgreSQL (in one transaction on SQLite, whose "round trips" are hops to its
    # writer's thread). The tenant's own read (a third round trip) is gone: Orders.resolve checks it.
    assert per_result(submission) <= (5 if db.is_sqlite else 2)
    # Write-back, in batches: a claim, a read and a commit per batch; on PostgreSQL the commit (three writes and
    # the jobs' completion) is one statement (Outbox.complete_with); SQLite's claim is a transaction of its own.
    # The commits follow the calls' answers (group commit): at worst, on a busy machine, one commit per result,
    # which the bounds allow, with the drain's closing empty claims (seen: SQLite 3.2-3.67, PostgreSQL 1.0-1.3).
    assert per_result(write_back) <= (4 if db.is_sqlite else 1.7)


async def test_an_order_costs_a_bounded_number_of_round_trips(
    stack: Stack, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant, integration = await stack.tenant_with_integration()
    await stack.place(integration)  # the first order warms what is read once (the plugins' routes)
    with counting(monkeypatch) as intake:
        for _ in range(RESULTS):
            await stack.place(integration)  # answered once the gateway has answered the sandbox's webhook
    assert len(await stack.gateway_orders(tenant)) == RESULTS + 1
    print(f"\norder {dict(intake)} {per_result(intake):.1f}/order")
    # The event's replay check, the order's, the tenant, its catalog, the vendor's, its routes and adapter settings,
    # then the order, its timeline and its start job (one statement on PostgreSQL), and the event's record.
    assert per_result(intake) <= (18 if db.is_sqlite else 9)
