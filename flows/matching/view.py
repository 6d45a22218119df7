"""What matching says: a group's intro, the facilitator's cycle summary, the thanks after
"did you meet?". Pure functions.

The "did you meet?" question itself stays in `meet_check`: its answer buttons are bound
to the run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from bot.config import ProgramConfig
from bot.model.messages import Context, Message, Section
from storage.models import MatchGroup

KINDS = ("pair", "triad", "group of four")


def kind(group: MatchGroup) -> str:
    """A pair, a triad (three peers, or two and a mentor), or a group of four."""
    size = len(group.members) + (1 if group.mentor_id is not None else 0)
    return KINDS[min(size, 4) - 2]


def _names(names: Mapping[int, str], ids: Sequence[int]) -> str:
    listed = [names.get(i, f"#{i}") for i in ids]
    if len(listed) < 3:
        return " and ".join(listed)
    return f"{', '.join(listed[:-1])} and {listed[-1]}"


def intro(
    cohort_name: str, group: MatchGroup, names: Mapping[int, str], program: ProgramConfig
) -> Message:
    """The intro a group gets: who, why they were matched, a first task, the mentor."""
    who = _names(names, group.members)
    headline = f"You're a {kind(group)} this cycle in {cohort_name}: {who}."
    why = "\n".join(f"• {reason}" for reason in group.reasons)
    task = program.matching.intro_task.strip()
    blocks: list[Section | Context] = [
        Section(text=f"*{headline}*"),
        Section(text=f"*Why you were matched*\n{why}"),
        Section(text=f"*Your first task*\n{task}"),
    ]
    text = f"{headline}\nWhy you were matched:\n{why}\nYour first task: {task}"
    if group.mentor_id is not None:
        mentor = names.get(group.mentor_id, "your mentor")
        line = f"{mentor} is your mentor this cycle: bring them one question you're stuck on."
        blocks.append(Section(text=line))
        text += f"\n{line}"
    days = program.matching.meet_check_days
    blocks.append(Context(text=f"In {days} days I'll ask whether you met."))
    return Message(text=text, blocks=list(blocks))


def summary(
    *,
    cohort_name: str,
    number: int,
    mode: str,
    groups: Sequence[MatchGroup],
    names: Mapping[int, str],
    left_out: Sequence[tuple[str, str]],
) -> str:
    """For the facilitator: every group, and everyone left out with the reason."""
    kinds = Counter(kind(group) for group in groups)
    counts = ", ".join(
        f"{count} {name}{'s' if count != 1 else ''}"
        for name, count in sorted(kinds.items(), key=lambda item: KINDS.index(item[0]))
    )
    lines = [f"Cycle {number} of {cohort_name} ({mode}): {counts}."]
    for index, group in enumerate(groups, 1):
        mentor = (
            f" (mentor: {names.get(group.mentor_id, '?')})" if group.mentor_id is not None else ""
        )
        lines.append(f"{index}. {_names(names, group.members)}{mentor}")
    if left_out:
        lines.append(
            "Not paired this cycle: "
            + "; ".join(f"{name} ({reason})" for name, reason in left_out)
            + "."
        )
    else:
        lines.append("Everyone available was paired.")
    return "\n".join(lines)


def meet_thanks(answer: object) -> Message:
    """The reply to "did you meet?": `yes`, `not_yet`, or anything else (no)."""
    if answer == "yes":
        text = "Great, thanks! Glad you met. Keep the conversation going until the next pairing."
    elif answer == "not_yet":
        text = (
            "Thanks for telling me. There's still time: a 15-minute call counts. "
            "Send them a message to find a slot."
        )
    else:
        text = (
            "Thanks for telling me; I've noted it. You'll be matched with someone new "
            "in the next cycle."
        )
    return Message(text=text)
