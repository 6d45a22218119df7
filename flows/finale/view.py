"""What the finale says: the closing survey's texts, the celebration post, the manager
summary and the note to its participant. Pure functions.

The evaluation's rating questions stay in `evaluation`, and the post-assessment in
`flows.onboarding.survey`: their ratings and buttons are bound to the run.
"""

from __future__ import annotations

from bot.model.messages import Context, Fields, Message, Section
from flows.finale.celebration import Achievements, SkillChange
from storage.models import Cohort


def finale_intro(cohort_name: str | None, display_name: str) -> Message:
    """The closing survey's first DM: thanks, and the two parts to come."""
    name = cohort_name if cohort_name is not None else "the program"
    first = display_name.split(" ")[0] or "there"
    text = (
        f"{name} is coming to an end. Thank you for taking part, {first}! "
        "Two short parts, about three minutes: rate yourself again on the skills you "
        "rated at the start, then three questions about the program."
    )
    return Message(
        text=text,
        blocks=[
            Section(text=f"*{name} is coming to an end.* Thank you for taking part, {first}!"),
            Context(
                text="Two short parts, about three minutes: rate yourself again on the "
                "skills you rated at the start, then three questions about the program."
            ),
        ],
    )


def between() -> Message:
    """Between the post-assessment and the evaluation."""
    return Message(text="Thanks! Now three quick questions about the program itself.")


def change_prompt() -> Message:
    """The evaluation's last, free-text question."""
    text = "Last question: what is one thing we should change for the next cohort?"
    return Message(
        text=text,
        blocks=[
            Section(text=text),
            Context(text="Type it here, or `skip`. Only the program team reads it."),
        ],
    )


def survey_thanks() -> Message:
    """The end of the closing survey."""
    text = (
        "Thank you! That's everything. Watch the cohort channel for the celebration "
        "of what you all achieved."
    )
    return Message(text=text, blocks=[Section(text=text)])


def skill_line(skills: SkillChange | None) -> str:
    """The average self-rating before and after, with the change."""
    if skills is None:
        return "no before-and-after self-ratings yet"
    return (
        f"{skills.before:.1f} → {skills.after:.1f} ({skills.change:+.1f}, "
        f"{skills.relative:+.0%}) over {skills.people} "
        f"{'person' if skills.people == 1 else 'people'}"
    )


def celebration_message(cohort: Cohort, found: Achievements) -> Message:
    """The channel post: thanks, the numbers, the badges."""
    counts = found.counts
    title = f"🎉 {cohort.name} is complete. Thank you all!"
    items = [
        ("Completed", f"{counts['program.completed']} of {found.participants}"),
        ("Check-ins shared", str(counts["checkin.answered"])),
        ("Sessions held", str(counts["session.started"])),
        ("Peer reviews given", str(counts["review.given"])),
        ("Commitments kept", f"{counts['commitment.kept']} of {counts['commitment.made']}"),
        ("Badges awarded", str(counts["badge.awarded"])),
        ("Average self-rating", skill_line(found.skills)),
    ]
    badges = ", ".join(f"{name} x{n}" for name, n in found.badges.items())
    lines = [title, *(f"{label}: {value}" for label, value in items)]
    blocks: list[Section | Fields | Context] = [Section(text=f"*{title}*"), Fields(items=items)]
    if badges:
        lines.append(f"Badges earned: {badges}")
        blocks.append(Section(text=f"*Badges earned:* {badges}"))
    blocks.append(Context(text="Counted from the cohort's activity over the whole program."))
    return Message(text="\n".join(lines), blocks=list(blocks))


def manager_summary(
    display_name: str, cohort_name: str, items: list[tuple[str, str]], scale_max: int
) -> Message:
    """What the manager reads about one participant: (label, value) items, the scale."""
    title = f"{display_name} has completed {cohort_name}"
    text = (
        f"{title}, a peer-learning program. {display_name} asked me to share this "
        "summary with you; a word of recognition goes a long way."
    )
    scale = f"Self-ratings run from 1 (just starting) to {scale_max} (expert)."
    lines = [text, *(f"{label}: {value}" for label, value in items), scale]
    return Message(
        text="\n".join(lines),
        blocks=[
            Section(text=f"*{title}* 🎓"),
            Section(
                text=f"{display_name} asked me to share this summary with you; "
                "a word of recognition goes a long way."
            ),
            Fields(items=items),
            Context(text=scale),
        ],
    )


def summary_sent_note(manager_name: str, cohort_name: str) -> Message:
    """For the participant: what was sent to their manager."""
    note = (
        f"As you agreed, I've sent {manager_name} a short summary of your "
        f"progress in {cohort_name}: your activity counts and your self-ratings."
    )
    return Message(text=note, blocks=[Section(text=note)])
