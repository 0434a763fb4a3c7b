"""Settings decode from ASSESSGATE_* variables; a bad value names its variable."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ConfigError
from core.settings import ENV_VARIABLES, PostgresUrl, SqliteUrl, load_settings, parse_database_url

FERNET_KEY = "aW5zZWN1cmUtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2Q="


def test_defaults_are_a_local_sqlite_file_on_localhost() -> None:
    settings = load_settings({})
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.database.parsed == SqliteUrl(path=".assessgate/assessgate.db")
    assert settings.kombo.api_url == "https://api.kombo.dev/v1"
    assert settings.plugins_file == "plugins.toml"
    assert settings.base_url == "http://127.0.0.1:8000"


def test_documented_variable_names_exist() -> None:
    for name in (
        "ASSESSGATE_DATABASE_URL",
        "ASSESSGATE_HOST",
        "ASSESSGATE_PORT",
        "ASSESSGATE_PUBLIC_URL",
        "ASSESSGATE_ADMIN_TOKEN",
        "ASSESSGATE_KOMBO_API_URL",
        "ASSESSGATE_KOMBO_API_KEY",
        "ASSESSGATE_KOMBO_WEBHOOK_SECRETS",
        "ASSESSGATE_SECRET_KEYS",
        "ASSESSGATE_PLUGINS_FILE",
    ):
        assert name in ENV_VARIABLES


def test_lists_are_comma_separated_and_trimmed() -> None:
    settings = load_settings(
        {
            "ASSESSGATE_KOMBO_WEBHOOK_SECRETS": " new , old,,",
            "ASSESSGATE_SECRET_KEYS": f"{FERNET_KEY}, {FERNET_KEY}",
            "ASSESSGATE_PUBLIC_URL": "https://gate.example/",
        }
    )
    assert settings.kombo.webhook_secrets == ("new", "old")
    assert settings.secret_keys == (FERNET_KEY, FERNET_KEY)
    assert settings.base_url == "https://gate.example"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ASSESSGATE_PORT", "eighty"),
        ("ASSESSGATE_PORT", "70000"),
        ("ASSESSGATE_ENV", "staging"),
        ("ASSESSGATE_DATABASE_URL", "mysql://localhost/db"),
        ("ASSESSGATE_DATABASE_URL", "postgresql://localhost"),
        ("ASSESSGATE_DATABASE_URL", "sqlite:///"),
        ("ASSESSGATE_KOMBO_API_URL", "ftp://kombo"),
        ("ASSESSGATE_PUBLIC_URL", "gate.example"),
        ("ASSESSGATE_SECRET_KEYS", "not-a-key"),
        ("ASSESSGATE_ADMIN_TOKEN", "short"),
        ("ASSESSGATE_LOG_LEVEL", "verbose"),
        ("ASSESSGATE_MAX_BODY_BYTES", "10"),
    ],
)
def test_bad_values_fail_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({variable: value})
    assert caught.value.variable == variable
    assert str(caught.value).startswith(variable)


def test_production_requires_admin_token_secret_keys_and_a_kombo_key() -> None:
    complete = {
        "ASSESSGATE_ENV": "production",
        "ASSESSGATE_ADMIN_TOKEN": "9f3c1e7a5b2d8046c1fa93e7d25b0c4a",
        "ASSESSGATE_SECRET_KEYS": FERNET_KEY,
        "ASSESSGATE_KOMBO_API_KEY": "kombo-key",
        "ASSESSGATE_KOMBO_WEBHOOK_SECRETS": "whsec-production",
        "ASSESSGATE_SMTP_URL": "smtps://mailer:pw@mail.example:465",
    }
    for missing in ("ASSESSGATE_ADMIN_TOKEN", "ASSESSGATE_SECRET_KEYS", "ASSESSGATE_KOMBO_API_KEY"):
        with pytest.raises(ConfigError) as caught:
            load_settings({k: v for k, v in complete.items() if k != missing})
        assert caught.value.variable == missing
    assert load_settings(complete).kombo.sandbox is False


def test_no_kombo_key_means_sandbox_mode_in_development() -> None:
    assert load_settings({}).kombo.sandbox is True
    assert load_settings({"ASSESSGATE_KOMBO_API_KEY": "k"}).kombo.sandbox is False


def test_secrets_lists_every_secret_value_for_redaction() -> None:
    settings = load_settings(
        {
            "ASSESSGATE_ADMIN_TOKEN": "admin-token-0123456789",
            "ASSESSGATE_KOMBO_API_KEY": "kombo-key",
            "ASSESSGATE_KOMBO_WEBHOOK_SECRETS": "a-secret,b-secret",
            "ASSESSGATE_SECRET_KEYS": FERNET_KEY,
        }
    )
    assert set(settings.secrets()) == {"admin-token-0123456789", "kombo-key", "a-secret", "b-secret", FERNET_KEY}


def test_database_url_forms() -> None:
    assert parse_database_url("sqlite:///data/a.db") == SqliteUrl(path="data/a.db")
    assert parse_database_url("sqlite:////var/lib/a.db") == SqliteUrl(path="/var/lib/a.db")
    parsed = parse_database_url("postgresql://user@db.internal:5433/gate")
    assert isinstance(parsed, PostgresUrl)
    assert parsed.database == "gate"
    assert isinstance(parse_database_url("postgres://u:p@h/d"), PostgresUrl)


@given(path=st.from_regex(r"\A/?[a-z0-9_]{1,12}(/[a-z0-9_]{1,12}){0,3}\.db\Z"))
def test_sqlite_paths_round_trip(path: str) -> None:
    assert parse_database_url(f"sqlite:///{path}") == SqliteUrl(path=path)


@given(value=st.text(max_size=40))
def test_arbitrary_database_urls_raise_only_value_error(value: str) -> None:
    with contextlib.suppress(ValueError):
        parse_database_url(value)
