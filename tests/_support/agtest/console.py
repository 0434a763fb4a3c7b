"""Driving the operator console (``/console``) over HTTP from a test: log in as a browser would."""

from __future__ import annotations

import re

import httpx

ADMIN_TOKEN = "test-admin-token-0123456789"
_HIDDEN = re.compile(r'name="(?P<name>login_token|csrf_token)" value="(?P<value>[^"]*)"')


def hidden(html: str, name: str) -> str:
    """The value of a hidden field of the page (the login form's token, a form's CSRF token)."""
    for match in _HIDDEN.finditer(html):
        if match["name"] == name:
            return match["value"]
    raise AssertionError(f"no hidden field {name!r} on the page")


async def log_in(http: httpx.AsyncClient, token: str = ADMIN_TOKEN) -> httpx.Response:
    """Post the login form with ``token``; the client keeps the cookies (a session when the token is right)."""
    form = await http.get("/console/login")
    data = {"login_token": hidden(form.text, "login_token"), "token": token}
    return await http.post("/console/login", data=data)


async def csrf(http: httpx.AsyncClient, path: str = "/console") -> str:
    """The session's CSRF token, as a page of the console carries it in its forms."""
    page = await http.get(path)
    assert page.status_code == 200, page.text
    return hidden(page.text, "csrf_token")
