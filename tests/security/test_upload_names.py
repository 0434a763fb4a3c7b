"""Finding 6: upload names and ``GET /files``.

``?name=Zeugnis_日本.pdf`` made the download a 500 (the name went raw into a Latin-1 header), so Kombo
could not fetch the attachment; a CR/LF broke the response; a ``"`` added a header parameter. Now names
are checked at upload, every name is served the RFC 6266 way (ASCII fallback plus ``filename*=UTF-8''``),
the file is never sniffed or run, and only media types Kombo accepts are taken.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.composition import build_gateway
from core.file_names import MAX_NAME_LENGTH, content_disposition, upload_name_problem
from core.settings import Settings
from storage.database import Database

pytestmark = pytest.mark.anyio
ADMIN = {"authorization": "Bearer test-admin-token-0123456789"}
PDF = b"%PDF-1.4 a report"
PARAMETER = re.compile(r';\s*([^=\s;]+)=("(?:[^"\\]|\\.)*"|[^;]*)')


def parameters(header: str) -> dict[str, str]:
    """The parameters of a Content-Disposition value, as a strict RFC 6266 parser reads them."""
    assert header.startswith("attachment"), header
    return {key.lower(): value for key, value in PARAMETER.findall(header[len("attachment") :])}


def served_name(header: str) -> str:
    """The name a browser honouring RFC 6266 saves the file as."""
    params = parameters(header)
    if "filename*" in params:
        charset, _, encoded = params["filename*"].partition("''")
        assert charset == "UTF-8"
        return unquote(encoded, encoding="utf-8", errors="strict")
    return params["filename"].strip('"')


@pytest.fixture
async def client(db: Database, test_settings: Settings) -> AsyncIterator[AsyncTestClient[Any]]:
    settings_off = msgspec.structs.replace(test_settings, embedded_worker="off")
    async with AsyncTestClient(create_app(settings_off)) as test_client:
        yield test_client


@pytest.fixture
async def tenant(client: AsyncTestClient[Any]) -> str:
    response = await client.post("/v1/tenants", json={"name": "Nordlicht"}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def upload(client: AsyncTestClient[Any], tenant: str, name: str, content_type: bytes = b"application/pdf") -> Any:
    return await client.post(
        f"/v1/tenants/{tenant}/uploads",
        params={"name": name},
        content=PDF,
        headers=[*((k.encode(), v.encode()) for k, v in ADMIN.items()), (b"content-type", content_type)],
    )


async def download(client: AsyncTestClient[Any], db: Database, settings: Settings, upload_id: str) -> Any:
    url = urlsplit(build_gateway(settings, db=db).uploads.signed_url(uuid.UUID(upload_id)))
    return await client.get(f"{url.path}?{url.query}")


@pytest.mark.parametrize(
    "name",
    ["Zeugnis_日本.pdf", "Prüfbericht Müller.pdf", "report.pdf", 'a"; filename="evil.exe', "50%-report;v=2.pdf"],
)
async def test_any_valid_name_downloads_under_its_own_name(
    client: AsyncTestClient[Any], db: Database, test_settings: Settings, tenant: str, name: str
) -> None:
    created = await upload(client, tenant, name)
    assert created.status_code == 201, created.text
    response = await download(client, db, test_settings, created.json()["id"])
    assert response.status_code == 200, response.text
    assert response.content == PDF
    header = response.headers["content-disposition"]
    assert header.isascii()
    assert header.isprintable()
    assert set(parameters(header)) <= {"filename", "filename*"}  # a quote in the name adds no parameter
    assert served_name(header) == name
    assert response.headers["x-content-type-options"] == "nosniff"
    csp = response.headers["content-security-policy"]
    assert "sandbox" in csp
    assert "default-src 'none'" in csp
    assert response.headers["content-type"].startswith("application/pdf")


@pytest.mark.parametrize(
    "name",
    [
        "report\r\nSet-Cookie: a=b.pdf",
        "report\n.pdf",
        "nul\x00.pdf",
        "tab\t.pdf",
        "cod\u202efdp.exe",
        "../../etc/passwd",
        "dir\\report.pdf",
        " report.pdf",
        "   ",
        "x" * (MAX_NAME_LENGTH + 1),
    ],
)
async def test_a_hostile_name_is_a_422_naming_the_name(
    client: AsyncTestClient[Any], db: Database, tenant: str, name: str
) -> None:
    response = await upload(client, tenant, name)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "name" in response.text
    assert (await db.fetch("SELECT COUNT(*) AS n FROM result_upload"))[0]["n"] == 0


@pytest.mark.parametrize(
    "content_type",
    [b"application/octet-stream", b"image/svg+xml", b"appli\xe7ation/pdf", b"application/pdf, text/html", b"pdf"],
)
async def test_only_media_types_kombo_accepts_are_taken(
    client: AsyncTestClient[Any], db: Database, tenant: str, content_type: bytes
) -> None:
    response = await upload(client, tenant, "report.pdf", content_type)
    assert response.status_code == 422, response.text
    assert "content-type" in response.text
    assert (await db.fetch("SELECT COUNT(*) AS n FROM result_upload"))[0]["n"] == 0


async def test_a_name_stored_before_the_check_is_still_served_safely(
    client: AsyncTestClient[Any], db: Database, test_settings: Settings, tenant: str
) -> None:
    upload_id = uuid.uuid4()
    name = 'old\r\nX-Injected: 1"; x=".pdf'
    await db.fetch(
        "INSERT INTO result_upload (id, tenant_id, name, content_type, data, size, created_at)"
        " VALUES ({}, {}, {}, {}, {}, {}, {})",
        upload_id,
        uuid.UUID(tenant),
        name,
        "text/html",
        "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        25,
        datetime.now(UTC),
    )
    response = await download(client, db, test_settings, str(upload_id))
    assert response.status_code == 200
    assert "x-injected" not in response.headers
    header = response.headers["content-disposition"]
    assert header.isascii()
    assert header.isprintable()
    assert served_name(header) == name
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]


@given(st.text(max_size=300))
def test_every_name_gives_a_printable_ascii_header_that_round_trips(name: str) -> None:
    header = content_disposition(name)
    assert header.isascii()
    assert header.isprintable()
    assert set(parameters(header)) <= {"filename", "filename*"}
    if any("\ud800" <= c <= "\udfff" for c in name):
        return  # a lone surrogate is no text a client can send
    assert served_name(header) == name


@given(st.text(st.characters(codec="utf-8"), min_size=1, max_size=MAX_NAME_LENGTH))
def test_an_accepted_name_holds_no_line_break_or_path(name: str) -> None:
    if upload_name_problem(name) is None:
        assert not any(c in name for c in "\r\n\x00/\\")


@pytest.mark.parametrize("content_type", [b"text/plain", b"application/json", b"text/csv"])
async def test_a_file_is_a_file_whatever_its_type_says(
    client: AsyncTestClient[Any], db: Database, test_settings: Settings, tenant: str, content_type: bytes
) -> None:
    """The JSON depth limit is for request documents: an upload is a file, even one that looks like deep JSON."""
    body = b"[" * 500 + b"{" * 500
    created = await client.post(
        f"/v1/tenants/{tenant}/uploads",
        params={"name": "notes.txt"},
        content=body,
        headers=[*((k.encode(), v.encode()) for k, v in ADMIN.items()), (b"content-type", content_type)],
    )
    assert created.status_code == 201, created.text
    assert (await download(client, db, test_settings, created.json()["id"])).content == body
