"""Assigning reviewers: who is free, the DM with the rubric, and the reminder timers."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.config import AppConfig, ReviewConfig
from bot.runtime.effects import Effects
from bot.runtime.scheduler import TaskContext, Timers
from flows.common.availability import local_day
from flows.review.pick import pick_reviewers
from flows.review.view import invitation, reminder
from storage.models import Cohort, ReviewAssignment, ReviewRequest
from storage.statuses import AssignmentStatus

REMIND_TASK = "review.remind"
MIN_TIME_FOR_REPLACEMENT = timedelta(days=2)
"""A replacement reviewer gets at least this long, even when the request is nearly due."""


def object_ref(request: ReviewRequest) -> str:
    return f"review:{request.id}"


def timer_prefix(assignment_id: int) -> str:
    return f"review:assignment:{assignment_id}:"


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
    request: ReviewRequest,
    reviewer_id: int,
    cohort: Cohort,
    review: ReviewConfig,
    due_at: datetime,
) -> ReviewAssignment:
    """Record the assignment, DM the reviewer and set the reminders before the deadline."""
    uow = effects.uow
    assignment = await uow.reviews.assign(
        request_id=request.id, reviewer_id=reviewer_id, due_at=due_at, now=effects.now
    )
    effects.log(
        "review.assigned",
        person_id=reviewer_id,
        cohort_id=cohort.id,
        object_ref=object_ref(request),
        data={"assignment_id": assignment.id},
    )
    author = await uow.people.get(request.author_id)
    reviewer = await uow.people.get(reviewer_id)
    if author is None or reviewer is None:
        raise LookupError("a review assignment names people who exist")
    await effects.dm(
        reviewer_id,
        invitation(
            assignment=assignment,
            request=request,
            author=author,
            reviewer=reviewer,
            review=review,
            cohort_name=cohort.name,
        ),
    )
    await schedule_reminders(Timers(uow, effects.now), assignment, review)
    return assignment


async def schedule_reminders(
    timers: Timers, assignment: ReviewAssignment, review: ReviewConfig
) -> None:
    """One persisted timer per reminder fraction of the time between assignment and deadline."""
    span = assignment.due_at - assignment.assigned_at
    for index, fraction in enumerate(sorted(review.reminder_fractions)):
        await timers.run_once(
            key=f"{timer_prefix(assignment.id)}remind:{index}",
            task=REMIND_TASK,
            at=assignment.assigned_at + span * fraction,
            payload={"assignment_id": assignment.id},
        )


async def cancel_reminders(effects: Effects, assignment: ReviewAssignment) -> None:
    await effects.uow.schedule.cancel_prefix(timer_prefix(assignment.id))


async def remind(task: TaskContext) -> None:
    """A reminder falls due: DM the reviewer unless the review is already in or declined."""
    uow = task.uow
    assignment = await uow.reviews.assignment(int(task.payload["assignment_id"]), lock=True)
    if assignment is None or assignment.status != AssignmentStatus.ASSIGNED:
        return
    request = await uow.reviews.request(assignment.request_id)
    if request is None:
        return
    author = await uow.people.get(request.author_id)
    reviewer = await uow.people.get(assignment.reviewer_id)
    if author is None or reviewer is None:
        return
    assignment.reminders_sent += 1
    await task.effects.dm(
        reviewer.id,
        reminder(assignment=assignment, request=request, author=author, reviewer=reviewer),
    )
    task.effects.log(
        "review.reminded",
        person_id=reviewer.id,
        cohort_id=request.cohort_id,
        object_ref=object_ref(request),
        data={"assignment_id": assignment.id, "reminder": assignment.reminders_sent},
    )


def replacement_due(request: ReviewRequest, now: datetime) -> datetime:
    return max(request.due_at, now + MIN_TIME_FOR_REPLACEMENT)
