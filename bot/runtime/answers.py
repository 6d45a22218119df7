"""How a step's answer is validated: each kind parses text or a button value, or says why not."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from functools import cache
from typing import Protocol


class InvalidAnswer(ValueError):
    """The answer does not fit; `reason` is shown to the person before asking again."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AnswerKind(Protocol):
    def parse(self, raw: str) -> object: ...

    def hint(self) -> str:
        """A short line telling the person what a valid answer looks like."""
        ...


@dataclass(frozen=True)
class FreeText:
    max_len: int = 500
    min_len: int = 1

    def parse(self, raw: str) -> object:
        text = raw.strip()
        if len(text) < self.min_len:
            raise InvalidAnswer("the answer is empty")
        if len(text) > self.max_len:
            raise InvalidAnswer(f"please keep it under {self.max_len} characters")
        return text

    def hint(self) -> str:
        return "Type your answer."


@cache
def _zones_by_lower() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


@dataclass(frozen=True)
class TimeZone:
    """An IANA time zone name; case and spaces are forgiven (`europe/berlin`, `New York`)."""

    def parse(self, raw: str) -> object:
        text = raw.strip().replace(" ", "_")
        zones = _zones_by_lower()
        exact = zones.get(text.lower())
        if exact:
            return exact
        matches = sorted(name for low, name in zones.items() if low.endswith("/" + text.lower()))
        if len(matches) == 1:
            return matches[0]
        suggestion = f" Did you mean {', '.join(matches[:3])}?" if matches else ""
        raise InvalidAnswer(f"'{raw.strip()}' is not a time zone I know.{suggestion}")

    def hint(self) -> str:
        return "Type a time zone such as Europe/Berlin or America/New_York."


@dataclass(frozen=True)
class Choice:
    choices: tuple[str, ...]

    def parse(self, raw: str) -> object:
        text = raw.strip()
        if text.isdigit() and 1 <= int(text) <= len(self.choices):
            return self.choices[int(text) - 1]
        for choice in self.choices:
            if choice.lower() == text.lower():
                return choice
        raise InvalidAnswer(f"'{text}' is not one of the options")

    def hint(self) -> str:
        numbered = ", ".join(f"{n}. {choice}" for n, choice in enumerate(self.choices, 1))
        return f"Pick one: {numbered}."


@dataclass(frozen=True)
class Scale:
    low: int = 1
    high: int = 5

    def parse(self, raw: str) -> object:
        text = raw.strip()
        if not text.lstrip("-").isdigit() or not self.low <= int(text) <= self.high:
            raise InvalidAnswer(f"a rating is a whole number from {self.low} to {self.high}")
        return int(text)

    def hint(self) -> str:
        return f"Answer with a number from {self.low} to {self.high}."


@dataclass(frozen=True)
class Choices:
    """Several of the options: `1, 3`, `presenting, coaching`, or a select's `a,b`."""

    choices: tuple[str, ...]
    allow_none: bool = False

    def parse(self, raw: str) -> object:
        picked: list[str] = []
        for part in raw.replace(";", ",").replace(" and ", ",").split(","):
            text = part.strip()
            if not text:
                continue
            choice = Choice(self.choices).parse(text)
            if choice not in picked:
                picked.append(str(choice))
        if not picked and not self.allow_none:
            raise InvalidAnswer("pick at least one option")
        return [c for c in self.choices if c in picked]

    def hint(self) -> str:
        numbered = ", ".join(f"{n}. {choice}" for n, choice in enumerate(self.choices, 1))
        return f"Pick one or more, separated by commas: {numbered}."
