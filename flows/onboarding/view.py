"""What onboarding says from plain data: the welcome, the summary, the follow-ups, the
facilitators' note. Pure functions.

The survey's questions, the self-assessment and the consent question stay in `survey`
(and the manager question in `manager_contact`): their answer buttons, selects and
ratings are bound to the run (`ctx.answer_button`, `ctx.select_action`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.config import ProgramConfig
from bot.model.messages import Context, Fields, Message, Section


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
        when = f"every {cadence.checkin}" if cadence.checkin else "before each session"
        text = (
            f"Onboarding, step 2 of 3: check-ins. {when.capitalize()} (your time) I'll ask "
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
