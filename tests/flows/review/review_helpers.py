"""Playground steps shared by the peer-review tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from flows.review.assign import REVIEW_FLOW
from storage.models import Activity, FlowRun, ReviewAssignment, ReviewRequest, ScheduledItem
from storage.statuses import TimerStatus
from storage.uow import unit_of_work
from tests.flows.checkin.checkin_helpers import person_id
from tests.harness import CHANNEL, Playground

INVITATION = "asked you for a peer review"
GOOD_SCORES = {"message": "4", "structure": "3", "delivery": "2", "call_to_action": "3"}


async def request_review(playground: Playground, person: str, rest: str) -> None:
    await playground.say(person, f"/cohort review request {rest}", channel=CHANNEL)


async def last_reply(playground: Playground, person: str) -> str:
    """The bot's latest ephemeral answer to the person in the cohort channel."""
    replies = [
        m["message"]["text"]
        for m in await playground.from_bot(person, where="channel")
        if m["ephemeral"]
    ]
    return replies[-1]


async def invitations(playground: Playground, person: str) -> list[dict[str, Any]]:
    return [
        m
        for m in await playground.from_bot(person, where="dm")
        if INVITATION in m["message"]["text"]
    ]


async def dms_containing(playground: Playground, person: str, text: str) -> list[str]:
    return [t for t in await playground.dm_texts(person) if text in t]


async def open_form(
    playground: Playground, person: str, label: str = "Review now"
) -> dict[str, Any]:
    """Click a button on the person's latest invitation; return the form that opened."""
    await playground.click(person, (await invitations(playground, person))[-1], label)
    form = await playground.last_dm(person)
    assert form["message"]["form_id"], form["message"]["text"]
    return form


async def submit_form(
    playground: Playground, person: str, form: dict[str, Any], values: dict[str, str]
) -> dict[str, Any]:
    """Submit the form as the playground page does; the bot's answer to the submission."""
    answer = await playground.post(
        "form",
        {
            "person": person,
            "message_id": form["id"],
            "form_id": form["message"]["form_id"],
            "values": values,
        },
    )
    await playground.bot.settle()
    return answer


def rubric_values(
    scores: dict[str, str] | None = None, overall: str = "Great pace"
) -> dict[str, str]:
    values = {f"score_{key}": value for key, value in (scores or GOOD_SCORES).items()}
    values |= {f"comment_{key}": f"{key} note" for key in (scores or GOOD_SCORES)}
    values["overall"] = overall
    return values


async def review(playground: Playground, person: str, values: dict[str, str] | None = None) -> None:
    """Open the person's latest review task and submit the rubric."""
    form = await open_form(playground, person)
    await submit_form(playground, person, form, values or rubric_values())


async def requests(playground: Playground) -> list[ReviewRequest]:
    async with unit_of_work(playground.bot.sessions) as uow:
        return list(await uow.session.scalars(select(ReviewRequest).order_by(ReviewRequest.id)))


async def assignments(playground: Playground) -> list[ReviewAssignment]:
    async with unit_of_work(playground.bot.sessions) as uow:
        return list(
            await uow.session.scalars(select(ReviewAssignment).order_by(ReviewAssignment.id))
        )


async def reviewers_of(playground: Playground, request_id: int) -> list[int]:
    return [a.reviewer_id for a in await assignments(playground) if a.request_id == request_id]


async def ids(playground: Playground, *handles: str) -> list[int]:
    return [await person_id(playground, handle) for handle in handles]


async def logged(playground: Playground, verb: str) -> list[Activity]:
    async with unit_of_work(playground.bot.sessions) as uow:
        return list(
            await uow.session.scalars(
                select(Activity).where(Activity.verb == verb).order_by(Activity.id)
            )
        )


async def active_timers(
    playground: Playground, assignment_id: int | None = None
) -> list[ScheduledItem]:
    """Active timers of the reviewers' task runs (of one assignment, when given)."""
    async with unit_of_work(playground.bot.sessions) as uow:
        runs = await uow.session.scalars(select(FlowRun).where(FlowRun.flow == REVIEW_FLOW))
        prefixes = [
            f"flow:{run.id}:"
            for run in runs
            if assignment_id is None or run.data.get("assignment_id") == assignment_id
        ]
        timers = await uow.session.scalars(
            select(ScheduledItem)
            .where(ScheduledItem.status == TimerStatus.ACTIVE)
            .order_by(ScheduledItem.key)
        )
        return [t for t in timers if any(t.key.startswith(p) for p in prefixes)]


async def review_rows(playground: Playground) -> int:
    """Requests, assignments and review activity: all zero when nothing was written."""
    async with unit_of_work(playground.bot.sessions) as uow:
        counted = 0
        for model in (ReviewRequest, ReviewAssignment):
            counted += int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)
        counted += int(
            await uow.session.scalar(
                select(func.count()).select_from(Activity).where(Activity.verb.like("review.%"))
            )
            or 0
        )
        return counted
