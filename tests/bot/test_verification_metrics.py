"""The metrics a scraper reads, parsed with prometheus_client's own parser of the text format."""
from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics


def _families(metrics: Metrics) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    return {family.name: [(sample.name, sample.labels, sample.value) for sample in family.samples]
            for family in text_string_to_metric_families(metrics.render())}


def test_counters_with_labels_and_escaping_survive_the_text_format() -> None:
    metrics = Metrics()
    metrics.verifications.inc(channel="web", result="valid")
    metrics.verifications.inc(2, channel='b"\\\n', result="valid")
    samples = _families(metrics)["healthcode_verifications"]
    assert ("healthcode_verifications_total", {"channel": "web", "result": "valid"}, 1.0) in samples
    assert ("healthcode_verifications_total", {"channel": 'b"\\\n', "result": "valid"}, 2.0) in samples
    assert metrics.verifications.value(channel="web", result="valid") == 1
    with pytest.raises(ValueError):
        metrics.verifications.inc(-1, channel="web", result="valid")
    with pytest.raises(ValueError):
        metrics.verifications.inc(route="x")


def test_an_unlabelled_counter_starts_at_zero_and_gauges_are_set_at_scrape_time() -> None:
    metrics = Metrics()
    assert ("healthcode_declarations_total", {}, 0.0) in _families(metrics)["healthcode_declarations"]
    metrics.trust_list_stale.set(1, issuer="CN-310100")
    metrics.trust_list_stale.set(0, issuer="CN-330100")
    assert _families(metrics)["healthcode_trust_list_stale"] == [
        ("healthcode_trust_list_stale", {"issuer": "CN-310100"}, 1.0),
        ("healthcode_trust_list_stale", {"issuer": "CN-330100"}, 0.0),
    ]
    metrics.trust_list_stale.clear()
    assert _families(metrics)["healthcode_trust_list_stale"] == []
    with pytest.raises(ValueError, match="labels must be exactly"):
        metrics.trust_list_stale.set(1, source="x")


def test_histogram_buckets_are_cumulative_with_sum_and_count() -> None:
    metrics = Metrics()
    for seconds in (0.0002, 0.003, 0.003, 20.0):
        metrics.http_seconds.observe(seconds, route="/x")
    samples = {(name, labels.get("le")): value for name, labels, value in
               _families(metrics)["healthcode_http_request_duration_seconds"] if labels.get("route") == "/x"}
    assert samples[("healthcode_http_request_duration_seconds_bucket", "0.00025")] == 1
    assert samples[("healthcode_http_request_duration_seconds_bucket", "0.005")] == 3
    assert samples[("healthcode_http_request_duration_seconds_bucket", "10.0")] == 3
    assert samples[("healthcode_http_request_duration_seconds_bucket", "+Inf")] == 4
    assert samples[("healthcode_http_request_duration_seconds_count", None)] == 4
    assert samples[("healthcode_http_request_duration_seconds_sum", None)] == pytest.approx(20.0062)
    assert metrics.http_seconds.count(route="/x") == 4


def test_every_family_is_rendered_once() -> None:
    names = list(_families(Metrics()))
    assert len(names) == len(set(names)) >= 12
    for required in ("healthcode_updates", "healthcode_declarations", "healthcode_verifications",
                     "healthcode_verification_duration_seconds", "healthcode_update_duration_seconds",
                     "healthcode_trust_list_stale"):
        assert required in names
    assert Metrics().render().endswith("\n")


def test_two_metrics_objects_in_one_process_count_apart() -> None:
    """Each Services has its own registry: tests and the shell never see another's counts."""
    first, second = Metrics(), Metrics()
    first.declarations.inc()
    assert first.declarations.value() == 1 and second.declarations.value() == 0
