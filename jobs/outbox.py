"""The transactional outbox: enqueue inside the caller's transaction, claim with leases, finish with fencing.

The claim is one statement on both engines (stack-notes §2.3): a MATERIALIZED CTE picks the ids and an
``UPDATE ... FROM`` leases them. The plain ``UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE
SKIP LOCKED)`` form was seen to update more than n rows on PostgreSQL 15, hence the CTE. PostgreSQL adds
``FOR UPDATE SKIP LOCKED`` so concurrent workers take disjoint rows; SQLite relies on the process-wide
writer lock of ``Database.tx``. Each claim gets a fresh ``lease_owner`` token, and every later change
checks it: a worker whose lease expired (and whose job someone else re-claimed) changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

import msgspec

from jobs.claim_sql import claim_statement
from jobs.lifecycle import DEFAULT_MAX_ATTEMPTS, Job, JobState
from jobs.retry_policy import Failure
from jobs.trace_context import current_trace_parent, payload_with_trace
from storage.database import Database, Write, marks

_COLUMNS: Final = (
    "id, tenant_id, kind, payload, dedupe_key, state, attempts, max_attempts, available_at_ms, "
    "lease_until_ms, lease_owner, last_error, created_at_ms, updated_at_ms"
)
_QUALIFIED: Final = ", ".join(f"outbox_job.{c.strip()}" for c in _COLUMNS.split(","))
MAX_ERROR_LENGTH: Final = 4000
#: PostgreSQL channel a committed enqueue notifies, so idle workers start at once instead of at the next poll.
NOTIFY_CHANNEL: Final = "assessgate_outbox"
#: A job of the kind and tenant that was due when it was enqueued, never run and still queued: its enqueue
#: notified the workers (or found such a job itself), and the worker that claims it claims again when its work
#: ends, so a job enqueued behind it is found then without a notification of its own (the tenant's share holds
#: both back alike). Under load this spares PostgreSQL and every worker a wake-up per job; what it costs is in
#: docs/outbox.md "What wakes a worker". Index: migration 0019.
_ANNOUNCED_WAITS: Final = (
    "EXISTS (SELECT 1 FROM outbox_job announced WHERE announced.kind = {}"
    " AND announced.tenant_id IS NOT DISTINCT FROM {} AND announced.state = 'queued'"
    " AND announced.attempts = 0 AND announced.available_at_ms = announced.created_at_ms)"
)
_NOTIFY_UNLESS_ANNOUNCED: Final = (
    f", CASE WHEN NOT {_ANNOUNCED_WAITS} THEN pg_notify({{}}, {{}}) END IS NULL AS notified"
)


def _job(row: dict[str, Any]) -> Job:
    values = dict(row)
    for key in ("id", "tenant_id"):
        if values[key] is not None:
            values[key] = str(values[key])
    return msgspec.convert(values, Job)


class NewJob(msgspec.Struct, frozen=True, kw_only=True):
    """A job to enqueue: what :meth:`Outbox.enqueue` takes, held for :meth:`Outbox.add` or a caller's statement."""

    kind: str
    payload: msgspec.Struct
    now_ms: int
    tenant_id: uuid.UUID | None = None
    dedupe_key: str | None = None
    run_at_ms: int | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    trace_parent: str | None = None


class Outbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def enqueue(
        self,
        kind: str,
        payload: msgspec.Struct,
        *,
        now_ms: int,
        tenant_id: uuid.UUID | None = None,
        dedupe_key: str | None = None,
        run_at_ms: int | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        trace_parent: str | None = None,
    ) -> str | None:
        """Add a job in the current transaction; returns its id, or None when ``dedupe_key`` already exists.

        The job continues ``trace_parent`` (a W3C ``traceparent``), by default the trace current here."""
        return await self.add(
            NewJob(
                kind=kind,
                payload=payload,
                now_ms=now_ms,
                tenant_id=tenant_id,
                dedupe_key=dedupe_key,
                run_at_ms=run_at_ms,
                max_attempts=max_attempts,
                trace_parent=trace_parent,
            )
        )

    async def add(self, job: NewJob, *, after: Sequence[Write] = ()) -> str | None:
        """:meth:`enqueue` for a job described beforehand; ``after``: the caller's writes, made first in the same
        transaction (on SQLite with the job's insert in one hop to the writer: ``Database.fetch_each``)."""
        sql, args = self.insert_statement(job)
        if after:
            *_, rows = await self.db.fetch_each([*after, (sql, args)])
        else:
            rows = await self.db.write(sql, *args)
        if rows and self.db.is_sqlite:  # delivered when (and only if) the surrounding transaction commits
            await self.db.notify(NOTIFY_CHANNEL, job.kind)
        return str(rows[0]["id"]) if rows else None

    def insert_statement(self, job: NewJob, *, for_each_row_of: str | None = None) -> tuple[str, list[Any]]:
        """The INSERT of :meth:`enqueue` and its arguments. ``for_each_row_of`` names a CTE of the caller's
        statement: the job is inserted only if that CTE returned a row (a statement that stores a row and its
        job at once, one round trip on PostgreSQL; only PostgreSQL has data-modifying CTEs)."""
        encoded = payload_with_trace(msgspec.json.encode(job.payload), job.trace_parent or current_trace_parent())
        values = "{}, {}, {}, {}, {}, 'queued', 0, {}, {}, NULL, NULL, NULL, {}, {}"
        rows = f"VALUES ({values})" if for_each_row_of is None else f"SELECT {values} FROM {for_each_row_of}"
        # On PostgreSQL the NOTIFY rides on the insert (one round trip, not two); it is sent, like a separate
        # pg_notify, only for a row actually inserted and only when the transaction commits; and not when an
        # announced job of the kind still waits (_ANNOUNCED_WAITS): the workers are awake for that one already.
        notify = (
            ([], "")
            if self.db.is_sqlite
            else ([job.kind, job.tenant_id, NOTIFY_CHANNEL, job.kind], _NOTIFY_UNLESS_ANNOUNCED)
        )
        sql = f"INSERT INTO outbox_job ({_COLUMNS}) {rows} ON CONFLICT (dedupe_key) DO NOTHING RETURNING id{notify[1]}"
        args = [uuid.uuid4(), job.tenant_id, job.kind, encoded.decode(), job.dedupe_key, job.max_attempts]
        due = job.run_at_ms if job.run_at_ms is not None else job.now_ms
        return sql, [*args, due, job.now_ms, job.now_ms, *notify[0]]

    async def claim(
        self,
        *,
        worker: str,
        limit: int,
        lease_ms: int,
        now_ms: int,
        tenant_limit: int = 1_000_000,
        kind_limits: Mapping[str, int] | None = None,
        kinds: Sequence[str] | None = None,
    ) -> list[Job]:
        """Lease up to ``limit`` due jobs (queued and due, or running with an expired lease).

        Fairness: due jobs are ranked within their tenant and taken rank by rank (every tenant's oldest
        job, then every tenant's second ...), so one tenant's backlog cannot starve the others. Limits:
        a tenant never has more than ``tenant_limit`` leased jobs (jobs of no tenant, such as periodic
        housekeeping, are not limited this way), a kind never more than its entry in
        ``kind_limits``, counted across every worker. On PostgreSQL the limits are soft: claims running
        at the same instant each see the other's rows as not yet leased, so a limit can be exceeded by
        at most the number of simultaneous claimers. ``kinds`` restricts the claim to the kinds the
        worker can run, so during a rolling deploy an old worker leaves a new kind's jobs alone.
        """
        if kinds is not None and not kinds:
            return []
        statement = claim_statement(
            sqlite=self.db.is_sqlite,
            owner=f"{worker}:{uuid.uuid4().hex[:12]}",
            limit=limit,
            lease_ms=lease_ms,
            now_ms=now_ms,
            tenant_limit=tenant_limit,
            kind_limits=dict(kind_limits or {}),
            kinds=kinds,
            returning=_QUALIFIED,
        )
        rows = await self.db.write(statement.sql, *statement.args)
        return sorted((_job(row) for row in rows), key=lambda job: (job.available_at_ms, job.id))

    async def complete(self, job: Job, *, now_ms: int) -> bool:
        """Mark done; False when the lease was lost meanwhile (the fencing check)."""
        return await self._finish(job, JobState.DONE, now_ms=now_ms, available_at_ms=job.available_at_ms, error=None)

    async def complete_with(self, jobs: Sequence[Job], writes: Sequence[Write], *, now_ms: int) -> set[str]:
        """Make ``writes`` (data-modifying statements: what the jobs did) and mark the jobs done, atomically;
        returns the ids whose leases held. On PostgreSQL one statement (each write a CTE beside the completion,
        one statement per lease owner: a batch comes from one claim), one round trip; on SQLite one transaction.
        No two writes may update one row, nor touch the jobs' rows: in one PostgreSQL statement only one of two
        updates of a row takes effect, silently. The sub-statements' order, and so their locks', is PostgreSQL's
        to choose: a deadlock with another transaction fails the statement, and the batch retries job by job."""
        owners: dict[str | None, list[uuid.UUID]] = {}
        for job in jobs:
            owners.setdefault(job.lease_owner, []).append(uuid.UUID(job.id))
        completions = [
            (
                "UPDATE outbox_job SET state = 'done', lease_until_ms = NULL, last_error = NULL, updated_at_ms = {}"
                f" WHERE lease_owner = {{}} AND state = 'running' AND id IN ({marks(ids)}) RETURNING id",
                [now_ms, owner, *sorted(ids)],
            )
            for owner, ids in owners.items()
        ]
        if self.db.is_sqlite:
            results = await self.db.fetch_each([*writes, *completions])
            return {str(row["id"]) for rows in results[len(writes) :] for row in rows}
        parts = [f"w{n} AS ({sql})" for n, (sql, _) in enumerate(writes)]
        parts += [f"d{n} AS ({sql})" for n, (sql, _) in enumerate(completions)]
        done = " UNION ALL ".join(f"SELECT id FROM d{n}" for n in range(len(completions))) or "SELECT NULL AS id"
        args = [arg for _, part in [*writes, *completions] for arg in part]
        rows = await self.db.write(f"WITH {', '.join(parts)} {done}", *args) if parts else []
        return {str(row["id"]) for row in rows if row["id"] is not None}

    async def fail(self, job: Job, failure: Failure, *, error: str, now_ms: int) -> bool:
        return await self._finish(
            job, failure.state, now_ms=now_ms, available_at_ms=failure.available_at_ms, error=error
        )

    async def park(self, job: Job, *, reason: str, now_ms: int) -> bool:
        """Wait for a condition. The attempt is given back: waiting is not failing, so a job parked and
        released many times (an integration that flaps) never runs out of attempts for it."""
        return await self._finish(
            job, JobState.PARKED, now_ms=now_ms, available_at_ms=now_ms, error=reason, give_back_attempt=True
        )

    async def release_lease(self, job: Job, *, now_ms: int) -> bool:
        """Give an unfinished job back (graceful shutdown) without counting the attempt; the other workers are
        told (on PostgreSQL it may be 'announced' again: attempts 0, due since its enqueue)."""
        notify = ([], "") if self.db.is_sqlite else ([NOTIFY_CHANNEL], ", pg_notify({}, kind) IS NULL AS notified")
        rows = await self.db.write(
            "UPDATE outbox_job SET state = 'queued', lease_until_ms = NULL, lease_owner = NULL,"
            " attempts = attempts - 1, updated_at_ms = {} WHERE id = {} AND lease_owner = {} AND state = 'running'"
            f" RETURNING id{notify[1]}",
            now_ms,
            uuid.UUID(job.id),
            job.lease_owner,
            *notify[0],
        )
        return bool(rows)

    async def release_parked(self, *, tenant_id: uuid.UUID, now_ms: int, kind: str | None = None) -> int:
        """Queue a tenant's parked jobs again (e.g. its integration became ACTIVE); returns how many."""
        kind_clause = "" if kind is None else " AND kind = {}"
        args: list[Any] = [now_ms, now_ms, tenant_id] + ([kind] if kind is not None else [])
        rows = await self.db.write(
            "UPDATE outbox_job SET state = 'queued', available_at_ms = {}, updated_at_ms = {}"
            f" WHERE tenant_id = {{}} AND state = 'parked'{kind_clause} RETURNING id",
            *args,
        )
        return len(rows)

    async def purge_done(self, *, before_ms: int) -> int:
        """Delete finished jobs last touched before ``before_ms``; dead jobs stay for operators."""
        rows = await self.db.write(
            "DELETE FROM outbox_job WHERE state = 'done' AND updated_at_ms < {} RETURNING id", before_ms
        )
        return len(rows)

    async def list_jobs(
        self,
        *,
        state: JobState | None = None,
        tenant_id: uuid.UUID | None = None,
        kind: str | None = None,
        after: tuple[int, str] | None = None,
        limit: int = 100,
    ) -> list[Job]:
        """Jobs newest first, filtered; ``after`` is the (created_at_ms, id) of the last row already seen."""
        clauses, args = self._filters(state=state, tenant_id=tenant_id, kind=kind)
        if after is not None:
            clauses.append("(created_at_ms < {} OR (created_at_ms = {} AND id < {}))")
            args += [after[0], after[0], uuid.UUID(after[1])]
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self.db.fetch(
            f"SELECT {_COLUMNS} FROM outbox_job{where} ORDER BY created_at_ms DESC, id DESC LIMIT {{}}", *args, limit
        )
        return [_job(row) for row in rows]

    async def operator_retry(self, job_id: str, *, now_ms: int) -> Job | None:
        """Queue a dead or parked job again, now, with a fresh attempt budget; None if it was not in those states."""
        return await self._operator_update(
            job_id,
            "state = 'queued', attempts = 0, available_at_ms = {}, lease_owner = NULL, updated_at_ms = {}",
            [now_ms, now_ms],
            (JobState.DEAD, JobState.PARKED),
        )

    async def operator_discard(self, job_id: str, *, now_ms: int) -> Job | None:
        """Give up on a queued, parked or dead job (it stays visible as dead); None if it runs or is done."""
        return await self._operator_update(
            job_id,
            "state = 'dead', last_error = {}, lease_owner = NULL, updated_at_ms = {}",
            ["discarded by an operator", now_ms],
            (JobState.QUEUED, JobState.PARKED, JobState.DEAD),
        )

    async def ids_matching(self, *, state: JobState | None, tenant_id: uuid.UUID | None, kind: str | None) -> list[str]:
        clauses, args = self._filters(state=state, tenant_id=tenant_id, kind=kind)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self.db.fetch(f"SELECT id FROM outbox_job{where} ORDER BY created_at_ms", *args)
        return [str(row["id"]) for row in rows]

    async def stats(self, *, now_ms: int) -> tuple[list[dict[str, Any]], int | None]:
        """Counts and attempts by (state, kind), and the age in ms of the oldest due queued job."""
        counts = await self.db.fetch(
            "SELECT state, kind, COUNT(*) AS n, SUM(attempts) AS attempts FROM outbox_job GROUP BY state, kind"
        )
        oldest = await self.db.fetch(
            "SELECT MIN(available_at_ms) AS t FROM outbox_job WHERE state = 'queued' AND available_at_ms <= {}", now_ms
        )
        first = oldest[0]["t"] if oldest else None
        return counts, (None if first is None else now_ms - int(first))

    async def parked_by_tenant(self) -> list[dict[str, Any]]:
        """How many jobs each tenant has parked (tenants with none are absent): one tenant's broken integration."""
        return await self.db.fetch(
            "SELECT tenant_id, COUNT(*) AS n FROM outbox_job WHERE state = 'parked' GROUP BY tenant_id"
        )

    @staticmethod
    def _filters(
        *, state: JobState | None, tenant_id: uuid.UUID | None, kind: str | None
    ) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        for column, value in (
            ("state", None if state is None else state.value),
            ("tenant_id", tenant_id),
            ("kind", kind),
        ):
            if value is not None:
                clauses.append(f"{column} = {{}}")
                args.append(value)
        return clauses, args

    async def _operator_update(
        self, job_id: str, assignments: str, args: list[Any], allowed: tuple[JobState, ...]
    ) -> Job | None:
        states = ", ".join(f"'{s.value}'" for s in allowed)
        rows = await self.db.write(
            f"UPDATE outbox_job SET {assignments} WHERE id = {{}} AND state IN ({states}) RETURNING {_COLUMNS}",
            *args,
            uuid.UUID(job_id),
        )
        return _job(rows[0]) if rows else None

    async def get(self, job_id: str) -> Job | None:
        rows = await self.db.fetch(f"SELECT {_COLUMNS} FROM outbox_job WHERE id = {{}}", uuid.UUID(job_id))
        return _job(rows[0]) if rows else None

    async def by_dedupe_key(self, dedupe_key: str) -> Job | None:
        rows = await self.db.fetch(f"SELECT {_COLUMNS} FROM outbox_job WHERE dedupe_key = {{}}", dedupe_key)
        return _job(rows[0]) if rows else None

    async def count_by_state(self) -> dict[str, int]:
        rows = await self.db.fetch("SELECT state, COUNT(*) AS n FROM outbox_job GROUP BY state")
        return {row["state"]: int(row["n"]) for row in rows}

    async def _finish(
        self,
        job: Job,
        state: JobState,
        *,
        now_ms: int,
        available_at_ms: int,
        error: str | None,
        give_back_attempt: bool = False,
    ) -> bool:
        rows = await self.db.write(
            "UPDATE outbox_job SET state = {}, available_at_ms = {}, lease_until_ms = NULL, last_error = {},"
            " attempts = attempts - {}, updated_at_ms = {}"
            " WHERE id = {} AND lease_owner = {} AND state = 'running' RETURNING id",
            state.value,
            available_at_ms,
            None if error is None else error[:MAX_ERROR_LENGTH],
            1 if give_back_attempt else 0,
            now_ms,
            uuid.UUID(job.id),
            job.lease_owner,
        )
        return bool(rows)
