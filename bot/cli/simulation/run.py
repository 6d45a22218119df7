"""Run a simulated program: the real bot on a manual clock, people reacting to what it sends."""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from adapters.local.adapter import LocalAdapter, LocalInputError
from adapters.local.platform import Entry
from bot.app import CohortBot
from bot.cli.simulation.responder import YES_WORDS, Click, Reaction, Submit, Type, react
from bot.cli.simulation.world import (
    CHANNEL,
    COHORT,
    FACILITATOR,
    MODERATOR,
    Habit,
    Persona,
    Settings,
    program_end,
)
from bot.model.messages import Buttons, ResultBars
from bot.runtime.clock import ManualClock
from flows.reports.kpis import KpiReport
from storage.models import Activity
from storage.uow import unit_of_work

MAX_REACTIONS_PER_DAY = 40
"""A safety net against a person and a flow re-asking each other forever."""
IN_CONVERSATION = timedelta(minutes=30)
"""Someone who answered this recently answers the next question at once."""
WRAP_UP = timedelta(days=3)
"""Time after the last program week for the closing survey and reminders."""


@dataclass(order=True)
class Intent:
    """Something a person will do at a moment: say a line, or react to a message."""

    at: datetime
    order: int
    person: str = field(compare=False)
    text: str | None = field(default=None, compare=False)
    channel: bool = field(default=False, compare=False)
    message_id: str | None = field(default=None, compare=False)
    reaction: Reaction | None = field(default=None, compare=False)


@dataclass
class Outcome:
    started: datetime
    ended: datetime
    steps: int
    actions: int
    activity: Counter[str]
    report: KpiReport | None = None
    """The cohort's KPI report at the end, from the KPI module."""
    time_zone: str = "UTC"


