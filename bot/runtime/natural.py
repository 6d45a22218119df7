"""What people naturally type for a question with buttons: a label, `yes`, a name, `four`.

A question's buttons, selects and rating say what its valid answers look like to the
person; `interpret` turns typed text into the value the matching control would have
sent, so typing a button's own label works exactly like clicking it. The control words
(`cancel`, `stop`, `skip`, `back`) are recognised here and never become answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.model.messages import Buttons, Message, Rating, Select
from bot.runtime.answers import InvalidAnswer

AFFIRMATIVE = frozenset(
    {"yes", "y", "yep", "yeah", "yup", "ok", "okay", "sure", "right", "correct", "fine", "👍"}
)
NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}


class Control(StrEnum):
    """Words that steer a conversation instead of answering it."""

    CANCEL = "cancel"
    SKIP = "skip"
    BACK = "back"


_CONTROL_WORDS = {
    "cancel": Control.CANCEL,
    "stop": Control.CANCEL,
    "quit": Control.CANCEL,
    "skip": Control.SKIP,
    "back": Control.BACK,
    "go back": Control.BACK,
}


_QUOTES = "\"'`\u201c\u201d\u2018\u2019"


def _plain(text: str) -> str:
    """Case, surrounding spaces, quotes and end punctuation do not change what was meant."""
    return " ".join(text.strip().strip(_QUOTES).rstrip(".!").split()).casefold()


def control_word(raw: str) -> Control | None:
    return _CONTROL_WORDS.get(_plain(raw))


def as_number(raw: str) -> str | None:
    """`four` as `4`; None when the text is not a number written as a word."""
    value = NUMBER_WORDS.get(_plain(raw))
    return None if value is None else str(value)


@dataclass(frozen=True)
class Offered:
    """One answer a question's controls offer: what the person sees, what it sends."""

    label: str
    value: str
    action_id: str


def offered(message: Message, *, owns: Callable[[str], bool]) -> list[Offered]:
    """The answers the message's controls whose action ids `owns` accepts would send."""
    found: list[Offered] = []
    for block in message.blocks:
        if isinstance(block, Buttons):
            found += [
                Offered(b.label, b.value, b.action_id) for b in block.buttons if owns(b.action_id)
            ]
        elif isinstance(block, Select) and owns(block.action_id):
            found += [Offered(o.label, o.value, block.action_id) for o in block.options]
        elif isinstance(block, Rating) and owns(block.action_id):
            found += [Offered(str(n), str(n), block.action_id) for n in range(1, block.scale + 1)]
    return found


def pick(raw: str, options: list[Offered]) -> Offered | None:
    """The one offered answer the text means, by label, `yes`, name or number; else None.

    `yes` means the proposed answer: the only one offered, or the only one labelled
    "Yes ...". A name or an @mention means the one option whose label has that word
    (or starts with it); two such options are ambiguous and pick nothing.
    """
    text = _plain(raw)
    if not text or not options:
        return None
    for option in options:
        if _plain(option.label) == text or _plain(option.value) == text:
            return option
    number = as_number(raw)
    if number is not None:
        return pick(number, options)
    if text in AFFIRMATIVE:
        yeses = [o for o in options if _plain(o.label).split(",")[0].split()[0] in AFFIRMATIVE]
        if len(yeses) == 1:
            return yeses[0]
        return options[0] if len(options) == 1 else None
    name = text.removeprefix("@").strip()
    if not name:
        return None
    by_word = [o for o in options if name in _plain(o.label).replace(",", " ").split()]
    if len(by_word) == 1:
        return by_word[0]
    by_start = [o for o in options if _plain(o.label).startswith(name)]
    return by_start[0] if len(by_start) == 1 else None


def interpret(raw: str, *, parse: Callable[[str], object], options: list[Offered]) -> object:
    """Parse typed text as the question's answer kind, understanding its controls too.

    The kind's own parse comes first (it knows its values best); when it refuses, a
    control's label, `yes`, a name or a number word is tried; the kind's reason stands
    when none of those fits either.
    """
    try:
        return parse(raw)
    except InvalidAnswer as invalid:
        chosen = pick(raw, options)
        if chosen is not None:
            return parse(chosen.value)
        number = as_number(raw)
        if number is not None:
            try:
                return parse(number)
            except InvalidAnswer:
                pass
        raise invalid from None
