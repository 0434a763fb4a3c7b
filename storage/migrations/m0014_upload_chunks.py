"""Uploads stored in chunks, so a file is streamed into the database and out of it, never held whole in memory.

``result_upload.data`` stays for the files uploaded before this step (new rows leave it empty).
"""

from __future__ import annotations

from storage.database import Dialect

ID = "0014_upload_chunks"


def statements(dialect: Dialect) -> list[str]:
    del dialect
    return [
        """
        CREATE TABLE result_upload_chunk (
            upload_id UUID NOT NULL,
            seq INTEGER NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (upload_id, seq)
        )
        """,
    ]
