"""``GET /files/{upload_id}``: an uploaded attachment, for whoever holds a valid, unexpired signed link (Kombo).

Served as a download under RFC 6266 names, never sniffed, never run (``core/file_names.py``).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream

from api.composition import Gateway
from api.problems import problem_responses
from core.file_names import content_disposition


@get(
    "/files/{upload_id:uuid}",
    tags=["results"],
    summary="An attachment behind a short-lived signed link",
    responses=problem_responses(404),
    media_type="application/octet-stream",
)
async def download(
    gateway: NamedDependency[Gateway],
    upload_id: FromPath[uuid.UUID],
    expires: Annotated[int, QueryParameter()],
    signature: Annotated[str, QueryParameter(max_length=128)],
) -> Stream:
    upload = await gateway.uploads.download(upload_id, expires, signature)
    if upload is None:
        raise NotFoundException(detail="no such file, or the link has expired")
    # Streamed a chunk at a time: a file of any allowed size costs the process one chunk of memory.
    # The type is the upload's own (Litestar would put the route's declared octet-stream on a stream).
    headers = {**file_headers(upload.name), "Content-Length": str(upload.size), "Content-Type": upload.content_type}
    return Stream(gateway.uploads.content(upload.id), media_type=upload.content_type, headers=headers)


def file_headers(name: str) -> dict[str, str]:
    """An attachment is the tenant's bytes under the tenant's media type: a browser must neither sniff it into
    something else nor run it (``text/html`` or SVG served here would otherwise be script on our origin)."""
    return {
        "Content-Disposition": content_disposition(name),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
