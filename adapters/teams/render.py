"""Neutral messages to Teams activities: Adaptive Cards 1.5 or plain text, pure functions.

A message without blocks is a text activity. A message with blocks becomes one or more
cards: Teams refuses a message past about 28 KB, so the blocks are packed into cards
under a size budget. A form (its text inputs and their Submit) and a select with its
button are never split across cards, so a submission always carries its inputs.

Buttons carry `{"cohortbot": {"action": ..., "value": ...}}` as their data, forms
`{"cohortbot": {"form": ..., "fields": [...]}}`; `translate.submission` reads it back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.teams.markup import to_plain, to_teams
from adapters.teams.translate import DATA_KEY
from bot.model.messages import (
    Block,
    Buttons,
    Context,
    Divider,
    Fields,
    Message,
    Rating,
    ResultBars,
    Section,
    Select,
    TextInput,
)
from bot.support.text import split_text

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.5"
MAX_CARD_BYTES = 20_000
"""Card body budget: Teams' ~28 KB message limit less the envelope and entities."""
MAX_TEXT_BLOCK = 3_000
MAX_TEXT_MESSAGE = 7_000
"""Characters a text activity: under the limit even if every one takes 3 bytes."""
MAX_ACTIONS = 6
"""Teams shows at most six actions in a row."""
MAX_FACTS = 20
MAX_TITLE = 80
BAR_WIDTH = 20

Element = dict[str, Any]
Activity = dict[str, Any]


@dataclass
class _Unit:
    """Card elements that must stay in one card, with the mentions their text needs."""

    elements: list[Element] = field(default_factory=list)
    mentions: list[dict[str, Any]] = field(default_factory=list)

    def add_text(self, text: str, **style: Any) -> None:
        converted, mentions = to_teams(text)
        self.elements.append({"type": "TextBlock", "text": converted, "wrap": True, **style})
        self.mentions += [m for m in mentions if m not in self.mentions]

    @property
    def size(self) -> int:
        return _size(self.elements) + _size(self.mentions)


def render(
    message: Message, *, execute: bool = True, filled: FilledForm | None = None
) -> list[Activity]:
    """The activities that say `message`, in order; the first is the one updates replace.

    `execute` renders buttons as Action.Execute (Universal Actions, answered by invoke);
    otherwise as Action.Submit (a message activity carrying the data). `filled` shows a
    refused form again with what was entered and what is wrong with each field.
    """
    if not message.blocks:
        return text_activities(message.text)
    units = _units(message, execute=execute, filled=filled or FilledForm())
    return [_card_activity(card, message.text) for card in _pack(units)] or text_activities(
        message.text
    )


def text_activities(text: str) -> list[Activity]:
    """Plain Markdown messages, split past the size limit."""
    activities = []
    for piece in split_text(text, MAX_TEXT_MESSAGE) or [" "]:
        converted, mentions = to_teams(piece, in_card=False)
        activity: Activity = {"type": "message", "text": converted, "textFormat": "markdown"}
        if mentions:
            activity["entities"] = mentions
        activities.append(activity)
    return activities


@dataclass(frozen=True)
class FilledForm:
    """What a refused submission held, to show again: the values and each field's problem."""

    values: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)


def refused_form_card(message: Message, filled: FilledForm) -> dict[str, Any]:
    """The form's card again with every bad field marked: the answer to a refused Submit."""
    activities = render(message, filled=filled)
    marker = json.dumps(message.form_id)
    chosen = next((a for a in activities if marker in json.dumps(a)), activities[-1])
    content: dict[str, Any] = chosen["attachments"][0]["content"]
    return content


def _units(message: Message, *, execute: bool, filled: FilledForm) -> list[_Unit]:
    blocks = message.blocks
    inputs = [i for i, block in enumerate(blocks) if isinstance(block, TextInput)]
    form = (inputs[0], inputs[-1]) if message.form_id and inputs else None
    units: list[_Unit] = []
    separator = False
    index = 0
    while index < len(blocks):
        if form is not None and index == form[0]:
            part = blocks[form[0] : form[1] + 1]
            made = [_form(part, message, execute=execute, filled=filled)]
            index = form[1] + 1
        else:
            block = blocks[index]
            if isinstance(block, Divider):
                separator = True
                index += 1
                continue
            made = _block_units(block, position=index, execute=execute)
            index += 1
        made = [unit for unit in made if unit.elements]
        if made and separator:
            made[0].elements[0] = {**made[0].elements[0], "separator": True, "spacing": "Medium"}
            separator = False
        units += made
    return units


