"""Who practises with whom during a session: this cycle's pairs, the rest paired on the spot.

The role-play prompts are rendered in `view`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from bot.config import ProgramConfig
from bot.runtime.effects import Effects
from flows.session import view
from storage.models import Person


def practice_groups(matched: Sequence[Sequence[int]], present: Sequence[int]) -> list[list[int]]:
    """Groups of present people: matched groups with two or more here, then the rest in pairs.

    People whose partners are absent, and attendees in no group, are paired in the order
    they arrived; an odd one out joins the last group, so nobody practises alone unless
    they are the only one here.
    """
    here = set(present)
    groups = [[m for m in group if m in here] for group in matched]
    groups = [group for group in groups if len(group) >= 2]
    placed = {m for group in groups for m in group}
    rest = [person for person in dict.fromkeys(present) if person not in placed]
    while len(rest) >= 2:
        groups.append(rest[:2])
        rest = rest[2:]
    if rest:
        if groups:
            groups[-1].append(rest[0])
        else:
            groups.append(rest)
    return groups


def join_practice(groups: Sequence[Sequence[int]], person_id: int) -> list[list[int]]:
    """The groups with someone who arrived after practice began.

    They join the smallest group (the latest of equal ones): someone practising alone
    gets a partner, else a pair gets an observer. Nobody already practising is moved.
    """
    joined = [list(group) for group in groups]
    if any(person_id in group for group in joined):
        return joined
    if not joined:
        return [[person_id]]
    smallest = min(range(len(joined)), key=lambda i: (len(joined[i]), -i))
    joined[smallest].append(person_id)
    return joined


def partner_of(groups: Sequence[Sequence[int]], person_id: int) -> int | None:
    """The person's first practice partner, if they had one."""
    for group in groups:
        if person_id in group:
            return next((m for m in group if m != person_id), None)
    return None


async def send_role_play(
    effects: Effects,
    *,
    program: ProgramConfig,
    groups: Sequence[Sequence[int]],
    people: dict[int, Person],
    only: Collection[int] | None = None,
) -> int:
    """DM prompt A to the first of each group, B to the second, both to any observer.

    With `only`, just those people get theirs (the others of the group have it already).
    """
    sent = 0
    prompts = program.session
    for group in groups:
        for position, person_id in enumerate(group):
            if only is not None and person_id not in only:
                continue
            others = [people[m].display_name for m in group if m != person_id and m in people]
            message = view.role_play_message(
                position=position,
                others=others,
                role_play_a=prompts.role_play_a,
                role_play_b=prompts.role_play_b,
            )
            if await effects.dm(person_id, message):
                sent += 1
    return sent
