"""Starting a flow for many people at once: the runs, DMs and keys of starting each in turn."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.model.messages import Message
from bot.runtime.answers import FreeText
from bot.runtime.effects import Effects
from bot.runtime.engine import Ask, Do, End, Flow, FlowContext, FlowEngine, Goto, Tell
from storage import migrate
from storage.db import SessionFactory, create_engine, session_factory
from storage.models import Cohort, FlowRun, OutboxMessage, Person, ScheduledItem
from storage.repositories.people import IdentityFacts
from storage.statuses import RunStatus, TimerStatus
from storage.uow import UnitOfWork, unit_of_work
from tests.harness import demo_config

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
PEOPLE = ("alex", "sam", "kim", "lee")


def _hello(ctx: FlowContext) -> Message:
    return Message(text=f"Hello {ctx.person.display_name}")


def _question(ctx: FlowContext) -> Message:
    return Message(text=f"What should we call you? (run {ctx.run.id})")


async def _note(ctx: FlowContext) -> End | Goto | None:
    """Says something itself, and records how much its person had been sent before it."""
    ctx.remember(sent_before=await ctx.effects.uow.outbox.count_for_person(ctx.person.id))
    await ctx.effects.dm(ctx.person.id, Message(text=f"Noted, {ctx.person.display_name}"))
    return None


ASK_NAME = Ask("name", _question, FreeText(), store="name", remind_after=lambda _ctx: HOUR)
GREETING = Flow(name="test.greeting", steps=(Tell("hello", _hello), ASK_NAME))
NOTING = Flow(name="test.noting", steps=(Tell("hello", _hello), Do("note", _note), ASK_NAME))


@dataclass
class World:
    sessions: SessionFactory
    engine: FlowEngine
    people: dict[str, Person]
    cohorts: tuple[Cohort, Cohort]

    def effects(self, uow: UnitOfWork, source: str) -> Effects:
        return Effects(uow, source=source, now=NOW, platforms=frozenset({"local"}))

    def the(self, *handles: str) -> list[Person]:
        return [self.people[handle] for handle in handles]


@pytest.fixture
async def world(both_databases_url: str) -> AsyncIterator[World]:
    """Four people on the playground platform and two cohorts, on SQLite and PostgreSQL."""
    database = create_engine(both_databases_url)
    await migrate.upgrade(database)
    sessions = session_factory(database)
    engine = FlowEngine(demo_config(both_databases_url))
    engine.register(GREETING)
    engine.register(NOTING)
    async with unit_of_work(sessions) as uow:
        people = {
            handle: await uow.people.ensure(
                IdentityFacts("local", "local", handle, display_name=handle.title()), now=NOW
            )
            for handle in PEOPLE
        }
        cohorts = tuple(
            [
                await uow.cohorts.upsert(
                    key=key, name=key, program="pilot", time_zone="UTC", now=NOW
                )
                for key in ("pilot-a", "pilot-b")
            ]
        )
    try:
        yield World(sessions, engine, people, (cohorts[0], cohorts[1]))
    finally:
        await database.dispose()


async def _start(
    world: World, flow: Flow, handles: Sequence[str], *, source: str, cohort: int = 0
) -> tuple[list[FlowRun], int]:
    """Start the flow for these people together; the runs, and how many DMs were queued."""
    async with unit_of_work(world.sessions) as uow:
        effects = world.effects(uow, source)
        runs = await world.engine.start_many(
            flow_name=flow.name,
            people=world.the(*handles),
            cohort=world.cohorts[cohort],
            effects=effects,
        )
    return runs, effects.queued


async def _queued(world: World) -> list[tuple[str, str, str]]:
    """(idempotency key, to whom, text) of every queued message, in queue order."""
    async with unit_of_work(world.sessions) as uow:
        rows = await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(r.idempotency_key, r.target["user_id"], r.message["text"]) for r in rows]


async def _runs(world: World) -> list[FlowRun]:
    async with unit_of_work(world.sessions) as uow:
        return list(await uow.session.scalars(select(FlowRun).order_by(FlowRun.id)))


async def _timers(world: World) -> dict[str, str]:
    async with unit_of_work(world.sessions) as uow:
        return {t.key: t.status for t in await uow.session.scalars(select(ScheduledItem))}


async def test_each_reachable_person_is_sent_the_flows_dms_keyed_in_the_order_they_are_said(
    world: World,
) -> None:
    async with unit_of_work(world.sessions) as uow:
        await uow.people.mark_unreachable(platform="local", workspace="local", user_id="kim")

    runs, queued = await _start(world, GREETING, PEOPLE, source="task:greet")

    alex, sam, _kim, lee = (run.id for run in runs)
    assert await _queued(world) == [
        ("task:greet#1", "alex", "Hello Alex"),
        ("task:greet#2", "alex", f"What should we call you? (run {alex})"),
        ("task:greet#3", "sam", "Hello Sam"),
        ("task:greet#4", "sam", f"What should we call you? (run {sam})"),
        ("task:greet#5", "lee", "Hello Lee"),
        ("task:greet#6", "lee", f"What should we call you? (run {lee})"),
    ], "kim cannot be reached: no DM, and no key spent on one"
    assert queued == 6
    stored = await _runs(world)
    assert [(r.person_id, r.step, r.status, r.version) for r in stored] == [
        (person.id, "name", RunStatus.WAITING, 2) for person in world.the(*PEOPLE)
    ], "everyone's run waits for the answer, unreachable or not"
    assert await _timers(world) == {
        f"flow:{run.id}:name:remind": TimerStatus.ACTIVE for run in runs
    }


async def test_starting_people_together_leaves_what_starting_them_in_turn_leaves(
    world: World,
) -> None:
    async with unit_of_work(world.sessions) as uow:
        effects = world.effects(uow, "task:greet")
        for person in world.the(*PEOPLE):
            await world.engine.start(
                flow_name=GREETING.name, person=person, cohort=world.cohorts[0], effects=effects
            )
    await _start(world, GREETING, PEOPLE, source="task:greet-b", cohort=1)

    queued = [
        (key.partition("#")[2], to, re.sub(r"run \d+", "run N", text))
        for key, to, text in await _queued(world)
    ]
    assert queued[:8] == queued[8:], "the same DMs with the same counts in their keys"
    runs = [(r.person_id, r.step, r.status, r.data, r.version) for r in await _runs(world)]
    assert runs[:4] == runs[4:]


async def test_an_unfinished_run_of_the_flow_is_replaced_and_its_timers_stopped(
    world: World,
) -> None:
    (alex_before, sam_before), _ = await _start(world, GREETING, ["alex", "sam"], source="t:1")
    (elsewhere,), _ = await _start(world, GREETING, ["alex"], source="t:2", cohort=1)

    (alex_now, lee_now), _ = await _start(world, GREETING, ["alex", "lee"], source="t:3")

    status = {run.id: run.status for run in await _runs(world)}
    assert status == {
        alex_before.id: RunStatus.CANCELLED,
        sam_before.id: RunStatus.WAITING,
        elsewhere.id: RunStatus.WAITING,
        alex_now.id: RunStatus.WAITING,
        lee_now.id: RunStatus.WAITING,
    }, "only alex's run in this cohort is replaced"
    timers = await _timers(world)
    assert timers[f"flow:{alex_before.id}:name:remind"] == TimerStatus.CANCELLED
    assert {timers[f"flow:{run.id}:name:remind"] for run in (sam_before, elsewhere)} == {
        TimerStatus.ACTIVE
    }


async def test_a_do_step_sees_what_its_run_said_before_it_and_keeps_the_order_of_dms(
    world: World,
) -> None:
    runs, queued = await _start(world, NOTING, ["alex", "sam"], source="task:note")

    alex, sam = (run.id for run in runs)
    assert await _queued(world) == [
        ("task:note#1", "alex", "Hello Alex"),
        ("task:note#2", "alex", "Noted, Alex"),
        ("task:note#3", "alex", f"What should we call you? (run {alex})"),
        ("task:note#4", "sam", "Hello Sam"),
        ("task:note#5", "sam", "Noted, Sam"),
        ("task:note#6", "sam", f"What should we call you? (run {sam})"),
    ]
    assert queued == 6
    assert [run.data for run in await _runs(world)] == [{"sent_before": 1}] * 2


async def test_a_flow_run_one_at_a_time_starts_each_person_once_per_call(world: World) -> None:
    with pytest.raises(ValueError, match="start each person once"):
        await _start(world, GREETING, ["alex", "sam", "alex"], source="task:twice")
    runs, queued = await _start(world, GREETING, [], source="task:nobody")

    assert (runs, queued) == ([], 0)
    assert await _runs(world) == []
