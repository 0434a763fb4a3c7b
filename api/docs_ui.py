"""The API docs page at ``/schema``: Swagger UI, its assets served by us from the ``swagger-ui-bundle-v2``
package (installed from the package index, never copied in), so the page works offline and behind a strict
policy: no CDN, no web font, nothing fetched from another origin."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import swagger_ui_bundle
from litestar import Router
from litestar.datastructures import MutableScopeHeaders
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.types import Message, Scope

ASSETS_PATH: Final = "/schema/assets"
#: The docs page may load only what this origin serves; Swagger UI's start-up script is inline, so scripts and
#: styles allow 'unsafe-inline' from 'self' and nowhere else.
CSP: Final = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def render_plugin() -> SwaggerRenderPlugin:
    """Swagger UI at ``/schema`` itself, with its JavaScript and CSS from :data:`ASSETS_PATH`."""
    return SwaggerRenderPlugin(
        path="/",
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        favicon="<link rel='icon' href='data:,'>",
    )


def assets_router() -> Router:
    return create_static_files_router(
        path=ASSETS_PATH, directories=[Path(str(swagger_ui_bundle.swagger_ui_path))], include_in_schema=False
    )


async def docs_headers(message: Message, scope: Scope) -> None:
    """The page's policy on everything under ``/schema`` (the page, its assets and the document)."""
    if message["type"] == "http.response.start" and str(scope.get("path", "")).startswith("/schema"):
        headers = MutableScopeHeaders.from_message(message)
        headers["content-security-policy"] = CSP
        headers["x-content-type-options"] = "nosniff"
