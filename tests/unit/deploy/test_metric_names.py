"""The alerting rules, their tests and the Grafana dashboard name only metrics the code exports.

The exported names are read from the source (every ``Counter``/``Summary``/``Histogram``/``Gauge`` built with a
literal ``assessgate_...`` name), with the series a summary or histogram adds; the used names from the rules'
expressions, the promtool test's input series and the dashboard's queries. A renamed metric breaks this test
instead of silently blinding an alert.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

import yaml  # type: ignore[import-untyped]

from agtest import REPO_ROOT

SOURCE_FOLDERS = ("core", "jobs", "orders", "integrations", "tenants", "api", "adapters")
_CONSTRUCTOR = re.compile(r"\b(Counter|Summary|Histogram|Gauge)\(\s*\"(assessgate_\w+)\"")
_NAME = re.compile(r"\bassessgate_\w+")
_SUFFIXES = {
    "Counter": ("",),
    "Gauge": ("",),
    "Summary": ("_count", "_sum"),
    "Histogram": ("_bucket", "_count", "_sum"),
}


def exported_series() -> set[str]:
    names: set[str] = set()
    for folder in SOURCE_FOLDERS:
        for path in (REPO_ROOT / folder).rglob("*.py"):
            for kind, name in _CONSTRUCTOR.findall(path.read_text()):
                names.update(name + suffix for suffix in _SUFFIXES[kind])
    return names


def rule_expressions() -> list[str]:
    document = yaml.safe_load((REPO_ROOT / "deploy/prometheus/alerts.yml").read_text())
    return [str(rule["expr"]) for group in document["groups"] for rule in group["rules"]]


def rule_test_input_series() -> list[str]:
    document = yaml.safe_load((REPO_ROOT / "deploy/prometheus/alerts.test.yml").read_text())
    return [str(series["series"]) for test in document["tests"] for series in test["input_series"]]


def dashboard_expressions() -> list[str]:
    document = json.loads((REPO_ROOT / "deploy/grafana/assessgate.json").read_text())
    return [str(target["expr"]) for panel in document["panels"] for target in panel["targets"]]


def names_in(expressions: Iterable[str]) -> set[str]:
    return {name for expression in expressions for name in _NAME.findall(expression)}


def test_the_source_scan_finds_the_metrics_of_every_kind() -> None:
    exported = exported_series()
    for name in (
        "assessgate_jobs",  # a gauge
        "assessgate_webhooks_total",  # a counter
        "assessgate_job_claim_seconds_count",  # a summary's series
        "assessgate_webhook_answer_seconds_bucket",  # a histogram's series
    ):
        assert name in exported


def test_rules_name_only_exported_metrics() -> None:
    used = names_in(rule_expressions())
    assert len(used) >= 6
    assert used <= exported_series(), used - exported_series()


def test_rule_tests_feed_only_exported_metrics() -> None:
    used = names_in(rule_test_input_series())
    assert used, "no input series were read"
    assert used <= exported_series(), used - exported_series()


def test_dashboard_queries_only_exported_metrics() -> None:
    used = names_in(dashboard_expressions())
    assert len(used) >= 10
    assert used <= exported_series(), used - exported_series()
