"""The API docs page (``/schema``) works offline: Chromium renders every operation with nothing fetched from
another origin, under the page's content security policy; it does not scroll sideways at 375 or 1280 px."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Request

from agtest.axe import SCREENSHOTS_VARIABLE, assert_fits, screenshot
from agtest.browser import launched
from agtest.servers import free_port, serve
from api.app import create_app
from core.settings import load_settings


def test_the_docs_page_renders_offline_from_our_own_assets(tmp_path: Path) -> None:
    port = free_port()
    settings = load_settings(
        {
            "ASSESSGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "ASSESSGATE_DATA_DIR": str(tmp_path),
            "ASSESSGATE_ADMIN_TOKEN": "test-admin-token-0123456789",
            "ASSESSGATE_SECRET_KEYS": "aW5zZWN1cmUtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2Q=",
            "ASSESSGATE_KOMBO_API_KEY": "kombo-test-api-key-123",
            "ASSESSGATE_KOMBO_WEBHOOK_SECRETS": "whsec-x",
            "ASSESSGATE_PORT": str(port),
        }
    )
    elsewhere: list[str] = []
    problems: list[str] = []
    with serve(create_app(settings), port) as url, launched() as browser:
        page = browser.new_page()

        def only_here(request: Request) -> None:
            if not request.url.startswith((url, "data:")):
                elsewhere.append(request.url)

        page.on("request", only_here)
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        response = page.goto(f"{url}/schema")
        assert response is not None
        assert response.status == 200
        assert "default-src 'none'" in (response.headers.get("content-security-policy") or "")
        page.wait_for_selector(".opblock", timeout=30_000)  # Swagger UI drew the operations
        operations = page.locator(".opblock").count()
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert_fits(page, "API docs page")
        if folder := os.environ.get(SCREENSHOTS_VARIABLE):
            screenshot(page, "API docs page", Path(folder))
    assert elsewhere == []
    assert problems == []
    assert operations > 30  # every route of the API, not an empty shell
