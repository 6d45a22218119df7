"""The `programs:` section of app.yaml: what a learning program runs, and when."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from bot.config.types import (
    PLATFORMS,
    FrozenModel,
    Loc,
    LocatedErrors,
    Number,
    RuleName,
    Slug,
    WeeklyTime,
    check_unique,
)


class CadenceConfig(FrozenModel):
    """When sessions and check-ins recur, in the cohort's time zone."""

    session: WeeklyTime | None = WeeklyTime.parse("Wed 15:00")
    """None: no scheduled sessions (facilitators start them by command)."""
    checkin: WeeklyTime | None = WeeklyTime.parse("Mon 09:00")
    """None: no asynchronous check-in DMs."""
    every_weeks: int = Field(default=1, ge=1, le=2)
    """1 weekly, 2 biweekly; applies to sessions and check-ins."""
    pairing_every_weeks: int = Field(default=2, ge=1, le=12)
    digest: WeeklyTime | None = WeeklyTime.parse("Fri 16:00")
    """The weekly KPI digest to the program owners by DM; None: no digest."""


class Question(FrozenModel):
    """One onboarding survey question."""

    id: RuleName
    text: str = Field(min_length=1)
    kind: Literal["text", "choice", "multi_choice", "rating", "time_zone"] = "text"
    choices: list[str] = Field(default_factory=list)
    choices_from: Literal["skills"] | None = None
    """Take the choices from the program (`skills`) instead of listing them."""

    @model_validator(mode="after")
    def _choices_fit_kind(self) -> Question:
        needs_choices = self.kind in ("choice", "multi_choice")
        has_choices = bool(self.choices) or self.choices_from is not None
        if needs_choices and not has_choices:
            raise LocatedErrors([(("choices",), f"a {self.kind} question needs choices")])
        if not needs_choices and has_choices:
            raise LocatedErrors([(("choices",), f"a {self.kind} question takes no choices")])
        return self


def _default_questions() -> list[Question]:
    return [
        Question(id="area", text="What is your main area of knowledge?"),
        Question(
            id="strengths",
            text="Which of these are you strong in?",
            kind="multi_choice",
            choices_from="skills",
        ),
        Question(
            id="skills_to_learn",
            text="Which skills do you want to build?",
            kind="multi_choice",
            choices_from="skills",
        ),
        Question(
            id="learning_methods",
            text="How do you like to learn?",
            kind="multi_choice",
            choices=["workshops", "one-on-one", "async"],
        ),
        Question(id="availability", text="When are you usually available for a session?"),
        Question(id="time_zone", text="Which time zone are you in?", kind="time_zone"),
    ]


class OnboardingConfig(FrozenModel):
    questions: list[Question] = Field(default_factory=_default_questions)
    assessment_scale_max: int = Field(default=5, ge=2, le=10)
    """Self-rating per target skill, 1..this, before and after the program."""
    reminder_hours: int = Field(default=24, ge=1)
    give_up_hours: int = Field(default=48, ge=1)
    follow_up_days: list[int] = Field(default_factory=lambda: [2, 4])
    """Days after the welcome for the later steps of the onboarding sequence."""

    @model_validator(mode="after")
    def _consistent(self) -> OnboardingConfig:
        problems = check_unique((q.id for q in self.questions), field="questions", label="question")
        if self.give_up_hours <= self.reminder_hours:
            problems.append((("give_up_hours",), "must be more than reminder_hours"))
        if any(day < 1 for day in self.follow_up_days):
            problems.append((("follow_up_days",), "days must be 1 or more"))
        if problems:
            raise LocatedErrors(problems)
        return self


