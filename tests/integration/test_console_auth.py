"""The operator console's door: the admin token opens it, nothing else does (a tenant API key, a forged or
expired cookie); failed logins are throttled with the API's; every form needs its session's CSRF token; pages
send a strict CSP, refuse framing and are never cached; logging in and out is audited."""

from __future__ import annotations

import time

import httpx
import msgspec
import pytest

from agtest.admission import in_this_loop
from agtest.console import ADMIN_TOKEN, csrf, hidden, log_in
from api.console.session import SESSION_COOKIE, SessionSigner
from core.settings import Settings
from storage.database import Database

pytestmark = pytest.mark.anyio
ADMIN = {"authorization": f"Bearer {ADMIN_TOKEN}"}


def session_cookie(response: httpx.Response) -> str:
    """The session cookie's Set-Cookie header, in lower case (its attributes' case varies)."""
    [cookie] = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}=")]
    return cookie.lower()


async def test_the_admin_token_opens_the_console_and_logging_out_closes_it(
    test_settings: Settings, db: Database
) -> None:
    async with in_this_loop(test_settings) as gateway:
        http = gateway.client
        first = await http.get("/console")
        assert (first.status_code, first.headers["location"]) == (303, "/console/login")
        logged_in = await log_in(http)
        assert (logged_in.status_code, logged_in.headers["location"]) == (303, "/console")
        cookie = session_cookie(logged_in)
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        assert "path=/console" in cookie
        assert "secure" not in cookie  # the public URL is http here; behind https it is Secure (next test)
        assert ADMIN_TOKEN not in cookie
        overview = await http.get("/console")
        assert overview.status_code == 200
        assert "Orders in the last hour" in overview.text
        headers = overview.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "'unsafe-inline'" not in headers["content-security-policy"]
        assert (headers["cache-control"], headers["x-frame-options"]) == ("no-store", "DENY")
        assert "<script>" not in overview.text
        assert " style=" not in overview.text
        out = await http.post("/console/logout", data={"csrf_token": hidden(overview.text, "csrf_token")})
        assert out.status_code == 303
        assert (await http.get("/console")).status_code == 303
    rows = await db.fetch("SELECT actor, action FROM audit_event ORDER BY at")
    assert [r["action"] for r in rows] == ["console.login", "console.logout"]
    assert rows[0]["actor"] == rows[1]["actor"]
    assert rows[0]["actor"].startswith("console:")


async def test_the_session_cookie_is_secure_behind_https(test_settings: Settings, db: Database) -> None:
    del db
    settings = msgspec.structs.replace(test_settings, public_url="https://gate.example")
    async with in_this_loop(settings) as gateway:
        http = gateway.client
        form = await http.get("/console/login")
        assert "; secure" in form.headers["set-cookie"].lower()
        login_token = hidden(form.text, "login_token")
        # The client (on http) would not send a Secure cookie back: hand it over as a browser on https would.
        logged_in = await http.post(
            "/console/login",
            data={"login_token": login_token, "token": ADMIN_TOKEN},
            headers={"cookie": f"assessgate_console_login={login_token}"},
        )
        assert "; secure" in session_cookie(logged_in)


async def test_a_tenant_api_key_does_not_open_the_console(test_settings: Settings, db: Database) -> None:
    del db
    async with in_this_loop(test_settings) as gateway:
        http = gateway.client
        tenant = (await http.post("/v1/tenants", json={"name": "Acme"}, headers=ADMIN)).json()["id"]
        scopes = {"scopes": ["tenant:read", "orders:read", "keys:manage", "catalog:write"]}
        key = (await http.post(f"/v1/tenants/{tenant}/api-keys", json=scopes, headers=ADMIN)).json()["key"]
        refused = await log_in(http, key)
        assert refused.status_code == 401
        assert "not this gateway&#39;s admin token" in refused.text
        assert SESSION_COOKIE not in http.cookies
        as_bearer = await http.get("/console", headers={"authorization": f"Bearer {key}"})
        assert (as_bearer.status_code, as_bearer.headers["location"]) == (303, "/console/login")
        with_cookie = await http.get("/console/tenants", headers={"cookie": f"{SESSION_COOKIE}={key}"})
        assert with_cookie.status_code == 303


