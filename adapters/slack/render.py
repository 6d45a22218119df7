"""Neutral messages to Block Kit: pure functions, within Slack's limits.

Limits kept here: 50 blocks a message (longer messages become several), 3,000
characters a section text (longer text is split at line or word boundaries), 10
fields a section, 25 elements an actions block, 75 characters a button label,
2,000 characters a button value, unique action ids within a message.
"""

from __future__ import annotations

import re
from typing import Any

from bot.model.messages import (
    FORM_OPEN_ACTION,
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
from bot.support.text import split_text as split_shared

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_FIELDS = 10
MAX_ELEMENTS = 25
MAX_LABEL = 75
MAX_VALUE = 2000
MAX_TEXT = 3000
BAR_WIDTH = 20

SlackBlock = dict[str, Any]
_KEEP = re.compile(r"<(?:[@#][A-Z0-9]+|https?://[^<>|\s]+)(?:\|[^<>]*)?>")
"""Links (labels may have spaces) and user or channel mentions: Slack markup to keep."""


def escape(text: str) -> str:
    """Escape &, < and > except Slack links and mentions the neutral text already uses."""
    out, last = [], 0
    for match in _KEEP.finditer(text):
        out.append(_escape_plain(text[last : match.start()]))
        target, bar, label = match.group(0)[1:-1].partition("|")
        out.append(f"<{target}{bar}{_escape_plain(label)}>")
        last = match.end()
    out.append(_escape_plain(text[last:]))
    return "".join(out)


def _escape_plain(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(text: str, limit: int = MAX_LABEL) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, limit) or " ", "emoji": True}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def split_text(text: str, limit: int = MAX_SECTION) -> list[str]:
    """Split long text into sections Slack accepts."""
    return split_shared(text, limit)


def _unique(action_id: str, counter: list[int]) -> str:
    counter[0] += 1
    return f"{action_id}#{counter[0]}"


def _button(label: str, action_id: str, value: str, style: str, counter: list[int]) -> SlackBlock:
    element: SlackBlock = {
        "type": "button",
        "text": _plain(label),
        "action_id": _unique(action_id, counter),
        "value": value[:MAX_VALUE],
    }
    if style in ("primary", "danger"):
        element["style"] = style
    return element


def _actions(elements: list[SlackBlock]) -> list[SlackBlock]:
    return [
        {"type": "actions", "elements": elements[i : i + MAX_ELEMENTS]}
        for i in range(0, len(elements), MAX_ELEMENTS)
    ]


def _bars(block: ResultBars) -> list[SlackBlock]:
    total = block.total
    lines = []
    for bar in block.bars:
        share = bar.count / total if total else 0.0
        filled = round(share * BAR_WIDTH)
        lines.append(
            f"*{escape(bar.label)}*\n`{'█' * filled}{'░' * (BAR_WIDTH - filled)}` "
            f"{bar.count} ({share:.0%})"
        )
    return [{"type": "section", "text": _mrkdwn(part)} for part in split_text("\n".join(lines))]


