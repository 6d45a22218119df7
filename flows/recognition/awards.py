"""Awarding badges: record once, log `badge.awarded`, announce in the channel, DM the person.

Rule passes and manual awards share this path. An award is inserted if absent under the
unique (cohort, person, badge) key, so repeated or concurrent passes award once and only
the run whose insert won announces it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.config import BadgeConfig, ProgramConfig
from bot.model.messages import Context, Message, Section
from bot.runtime.effects import Effects
from flows.recognition import rules as badge_rules
from storage.models import Cohort
from storage.repositories.badges import MANUAL, RULE, NewAwardRow

AWARDED = "badge.awarded"
ONE_LINE_EACH = 10
"""Up to this many awards in a pass, each gets its own line; more are grouped by badge."""
MAX_POST = 2800


@dataclass(frozen=True)
class NewAward:
    person_id: int
    badge: BadgeConfig
    source: str
    awarded_by: int | None = None
    reason: str | None = None


def badge_ref(badge_id: str) -> str:
    return f"badge:{badge_id}"


async def record(effects: Effects, cohort: Cohort, awards: Iterable[NewAward]) -> list[NewAward]:
    """Insert the awards not held yet and log each; returns the ones this call recorded."""
    wanted = sorted(awards, key=lambda a: (a.person_id, a.badge.id))
    recorded_keys = await effects.uow.badges.award(
        cohort_id=cohort.id,
        awards=[
            NewAwardRow(
                person_id=a.person_id,
                badge=a.badge.id,
                source=a.source,
                awarded_by=a.awarded_by,
                reason=a.reason,
            )
            for a in wanted
        ],
        now=effects.now,
    )
    recorded = [a for a in wanted if (a.person_id, a.badge.id) in recorded_keys]
    for award in recorded:
        effects.log(
            AWARDED,
            person_id=award.person_id,
            cohort_id=cohort.id,
            object_ref=badge_ref(award.badge.id),
            data={"source": award.source, "awarded_by": award.awarded_by, "reason": award.reason},
        )
    return recorded


async def announce(effects: Effects, cohort: Cohort, awards: list[NewAward]) -> None:
    """One channel post for the awards of this run, and one DM per recipient."""
    if not awards:
        return
    ids = {a.person_id for a in awards} | {a.awarded_by for a in awards if a.awarded_by}
    people = await effects.uow.people.by_ids(sorted(ids))

    def name(person_id: int | None) -> str:
        person = people.get(person_id) if person_id is not None else None
        return person.display_name if person else "someone"

    if len(awards) == 1:
        (award,) = awards
        posts = [f"\U0001f3c5 {_line(award, name(award.person_id), name(award.awarded_by))}"]
    elif len(awards) <= ONE_LINE_EACH:
        lines = [f"• {_line(a, name(a.person_id), name(a.awarded_by))}" for a in awards]
        posts = pack(f"\U0001f3c5 New badges in {cohort.name}:", lines)
    else:
        posts = pack(f"\U0001f3c5 New badges in {cohort.name}:", _grouped(awards, name))
    for text in posts:
        await effects.channel(cohort.id, Message(text=text, blocks=[Section(text=text)]))
    by_person: dict[int, list[NewAward]] = {}
    for award in awards:
        by_person.setdefault(award.person_id, []).append(award)
    for person_id, theirs in by_person.items():
        await effects.dm(person_id, _congratulations(cohort, theirs))


def _grouped(awards: list[NewAward], name: Callable[[int | None], str]) -> list[str]:
    """One line per badge naming everyone who earned it (long lists over several lines)."""
    by_badge: dict[str, list[NewAward]] = {}
    for award in awards:
        by_badge.setdefault(award.badge.id, []).append(award)
    lines: list[str] = []
    for group in by_badge.values():
        head = f"• *{group[0].badge.name}* ({len(group)}): "
        names = sorted(name(a.person_id) for a in group)
        line = head
        for person in names:
            if len(line) + len(person) + 2 > MAX_POST // 2 and line != head:
                lines.append(line.removesuffix(", "))
                line = head
            line += f"{person}, "
        lines.append(line.removesuffix(", "))
    return lines


def pack(header: str, lines: list[str]) -> list[str]:
    """The header and lines in as few posts as fit Slack's 3,000-character section limit."""
    posts: list[str] = []
    current = header
    for line in lines:
        if len(current) + 1 + len(line) > MAX_POST and current != header:
            posts.append(current)
            current = header
        current += "\n" + line
    posts.append(current)
    return posts


def _line(award: NewAward, recipient: str, giver: str) -> str:
    badge = award.badge
    if award.source == MANUAL:
        why = f": {award.reason}" if award.reason else ""
        return f"{giver} awarded {recipient} the *{badge.name}* badge{why}"
    what = f" ({badge.description})" if badge.description else ""
    return f"{recipient} earned the *{badge.name}* badge{what}"


def _congratulations(cohort: Cohort, awards: list[NewAward]) -> Message:
    names = ", ".join(f"*{a.badge.name}*" for a in awards)
    noun = "badge" if len(awards) == 1 else "badges"
    text = f"Congratulations! You earned the {names} {noun} in {cohort.name}."
    details = [
        f"{a.badge.name}: {a.reason or a.badge.description}"
        for a in awards
        if a.reason or a.badge.description
    ]
    blocks: list[Section | Context] = [Section(text=text)]
    blocks += [Context(text=line) for line in details]
    blocks.append(Context(text="`/cohort me` shows all your badges."))
    return Message(text=text, blocks=list(blocks))


async def evaluate(
    effects: Effects,
    cohort: Cohort,
    program: ProgramConfig,
) -> list[NewAward]:
    """Award every rule badge earned in the cohort and not yet held."""
    if not program.badges:
        return []
    uow = effects.uow
    earned = await badge_rules.earned(
        uow,
        cohort_id=cohort.id,
        badges=program.badges,
        settings=program.recognition,
    )
    missing = earned - await uow.badges.held(cohort.id)
    if not missing:
        return []
    by_id = {badge.id: badge for badge in program.badges}
    known = await uow.people.by_ids(sorted({person_id for person_id, _ in missing}))
    recorded = await record(
        effects,
        cohort,
        [
            NewAward(person_id=person_id, badge=by_id[badge_id], source=RULE)
            for person_id, badge_id in missing
            if person_id in known
        ],
    )
    await announce(effects, cohort, recorded)
    return recorded
