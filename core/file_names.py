"""Names and media types of uploaded attachments, and the ``Content-Disposition`` that serves them.

An upload's name reaches two places: the ATS (Kombo shows it as the attachment's name) and the
``Content-Disposition`` of ``GET /files/{id}``, which Kombo downloads. A header is Latin-1 on the wire, so a
name such as ``Zeugnis_日本.pdf`` written raw into it made that download a 500 (and the write-back died with
``PLATFORM.INPUT_INVALID``); a CR/LF broke the response; a ``"`` added a parameter. Names are therefore
checked when uploaded (:func:`upload_name_problem`), and every name is served the RFC 6266 way
(:func:`content_disposition`): an ASCII ``filename`` fallback plus the exact name in ``filename*=UTF-8''``
(RFC 8187), which holds for names stored before the check too.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final
from urllib.parse import quote

#: Longest name accepted (the column holds 300; common file systems stop at 255).
MAX_NAME_LENGTH: Final = 255
#: Longest media type accepted (``type/subtype``; the column holds 200).
MAX_CONTENT_TYPE_LENGTH: Final = 100
#: Kombo's content-type pattern (``^[\w.-]+\/[\w.-]+$``) as JavaScript reads it: ``\w`` is ASCII there, and
#: ``fullmatch`` allows no trailing newline (Python's ``$`` would).
_KOMBO_CONTENT_TYPE: Final = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
#: Kombo asks not to be sent this generic type.
GENERIC_CONTENT_TYPE: Final = "application/octet-stream"
#: Characters RFC 8187 lets through unencoded in ``filename*`` (attr-char, besides letters and digits).
_ATTR_CHARS: Final = "!#$&+-.^_`|~"
#: Characters that may stand in the quoted ASCII fallback as they are.
_FALLBACK_SAFE: Final = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\", "%"}
#: Bidirectional controls can make ``cod.exe`` look like ``exe.doc``; none belongs in a file name.
_BIDI: Final = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def upload_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name an upload, or ``None`` if it can."""
    if not name.strip():
        return "must not be empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"at most {MAX_NAME_LENGTH} characters"
    if any(unicodedata.category(c) in {"Cc", "Cs"} or c in _BIDI for c in name):
        return "must not hold control characters (line breaks, NUL, bidirectional overrides)"
    if "/" in name or "\\" in name or name.strip() in {".", ".."}:
        return "a file name, not a path: no / or \\"
    if name != name.strip():
        return "must not start or end with white space"
    return None


def content_type_problem(content_type: str) -> str | None:
    """Why Kombo would refuse ``content_type`` for an attachment, or ``None`` if it takes it."""
    if len(content_type) > MAX_CONTENT_TYPE_LENGTH or not _KOMBO_CONTENT_TYPE.fullmatch(content_type):
        return "send the file's own media type as type/subtype, without parameters or '+' (e.g. application/pdf)"
    if content_type.lower() == GENERIC_CONTENT_TYPE:
        return "send the file's own media type (e.g. application/pdf), not application/octet-stream, as Kombo asks"
    return None


def ascii_fallback(name: str) -> str:
    """``name`` for clients that ignore ``filename*``: accents dropped, anything else non-ASCII, quotes,
    backslashes, percent signs and controls replaced by ``_``."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    fallback = "".join(c if c in _FALLBACK_SAFE else "_" for c in stripped).strip()
    return fallback or "attachment"


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII ``filename`` and, when that is not the exact name, ``filename*`` (RFC 6266)."""
    fallback = ascii_fallback(name)
    header = f'attachment; filename="{fallback}"'
    if fallback != name:
        header += "; filename*=UTF-8''" + quote(name, safe=_ATTR_CHARS, encoding="utf-8", errors="surrogatepass")
    return header
