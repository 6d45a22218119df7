"""The moderators' ping: who, what, where, the tag, the deadline, and what has happened."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.model.messages import Button, Buttons, Context, Fields, Message, Section
from storage.models import Cohort, Escalation
from storage.statuses import EscalationStatus
from storage.uow import UnitOfWork

ACK_ACTION = "escalation.ack"
RESOLVE_ACTION = "escalation.resolve"
KIND_LABELS = {
    "flag": "Flagged message",
    "help": "Call for help",
    "review_overdue": "Overdue review",
    "inactive": "Inactive participant",
    "dead_letter": "Undeliverable message",
}
STATUS_LABELS = {
    EscalationStatus.OPEN: "Open",
    EscalationStatus.ACKNOWLEDGED: "Acknowledged",
    EscalationStatus.RESOLVED: "Resolved",
}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def when(moment: datetime, time_zone: str) -> str:
    """A moment as the cohort reads it: `Mon 23 Nov 13:00 CET`."""
    return moment.astimezone(ZoneInfo(time_zone)).strftime("%a %d %b %H:%M %Z")


async def escalation_card(
    uow: UnitOfWork, escalation: Escalation, cohort: Cohort | None
) -> Message:
    """The ping as it stands now; sent once and then updated in place at every step."""
    zone = cohort.time_zone if cohort is not None else "UTC"
    names = await uow.people.by_ids(
        [
            pid
            for pid in (
                escalation.reporter_id,
                escalation.subject_id,
                escalation.acknowledged_by,
                escalation.resolved_by,
            )
            if pid is not None
        ]
    )

    def name(person_id: int | None, default: str) -> str:
        person = names.get(person_id) if person_id is not None else None
        return person.display_name if person is not None else default

    title = f"{kind_label(escalation.kind)} #{escalation.id}"
    where = f" in {cohort.name}" if cohort is not None else ""
    # Typographic quotes read the same everywhere; `> ` is a quote only in Slack's markup.
    quote = f"\u201c{escalation.summary.strip()}\u201d"
    fields: list[tuple[str, str]] = [
        ("Raised by", name(escalation.reporter_id, "cohortbot (automatic)")),
        ("Status", _status(escalation, zone, name)),
    ]
    context = escalation.context or {}
    if escalation.subject_id is not None:
        fields.append(("About", name(escalation.subject_id, "someone")))
    elif context.get("author"):
        fields.append(("About", str(context["author"])))
    fields.append(("Tag", f"#{escalation.tag}" if escalation.tag else "none"))
    if escalation.status == EscalationStatus.OPEN:
        fields.append(("Acknowledge by", when(escalation.ack_due_at, zone)))
    blocks: list[Section | Fields | Context | Buttons] = [
        Section(text=f"*{title}*{where}"),
        Section(text=quote),
        Fields(items=fields),
    ]
    if context.get("link"):
        blocks.append(Section(text=f"<{context['link']}|Open the message>"))
    if context.get("note"):
        blocks.append(Section(text=f"Note: {context['note']}"))
    if context.get("error"):
        blocks.append(Context(text=f"Error: {context['error']}"))
    buttons = []
    if escalation.status == EscalationStatus.OPEN:
        buttons.append(
            Button(
                label="Acknowledge",
                action_id=ACK_ACTION,
                value=str(escalation.id),
                style="primary",
            )
        )
    if escalation.status != EscalationStatus.RESOLVED:
        buttons.append(Button(label="Resolve", action_id=RESOLVE_ACTION, value=str(escalation.id)))
    if buttons:
        blocks.append(Buttons(buttons=buttons))
    if escalation.tier == 2 and escalation.escalated_at is not None:
        blocks.append(
            Context(
                text=f"Sent to the program owners {when(escalation.escalated_at, zone)}: "
                "not acknowledged in time."
            )
        )
    status = _status(escalation, zone, name)
    text = f"{title}{where}: {escalation.summary} ({status})"
    return Message(text=text, blocks=list(blocks))


def _status(escalation: Escalation, zone: str, namer: Callable[[int | None, str], str]) -> str:
    if escalation.status == EscalationStatus.RESOLVED and escalation.resolved_at is not None:
        who = namer(escalation.resolved_by, "someone")
        return f"Resolved by {who}, {when(escalation.resolved_at, zone)}"
    if (
        escalation.status == EscalationStatus.ACKNOWLEDGED
        and escalation.acknowledged_at is not None
    ):
        return (
            f"Acknowledged by {namer(escalation.acknowledged_by, 'someone')}, "
            f"{when(escalation.acknowledged_at, zone)}"
        )
    return "Open" + (" (tier 2)" if escalation.tier == 2 else "")
