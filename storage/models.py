"""SQLAlchemy models: the whole persistent state of cohortbot."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from storage.statuses import (
    AssignmentStatus,
    CohortStatus,
    CommitmentStatus,
    DeliveryClass,
    EscalationStatus,
    InboxStatus,
    MembershipStatus,
    OutboxStatus,
    PersonStatus,
    ReviewStatus,
    RunStatus,
    SessionStatus,
    StatementStatus,
    TimerStatus,
)

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
Id = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON()


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores them naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Workspace(Base):
    """A Slack workspace, a Teams tenant, or the local playground."""

    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("platform", "tenant_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    tenant_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200), default="")


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    status: Mapped[str] = mapped_column(String(16), default=PersonStatus.ACTIVE)
    profile: Mapped[dict[str, Any]] = mapped_column(Json, default=dict, server_default=text("'{}'"))
    """Onboarding answers: area, strengths, skills to learn, methods, availability, consent."""
    away_until: Mapped[date | None] = mapped_column(Date)
    """Last day of a time off (`/cohort away until`): no prompts, pairings or nudges."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Identity(Base):
    """A person as one platform knows them; conversation_ref lets the bot DM proactively."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("workspace_id", "platform_user_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    conversation_ref: Mapped[dict[str, Any] | None] = mapped_column(Json)
    reachable: Mapped[bool] = mapped_column(default=True)


class Cohort(Base):
    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    program: Mapped[str] = mapped_column(String(64))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    status: Mapped[str] = mapped_column(String(16), default=CohortStatus.ACTIVE)
    start_date: Mapped[date | None] = mapped_column(Date)
    """Kickoff day: program weeks, pulse check-ins and the session calendar count from it."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    @property
    def is_active(self) -> bool:
        """Its timers run and its commands work."""
        return self.status == CohortStatus.ACTIVE


class CohortChannel(Base):
    """Where a cohort talks on one platform."""

    __tablename__ = "cohort_channels"
    __table_args__ = (UniqueConstraint("cohort_id", "platform"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(128), index=True)


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("cohort_id", "person_id", "role"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=MembershipStatus.ACTIVE)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime())
    missed_in_a_row: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    """Prompts left unanswered since the last answer; three make the member inactive."""
    inactive_since: Mapped[datetime | None] = mapped_column(UtcDateTime())


class FlowRun(Base):
    """A conversation's position: flow, step and data, versioned for optimistic saves."""

    __tablename__ = "flow_runs"
    __table_args__ = (Index("ix_flow_runs_person_status", "person_id", "status"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    flow: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.ACTIVE)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __mapper_args__ = {"version_id_col": version}


class InboxEvent(Base):
    """Every inbound event, recorded under its platform id before it is processed."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("platform", "event_id"),
        Index("ix_inbox_status", "status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    status: Mapped[str] = mapped_column(String(16), default=InboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OutboxMessage(Base):
    """A message to deliver; keeps its platform reference once sent, for later updates."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_lane_status", "lane", "status"),
        Index("ix_outbox_ref_key", "ref_key"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(128))
    lane: Mapped[str] = mapped_column(String(300))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    target: Mapped[dict[str, Any]] = mapped_column(Json)
    message: Mapped[dict[str, Any]] = mapped_column(Json)
    ref_key: Mapped[str | None] = mapped_column(String(200))
    update_of_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    platform_ref: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    delivery_class: Mapped[str] = mapped_column(
        String(8), default=DeliveryClass.BULK, server_default=DeliveryClass.BULK
    )
    """Replies (to a person's own action) go before bulk sends."""
    fair_key: Mapped[str] = mapped_column(String(200), default="", server_default="")
    """Bulk sends take turns between these (a cohort, or the event that queued them)."""
    reply_to_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """When the person acted, for a reply: the start of its reply latency."""


