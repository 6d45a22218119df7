"""The live agenda of a session: its clock arithmetic and the one channel message showing it.

Pure functions over the session row and the program's script, so the message is the same
whichever event (a timer, a command, an "I'm here" click) caused the update.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import ProgramConfig
from bot.model.messages import Block, Button, Buttons, Context, Fields, Message, Section
from storage.models import CohortSession
from storage.statuses import SessionStatus

HERE_ACTION = "session.here"


def item_length(program: ProgramConfig, index: int) -> timedelta:
    return timedelta(minutes=program.agenda[index].minutes)


def time_left(session: CohortSession, program: ProgramConfig, now: datetime) -> timedelta:
    """What is left of the current item; a paused clock stands still at the pause."""
    stopped_at = session.paused_at or now
    left = item_length(program, session.item) - (stopped_at - session.item_started_at)
    return max(left, timedelta(0))


def item_due(session: CohortSession, program: ProgramConfig) -> datetime:
    """When the current (running) item is over."""
    return session.item_started_at + item_length(program, session.item)


def minutes_text(left: timedelta) -> str:
    # Round up: "1 min left" until the item is really over.
    minutes = -(-int(left.total_seconds()) // 60)
    return "less than a minute" if minutes <= 0 else f"{minutes} min"


@dataclass(frozen=True)
class AgendaView:
    """Everything the live message shows besides the session row."""

    cohort_name: str
    facilitator: str | None
    note_taker: str | None
    attendance: int


def agenda_message(
    session: CohortSession, program: ProgramConfig, view: AgendaView, now: datetime
) -> Message:
    """The live agenda: done items ticked, the current one in bold with the time left."""
    title = f"Session {session.number} · {view.cohort_name}"
    lines = []
    for index, item in enumerate(program.agenda):
        if session.status == SessionStatus.ENDED or index < session.item:
            lines.append(f"✓ ~{item.name}~ ({item.minutes} min)")
        elif index == session.item:
            left = minutes_text(time_left(session, program, now))
            state = "paused, " if session.status == SessionStatus.PAUSED else ""
            lines.append(f"▶ *{item.name}* ({state}{left} left)")
        else:
            lines.append(f"○ {item.name} ({item.minutes} min)")
    if session.status == SessionStatus.ENDED:
        status = f"Ended. {view.attendance} attended. Thank you all!"
    elif session.status == SessionStatus.PAUSED:
        status = "Paused by the facilitator."
    else:
        status = f"Now: {program.agenda[session.item].name}."
    blocks: list[Block] = [
        Section(text=f"*{title}*"),
        Section(text="\n".join(lines)),
        Fields(
            items=[
                ("Facilitator", view.facilitator or "not named"),
                ("Note-taker", view.note_taker or "not named"),
                ("Here", str(view.attendance)),
            ]
        ),
    ]
    if session.status != SessionStatus.ENDED:
        blocks.append(
            Buttons(
                buttons=[
                    Button(
                        label="I'm here",
                        action_id=HERE_ACTION,
                        value=str(session.id),
                        style="primary",
                    )
                ]
            )
        )
        blocks.append(Context(text="Facilitator: `/cohort session next | pause | resume | end`"))
    text = f"{title}: {status}\n" + "\n".join(lines)
    return Message(text=text, blocks=blocks)