def render_block(block: Block, counter: list[int], *, in_modal: bool = False) -> list[SlackBlock]:
    """One neutral block as zero or more Block Kit blocks."""
    if isinstance(block, Section):
        return [{"type": "section", "text": _mrkdwn(p)} for p in split_text(escape(block.text))]
    if isinstance(block, Fields):
        fields = [_mrkdwn(f"*{escape(k)}*\n{escape(v)}"[:2000]) for k, v in block.items]
        return [
            {"type": "section", "fields": fields[i : i + MAX_FIELDS]}
            for i in range(0, len(fields), MAX_FIELDS)
        ]
    if isinstance(block, Buttons):
        return _actions(
            [_button(b.label, b.action_id, b.value, b.style, counter) for b in block.buttons]
        )
    if isinstance(block, Select):
        element: SlackBlock = {
            "type": "multi_static_select" if block.multi else "static_select",
            "action_id": _unique(block.action_id, counter),
            "placeholder": _plain("Choose"),
            "options": [
                {"text": _plain(o.label), "value": o.value[:150]} for o in block.options[:100]
            ],
        }
        return [{"type": "section", "text": _mrkdwn(escape(block.label)), "accessory": element}]
    if isinstance(block, Rating):
        buttons = [
            _button(str(n), block.action_id, str(n), "default", counter)
            for n in range(1, block.scale + 1)
        ]
        return [
            {"type": "section", "text": _mrkdwn(escape(block.label))},
            *_actions(buttons),
            {
                "type": "context",
                "elements": [_mrkdwn(f"1 = {block.low_label}, {block.scale} = {block.high_label}")],
            },
        ]
    if isinstance(block, TextInput):
        if in_modal:
            return [_input(block)]
        return [{"type": "context", "elements": [_mrkdwn(f"✏️ {escape(block.label)}")]}]
    if isinstance(block, Divider):
        return [{"type": "divider"}]
    if isinstance(block, Context):
        return [{"type": "context", "elements": [_mrkdwn(escape(block.text)[:MAX_TEXT])]}]
    return _bars(block)


def _input(block: TextInput) -> SlackBlock:
    """A modal input: a static_select for a field with choices, else a text box.

    `translate.form_rules` reads the rules back from these blocks when the modal is
    submitted, so what the modal accepts is checked before the submission is acknowledged.
    """
    element: SlackBlock
    if block.choices:
        element = {
            "type": "static_select",
            "action_id": block.field_id,
            "placeholder": _plain(block.placeholder or "Choose", 150),
            "options": [
                {"text": _plain(o.label), "value": o.value[:150]} for o in block.choices[:100]
            ],
        }
    else:
        element = {
            "type": "plain_text_input",
            "action_id": block.field_id,
            "multiline": block.multiline,
        }
        if block.placeholder:
            element["placeholder"] = _plain(block.placeholder, 150)
        if block.max_length is not None:
            element["max_length"] = min(block.max_length, MAX_TEXT)
    rendered: SlackBlock = {
        "type": "input",
        "block_id": block.field_id,
        "optional": block.optional,
        "label": _plain(block.label, 2000),
        "element": element,
    }
    if block.hint:
        rendered["hint"] = _plain(block.hint, 2000)
    return rendered


def render_blocks(message: Message, *, outbox_id: int | None = None) -> list[SlackBlock]:
    """All Block Kit blocks of a chat message (forms get an "open the form" button)."""
    counter = [0]
    blocks = [b for block in message.blocks for b in render_block(block, counter)]
    if message.form_id and any(isinstance(b, TextInput) for b in message.blocks):
        blocks += _actions(
            [
                _button(
                    "Fill in the form", FORM_OPEN_ACTION, str(outbox_id or ""), "primary", counter
                )
            ]
        )
    return blocks


def chunks(blocks: list[SlackBlock]) -> list[list[SlackBlock]]:
    """Blocks in messages of at most 50."""
    if not blocks:
        return [[]]
    return [blocks[i : i + MAX_BLOCKS] for i in range(0, len(blocks), MAX_BLOCKS)]


def fallback_text(message: Message) -> str:
    """The notification and accessibility text (Slack truncates past 40,000 characters)."""
    return escape(message.text)[:40000]


def modal_view(message: Message) -> dict[str, Any]:
    """A message with a form as a modal: inputs, a Submit button, the form id as callback."""
    counter = [0]
    blocks = [b for block in message.blocks for b in render_block(block, counter, in_modal=True)]
    title = _clip(message.text.splitlines()[0] if message.text else "cohortbot", 24)
    return {
        "type": "modal",
        "callback_id": message.form_id or "",
        "title": _plain(title, 24),
        "submit": _plain("Submit", 24),
        "close": _plain("Cancel", 24),
        "blocks": blocks[:100],
    }


def home_view(message: Message) -> dict[str, Any]:
    counter = [0]
    blocks = [b for block in message.blocks for b in render_block(block, counter)]
    return {"type": "home", "blocks": blocks[:100]}
