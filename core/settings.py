"""assessgate's settings: one frozen tree, decoded once from environment variables.

:func:`load_settings` takes the environment as a mapping (never reads ``os.environ`` itself) and
raises :class:`core.errors.ConfigError` naming the variable at fault. Secrets that may be generated
for development (admin token, Fernet keys) are left empty here; ``api.bootstrap`` fills them in.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Final, Literal
from urllib.parse import unquote, urlsplit

import msgspec
from msgspec import Meta, Struct

from core.errors import ConfigError, FieldError
from core.outbound import OutboundPolicy
from core.result_bounds import ResultLimits

PREFIX: Final = "ASSESSGATE_"
DEFAULT_KOMBO_API_URL: Final = "https://api.kombo.dev/v1"
MIN_ADMIN_TOKEN_LENGTH: Final = 16

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
    #: Networks and URL prefixes a request to a tenant-supplied URL may reach beside the public internet.
    outbound_allow: tuple[str, ...] = ()
    #: Bounds on submitted results where Kombo's contract is silent (``ASSESSGATE_RESULT_*``).
    results: ResultLimits = ResultLimits()
    database: DatabaseSettings
    kombo: KomboSettings = KomboSettings()
    mail: MailSettings = MailSettings()

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
    outbound_allow: str = ""
    result_max_url_length: Annotated[int, Meta(ge=64, le=65_536)] = 2048
    result_score_min: float = 0.0
    result_score_max: Annotated[float, Meta(gt=0)] = 1_000_000.0
    result_max_attributes: Annotated[int, Meta(ge=1, le=10_000)] = 100
    result_max_text_length: Annotated[int, Meta(ge=16, le=1_000_000)] = 4000
    result_max_remote_fields_bytes: Annotated[int, Meta(ge=64, le=1_048_576)] = 16_384
    smtp_url: str = "log:"
    mail_from: str = "assessgate <no-reply@localhost>"


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
        if url and not _is_http_url(url):
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
    if env.env == "production":
        for name, value in (("ADMIN_TOKEN", env.admin_token), ("SECRET_KEYS", env.secret_keys)):
            if not value:
                raise ConfigError(PREFIX + name, "required when ASSESSGATE_ENV=production")
    if env.env == "production" and not env.kombo_api_key:
        raise ConfigError(
            PREFIX + "KOMBO_API_KEY", "required when ASSESSGATE_ENV=production (without it the local sandbox stands in)"
        )
    if env.admin_token and len(env.admin_token) < MIN_ADMIN_TOKEN_LENGTH:
        raise ConfigError(PREFIX + "ADMIN_TOKEN", f"must be at least {MIN_ADMIN_TOKEN_LENGTH} characters long")

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
    )


def _check_score_bounds(low: float, high: float) -> None:
    for name, value in (("RESULT_SCORE_MIN", low), ("RESULT_SCORE_MAX", high)):
        if not math.isfinite(value):
            raise ConfigError(PREFIX + name, "must be a finite number")
    if low >= high:
        raise ConfigError(PREFIX + "RESULT_SCORE_MIN", "must be below ASSESSGATE_RESULT_SCORE_MAX")


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


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def _variable_of(exc: msgspec.ValidationError) -> str:
    path = FieldError.of(exc).path
    if path.startswith("$."):
        return PREFIX + path.removeprefix("$.").split("[")[0].upper()
    return PREFIX + "*"


def _reason_of(exc: msgspec.ValidationError) -> str:
    return FieldError.of(exc).message