class CheckinConfig(FrozenModel):
    success_prompt: str = "What is one success from this week?"
    challenge_prompt: str = "What is one challenge you are working on?"
    pulse_days: list[int] = Field(default_factory=lambda: [3, 14, 28])
    """Days after the cohort starts for the structured pulse check-ins."""
    nudge_after_hours: int = Field(default=24, ge=1)
    """One nudge to those who have not answered this long after their prompt."""
    close_after_hours: int = Field(default=48, ge=2)
    """The round closes (and its digest is posted) this long after the last prompt."""
    live_turn_minutes: int = Field(default=3, ge=1, le=30)
    """Live mode: how long each person has before the bot moves on."""

    @model_validator(mode="after")
    def _nudge_before_close(self) -> CheckinConfig:
        if self.nudge_after_hours >= self.close_after_hours:
            raise LocatedErrors([(("nudge_after_hours",), "must be less than close_after_hours")])
        if any(day < 1 for day in self.pulse_days):
            raise LocatedErrors([(("pulse_days",), "days must be 1 or more")])
        return self


class MatchingConfig(FrozenModel):
    """Peer matching: when cycles start, the first task a group gets, the "did you meet?" check."""

    pair_on: WeeklyTime = WeeklyTime.parse("Mon 10:00")
    """Day and time (cohort time zone) of a cadenced pairing, every `pairing_every_weeks`."""
    mode: Literal["pairs", "triads"] = "pairs"
    """What the cadence forms: pairs, or triads of two peers plus a mentor."""
    intro_task: str = Field(
        default=(
            "Book 30 minutes this week. Each of you shares one thing you are working on "
            "and asks the other for one tip on it."
        ),
        min_length=1,
    )
    meet_check_days: int = Field(default=3, ge=1, le=28)
    """Days after the intro before each member is asked "did you meet?"."""
    meet_check_give_up_hours: int = Field(default=48, ge=1)
    """An unanswered "did you meet?" counts as a missed prompt after this long."""


class AgendaItem(FrozenModel):
    name: str = Field(min_length=1)
    minutes: int = Field(ge=1, le=120)


def _default_agenda() -> list[AgendaItem]:
    return [
        AgendaItem(name="welcome", minutes=2),
        AgendaItem(name="micro-teach", minutes=10),
        AgendaItem(name="practice in pairs", minutes=20),
        AgendaItem(name="reflection", minutes=10),
        AgendaItem(name="commitments", minutes=5),
    ]


class SessionConfig(FrozenModel):
    """How facilitated sessions run: which agenda items are special, and the prompts."""

    practice_item: str | None = "practice in pairs"
    """The agenda item at which each pair gets role-play prompts A and B (None: no prompts)."""
    commitments_item: str | None = "commitments"
    """The agenda item at which each attendee is asked for a commitment (None: not asked)."""
    role_play_a: str = (
        "You are A: describe a real situation where you need to give someone difficult "
        "feedback. Practise saying it in under two minutes, then swap."
    )
    role_play_b: str = (
        "You are B: listen to A, ask two open questions, then tell A one thing that "
        "landed well and one thing to try differently. Then swap."
    )
    rotate_facilitator: bool = False
    """Name a participant as each session's facilitator, in turn, in the kickoff post."""
    commitment_days: int = Field(default=7, ge=1, le=60)
    """Default deadline of a commitment, in days after the session."""
    auto_start: bool = False
    """Start the session by itself at the cadence time, instead of waiting for the command."""


class Criterion(FrozenModel):
    """One row of the peer-review rubric."""

    id: RuleName
    name: str = Field(min_length=1)
    description: str = ""


def _default_rubric() -> list[Criterion]:
    return [
        Criterion(id="clarity", name="Clarity", description="The main point is easy to follow."),
        Criterion(id="structure", name="Structure", description="A clear beginning and end."),
        Criterion(id="engagement", name="Engagement", description="Holds the audience."),
        Criterion(id="impact", name="Impact", description="The audience knows what to do next."),
    ]


