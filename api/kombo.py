"""The process's one HTTP client for Kombo (created and closed by the composition root)."""

from __future__ import annotations

import httpx

from adapters.kombo_client import DEFAULT_TIMEOUT, KomboClient
from core.settings import Settings


def new_http_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=DEFAULT_TIMEOUT, headers={"User-Agent": "assessgate"})


def kombo_client(settings: Settings, http: httpx.AsyncClient) -> KomboClient:
    return KomboClient(http, base_url=settings.kombo.api_url, api_key=settings.kombo.api_key)
