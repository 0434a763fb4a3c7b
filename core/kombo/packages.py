"""Package catalogs: what we push with ``PUT /assessment/packages`` and what Kombo lists back."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from core.kombo.vocabulary import PackageType

NonBlank = Annotated[str, Meta(min_length=1, pattern=r"\S")]


class Package(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One package we offer (strict: this is what we send)."""

    id: NonBlank
    type: PackageType
    name: NonBlank
    description: str


class PutPackagesRequest(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of ``PUT /assessment/packages``: the complete catalog, replacing what Kombo holds."""

    packages: tuple[Package, ...]


class ListedPackage(Struct, frozen=True, kw_only=True):
    """One entry of ``GET /assessment/packages`` (``type``/``updated_at`` are null for old packages)."""

    id: str
    name: str
    description: str
    updated_at: str | None = None
    type: str | None = None


class PackageList(Struct, frozen=True, kw_only=True):
    packages: tuple[ListedPackage, ...] = ()
