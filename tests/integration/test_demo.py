"""``assessgate demo`` shows the product: its orders reach the real adapters, a launch link lands on the demo
platform in the sandbox, which posts a result back that reaches the ATS; a restart changes nothing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import msgspec
from litestar import Litestar

from agtest.sandbox_support import sandbox_mode_settings
from agtest.servers import free_port, serve
from agtest.stack import run_jobs
from agtest.sync_jobs import on_loop
from api.app import create_app
from api.demo import equip_demo, platform_url, seed_demo
from core.settings import Settings
from storage.migrations import migrate

ADMIN = {"authorization": "Bearer test-admin-token-0123456789"}
CANDIDATE = {"email": "grace@example.org", "first_name": "Grace"}


def demo_app(settings: Settings, seeded: list[list[str]]) -> Litestar:
    app = create_app(settings)

    async def seed(app: Litestar) -> None:  # what `assessgate demo` runs at start
        demo = await seed_demo(app.state.sandbox, app.state.gateway)
        seeded.append(demo.created + await equip_demo(app.state.sandbox, app.state.gateway, demo.tenant))

    app.on_startup.append(seed)
    return app


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))


def test_the_demo_takes_an_order_to_a_result_in_the_ats_and_survives_a_restart(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    base = sandbox_mode_settings(database_url, tmp_path, port)
    settings = msgspec.structs.replace(base, outbound_allow=(f"{platform_url(base)}/",))
    on_loop(migrate, settings)
    seeded: list[list[str]] = []
    with serve(demo_app(settings, seeded), port) as url, httpx.Client(base_url=url, timeout=30) as http:
        [tenant] = http.get("/v1/tenants", headers=ADMIN).json()["items"]
        integration = tenant["integration"]["id"]
        on_loop(lambda db: run_jobs(db, settings), settings)  # the catalog push

        def place(package: str, **extra: Any) -> dict[str, Any]:
            body = {"package_id": package, "candidate": CANDIDATE, **extra}
            placed: dict[str, Any] = http.post(f"/sandbox/_sandbox/integrations/{integration}/orders", json=body).json()
            return placed

        inline = place("demo-java", inline=True)
        link = inline["assessment_url"]
        assert link.startswith(f"{url}/c/")
        assert http.get(link).status_code == 200  # the confirmation page
        launched = http.post(link)
        assert launched.status_code == 303
        assert launched.headers["location"].startswith(f"{platform_url(settings)}/start?")
        test = http.get(launched.headers["location"])
        assert test.status_code == 200
        assert "Finish the test" in test.text
        done = http.post(f"{platform_url(settings)}/finish", data={**hidden_fields(test.text), "score": "91"})
        assert done.status_code == 200, done.text
        on_loop(lambda db: run_jobs(db, settings), settings)  # the write-back
        in_ats = http.get(f"/sandbox/_sandbox/orders/{inline['id']}").json()
        assert (in_ats["status"], in_ats["result"]["score"]) == ("COMPLETED", 91)
        forged = http.get(f"{platform_url(settings)}/start", params={**hidden_fields(test.text), "signature": "0" * 64})
        assert forged.status_code == 403  # the platform checks the launch signature

        # The other adapters have what they need: a background check is taken (not left waiting).
        check = place("demo-bg")
        orders = http.get(f"/v1/tenants/{tenant['id']}/orders", headers=ADMIN).json()["items"]
        taken = {o["kombo_order_id"]: (o["status"], o["adapter"]) for o in orders}
        assert taken[check["id"]] == ("accepted", "background_check")
        assert taken[inline["id"]] == ("completed", "inline_assessment")
    with serve(demo_app(settings, seeded), port) as url, httpx.Client(base_url=url, timeout=30) as http:
        assert len(http.get("/v1/tenants", headers=ADMIN).json()["items"]) == 1
    assert seeded[0]  # the first start added the demo
    assert seeded[1] == []  # the second found everything in place
