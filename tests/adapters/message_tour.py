"""Every kind of message the bot sends, and what a person would see of each.

`tour` drives a cohort through the playground as its people would: joins and onboarding,
sessions, check-ins, polls, a quiz, reviews, pairs, badges and kudos, escalations, reports,
time off, the finale, refusals and typos, with the clock moving through reminders, nudges
and SLAs. `sent_messages` reads what the bot queued. The `visible_*` functions read a
rendered text the way each platform shows it, and `stray_markup` names any markup that
would still show as characters.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import select

from bot.model.messages import Message
from storage.models import OutboxMessage
from storage.uow import unit_of_work
from tests.flows.escalation.escalation_helpers import flag, rude_message
from tests.flows.review.review_helpers import review
from tests.harness import CHANNEL, Playground

PARTICIPANTS = ("alex", "jordan", "priya", "tom")

STAFF_COMMANDS = (
    ("dana", "/cohort help"),
    ("dana", "/cohort help poll"),
    ("dana", "/cohort members pilot-a"),
    ("dana", "/cohort session start pilot-a"),
    ("dana", "/cohort session next"),
    ("dana", "/cohort session pause"),
    ("dana", "/cohort session resume"),
    ("dana", "/cohort session end"),
    ("dana", "/cohort checkin --cohort pilot-a"),
    ("dana", '/cohort poll "Which format next session?" "Role play" "Case study"'),
    ("dana", "/cohort poll Which day suits you?, Monday | Tuesday --anonymous --multi"),
    ("dana", "/cohort poll"),
    ("dana", "/cohort quiz"),
    ("dana", "/cohort quiz feedback-basics"),
    ("dana", "/cohort pair --cohort pilot-a"),
    ("dana", "/cohort badge award @alex program-completed for the demo"),
    ("dana", "/cohort badges"),
    ("dana", "/cohort nudges --cohort pilot-a"),
    ("dana", "/cohort report pilot-a"),
    ("dana", "/cohort deliveries @alex"),
    ("dana", "/cohort dashboard"),
    ("dana", "/cohort escalations"),
    ("sam", "/cohort escalations"),
)

PARTICIPANT_COMMANDS = (
    ("alex", "/cohort review request https://talks.example.org/alex --reviewers 2 --due 3d"),
    ("jordan", "/cohort kudos @alex for a clear demo"),
    ("jordan", "/cohort help-me I cannot open the recording #tech"),
    ("priya", "/cohort me"),
    ("priya", "/cohort reviews"),
    ("priya", "/cohort cohorts"),
    ("priya", "/cohort profile"),
    ("tom", "/cohort away for 1w"),
    ("tom", "/cohort back"),
    ("tom", "/cohort dashboard"),
    ("tom", "/cohort frobnicate"),
    ("tom", "/cohort poll Should we? Yes, No"),
    ("tom", "hello?"),
)


async def tour(playground: Playground) -> None:
    """A short program in which the bot sends every kind of message it has."""
    for person in PARTICIPANTS:
        await playground.say(person, "/cohort join pilot-a")
        for answer in ("yes", "Product design", "skip", "skip", "skip", "skip", "skip"):
            await playground.say(person, answer)
    for person, command in STAFF_COMMANDS[:9]:
        await playground.say(person, command)
    for person in PARTICIPANTS[:3]:
        await playground.say(person, "Success: I kept my talk to 5 minutes")
        await playground.say(person, "Challenge: questions from the room")
    for person, command in STAFF_COMMANDS[9:]:
        await playground.say(person, command)
    for person, command in PARTICIPANT_COMMANDS:
        await playground.say(person, command)
    for reviewer in ("priya", "jordan"):
        await review(playground, reviewer)
    await vote_in_the_first_poll(playground, "alex")
    await flag(playground, "jordan", await rude_message(playground), note="#conduct please look")
    await playground.say("priya", "I'd rather not say here", channel=CHANNEL)
    await playground.say("dana", "/cohort checkin close --cohort pilot-a")
    for days in (1, 1, 2, 3, 7, 7, 14):
        await playground.advance(timedelta(days=days))
    await playground.say("dana", "/cohort finale start --cohort pilot-a")
    await playground.say("dana", "/cohort finale celebrate --cohort pilot-a")
    await playground.advance(timedelta(days=1))


async def vote_in_the_first_poll(playground: Playground, person: str) -> None:
    poll = next(m for m in await playground.from_bot(person) if m["message"]["text"][:1] == "📊")
    await playground.click(person, poll, "Role play")


async def sent_messages(playground: Playground) -> list[Message]:
    """Every distinct message the bot queued, in the order it queued them."""
    async with unit_of_work(playground.bot.sessions) as uow:
        rows = await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        found = [Message.model_validate(row.message) for row in rows]
    distinct: dict[str, Message] = {}
    for message in found:
        distinct.setdefault(message.model_dump_json(), message)
    return list(distinct.values())


_EMPHASIS = (
    re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"),
    re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"),
    re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"),
    re.compile(r"`([^`\n]+)`"),
)
_STRAY = {
    "bold or italic markers": re.compile(r"\*\*|(?<![\w*])\*\S[^*\n]*\*(?![\w*])"),
    "underscores around words": re.compile(r"(?<![\w_])_\S[^_\n]*_(?![\w_])"),
    "tildes around words": re.compile(r"~~|(?<![\w~])~\S[^~\n]*~(?![\w~])"),
    "backticks": re.compile(r"`"),
    "a link in angle brackets": re.compile(r"<(?:https?|mailto):"),
    "a mention in angle brackets": re.compile(r"<[@#!]|</?at>"),
    "a Markdown link": re.compile(r"\]\((?:https?|mailto):"),
    "a quote marker": re.compile(r"(?m)^(?:>|&gt;)"),
    "an HTML entity": re.compile(r"&(?:lt|gt|amp|quot|#\d+);"),
    "a Slack command on Teams": re.compile(r"(?<![\w/])/cohort\b"),
}


def stray_markup(text: str, *, teams: bool = False) -> list[str]:
    """What in `text`, as shown to a person, is markup they would see as characters."""
    found = [name for name, pattern in _STRAY.items() if pattern.search(text)]
    return [name for name in found if teams or name != "a Slack command on Teams"]


def visible_slack(mrkdwn: str) -> str:
    """What Slack shows for a mrkdwn text."""
    text = re.sub(r"<(?:https?|mailto):[^|<>]*\|([^<>]*)>", r"\1", mrkdwn)
    text = re.sub(r"<((?:https?|mailto):[^|<>]*)>", r"\1", text)
    text = re.sub(
        r"<@([A-Z0-9]+)(?:\|([^<>]*))?>", lambda m: "@" + (m.group(2) or m.group(1)), text
    )
    text = re.sub(
        r"<#([A-Z0-9]+)(?:\|([^<>]*))?>", lambda m: "#" + (m.group(2) or m.group(1)), text
    )
    text = re.sub(r"(?m)^&gt; ?", "", text)
    for pattern in _EMPHASIS:
        text = pattern.sub(r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def visible_teams(markdown: str, *, in_card: bool) -> str:
    """What Teams shows for a card TextBlock's text or a text message's Markdown."""
    text = re.sub(r"\[([^\]]*)\]\([^)\s]+\)", r"\1", markdown)
    text = re.sub(r"<at>([^<]*)</at>", r"@\1", text)
    text = re.sub(r"\*\*(\S[^*\n]*?)\*\*", r"\1", text)
    text = _EMPHASIS[1].sub(r"\1", text)
    if not in_card:
        text = re.sub(r"~~(\S[^~\n]*?)~~", r"\1", text)
        text = _EMPHASIS[3].sub(r"\1", text)
        text = re.sub(r"(?m)^> ", "", text)
        text = html.unescape(text)
    return text
