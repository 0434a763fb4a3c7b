"""An adapter runtime over hand-made adapters, for tests of the intake and the order jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from adapters.http import HttpxClient
from adapters.mail import LogMailer
from api.composition import Gateway, open_gateway
from api.plugins import Adapters
from core.clock import Clock, wall_clock_ms
from core.plugins_file import PluginsFile, Routes
from core.ports import KomboApi
from core.settings import Settings
from orders.adapter_runtime import AdapterRuntime, AdapterServices
from orders.intake import IntakeCounters, OrderIntake
from storage.database import Database


def adapters_of(loaded: dict[str, Any], *, default: str | None = None) -> Adapters:
    """Only the ``loaded`` adapters (name -> adapter); the default route is ``default``, else the first name."""
    return Adapters(routes=PluginsFile(routes=Routes(default=default or next(iter(loaded)))), loaded=loaded)


def runtime_for(
    db: Database, settings: Settings, loaded: dict[str, Any], *, default: str | None = None
) -> AdapterRuntime:
    """A runtime whose only adapters are ``loaded`` (name -> adapter); the default route is ``default``,
    else the first name."""
    return AdapterRuntime(
        db,
        settings,
        adapters_of(loaded, default=default),
        AdapterServices(mailer=LogMailer(), http=HttpxClient(settings.outbound_policy())),
        wall_clock_ms,
    )


def intake_for(db: Database, settings: Settings, adapter: Any) -> OrderIntake:
    return OrderIntake(db, settings, runtime_for(db, settings, {"scripted": adapter}), IntakeCounters(), wall_clock_ms)


@asynccontextmanager
async def gateway_for(
    db: Database,
    settings: Settings,
    loaded: dict[str, Any] | None = None,
    *,
    kombo: KomboApi | None = None,
    clock: Clock = wall_clock_ms,
) -> AsyncIterator[Gateway]:
    """The composition root over the test's database, with only the ``loaded`` adapters when given."""
    adapters = adapters_of(loaded) if loaded is not None else None
    async with open_gateway(settings, db=db, kombo=kombo, adapters=adapters, clock=clock) as gateway:
        yield gateway
