"""What the everyday commands say: help, cohorts, members, pause notices. Pure functions."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from bot.model.messages import Block, Context, Fields, Message, Section
from bot.model.roles import ROLE_NAMES, Role
from storage.models import Cohort, Person


def help_reply(text: str) -> Message:
    """The help text with the hint for Teams."""
    return Message(
        text=text,
        blocks=[
            Section(text=text),
            Context(text="In Teams, type the same words: `cohort help`."),
        ],
    )


def cohort_list(cohorts: list[Cohort], mine: Mapping[int, Collection[str]]) -> str:
    """Every cohort, with the person's roles in it (by cohort id) or how to join."""
    lines = []
    for cohort in cohorts:
        roles = mine.get(cohort.id)
        status = (
            f"you: {', '.join(sorted(ROLE_NAMES[Role(r)] for r in roles))}"
            if roles
            else (f"join with `/cohort join {cohort.key}`")
        )
        lines.append(f"• *{cohort.name}* (`{cohort.key}`, {cohort.program}) — {status}")
    return "\n".join(lines) if lines else "There are no cohorts yet."


def member_list(
    cohort_name: str, members: list[tuple[Person, str]], *, invited: list[str]
) -> Message:
    """The cohort's members by name, each with their roles, from (person, role) rows; then
    the names of those invited who have not joined yet."""
    by_person: dict[int, tuple[str, list[str]]] = {}
    for person, role in members:
        by_person.setdefault(person.id, (person.display_name, []))[1].append(ROLE_NAMES[Role(role)])
    items = [(name, ", ".join(sorted(roles))) for name, roles in sorted(by_person.values())]
    text = f"{cohort_name}: {len(items)} members"
    lines = [text, *(f"{name}: {roles}" for name, roles in items)]
    blocks: list[Block] = (
        [Section(text=f"*{text}*"), Fields(items=items)] if items else [Section(text=text)]
    )
    if invited:
        waiting = f"Invited, not joined yet ({len(invited)}): {', '.join(invited)}"
        lines.append(waiting)
        blocks.append(Context(text=waiting))
    return Message(text="\n".join(lines), blocks=blocks)


def paused_dm(cohort_name: str) -> Message:
    """To someone whose prompts were just paused for going quiet."""
    return Message(
        text=(
            f"I haven't heard from you in a while, so I'll pause prompts for "
            f"{cohort_name}. Reply to any message or type `/cohort back` to pick up again."
        )
    )


def paused_note(person_name: str, missed_in_a_row: int, cohort_name: str) -> Message:
    """To the facilitators: someone went quiet and their prompts were paused."""
    note = (
        f"{person_name} has left {missed_in_a_row} prompts in a row "
        f"unanswered in {cohort_name}, so I've paused their check-ins and pairings. "
        "A personal word may help; they restart as soon as they answer."
    )
    return Message(text=note, blocks=[Section(text=note)])
