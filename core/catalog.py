"""Package catalogs: validation, the diff against what Kombo last accepted, and the mass-deletion guard."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from enum import StrEnum
from typing import Annotated, Final

import msgspec
from msgspec import Meta

from core.errors import FieldError, ValidationFailed
from core.kombo import Package, PackageType

DEFAULT_MAX_DELETION_SHARE: Final = 0.5


class SyncState(StrEnum):
    """Where a tenant's catalog stands with Kombo: nothing set yet, a push queued or retrying, the last push
    accepted, or refused for good (``last_error`` says why)."""

    EMPTY = "empty"
    PENDING = "pending"
    IN_SYNC = "in_sync"
    FAILED = "failed"


class CatalogPackage(msgspec.Struct, frozen=True, kw_only=True):
    id: Annotated[str, Meta(min_length=1, max_length=200)]
    type: PackageType
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    description: Annotated[str, Meta(max_length=5000)] = ""

    def to_kombo(self) -> Package:
        return Package(id=self.id, type=self.type, name=self.name, description=self.description)


class TenantPackage(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A tenant's entry: a package of the vendor's catalog by ``id`` (with optional overrides), or a package
    of the tenant's own when ``type`` and ``name`` are given and the id is not in the vendor's catalog."""

    id: Annotated[str, Meta(min_length=1, max_length=200)]
    type: PackageType | None = None
    name: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    description: Annotated[str, Meta(max_length=5000)] | None = None


ID_MAX: Final = 200
NAME_MAX: Final = 200
DESCRIPTION_MAX: Final = 5000
_TYPE_NAMES: Final = tuple(t.value for t in PackageType)


class PackageIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A package as the API takes it (the vendor's, or a tenant's entry). Only the JSON types are checked while
    decoding (a string where a number is, say: 400); every rule after that (lengths, blank names, the package
    type, duplicates, unknown ids) is checked at once, so one 422 names every bad entry."""

    id: Annotated[str, Meta(description=f"1 to {ID_MAX} characters, unique in the list")]
    type: (
        Annotated[
            str,
            Meta(
                description=f"one of {', '.join(_TYPE_NAMES)}", extra_json_schema={"extra": {"enum": list(_TYPE_NAMES)}}
            ),
        ]
        | None
    ) = None
    name: Annotated[str, Meta(description=f"1 to {NAME_MAX} characters, not blank")] | None = None
    description: Annotated[str, Meta(description=f"at most {DESCRIPTION_MAX} characters")] | None = None


def _field_problems(index: int, entry: PackageIn, *, complete: bool) -> list[FieldError]:
    """The rules of one entry; ``complete``: a package of its own (type and name required)."""
    at = f"$.packages[{index}]"
    problems: list[FieldError] = []
    if not entry.id.strip() or len(entry.id) > ID_MAX:
        problems.append(FieldError(path=f"{at}.id", message=f"must be 1 to {ID_MAX} characters, not blank"))
    if entry.type is None and complete:
        problems.append(FieldError(path=f"{at}.type", message=f"required: one of {', '.join(_TYPE_NAMES)}"))
    elif entry.type is not None and entry.type not in _TYPE_NAMES:
        problems.append(FieldError(path=f"{at}.type", message=f"must be one of {', '.join(_TYPE_NAMES)}"))
    if entry.name is None and complete:
        problems.append(FieldError(path=f"{at}.name", message="required"))
    elif entry.name is not None and (not entry.name.strip() or len(entry.name) > NAME_MAX):
        problems.append(FieldError(path=f"{at}.name", message=f"must be 1 to {NAME_MAX} characters, not blank"))
    if entry.description is not None and len(entry.description) > DESCRIPTION_MAX:
        problems.append(FieldError(path=f"{at}.description", message=f"at most {DESCRIPTION_MAX} characters"))
    return problems


def _duplicates(entries: Sequence[PackageIn | CatalogPackage]) -> list[FieldError]:
    seen: set[str] = set()
    problems = []
    for index, entry in enumerate(entries):
        if entry.id in seen:
            problems.append(FieldError(path=f"$.packages[{index}].id", message=f"duplicate package id {entry.id!r}"))
        seen.add(entry.id)
    return problems


def vendor_packages(entries: Sequence[PackageIn]) -> list[CatalogPackage]:
    """The vendor's catalog from what the API took; raises one ValidationFailed naming every bad entry."""
    problems = [p for i, e in enumerate(entries) for p in _field_problems(i, e, complete=True)]
    problems += _duplicates(entries)
    if problems:
        raise ValidationFailed(problems)
    return [
        CatalogPackage(id=e.id, type=PackageType(e.type or ""), name=e.name or "", description=e.description or "")
        for e in entries
    ]