def _block_units(block: Block, *, position: int, execute: bool) -> list[_Unit]:
    """One neutral block as card units (a Divider is handled by the caller)."""
    if isinstance(block, Section):
        units = []
        for piece in split_text(block.text, MAX_TEXT_BLOCK):
            unit = _Unit()
            unit.add_text(piece)
            units.append(unit)
        return units
    if isinstance(block, Fields):
        return [
            _facts(block.items[i : i + MAX_FACTS]) for i in range(0, len(block.items), MAX_FACTS)
        ]
    if isinstance(block, Buttons):
        actions = [
            _action(b.label, {"action": b.action_id, "value": b.value}, b.style, execute=execute)
            for b in block.buttons
        ]
        return [_Unit(elements=_action_sets(actions))]
    if isinstance(block, Select):
        return [_select(block, position=position, execute=execute)]
    if isinstance(block, Rating):
        return [_rating(block, execute=execute)]
    if isinstance(block, TextInput):
        unit = _Unit()  # outside a form the answer is typed in the chat
        unit.add_text(f"✏️ {block.label}", size="Small", isSubtle=True)
        return [unit]
    if isinstance(block, Context):
        unit = _Unit()
        for piece in split_text(block.text, MAX_TEXT_BLOCK):
            unit.add_text(piece, size="Small", isSubtle=True)
        return [unit]
    if isinstance(block, ResultBars):
        return [_bars(block)]
    return []


def _facts(items: list[tuple[str, str]]) -> _Unit:
    facts = []
    mentions: list[dict[str, Any]] = []
    for title, value in items:
        converted, found = to_teams(value)
        facts.append({"title": to_teams(title)[0][:MAX_TEXT_BLOCK], "value": converted})
        mentions += [m for m in found if m not in mentions]
    return _Unit(elements=[{"type": "FactSet", "facts": facts}], mentions=mentions)


def _action(title: str, data: dict[str, Any], style: str, *, execute: bool) -> Element:
    action: Element = {
        "type": "Action.Execute" if execute else "Action.Submit",
        "title": _clip(title, MAX_TITLE),
        "data": {DATA_KEY: data},
    }
    if execute:
        action["verb"] = str(data.get("action") or "form.submit")
    if style == "primary":
        action["style"] = "positive"
    elif style == "danger":
        action["style"] = "destructive"
    return action


def _action_sets(actions: list[Element]) -> list[Element]:
    return [
        {"type": "ActionSet", "actions": actions[i : i + MAX_ACTIONS]}
        for i in range(0, len(actions), MAX_ACTIONS)
    ]


def _select(block: Select, *, position: int, execute: bool) -> _Unit:
    input_id = f"select_{position}"
    choices = [{"title": _clip(o.label, MAX_TITLE), "value": o.value} for o in block.options]
    unit = _Unit(
        elements=[
            {
                "type": "Input.ChoiceSet",
                "id": input_id,
                "label": to_plain(block.label),
                "choices": choices,
                "isMultiSelect": block.multi,
                "style": "compact" if len(choices) > 5 or block.multi else "expanded",
            }
        ]
    )
    button = _action(
        "Submit", {"action": block.action_id, "input": input_id}, "primary", execute=execute
    )
    unit.elements += _action_sets([button])
    return unit


def _rating(block: Rating, *, execute: bool) -> _Unit:
    unit = _Unit()
    unit.add_text(block.label)
    unit.elements += _action_sets(
        [
            _action(
                str(n), {"action": block.action_id, "value": str(n)}, "default", execute=execute
            )
            for n in range(1, block.scale + 1)
        ]
    )
    unit.add_text(
        f"1 = {block.low_label} · {block.scale} = {block.high_label}", size="Small", isSubtle=True
    )
    return unit


