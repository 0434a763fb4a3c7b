"""The Prometheus text the registry renders: histograms cumulate their buckets; the process is named."""

from __future__ import annotations

from core.metrics import Histogram, process_info, render


def test_a_histogram_renders_cumulative_buckets_count_and_sum() -> None:
    histogram = Histogram("demo_seconds", "Demo.", (1, 0.1, 5))  # unsorted on purpose
    for value in (0.05, 0.1, 0.7, 3, 12):
        histogram.observe(value)
    lines = render([histogram]).splitlines()
    assert lines[1] == "# TYPE demo_seconds histogram"
    assert lines[2:] == [
        'demo_seconds_bucket{le="0.1"} 2',  # 0.1 itself falls in le=0.1
        'demo_seconds_bucket{le="1.0"} 3',
        'demo_seconds_bucket{le="5.0"} 4',
        'demo_seconds_bucket{le="+Inf"} 5',
        "demo_seconds_count 5",
        "demo_seconds_sum 15.85",
    ]


def test_process_info_names_the_role_and_the_process() -> None:
    text = render([process_info("worker", "host-1:42")])
    assert 'assessgate_process_info{name="host-1:42",role="worker"} 1' in text