async def test_forged_and_expired_sessions_are_sent_to_the_login(test_settings: Settings, db: Database) -> None:
    del db
    async with in_this_loop(test_settings) as gateway:
        http = gateway.client
        _, expired = SessionSigner(ADMIN_TOKEN).new(int(time.time()) - 9 * 3600)
        _, other_key = SessionSigner("another-admin-token-0123456789").new(int(time.time()))
        body, _, signature = SessionSigner(ADMIN_TOKEN).new(int(time.time()))[1].partition(".")
        for cookie in (expired, other_key, f"{body}x.{signature}", "garbage", ""):
            response = await http.get("/console/orders", headers={"cookie": f"{SESSION_COOKIE}={cookie}"})
            assert response.status_code == 303, cookie


async def test_a_form_without_its_csrf_token_is_refused(test_settings: Settings, db: Database) -> None:
    async with in_this_loop(test_settings) as gateway:
        http = gateway.client
        await log_in(http)
        token = await csrf(http, "/console/tenants")
        for data in ({"name": "Forged"}, {"name": "Forged", "csrf_token": "x" * len(token)}):
            refused = await http.post("/console/tenants", data=data)
            assert refused.status_code == 403
            assert "This form was refused" in refused.text
            assert "<!doctype html>" in refused.text  # a page, not a problem document
        created = await http.post("/console/tenants", data={"name": "Acme", "csrf_token": token})
        assert created.status_code == 303
        # Another session's token does not fit this session.
        other = SessionSigner(ADMIN_TOKEN)
        session, _ = other.new(int(time.time()))
        stolen = await http.post("/console/tenants", data={"name": "Forged", "csrf_token": other.csrf_token(session)})
        assert stolen.status_code == 403
    names = [r["name"] for r in await db.fetch("SELECT name FROM tenant")]
    assert names == ["Acme"]


async def test_failed_logins_are_throttled_with_the_apis_failures(test_settings: Settings, db: Database) -> None:
    del db
    settings = msgspec.structs.replace(
        test_settings, limits=msgspec.structs.replace(test_settings.limits, auth_failures_burst=3)
    )
    async with in_this_loop(settings) as gateway:
        http = gateway.client
        for _ in range(2):
            assert (await log_in(http, "wrong-token-0123456789")).status_code == 401
        # A failed API call from the same address counts in the same throttle.
        assert (await http.get("/v1/tenants", headers={"authorization": "Bearer nope"})).status_code == 401
        throttled = await log_in(http)  # even the right token waits now
        assert throttled.status_code == 429
        assert "Retry-After" in throttled.headers
        assert SESSION_COOKIE not in http.cookies


async def test_text_the_console_cannot_use_is_a_page_never_a_500(test_settings: Settings, db: Database) -> None:
    del db
    async with in_this_loop(test_settings) as gateway:
        http = gateway.client
        # Non-ASCII where a signature is compared (compare_digest refuses non-ASCII str).
        for cookie in ("a.é", "é.é"):
            raw = f"{SESSION_COOKIE}={cookie}".encode()  # as a browser may send it: bytes, not ASCII
            answer = await http.get("/console/orders", headers={b"cookie": raw})
            assert answer.status_code == 303, cookie
        form = await http.get("/console/login")
        refused = await http.post(
            "/console/login",
            data={"login_token": "é", "token": ADMIN_TOKEN},
            headers={"cookie": form.headers["set-cookie"]},
        )
        assert refused.status_code == 403
        await log_in(http)
        token = await csrf(http, "/console/tenants")
        wrong = await http.post("/console/tenants", data={"name": "x", "csrf_token": "é" * len(token)})
        assert wrong.status_code == 403
        # A file where the console's forms take text.
        filed = await http.post(
            "/console/tenants", data={"csrf_token": token}, files={"name": ("name.txt", b"Acme", "text/plain")}
        )
        assert filed.status_code == 400
        assert "text, not files" in filed.text
        # A date filter at the calendar's end.
        last_day = await http.get("/console/orders", params={"created_to": "9999-12-31"})
        assert last_day.status_code == 200
    with pytest.raises(ValueError, match="admin token"):
        SessionSigner("")
