"""A round's prompts go out together: one per reachable participant, keyed as one by one."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.runtime.effects import Effects
from flows.checkin.rounds import flow_name
from storage.models import FlowRun, OutboxMessage
from storage.statuses import RunStatus
from storage.uow import unit_of_work
from tests.flows.checkin.checkin_helpers import (
    PROMPT,
    answers,
    join,
    logged,
    person_id,
    prompts,
    replies,
    rounds,
    shipped,
    submit,
)
from tests.harness import CHANNEL, Playground, running_bot

PARTICIPANTS = (
    "alex",
    "priya",
    "jordan",
    "lena",
    "tom",
    "aisha",
    "mateo",
    "yuki",
    "noah",
    "sofia",
    "ravi",
    "emma",
)


async def queued_prompts(playground: Playground) -> list[OutboxMessage]:
    """Every check-in question put in the outbox, in queue order."""
    async with unit_of_work(playground.bot.sessions) as uow:
        rows = await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [row for row in rows if PROMPT in row.message["text"]]


async def checkin_runs(playground: Playground, handle: str) -> list[FlowRun]:
    person = await person_id(playground, handle)
    async with unit_of_work(playground.bot.sessions) as uow:
        found = await uow.session.scalars(
            select(FlowRun)
            .where(FlowRun.person_id == person)
            .where(FlowRun.flow == flow_name("pilot"))
            .order_by(FlowRun.id)
        )
        return list(found)


async def test_a_round_for_many_people_queues_one_prompt_per_reachable_person(
    database_url: str,
) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, *PARTICIPANTS)
        async with unit_of_work(playground.bot.sessions) as uow:
            await uow.people.mark_unreachable(platform="local", workspace="local", user_id="yuki")
        await playground.say("dana", "/cohort checkin", channel=CHANNEL)

        ids = {handle: await person_id(playground, handle) for handle in PARTICIPANTS}
        reachable = sorted(ids[handle] for handle in PARTICIPANTS if handle != "yuki")
        queued = await queued_prompts(playground)
        assert [row.person_id for row in queued] == reachable, "in the order of the people's ids"
        source = queued[0].idempotency_key.partition("#")[0]
        assert [row.idempotency_key for row in queued] == [
            f"{source}#{count}" for count in range(1, len(reachable) + 1)
        ], "the command's keys, counted on by each prompt and by nothing else"
        assert await prompts(playground, "yuki") == []
        (round_,) = await rounds(playground)
        assert set(await answers(playground, round_.id)) == set(ids.values()), (
            "an unreachable participant is still counted as asked"
        )
        assert len(await logged(playground, "checkin.prompted")) == len(PARTICIPANTS)
        assert (await replies(playground, "dana"))[-1].startswith(
            "Check-in round 1 is open: I've asked 12 participants by DM."
        )


async def test_an_unfinished_check_in_is_replaced_by_the_new_rounds_question(
    database_url: str,
) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya")
        bot = playground.bot
        alex_id = await person_id(playground, "alex")
        async with unit_of_work(bot.sessions) as uow:
            cohort = await uow.cohorts.by_key("pilot-a")
            alex = await uow.people.get(alex_id)
            assert cohort is not None
            assert alex is not None
            effects = Effects(
                uow, source="test:earlier", now=bot.clock.now(), platforms=bot.platforms
            )
            await bot.flows.start(
                flow_name=flow_name(cohort.program),
                person=alex,
                cohort=cohort,
                effects=effects,
                data={"round_id": 0},
            )
        await bot.settle()

        await playground.say("dana", "/cohort checkin", channel=CHANNEL)
        (round_,) = await rounds(playground)
        earlier, current = await checkin_runs(playground, "alex")
        assert (earlier.status, current.status) == (RunStatus.CANCELLED, RunStatus.WAITING)
        assert current.data == {"round_id": round_.id}
        assert len(await prompts(playground, "alex")) == 2

        await submit(playground, "alex", "Paired on a demo", "Estimating")
        assert (await answers(playground, round_.id))[alex.id].success == "Paired on a demo"


async def test_prompts_due_at_one_instant_are_keyed_by_their_timer(database_url: str) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "lena", "jordan")  # Berlin, Berlin, New York
        await playground.advance(datetime(2026, 11, 29, 19, tzinfo=UTC) - playground.clock.now())
        await playground.advance(datetime(2026, 11, 30, 8, tzinfo=UTC) - playground.clock.now())

        (round_,) = await rounds(playground)
        berlin = sorted([await person_id(playground, "alex"), await person_id(playground, "lena")])
        source = f"task:checkin:{round_.id}:prompt:20261130T0800Z@2026-11-30T08:00:00+00:00"
        assert [
            (row.idempotency_key, row.person_id) for row in await queued_prompts(playground)
        ] == [
            (f"{source}#1", berlin[0]),
            (f"{source}#2", berlin[1]),
        ], "New York's 09:00 is still to come"
