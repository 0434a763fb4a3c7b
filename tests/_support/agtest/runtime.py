"""An adapter runtime over hand-made adapters, for tests of the intake and the order jobs."""

from __future__ import annotations

from typing import Any

from adapters.http import HttpxClient
from adapters.mail import LogMailer
from api.plugins import Adapters
from api.services import OrderServices
from core.plugins_file import PluginsFile, Routes
from core.settings import Settings
from jobs.worker import wall_clock_ms
from orders.adapter_runtime import AdapterRuntime, AdapterServices
from orders.intake import IntakeCounters, OrderIntake
from orders.reconciliation import OrderJobs
from storage.database import Database


def runtime_for(
    db: Database, settings: Settings, loaded: dict[str, Any], *, default: str | None = None
) -> AdapterRuntime:
    """A runtime whose only adapters are ``loaded`` (name -> adapter); the default route is ``default``,
    else the first name."""
    routes = PluginsFile(routes=Routes(default=default or next(iter(loaded))))
    directory = Adapters(routes=routes, loaded=loaded)
    return AdapterRuntime(
        db,
        settings,
        directory,
        AdapterServices(mailer=LogMailer(), http=HttpxClient(settings.outbound_policy())),
        wall_clock_ms,
    )


def intake_for(db: Database, settings: Settings, adapter: Any) -> OrderIntake:
    return OrderIntake(db, settings, runtime_for(db, settings, {"scripted": adapter}), IntakeCounters(), wall_clock_ms)


def services_of(intake: OrderIntake, jobs: OrderJobs) -> OrderServices:
    """The order services of a test that built its own intake and jobs (for ``build_registry``)."""
    directory = intake.runtime.directory
    assert isinstance(directory, Adapters)
    http = intake.runtime.services.http
    assert isinstance(http, HttpxClient)
    return OrderServices(directory, intake.runtime, http, intake, jobs, intake.counters, jobs.counters)
