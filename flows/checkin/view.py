"""What check-ins look like: the DM questions, the thank-you, the nudge, the digest, pulse
prompts and the live check-in's thread messages. Pure functions."""

from __future__ import annotations

from datetime import datetime

from bot.config import CheckinConfig
from bot.model.messages import (
    Block,
    Button,
    Buttons,
    Context,
    Divider,
    Message,
    Rating,
    Section,
    TextInput,
)
from storage.models import CheckinAnswer, Person

FORM = "checkin.form"
"""The check-in form; its id carries the flow run: `checkin.form:<run id>`."""
WANT_HELP_ACTION = "checkin.want_help"
"""The asker marks their challenge "I'd like help"; the value is the answer id."""
HELP_ACTION = "checkin.help"
"""A peer offers help; the value is the answer id."""
DONE_ACTION = "checkin.live_done"
"""The called person is done; the value is `<run id>:<turn>`."""


# The check-in DM


def first_question(
    settings: CheckinConfig, *, display_name: str, cohort_name: str, run_id: int
) -> Message:
    """The check-in's first question, with the form holding both answers."""
    first = display_name.split(" ")[0] or "there"
    intro = f"Hi {first}, it's check-in time for {cohort_name}!"
    how = "Fill in the form, or just reply here: your success first, then your challenge."
    return Message(
        text=f"{intro} {settings.success_prompt}",
        form_id=f"{FORM}:{run_id}",
        blocks=[
            Section(text=f"*{intro}* Share one success and one challenge with your cohort."),
            TextInput(label=settings.success_prompt, field_id="success", multiline=True),
            TextInput(label=settings.challenge_prompt, field_id="challenge", multiline=True),
            Context(text=how),
        ],
    )


def second_question(settings: CheckinConfig) -> Message:
    """The challenge, asked after a typed success."""
    text = f"Thanks! {settings.challenge_prompt}"
    return Message(text=text, blocks=[Section(text=text)])


def round_closed() -> Message:
    """An answer that came after the round's digest."""
    return Message(text="That check-in round has closed already.")


def thanks(*, challenge: str, answer_id: int) -> Message:
    """The thank-you for an answer, offering "I'd like help with this"."""
    text = "Thanks for checking in! Your answers go into this round's digest in the channel."
    return Message(
        text=text,
        blocks=[
            Section(text=text),
            Context(text=f"Your challenge: {challenge}"),
            Buttons(
                buttons=[
                    Button(
                        label="I'd like help with this",
                        action_id=WANT_HELP_ACTION,
                        value=str(answer_id),
                    )
                ]
            ),
        ],
    )


def nudge(*, cohort_name: str, closes: datetime) -> Message:
    """The one nudge; `closes` is the round's close in the person's time zone."""
    text = (
        f"A gentle nudge: your {cohort_name} check-in is still open until "
        f"{closes:%A %H:%M}. One success and one challenge is all it takes; "
        "reply to my message above or fill in its form."
    )
    return Message(text=text, blocks=[Section(text=text)])


# The digest


def digest(
    *,
    number: int,
    cohort_name: str,
    shared: list[CheckinAnswer],
    asked: int,
    people: dict[int, Person],
) -> Message:
    """The round's digest: the shared answers in order, with help offers and helpers."""
    title = f"Check-in round {number} for {cohort_name}"
    summary = f"{len(shared)} of {asked} shared a success and a challenge."
    blocks: list[Block] = [Section(text=f"*{title}*"), Context(text=summary)]
    lines = [f"{title}: {summary}"]
    for answer in shared:
        name = people[answer.person_id].display_name if answer.person_id in people else "Someone"
        text = f"*{name}*\nSuccess: {answer.success}\nChallenge: {answer.challenge}"
        blocks += [Divider(), Section(text=text)]
        lines.append(f"{name}: success: {answer.success}; challenge: {answer.challenge}")
        if answer.helper_id is not None:
            helper = people.get(answer.helper_id)
            helper_name = helper.display_name if helper else "A peer"
            blocks.append(Context(text=f"🤝 {helper_name} is helping with this."))
            lines.append(f"{helper_name} is helping {name}.")
        elif answer.wants_help:
            blocks.append(Context(text=f"{name} would like help with this challenge."))
            blocks.append(
                Buttons(
                    buttons=[
                        Button(
                            label=f"I can help {name}",
                            action_id=HELP_ACTION,
                            value=str(answer.id),
                            style="primary",
                        )
                    ]
                )
            )
            lines.append(f"{name} would like help.")
    if not shared:
        blocks.append(Section(text="Nobody shared this round; there is always next week."))
    return Message(text="\n".join(lines), blocks=blocks)


def help_offered(*, helper_name: str, challenge: str | None) -> Message:
    """The asker's DM when a peer picks up their challenge."""
    text = (
        f"{helper_name} offered to help with your challenge: "
        f"\u201c{challenge}\u201d. Reach out to them to find a time."
    )
    return Message(text=text, blocks=[Section(text=text)])


# Pulse check-ins


def pulse_rating_prompt(*, day: int, select_action: str) -> Message:
    """The pulse's 1-5 rating; `select_action` answers the run's waiting step."""
    text = f"Pulse check (day {day}): how is the program going for you so far?"
    return Message(
        text=f"{text} Rate it 1-5.",
        blocks=[
            Section(text=f"*{text}*"),
            Rating(
                label="How is it going?",
                action_id=select_action,
                low_label="not well",
                high_label="very well",
            ),
        ],
    )


def pulse_comment_prompt() -> Message:
    """The pulse's optional comment."""
    text = "Thanks! Anything you'd like to add? Type a comment, or `skip`."
    return Message(
        text=text, blocks=[Section(text=text), Context(text="Only facilitators see it.")]
    )


def pulse_thanks() -> Message:
    return Message(text="Thank you, that helps the facilitators shape the next weeks.")


# The live check-in's thread


def say(text: str, *buttons: Button) -> Message:
    """One message in the live check-in's thread: the text, then any buttons."""
    blocks: list[Block] = [Section(text=text)]
    if buttons:
        blocks.append(Buttons(buttons=list(buttons)))
    return Message(text=text, blocks=blocks)


def live_intro(*, number: int, names: str, minutes: int) -> Message:
    """The thread's opening: the order and how a turn works."""
    intro = (
        f"*Live check-in, round {number}.* I'll call on each of you in turn: {names}. "
        f"When it's your turn, share one success and one challenge in this thread, then "
        f"press Done. You have {minutes} minutes each."
    )
    return say(intro)


def live_turn(*, name: str, minutes: int, run_id: int, turn: int) -> Message:
    """Calling on the next person, with their Done button."""
    text = f"*{name}*, your turn: one success and one challenge, please ({minutes} min)."
    done = Button(label="Done", action_id=DONE_ACTION, value=f"{run_id}:{turn}", style="primary")
    return say(text, done)


def live_paused() -> Message:
    return say("Paused for a moment.")


def live_time_up() -> Message:
    return say("Time's up; let's move on.")


def live_finished(*, shared: int, called: int) -> Message:
    """The thread's last message: how many of those called on shared."""
    return say(f"That's everyone: {shared} of {called} shared. Thank you all!")
