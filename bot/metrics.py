"""Prometheus metrics, on a registry of Slotbot's own (so tests can build many apps)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "slotbot_http_requests_total",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "slotbot_http_request_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.outbox_depth = Gauge(
            "slotbot_outbox_depth", "Outbox jobs pending or in flight", registry=self.registry
        )
        self.due_lag = Gauge(
            "slotbot_outbox_due_lag_seconds",
            "How long the oldest due outbox job (a timer that fired, a retry) has waited for a "
            "worker",
            registry=self.registry,
        )
        self.deliveries = Counter(
            "slotbot_deliveries_total",
            "Outbox deliveries by platform and result (delivered, retried, dead, late: a "
            "timer that fired too late to be of use, dropped; stale: a timer whose reason went "
            "away, such as a moved or cancelled interview, dropped; dropped: an event for a "
            "webhook removed since)",
            ["platform", "result"],
            registry=self.registry,
        )
        self.callbacks = Counter(
            "slotbot_cronofy_callbacks_total",
            "Cronofy push callbacks by result (accepted, duplicate, rejected)",
            ["result"],
            registry=self.registry,
        )
