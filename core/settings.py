"""assessgate's settings: one frozen tree, decoded once from environment variables.

:func:`load_settings` takes the environment as a mapping (never reads ``os.environ`` itself) and
raises :class:`core.errors.ConfigError` naming the variable at fault. Secrets that may be generated
for development (admin token, Fernet keys) are left empty here; ``api.bootstrap`` fills them in.
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

import msgspec
from msgspec import Meta, Struct

from core.errors import ConfigError, FieldError
from core.outbound import OutboundPolicy, valid_url
from core.result_bounds import ResultLimits

PREFIX: Final = "ASSESSGATE_"
DEFAULT_KOMBO_API_URL: Final = "https://api.kombo.dev/v1"
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
    url: str
    #: Seconds a SQLite connection waits for a lock (``timeout=`` of sqlite3).
    sqlite_busy_timeout_s: float = 30.0
    pool_min_size: int = 1
    pool_max_size: int = 10

    @property
    def parsed(self) -> DatabaseUrl:
        return parse_database_url(self.url)


class KomboSettings(Struct, frozen=True, kw_only=True):
    api_url: str = DEFAULT_KOMBO_API_URL
    api_key: str = ""
    #: Any of these may sign an inbound webhook (several while a secret is rotated).
    webhook_secrets: tuple[str, ...] = ()
    #: No Kombo API key was configured: the local sandbox stands in for Kombo (mounted at ``/sandbox``).
    sandbox: bool = False


class MailSettings(Struct, frozen=True, kw_only=True):
    """Where the adapters' emails go: ``smtp://user:password@host:port`` (``?starttls=1``), ``smtps://...``
    (implicit TLS) or ``log:`` (development: each message is logged, nothing is sent)."""

    url: str = "log:"
    sender: str = "assessgate <no-reply@localhost>"

    @property
    def password(self) -> str:
        return unquote(urlsplit(self.url).password or "")


class LimitsSettings(Struct, frozen=True, kw_only=True):
    """Admission limits of the API under ``/v1`` (per ``serve`` process; docs/operations.md)."""

    #: Each credential's token bucket: this many requests per second, ``rate_burst`` at once.
    rate_per_s: float = 10.0
    rate_burst: int = 20
    #: Requests of one tenant (or of the admin token) being served at once; more get 429.
    tenant_max_in_flight: int = 4
    #: Failed authentications a client address may make at once, then this many per minute (then 429).
    auth_failures_burst: int = 10
    auth_failures_per_minute: float = 6.0
    #: Arrays and objects in a JSON body may nest this deep; deeper is a 400 on every route.
    json_max_depth: int = 64


class ServerSettings(Struct, frozen=True, kw_only=True):
    """How ``assessgate serve`` treats connections (docs/operations.md: behind a reverse proxy)."""

    #: Seconds a client has to send a request's line and headers (from connecting, or from its previous response).
    header_timeout_s: float = 10.0
    #: Seconds a client has to send a request's whole body.
    body_timeout_s: float = 30.0
    #: Seconds an idle keep-alive connection stays open.
    keep_alive_s: int = 5
    #: Connections (and requests) at once; beyond it requests are answered 503 at once.
    max_connections: int = 1000
    #: Addresses whose X-Forwarded-For/-Proto are believed (the reverse proxy); ``*`` trusts any.
    forwarded_allow_ips: str = "127.0.0.1"


class Settings(Struct, frozen=True, kw_only=True):
    env: Environment = "development"
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535)] = 8000
    public_url: str = ""
    data_dir: str = ".assessgate"
    admin_token: str = ""
    #: Fernet keys, newest first: the first encrypts, all decrypt.
    secret_keys: tuple[str, ...] = ()
    plugins_file: str = "plugins.toml"
    #: Adapters allowed to load (entry-point names); empty: every installed one.
    adapters: tuple[str, ...] = ()
    max_body_bytes: Annotated[int, Meta(ge=1024)] = 1_048_576
    log_level: LogLevel = "info"
    log_format: LogFormat = "json"
    #: Whether ``serve`` runs a worker in its own process: ``auto`` does on SQLite (the only safe way to
    #: share the file) and not on PostgreSQL (run ``assessgate worker`` processes); ``on``/``off`` force it.
    embedded_worker: EmbeddedWorker = "auto"
    worker_concurrency: Annotated[int, Meta(ge=1, le=256)] = 4
    #: Leased jobs per tenant across all workers, so one busy tenant cannot take every slot.
    worker_tenant_concurrency: Annotated[int, Meta(ge=1, le=10_000)] = 8
    #: Seconds a worker holds a job before another may take it over (a killed worker's jobs rerun after this).
    worker_lease_s: Annotated[int, Meta(ge=5, le=3600)] = 60
    #: Port on ``host`` where ``assessgate worker`` serves ``/metrics`` and ``/health``; 0: none (several workers
    #: on one host each need their own).
    worker_metrics_port: Annotated[int, Meta(ge=0, le=65535)] = 0
    #: Days a finished job is kept before the hourly purge deletes it (dead jobs are kept).
    job_retention_days: Annotated[int, Meta(ge=1)] = 7
    #: Days after an order is finished (completed, cancelled, rejected) until the candidate's name, email and
    #: phone are erased from it (remote ids, package and timeline stay).
    order_pii_retention_days: Annotated[int, Meta(ge=1, le=3650)] = 180
    #: A catalog push that would delete more than this share of the live catalog needs confirm_deletions.
    catalog_max_deletion_share: Annotated[float, Meta(ge=0, le=1)] = 0.5
    #: An order for an integration no tenant holds: ``hold`` it (answered 200, processed once bound) or
    #: ``reject`` it (422, the recruiter is told the vendor account is not connected yet).
    unrouted_orders: UnroutedOrders = "hold"
    #: The shape of a 422 rejection body; Kombo's exact shape is not confirmed (contract §6.1).
    reject_body: RejectBody = "top_level_message"
    #: Seconds an adapter's ``decide`` may take before the order is accepted and handled asynchronously.
    decide_deadline_s: Annotated[float, Meta(gt=0, le=25)] = 5.0
    #: How often every bound tenant's OPEN orders are compared with Kombo's, and how far back.
    reconcile_interval_s: Annotated[int, Meta(ge=10)] = 300
    reconcile_lookback_days: Annotated[int, Meta(ge=1, le=365)] = 30
    #: Uploaded attachments reach Kombo as a short-lived signed URL (``signed_url``) or inline (``base64``).
    attachments: AttachmentMode = "signed_url"
    attachment_url_ttl_s: Annotated[int, Meta(ge=10, le=86_400)] = 900
    #: Days an uploaded attachment is kept; older ones are deleted once no result still to be written back names it.
    attachment_retention_days: Annotated[int, Meta(ge=1, le=3650)] = 30
    #: Days a Kombo webhook event and our answer are kept (a redelivery within them gets the same answer).
    webhook_event_retention_days: Annotated[int, Meta(ge=1, le=3650)] = 30
    #: Networks and URL prefixes a request to a tenant-supplied URL may reach beside the public internet.
    outbound_allow: tuple[str, ...] = ()
    #: Bounds on submitted results where Kombo's contract is silent (``ASSESSGATE_RESULT_*``).
    results: ResultLimits = ResultLimits()
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


class _Env(Struct, frozen=True, kw_only=True, rename="upper"):
    """The flat view of the variables, one field per ``ASSESSGATE_<NAME>``."""

    env: Environment = "development"
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535)] = 8000
    public_url: str = ""
    data_dir: str = ".assessgate"
    database_url: str = ""
    database_pool_max_size: Annotated[int, Meta(ge=1, le=1000)] = 10
    admin_token: str = ""
    kombo_api_url: str = DEFAULT_KOMBO_API_URL
    kombo_api_key: str = ""
    kombo_webhook_secrets: str = ""
    secret_keys: str = ""
    plugins_file: str = "plugins.toml"
    adapters: str = ""
    max_body_bytes: Annotated[int, Meta(ge=1024)] = 1_048_576
    log_level: LogLevel = "info"
    log_format: LogFormat = "json"
    embedded_worker: EmbeddedWorker = "auto"
    worker_concurrency: Annotated[int, Meta(ge=1, le=256)] = 4
    worker_tenant_concurrency: Annotated[int, Meta(ge=1, le=10_000)] = 8
    worker_lease_s: Annotated[int, Meta(ge=5, le=3600)] = 60
    worker_metrics_port: Annotated[int, Meta(ge=0, le=65535)] = 0
    job_retention_days: Annotated[int, Meta(ge=1)] = 7
    order_pii_retention_days: Annotated[int, Meta(ge=1, le=3650)] = 180
    catalog_max_deletion_share: Annotated[float, Meta(ge=0, le=1)] = 0.5
    unrouted_orders: UnroutedOrders = "hold"
    reject_body: RejectBody = "top_level_message"
    decide_deadline_s: Annotated[float, Meta(gt=0, le=25)] = 5.0
    reconcile_interval_s: Annotated[int, Meta(ge=10)] = 300
    reconcile_lookback_days: Annotated[int, Meta(ge=1, le=365)] = 30
    attachments: AttachmentMode = "signed_url"
    attachment_url_ttl_s: Annotated[int, Meta(ge=10, le=86_400)] = 900
    attachment_retention_days: Annotated[int, Meta(ge=1, le=3650)] = 30
    webhook_event_retention_days: Annotated[int, Meta(ge=1, le=3650)] = 30
    outbound_allow: str = ""
    result_max_url_length: Annotated[int, Meta(ge=64, le=65_536)] = 2048
    result_score_min: float = 0.0
    result_score_max: Annotated[float, Meta(gt=0)] = 1_000_000.0
    result_max_attributes: Annotated[int, Meta(ge=1, le=10_000)] = 100
    result_max_text_length: Annotated[int, Meta(ge=16, le=1_000_000)] = 4000
    result_max_remote_fields_bytes: Annotated[int, Meta(ge=64, le=1_048_576)] = 16_384
    smtp_url: str = "log:"
    mail_from: str = "assessgate <no-reply@localhost>"
    rate_limit_per_s: Annotated[float, Meta(gt=0, le=100_000)] = 10.0
    rate_limit_burst: Annotated[int, Meta(ge=1, le=1_000_000)] = 20
    tenant_max_in_flight: Annotated[int, Meta(ge=1, le=10_000)] = 4
    auth_failures_burst: Annotated[int, Meta(ge=1, le=1_000_000)] = 10
    auth_failures_per_minute: Annotated[float, Meta(gt=0, le=1_000_000)] = 6.0
    json_max_depth: Annotated[int, Meta(ge=2, le=512)] = 64
    header_timeout_s: Annotated[float, Meta(gt=0, le=3600)] = 10.0
    body_timeout_s: Annotated[float, Meta(gt=0, le=3600)] = 30.0
    keep_alive_s: Annotated[int, Meta(ge=1, le=3600)] = 5
    max_connections: Annotated[int, Meta(ge=1, le=1_000_000)] = 1000
    forwarded_allow_ips: str = "127.0.0.1"


ENV_VARIABLES: Final = tuple(PREFIX + name.upper() for name in _Env.__struct_fields__)


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Decode settings from ``ASSESSGATE_*`` variables; empty values count as unset."""
    values = {k[len(PREFIX) :]: v for k, v in environ.items() if k.startswith(PREFIX) and v != ""}
    try:
        env = msgspec.convert(values, _Env, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(_variable_of(exc), _reason_of(exc)) from None
    _check_score_bounds(env.result_score_min, env.result_score_max)

    database_url = env.database_url or f"sqlite:///{env.data_dir.rstrip('/')}/assessgate.db"
    try:
        parse_database_url(database_url)
    except ValueError as exc:
        raise ConfigError(PREFIX + "DATABASE_URL", str(exc)) from None
    for name, url in (("KOMBO_API_URL", env.kombo_api_url), ("PUBLIC_URL", env.public_url)):
        if url and not valid_url(url):
            raise ConfigError(PREFIX + name, f"expected an http(s) URL, got {url!r}")
    if env.smtp_url != "log:" and urlsplit(env.smtp_url).scheme not in {"smtp", "smtps"}:
        raise ConfigError(PREFIX + "SMTP_URL", "expected smtp://user:password@host:port, smtps://... or log:")
    secret_keys = _split(env.secret_keys)
    for position, key in enumerate(secret_keys, start=1):
        if not is_fernet_key(key):
            raise ConfigError(
                PREFIX + "SECRET_KEYS",
                f"key #{position} is not a Fernet key (32 bytes, url-safe base64); "
                "generate one with `assessgate keys generate`",
            )
    if env.admin_token and len(env.admin_token) < MIN_ADMIN_TOKEN_LENGTH:
        raise ConfigError(PREFIX + "ADMIN_TOKEN", f"must be at least {MIN_ADMIN_TOKEN_LENGTH} characters long")
    if env.env == "production":
        _check_production(env)

    return Settings(
        env=env.env,
        host=env.host,
        port=env.port,
        public_url=env.public_url,
        data_dir=env.data_dir,
        admin_token=env.admin_token,
        secret_keys=secret_keys,
        plugins_file=env.plugins_file,
        adapters=_split(env.adapters),
        max_body_bytes=env.max_body_bytes,
        log_level=env.log_level,
        log_format=env.log_format,
        embedded_worker=env.embedded_worker,
        worker_concurrency=env.worker_concurrency,
        worker_tenant_concurrency=env.worker_tenant_concurrency,
        worker_lease_s=env.worker_lease_s,
        worker_metrics_port=env.worker_metrics_port,
        job_retention_days=env.job_retention_days,
        order_pii_retention_days=env.order_pii_retention_days,
        catalog_max_deletion_share=env.catalog_max_deletion_share,
        unrouted_orders=env.unrouted_orders,
        reject_body=env.reject_body,
        decide_deadline_s=env.decide_deadline_s,
        reconcile_interval_s=env.reconcile_interval_s,
        reconcile_lookback_days=env.reconcile_lookback_days,
        attachments=env.attachments,
        attachment_url_ttl_s=env.attachment_url_ttl_s,
        attachment_retention_days=env.attachment_retention_days,
        webhook_event_retention_days=env.webhook_event_retention_days,
        outbound_allow=_outbound_allow(env.outbound_allow),
        results=ResultLimits(
            max_url_length=env.result_max_url_length,
            score_min=env.result_score_min,
            score_max=env.result_score_max,
            max_attributes=env.result_max_attributes,
            max_text_length=env.result_max_text_length,
            max_remote_fields_bytes=env.result_max_remote_fields_bytes,
        ),
        database=DatabaseSettings(url=database_url, pool_max_size=env.database_pool_max_size),
        kombo=KomboSettings(
            api_url=env.kombo_api_url.rstrip("/"),
            api_key=env.kombo_api_key,
            webhook_secrets=_split(env.kombo_webhook_secrets),
            sandbox=not env.kombo_api_key,
        ),
        mail=MailSettings(url=env.smtp_url, sender=env.mail_from),
        limits=LimitsSettings(
            rate_per_s=env.rate_limit_per_s,
            rate_burst=env.rate_limit_burst,
            tenant_max_in_flight=env.tenant_max_in_flight,
            auth_failures_burst=env.auth_failures_burst,
            auth_failures_per_minute=env.auth_failures_per_minute,
            json_max_depth=env.json_max_depth,
        ),
        server=ServerSettings(
            header_timeout_s=env.header_timeout_s,
            body_timeout_s=env.body_timeout_s,
            keep_alive_s=env.keep_alive_s,
            max_connections=env.max_connections,
            forwarded_allow_ips=env.forwarded_allow_ips,
        ),
    )


def _check_score_bounds(low: float, high: float) -> None:
    for name, value in (("RESULT_SCORE_MIN", low), ("RESULT_SCORE_MAX", high)):
        if not math.isfinite(value):
            raise ConfigError(PREFIX + name, "must be a finite number")
    if low >= high:
        raise ConfigError(PREFIX + "RESULT_SCORE_MIN", "must be below ASSESSGATE_RESULT_SCORE_MAX")


def _check_production(env: _Env) -> None:
    """What production refuses: missing secrets, a guessable admin token, webhooks nobody can sign, the
    sandbox standing in for Kombo, and candidate mail that would be logged instead of sent."""
    for name, value in (("ADMIN_TOKEN", env.admin_token), ("SECRET_KEYS", env.secret_keys)):
        if not value:
            raise ConfigError(PREFIX + name, "required when ASSESSGATE_ENV=production")
    if not env.kombo_api_key:
        raise ConfigError(
            PREFIX + "KOMBO_API_KEY", "required when ASSESSGATE_ENV=production (without it the local sandbox stands in)"
        )
    if (weakness := admin_token_weakness(env.admin_token)) is not None:
        raise ConfigError(
            PREFIX + "ADMIN_TOKEN", f"too weak for production: {weakness}; generate one with `openssl rand -hex 32`"
        )
    if not _split(env.kombo_webhook_secrets):
        raise ConfigError(
            PREFIX + "KOMBO_WEBHOOK_SECRETS",
            "required when ASSESSGATE_ENV=production (without it every Kombo webhook is refused)",
        )
    if env.smtp_url == "log:":
        raise ConfigError(
            PREFIX + "SMTP_URL",
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


def _outbound_allow(value: str) -> tuple[str, ...]:
    entries = _split(value)
    try:
        OutboundPolicy.parse(entries)
    except ValueError as exc:
        raise ConfigError(PREFIX + "OUTBOUND_ALLOW", str(exc)) from None
    return entries


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _variable_of(exc: msgspec.ValidationError) -> str:
    path = FieldError.of(exc).path
    if path.startswith("$."):
        return PREFIX + path.removeprefix("$.").split("[")[0].upper()
    return PREFIX + "*"


def _reason_of(exc: msgspec.ValidationError) -> str:
    return FieldError.of(exc).message
