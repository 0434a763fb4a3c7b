"""The order services of a process (serve or worker), built from its settings: adapters, intake, jobs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from api.plugins import Adapters, load_adapters, load_plugins_file
from core.adapters import Adapter
from core.ports import KomboApi
from core.settings import Settings
from tenants.db import Database
from tenants.order_intake import IntakeCounters, OrderIntake
from tenants.order_jobs import OrderJobs, ReconcileCounters


@dataclass
class OrderServices:
    adapters: Adapters
    intake: OrderIntake
    jobs: OrderJobs
    intake_counters: IntakeCounters
    reconcile_counters: ReconcileCounters


def order_services(settings: Settings, db: Database, kombo: KomboApi, clock: Callable[[], int]) -> OrderServices:
    adapters = load_adapters(load_plugins_file(settings.plugins_file), settings.adapters)

    def lookup(package_type: str, inline: bool, overrides: Mapping[str, str]) -> tuple[str, Adapter | None]:
        return adapters.for_order(package_type, inline=inline, overrides=overrides)

    intake_counters, reconcile_counters = IntakeCounters(), ReconcileCounters()
    intake = OrderIntake(db, settings, lookup, intake_counters, clock)
    jobs = OrderJobs(
        db, intake=intake, kombo=kombo, adapter_named=adapters.loaded.get, counters=reconcile_counters, clock_ms=clock
    )
    return OrderServices(adapters, intake, jobs, intake_counters, reconcile_counters)
