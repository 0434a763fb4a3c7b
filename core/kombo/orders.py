"""Assessment and background-check orders as Kombo sends them (webhooks and ``GET /assessment/orders``).

Parsing is lenient, as the contract has grown over time: unknown keys are ignored, enum-like fields are
plain strings, and every field the first SDK marked optional may be absent. ``UNSET`` marks absence,
``None`` an explicit null, so re-encoding a parsed order gives back the same document.
"""

from __future__ import annotations

from msgspec import UNSET, Struct, UnsetType


class Candidate(Struct, frozen=True, kw_only=True):
    email: str
    remote_id: str | UnsetType | None = UNSET
    first_name: str | UnsetType | None = UNSET
    last_name: str | UnsetType | None = UNSET
    phone: str | UnsetType | None = UNSET


class Application(Struct, frozen=True, kw_only=True):
    remote_id: str | UnsetType | None = UNSET


class Location(Struct, frozen=True, kw_only=True):
    street_1: str | UnsetType | None = UNSET
    street_2: str | UnsetType | None = UNSET
    city: str | UnsetType | None = UNSET
    state: str | UnsetType | None = UNSET
    zip_code: str | UnsetType | None = UNSET
    country: str | UnsetType | None = UNSET
    raw: str | UnsetType | None = UNSET


class HiringTeamMember(Struct, frozen=True, kw_only=True):
    remote_id: str | UnsetType | None = UNSET
    email: str | UnsetType | None = UNSET
    first_name: str | UnsetType | None = UNSET
    last_name: str | UnsetType | None = UNSET
    #: ``RECRUITER`` / ``HIRING_MANAGER`` today; the SDK briefly had more, so any string is kept.
    hiring_team_roles: tuple[str, ...] = ()


class Job(Struct, frozen=True, kw_only=True):
    remote_id: str | UnsetType | None = UNSET
    name: str | UnsetType | None = UNSET
    job_code: str | UnsetType | None = UNSET
    description: str | UnsetType | None = UNSET
    location: Location | UnsetType | None = UNSET
    hiring_team: tuple[HiringTeamMember, ...] | UnsetType = UNSET


class Order(Struct, frozen=True, kw_only=True):
    """One order from ``GET /assessment/orders`` (no ``integration_id``: it is the request's header).

    ``status`` is absent only on the deprecated ``GET /assessment/orders/open``.
    """

    id: str
    package_id: str
    status: str | UnsetType = UNSET
    candidate: Candidate
    application: Application | UnsetType = UNSET
    job: Job | UnsetType = UNSET


class OrderPage(Struct, frozen=True, kw_only=True):
    """``data`` of a list response: ``next`` is the opaque cursor of the next page, or ``None``."""

    next: str | None = None
    results: tuple[Order, ...] = ()


def without_personal_data(candidate: Candidate) -> Candidate:
    """The candidate with name, email and phone erased (the ATS's remote id stays, so the order can still be
    matched): what is kept of a finished order after its retention period."""
    return Candidate(email="", remote_id=candidate.remote_id, first_name=None, last_name=None, phone=None)
