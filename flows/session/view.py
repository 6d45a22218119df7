"""What sessions look like: the live agenda, the kickoff post, the note-taker's DMs,
role-play prompts, commitment prompts and the follow-ups. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.config import ProgramConfig
from bot.model.messages import Block, Button, Buttons, Context, Fields, Message, Rating, Section
from flows.session.agenda import time_left
from storage.models import CohortSession, Commitment
from storage.statuses import SessionStatus

HERE_ACTION = "session.here"
"""The live agenda's "I'm here" button; the value is the session id."""
KEPT_ACTION = "session.kept"
"""Yes/No on a commitment; the value is `<commitment id>:yes|no`."""
NOTE_TAKER_ACTION = "session.note_taker"
"""Yes/No to taking a session's notes; the value is `<session id>:yes|no`."""
RATE_ACTION = "session.rate"
"""A satisfaction rating: `session.rate:<session id>`, the value is 1 to the scale."""


# The live agenda


def minutes_text(left: timedelta) -> str:
    # Round up: "1 min left" until the item is really over.
    minutes = -(-int(left.total_seconds()) // 60)
    return "less than a minute" if minutes <= 0 else f"{minutes} min"


@dataclass(frozen=True)
class AgendaView:
    """Everything the live message shows besides the session row."""

    cohort_name: str
    facilitator: str | None
    note_taker: str
    """Who takes the notes, who is being asked (`Alex (asked)`), or "not named"."""
    attendance: int


def agenda_message(
    session: CohortSession, program: ProgramConfig, view: AgendaView, now: datetime
) -> Message:
    """The live agenda: done items ticked, the current one in bold with the time left."""
    title = f"Session {session.number} · {view.cohort_name}"
    lines = []
    for index, item in enumerate(program.agenda):
        if session.status == SessionStatus.ENDED or index < session.item:
            lines.append(f"✓ {item.name} ({item.minutes} min)")
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
                ("Note-taker", view.note_taker),
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


def kickoff_message(
    *,
    number: int,
    cohort_name: str,
    minutes: int,
    facilitator: str | None,
    starts_now: bool,
    calendar_url: str,
) -> Message:
    """The kickoff post: the session, today's facilitator, who starts it, the calendar."""
    lines = [f"*Session {number} of {cohort_name} starts now* ({minutes} min)."]
    if facilitator is not None:
        lines.append(f"Today's facilitator: {facilitator}.")
    if starts_now:
        lines.append("The agenda follows below.")
    else:
        lines.append("The facilitator starts it with `/cohort session start`.")
    text = " ".join(lines)
    return Message(
        text=f"{text} All sessions for your calendar: {calendar_url}",
        blocks=[
            Section(text=text),
            Context(text=f"All sessions for your calendar: <{calendar_url}|sessions.ics>"),
        ],
    )


def note_taker_request(*, number: int, cohort_name: str, session_id: int) -> Message:
    """Asking someone to take the session's notes: yes or no."""
    text = f"Would you take the notes for session {number} of {cohort_name}?"
    answers = Buttons(
        buttons=[
            Button(
                label="Yes, I'll take notes",
                action_id=NOTE_TAKER_ACTION,
                value=f"{session_id}:yes",
                style="primary",
            ),
            Button(label="Not this time", action_id=NOTE_TAKER_ACTION, value=f"{session_id}:no"),
        ]
    )
    hint = "If you can't, I'll ask the next person in turn."
    return Message(text=f"{text} {hint}", blocks=[Section(text=text), answers, Context(text=hint)])


def note_taker_shown(*, accepted: str | None, asked: str | None) -> str:
    """The agenda's note-taker field: the one who said yes, or who is being asked."""
    if accepted is not None:
        return accepted
    return f"{asked} (asked)" if asked is not None else "not named"


def note_taker_passed(
    *, declined: str, asked: str | None, number: int, cohort_name: str
) -> Message:
    """The facilitator's DM when the person asked to take notes declines."""
    text = f"{declined} can't take the notes for session {number} of {cohort_name}"
    if asked is not None:
        text += f"; I've asked {asked}."
    else:
        text += (
            ", and nobody else is left to ask: please take them yourself or find a "
            "volunteer in the channel."
        )
    return Message(text=text, blocks=[Section(text=text)])


# Practice


def role_play_message(
    *, position: int, others: list[str], role_play_a: str, role_play_b: str
) -> Message:
    """A group member's prompt: A to the first, B to the second, both to any observer."""
    if not others:
        text = (
            "Practice time, but nobody else is here yet to pair with you. "
            f"Try role A on your own: {role_play_a}"
        )
    else:
        role, prompt = (
            ("A", role_play_a)
            if position == 0
            else ("B", role_play_b)
            if position == 1
            else ("observer", f"Watch, then give feedback. A: {role_play_a}")
        )
        text = f"Practice in pairs with {' and '.join(others)}. You play role {role}. {prompt}"
    return Message(text=text, blocks=[Section(text=text)])


# Commitments


def commitment_action_prompt() -> Message:
    """The commitment run's first question: the action."""
    text = (
        "Commitments: what is one action you will take before we meet again? "
        "Something small and concrete you can do in the next week."
    )
    return Message(text=text, blocks=[Section(text=text), Context(text="Type it here.")])


def due_passed(due: date) -> Message:
    return Message(text=f"{due:%d %B %Y} has passed already; pick a later day.")


def pick_a_shown_peer() -> Message:
    return Message(text="Please pick one of the people shown.")


def peer_note(*, name: str, action: str, due: date) -> Message:
    """The accountability peer's DM about someone's commitment."""
    note = (
        f"{name} committed to: “{action}” by "
        f"{due:%A %d %B}, and asked you to hold them to it. A friendly check-in helps!"
    )
    return Message(text=note, blocks=[Section(text=note)])


def commitment_confirmation(*, action: str, due: date) -> Message:
    text = f"Noted: “{action}” by {due:%A %d %B}. I'll ask you how it went at the next session."
    return Message(text=text, blocks=[Section(text=text)])


# Follow-ups


def commitment_question(commitment: Commitment) -> Message:
    """Before the next session: did you do it? Yes, done / Not yet."""
    text = (
        f"Before today's session: last time you committed to “{commitment.text}” "
        f"by {commitment.due_on:%A %d %B}. Did you do it?"
    )
    buttons = Buttons(
        buttons=[
            Button(
                label="Yes, done",
                action_id=KEPT_ACTION,
                value=f"{commitment.id}:yes",
                style="primary",
            ),
            Button(label="Not yet", action_id=KEPT_ACTION, value=f"{commitment.id}:no"),
        ]
    )
    return Message(text=text, blocks=[Section(text=text), buttons])


def rating_question(cohort_name: str) -> str:
    """The rating poll's question, and its DM's text."""
    return f"How useful was today's session of {cohort_name}?"


def rating_request(*, question: str, session_id: int, scale: int) -> Message:
    """An attendee's DM asking to rate the session 1 to `scale`."""
    return Message(
        text=question,
        blocks=[
            Section(text=question),
            Rating(
                label="Rate the session",
                action_id=f"{RATE_ACTION}:{session_id}",
                low_label="not useful",
                high_label="very useful",
                scale=scale,
            ),
            Context(text="One click; it helps the facilitators improve the next one."),
        ],
    )
