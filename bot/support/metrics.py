"""Prometheus metrics, one registry per running app (no process-wide globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REPLY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 300.0)
"""Seconds; Slack shows a failure when a command is not answered within 3."""


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
        self.outbox_queue = Gauge(
            "cohortbot_outbox_queue",
            "Messages waiting or in flight, by platform, workspace and class (reply or bulk)",
            ["platform", "workspace", "delivery_class"],
            registry=self.registry,
        )
        self.learned_rate = Gauge(
            "cohortbot_learned_rate_per_second",
            "The posting rate the sender learned for a workspace",
            ["platform", "workspace"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "cohortbot_rate_limited",
            "Sends the platform answered 429 (rate limited), by platform",
            ["platform"],
            registry=self.registry,
        )
        self.reply_latency = Histogram(
            "cohortbot_reply_latency_seconds",
            "Time from a person's action to the bot's reply reaching the platform",
            ["platform"],
            buckets=REPLY_BUCKETS,
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