def _form(blocks: list[Block], message: Message, *, execute: bool, filled: FilledForm) -> _Unit:
    """A form's inputs (and what lies between them) with one Submit carrying the form id.

    The Submit also carries the neutral form: Teams sends back only the action's data,
    and a refused form is shown again from it in the answer to the Submit, before
    anything is recorded (see `app`).
    """
    unit = _Unit()
    fields: list[str] = []
    for position, block in enumerate(blocks):
        if isinstance(block, TextInput):
            fields.append(block.field_id)
            unit.elements += _input(block, filled)
        elif not isinstance(block, Divider):
            for part in _block_units(block, position=position, execute=execute):
                unit.elements += part.elements
                unit.mentions += [m for m in part.mentions if m not in unit.mentions]
    data = {
        "form": message.form_id or "",
        "fields": fields,
        "message": message.model_dump(mode="json"),
    }
    submit = _action("Submit", data, "primary", execute=execute)
    unit.elements += _action_sets([submit])
    return unit


def _input(block: TextInput, filled: FilledForm) -> list[Element]:
    """An Input.ChoiceSet for a field with choices, else an Input.Text; hint and error below."""
    element: Element = {
        "id": block.field_id,
        "label": to_plain(block.label),
        "isRequired": not block.optional,
    }
    if block.choices:
        element |= {
            "type": "Input.ChoiceSet",
            "choices": [
                {"title": _clip(o.label, MAX_TITLE), "value": o.value} for o in block.choices
            ],
            "style": "compact",
            "placeholder": block.placeholder or "Choose",
        }
    else:
        element |= {"type": "Input.Text", "isMultiline": block.multiline}
        if block.placeholder:
            element["placeholder"] = block.placeholder
        if block.max_length is not None:
            element["maxLength"] = block.max_length
    if not block.optional:
        element["errorMessage"] = "Please choose one." if block.choices else "Please fill this in."
    if filled.values.get(block.field_id):
        element["value"] = filled.values[block.field_id]
    elements = [element]
    if block.hint:
        hint = to_teams(block.hint)[0]
        elements.append(
            {"type": "TextBlock", "text": hint, "wrap": True, "size": "Small", "isSubtle": True}
        )
    problem = filled.errors.get(block.field_id)
    if problem:
        elements.append({"type": "TextBlock", "text": problem, "wrap": True, "color": "Attention"})
    return elements


def _bars(block: ResultBars) -> _Unit:
    total = block.total
    unit = _Unit()
    for bar in block.bars:
        share = bar.count / total if total else 0.0
        filled = round(share * BAR_WIDTH)
        label, mentions = to_teams(bar.label)
        unit.mentions += [m for m in mentions if m not in unit.mentions]
        unit.elements.append(
            {
                "type": "ColumnSet",
                "columns": [
                    {
                        "type": "Column",
                        "width": "stretch",
                        "items": [{"type": "TextBlock", "text": f"**{label}**", "wrap": True}],
                    },
                    {
                        "type": "Column",
                        "width": "auto",
                        "items": [
                            {
                                "type": "TextBlock",
                                "text": f"{'█' * filled}{'░' * (BAR_WIDTH - filled)} "
                                f"{bar.count} ({share:.0%})",
                                "fontType": "Monospace",
                            }
                        ],
                    },
                ],
            }
        )
    return unit


def _pack(units: list[_Unit]) -> list[_Unit]:
    """Units in as few cards as fit the size budget, in order."""
    cards: list[_Unit] = []
    current = _Unit()
    for unit in units:
        if current.elements and current.size + unit.size > MAX_CARD_BYTES:
            cards.append(current)
            current = _Unit()
        current.elements += unit.elements
        current.mentions += [m for m in unit.mentions if m not in current.mentions]
    if current.elements:
        cards.append(current)
    return cards


def _card_activity(card: _Unit, text: str) -> Activity:
    fallback = to_plain(text)
    content: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": card.elements,
        "fallbackText": _clip(fallback, 1000),
        "msteams": {"width": "Full"},
    }
    if card.mentions:
        content["msteams"]["entities"] = card.mentions
    return {
        "type": "message",
        "summary": _clip(fallback, 200),
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": content}],
    }


def activity_size(activity: Activity) -> int:
    """Bytes on the wire, as Teams counts them."""
    return _size(activity)


def _size(value: object) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode())


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