class ReviewConfig(FrozenModel):
    rubric: list[Criterion] = Field(default_factory=_default_rubric, min_length=1)
    scale_max: int = Field(default=4, ge=2, le=10)
    """Each criterion is scored 1..scale_max."""
    reviewers_per_request: int = Field(default=2, ge=1, le=10)
    due_days: int = Field(default=14, ge=1)
    reminder_fractions: list[float] = Field(default_factory=lambda: [0.5, 0.9])
    """Remind reviewers when this share of the time to the deadline has passed."""
    sla_hours_overdue: int = Field(default=24, ge=0)
    """Hours past the deadline before an overdue review escalates."""

    @model_validator(mode="after")
    def _consistent(self) -> ReviewConfig:
        problems = check_unique((c.id for c in self.rubric), field="rubric", label="criterion")
        if any(not 0 < f < 1 for f in self.reminder_fractions):
            problems.append((("reminder_fractions",), "each fraction must be between 0 and 1"))
        if problems:
            raise LocatedErrors(problems)
        return self


class BadgeConfig(FrozenModel):
    id: Slug
    name: str = Field(min_length=1)
    description: str = ""
    rule: RuleName
    """What earns it, e.g. `first_checkin`, `checkin_streak`, `reviews_given`."""
    threshold: Number | None = None


class QuizQuestion(FrozenModel):
    """One quiz question: its options and which of them are right (1 = the first option)."""

    question: str = Field(min_length=1, max_length=300)
    options: list[str] = Field(min_length=2, max_length=10)
    correct: list[int] = Field(min_length=1)
    """Accepts one number (`correct: 2`) or several (`correct: [1, 3]`, answered as multi)."""

    @field_validator("correct", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, int) else value

    @model_validator(mode="after")
    def _consistent(self) -> QuizQuestion:
        problems: list[tuple[Loc, str]] = []
        if any(not 1 <= n <= len(self.options) for n in self.correct):
            problems.append(
                (("correct",), f"must name options 1 to {len(self.options)} (1 = the first)")
            )
        if len(set(self.correct)) != len(self.correct):
            problems.append((("correct",), "names an option twice"))
        if len({o.strip().lower() for o in self.options}) != len(self.options):
            problems.append((("options",), "options must not repeat"))
        if any(not o.strip() or len(o) > 75 for o in self.options):
            problems.append((("options",), "each option needs 1 to 75 characters"))
        if problems:
            raise LocatedErrors(problems)
        return self

    @property
    def correct_indexes(self) -> list[int]:
        """The right options counted from 0, as polls store them."""
        return sorted(n - 1 for n in self.correct)


class QuizConfig(FrozenModel):
    """A short quiz from the program's question bank: `/cohort quiz <id>`."""

    id: Slug
    title: str = Field(min_length=1, max_length=200)
    closes_after_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)
    """How long people have to answer, unless the facilitator closes it sooner."""
    questions: list[QuizQuestion] = Field(min_length=1, max_length=20)


class RecognitionConfig(FrozenModel):
    """How badges are checked and how much kudos a person may give."""

    kudos_per_week: int = Field(default=3, ge=0, le=50)
    """Kudos one person may give in a cohort per calendar week (0 turns kudos off)."""
    check_every_minutes: int = Field(default=15, ge=1, le=1440)
    """How often each cohort's activity log is checked for newly earned badges."""
    helpful_min_ratings: int = Field(default=2, ge=1, le=100)
    """Usefulness ratings a reviewer needs before the average can earn a badge."""


class KpiThreshold(FrozenModel):
    """Traffic-light bounds: at or past `green` is on target, at or past `amber` at risk."""

    green: Number
    amber: Number
    higher_is_better: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> KpiThreshold:
        if self.higher_is_better and self.green < self.amber:
            raise LocatedErrors([(("amber",), "must not be above green when higher is better")])
        if not self.higher_is_better and self.green > self.amber:
            raise LocatedErrors([(("amber",), "must not be below green when lower is better")])
        return self

    def status(self, value: float) -> Literal["green", "amber", "red"]:
        """The colour for a measured value."""
        sign = 1 if self.higher_is_better else -1
        if sign * value >= sign * self.green:
            return "green"
        if sign * value >= sign * self.amber:
            return "amber"
        return "red"


