"""A small Prometheus text-format registry (exposition format 0.0.4), with no global state.

Counters and summaries live in the process that updates them; gauges that describe shared state (job
counts by state) are computed from the database at scrape time by the caller and passed to ``render``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Final

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
Labels = tuple[tuple[str, str], ...]


def _labels(labels: Mapping[str, str]) -> Labels:
    return tuple(sorted(labels.items()))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _format(name: str, labels: Labels, value: float) -> str:
    label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    number = "NaN" if math.isnan(value) else repr(float(value)) if not float(value).is_integer() else str(int(value))
    return f"{name}{{{label_text}}} {number}" if label_text else f"{name} {number}"


class Counter:
    def __init__(self, name: str, help_text: str) -> None:
        self.name = name
        self.help = help_text
        self.values: dict[Labels, float] = {}

    def inc(self, amount: float = 1, **labels: str) -> None:
        key = _labels(labels)
        self.values[key] = self.values.get(key, 0) + amount

    def lines(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        out += [_format(self.name, labels, value) for labels, value in sorted(self.values.items())]
        return out


class Summary:
    """Count and sum of observations (e.g. seconds), enough for rates and averages."""

    def __init__(self, name: str, help_text: str) -> None:
        self.name = name
        self.help = help_text
        self.count: dict[Labels, int] = {}
        self.sum: dict[Labels, float] = {}

    def observe(self, value: float, **labels: str) -> None:
        key = _labels(labels)
        self.count[key] = self.count.get(key, 0) + 1
        self.sum[key] = self.sum.get(key, 0.0) + value

    def lines(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} summary"]
        for labels in sorted(self.count):
            out.append(_format(f"{self.name}_count", labels, self.count[labels]))
            out.append(_format(f"{self.name}_sum", labels, self.sum[labels]))
        return out


class Histogram:
    """Cumulative buckets, count and sum of observations: enough for quantiles (``histogram_quantile``)."""

    def __init__(self, name: str, help_text: str, buckets: Iterable[float]) -> None:
        self.name = name
        self.help = help_text
        self.bounds = sorted(buckets)
        self.counts = [0] * len(self.bounds)  # per bound, not cumulative: summed when rendered
        self.count = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.count += 1
        self.sum += value
        for index, bound in enumerate(self.bounds):
            if value <= bound:
                self.counts[index] += 1
                break

    def lines(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        running = 0
        for bound, count in zip(self.bounds, self.counts, strict=True):
            running += count
            out.append(_format(f"{self.name}_bucket", (("le", repr(float(bound))),), running))
        out.append(_format(f"{self.name}_bucket", (("le", "+Inf"),), self.count))
        out.append(_format(f"{self.name}_count", (), self.count))
        out.append(_format(f"{self.name}_sum", (), self.sum))
        return out


class Gauge:
    """A gauge whose samples the caller supplies at render time."""

    def __init__(self, name: str, help_text: str, samples: Iterable[tuple[Mapping[str, str], float]]) -> None:
        self.name = name
        self.help = help_text
        self.samples = [(_labels(labels), value) for labels, value in samples]

    def lines(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} gauge"]
        out += [_format(self.name, labels, value) for labels, value in sorted(self.samples)]
        return out


class WorkerMetrics:
    """What a worker counts in its own process."""

    def __init__(self) -> None:
        self.outcomes = Counter("assessgate_job_outcomes_total", "Job runs by kind and outcome.")
        self.claims = Summary("assessgate_job_claim_seconds", "Time taken by one claim query.")
        self.claimed = Counter("assessgate_jobs_claimed_total", "Jobs leased by this process, by kind.")

    def families(self) -> list[Counter | Summary]:
        return [self.outcomes, self.claims, self.claimed]


def process_info(role: str, name: str) -> Gauge:
    """Always 1; its labels say which process answered (``serve`` or ``worker``, and its name), so the
    per-process counters of replicas and workers can be told apart and joined on ``instance``."""
    samples = [({"role": role, "name": name}, 1.0)]
    return Gauge("assessgate_process_info", "The process that serves these metrics.", samples)


Family = Counter | Summary | Histogram | Gauge


def render(families: Iterable[Family]) -> str:
    return "\n".join(line for family in families for line in family.lines()) + "\n"
