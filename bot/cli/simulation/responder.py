"""What a simulated person does with a message: press a button, fill a form, type an answer."""

from __future__ import annotations

import random
from dataclasses import dataclass

from bot.model.messages import Button, Buttons, Context, Message, Rating, Section, Select, TextInput

YES_WORDS = (
    "yes", "i'm here", "review now", "we met", "done", "i did", "kept", "sounds good",
    "start", "answer", "check in", "join", "ok",
)  # fmt: skip
NO_WORDS = ("decline", "skip", "pause", "cancel", "leave", "stop", "not ", "no ", "later")
SENTENCES = (
    "Ran my first feedback conversation with the two-minute structure.",
    "Practised the opening of my presentation twice with a colleague.",
    "Keeping the talk under five minutes is still hard.",
    "Asking open questions instead of giving advice right away.",
    "Finding time for practice between meetings.",
    "Summarised the discussion at the end of our team meeting.",
)


@dataclass(frozen=True)
class Click:
    action_id: str
    value: str


@dataclass(frozen=True)
class Submit:
    form_id: str
    values: dict[str, str]


@dataclass(frozen=True)
class Type:
    text: str


Reaction = Click | Submit | Type


def react(message: Message, *, rng: random.Random, satisfaction: int) -> Reaction | None:
    """The reaction of a willing person, or None when the message asks for nothing."""
    inputs = [block for block in message.blocks if isinstance(block, TextInput)]
    if message.form_id and inputs:
        return Submit(message.form_id, {field.field_id: _fill(field, rng) for field in inputs})
    for block in message.blocks:
        if isinstance(block, Rating):
            usual = min(block.scale, satisfaction)
            rating = usual if rng.random() < 0.6 else max(1, usual - 1)
            return Click(block.action_id, str(rating))
        if isinstance(block, Select) and block.options:
            if block.multi:
                picked = rng.sample(block.options, k=min(len(block.options), rng.randint(1, 2)))
                return Click(block.action_id, ",".join(option.value for option in picked))
            return Click(block.action_id, rng.choice(block.options).value)
        if isinstance(block, Buttons) and block.buttons:
            button = _preferred(block, rng, optional=message.text.startswith("Thanks"))
            return Click(button.action_id, button.value) if button else None
    if inputs:
        return Type(_fill(inputs[0], rng))
    # Asked again after an answer that didn't fit: take the way out when there is one.
    if message.text.startswith("Sorry") and "`skip`" in _all_text(message):
        return Type("skip")
    if _asks_for_text(message):
        return Type(rng.choice(SENTENCES))
    return None


def _all_text(message: Message) -> str:
    parts = [message.text]
    parts += [block.text for block in message.blocks if isinstance(block, Section | Context)]
    return " ".join(parts)


def _asks_for_text(message: Message) -> bool:
    """A question to answer by typing: it asks something, or its hint says to type."""
    hints = " ".join(block.text.lower() for block in message.blocks if isinstance(block, Context))
    first_line = message.text.strip().splitlines()[0] if message.text.strip() else ""
    return "?" in first_line or hints.startswith("type") or "type it" in hints


def _preferred(block: Buttons, rng: random.Random, *, optional: bool) -> Button | None:
    """The obvious yes; for optional extras (after a thank-you) usually nothing."""
    labels = [(button, button.label.lower()) for button in block.buttons]
    yes = [button for button, label in labels if any(word in label for word in YES_WORDS)]
    if yes:
        return yes[0]
    if optional and rng.random() < 0.8:
        return None
    neutral = [
        button
        for button, label in labels
        if button.style != "danger" and not any(word in f"{label} " for word in NO_WORDS)
    ]
    return rng.choice(neutral or block.buttons)


def _fill(field: TextInput, rng: random.Random) -> str:
    label = field.label.lower()
    for scale in (4, 5, 10):
        if f"1-{scale}" in label or f"1 to {scale}" in label or f"0-{scale}" in label:
            return str(rng.randint(max(1, scale - 2), scale))
    return rng.choice(SENTENCES)
