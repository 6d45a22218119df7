"""What peer reviews say: the reviewer's invitation, the rubric form, the author's compilation."""

from __future__ import annotations

import re
from datetime import datetime
from statistics import mean
from zoneinfo import ZoneInfo

from bot.config import ReviewConfig
from bot.model.messages import (
    Block,
    Button,
    Buttons,
    Context,
    Divider,
    Fields,
    Message,
    Option,
    Rating,
    Section,
    TextInput,
)
from storage.models import Person, ReviewAssignment, ReviewRequest

START_ACTION = "review.start"
"""The Review now button: opens the rubric form; the value is the assignment id."""
DECLINE_ACTION = "review.decline"
"""The Decline button: asks for an optional reason; the value is the assignment id."""
RATE_ACTION = "review.rate"
"""The author's usefulness rating: `review.rate:<assignment id>`, the value is 1-5."""
FORM = "review.form"
"""The rubric form: `review.form:<assignment id>`."""
DECLINE_FORM = "review.decline_form"
"""The optional reason for declining: `review.decline_form:<assignment id>`."""
OVERALL = "overall"
USEFULNESS_SCALE = 5
MAX_COMMENT = 2000
SHORT = 80
_URL = re.compile(r"https?://[^\s<>|]+")


def local_time(moment: datetime, time_zone: str) -> str:
    """`Monday 07 December 17:00 CET` in the person's time zone (UTC if it is unknown).

    The zone is named because the author and the reviewers may each see another clock.
    """
    try:
        zone = ZoneInfo(time_zone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return f"{moment.astimezone(zone):%A %d %B %H:%M %Z}"


def short(text: str, limit: int = SHORT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def work(artifact: str) -> str:
    """The work under review as neutral text: a link when it is one, kept whole so it opens."""
    if _URL.fullmatch(artifact.strip()):
        return f"<{artifact.strip()}>"
    return short(artifact)


def score_field(criterion_id: str) -> str:
    return f"score_{criterion_id}"


def comment_field(criterion_id: str) -> str:
    return f"comment_{criterion_id}"


def _rubric_lines(review: ReviewConfig) -> str:
    return "\n".join(
        f"• *{c.name}*" + (f": {c.description}" if c.description else "") for c in review.rubric
    )


def _task_buttons(assignment: ReviewAssignment) -> Buttons:
    value = str(assignment.id)
    return Buttons(
        buttons=[
            Button(label="Review now", action_id=START_ACTION, value=value, style="primary"),
            Button(label="Decline", action_id=DECLINE_ACTION, value=value, style="danger"),
        ]
    )


def invitation(
    *,
    assignment: ReviewAssignment,
    request: ReviewRequest,
    author: Person,
    reviewer: Person,
    review: ReviewConfig,
    cohort_name: str,
) -> Message:
    """The reviewer's DM: the artifact, the deadline, the rubric, Review now / Decline."""
    due = local_time(assignment.due_at, reviewer.time_zone)
    text = f"{author.display_name} asked you for a peer review in {cohort_name}, due {due}."
    return Message(
        text=text,
        blocks=[
            Section(text=f"*{author.display_name} asked you for a peer review* ({cohort_name})"),
            Section(text=f"*What to review:* {request.artifact}"),
            Fields(items=[("Due", due), ("Scores", f"1 to {review.scale_max} per criterion")]),
            Section(text=f"*Rubric*\n{_rubric_lines(review)}"),
            _task_buttons(assignment),
            Context(text="Score each criterion, add a comment, and sum it up in a few lines."),
        ],
    )


def reminder(
    *, assignment: ReviewAssignment, request: ReviewRequest, author: Person, reviewer: Person
) -> Message:
    due = local_time(assignment.due_at, reviewer.time_zone)
    text = f"Reminder: your peer review for {author.display_name} is due {due}."
    return Message(
        text=text,
        blocks=[
            Section(text=text),
            Context(text=f"What to review: {short(request.artifact)}"),
            _task_buttons(assignment),
        ],
    )


def rubric_form(
    *, assignment: ReviewAssignment, request: ReviewRequest, author: Person, review: ReviewConfig
) -> Message:
    """The rubric as a form: a score and an optional comment per criterion, then an overall."""
    first = author.display_name.split(" ")[0] or author.display_name
    inputs: list[Block] = []
    for criterion in review.rubric:
        inputs.append(
            TextInput(
                label=f"{criterion.name}: score 1-{review.scale_max}",
                field_id=score_field(criterion.id),
                hint=criterion.description,
                choices=[
                    Option(label=str(n), value=str(n)) for n in range(1, review.scale_max + 1)
                ],
            )
        )
        inputs.append(
            TextInput(
                label=f"{criterion.name}: comment",
                field_id=comment_field(criterion.id),
                multiline=True,
                optional=True,
                max_length=MAX_COMMENT,
            )
        )
    inputs.append(
        TextInput(label="Overall comment", field_id=OVERALL, multiline=True, max_length=MAX_COMMENT)
    )
    return Message(
        text=f"Review for {first}",
        form_id=f"{FORM}:{assignment.id}",
        blocks=[
            Section(text=f"*What to review:* {request.artifact}"),
            *inputs,
            Context(text=f"Scores are whole numbers from 1 to {review.scale_max}."),
        ],
    )


def decline_form(*, assignment: ReviewAssignment, author: Person) -> Message:
    return Message(
        text="Decline this review",
        form_id=f"{DECLINE_FORM}:{assignment.id}",
        blocks=[
            Section(
                text=f"I'll ask someone else to review {author.display_name}'s work. "
                "A reason helps us plan, but you can leave it empty."
            ),
            TextInput(label="Reason", field_id="reason", multiline=True, optional=True),
        ],
    )


def compilation(
    *,
    request: ReviewRequest,
    reviews: list[tuple[ReviewAssignment, Person]],
    review: ReviewConfig,
) -> Message:
    """Every submitted review for the author: averages per criterion, then each review."""
    count = len(reviews)
    heading = f"Your peer reviews are in: {count} review{'s' if count != 1 else ''} of "
    text = f"{heading}{short(request.artifact)}."
    averages: list[tuple[str, str]] = []
    for criterion in review.rubric:
        scores = [a.scores[criterion.id] for a, _ in reviews if criterion.id in a.scores]
        if scores:
            listed = ", ".join(str(s) for s in scores)
            averages.append(
                (criterion.name, f"{mean(scores):.1f} of {review.scale_max} ({listed})")
            )
    blocks: list[Block] = [
        Section(text=f"*{heading}{work(request.artifact)}.*"),
        Fields(items=averages),
    ]
    for assignment, reviewer in reviews:
        lines = [f"*Review by {reviewer.display_name}*"]
        for criterion in review.rubric:
            score = assignment.scores.get(criterion.id)
            comment = assignment.comments.get(criterion.id, "")
            lines.append(
                f"• {criterion.name}: {score}/{review.scale_max}"
                + (f" — {comment}" if comment else "")
            )
        lines.append(f"*Overall:* {assignment.comments.get(OVERALL, '')}")
        blocks += [
            Divider(),
            Section(text="\n".join(lines)),
            Rating(
                label=f"How useful was {reviewer.display_name}'s review?",
                action_id=f"{RATE_ACTION}:{assignment.id}",
                low_label="not useful",
                high_label="very useful",
                scale=USEFULNESS_SCALE,
            ),
        ]
    return Message(text=text, blocks=blocks)