def tenant_entries(entries: Sequence[PackageIn], vendor_ids: Collection[str]) -> list[TenantPackage]:
    """A tenant's entries from what the API took, checked against the vendor's catalog's ids; raises one
    ValidationFailed naming every bad entry (field rules, duplicates and unknown ids together)."""
    problems: list[FieldError] = []
    for index, entry in enumerate(entries):
        own = entry.id not in vendor_ids
        if own and (entry.type is None or entry.name is None):
            problems.append(
                FieldError(
                    path=f"$.packages[{index}].id",
                    message=f"{entry.id!r} is not in the vendor's catalog; give its type and name, or add it there",
                )
            )
        problems += _field_problems(index, entry, complete=False)
    problems += _duplicates(entries)
    if problems:
        raise ValidationFailed(problems)
    return [
        TenantPackage(
            id=e.id,
            type=PackageType(e.type) if e.type is not None else None,
            name=e.name,
            description=e.description,
        )
        for e in entries
    ]


class CatalogDiff(msgspec.Struct, frozen=True, kw_only=True):
    added: list[str]
    changed: list[str]
    removed: list[str]

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


def validate_catalog(packages: Sequence[CatalogPackage]) -> None:
    """Unique ids and non-blank names; raises ValidationFailed naming every bad entry."""
    errors = _duplicates(packages)
    for index, package in enumerate(packages):
        if not package.id.strip():
            errors.append(FieldError(path=f"$.packages[{index}].id", message="must not be blank"))
        if not package.name.strip():
            errors.append(FieldError(path=f"$.packages[{index}].name", message="must not be blank"))
    if errors:
        raise ValidationFailed(errors)


def resolve(entries: Sequence[TenantPackage], vendor: Sequence[CatalogPackage]) -> list[CatalogPackage]:
    """The packages a tenant offers: its entries filled in from the vendor's catalog, overrides applied."""
    known = {p.id: p for p in vendor}
    resolved: list[CatalogPackage] = []
    errors: list[FieldError] = []
    for index, entry in enumerate(entries):
        base = known.get(entry.id)
        if base is None and (entry.type is None or entry.name is None):
            errors.append(
                FieldError(
                    path=f"$.packages[{index}].id",
                    message=f"{entry.id!r} is not in the vendor's catalog; give its type and name, or add it there",
                )
            )
            continue
        if base is None:
            assert entry.type is not None
            assert entry.name is not None
            base = CatalogPackage(id=entry.id, type=entry.type, name=entry.name, description="")
        resolved.append(
            CatalogPackage(
                id=entry.id,
                type=entry.type or base.type,
                name=entry.name or base.name,
                description=entry.description if entry.description is not None else base.description,
            )
        )
    if errors:
        raise ValidationFailed(errors)
    validate_catalog(resolved)
    return resolved


def diff(desired: Sequence[CatalogPackage], accepted: Sequence[CatalogPackage]) -> CatalogDiff:
    before = {p.id: p for p in accepted}
    after = {p.id: p for p in desired}
    return CatalogDiff(
        added=[i for i in after if i not in before],
        changed=[i for i in after if i in before and after[i] != before[i]],
        removed=[i for i in before if i not in after],
    )


def deletion_refused(change: CatalogDiff, live_count: int, max_share: float) -> bool:
    """True when the change would delete more than ``max_share`` of a live catalog."""
    if live_count == 0 or not change.removed:
        return False
    return len(change.removed) / live_count > max_share