class LowerIsBetterThreshold(KpiThreshold):
    higher_is_better: bool = False


class KpiThresholds(FrozenModel):
    participation_rate: KpiThreshold = KpiThreshold(green=0.75, amber=0.6)
    satisfaction: KpiThreshold = KpiThreshold(green=4.0, amber=3.5)
    """Average on the 5-point scale."""
    skill_improvement: KpiThreshold = KpiThreshold(green=0.15, amber=0.08)
    """Relative gain from pre- to post-assessment."""
    attendance: KpiThreshold = KpiThreshold(green=0.8, amber=0.6)
    review_turnaround_days: LowerIsBetterThreshold = LowerIsBetterThreshold(green=14, amber=21)
    meet_rate: KpiThreshold = KpiThreshold(green=0.8, amber=0.6)
    """Share of matched pairs that met in the cycle."""
    engagement: KpiThreshold = KpiThreshold(green=0.8, amber=0.6)
    """Share of the invited who onboarded and checked in at least once."""
    commitments_kept: KpiThreshold = KpiThreshold(green=0.7, amber=0.5)
    """Share of followed-up commitments that were kept."""
    feedback_per_participant: KpiThreshold = KpiThreshold(green=0.5, amber=0.25)
    """Reviews given plus kudos, per active participant per week."""


RouteRole = Literal["moderator", "facilitator", "owner", "mentor"]
_MODERATOR: RouteRole = "moderator"


class EscalationRoute(FrozenModel):
    """Where escalations with one tag go instead of the default moderators' channel."""

    channels: dict[str, str] = Field(default_factory=dict)
    """A channel per platform for this tag; platforms left out use the default channel."""
    roles: list[RouteRole] = Field(default_factory=lambda: [_MODERATOR], min_length=1)
    """Who in the cohort gets a DM when there is no channel for their platform."""

    @field_validator("channels")
    @classmethod
    def _known_platforms(cls, value: dict[str, str]) -> dict[str, str]:
        return check_platform_keys(value)


class EscalationConfig(FrozenModel):
    ack_sla_hours: float = Field(default=4, gt=0)
    """Unacknowledged pings go to tier 2 (the program owners) after this long."""
    tags: list[RuleName] = Field(default_factory=lambda: ["content", "conduct", "tech"])
    channels: dict[str, str] = Field(default_factory=dict)
    """Moderators' channel per platform; without one, moderators get a DM."""
    routes: dict[str, EscalationRoute] = Field(default_factory=dict)
    """Per tag: other channels, or other roles to DM (`tech: {roles: [facilitator]}`)."""
    inactive_days: int = Field(default=14, ge=1)
    """A participant inactive this long is escalated to the moderators."""
    sweep_minutes: int = Field(default=15, ge=1, le=1440)
    """How often overdue reviews, long inactivity and undeliverable messages are looked for."""

    @field_validator("channels")
    @classmethod
    def _known_platforms(cls, value: dict[str, str]) -> dict[str, str]:
        return check_platform_keys(value)

    @model_validator(mode="after")
    def _routes_name_tags(self) -> EscalationConfig:
        unknown = sorted(set(self.routes) - set(self.tags))
        if unknown:
            raise LocatedErrors(
                [(("routes", tag), f"{tag!r} is not one of the tags") for tag in unknown]
            )
        return self


def check_platform_keys(value: dict[str, str]) -> dict[str, str]:
    """Reject channel maps keyed by anything but a known platform name."""
    for key in value:
        if key not in PLATFORMS:
            raise ValueError(f"unknown platform {key!r} (known: {', '.join(PLATFORMS)})")
    return value


_RANGE_RE = re.compile(r"\s*(\d+)\s*(?:-|\.\.|to)\s*(\d+)\s*")


