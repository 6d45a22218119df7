"""What recognition says: badge announcements and DMs, the badge listing, kudos. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config import BadgeConfig
from bot.model.messages import Context, Message, Section

ONE_LINE_EACH = 10
"""Up to this many awards in a pass, each gets its own line; more are grouped by badge."""
MAX_POST = 2800


@dataclass(frozen=True)
class Awarded:
    """One award as the announcement shows it, with the names already looked up."""

    badge: BadgeConfig
    recipient: str
    giver: str
    by_hand: bool
    reason: str | None = None


def announcements(cohort_name: str, awards: list[Awarded]) -> list[Message]:
    """The channel posts for one run's awards: one line, a line each, or grouped by badge."""
    if len(awards) == 1:
        (award,) = awards
        posts = [f"\U0001f3c5 {award_line(award)}"]
    elif len(awards) <= ONE_LINE_EACH:
        lines = [f"• {award_line(a)}" for a in awards]
        posts = pack(f"\U0001f3c5 New badges in {cohort_name}:", lines)
    else:
        posts = pack(f"\U0001f3c5 New badges in {cohort_name}:", grouped_lines(awards))
    return [Message(text=text, blocks=[Section(text=text)]) for text in posts]


def grouped_lines(awards: list[Awarded]) -> list[str]:
    """One line per badge naming everyone who earned it (long lists over several lines)."""
    by_badge: dict[str, list[Awarded]] = {}
    for award in awards:
        by_badge.setdefault(award.badge.id, []).append(award)
    lines: list[str] = []
    for group in by_badge.values():
        head = f"• *{group[0].badge.name}* ({len(group)}): "
        names = sorted(a.recipient for a in group)
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


def award_line(award: Awarded) -> str:
    """One award: `Ana awarded Ben the *Helper* badge: …`, or `Ben earned the *Streak* badge`."""
    badge = award.badge
    if award.by_hand:
        why = f": {award.reason}" if award.reason else ""
        return f"{award.giver} awarded {award.recipient} the *{badge.name}* badge{why}"
    what = f" ({badge.description})" if badge.description else ""
    return f"{award.recipient} earned the *{badge.name}* badge{what}"


def congratulations(cohort_name: str, awards: list[Awarded]) -> Message:
    """The DM to one person about the badges they earned in this run."""
    names = ", ".join(f"*{a.badge.name}*" for a in awards)
    noun = "badge" if len(awards) == 1 else "badges"
    text = f"Congratulations! You earned the {names} {noun} in {cohort_name}."
    details = [
        f"{a.badge.name}: {a.reason or a.badge.description}"
        for a in awards
        if a.reason or a.badge.description
    ]
    blocks: list[Section | Context] = [Section(text=text)]
    blocks += [Context(text=line) for line in details]
    blocks.append(Context(text="`/cohort me` shows all your badges."))
    return Message(text=text, blocks=list(blocks))


def badge_list(badges: list[BadgeConfig]) -> str:
    """The badges to choose from: `` `id` (Name), … ``, or `none`."""
    return ", ".join(f"`{b.id}` ({b.name})" for b in badges) or "none"


def badges_listing(
    cohort_name: str, badges: list[BadgeConfig], holders: dict[str, list[str]]
) -> Message:
    """`/cohort badges`: every badge of the program and who holds it (names by badge id)."""
    lines = []
    for badge in badges:
        names = holders.get(badge.id, [])
        who = ", ".join(sorted(names)) if names else "nobody yet"
        lines.append(f"• *{badge.name}* (`{badge.id}`): {badge.description} — {who}")
    title = f"Badges of {cohort_name}"
    return Message(
        text="\n".join([title, *lines]),
        blocks=[
            Section(text=f"*{title}*\n" + "\n".join(lines)),
            Context(text="`/cohort badges mine` shows yours."),
        ],
    )


def my_badges(cohort_name: str, earned: list[tuple[str, datetime]]) -> str:
    """`/cohort badges mine`: the person's badges (name, when awarded), oldest first."""
    lines = [f"• *{name}* ({awarded_at:%d %b %Y})" for name, awarded_at in earned]
    return "\n".join([f"Your badges in {cohort_name}:", *lines])


def kudos_announcement(giver: str, receiver: str, reason: str) -> Message:
    """The channel post for kudos given."""
    text = f"\U0001f44f {giver} gave kudos to {receiver}: {reason}"
    return Message(text=text, blocks=[Section(text=text)])


def kudos_sent(receiver: str, left: int) -> str:
    """The giver's confirmation, with how many kudos they have left this week."""
    return (
        f"Kudos sent to {receiver}. You can give {left} more this week."
        if left
        else f"Kudos sent to {receiver}. That was your last one this week."
    )
