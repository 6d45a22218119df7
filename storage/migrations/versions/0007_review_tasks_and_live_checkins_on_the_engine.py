"""review tasks and live check-ins on the flow engine

Open review assignments and running live check-ins move onto the flow engine: each
assignment still waiting for its reviewer gets a `review.task` run waiting at `decide`,
and its pending reminder timers become the run's `flow.remind` timers; a running live
check-in's run waits at `turn`, and its turn timer becomes the run's `flow.timeout`.
No schema change; nothing pending is lost.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 18:45:00
"""

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

flow_runs = sa.table(
    "flow_runs",
    sa.column("id", sa.BigInteger),
    sa.column("flow", sa.String),
    sa.column("person_id", sa.BigInteger),
    sa.column("cohort_id", sa.BigInteger),
    sa.column("step", sa.String),
    sa.column("data", sa.JSON),
    sa.column("status", sa.String),
    sa.column("version", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
scheduled_items = sa.table(
    "scheduled_items",
    sa.column("id", sa.BigInteger),
    sa.column("key", sa.String),
    sa.column("task", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("status", sa.String),
    sa.column("due_at", sa.DateTime(timezone=True)),
)
assignments = sa.table(
    "review_assignments",
    sa.column("id", sa.BigInteger),
    sa.column("request_id", sa.BigInteger),
    sa.column("reviewer_id", sa.BigInteger),
    sa.column("status", sa.String),
    sa.column("assigned_at", sa.DateTime(timezone=True)),
)
requests = sa.table(
    "review_requests",
    sa.column("id", sa.BigInteger),
    sa.column("cohort_id", sa.BigInteger),
    sa.column("status", sa.String),
)
REMINDER_KEY = re.compile(r"^review:assignment:(\d+):remind:(\d+)$")
TURN_KEY = re.compile(r"^checkin:live:\d+:turn:\d+$")


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive UTC; the others aware datetimes."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _utc(moment: datetime) -> datetime:
    """As the app writes it: naive UTC on SQLite, aware elsewhere."""
    aware = _aware(moment)
    return aware.replace(tzinfo=None) if op.get_bind().dialect.name == "sqlite" else aware


def _active_timers(task: str) -> list[Any]:
    """(id, key, due_at, payload) of a task's timers still to fire."""
    return list(
        op.get_bind().execute(
            sa.select(
                scheduled_items.c.id,
                scheduled_items.c.key,
                scheduled_items.c.due_at,
                scheduled_items.c.payload,
            )
            .where(scheduled_items.c.task == task, scheduled_items.c.status == "active")
            .order_by(scheduled_items.c.id)
        )
    )


def _retime(item_id: int, *, key: str, task: str, run_id: int, step: str) -> None:
    op.get_bind().execute(
        scheduled_items.update()
        .where(scheduled_items.c.id == item_id)
        .values(key=key, task=task, payload={"run_id": run_id, "step": step})
    )


def _review_tasks(now: datetime) -> None:
    bind = op.get_bind()
    reminders: dict[int, list[tuple[int, int, datetime]]] = {}
    for item_id, key, due_at, _payload in _active_timers("review.remind"):
        found = REMINDER_KEY.match(key)
        if found:
            assignment_id, index = int(found[1]), int(found[2])
            reminders.setdefault(assignment_id, []).append((item_id, index, due_at))
    waiting = bind.execute(
        sa.select(
            assignments.c.id,
            assignments.c.reviewer_id,
            assignments.c.assigned_at,
            requests.c.cohort_id,
        )
        .join(requests, requests.c.id == assignments.c.request_id)
        .where(assignments.c.status == "assigned", requests.c.status == "open")
        .order_by(assignments.c.id)
    )
    for assignment_id, reviewer_id, assigned_at, cohort_id in list(waiting):
        pending = sorted(reminders.get(assignment_id, []), key=lambda r: r[1])
        remind_at = [_aware(due).isoformat() for _id, _i, due in pending]
        run_id = bind.execute(
            flow_runs.insert()
            .values(
                flow="review.task",
                person_id=reviewer_id,
                cohort_id=cohort_id,
                step="decide",
                data={"assignment_id": assignment_id, "remind_at": remind_at},
                status="waiting",
                version=1,
                created_at=_utc(assigned_at),
                updated_at=now,
            )
            .returning(flow_runs.c.id)
        ).scalar_one()
        for item_id, index, _due in pending:
            key = f"flow:{run_id}:decide:remind:{index}"
            _retime(item_id, key=key, task="flow.remind", run_id=run_id, step="decide")
    # Reminders of assignments no longer waiting would have done nothing when due.
    bind.execute(
        scheduled_items.update()
        .where(scheduled_items.c.task == "review.remind", scheduled_items.c.status == "active")
        .values(status="cancelled")
    )


def _live_checkins() -> None:
    bind = op.get_bind()
    turn_timers = {
        int(payload.get("run_id", 0)): item_id
        for item_id, key, _due, payload in _active_timers("checkin.live_turn")
        if TURN_KEY.match(key)
    }
    running = bind.execute(
        sa.select(flow_runs.c.id, flow_runs.c.data).where(
            flow_runs.c.flow == "checkin.live", flow_runs.c.status == "active"
        )
    )
    for run_id, data in list(running):
        bind.execute(
            flow_runs.update()
            .where(flow_runs.c.id == run_id)
            .values(status="waiting", step="turn", data={**data, "again": False})
        )
        if run_id in turn_timers:
            key = f"flow:{run_id}:turn:timeout"
            _retime(turn_timers[run_id], key=key, task="flow.timeout", run_id=run_id, step="turn")
    bind.execute(
        scheduled_items.update()
        .where(scheduled_items.c.task == "checkin.live_turn", scheduled_items.c.status == "active")
        .values(status="cancelled")
    )


def upgrade() -> None:
    now = _utc(datetime.now(UTC))
    _review_tasks(now)
    _live_checkins()


def downgrade() -> None:
    """Back to the assignment's own reminder timers and the live check-in's turn timer."""
    bind = op.get_bind()
    for run_id, flow, data in list(
        bind.execute(
            sa.select(flow_runs.c.id, flow_runs.c.flow, flow_runs.c.data).where(
                flow_runs.c.flow.in_(("review.task", "checkin.live")),
                flow_runs.c.status == "waiting",
            )
        )
    ):
        timers = bind.execute(
            sa.select(scheduled_items.c.id, scheduled_items.c.key).where(
                scheduled_items.c.key.startswith(f"flow:{run_id}:"),
                scheduled_items.c.status == "active",
            )
        )
        for item_id, key in list(timers):
            if flow == "review.task":
                index = key.rsplit(":", 1)[1]
                values: dict[str, Any] = {
                    "key": f"review:assignment:{data['assignment_id']}:remind:{index}",
                    "task": "review.remind",
                    "payload": {"assignment_id": data["assignment_id"]},
                }
            else:
                values = {
                    "key": f"checkin:live:{data['round_id']}:turn:{data['turn']}",
                    "task": "checkin.live_turn",
                    "payload": {"run_id": run_id, "turn": data["turn"]},
                }
            bind.execute(
                scheduled_items.update().where(scheduled_items.c.id == item_id).values(**values)
            )
        if flow == "review.task":
            bind.execute(flow_runs.delete().where(flow_runs.c.id == run_id))
        else:
            bind.execute(flow_runs.update().where(flow_runs.c.id == run_id).values(status="active"))
