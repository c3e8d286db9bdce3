"""Prometheus metrics in the text exposition format 0.0.4, without a client library.

One :class:`Metrics` per process, kept in ``Services.metrics`` and served on ``GET /metrics``.
Labels never carry personal data: update kinds, verification channels and results, route names,
issuer ids and trust-list sources only.
"""
from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.dml import Insert
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds: fine at the bottom for verifications (~0.2 ms), coarse at the top for slow updates.
DEFAULT_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_UPDATE_KINDS = ("message", "edited_message", "callback_query", "my_chat_member", "chat_member", "inline_query")
_DECLARATIONS_TABLE = "declarations"
_MAX_PENDING_UPDATES = 10_000


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _format_labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{name}="{_escape(value)}"' for name, value in zip(names, values)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _format_number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


class _Family:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.labels = tuple(labels)

    def _key(self, labels: dict[str, Any]) -> tuple[str, ...]:
        if set(labels) != set(self.labels):
            raise ValueError(f"metric {self.name}: labels must be exactly {self.labels}, got {tuple(labels)}")
        return tuple(str(labels[name]) for name in self.labels)

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]

    def render(self) -> list[str]:
        raise NotImplementedError


class Counter(_Family):
    kind = "counter"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labels)
        self._values: dict[tuple[str, ...], float] = {}
        if not self.labels:
            self._values[()] = 0.0  # an unlabelled counter exists from the start, at zero

    def inc(self, amount: float = 1.0, **labels: Any) -> None:
        if amount < 0:
            raise ValueError(f"metric {self.name}: a counter only goes up")
        key = self._key(labels)
        self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: Any) -> float:
        return self._values.get(self._key(labels), 0.0)

    def render(self) -> list[str]:
        lines = self.header()
        for key, value in sorted(self._values.items()):
            lines.append(f"{self.name}{_format_labels(self.labels, key)} {_format_number(value)}")
        return lines


class Gauge(_Family):
    """A value set from the outside, typically just before rendering."""

    kind = "gauge"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labels)
        self._values: dict[tuple[str, ...], float] = {}

    def set(self, value: float, **labels: Any) -> None:
        self._values[self._key(labels)] = float(value)

    def clear(self) -> None:
        self._values.clear()

    def value(self, **labels: Any) -> float | None:
        return self._values.get(self._key(labels))

    def render(self) -> list[str]:
        lines = self.header()
        for key, value in sorted(self._values.items()):
            lines.append(f"{self.name}{_format_labels(self.labels, key)} {_format_number(value)}")
        return lines


class Histogram(_Family):
    kind = "histogram"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = (),
                 buckets: Sequence[float] = DEFAULT_BUCKETS) -> None:
        super().__init__(name, help_text, labels)
        if list(buckets) != sorted(set(buckets)):
            raise ValueError(f"metric {self.name}: buckets must be strictly increasing")
        self.buckets = tuple(buckets)
        self._series: dict[tuple[str, ...], list[float]] = {}  # per-bucket counts, then sum, then count

    def observe(self, seconds: float, **labels: Any) -> None:
        key = self._key(labels)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = [0.0] * (len(self.buckets) + 2)
        for index, bound in enumerate(self.buckets):
            if seconds <= bound:
                series[index] += 1
                break
        series[-2] += seconds
        series[-1] += 1

    def count(self, **labels: Any) -> int:
        series = self._series.get(self._key(labels))
        return 0 if series is None else int(series[-1])

    def render(self) -> list[str]:
        lines = self.header()
        for key, series in sorted(self._series.items()):
            cumulative = 0.0
            for bound, in_bucket in zip(self.buckets, series):
                cumulative += in_bucket
                labels = _format_labels(self.labels, key, f'le="{_format_number(bound)}"')
                lines.append(f"{self.name}_bucket{labels} {_format_number(cumulative)}")
            labels = _format_labels(self.labels, key, 'le="+Inf"')
            lines.append(f"{self.name}_bucket{labels} {_format_number(series[-1])}")
            plain = _format_labels(self.labels, key)
            lines.append(f"{self.name}_sum{plain} {_format_number(series[-2])}")
            lines.append(f"{self.name}_count{plain} {_format_number(series[-1])}")
        return lines


class Metrics:
    """Every metric this process exports."""

    def __init__(self) -> None:
        self.updates = Counter("healthcode_updates_total", "Telegram updates handled, by kind.", ("kind",))
        self.update_seconds = Histogram(
            "healthcode_update_duration_seconds", "Time to handle one Telegram update, replies included."
        )
        self.declarations = Counter("healthcode_declarations_total", "Daily declarations stored (new or replacing).")
        self.verifications = Counter(
            "healthcode_verifications_total", "Credential verifications by channel and result.", ("channel", "result")
        )
        self.verification_seconds = Histogram(
            "healthcode_verification_duration_seconds", "Time to verify one credential, by channel.", ("channel",)
        )
        self.http_requests = Counter(
            "healthcode_http_requests_total", "HTTP requests served, by route and status.", ("route", "status")
        )
        self.http_seconds = Histogram(
            "healthcode_http_request_duration_seconds", "Time to serve one HTTP request, by route.", ("route",)
        )
        self.webhook_deliveries = Counter(
            "healthcode_webhook_deliveries_total", "Webhook deliveries from Telegram, by outcome.", ("result",)
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

    def families(self) -> list[_Family]:
        return [value for value in vars(self).values() if isinstance(value, _Family)]

    def render(self) -> str:
        lines: list[str] = []
        for family in self.families():
            lines.extend(family.render())
        return "\n".join(lines) + "\n"


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

