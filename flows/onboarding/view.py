"""What onboarding says from plain data: the welcome, the summary, the follow-ups, the
facilitators' note. Pure functions.

The survey's questions, the self-assessment and the consent question stay in `survey`
(and the manager question in `manager_contact`): their answer buttons, selects and
ratings are bound to the run (`ctx.answer_button`, `ctx.select_action`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from bot.config import ProgramConfig
from bot.model.messages import Context, Fields, Message, Section

NOT_ANSWERED = "not answered yet"
_LABELS = {
    "time_zone": "Time zone",
    "area": "Area of knowledge",
    "strengths": "Strong in",
    "skills_to_learn": "Wants to learn",
    "learning_methods": "Learning methods",
    "availability": "Availability",
    "manager_consent": "Summary to your manager",
    "manager": "Manager",
}


def welcome(program: ProgramConfig, cohort_name: str | None, display_name: str) -> Message:
    """The first DM: the program in a sentence, then what comes next."""
    name = cohort_name if cohort_name is not None else "your cohort"
    first = display_name.split(" ")[0] or "there"
    low, high = program.task_minutes
    about = (
        f"{program.description.strip()} It runs for {program.weeks} weeks, with sessions of "
        f"{program.session_minutes} minutes and short tasks of {low}-{high} minutes in between."
    ).strip()
    intro = "First, a few questions so I can pair you well (about 3 minutes)."
    return Message(
        text=f"Welcome to {name}, {first}! {about} {intro}",
        blocks=[
            Section(text=f"*Welcome to {name}, {first}!*"),
            Section(text=about),
            Context(text=intro),
        ],
    )


def summary(time_zone: str, profile: Mapping[str, Any]) -> Message:
    """The end of the survey: what I'll pair on, and how to change it."""
    items = [
        ("Time zone", time_zone),
        ("Strong in", ", ".join(profile.get("strengths", [])) or "-"),
        ("Wants to learn", ", ".join(profile.get("skills_to_learn", [])) or "-"),
    ]
    text = (
        "Thanks, you're all set! I'll use this to pair you. "
        "Change it any time with `/cohort profile`."
    )
    return Message(text=text, blocks=[Section(text=text), Fields(items=items)])


class Answer(NamedTuple):
    """One answer of a person's profile: its field, its label, and the value as shown."""

    field: str
    label: str
    shown: str


def answer_label(field: str) -> str:
    """What an answer is called: a known name, else the question id made readable."""
    return _LABELS.get(field) or field.replace("_", " ").capitalize()


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or NOT_ANSWERED
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value) if value not in (None, "") else NOT_ANSWERED


def _manager_shown(profile: Mapping[str, Any]) -> str:
    if "manager" not in profile:
        roster = profile.get("manager_email")
        return f"{roster} (from the roster)" if roster else NOT_ANSWERED
    contact = profile["manager"]
    if not isinstance(contact, dict):
        return "rather not say"
    if contact.get("email"):
        return str(contact["email"])
    return f"<@{contact.get('user_id', '')}>"


def profile_answers(
    time_zone: str, fields: Sequence[str], profile: Mapping[str, Any]
) -> list[Answer]:
    """The person's answers to these fields, as they would read them."""
    answers = []
    for field in fields:
        if field == "time_zone":
            shown = time_zone
        elif field == "manager":
            shown = _manager_shown(profile)
        else:
            shown = _shown(profile.get(field))
        answers.append(Answer(field, answer_label(field), shown))
    return answers


def profile(answers: Sequence[Answer], heading: str) -> Message:
    """The person's answers under a heading (the caller adds what can be done with them)."""
    lines = "\n".join(f"{answer.label}: {answer.shown}" for answer in answers)
    return Message(
        text=f"{heading}\n{lines}",
        blocks=[
            Section(text=heading),
            Fields(items=[(answer.label, answer.shown) for answer in answers]),
        ],
    )


def profile_saved(answers: Sequence[Answer], changed: str) -> Message:
    """After one answer was changed: what the profile says now."""
    saved = profile(answers, f"Saved: your {answer_label(changed).lower()} is updated.")
    hint = "Change another answer with `/cohort profile`."
    return saved.model_copy(
        update={"text": f"{saved.text}\n{hint}", "blocks": [*saved.blocks, Context(text=hint)]}
    )


def nothing_changed() -> Message:
    text = "OK, nothing changed. Your profile is as it was."
    return Message(text=text, blocks=[Section(text=text)])


def not_onboarded_note(display_name: str, cohort_name: str) -> Message:
    """For the facilitators, once someone left the onboarding unanswered."""
    return Message(
        text=f"{display_name} has not finished onboarding for {cohort_name}: "
        "not onboarded yet. A personal nudge may help.",
    )


def follow_up_message(program: ProgramConfig, step: int, cohort_name: str) -> Message:
    """Steps 2 and 3 of the onboarding sequence, from the program's own cadence and script."""
    cadence = program.cadence
    if step == 2:
        when = f"Every {cadence.checkin.spoken}" if cadence.checkin else "Before each session"
        text = (
            f"Onboarding, step 2 of 3: check-ins. {when} (your time) I'll ask "
            "you for one success and one challenge. Two lines are enough; your cohort reads "
            "them in a digest and can offer help."
        )
    else:
        agenda = ", ".join(f"{item.name} {item.minutes} min" for item in program.agenda)
        text = (
            f"Onboarding, step 3 of 3: sessions. {cohort_name} meets for "
            f"{program.session_minutes} minutes: {agenda}. You'll be paired with a peer, "
            "and you'll leave each session with one small commitment."
        )
    return Message(text=text, blocks=[Section(text=text)])
