"""The console's stylesheet and its one small script, served from this package (no CDN, nothing inline)."""

from __future__ import annotations

from importlib.resources import files
from typing import Final

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from api.console.pages import PUBLIC

_TYPES: Final = {"console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8"}
_FILES: Final = {name: (files("api.console") / "static" / name).read_bytes() for name in _TYPES}


@get("/static/{name:str}", opt={PUBLIC: True}, include_in_schema=False)
async def static_file(name: FromPath[str]) -> Response[bytes]:
    if name not in _FILES:
        raise NotFoundException(f"no file {name!r}")
    headers = {"cache-control": "public, max-age=3600", "x-content-type-options": "nosniff"}
    return Response(_FILES[name], media_type=_TYPES[name], headers=headers)
