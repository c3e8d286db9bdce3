"""Prometheus text exposition: counters, gauges and histograms, as a scraper reads them."""
from __future__ import annotations

import pytest

from bot.metrics import Counter, Gauge, Histogram, Metrics


def test_counter_with_labels_and_escaping() -> None:
    counter = Counter("hc_things_total", "Things.", ("kind",))
    counter.inc(kind="a")
    counter.inc(2, kind='b"\\\n')
    assert counter.render() == [
        "# HELP hc_things_total Things.",
        "# TYPE hc_things_total counter",
        'hc_things_total{kind="a"} 1',
        'hc_things_total{kind="b\\"\\\\\\n"} 2',
    ]
    with pytest.raises(ValueError, match="only goes up"):
        counter.inc(-1, kind="a")
    with pytest.raises(ValueError, match="labels must be exactly"):
        counter.inc(route="x")


def test_unlabelled_counter_starts_at_zero_and_gauge_is_settable() -> None:
    assert Counter("hc_total", "T.").render()[-1] == "hc_total 0"
    gauge = Gauge("hc_level", "L.", ("issuer",))
    gauge.set(1, issuer="CN-310100")
    gauge.set(1.5, issuer="CN-330100")
    assert gauge.render()[2:] == ['hc_level{issuer="CN-310100"} 1', 'hc_level{issuer="CN-330100"} 1.5']
    gauge.clear()
    assert gauge.render()[2:] == []


def test_histogram_buckets_are_cumulative_with_sum_and_count() -> None:
    histogram = Histogram("hc_seconds", "S.", ("route",), buckets=(0.01, 0.1, 1.0))
    for seconds in (0.005, 0.05, 0.05, 2.0):
        histogram.observe(seconds, route="/x")
    assert histogram.render()[2:] == [
        'hc_seconds_bucket{route="/x",le="0.01"} 1',
        'hc_seconds_bucket{route="/x",le="0.1"} 3',
        'hc_seconds_bucket{route="/x",le="1"} 3',
        'hc_seconds_bucket{route="/x",le="+Inf"} 4',
        'hc_seconds_sum{route="/x"} 2.105',
        'hc_seconds_count{route="/x"} 4',
    ]
    assert histogram.count(route="/x") == 4
    with pytest.raises(ValueError, match="strictly increasing"):
        Histogram("bad", "B.", buckets=(1.0, 0.5))


def test_every_family_is_rendered_once_with_help_and_type() -> None:
    text = Metrics().render()
    names = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")]
    assert len(names) == len(set(names)) >= 12
    for required in ("healthcode_updates_total", "healthcode_declarations_total", "healthcode_verifications_total",
                     "healthcode_verification_duration_seconds", "healthcode_update_duration_seconds",
                     "healthcode_trust_list_stale"):
        assert required in names
    assert text.endswith("\n")