class DeliveryRate(Base):
    """The posting rate the sender learned for one workspace, kept across restarts."""

    __tablename__ = "delivery_rates"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    workspace: Mapped[str] = mapped_column(String(128), primary_key=True)
    rate: Mapped[float] = mapped_column(Float)
    """Posts per second the workspace was last seen to accept."""
    ceiling: Mapped[float | None] = mapped_column(Float)
    """The rate at which the workspace last answered 429, if it ever did."""
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ScheduledItem(Base):
    """A persisted timer: a one-off (due once) or a cadence (cron fields in a time zone)."""

    __tablename__ = "scheduled_items"
    __table_args__ = (Index("ix_scheduled_items_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    task: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    recurrence: Mapped[dict[str, Any] | None] = mapped_column(Json)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16), default=TimerStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OccurrenceClaim(Base):
    """One run of a scheduled item; the unique key makes every occurrence run once."""

    __tablename__ = "occurrence_claims"
    __table_args__ = (UniqueConstraint("item_key", "occurrence_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    item_key: Mapped[str] = mapped_column(String(200))
    occurrence_at: Mapped[datetime] = mapped_column(UtcDateTime())
    claimed_by: Mapped[str] = mapped_column(String(100))
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    outcome: Mapped[str] = mapped_column(String(16), default="done")


class Activity(Base):
    """Append-only log of who did what and when: the source of every KPI."""

    __tablename__ = "activity_log"
    __table_args__ = (
        Index("ix_activity_cohort_verb_at", "cohort_id", "verb", "at"),
        Index("ix_activity_person_at", "person_id", "at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"))
    verb: Mapped[str] = mapped_column(String(64))
    object: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class MatchGroup(Base):
    """A pair or triad of one matching cycle, why it was formed, and whether it met."""

    __tablename__ = "match_groups"
    __table_args__ = (Index("ix_match_groups_cohort_cycle", "cohort_id", "cycle"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    cycle: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(8), default="pairs")
    members: Mapped[list[int]] = mapped_column(Json)
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    reasons: Mapped[list[str]] = mapped_column(Json, default=list)
    met: Mapped[dict[str, bool]] = mapped_column(Json, default=dict)
    """Person id (as text) -> their answer to "did you meet?"."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CheckinRound(Base):
    """One round of check-ins in a cohort: weekly (success and challenge) or a pulse."""

    __tablename__ = "checkin_rounds"
    __table_args__ = (UniqueConstraint("cohort_id", "kind", "number"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default="weekly")
    number: Mapped[int] = mapped_column(Integer)
    order: Mapped[list[int]] = mapped_column(Json, default=list)
    """Who goes first in the digest, rotated every round."""
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closes_at: Mapped[datetime] = mapped_column(UtcDateTime())
    digest_posted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CheckinAnswer(Base):
    """A participant's part in a round: prompted, maybe nudged, maybe answered."""

    __tablename__ = "checkin_answers"
    __table_args__ = (
        UniqueConstraint("round_id", "person_id"),
        Index("ix_checkin_answers_person", "person_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("checkin_rounds.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    success: Mapped[str | None] = mapped_column(Text)
    challenge: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    wants_help: Mapped[bool] = mapped_column(Boolean, default=False)
    helper_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    prompted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    nudged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CohortSession(Base):
    """A facilitated session: where in the agenda it is, and who runs and records it."""

    __tablename__ = "cohort_sessions"
    __table_args__ = (UniqueConstraint("cohort_id", "number"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=SessionStatus.RUNNING)
    item: Mapped[int] = mapped_column(Integer, default=0)
    """Index of the agenda item running now."""
    item_started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    paused_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    note_taker_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Attendance(Base):
    __tablename__ = "session_attendance"
    __table_args__ = (UniqueConstraint("session_id", "person_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("cohort_sessions.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class Commitment(Base):
    """A personal action from a session, with a deadline and an accountability peer."""

    __tablename__ = "commitments"
    __table_args__ = (Index("ix_commitments_cohort_person", "cohort_id", "person_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("cohort_sessions.id", ondelete="SET NULL")
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date] = mapped_column(Date)
    peer_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=CommitmentStatus.OPEN)
    """open, kept or not_kept."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ReviewRequest(Base):
    """An artifact a participant asked peers to review against the program's rubric."""

    __tablename__ = "review_requests"
    __table_args__ = (Index("ix_review_requests_cohort_status", "cohort_id", "status"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    artifact: Mapped[str] = mapped_column(Text)
    """A link or the text itself."""
    reviewers_wanted: Mapped[int] = mapped_column(Integer, default=2)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16), default=ReviewStatus.OPEN)
    """open, complete or cancelled."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ReviewAssignment(Base):
    """One reviewer's part in a request: the rubric scores and the author's usefulness rating."""

    __tablename__ = "review_assignments"
    __table_args__ = (
        UniqueConstraint("request_id", "reviewer_id"),
        Index("ix_review_assignments_reviewer_status", "reviewer_id", "status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("review_requests.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=AssignmentStatus.ASSIGNED)
    """assigned, declined or submitted."""
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    scores: Mapped[dict[str, int]] = mapped_column(Json, default=dict)
    """Rubric criterion id -> score."""
    comments: Mapped[dict[str, str]] = mapped_column(Json, default=dict)
    """Rubric criterion id -> comment; `overall` for the general one."""
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    declined_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decline_reason: Mapped[str | None] = mapped_column(Text)
    usefulness: Mapped[int | None] = mapped_column(Integer)
    """The author's 1-5 rating of this review."""
    rated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Poll(Base):
    """A poll, one quiz question or a satisfaction rating: options, live message, closing time."""

    __tablename__ = "polls"
    __table_args__ = (
        Index("ix_polls_cohort_kind", "cohort_id", "kind"),
        Index("ix_polls_series", "series"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default="poll")
    """poll, quiz or rating."""
    question: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(Json, default=list)
    multi: Mapped[bool] = mapped_column(Boolean, default=False)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    correct: Mapped[list[int] | None] = mapped_column(Json)
    """Indexes of the right options, for a quiz question."""
    series: Mapped[str | None] = mapped_column(String(200))
    """Groups the questions of one quiz run, or a session's rating (`session:<id>`)."""
    position: Mapped[int] = mapped_column(Integer, default=0)
    """Order within the series."""
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ref_key: Mapped[str | None] = mapped_column(String(200))
    """Logical key of the live message, so it can be updated in place."""


class PollVote(Base):
    """One voter's current choice. Anonymous polls keep only a one-way token, no person."""

    __tablename__ = "poll_votes"
    __table_args__ = (UniqueConstraint("poll_id", "voter"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    voter: Mapped[str] = mapped_column(String(64))
    """The person id as text, or a keyed one-way hash of it for an anonymous poll."""
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    """Empty for anonymous polls."""
    choices: Mapped[list[int]] = mapped_column(Json, default=list)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class BadgeAward(Base):
    """A badge a person earned in a cohort, by rule or by hand; never twice."""

    __tablename__ = "badge_awards"
    __table_args__ = (
        UniqueConstraint("cohort_id", "person_id", "badge"),
        Index("ix_badge_awards_person", "person_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    badge: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), default="rule")
    """rule or manual."""
    awarded_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    awarded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Kudos(Base):
    """Peer recognition from one participant to another."""

    __tablename__ = "kudos"
    __table_args__ = (Index("ix_kudos_giver_at", "giver_id", "at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    giver_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    receiver_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class Escalation(Base):
    """Something moderators must look at: a flag, a call for help or an automatic alert."""

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("dedup_key"),
        Index("ix_escalations_status_ack_due", "status", "ack_due_at"),
        Index("ix_escalations_cohort_status", "cohort_id", "status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    """flag, help, review_overdue, inactive or dead_letter."""
    tag: Mapped[str | None] = mapped_column(String(32))
    dedup_key: Mapped[str] = mapped_column(String(200))
    """What it is about, so each escalation fires once."""
    status: Mapped[str] = mapped_column(String(16), default=EscalationStatus.OPEN)
    """open, acknowledged or resolved."""
    tier: Mapped[int] = mapped_column(Integer, default=1)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    """The person it is about, when there is one."""
    summary: Mapped[str] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    ref_key: Mapped[str | None] = mapped_column(String(200))
    """Logical key of the moderators' message, so its buttons and status update in place."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ack_due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    acknowledged_by: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """When it went to tier 2."""
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))


class EscalationEvent(Base):
    """The audit trail of an escalation: raised, pinged, acknowledged, escalated, resolved."""

    __tablename__ = "escalation_events"
    __table_args__ = (Index("ix_escalation_events_escalation_at", "escalation_id", "at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)


class AppSetting(Base):
    """A value the bot generates once and keeps, such as its signing secret."""

    __tablename__ = "app_settings"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class XapiStatement(Base):
    """An activity-log entry as an xAPI statement, queued for the Learning Record Store."""

    __tablename__ = "xapi_statements"
    __table_args__ = (
        UniqueConstraint("activity_id"),
        Index("ix_xapi_statements_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    activity_id: Mapped[int] = mapped_column(BigInteger)
    """The activity_log row it describes; no foreign key, so the log can be pruned."""
    statement_id: Mapped[str] = mapped_column(String(36))
    statement: Mapped[dict[str, Any]] = mapped_column(Json)
    """Built once when queued, so every resend carries the same content and id."""
    status: Mapped[str] = mapped_column(String(16), default=StatementStatus.PENDING)
    """pending, sending (leased until next_attempt_at), sent or failed."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
