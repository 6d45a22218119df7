"""Assigning reviewers: who is free, and each reviewer's task as a conversation on the engine.

A reviewer's task reads as its steps: the DM with the rubric and two buttons, then a wait
for the review or a decline, with reminders at the program's fractions of the time to the
deadline. The review form or the decline form ends the wait (see `answers`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from typing_extensions import TypedDict

from bot.config import AppConfig, ReviewConfig
from bot.runtime.effects import Effects
from bot.runtime.engine import Do, Flow, FlowContext, FlowEngine, Wait
from flows.common.availability import local_day
from flows.review.pick import pick_reviewers
from flows.review.view import invitation, reminder
from storage.models import Cohort, FlowRun, Person, ReviewAssignment, ReviewRequest
from storage.statuses import AssignmentStatus

REVIEW_FLOW = "review.task"
DECIDE = "decide"
"""The step that waits for the review or the decline."""
MIN_TIME_FOR_REPLACEMENT = timedelta(days=2)
"""A replacement reviewer gets at least this long, even when the request is nearly due."""


def object_ref(request: ReviewRequest) -> str:
    return f"review:{request.id}"


class ReviewTask(TypedDict):
    """A reviewer's task run: which assignment, and when to remind them of it."""

    assignment_id: int
    remind_at: list[str]


def review_flow() -> Flow:
    return Flow(
        name=REVIEW_FLOW,
        steps=(
            Do("invite", _invite),
            Wait(DECIDE, remind_at=_reminder_times, on_remind=_remind),
        ),
        one_at_a_time=False,
    )


def review_config(config: AppConfig, cohort: Cohort) -> ReviewConfig | None:
    program = config.programs.get(cohort.program)
    return program.review if program else None


async def available_reviewers(effects: Effects, cohort: Cohort) -> list[int]:
    """Active participants who are neither away today nor inactive."""
    today = local_day(effects.now, cohort.time_zone)
    return [person.id for person in await effects.uow.participation.promptable(cohort.id, today)]


async def choose(
    effects: Effects,
    *,
    cohort: Cohort,
    author_id: int,
    wanted: int,
    exclude: set[int],
    before_request_id: int | None = None,
) -> list[int]:
    """Balanced picks: fewest open reviews, not the author's last reviewers if avoidable."""
    candidates = await available_reviewers(effects, cohort)
    uow = effects.uow
    return pick_reviewers(
        candidates,
        wanted=wanted,
        load=await uow.reviews.open_load(candidates),
        exclude=exclude | {author_id},
        avoid=await uow.reviews.previous_reviewers(
            cohort_id=cohort.id, author_id=author_id, before_request_id=before_request_id
        ),
    )


async def assign(
    effects: Effects,
    *,
    engine: FlowEngine,
    request: ReviewRequest,
    reviewer: Person,
    cohort: Cohort,
    due_at: datetime,
) -> ReviewAssignment:
    """Record the assignment and start the reviewer's task: the DM, then the wait."""
    assignment = await effects.uow.reviews.assign(
        request_id=request.id, reviewer_id=reviewer.id, due_at=due_at, now=effects.now
    )
    effects.log(
        "review.assigned",
        person_id=reviewer.id,
        cohort_id=cohort.id,
        object_ref=object_ref(request),
        data={"assignment_id": assignment.id},
    )
    task = ReviewTask(assignment_id=assignment.id, remind_at=[])
    await engine.start(
        flow_name=REVIEW_FLOW, person=reviewer, cohort=cohort, effects=effects, data=dict(task)
    )
    return assignment


def _task(ctx: FlowContext) -> ReviewTask:
    return cast(ReviewTask, ctx.data)


async def _invite(ctx: FlowContext) -> None:
    """The DM with the work, the rubric and the deadline; the reminders fall before it."""
    uow, cohort = ctx.effects.uow, ctx.cohort
    assignment = await uow.reviews.assignment(_task(ctx)["assignment_id"])
    request = await uow.reviews.request(assignment.request_id) if assignment else None
    author = await uow.people.get(request.author_id) if request else None
    review = review_config(ctx.config, cohort) if cohort else None
    if assignment is None or request is None or author is None or cohort is None or not review:
        raise LookupError("a review task names an assignment, a request and people that exist")
    await ctx.effects.dm(
        ctx.person.id,
        invitation(
            assignment=assignment,
            request=request,
            author=author,
            reviewer=ctx.person,
            review=review,
            cohort_name=cohort.name,
        ),
    )
    span = assignment.due_at - assignment.assigned_at
    ctx.remember(
        remind_at=[
            (assignment.assigned_at + span * fraction).isoformat()
            for fraction in sorted(review.reminder_fractions)
        ]
    )


def _reminder_times(ctx: FlowContext) -> list[datetime]:
    return [datetime.fromisoformat(at) for at in _task(ctx)["remind_at"]]


async def _remind(ctx: FlowContext) -> None:
    """A reminder falls due while the reviewer has neither reviewed nor declined."""
    uow = ctx.effects.uow
    assignment = await uow.reviews.assignment(_task(ctx)["assignment_id"], lock=True)
    if assignment is None or assignment.status != AssignmentStatus.ASSIGNED:
        return
    request = await uow.reviews.request(assignment.request_id)
    author = await uow.people.get(request.author_id) if request else None
    if request is None or author is None:
        return
    assignment.reminders_sent += 1
    await ctx.effects.dm(
        ctx.person.id,
        reminder(assignment=assignment, request=request, author=author, reviewer=ctx.person),
    )
    ctx.effects.log(
        "review.reminded",
        person_id=ctx.person.id,
        cohort_id=request.cohort_id,
        object_ref=object_ref(request),
        data={"assignment_id": assignment.id, "reminder": assignment.reminders_sent},
    )


async def task_run(
    effects: Effects, *, assignment: ReviewAssignment, cohort: Cohort
) -> FlowRun | None:
    """The reviewer's unfinished task run for this assignment, if any."""
    runs = await effects.uow.flow_runs.active(
        flow=REVIEW_FLOW, person_id=assignment.reviewer_id, cohort_id=cohort.id
    )
    return next((r for r in runs if r.data.get("assignment_id") == assignment.id), None)


def replacement_due(request: ReviewRequest, now: datetime) -> datetime:
    return max(request.due_at, now + MIN_TIME_FOR_REPLACEMENT)
