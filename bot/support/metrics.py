"""Prometheus metrics, one registry per running app (no process-wide globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.events_in = Counter(
            "cohortbot_events_in",
            "Inbound platform events, by platform and outcome",
            ["platform", "outcome"],
            registry=self.registry,
        )
        self.messages_out = Counter(
            "cohortbot_messages_out",
            "Outgoing message attempts, by platform and status",
            ["platform", "status"],
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "cohortbot_outbox_depth",
            "Outbox rows by status",
            ["status"],
            registry=self.registry,
        )
        self.xapi_queue = Gauge(
            "cohortbot_xapi_statements",
            "xAPI statements by status (pending and sending are the queue's depth)",
            ["status"],
            registry=self.registry,
        )
        self.scheduler_lag = Gauge(
            "cohortbot_scheduler_lag_seconds",
            "How late the most recent scheduled occurrence ran",
            registry=self.registry,
        )
        self.scheduler_runs = Gauge(
            "cohortbot_scheduled_runs",
            "Scheduled occurrences run by this process since it started",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
