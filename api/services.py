"""The order services of a process (serve or worker), built from its settings: adapters and their runtime,
intake, jobs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from adapters.http import HttpxClient
from adapters.mail import mailer_for
from api.plugins import Adapters, load_adapters, load_plugins_file
from core.ports import KomboApi
from core.settings import Settings
from orders.adapter_runtime import AdapterRuntime, AdapterServices
from orders.intake import IntakeCounters, OrderIntake
from orders.reconciliation import OrderJobs, ReconcileCounters
from storage.database import Database


@dataclass
class OrderServices:
    adapters: Adapters
    runtime: AdapterRuntime
    http: HttpxClient
    intake: OrderIntake
    jobs: OrderJobs
    intake_counters: IntakeCounters
    reconcile_counters: ReconcileCounters


def order_services(settings: Settings, db: Database, kombo: KomboApi, clock: Callable[[], int]) -> OrderServices:
    adapters = load_adapters(load_plugins_file(settings.plugins_file), settings.adapters)
    http = HttpxClient(settings.outbound_policy())
    runtime = AdapterRuntime(
        db,
        settings,
        adapters,
        AdapterServices(
            mailer=mailer_for(settings.mail, development=settings.env == "development", data_dir=settings.data_dir),
            http=http,
        ),
        clock,
    )
    intake_counters, reconcile_counters = IntakeCounters(), ReconcileCounters()
    intake = OrderIntake(db, settings, runtime, intake_counters, clock)
    jobs = OrderJobs(db, intake=intake, kombo=kombo, counters=reconcile_counters, clock_ms=clock)
    return OrderServices(adapters, runtime, http, intake, jobs, intake_counters, reconcile_counters)