def _parse_minutes_range(value: Any) -> Any:
    """Accept `15-30`, `15..30` or `[15, 30]` for a (min, max) pair of minutes."""
    if isinstance(value, str):
        match = _RANGE_RE.fullmatch(value)
        if match is None:
            raise ValueError(f"{value!r} is not a range of minutes (expected e.g. '15-30')")
        return (int(match[1]), int(match[2]))
    return value


class FinaleConfig(FrozenModel):
    """The end of the program: evaluation, post-assessment, celebration, manager summaries."""

    at: time = time(10, 0)
    """Time of day (cohort time zone) on the last program day when the finale starts."""
    reminder_hours: int = Field(default=48, ge=1)
    """One reminder to those who have not finished this long after the finale started."""
    celebrate_after_hours: int = Field(default=96, ge=1)
    """The celebration (and the manager summaries) follow this long after the start."""

    @model_validator(mode="after")
    def _remind_before_celebrating(self) -> FinaleConfig:
        if self.reminder_hours >= self.celebrate_after_hours:
            raise LocatedErrors([(("reminder_hours",), "must be less than celebrate_after_hours")])
        return self


class ProgramConfig(FrozenModel):
    """A learning program: its skills, cadence, scripts, rubric, badges and KPI targets."""

    name: str = Field(min_length=1)
    description: str = ""
    weeks: int = Field(default=8, ge=1, le=52)
    skills: list[str] = Field(min_length=1)
    """Target skills: the choices for strengths and gaps, the pre/post assessment."""
    cadence: CadenceConfig = Field(default_factory=CadenceConfig)
    session_minutes: int = Field(default=60, ge=30, le=120)
    task_minutes: tuple[int, int] = (15, 30)
    onboarding: OnboardingConfig = Field(default_factory=OnboardingConfig)
    checkin: CheckinConfig = Field(default_factory=CheckinConfig)
    matching: MatchingConfig = Field(default_factory=MatchingConfig)
    agenda: list[AgendaItem] = Field(default_factory=_default_agenda)
    session: SessionConfig = Field(default_factory=SessionConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    badges: list[BadgeConfig] = Field(default_factory=list)
    quizzes: list[QuizConfig] = Field(default_factory=list)
    """Question banks for `/cohort quiz <id>`."""
    recognition: RecognitionConfig = Field(default_factory=RecognitionConfig)
    kpis: KpiThresholds = Field(default_factory=KpiThresholds)
    escalation: EscalationConfig = Field(default_factory=EscalationConfig)
    finale: FinaleConfig = Field(default_factory=FinaleConfig)
    holidays: list[date] = Field(default_factory=list)
    """No sessions or check-ins on these dates."""
    skip_weekends: bool = True

    @field_validator("task_minutes", mode="before")
    @classmethod
    def _task_minutes_range(cls, value: Any) -> Any:
        return _parse_minutes_range(value)

    @model_validator(mode="after")
    def _consistent(self) -> ProgramConfig:
        problems = check_unique((b.id for b in self.badges), field="badges", label="badge")
        problems += check_unique((q.id for q in self.quizzes), field="quizzes", label="quiz")
        low, high = self.task_minutes
        if not 1 <= low <= high:
            problems.append((("task_minutes",), f"{low}-{high} is not a range of minutes"))
        if len(set(self.skills)) != len(self.skills):
            problems.append((("skills",), "skills must not repeat"))
        agenda_minutes = sum(item.minutes for item in self.agenda)
        names = {item.name for item in self.agenda}
        for field in ("practice_item", "commitments_item"):
            wanted = getattr(self.session, field)
            if wanted is not None and wanted not in names:
                problems.append((("session", field), f"{wanted!r} is not an agenda item"))
        if agenda_minutes > self.session_minutes:
            problems.append(
                (
                    ("agenda",),
                    f"adds up to {agenda_minutes} minutes, "
                    f"more than session_minutes ({self.session_minutes})",
                )
            )
        if problems:
            raise LocatedErrors(problems)
        return self
