"""Quizzes: `/cohort quiz <id>` posts a question bank from app.yaml; `close` scores it.

Each question is a poll of kind `quiz` in one series, answered with the same buttons as
polls and changeable until the quiz closes. At the closing time (or `/cohort quiz
close`) every question shows its right answers, each person's score is logged, and a
leaderboard is posted in the channel.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import NotRequired

from typing_extensions import TypedDict

from bot.commands.parser import CommandSpec, Option
from bot.commands.router import CommandContext, CommandRouter
from bot.config import AppConfig, QuizConfig
from bot.model.messages import Context, Message, Section
from bot.model.roles import Role
from bot.runtime.effects import Effects
from bot.runtime.scheduler import TaskContext, TaskRegistry, Timers
from flows.poll import live as poll_live
from flows.poll.view import live_message, poll_ref, when
from storage.models import Cohort, Person, Poll
from storage.repositories.polls import QUIZ

STAFF = frozenset({Role.FACILITATOR, Role.OWNER})
CLOSE_TASK = "quiz.close"
LEADERBOARD_SIZE = 10

QUIZ_COMMAND = CommandSpec(
    name="quiz",
    summary="Run a quiz from the program's question bank; `close` scores it",
    usage="<quiz> [--closes 30m] | close",
    min_args=0,
    max_args=1,
    options=(
        Option("closes", "duration", "when answering ends (default: the quiz's own setting)"),
        Option("cohort", "text", "the cohort, when you run more than one"),
    ),
    roles=STAFF,
    details=(
        "Posts each question of the quiz in the cohort channel; people answer with the "
        "buttons and may change an answer until the quiz closes. Then the right answers "
        "are shown and a leaderboard is posted. `/cohort quiz` lists the quizzes."
    ),
)


class QuizTimer(TypedDict):
    """The close of one posted question bank."""

    series: str
    cohort_id: NotRequired[int]
    """Absent from timers set before quizzes were told apart per cohort."""


def series_close_key(series: str, cohort_id: int) -> str:
    return f"{series}:{cohort_id}:close"


def quiz_ref(quiz_id: str) -> str:
    return f"quiz:{quiz_id}"


async def quiz_command(ctx: CommandContext, config: AppConfig) -> None:
    cohort = ctx.cohort
    if cohort is None or cohort.program not in config.programs:
        await ctx.reply("Which cohort? Run `/cohort quiz` in the cohort's channel.")
        return
    quizzes = config.programs[cohort.program].quizzes
    known = ", ".join(q.id for q in quizzes) or "none in this program"
    if not ctx.command.args:
        await ctx.reply(f"Quizzes of {cohort.name}: {known}. Start one with `/cohort quiz <id>`.")
        return
    name = ctx.command.args[0].lower()
    if name == "close":
        await _close_command(ctx, cohort, config)
        return
    chosen = next((q for q in quizzes if q.id == name), None)
    if chosen is None:
        await ctx.reply(f"There is no quiz '{ctx.command.args[0]}'. Quizzes: {known}.")
        return
    running = await ctx.effects.uow.polls.latest_open(cohort.id, QUIZ)
    if running is not None:
        await ctx.reply("A quiz is still open in this cohort; `/cohort quiz close` ends it first.")
        return
    closes_in = ctx.command.duration("closes") or timedelta(minutes=chosen.closes_after_minutes)
    if not timedelta(minutes=1) <= closes_in <= timedelta(days=7):
        await ctx.reply("--closes must be between 1 minute and 7 days.")
        return
    if not await start_quiz(ctx.effects, cohort, chosen, closes_in, creator=ctx.person.id):
        await ctx.reply(f"{cohort.name} has no channel the bot can post in.")
        return
    await ctx.reply(
        f"The quiz “{chosen.title}” is posted ({len(chosen.questions)} questions); "
        "`/cohort quiz close` ends it sooner."
    )


async def start_quiz(
    effects: Effects, cohort: Cohort, quiz: QuizConfig, closes_in: timedelta, *, creator: int
) -> bool:
    """Post the intro and one poll per question, all in one series; False without a channel."""
    uow = effects.uow
    prefix = f"{quiz_ref(quiz.id)}:"
    series = f"{prefix}{await uow.polls.series_count(cohort.id, prefix) + 1}"
    closes_at = effects.now + closes_in
    intro = (
        f"🧠 Quiz: {quiz.title}. {len(quiz.questions)} questions; click your answers "
        f"before {when(closes_at, cohort.time_zone)}. The leaderboard follows at the close."
    )
    if not await effects.channel(cohort.id, Message(text=intro, blocks=[Section(text=intro)])):
        return False
    for position, question in enumerate(quiz.questions):
        correct = question.correct_indexes
        poll = await uow.polls.create(
            cohort_id=cohort.id,
            kind=QUIZ,
            question=question.question,
            options=question.options,
            multi=len(correct) > 1,
            correct=correct,
            series=series,
            position=position,
            now=effects.now,
            closes_at=closes_at,
            created_by=creator,
        )
        poll.ref_key = poll_ref(poll.id)
        message = live_message(poll, [0] * len(poll.options), 0, time_zone=cohort.time_zone)
        await effects.channel(cohort.id, message, ref_key=poll.ref_key)
        effects.log(
            "poll.created",
            person_id=creator,
            cohort_id=cohort.id,
            object_ref=poll_ref(poll.id),
            data={"kind": QUIZ, "anonymous": False},
        )
    await Timers(uow, effects.now).run_once(
        key=series_close_key(series, cohort.id),
        task=CLOSE_TASK,
        at=closes_at,
        payload=QuizTimer(series=series, cohort_id=cohort.id),
    )
    return True


async def _close_command(ctx: CommandContext, cohort: Cohort, config: AppConfig) -> None:
    latest = await ctx.effects.uow.polls.latest_open(cohort.id, QUIZ)
    if latest is None or latest.series is None:
        await ctx.reply(f"{cohort.name} has no open quiz.")
        return
    people = await close_quiz(ctx.effects, latest.series, config, cohort_id=cohort.id)
    await ctx.reply(f"The quiz is closed; {people} took part. The leaderboard is posted.")


async def close_quiz(
    effects: Effects, series: str, config: AppConfig, *, cohort_id: int | None
) -> int:
    """Close every question, log each person's score, post the leaderboard; returns how
    many people answered. Closing a closed quiz again does nothing."""
    uow = effects.uow
    polls = await uow.polls.series(series, cohort_id=cohort_id, lock=True)
    open_polls = [p for p in polls if p.closed_at is None]
    if not polls or not open_polls:
        return 0
    if cohort_id is not None:
        await Timers(uow, effects.now).cancel(series_close_key(series, cohort_id))
    for poll in open_polls:
        await poll_live.close(effects, poll, announce=False)
    scores = await _scores(effects, polls)
    quiz_id = series.split(":")[1]
    for person_id, score in scores.items():
        effects.log(
            "quiz.completed",
            person_id=person_id,
            cohort_id=polls[0].cohort_id,
            object_ref=quiz_ref(quiz_id),
            data={"score": score, "total": len(polls), "series": series},
        )
    cohort = await uow.cohorts.get(polls[0].cohort_id)
    program = config.programs.get(cohort.program) if cohort else None
    quizzes = program.quizzes if program else []
    title = next((q.title for q in quizzes if q.id == quiz_id), quiz_id)
    await effects.channel(polls[0].cohort_id, await _leaderboard(effects, title, polls, scores))
    return len(scores)


async def _scores(effects: Effects, polls: list[Poll]) -> dict[int, int]:
    """Person id -> questions answered exactly right (all right options, nothing else)."""
    right = {poll.id: sorted(poll.correct or []) for poll in polls}
    scores: dict[int, int] = defaultdict(int)
    for vote in await effects.uow.polls.votes_in([poll.id for poll in polls]):
        if vote.person_id is None:
            continue
        scores[vote.person_id] += int(sorted(vote.choices) == right[vote.poll_id])
    return dict(scores)


async def _leaderboard(
    effects: Effects, quiz_title: str, polls: list[Poll], scores: dict[int, int]
) -> Message:
    title = f"🏆 Quiz results: {quiz_title}"
    if not scores:
        text = f"{title}\nNobody answered this time."
        return Message(text=text, blocks=[Section(text=f"*{title}*"), Context(text=text)])
    # The board is posted in the channel: it names only people who scored, never a 0.
    scored = {person_id: score for person_id, score in scores.items() if score > 0}
    people = await effects.uow.people.by_ids(list(scored))
    ranked = sorted(scored.items(), key=lambda item: (-item[1], _name(people, item[0])))
    lines, rank, previous = [], 0, None
    for place, (person_id, score) in enumerate(ranked, start=1):
        if score != previous:
            rank, previous = place, score  # ties share a rank: 1, 1, 3
        if place <= LEADERBOARD_SIZE:
            lines.append(f"{rank}. {_name(people, person_id)}: {score}/{len(polls)}")
    if len(ranked) > LEADERBOARD_SIZE:
        lines.append(f"…and {len(ranked) - LEADERBOARD_SIZE} more.")
    if not ranked:
        lines.append("Nobody got a question fully right this time.")
    average = sum(scores.values()) / len(scores)
    summary = f"{len(scores)} took part; average {average:.1f} of {len(polls)}."
    text = "\n".join([title, *lines, summary])
    blocks = [Section(text=f"*{title}*"), Section(text="\n".join(lines)), Context(text=summary)]
    return Message(text=text, blocks=list(blocks))


def _name(people: dict[int, Person], person_id: int) -> str:
    person = people.get(person_id)
    return person.display_name if person and person.display_name else "Someone"


def register(*, router: CommandRouter, tasks: TaskRegistry, config: AppConfig) -> None:
    async def command(ctx: CommandContext) -> None:
        await quiz_command(ctx, config)

    async def on_close(task: TaskContext) -> None:
        timer = task.payload_as(QuizTimer)
        await close_quiz(task.effects, timer["series"], config, cohort_id=timer.get("cohort_id"))

    router.register(QUIZ_COMMAND, command)
    tasks.register(CLOSE_TASK, on_close)
