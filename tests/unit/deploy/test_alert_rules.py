"""The alerting rules in deploy/prometheus are valid and behave: ``promtool check rules`` accepts them, and
``promtool test rules`` replays an outage (every alert fires) and a healthy day (none does).

promtool comes with Debian's ``prometheus`` package (``.ci/run`` installs it); without it these tests skip,
except under CI=true, where a missing promtool must not pass for a tested rule set.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from agtest import REPO_ROOT
from agtest.postgres import in_ci

RULES_DIR = REPO_ROOT / "deploy" / "prometheus"


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        message = "promtool is not installed (Debian: apt-get install prometheus)"
        if in_ci():
            pytest.fail(f"CI=true requires promtool: {message}")
        pytest.skip(message)
    return found


def run_promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool(), *args], cwd=RULES_DIR, capture_output=True, text=True, timeout=120, check=False)


def test_the_rules_are_valid() -> None:
    result = run_promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 7 rules found" in result.stdout


def test_each_alert_fires_in_an_outage_and_stays_quiet_on_a_healthy_day() -> None:
    result = run_promtool("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_is_tested_both_ways() -> None:
    """An alert added to the rules without a case in the outage and in the healthy day fails here."""
    rules = (RULES_DIR / "alerts.yml").read_text()
    tests = (RULES_DIR / "alerts.test.yml").read_text()
    outage, healthy = tests.split("- name: a healthy day", 1)
    alerts = [line.split(":", 1)[1].strip() for line in rules.splitlines() if line.strip().startswith("- alert:")]
    assert len(alerts) == 7
    for alert in alerts:
        assert f"alertname: {alert}\n        exp_alerts:\n          - exp_labels" in outage, f"{alert} never fires"
        assert f"alertname: {alert}, exp_alerts: []" in healthy, f"{alert} is not checked on the healthy day"
