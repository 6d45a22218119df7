"""Peer reviews: `/cohort review request` and `/cohort reviews`, wired to their buttons and forms.

This module holds the command specs and `register()`. The pieces live in sibling modules:
the two commands (commands), picking reviewers (pick), assigning them with reminders
(assign), what people do with the buttons and forms (answers) and what the bot says
(view).
"""

from __future__ import annotations

from bot.commands.parser import CommandSpec, Option
from bot.commands.router import CommandContext
from bot.model.roles import Role
from flows.common.wiring import Wiring
from flows.review import answers as review_answers
from flows.review.assign import review_flow
from flows.review.commands import request_review, reviews_command
from flows.review.view import DECLINE_ACTION, DECLINE_FORM, FORM, RATE_ACTION, START_ACTION

REVIEW = CommandSpec(
    name="review",
    summary="Ask peers to review your work against the program's rubric",
    usage="request <link or text> [@reviewer ...] [--reviewers 2] [--due 14d]",
    min_args=1,
    max_args=None,
    subcommands=("request",),
    options=(
        Option("reviewers", "int", "how many reviewers (default from the program)"),
        Option("due", "duration", "time to the deadline, e.g. 7d (default from the program)"),
        Option("cohort", "text", "the cohort, when you are in more than one"),
    ),
    roles=frozenset({Role.PARTICIPANT}),
    details=(
        "Reviewers are the participants with the fewest open reviews, never you and, "
        "when others are free, not last time's reviewers. Mention people to choose them "
        "yourself. Each reviewer scores the rubric; you get all reviews in one message "
        "and rate how useful each was."
    ),
)
REVIEWS = CommandSpec(
    name="reviews",
    summary="Your review requests and the reviews you've been asked to give",
    usage="",
)


def register(wiring: Wiring) -> None:
    wiring.engine.register(review_flow())

    async def review_command(ctx: CommandContext) -> None:
        await request_review(ctx, config=wiring.config)

    wiring.router.register(REVIEW, review_command)
    wiring.router.register(REVIEWS, reviews_command)
    wiring.router.register_action(START_ACTION, review_answers.start_handler(wiring.config))
    wiring.router.register_action(DECLINE_ACTION, review_answers.decline_handler(wiring.config))
    wiring.router.register_action(RATE_ACTION, review_answers.rate)
    wiring.router.register_form(FORM, review_answers.review_form_handler(wiring.config))
    wiring.router.register_form(DECLINE_FORM, review_answers.decline_form_handler(wiring.config))
