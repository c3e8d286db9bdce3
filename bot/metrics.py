"""Prometheus metrics, kept by ``prometheus_client`` and served on ``GET /metrics``.

One :class:`Metrics` per process, kept in ``Services.metrics``. When several processes serve the
web side (``HEALTHCODE_WEB_WORKERS``), the parent gives them one directory for prometheus_client's
multiprocess mode (:func:`shared_by_web_workers`), so a single scrape of any of them covers all:
counters and histograms are summed over every process, including workers that have died since.
The trust-list gauges describe the scraping process's own view and are computed at scrape time.

Labels never carry personal data: update kinds, verification channels and results, route names,
issuer ids and trust-list sources only.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import prometheus_client
from prometheus_client import CollectorRegistry, generate_latest, multiprocess, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.dml import Insert
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
SHARED_DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own name for it
# Seconds: fine at the bottom for verifications (~0.2 ms), coarse at the top for slow updates.
DEFAULT_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_UPDATE_KINDS = ("message", "edited_message", "callback_query", "my_chat_member", "chat_member", "inline_query")
_DECLARATIONS_TABLE = "declarations"
_MAX_PENDING_UPDATES = 10_000

# A `_created` sample per series doubles the output and no dashboard of ours reads it.
prometheus_client.disable_created_metrics()


class Counter:
    def __init__(self, registry: CollectorRegistry, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        self._registry, self._labels = registry, tuple(labels)
        self._sample = name if name.endswith("_total") else f"{name}_total"
        self._metric = prometheus_client.Counter(name, help_text, self._labels, registry=registry)

    def inc(self, amount: float = 1.0, **labels: Any) -> None:
        (self._metric.labels(**labels) if self._labels else self._metric).inc(amount)

    def value(self, **labels: Any) -> float:
        """This process's count (a scrape sums every process's)."""
        return self._registry.get_sample_value(self._sample, {k: str(v) for k, v in labels.items()}) or 0.0


class Histogram:
    def __init__(self, registry: CollectorRegistry, name: str, help_text: str, labels: Sequence[str] = (),
                 buckets: Sequence[float] = DEFAULT_BUCKETS) -> None:
        self._registry, self._name, self._labels = registry, name, tuple(labels)
        self._metric = prometheus_client.Histogram(name, help_text, self._labels, registry=registry, buckets=buckets)

    def observe(self, seconds: float, **labels: Any) -> None:
        (self._metric.labels(**labels) if self._labels else self._metric).observe(seconds)

    def count(self, **labels: Any) -> int:
        """This process's number of observations."""
        found = self._registry.get_sample_value(f"{self._name}_count", {k: str(v) for k, v in labels.items()})
        return int(found or 0)


class Gauge:
    """A value the serving process sets just before a scrape (trust-list state). Never shared between
    processes: each process has its own trust store, and the one scraped reports what it sees."""

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        self.name, self.help, self.labels = name, help_text, tuple(labels)
        self._values: dict[tuple[str, ...], float] = {}

    def set(self, value: float, **labels: Any) -> None:
        self._values[self._key(labels)] = float(value)

    def clear(self) -> None:
        self._values.clear()

    def value(self, **labels: Any) -> float | None:
        return self._values.get(self._key(labels))

    def family(self) -> Metric:
        family = GaugeMetricFamily(self.name, self.help, labels=self.labels)
        for key, value in sorted(self._values.items()):
            family.add_metric(list(key), value)
        return family

    def _key(self, labels: dict[str, Any]) -> tuple[str, ...]:
        if set(labels) != set(self.labels):
            raise ValueError(f"metric {self.name}: labels must be exactly {self.labels}, got {tuple(labels)}")
        return tuple(str(labels[name]) for name in self.labels)


class _ScrapeTimeGauges:
    """A prometheus_client collector over this process's :class:`Gauge` values."""

    def __init__(self, gauges: Iterable[Gauge]) -> None:
        self._gauges = tuple(gauges)

    def collect(self) -> Iterator[Metric]:
        for gauge in self._gauges:
            yield gauge.family()

    def describe(self) -> Iterator[Metric]:
        return self.collect()