class Simulation:
    def __init__(
        self,
        bot: CohortBot,
        clock: ManualClock,
        settings: Settings,
        people: list[Persona],
    ) -> None:
        if bot.local is None:
            raise ValueError("the simulation runs on the local platform")
        self._bot = bot
        self._local: LocalAdapter = bot.local
        self._clock = clock
        self._settings = settings
        self._people = {persona.person_id: persona for persona in people}
        self._rng = random.Random(settings.seed)  # noqa: S311 - reproducible, not a secret
        self._intents: list[Intent] = []
        self._order = itertools.count()
        self._seen_up_to = 0
        self._handled: set[tuple[str, str]] = set()
        self._last_answer: dict[str, datetime] = {}
        self._per_day: Counter[tuple[str, str]] = Counter()
        self.actions = 0

    @property
    def start(self) -> datetime:
        return datetime.combine(self._settings.start, time(7, 0), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(program_end(self._settings), time(18, 0), tzinfo=UTC) + WRAP_UP

    def _plan(self, at: datetime, person: str, **what: object) -> None:
        heapq.heappush(self._intents, Intent(at, next(self._order), person, **what))  # type: ignore[arg-type]

    def _program_day(
        self, week: int, weekday: int, hour: int, tz: str = "Europe/Berlin"
    ) -> datetime:
        day = self._settings.start + timedelta(weeks=week - 1, days=weekday)
        return datetime.combine(day, time(hour), tzinfo=ZoneInfo(tz)).astimezone(UTC)

    def plan_the_program(self) -> None:
        """What people decide to do on their own, as opposed to answering the bot."""
        weeks = self._settings.weeks
        for persona in self._people.values():
            if persona.habit is Habit.NEVER:
                continue
            delay = timedelta(minutes=self._rng.randint(5, 120))
            if persona.habit is Habit.LATE:
                delay += timedelta(days=self._rng.randint(1, 2))
            self._plan(self.start + delay, persona.person_id, text=f"/cohort join {COHORT}")
            if persona.away_week is not None and persona.away_week <= weeks:
                self._plan(
                    self._program_day(persona.away_week, 0, 8, persona.time_zone),
                    persona.person_id,
                    text="/cohort away for 1w",
                )
            if self._rng.random() < 0.7 * persona.answer_probability:
                week = self._rng.randint(2, max(2, min(4, weeks)))
                self._plan(
                    self._program_day(week, self._rng.randint(0, 3), 11, persona.time_zone),
                    persona.person_id,
                    text=f"/cohort review request https://talks.example.org/{persona.person_id} "
                    "--reviewers 2",
                )
            if self._rng.random() < 0.4 * persona.answer_probability:
                peer = self._rng.choice(
                    [p for p in self._people if p != persona.person_id] or [persona.person_id]
                )
                self._plan(
                    self._program_day(
                        self._rng.randint(min(2, weeks), weeks), 4, 15, persona.time_zone
                    ),
                    persona.person_id,
                    text=f"/cohort kudos @{peer} thanks for the helpful feedback",
                )
        self._plan(
            self._program_day(min(3, weeks), 1, 10),
            FACILITATOR,
            channel=True,
            text='/cohort poll "Which practice format helps you most?" "Pairs" "Triads" '
            '"Role-play" --closes 1d',
        )

    async def run(self, progress: Callable[[float], None] = lambda _share: None) -> Outcome:
        self.plan_the_program()
        self._clock.set(self.start)
        steps = 0
        total = (self.end - self.start).total_seconds()
        while True:
            await self._bot.settle()
            self._read_messages()
            now = self._clock.now()
            progress(min(1.0, (now - self.start).total_seconds() / total))
            upcoming = await self._next_moment(now)
            if upcoming is None or upcoming > self.end:
                break
            self._clock.set(max(upcoming, now))
            steps += 1
            await self._act_until(self._clock.now())
        async with unit_of_work(self._bot.sessions) as uow:
            rows = await uow.session.execute(
                select(Activity.verb, func.count(Activity.id)).group_by(Activity.verb)
            )
            activity = Counter({verb: int(count) for verb, count in rows.all()})
        return Outcome(self.start, self._clock.now(), steps, self.actions, activity)

    async def _next_moment(self, now: datetime) -> datetime | None:
        async with unit_of_work(self._bot.sessions) as uow:
            due = await uow.schedule.next_due()
        moments = [
            moment for moment in (due, self._intents[0].at if self._intents else None) if moment
        ]
        if not moments:
            return None
        # A timer already due but refused (e.g. outside the grace window) must not stall time.
        return (
            max(min(moments), now + timedelta(minutes=1)) if min(moments) <= now else min(moments)
        )

    async def _act_until(self, now: datetime) -> None:
        while self._intents and self._intents[0].at <= now:
            intent = heapq.heappop(self._intents)
            try:
                if intent.text is not None:
                    await self._local.say(
                        intent.person, intent.text, channel_id=CHANNEL if intent.channel else None
                    )
                elif isinstance(intent.reaction, Click) and intent.message_id:
                    await self._local.click(
                        intent.person,
                        intent.message_id,
                        action_id=intent.reaction.action_id,
                        value=intent.reaction.value,
                    )
                elif isinstance(intent.reaction, Submit) and intent.message_id:
                    await self._local.submit(
                        intent.person,
                        intent.message_id,
                        form_id=intent.reaction.form_id,
                        values=intent.reaction.values,
                    )
                elif isinstance(intent.reaction, Type):
                    await self._local.say(intent.person, intent.reaction.text)
            except LocalInputError:
                continue  # the message went away (replaced or trimmed): nothing to answer
            self.actions += 1
            self._last_answer[intent.person] = now

    def _read_messages(self) -> None:
        """What each simulated person sees that is new since the last look."""
        transcript = self._local.transcript
        readers = (*self._people, MODERATOR)
        for entry in transcript.since(self._seen_up_to):
            if entry.ephemeral:
                continue
            audience = readers if entry.where == "channel" else (entry.user_id,)
            for person in audience:
                new_to_them = (person, entry.id) not in self._handled
                if person in readers and entry.author != person and new_to_them:
                    self._consider(person, entry)
        self._seen_up_to = transcript.last_seq

    def _consider(self, person: str, entry: Entry) -> None:
        persona = self._people.get(person)
        if entry.where == "channel" and not _invites_a_click(entry):
            return
        if person == MODERATOR:
            chance, satisfaction = 0.7, 4
        elif persona is None:
            return
        else:
            chance, satisfaction = persona.answer_probability, persona.satisfaction
        reaction = react(entry.message, rng=self._rng, satisfaction=satisfaction)
        if reaction is None:
            return
        self._handled.add((person, entry.id))
        now = self._clock.now()
        day = (person, now.date().isoformat())
        if self._rng.random() >= chance or self._per_day[day] >= MAX_REACTIONS_PER_DAY:
            return
        self._per_day[day] += 1
        self._plan(
            now + self._delay(person, persona), person, message_id=entry.id, reaction=reaction
        )

    def _delay(self, person: str, persona: Persona | None) -> timedelta:
        now = self._clock.now()
        last = self._last_answer.get(person)
        if last is not None and now - last <= IN_CONVERSATION:
            return timedelta(minutes=self._rng.randint(1, 4))
        if persona is not None and persona.habit is Habit.LATE:
            return timedelta(hours=self._rng.randint(3, 26))
        return timedelta(minutes=self._rng.randint(2, 30))


def _invites_a_click(entry: Entry) -> bool:
    """In a channel people vote in polls and press the obvious buttons, nothing else."""
    blocks = entry.message.blocks
    if any(isinstance(block, ResultBars) for block in blocks):
        return True
    return any(
        isinstance(block, Buttons)
        and any(word in button.label.lower() for button in block.buttons for word in YES_WORDS)
        for block in blocks
    )
