"""The server side of the ingest benchmark, run in its own process: the gateway, or a bare baseline.

``python -m bench.target gateway|baseline PORT DATABASE_URL`` serves until killed. The baseline is a bare
Litestar endpoint in the same uvicorn setup that only verifies the signature and answers 200.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import msgspec
import uvicorn
from litestar import Litestar, Request, Response, post

from bench.limits import NO_ADMISSION_LIMITS
from core.kombo import signature
from core.settings import load_settings

SECRET = "bench-webhook-secret"
#: The gateway's key ring (the benchmark's setup encrypts the tenant's launch secret under it).
FERNET = "aW5zZWN1cmUtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2Q="
#: Inline orders go to the inline_assessment adapter: its answer is a signed candidate link, minted without I/O.
PLUGINS = Path(__file__).parent / "plugins.toml"
ADMIN = "bench-admin-token-0123456789"


def baseline() -> Litestar:
    @post("/kombo/webhooks", status_code=200)
    async def hook(request: Request[Any, Any, Any]) -> Response[bytes]:
        raw = await request.body()
        signature.verify([SECRET], raw, request.headers.get(signature.HEADER))
        return Response(b'{"received":true}', media_type="application/json")

    return Litestar([hook])


def gateway(database_url: str) -> Litestar:
    from api.app import create_app

    settings = load_settings(
        {
            "ASSESSGATE_DATABASE_URL": database_url,
            "ASSESSGATE_ADMIN_TOKEN": ADMIN,
            "ASSESSGATE_SECRET_KEYS": FERNET,
            "ASSESSGATE_KOMBO_API_KEY": "bench",
            "ASSESSGATE_KOMBO_WEBHOOK_SECRETS": SECRET,
            "ASSESSGATE_LOG_LEVEL": "error",
            "ASSESSGATE_PLUGINS_FILE": str(PLUGINS),
            **NO_ADMISSION_LIMITS,
        }
    )
    return create_app(msgspec.structs.replace(settings, embedded_worker="off"))


if __name__ == "__main__":
    mode, port, url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    app = baseline() if mode == "baseline" else gateway(url)
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
