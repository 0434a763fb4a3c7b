"""Piccolo tables: the persistence model only. Rows become core Structs at the repository edge.

Every column here must exist in the migrated schema (``tenants/migrations``); a test compares the two
on both engines.
"""

from __future__ import annotations

from typing import Final

from piccolo.columns import UUID, Timestamptz, Varchar
from piccolo.table import Table


class Tenant(Table, tablename="tenant"):
    id = UUID(primary_key=True)
    name = Varchar(length=200, null=False)
    external_id = Varchar(length=200, null=True, unique=True, default=None)
    integration_id = Varchar(length=200, null=True, unique=True, default=None)
    integration_state = Varchar(length=20, null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


TABLES: Final[tuple[type[Table], ...]] = (Tenant,)
