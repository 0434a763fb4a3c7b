"""Finding 10: production refuses to start with no webhook secrets or with mail going to the log, naming the
variable; and no log line ever holds a live candidate-link token, in any environment.

Before: production started with neither (every webhook a silent 401; ``log:`` logged candidates' addresses
and live single-use links), and the development log mailer logged each invitation with its link.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import httpx
import pytest
import structlog

from agtest.stack import ADMIN, Clock, Stack, ports, run_jobs, running, stack_settings
from api.logging import configure_logging
from core.errors import ConfigError
from core.settings import MailSettings, Settings, load_settings
from storage.database import Database

pytestmark = pytest.mark.anyio
__all__ = ["ports"]

PRODUCTION = {
    "ASSESSGATE_ENV": "production",
    "ASSESSGATE_ADMIN_TOKEN": "4f1e9a7c2b6d08e35a9c1f7b2e6d4a08",
    "ASSESSGATE_SECRET_KEYS": "aW5zZWN1cmUtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2Q=",
    "ASSESSGATE_KOMBO_API_KEY": "kombo-key",
    "ASSESSGATE_KOMBO_WEBHOOK_SECRETS": "whsec-production",
    "ASSESSGATE_SMTP_URL": "smtps://mailer:pw@mail.example:465",
}
#: A candidate link with a live token: /c/ then base64url claims, a dot, the base64url signature.
LIVE_LINK = re.compile(r"/c/[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
PLUGINS = """
[routes]
default = "accept"
SKILLS_TEST = "assessment"

[adapters.assessment]
launch_url_template = "https://tests.vendor.example/start?order={order_id}&expires={expires}&signature={signature}"
"""


def test_production_with_every_setting_starts() -> None:
    assert load_settings(PRODUCTION).env == "production"


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("ASSESSGATE_KOMBO_WEBHOOK_SECRETS", None, "every Kombo webhook is refused"),
        ("ASSESSGATE_KOMBO_WEBHOOK_SECRETS", " , ", "every Kombo webhook is refused"),
        ("ASSESSGATE_SMTP_URL", None, "development only"),
        ("ASSESSGATE_SMTP_URL", "log:", "development only"),
    ],
)
def test_production_refuses_to_start_naming_the_variable(variable: str, value: str | None, reason: str) -> None:
    environ = {k: v for k, v in PRODUCTION.items() if k != variable}
    if value is not None:
        environ[variable] = value
    with pytest.raises(ConfigError) as caught:
        load_settings(environ)
    assert caught.value.variable == variable
    assert str(caught.value).startswith(variable)
    assert reason in str(caught.value)


def test_serve_exits_at_start_naming_the_variable(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ASSESSGATE_")}
    environ |= {k: v for k, v in PRODUCTION.items() if k != "ASSESSGATE_SMTP_URL"}
    environ |= {"ASSESSGATE_DATA_DIR": str(tmp_path), "ASSESSGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}
    assessgate = Path(sys.executable).parent / "assessgate"
    done = subprocess.run(
        [str(assessgate), "serve"], env=environ, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode != 0
    assert "ASSESSGATE_SMTP_URL" in done.stdout + done.stderr


def test_a_link_in_any_log_field_is_redacted(test_settings: Settings) -> None:
    token = "eyJvcmRlciI6IjEyMyJ9.c2lnbmF0dXJlLW9mLXRoZS1saW5r"
    buffer = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdout", buffer)
        configure_logging(test_settings)  # the real processor chain, writing to the buffer
        log = structlog.get_logger()
        log.info("anything", url=f"https://gate.example/c/{token}", nested={"text": f"open /c/{token} now"})
        log.error("failure", detail=f"could not fetch http://x/c/{token}?a=1")
    configure_logging(test_settings)  # back to the real stdout for the tests after this one
    out = buffer.getvalue()
    assert token not in out
    assert token.split(".")[1] not in out
    assert out.count("/c/[redacted]") == 3


@dataclass
class LoggedStack(Stack):
    log: io.StringIO = field(default_factory=io.StringIO)


@pytest.fixture
async def log_mail_stack(
    db: Database, test_settings: Settings, ports: tuple[int, int], tmp_path: Path
) -> AsyncIterator[LoggedStack]:
    del db  # migrated
    plugins = tmp_path / "plugins.toml"
    plugins.write_text(PLUGINS)
    settings = stack_settings(test_settings, *ports, plugins_file=str(plugins), mail=MailSettings(url="log:"))
    assert settings.env == "development"
    with running(settings, ports[1]) as (gateway_url, sandbox_url):
        async with httpx.AsyncClient(timeout=30) as http:
            yield LoggedStack(gateway=gateway_url, sandbox=sandbox_url, settings=settings, http=http)
    configure_logging(test_settings)


async def test_the_development_log_mailer_never_logs_the_link(db: Database, log_mail_stack: LoggedStack) -> None:
    stack = log_mail_stack
    with pytest.MonkeyPatch.context() as patch:
        # Log lines go to the stdout of the moment they are written: during the test, this buffer, whichever
        # thread writes them (the gateway's server or the jobs run here). Patched here, not in the fixture,
        # because pytest sets its own capture again between a fixture's setup and the test.
        patch.setattr(sys, "stdout", stack.log)
        await place_and_send(stack, db)
        kept, token = await follow_the_kept_link(stack)
    # ... and the log says where, with the link's token redacted, in every line (the GET's request log too).
    out = stack.log.getvalue()
    assert '"mail_logged_not_sent"' in out
    assert "/c/[redacted]" in out
    assert str(kept) in out
    assert token not in out
    assert LIVE_LINK.search(out) is None


async def place_and_send(stack: LoggedStack, db: Database) -> None:
    tenant, integration = await stack.tenant_with_integration()
    secret = {"value": "vendor-launch-secret-0123456789"}
    put = await stack.http.put(
        f"{stack.gateway}/v1/tenants/{tenant}/secrets/launch_signing_secret", json=secret, headers=ADMIN
    )
    assert put.status_code == 204
    await stack.place(integration)
    clock = Clock()
    clock.catch_up()
    await run_jobs(db, stack.settings, clock)


async def follow_the_kept_link(stack: LoggedStack) -> tuple[Path, str]:
    """The whole message, live link included, is in a 0600 file for the developer; the link works."""
    [kept] = list((Path(stack.settings.data_dir) / "mail").glob("*.eml"))
    assert kept.stat().st_mode & 0o777 == 0o600
    mail = BytesParser(policy=default).parsebytes(kept.read_bytes())
    plain = mail.get_body(preferencelist=("plain",))
    assert plain is not None
    [link] = LIVE_LINK.findall(plain.get_content())
    token = link.removeprefix("/c/")
    assert (await stack.http.get(f"{stack.gateway}{link}")).status_code == 200  # it is live
    return kept, token
