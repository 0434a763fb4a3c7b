"""The job engine: the transactional outbox, its worker, job kinds and the retry policy.

Every side effect (a push to Kombo, a write-back, an adapter's step) is a job: enqueued in the same
transaction as the change that calls for it, claimed with a lease, retried with backoff, parked while an
integration is broken, dead-lettered when it cannot succeed, and replayable by an operator (docs/outbox.md).
"""
