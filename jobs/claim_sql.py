"""The claim statement, built for one engine: which due jobs a claim looks at, ranks, and leases.

A claim must not cost more as the backlog grows (issue #20): ranking every due job made one claim cost
0.6 s on PostgreSQL and 0.8 s on SQLite with 100,000 jobs due (docs/performance.md). So it looks only at
the jobs that can matter: for each (tenant, kind) with a queued job due, its ``limit`` oldest (no claim
takes more than ``limit`` jobs, so no tenant's later jobs can be picked), found by a skip scan over the
index ``outbox_job_due (state, tenant_id, kind, available_at_ms)``; plus the oldest due jobs of no tenant,
and running jobs whose lease ran out (there are at most as many running jobs as workers have slots).
Fairness and limits are then decided over those candidates as before over every due job: a tenant's
candidates are its oldest due jobs of each kind, so its first ``limit`` are among them, whatever the kinds.

The walk visits at most ``PAIRS`` (tenant, kind) pairs, from a random tenant id on, wrapping around, so a
claim's cost is bounded by neither the backlog nor the number of tenants (visiting 10,000 tenants' pairs
cost more than ranking their 10,000 jobs). With at most ``PAIRS`` pairs due (the usual case) every one is
seen and the oldest-first order across tenants is exact; with more, each claim sees a random stretch of
them, so every tenant is reached within about pairs/``PAIRS`` claims instead of strictly oldest first.

Each walk is a recursive CTE on both engines; each pair's jobs are one index range scan, written ``LATERAL``
on PostgreSQL and as a correlated ``IN`` on SQLite (which has no ``LATERAL``; its planner runs that subquery
once per pair through the index).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Final

#: How many of the best eligible jobs a claim locks at most (concurrent claimers share this window).
CANDIDATES: Final = 256
#: How many (tenant, kind) pairs with due work a claim visits at most.
PAIRS: Final = 128


class ClaimSql:
    """The SQL (with piccolo's ``{}`` placeholders) and its arguments, in placeholder order."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.args: list[Any] = []

    def add(self, sql: str, *args: Any) -> None:
        self.parts.append(sql)
        self.args += args

    @property
    def sql(self) -> str:
        return "".join(self.parts)


def _kinds_filter(sql: ClaimSql, kinds: Sequence[str] | None, column: str) -> None:
    if kinds is not None:
        sql.add(f" AND {column} IN ({', '.join('{}' for _ in kinds)})", *kinds)


def _walk(
    sql: ClaimSql, name: str, *, sqlite: bool, now_ms: int, kinds: Sequence[str] | None, start: uuid.UUID, wrap: bool
) -> None:
    """A recursive CTE ``name(tenant_id, kind, n)``: the (tenant, kind) pairs with a queued job due, in index order,
    from ``start`` on (``wrap``: from the first tenant up to ``start``, only as many as ``walk_on`` left to find)."""
    room = "{} - (SELECT COUNT(*) FROM walk_on)" if wrap else "{}"
    sql.add(
        f" {name}(tenant_id, kind, n) AS ("
        " SELECT tenant_id, kind, 1 FROM (SELECT tenant_id, kind FROM outbox_job"
        f"  WHERE state = 'queued' AND tenant_id {'<' if wrap else '>='} {{}} AND available_at_ms <= {{}}",
        start,
        now_ms,
    )
    _kinds_filter(sql, kinds, "kind")
    sql.add(f"  ORDER BY tenant_id, kind LIMIT 1) first_pair WHERE 0 < {room}", PAIRS)
    if sqlite:
        # SQLite has no LATERAL: the id of the next pair's first job, then that row by primary key.
        sql.add(f" UNION ALL SELECT n.tenant_id, n.kind, p.n + 1 FROM {name} p JOIN outbox_job n ON n.id = COALESCE(")
        _next_pair(sql, select="j.id", between=", ", now_ms=now_ms, kinds=kinds, start=start, wrap=wrap)
        sql.add(")")
    else:
        # PostgreSQL takes the pair from the seeks themselves, the first that finds one (their Append stops at its
        # first row; the arms run in order, as the claim is an UPDATE, never planned in parallel). Joined back by
        # id as on SQLite, its planner, trusting a queue table's stale statistics, hashed the whole table instead
        # at every step of the walk.
        sql.add(f" UNION ALL SELECT nx.tenant_id, nx.kind, p.n + 1 FROM {name} p CROSS JOIN LATERAL (")
        _next_pair(
            sql, select="j.tenant_id, j.kind", between=" UNION ALL ", now_ms=now_ms, kinds=kinds, start=start, wrap=wrap
        )
        sql.add(" LIMIT 1) nx")
    sql.add(f" WHERE p.n < {room}),", PAIRS)


def _next_pair(
    sql: ClaimSql, *, select: str, between: str, now_ms: int, kinds: Sequence[str] | None, start: uuid.UUID, wrap: bool
) -> None:
    """The two seeks into the index for the pair after ``p``: the tenant's next kind, then (``between`` them) the
    next tenant's first; each a subquery selecting ``select`` of that pair's first due job."""
    sql.add(
        f"(SELECT {select} FROM outbox_job j WHERE j.state = 'queued' AND j.tenant_id = p.tenant_id"
        " AND j.kind > p.kind AND j.available_at_ms <= {}",
        now_ms,
    )
    _kinds_filter(sql, kinds, "j.kind")
    sql.add(
        f" ORDER BY j.kind LIMIT 1){between}(SELECT {select} FROM outbox_job j WHERE j.state = 'queued'"
        f" AND j.tenant_id > p.tenant_id{' AND j.tenant_id < {}' if wrap else ''} AND j.available_at_ms <= {{}}",
        *((start,) if wrap else ()),
        now_ms,
    )
    _kinds_filter(sql, kinds, "j.kind")
    sql.add(" ORDER BY j.tenant_id, j.kind LIMIT 1)")


def candidates(sql: ClaimSql, *, sqlite: bool, now_ms: int, limit: int, kinds: Sequence[str] | None) -> None:
    """Adds the CTEs up to ``candidate``: the jobs a claim ranks."""
    start = uuid.uuid4()  # where this claim's walk over the tenants begins
    sql.add("WITH RECURSIVE")
    _walk(sql, "walk_on", sqlite=sqlite, now_ms=now_ms, kinds=kinds, start=start, wrap=False)
    _walk(sql, "walk_wrapped", sqlite=sqlite, now_ms=now_ms, kinds=kinds, start=start, wrap=True)
    sql.add(" pair AS (SELECT tenant_id, kind FROM walk_on UNION ALL SELECT tenant_id, kind FROM walk_wrapped),")
    columns = "x.id, x.kind, x.available_at_ms, COALESCE(CAST(x.tenant_id AS TEXT), '') AS tenant_key"
    oldest_of_pair = (
        "SELECT j.id{} FROM outbox_job j WHERE j.state = 'queued' AND j.tenant_id = p.tenant_id AND j.kind = p.kind"
        " AND j.available_at_ms <= {{}} ORDER BY j.available_at_ms LIMIT {{}}"
    )
    if sqlite:
        sql.add(
            f" candidate AS (SELECT {columns} FROM pair p JOIN outbox_job x ON x.id IN ({oldest_of_pair.format('')})",
            now_ms,
            limit,
        )
    else:
        lateral = oldest_of_pair.format(", j.kind, j.available_at_ms, j.tenant_id")
        sql.add(f" candidate AS (SELECT {columns} FROM pair p CROSS JOIN LATERAL ({lateral}) x", now_ms, limit)
    # SQLite's planner would rather scan every due job by the older (state, available_at_ms) index here.
    sql.add(
        " UNION ALL SELECT * FROM (SELECT "
        + columns
        + f" FROM outbox_job x{' INDEXED BY outbox_job_due' if sqlite else ''}"
        "  WHERE x.state = 'queued' AND x.tenant_id IS NULL AND x.available_at_ms <= {}",
        now_ms,
    )
    _kinds_filter(sql, kinds, "x.kind")
    sql.add("  ORDER BY x.available_at_ms, x.id LIMIT {}) no_tenant", CANDIDATES)
    sql.add(
        " UNION ALL SELECT * FROM (SELECT " + columns + " FROM outbox_job x"
        "  WHERE x.state = 'running' AND x.lease_until_ms < {}",
        now_ms,
    )
    _kinds_filter(sql, kinds, "x.kind")
    sql.add("  ORDER BY x.available_at_ms, x.id LIMIT {}) expired),", CANDIDATES)


def claim_statement(
    *,
    sqlite: bool,
    owner: str,
    limit: int,
    lease_ms: int,
    now_ms: int,
    tenant_limit: int,
    kind_limits: dict[str, int],
    kinds: Sequence[str] | None,
    returning: str,
) -> ClaimSql:  # shape: one SQL statement, kept whole so it reads as the claim it is
    """The whole claim: candidates, then the limits, then the best ``limit`` leased (``Outbox.claim`` says how)."""
    sql = ClaimSql()
    candidates(sql, sqlite=sqlite, now_ms=now_ms, limit=limit, kinds=kinds)
    # Kind limits need each candidate's rank within its kind (a second sort): only when set.
    kind_rank = ", ROW_NUMBER() OVER (PARTITION BY kind ORDER BY available_at_ms, id) AS kind_rank"
    sql.add(
        " due AS (SELECT id, kind, available_at_ms, tenant_key,"
        "  ROW_NUMBER() OVER (PARTITION BY tenant_key ORDER BY available_at_ms, id) AS tenant_rank"
        f"{kind_rank if kind_limits else ', 0 AS kind_rank'} FROM candidate),"
        " leased AS ("
        "  SELECT COALESCE(CAST(tenant_id AS TEXT), '') AS tenant_key, kind FROM outbox_job"
        "  WHERE state = 'running' AND lease_until_ms >= {}),"
        " busy_tenant AS (SELECT tenant_key, COUNT(*) AS n FROM leased GROUP BY tenant_key),"
        " busy_kind AS (SELECT kind, COUNT(*) AS n FROM leased GROUP BY kind)",
        now_ms,
    )
    busy_kind_join, limits_join, kind_cap = "", "", "1000000000"
    lock = "" if sqlite else " FOR UPDATE OF o SKIP LOCKED"  # SQLite: Database.tx's writer lock serialises claims
    if kind_limits:
        rows = " UNION ALL ".join(
            "SELECT CAST({} AS VARCHAR(100)) AS kind, CAST({} AS INTEGER) AS cap" for _ in kind_limits
        )
        sql.add(f", kind_limit AS ({rows})", *(v for item in kind_limits.items() for v in item))
        busy_kind_join = " LEFT JOIN busy_kind bk ON bk.kind = due.kind"
        limits_join = " LEFT JOIN kind_limit kl ON kl.kind = due.kind"
        kind_cap = "COALESCE(kl.cap, 1000000000)"
    sql.add(
        ", eligible AS ("
        "  SELECT due.id, due.tenant_rank, due.available_at_ms FROM due"
        f"  LEFT JOIN busy_tenant bt ON bt.tenant_key = due.tenant_key{busy_kind_join}{limits_join}"
        "  WHERE (due.tenant_key = '' OR due.tenant_rank + COALESCE(bt.n, 0) <= {})"
        f"    AND due.kind_rank{' + COALESCE(bk.n, 0)' if kind_limits else ''} <= {kind_cap}),"
        # The best few hundred eligible jobs are taken first (a top-N sort), and only they are joined back to
        # the table and locked. Concurrent claimers skip each other's locked rows within that window.
        " best AS MATERIALIZED ("
        "  SELECT id, tenant_rank, available_at_ms FROM eligible"
        "  ORDER BY tenant_rank, available_at_ms, id LIMIT {}),"
        # The state test is repeated on the locked row itself: PostgreSQL re-checks it against the row's
        # newest version after locking, so a row another worker claimed meanwhile is never taken twice. It is
        # a CASE on purpose: an indexable condition here lets a planner with stale statistics (a queue
        # table's always are) re-scan every due job once per due job instead of fetching rows by primary key.
        " picked AS MATERIALIZED ("
        "  SELECT o.id FROM best b JOIN outbox_job o ON o.id = b.id"
        "  WHERE CASE o.state WHEN 'queued' THEN o.available_at_ms <= {}"
        "                     WHEN 'running' THEN o.lease_until_ms < {} ELSE FALSE END"
        f"  ORDER BY b.tenant_rank, b.available_at_ms, o.id LIMIT {{}}{lock})"
        " UPDATE outbox_job SET state = 'running', lease_until_ms = {}, lease_owner = {},"
        " attempts = outbox_job.attempts + 1, updated_at_ms = {}"
        f" FROM picked WHERE outbox_job.id = picked.id RETURNING {returning}",
        tenant_limit,
        max(limit * 16, CANDIDATES),
        now_ms,
        now_ms,
        limit,
        now_ms + lease_ms,
        owner,
        now_ms,
    )
    return sql
