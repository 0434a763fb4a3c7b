"""The variables are walked from the settings' declarations: each lands in its field, nested or not, and a bad
value names its own variable wherever its field sits in the tree."""

from __future__ import annotations

from functools import reduce

import pytest

from core.errors import ConfigError
from core.settings import VARIABLES, load_settings
from core.settings_env import Variable

DEFAULTS = load_settings({})
NUMERIC = [v for v in VARIABLES if isinstance(reduce(getattr, v.path, DEFAULTS), int | float)]
PRODUCTION = {
    "ASSESSGATE_ENV": "production",
    "ASSESSGATE_ADMIN_TOKEN": "9f3c1e7a5b2d8046c1fa93e7d25b0c4a",
    "ASSESSGATE_SECRET_KEYS": "aW5zZWN1cmUtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2Q=",
    "ASSESSGATE_KOMBO_API_KEY": "kombo-key",
    "ASSESSGATE_KOMBO_WEBHOOK_SECRETS": "whsec-production",
    "ASSESSGATE_SMTP_URL": "smtps://mailer:pw@mail.example:465",
}


def test_nested_fields_are_read_from_their_own_variables() -> None:
    settings = load_settings(
        {
            "ASSESSGATE_RATE_LIMIT_PER_S": "2.5",
            "ASSESSGATE_KEEP_ALIVE_S": "7",
            "ASSESSGATE_MAIL_FROM": "Vendor <hello@vendor.example>",
            "ASSESSGATE_DATABASE_POOL_MAX_SIZE": "3",
            "ASSESSGATE_RESULT_MAX_TEXT_LENGTH": "99",
            "ASSESSGATE_KOMBO_API_URL": "https://api.us.kombo.dev/v1/",
        }
    )
    assert settings.limits.rate_per_s == 2.5
    assert settings.server.keep_alive_s == 7
    assert settings.mail.sender == "Vendor <hello@vendor.example>"
    assert settings.database.pool_max_size == 3
    assert settings.results.max_text_length == 99
    assert settings.kombo.api_url == "https://api.us.kombo.dev/v1"


def test_unset_database_url_is_a_file_in_the_data_folder() -> None:
    settings = load_settings({"ASSESSGATE_DATA_DIR": "/var/lib/gate/"})
    assert settings.database.url == "sqlite:////var/lib/gate/assessgate.db"


@pytest.mark.parametrize("variable", NUMERIC, ids=lambda v: v.name)
def test_a_number_variable_takes_its_default_as_text_and_refuses_a_word(variable: Variable) -> None:
    default = reduce(getattr, variable.path, DEFAULTS)
    assert reduce(getattr, variable.path, load_settings({variable.name: str(default)})) == default
    with pytest.raises(ConfigError) as caught:
        load_settings({variable.name: "many"})
    assert caught.value.variable == variable.name


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ASSESSGATE_RATE_LIMIT_PER_S", "0"),
        ("ASSESSGATE_JSON_MAX_DEPTH", "1"),
        ("ASSESSGATE_MAX_CONNECTIONS", "0"),
        ("ASSESSGATE_DATABASE_POOL_MAX_SIZE", "1001"),
        ("ASSESSGATE_RESULT_MAX_ATTRIBUTES", "0"),
        ("ASSESSGATE_OUTBOUND_ALLOW", "not a network"),
        ("ASSESSGATE_SMTP_URL", "http://mail.example"),
    ],
)
def test_bounds_and_parsers_of_nested_fields_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({variable: value})
    assert caught.value.variable == variable


def test_production_refuses_secret_keys_that_are_only_commas() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(PRODUCTION | {"ASSESSGATE_SECRET_KEYS": " , "})
    assert caught.value.variable == "ASSESSGATE_SECRET_KEYS"
    assert "required" in str(caught.value)


def test_fields_without_a_variable_are_not_read() -> None:
    assert "ASSESSGATE_KOMBO_SANDBOX" not in {v.name for v in VARIABLES}
    assert load_settings({"ASSESSGATE_KOMBO_SANDBOX": "false"}).kombo.sandbox is True
