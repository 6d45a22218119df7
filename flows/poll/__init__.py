"""Polls: `/cohort poll "Question" "A" "B" ... [--multi] [--anonymous] [--closes 2h]`.

A facilitator posts the poll in the cohort channel: one button per option and one live
message with the results so far. Members vote and may change their vote until the poll
closes, at its closing time or by `/cohort poll close [id]`; then the results are
posted in the poll's thread.

This module holds the command spec and `register()`. The command and the vote button
live in `commands`, the vote rules in `votes`, refreshing and closing in `live`, what a
poll looks like in `view`, and quizzes in `quiz`.
"""

from __future__ import annotations

from bot.commands.parser import CommandSpec, Option
from bot.commands.router import ActionContext
from bot.model.roles import Role
from flows.common.wiring import Wiring
from flows.poll import live as poll_live
from flows.poll import quiz
from flows.poll.commands import MAX_OPTIONS, MIN_OPTIONS, poll_command, vote
from flows.poll.view import VOTE_ACTION

STAFF = frozenset({Role.FACILITATOR, Role.OWNER})

POLL_COMMAND = CommandSpec(
    name="poll",
    summary="Ask the cohort a question with buttons to vote; `close` ends it",
    usage=(
        '"Question" "Option A" "Option B" ... (or Question? Option A, Option B) '
        "[--multi] [--anonymous] [--closes 2h] | close [id]"
    ),
    min_args=1,
    max_args=None,
    options=(
        Option("multi", "flag", "people may choose several options"),
        Option("anonymous", "flag", "nobody, not even facilitators, can see who chose what"),
        Option("closes", "duration", "when voting ends (default 24h, at most 30 days)"),
        Option("cohort", "text", "the cohort, when you run more than one"),
    ),
    roles=STAFF,
    details=(
        f"Put the question and each of the {MIN_OPTIONS}-{MAX_OPTIONS} options in quotes, "
        "or type them bare: the question ends at `?` (or the first `|`) and the options are "
        "separated by `|` or commas. A poll that cannot be read that way is not posted. "
        "The poll is posted in the cohort channel with one live message of results; "
        "people can change their vote until it closes. Anonymous polls show only how "
        "many voted until they close. `/cohort poll close` closes the latest open poll "
        "(or the one with that id) and posts the results."
    ),
)


def register(wiring: Wiring) -> None:

    async def clicked(ctx: ActionContext) -> None:
        await vote(ctx, wiring.config)

    wiring.router.register(POLL_COMMAND, poll_command)
    wiring.router.register_action(VOTE_ACTION, clicked)
    wiring.tasks.register(poll_live.REFRESH_TASK, poll_live.on_refresh)
    wiring.tasks.register(poll_live.CLOSE_TASK, poll_live.on_close)
    quiz.register(router=wiring.router, tasks=wiring.tasks, config=wiring.config)
