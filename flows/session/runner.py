"""Moves a session through the program's agenda: timers, the live message, item hooks.

Each item has a persisted timer that moves on when its minutes are up; `next` moves on
at once, `pause` freezes the time left and `resume` continues it. The one live agenda
message is updated at every change. At the practice item each pair gets role-play
prompts A and B; at the commitments item each attendee is asked for a commitment; after
the end, a rating. The messages are rendered in `view`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from typing_extensions import TypedDict

from bot.commands.router import ActionContext
from bot.config import AppConfig, ProgramConfig
from bot.model.messages import Message
from bot.runtime.effects import Effects
from bot.runtime.engine import FlowEngine
from bot.runtime.scheduler import TaskContext, Timers
from flows.common.availability import local_day
from flows.session import agenda, note_taker, view
from flows.session.commitments import COMMITMENT_FLOW
from flows.session.followups import ask_about_commitments, ask_for_ratings
from flows.session.pairs import join_practice, partner_of, practice_groups, send_role_play
from flows.session.roles import choose_note_taker
from storage.models import Cohort, CohortSession, Person
from storage.repositories.cohort_sessions import session_ref
from storage.statuses import SessionStatus, move

ADVANCE_TASK = "session.advance"


class AgendaTimer(TypedDict):
    """The end of one agenda item of a running session."""

    session_id: int
    item: int


def agenda_key(session_id: int) -> str:
    """The logical key of the one live agenda message."""
    return f"session:{session_id}:agenda"


def _timer_prefix(session_id: int) -> str:
    return f"session:{session_id}:item:"


@dataclass(frozen=True)
class SessionRunner:
    """Moves sessions through the agenda; every method runs inside the caller's transaction."""

    config: AppConfig
    engine: FlowEngine

    def program(self, cohort: Cohort) -> ProgramConfig:
        return self.config.programs[cohort.program]

    async def start(
        self,
        effects: Effects,
        cohort: Cohort,
        *,
        facilitator_id: int | None,
        note_taker_id: int | None,
    ) -> CohortSession:
        """Open a session at its first item, post the live agenda, follow up commitments.

        The note-taker (`note_taker_id`, else whoever's turn it is) is asked, not named:
        the session has none until they say yes.
        """
        program = self.program(cohort)
        if note_taker_id is None:
            note_taker_id = await choose_note_taker(effects.uow, cohort.id)
        session = await effects.uow.cohort_sessions.create(
            cohort_id=cohort.id,
            facilitator_id=facilitator_id,
            note_taker_id=None,
            now=effects.now,
        )
        effects.log(
            "session.started",
            person_id=facilitator_id,
            cohort_id=cohort.id,
            object_ref=session_ref(session.id),
            data={"number": session.number, "note_taker_asked": note_taker_id},
        )
        if note_taker_id is not None:
            await note_taker.ask(effects, session, cohort, note_taker_id)
        await self._schedule(effects, session, program)
        await effects.channel(
            cohort.id,
            await self._render(effects, session, cohort),
            ref_key=agenda_key(session.id),
        )
        await ask_about_commitments(effects, cohort)
        await self._item_begins(effects, session, cohort)
        return session

    async def _schedule(
        self, effects: Effects, session: CohortSession, program: ProgramConfig
    ) -> None:
        timers = Timers(effects.uow, effects.now)
        await timers.cancel_prefix(_timer_prefix(session.id))
        await timers.run_once(
            key=f"{_timer_prefix(session.id)}{session.item}",
            task=ADVANCE_TASK,
            at=agenda.item_due(session, program),
            payload=AgendaTimer(session_id=session.id, item=session.item),
        )

    async def _render(self, effects: Effects, session: CohortSession, cohort: Cohort) -> Message:
        asked = None if session.note_taker_id else await note_taker.asked(effects, session)
        ids = [i for i in (session.facilitator_id, session.note_taker_id, asked) if i is not None]
        people = await effects.uow.people.by_ids(ids)
        shown = view.AgendaView(
            cohort_name=cohort.name,
            facilitator=_name(people, session.facilitator_id),
            note_taker=view.note_taker_shown(
                accepted=_name(people, session.note_taker_id), asked=_name(people, asked)
            ),
            attendance=len(await effects.uow.cohort_sessions.attendees(session.id)),
        )
        return view.agenda_message(session, self.program(cohort), shown, effects.now)

    async def refresh(self, effects: Effects, session: CohortSession, cohort: Cohort) -> None:
        """Update the live agenda message everywhere it was posted."""
        await effects.update(agenda_key(session.id), await self._render(effects, session, cohort))

    async def advance(
        self,
        effects: Effects,
        session: CohortSession,
        cohort: Cohort,
        *,
        at: datetime | None = None,
    ) -> None:
        """Move to the next item (begun `at`, default now), or end after the last one."""
        program = self.program(cohort)
        if session.item + 1 >= len(program.agenda):
            await self.end(effects, session, cohort)
            return
        session.item += 1
        session.item_started_at = at or effects.now
        session.paused_at = None
        move(session, SessionStatus.RUNNING)
        effects.log(
            "session.item",
            cohort_id=cohort.id,
            object_ref=session_ref(session.id),
            data={"item": program.agenda[session.item].name},
        )
        await self._schedule(effects, session, program)
        await self.refresh(effects, session, cohort)
        await self._item_begins(effects, session, cohort)

    async def _item_begins(self, effects: Effects, session: CohortSession, cohort: Cohort) -> None:
        """What an item sets off: prompts at the practice item, DMs at the commitments item."""
        program = self.program(cohort)
        name = program.agenda[session.item].name
        if name == program.session.practice_item:
            await self._practice(effects, session, cohort)
        if name == program.session.commitments_item:
            await self._commitments(effects, session, cohort)

    async def pause(self, effects: Effects, session: CohortSession, cohort: Cohort) -> None:
        move(session, SessionStatus.PAUSED)
        session.paused_at = effects.now
        await Timers(effects.uow, effects.now).cancel_prefix(_timer_prefix(session.id))
        effects.log("session.paused", cohort_id=cohort.id, object_ref=session_ref(session.id))
        await self.refresh(effects, session, cohort)

    async def resume(self, effects: Effects, session: CohortSession, cohort: Cohort) -> None:
        """Continue the clock where it stopped: the pause is added to the item's start."""
        if session.paused_at is not None:
            session.item_started_at += effects.now - session.paused_at
        session.paused_at = None
        move(session, SessionStatus.RUNNING)
        effects.log("session.resumed", cohort_id=cohort.id, object_ref=session_ref(session.id))
        await self._schedule(effects, session, self.program(cohort))
        await self.refresh(effects, session, cohort)

    async def end(self, effects: Effects, session: CohortSession, cohort: Cohort) -> None:
        move(session, SessionStatus.ENDED)
        session.ended_at = effects.now
        session.paused_at = None
        await Timers(effects.uow, effects.now).cancel_prefix(_timer_prefix(session.id))
        attendees = await effects.uow.cohort_sessions.attendees(session.id)
        effects.log(
            "session.ended",
            person_id=session.facilitator_id,
            cohort_id=cohort.id,
            object_ref=session_ref(session.id),
            data={"number": session.number, "attendance": len(attendees)},
        )
        await self.refresh(effects, session, cohort)
        await ask_for_ratings(effects, session, cohort)

    async def _practice(self, effects: Effects, session: CohortSession, cohort: Cohort) -> None:
        present = await effects.uow.cohort_sessions.attendees(session.id)
        groups = practice_groups(
            await effects.uow.cohort_sessions.latest_groups(cohort.id), present
        )
        # The groups go to the activity log: the commitments step reads partners from it.
        effects.log(
            "session.practice",
            cohort_id=cohort.id,
            object_ref=session_ref(session.id),
            data={"groups": groups},
        )
        people = await effects.uow.people.by_ids(present)
        await send_role_play(effects, program=self.program(cohort), groups=groups, people=people)

    async def _join_practice(
        self, effects: Effects, session: CohortSession, cohort: Cohort, person_id: int
    ) -> None:
        """Someone arrived during practice: they join a group and get their prompt."""
        logged = await effects.uow.cohort_sessions.logged(
            session_id=session.id, verb="session.practice"
        )
        before: list[list[int]] = logged[-1].data["groups"] if logged else []
        groups = join_practice(before, person_id)
        group = next(g for g in groups if person_id in g)
        # Someone who was practising alone hears that a partner arrived.
        told = group if len(group) == 2 else [person_id]
        effects.log(
            "session.practice",
            person_id=person_id,
            cohort_id=cohort.id,
            object_ref=session_ref(session.id),
            data={"groups": groups},
        )
        people = await effects.uow.people.by_ids(group)
        await send_role_play(
            effects, program=self.program(cohort), groups=[group], people=people, only=told
        )

    async def _commitments(self, effects: Effects, session: CohortSession, cohort: Cohort) -> None:
        present = await effects.uow.cohort_sessions.attendees(session.id)
        logged = await effects.uow.cohort_sessions.logged(
            session_id=session.id, verb="session.practice"
        )
        groups: list[list[int]] = logged[-1].data["groups"] if logged else []
        people = await effects.uow.people.by_ids(present)
        days = self.program(cohort).session.commitment_days
        for person_id in present:
            person = people[person_id]
            partner = partner_of(groups, person_id)
            others = [p for p in present if p not in (person_id, partner)]
            choices = ([partner] if partner is not None else []) + others[:4]
            default_due = local_day(effects.now, person.time_zone) + timedelta(days=days)
            await self.engine.start(
                flow_name=COMMITMENT_FLOW,
                person=person,
                cohort=cohort,
                effects=effects,
                data={
                    "session_id": session.id,
                    "peers": [[p, people[p].display_name] for p in choices],
                    "default_due": default_due.isoformat(),
                },
            )

    async def on_timer(self, task: TaskContext) -> None:
        """An item's minutes are up: move on, unless the session moved on already."""
        timer = task.payload_as(AgendaTimer)
        session = await task.uow.cohort_sessions.get(timer["session_id"], lock=True)
        if (
            session is None
            or session.status != SessionStatus.RUNNING
            or session.item != timer["item"]
        ):
            return
        cohort = await task.uow.cohorts.get(session.cohort_id)
        if cohort is not None and cohort.program in self.config.programs:
            # The next item began when this one was due, even if the timer runs late
            # (after a restart): the agenda keeps its own time, not the bot's.
            await self.advance(task.effects, session, cohort, at=task.occurrence_at)

    async def here(self, ctx: ActionContext) -> None:
        """The "I'm here" button: attendance, recorded once per person and session."""
        uow = ctx.effects.uow
        session = (
            await uow.cohort_sessions.get(int(ctx.value), lock=True)
            if ctx.value.isdigit()
            else None
        )
        cohort = await uow.cohorts.get(session.cohort_id) if session else None
        if session is None or cohort is None or session.status == SessionStatus.ENDED:
            await ctx.reply("That session has ended.")
            return
        if not await uow.cohort_sessions.attend(
            session_id=session.id, person_id=ctx.person.id, now=ctx.effects.now
        ):
            await ctx.reply("You're already marked as here.")
            return
        ctx.effects.log(
            "session.attended",
            person_id=ctx.person.id,
            cohort_id=cohort.id,
            object_ref=session_ref(session.id),
        )
        await self.refresh(ctx.effects, session, cohort)
        await ctx.reply(f"Welcome to session {session.number}! You're marked as here.")
        program = self.program(cohort)
        if program.agenda[session.item].name == program.session.practice_item:
            await self._join_practice(ctx.effects, session, cohort, ctx.person.id)


def _name(people: dict[int, Person], person_id: int | None) -> str | None:
    person = people.get(person_id) if person_id is not None else None
    return person.display_name if person else None
