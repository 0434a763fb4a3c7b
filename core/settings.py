"""assessgate's settings: one frozen tree, each field declared once and decoded from its environment variable.

A field an operator sets carries its variable in its annotation (``EnvVar("PORT")``, :mod:`core.settings_env`)
beside its type, bounds, default and comment; :func:`load_settings` is derived from those declarations. It
takes the environment as a mapping (never reads ``os.environ`` itself) and raises
:class:`core.errors.ConfigError` naming the variable at fault. Secrets that may be generated for development
(admin token, Fernet keys) are left empty here; ``api.bootstrap`` fills them in.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Final, Literal
from urllib.parse import unquote, urlsplit

from msgspec import Meta, Struct, structs

from core.errors import ConfigError
from core.outbound import OutboundPolicy, valid_url
from core.result_bounds import ResultLimits
from core.settings_env import (
    EnvGroup,
    EnvVar,
    comma_list,
    decode,
    read_environment,
    variable_at,
    variables_of,
)

DEFAULT_KOMBO_API_URL: Final = "https://api.kombo.dev/v1"
DEFAULT_DATA_DIR: Final = ".assessgate"
#: The vendor's display name when ``ASSESSGATE_VENDOR_NAME`` is unset: the software's, not a made-up company's.
DEFAULT_VENDOR_NAME: Final = "assessgate"
MIN_ADMIN_TOKEN_LENGTH: Final = 16
MIN_PRODUCTION_ADMIN_TOKEN_LENGTH: Final = 32
#: Length x the Shannon entropy of the token's own characters: `openssl rand -hex 32` gives ~250, 32 random hex
#: digits 90 to 125 (median 116), "correcthorsebattery..." style passphrases of 32 letters about 120.
MIN_ADMIN_TOKEN_ENTROPY_BITS: Final = 80

Environment = Literal["development", "production"]
LogFormat = Literal["json", "console"]
LogLevel = Literal["debug", "info", "warning", "error"]
EmbeddedWorker = Literal["auto", "on", "off"]
UnroutedOrders = Literal["hold", "reject"]
RejectBody = Literal["top_level_message", "error_envelope"]
AttachmentMode = Literal["signed_url", "base64"]


@dataclass(frozen=True, slots=True)
class SqliteUrl:
    path: str


@dataclass(frozen=True, slots=True)
class PostgresUrl:
    dsn: str
    database: str


DatabaseUrl = SqliteUrl | PostgresUrl


class DatabaseSettings(Struct, frozen=True, kw_only=True):
    #: Unset: ``sqlite:///<data_dir>/assessgate.db`` (:func:`load_settings`).
    url: Annotated[str, EnvVar("DATABASE_URL", parse=_database_url)]
    #: Seconds a SQLite connection waits for a lock (``timeout=`` of sqlite3).
    sqlite_busy_timeout_s: float = 30.0
    pool_min_size: int = 1
    #: PostgreSQL connections per process.
    pool_max_size: Annotated[int, Meta(ge=1, le=1000), EnvVar("DATABASE_POOL_MAX_SIZE")] = 10
    #: PostgreSQL plans each prepared statement once per connection (``plan_cache_mode = force_generic_plan``)
    #: instead of choosing at each execution. ``assessgate worker`` sets it (docs/outbox.md, "Fairness and limits").
    generic_plans: bool = False

    @property
    def parsed(self) -> DatabaseUrl:
        return parse_database_url(self.url)


class KomboSettings(Struct, frozen=True, kw_only=True):
    #: Kept without a trailing slash.
    api_url: Annotated[str, EnvVar("KOMBO_API_URL", parse=_api_url)] = DEFAULT_KOMBO_API_URL
    api_key: Annotated[str, EnvVar("KOMBO_API_KEY")] = ""
    #: Any of these may sign an inbound webhook (several while a secret is rotated).
    webhook_secrets: Annotated[tuple[str, ...], EnvVar("KOMBO_WEBHOOK_SECRETS", parse=comma_list)] = ()
    #: No Kombo API key was configured: the local sandbox stands in for Kombo (mounted at ``/sandbox``).
    sandbox: bool = False


class MailSettings(Struct, frozen=True, kw_only=True):
    """Where the adapters' emails go: ``smtp://user:password@host:port`` (``?starttls=1``), ``smtps://...``
    (implicit TLS) or ``log:`` (development: each message is logged, nothing is sent)."""

    url: Annotated[str, EnvVar("SMTP_URL", parse=_smtp_url)] = "log:"
    sender: Annotated[str, EnvVar("MAIL_FROM")] = "assessgate <no-reply@localhost>"

    @property
    def password(self) -> str:
        return unquote(urlsplit(self.url).password or "")


class LimitsSettings(Struct, frozen=True, kw_only=True):
    """Admission limits of the API under ``/v1`` (per ``serve`` process; docs/operations.md)."""

    #: Each credential's token bucket: this many requests per second, ``rate_burst`` at once.
    rate_per_s: Annotated[float, Meta(gt=0, le=100_000), EnvVar("RATE_LIMIT_PER_S")] = 10.0
    rate_burst: Annotated[int, Meta(ge=1, le=1_000_000), EnvVar("RATE_LIMIT_BURST")] = 20
    #: Requests of one tenant (or of the admin token) being served at once; more get 429.
    tenant_max_in_flight: Annotated[int, Meta(ge=1, le=10_000), EnvVar("TENANT_MAX_IN_FLIGHT")] = 4
    #: Failed authentications a client address may make at once, then this many per minute (then 429).
    auth_failures_burst: Annotated[int, Meta(ge=1, le=1_000_000), EnvVar("AUTH_FAILURES_BURST")] = 10
    auth_failures_per_minute: Annotated[float, Meta(gt=0, le=1_000_000), EnvVar("AUTH_FAILURES_PER_MINUTE")] = 6.0
    #: Arrays and objects in a JSON body may nest this deep; deeper is a 400 on every route.
    json_max_depth: Annotated[int, Meta(ge=2, le=512), EnvVar("JSON_MAX_DEPTH")] = 64


class ServerSettings(Struct, frozen=True, kw_only=True):
    """How ``assessgate serve`` treats connections (docs/operations.md: behind a reverse proxy)."""

    #: Seconds a client has to send a request's line and headers (from connecting, or from its previous response).
    header_timeout_s: Annotated[float, Meta(gt=0, le=3600), EnvVar("HEADER_TIMEOUT_S")] = 10.0
    #: Seconds a client has to send a request's whole body.
    body_timeout_s: Annotated[float, Meta(gt=0, le=3600), EnvVar("BODY_TIMEOUT_S")] = 30.0
    #: Seconds an idle keep-alive connection stays open.
    keep_alive_s: Annotated[int, Meta(ge=1, le=3600), EnvVar("KEEP_ALIVE_S")] = 5
    #: Connections (and requests) at once; beyond it requests are answered 503 at once.
    max_connections: Annotated[int, Meta(ge=1, le=1_000_000), EnvVar("MAX_CONNECTIONS")] = 1000
    #: Addresses whose X-Forwarded-For/-Proto are believed (the reverse proxy); ``*`` trusts any.
    forwarded_allow_ips: Annotated[str, EnvVar("FORWARDED_ALLOW_IPS")] = "127.0.0.1"


class Settings(Struct, frozen=True, kw_only=True):
    env: Annotated[Environment, EnvVar("ENV")] = "development"
    host: Annotated[str, EnvVar("HOST")] = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535), EnvVar("PORT")] = 8000
    #: The URL the outside world reaches us at; unset: ``http://<host>:<port>`` (:attr:`base_url`).
    public_url: Annotated[str, EnvVar("PUBLIC_URL", parse=_http_url)] = ""
    data_dir: Annotated[str, EnvVar("DATA_DIR")] = DEFAULT_DATA_DIR
    #: The vendor's name as candidates read it on the pages and in the emails (beside the tenant's name).
    vendor_name: Annotated[str, EnvVar("VENDOR_NAME")] = DEFAULT_VENDOR_NAME
    admin_token: Annotated[str, EnvVar("ADMIN_TOKEN", parse=_admin_token)] = ""
    #: Fernet keys, newest first: the first encrypts, all decrypt.
    secret_keys: Annotated[tuple[str, ...], EnvVar("SECRET_KEYS", parse=_fernet_keys)] = ()
    plugins_file: Annotated[str, EnvVar("PLUGINS_FILE")] = "plugins.toml"
    #: Adapters allowed to load (entry-point names); empty: every installed one.
    adapters: Annotated[tuple[str, ...], EnvVar("ADAPTERS", parse=comma_list)] = ()
    max_body_bytes: Annotated[int, Meta(ge=1024), EnvVar("MAX_BODY_BYTES")] = 1_048_576
    #: Largest result attachment ``POST .../uploads`` takes; the file is streamed to the database in chunks.
    max_upload_bytes: Annotated[int, Meta(ge=1024, le=1_073_741_824), EnvVar("MAX_UPLOAD_BYTES")] = 26_214_400
    log_level: Annotated[LogLevel, EnvVar("LOG_LEVEL")] = "info"
    log_format: Annotated[LogFormat, EnvVar("LOG_FORMAT")] = "json"
    #: Whether ``serve`` runs a worker in its own process: ``auto`` does on SQLite (the only safe way to
    #: share the file) and not on PostgreSQL (run ``assessgate worker`` processes); ``on``/``off`` force it.
    embedded_worker: Annotated[EmbeddedWorker, EnvVar("EMBEDDED_WORKER")] = "auto"
    worker_concurrency: Annotated[int, Meta(ge=1, le=256), EnvVar("WORKER_CONCURRENCY")] = 4
    #: Leased jobs per tenant across all workers, so one busy tenant cannot take every slot.
    worker_tenant_concurrency: Annotated[int, Meta(ge=1, le=10_000), EnvVar("WORKER_TENANT_CONCURRENCY")] = 8
    #: Most jobs of a batched kind (result write-backs) one of a worker's slots runs at once: one read, each
    #: job's Kombo call, and a commit for those that answered (1: a job a slot, as other kinds run).
    worker_batch_size: Annotated[int, Meta(ge=1, le=100), EnvVar("WORKER_BATCH_SIZE")] = 32
    #: Milliseconds a claim of write-backs waits, while results stream in, so that those arriving meanwhile join
    #: its batch (the first after a quiet spell is claimed at once), and a batch's first answers wait for the rest
    #: before their commit; 0: never waits (``jobs/worker.py``, ``jobs/batch_run.py``).
    worker_batch_linger_ms: Annotated[int, Meta(ge=0, le=1000), EnvVar("WORKER_BATCH_LINGER_MS")] = 20
    #: Seconds a worker holds a job before another may take it over (a killed worker's jobs rerun after this).
    worker_lease_s: Annotated[int, Meta(ge=5, le=3600), EnvVar("WORKER_LEASE_S")] = 60
    #: Port on ``host`` where ``assessgate worker`` serves ``/metrics`` and ``/health``; 0: none (several workers
    #: on one host each need their own).
    worker_metrics_port: Annotated[int, Meta(ge=0, le=65535), EnvVar("WORKER_METRICS_PORT")] = 0
    #: Days a finished job is kept before the hourly purge deletes it (dead jobs are kept).
    job_retention_days: Annotated[int, Meta(ge=1), EnvVar("JOB_RETENTION_DAYS")] = 7
    #: Days after an order is finished (completed, cancelled, rejected) until the candidate's name, email and
    #: phone are erased from it (remote ids, package and timeline stay).
    order_pii_retention_days: Annotated[int, Meta(ge=1, le=3650), EnvVar("ORDER_PII_RETENTION_DAYS")] = 180
    #: A catalog push that would delete more than this share of the live catalog needs confirm_deletions.
    catalog_max_deletion_share: Annotated[float, Meta(ge=0, le=1), EnvVar("CATALOG_MAX_DELETION_SHARE")] = 0.5
    #: An order for an integration no tenant holds: ``hold`` it (answered 200, processed once bound) or
    #: ``reject`` it (422, the recruiter is told the vendor account is not connected yet).
    unrouted_orders: Annotated[UnroutedOrders, EnvVar("UNROUTED_ORDERS")] = "hold"
    #: The shape of a 422 rejection body; Kombo's exact shape is not confirmed (contract §6.1).
    reject_body: Annotated[RejectBody, EnvVar("REJECT_BODY")] = "top_level_message"
    #: Seconds an adapter's ``decide`` may take before the order is accepted and handled asynchronously.
    decide_deadline_s: Annotated[float, Meta(gt=0, le=25), EnvVar("DECIDE_DEADLINE_S")] = 5.0
    #: How often every bound tenant's OPEN orders are compared with Kombo's, and how far back.
    reconcile_interval_s: Annotated[int, Meta(ge=10), EnvVar("RECONCILE_INTERVAL_S")] = 300
    reconcile_lookback_days: Annotated[int, Meta(ge=1, le=365), EnvVar("RECONCILE_LOOKBACK_DAYS")] = 30
    #: Uploaded attachments reach Kombo as a short-lived signed URL (``signed_url``) or inline (``base64``).
    attachments: Annotated[AttachmentMode, EnvVar("ATTACHMENTS")] = "signed_url"
    attachment_url_ttl_s: Annotated[int, Meta(ge=10, le=86_400), EnvVar("ATTACHMENT_URL_TTL_S")] = 900
    #: Days an uploaded attachment is kept; older ones are deleted once no result still to be written back names it.
    attachment_retention_days: Annotated[int, Meta(ge=1, le=3650), EnvVar("ATTACHMENT_RETENTION_DAYS")] = 30
    #: Days a Kombo webhook event and our answer are kept (a redelivery within them gets the same answer).
    webhook_event_retention_days: Annotated[int, Meta(ge=1, le=3650), EnvVar("WEBHOOK_EVENT_RETENTION_DAYS")] = 30
    #: Days an onboarding link works (``POST /v1/tenants/{id}/onboarding-link``); a new link revokes the previous.
    onboarding_link_ttl_days: Annotated[int, Meta(ge=1, le=365), EnvVar("ONBOARDING_LINK_TTL_DAYS")] = 7
    #: Networks and URL prefixes a request to a tenant-supplied URL may reach beside the public internet.
    outbound_allow: Annotated[tuple[str, ...], EnvVar("OUTBOUND_ALLOW", parse=_outbound_allow)] = ()
    #: Bounds on submitted results where Kombo's contract is silent: ``ASSESSGATE_RESULT_<FIELD>`` each
    #: (their types, bounds and defaults are declared on :class:`core.result_bounds.ResultLimits`).
    results: Annotated[ResultLimits, EnvGroup("RESULT_")] = ResultLimits()
    database: DatabaseSettings
    kombo: KomboSettings = KomboSettings()
    mail: MailSettings = MailSettings()
    limits: LimitsSettings = LimitsSettings()
    server: ServerSettings = ServerSettings()

    @property
    def base_url(self) -> str:
        """The URL the outside world reaches us at (``ASSESSGATE_PUBLIC_URL``, else host and port)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def outbound_policy(self) -> OutboundPolicy:
        """What requests to tenant-supplied URLs may reach: the public internet, the operator's allow-list, and
        this gateway's own signed file links (the in-process sandbox downloads attachments from them)."""
        return OutboundPolicy.parse(self.outbound_allow).with_prefix(f"{self.base_url}/files/")

    def secrets(self) -> tuple[str, ...]:
        """Every configured secret value, for the log and response redaction filters."""
        values = (
            self.admin_token,
            self.kombo.api_key,
            *self.kombo.webhook_secrets,
            *self.secret_keys,
            self.mail.password,
        )
        return tuple(v for v in values if v)


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Decode settings from ``ASSESSGATE_*`` variables; empty values count as unset."""
    values = read_environment(environ, VARIABLES)
    # The two derived fields: the database defaults to a file in the data folder, and the sandbox stands in
    # for Kombo when no API key is set.
    database = values.setdefault("database", {})
    if "url" not in database:
        data_dir = values.get("data_dir", DEFAULT_DATA_DIR)
        database["url"] = f"sqlite:///{data_dir.rstrip('/')}/assessgate.db"
    settings = decode(values, Settings, VARIABLES)
    settings = structs.replace(settings, kombo=structs.replace(settings.kombo, sandbox=not settings.kombo.api_key))
    _check_score_bounds(settings.results)
    if settings.env == "production":
        _check_production(settings)
    return settings


def _check_score_bounds(results: ResultLimits) -> None:
    low, high = _var("results", "score_min"), _var("results", "score_max")
    for name, value in ((low, results.score_min), (high, results.score_max)):
        if not math.isfinite(value):
            raise ConfigError(name, "must be a finite number")
    if results.score_min >= results.score_max:
        raise ConfigError(low, f"must be below {high}")


def _check_production(settings: Settings) -> None:
    """What production refuses: missing secrets, a guessable admin token, webhooks nobody can sign, the
    sandbox standing in for Kombo, and candidate mail that would be logged instead of sent."""
    required = f"required when {_var('env')}=production"
    if not settings.admin_token:
        raise ConfigError(_var("admin_token"), required)
    if not settings.secret_keys:  # also when the variable held only commas
        raise ConfigError(_var("secret_keys"), required)
    if not settings.kombo.api_key:
        raise ConfigError(_var("kombo", "api_key"), f"{required} (without it the local sandbox stands in)")
    if (weakness := admin_token_weakness(settings.admin_token)) is not None:
        raise ConfigError(
            _var("admin_token"), f"too weak for production: {weakness}; generate one with `openssl rand -hex 32`"
        )
    if not settings.kombo.webhook_secrets:
        raise ConfigError(_var("kombo", "webhook_secrets"), f"{required} (without it every Kombo webhook is refused)")
    if settings.mail.url == "log:":
        raise ConfigError(
            _var("mail", "url"),
            "log: is for development only (it would log candidates' addresses); "
            "set smtp://user:password@host:port or smtps://... in production",
        )


def admin_token_weakness(token: str) -> str | None:
    """Why ``token`` is too weak for production, or None. Estimates, not proofs: too short; a repeated unit
    ("password" four times); runs of neighbouring characters ("abcdef...", "aaaa..."); or too little entropy,
    estimated as length x the Shannon entropy of the token's own characters."""
    length = len(token)
    if length < MIN_PRODUCTION_ADMIN_TOKEN_LENGTH:
        return f"shorter than {MIN_PRODUCTION_ADMIN_TOKEN_LENGTH} characters"
    if any(token == (token[:period] * (length // period + 1))[:length] for period in range(1, length // 2 + 1)):
        return "it repeats a shorter string"
    neighbours = sum(abs(ord(a) - ord(b)) <= 1 for a, b in itertools.pairwise(token))
    if neighbours * 2 > length:
        return "it is mostly runs of the same or neighbouring characters"
    bits = length * max(0.0, -sum(n / length * math.log2(n / length) for n in Counter(token).values()))
    if bits < MIN_ADMIN_TOKEN_ENTROPY_BITS:
        return f"about {bits:.0f} bits of entropy, {MIN_ADMIN_TOKEN_ENTROPY_BITS} needed"
    return None


def parse_database_url(url: str) -> DatabaseUrl:
    """``sqlite:///relative.db``, ``sqlite:////absolute.db`` or ``postgresql://user@host:port/db``."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if not path or path.endswith("/"):
            raise ValueError(f"no database file in {url!r}; expected sqlite:///path/to/file.db")
        return SqliteUrl(path=unquote(path))
    parts = urlsplit(url)
    if parts.scheme in {"postgresql", "postgres"}:
        database = parts.path.lstrip("/")
        if not parts.hostname or not database:
            raise ValueError("expected postgresql://user@host:port/database")
        try:
            _ = parts.port
        except ValueError:
            raise ValueError("the port is not a number") from None
        return PostgresUrl(dsn=url, database=unquote(database))
    raise ValueError("expected sqlite:///file.db, sqlite:////absolute/file.db or postgresql://user@host:port/db")


def is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32  # noqa: PLR2004 - Fernet's key size
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False


# The parsers of single variables named in the declarations above: each returns the field's value or raises
# ValueError saying what is wrong (read_environment names the variable).


def _database_url(url: str) -> str:
    parse_database_url(url)
    return url


def _http_url(url: str) -> str:
    if not valid_url(url):
        raise ValueError(f"expected an http(s) URL, got {url!r}")
    return url


def _api_url(url: str) -> str:
    return _http_url(url).rstrip("/")


def _smtp_url(url: str) -> str:
    if url != "log:" and urlsplit(url).scheme not in {"smtp", "smtps"}:
        raise ValueError("expected smtp://user:password@host:port, smtps://... or log:")
    return url


def _admin_token(token: str) -> str:
    if len(token) < MIN_ADMIN_TOKEN_LENGTH:
        raise ValueError(f"must be at least {MIN_ADMIN_TOKEN_LENGTH} characters long")
    return token


def _fernet_keys(text: str) -> tuple[str, ...]:
    keys = comma_list(text)
    for position, key in enumerate(keys, start=1):
        if not is_fernet_key(key):
            raise ValueError(
                f"key #{position} is not a Fernet key (32 bytes, url-safe base64); "
                "generate one with `assessgate keys generate`"
            )
    return keys


def _outbound_allow(text: str) -> tuple[str, ...]:
    entries = comma_list(text)
    OutboundPolicy.parse(entries)  # its ValueError says which entry is wrong
    return entries


def _var(*path: str) -> str:
    """The variable that sets the field at ``path``, for checks that span fields."""
    return variable_at(VARIABLES, *path)


#: Every variable the settings read, walked from the declarations above. Computed last: the annotations name
#: the parsers, which are resolved when the walk evaluates them.
VARIABLES: Final = variables_of(Settings)
ENV_VARIABLES: Final = tuple(variable.name for variable in VARIABLES)
