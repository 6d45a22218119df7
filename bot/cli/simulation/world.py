"""The simulated world: a cohort of made-up people on the local platform, and how each behaves."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from bot.cli.errors import UsageError
from bot.config import AppConfig, CohortConfig, LocalPerson

COHORT = "sim"
CHANNEL = "cohort-sim"
FACILITATOR = "sim-facilitator"
MODERATOR = "sim-moderator"
OWNER = "sim-owner"
SWEEP_MINUTES = 12 * 60
"""How often the simulated bot looks for new badges and automatic escalations."""
TIME_ZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "Asia/Kolkata")
FIRST_NAMES = (
    "Ada", "Ben", "Chloe", "Dev", "Elif", "Femi", "Gita", "Hugo", "Iris", "Jonas",
    "Kira", "Luis", "Mina", "Nils", "Omar", "Pia", "Quinn", "Rosa", "Sami", "Tara",
)  # fmt: skip


class Habit(StrEnum):
    """How a simulated participant deals with what the bot sends."""

    PROMPT = "prompt"
    """Answers within half an hour."""
    LATE = "late"
    """Answers hours later, sometimes the next day."""
    NEVER = "never"
    """Never joins or answers."""


@dataclass(frozen=True)
class Persona:
    person_id: str
    name: str
    time_zone: str
    habit: Habit
    answer_probability: float
    """Chance of answering any one message that asks for something."""
    away_week: int | None
    """A program week this person takes off with `/cohort away for 1w`."""
    satisfaction: int
    """Their usual rating, 3-5."""


@dataclass(frozen=True)
class Settings:
    program: str = "pilot"
    participants: int = 12
    weeks: int = 8
    seed: int = 1
    response_rate: float = 0.8
    start: date = date(2027, 1, 11)
    """A Monday clear of the shipped holidays."""


def personas(settings: Settings) -> list[Persona]:
    """Participants with habits that give, on average, the asked-for response rate."""
    rng = random.Random(settings.seed)  # noqa: S311 - a reproducible simulation, not a secret
    count = settings.participants
    never = round(count * (1 - settings.response_rate) / 2)
    # The others answer often enough that, with the silent ones, the rate comes out right.
    others = max(1, count - never)
    answer = min(1.0, settings.response_rate * count / others)
    people: list[Persona] = []
    for index in range(count):
        habit = (
            Habit.NEVER if index < never else (Habit.LATE if rng.random() < 0.3 else Habit.PROMPT)
        )
        people.append(
            Persona(
                person_id=f"sim-{index + 1:03d}",
                name=f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {index + 1:03d}",
                time_zone=TIME_ZONES[index % len(TIME_ZONES)],
                habit=habit,
                answer_probability=0.0 if habit is Habit.NEVER else answer,
                away_week=rng.randint(2, max(2, settings.weeks - 1))
                if rng.random() < 0.15
                else None,
                satisfaction=rng.choice((3, 4, 4, 5, 5)),
            )
        )
    rng.shuffle(people)
    return people


def simulation_config(
    base: AppConfig, settings: Settings, people: list[Persona], db_url: str
) -> AppConfig:
    """The shipped configuration with one simulated cohort on the local platform only."""
    program = base.programs.get(settings.program)
    if program is None:
        known = ", ".join(sorted(base.programs)) or "none"
        raise UsageError(
            f"There is no program '{settings.program}' (programs: {known}).", command="simulate"
        )
    # Sessions start by themselves: there is no facilitator at a keyboard. Badges and
    # automatic escalations are looked for twice a simulated day rather than every quarter
    # hour: each look is a clock step, and 96 a day would make the run ten times longer.
    program = program.model_copy(
        update={
            "weeks": settings.weeks,
            "session": program.session.model_copy(update={"auto_start": True}),
            "recognition": program.recognition.model_copy(
                update={"check_every_minutes": SWEEP_MINUTES}
            ),
            "escalation": program.escalation.model_copy(update={"sweep_minutes": SWEEP_MINUTES}),
        }
    )
    participants = [LocalPerson(id=p.person_id, name=p.name, time_zone=p.time_zone) for p in people]
    cohort = CohortConfig(
        id=COHORT,
        name="Simulated cohort",
        program=settings.program,
        time_zone="Europe/Berlin",
        start_date=settings.start,
        channels={"local": CHANNEL},
        facilitators=[f"local:{FACILITATOR}"],
        moderators=[f"local:{MODERATOR}"],
        owners=[f"local:{OWNER}"],
        participants=[f"local:{p.person_id}" for p in people],
    )
    platforms = base.platforms.model_copy(
        update={
            "slack": base.platforms.slack.model_copy(
                update={"bot_token": None, "signing_secret": None}
            ),
            "local": base.platforms.local.model_copy(
                update={"enabled": True, "people": staff() + participants}
            ),
        }
    )
    return base.model_copy(
        update={
            "storage": base.storage.model_copy(update={"url": db_url}),
            "platforms": platforms,
            "programs": {settings.program: program},
            "cohorts": [cohort],
        }
    )


def staff() -> list[LocalPerson]:
    """The simulated cohort's facilitator, moderator and program owner."""
    return [
        LocalPerson(id=FACILITATOR, name="Facilitator (simulated)", time_zone="Europe/Berlin"),
        LocalPerson(id=MODERATOR, name="Moderator (simulated)", time_zone="Europe/Berlin"),
        LocalPerson(id=OWNER, name="Program owner (simulated)", time_zone="Europe/Berlin"),
    ]


def program_end(settings: Settings) -> date:
    return settings.start + timedelta(weeks=settings.weeks)
