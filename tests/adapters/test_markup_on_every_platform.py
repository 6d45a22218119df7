"""Every message the bot sends, rendered for each platform, shows no stray markup.

One neutral markup (`bot.model.messages.Section`) is rendered natively: Slack mrkdwn,
Teams Markdown (text messages) and Adaptive Card text, playground HTML. The messages come
from a tour through every flow (tests/adapters/message_tour.py); each is rendered as the
platform receives it and read back as a person would see it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from playwright.async_api import Browser

from adapters.slack.render import fallback_text, render_blocks
from adapters.teams.render import render
from bot.model.messages import Message
from tests.adapters.message_tour import (
    sent_messages,
    stray_markup,
    tour,
    visible_slack,
    visible_teams,
)
from tests.harness import demo_config, running_bot

MESSAGE_KINDS = 60
"""The tour queues well over this many distinct messages; fewer means it broke early."""


async def toured_messages(database_url: str) -> list[Message]:
    async with running_bot(demo_config(database_url)) as playground:
        await tour(playground)
        messages = await sent_messages(playground)
    assert len(messages) > MESSAGE_KINDS, [m.text[:60] for m in messages]
    return messages


HIDDEN = frozenset({"data", "private_metadata", "value"})
"""What a payload carries back to the bot, never shown."""


def nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every dict in a rendered payload where people see it (not what returns to the bot)."""
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key not in HIDDEN:
                yield from nodes(value)
    elif isinstance(node, list):
        for item in node:
            yield from nodes(item)


def texts_of(node: Any) -> Iterator[dict[str, Any]]:
    """Every dict with a "type" and a "text" in a rendered payload, where people see it."""
    return (n for n in nodes(node) if isinstance(n.get("text"), str) and "type" in n)


def slack_problems(message: Message) -> list[str]:
    problems = []
    shown = [visible_slack(fallback_text(message))]
    for text in texts_of(render_blocks(message)):
        raw = text["text"]
        shown.append(visible_slack(raw) if text["type"] == "mrkdwn" else raw)
    for text in shown:
        problems += [f"{what}: {text[:120]!r}" for what in stray_markup(text)]
    return problems


def teams_problems(message: Message) -> list[str]:
    problems = []
    for activity in render(message):
        shown = []
        if activity.get("attachments"):
            shown.append(activity["summary"])
            card = activity["attachments"][0]["content"]
            shown.append(card["fallbackText"])
            for element in texts_of(card["body"]):
                raw = element["text"]
                shown.append(
                    visible_teams(raw, in_card=True) if element["type"] == "TextBlock" else raw
                )
            for fact in _facts(card["body"]):
                shown += [visible_teams(fact["title"], in_card=True)]
                shown += [visible_teams(fact["value"], in_card=True)]
            shown += [str(label) for label in _labels(card["body"])]
        else:
            shown.append(visible_teams(activity["text"], in_card=False))
        for text in shown:
            problems += [f"{what}: {text[:120]!r}" for what in stray_markup(text, teams=True)]
    return problems


def _facts(node: Any) -> Iterator[dict[str, str]]:
    return (fact for n in nodes(node) if n.get("type") == "FactSet" for fact in n["facts"])


def _labels(node: Any) -> Iterator[object]:
    """Plain-text parts of a card: input labels, choice and action titles."""
    for n in nodes(node):
        if n.get("type") != "FactSet":
            keys = ("label", "title", "placeholder", "errorMessage")
            yield from (n[key] for key in keys if isinstance(n.get(key), str))


async def test_every_message_on_slack_shows_no_stray_markup(sqlite_url: str) -> None:
    messages = await toured_messages(sqlite_url)

    problems = {m.text[:80]: p for m in messages if (p := slack_problems(m))}

    assert problems == {}


async def test_every_message_on_teams_shows_no_stray_markup(sqlite_url: str) -> None:
    messages = await toured_messages(sqlite_url)

    problems = {m.text[:80]: p for m in messages if (p := teams_problems(m))}

    assert problems == {}


async def test_every_message_in_the_playground_shows_no_stray_markup(
    browser: Browser, sqlite_url: str
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await tour(playground)
        playground.bot.start_background()
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        problems: dict[str, list[str]] = {}
        for person in ("alex", "jordan", "priya", "tom", "dana", "sam", "olivia"):
            await page.goto(str(playground.http.make_url(f"/#person={person}")))
            await page.reload()
            await page.wait_for_selector("article.message")
            bodies = await page.locator("article.message .body").all_inner_texts()
            for text in bodies:
                if found := stray_markup(text):
                    problems[f"{person}: {text[:80]}"] = found

    assert len(bodies) > 5
    assert problems == {}