class Metrics:
    """Every metric this process exports."""

    def __init__(self, *, shared_directory: Path | None = None) -> None:
        self.shared_directory = shared_directory
        if shared_directory is not None:
            # prometheus_client chooses where values live when it is first imported, which may be before
            # this process learnt the directory (the parent of the web workers): choose again, for good.
            os.environ[SHARED_DIRECTORY_VARIABLE] = str(shared_directory)
            values.ValueClass = values.MultiProcessValue()
        registry = self._registry = CollectorRegistry()
        self.updates = Counter(registry, "healthcode_updates_total", "Telegram updates handled, by kind.", ("kind",))
        self.update_seconds = Histogram(
            registry, "healthcode_update_duration_seconds", "Time to handle one Telegram update, replies included."
        )
        self.declarations = Counter(
            registry, "healthcode_declarations_total", "Daily declarations stored (new or replacing)."
        )
        self.verifications = Counter(
            registry, "healthcode_verifications_total", "Credential verifications by channel and result.",
            ("channel", "result"),
        )
        self.verification_seconds = Histogram(
            registry, "healthcode_verification_duration_seconds", "Time to verify one credential, by channel.",
            ("channel",),
        )
        self.http_requests = Counter(
            registry, "healthcode_http_requests_total", "HTTP requests served, by route and status.",
            ("route", "status"),
        )
        self.http_seconds = Histogram(
            registry, "healthcode_http_request_duration_seconds", "Time to serve one HTTP request, by route.",
            ("route",),
        )
        self.webhook_deliveries = Counter(
            registry, "healthcode_webhook_deliveries_total", "Webhook deliveries from Telegram, by outcome.",
            ("result",),
        )
        self.trust_list_stale = Gauge(
            "healthcode_trust_list_stale",
            "1 when the issuer's trust list is past next_update plus the grace period.", ("issuer",),
        )
        self.trust_list_next_update = Gauge(
            "healthcode_trust_list_next_update_timestamp_seconds",
            "The next_update of each trusted issuer's list, as a Unix time.", ("issuer",),
        )
        self.trust_source_up = Gauge(
            "healthcode_trust_source_up",
            "1 when the configured trust-list source last loaded without error, 0 otherwise.", ("source",),
        )
        self.trust_source_available = Gauge(
            "healthcode_trust_source_available",
            "1 when a list from the source is in use (possibly an older copy), 0 when none is.", ("source",),
        )
        self._gauges = _ScrapeTimeGauges(value for value in vars(self).values() if isinstance(value, Gauge))
        registry.register(self._gauges)

    @classmethod
    def for_this_process(cls) -> Metrics:
        """Shared with the other web workers when the parent process handed down a directory."""
        directory = os.environ.get(SHARED_DIRECTORY_VARIABLE)
        return cls(shared_directory=Path(directory) if directory else None)

    def render(self) -> str:
        if self.shared_directory is None:
            return generate_latest(self._registry).decode()
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(self.shared_directory))
        registry.register(self._gauges)
        return generate_latest(registry).decode()


@contextlib.contextmanager
def shared_by_web_workers(enabled: bool) -> Iterator[None]:
    """In the parent of HEALTHCODE_WEB_WORKERS: a fresh directory every process writes its counters to
    (the workers inherit it through the environment), removed when the parent ends."""
    if not enabled or os.environ.get(SHARED_DIRECTORY_VARIABLE):
        yield
        return
    directory = tempfile.mkdtemp(prefix="healthcode-metrics-")
    os.environ[SHARED_DIRECTORY_VARIABLE] = directory
    try:
        yield
    finally:
        os.environ.pop(SHARED_DIRECTORY_VARIABLE, None)
        shutil.rmtree(directory, ignore_errors=True)


def update_kind(update: object) -> str:
    if not isinstance(update, Update):
        return "other"
    return next((kind for kind in _UPDATE_KINDS if getattr(update, kind, None) is not None), "other")


def instrument_application(application: Application, metrics: Metrics) -> None:
    """Count every update and time it, around all the handlers, in polling and webhook mode alike."""
    started: dict[int, float] = {}

    async def on_start(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if len(started) > _MAX_PENDING_UPDATES:  # an update whose end was never seen must not pile up
            started.clear()
        started[id(update)] = time.perf_counter()

    async def on_end(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        begun = started.pop(id(update), None)
        metrics.updates.inc(kind=update_kind(update))
        if begun is not None:
            metrics.update_seconds.observe(time.perf_counter() - begun)

    # Groups run in order and every group gets the update, so these two bracket all handlers.
    application.add_handler(TypeHandler(object, on_start), group=-1_000_000)
    application.add_handler(TypeHandler(object, on_end), group=1_000_000)


def count_declarations(engine: AsyncEngine, metrics: Metrics) -> None:
    """Count declarations where they are stored, so every path that stores one is counted."""

    def after_execute(connection: Any, clause: Any, *args: Any) -> None:
        table = getattr(clause, "table", None)
        if isinstance(clause, Insert) and getattr(table, "name", None) == _DECLARATIONS_TABLE:
            metrics.declarations.inc()

    event.listen(engine.sync_engine, "after_execute", after_execute)

