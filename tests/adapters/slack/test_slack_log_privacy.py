"""A sick database must not spill what people wrote into the logs, at any level.

Each test makes one table refuse writes (a trigger, as a full disk would), sends signed
Slack requests through the real adapter, and reads every record logged with the bot at
DEBUG as `configure_logging` sets it up, both as captured and as the bot's JSON formatter
writes it.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import pytest

from bot.model.roles import Role
from bot.support.logs import QUIET_LIBRARIES, JsonFormatter
from tests.adapters.slack.conftest import SlackRig
from tests.adapters.slack.test_slack_poll import (
    FACILITATOR,
    add_people,
    click,
    option_buttons,
    post_poll,
)

HELP_TEXT = "my manager reads my DMs, please keep this between us"
VOTER = "UVOTER1"


def fail_writes_to(database_url: str, table: str) -> None:
    """From now on every INSERT into `table` fails, as it would on a full disk."""
    connection = sqlite3.connect(database_url.removeprefix("sqlite+aiosqlite:///"))
    try:
        connection.execute(
            f"CREATE TRIGGER {table}_refuses BEFORE INSERT ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
        connection.commit()
    finally:
        connection.close()


def log_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    """The bot at DEBUG, libraries at WARNING, as `configure_logging("DEBUG")` leaves them."""
    caplog.set_level(logging.DEBUG)
    for name in QUIET_LIBRARIES:
        caplog.set_level(logging.WARNING, logger=name)
    caplog.clear()


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """The captured log as text, plus each record as the bot's JSON formatter writes it."""
    formatter = JsonFormatter()
    return caplog.text + "\n".join(formatter.format(record) for record in caplog.records)


def assert_failed_quietly(caplog: pytest.LogCaptureFixture, secrets: list[str]) -> None:
    """Something failed and was logged, and nothing of `secrets` or SQL parameters was."""
    assert any(record.levelno >= logging.ERROR for record in caplog.records), "nothing failed"
    forbidden = [*secrets, "[parameters:", "Failed to run listener"]
    lines = everything_logged(caplog).splitlines()
    leaks = [line for line in lines if any(secret in line for secret in forbidden)]
    assert leaks == []


async def anonymous_poll(rig: SlackRig) -> dict[str, Any]:
    await add_people(rig, Role.FACILITATOR, FACILITATOR)
    await add_people(rig, Role.PARTICIPANT, VOTER)
    return await post_poll(rig, 'poll "Is the pace right?" "Too slow" "Too fast" --anonymous')


async def test_a_failing_inbox_write_logs_no_command_text_or_response_url(
    slack_rig: SlackRig, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    log_at_debug(caplog)
    fail_writes_to(database_url, "inbox")

    response = await slack_rig.command(f"help-me {HELP_TEXT}", user_id=VOTER)
    await slack_rig.playground.bot.settle()

    assert response.status >= 500, "Slack is told to retry"
    assert_failed_quietly(caplog, [HELP_TEXT, slack_rig.response_url, "/response/hook-1"])


async def test_a_failing_inbox_write_logs_no_anonymous_vote(
    slack_rig: SlackRig, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    post = await anonymous_poll(slack_rig)
    button = option_buttons(post)[1]
    log_at_debug(caplog)
    fail_writes_to(database_url, "inbox")

    response = await slack_rig.interaction(click(VOTER, post, button, 7))
    await slack_rig.playground.bot.settle()

    assert response.status >= 500
    assert_failed_quietly(caplog, [button["action_id"], '"value": "1"', VOTER])


async def test_a_failing_write_while_processing_logs_no_command_text_or_response_url(
    slack_rig: SlackRig, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await add_people(slack_rig, Role.PARTICIPANT, VOTER)
    log_at_debug(caplog)
    # The request is recorded and acknowledged; the escalation's ping and the reply fail.
    fail_writes_to(database_url, "outbox")

    response = await slack_rig.command(f"help-me {HELP_TEXT}", user_id=VOTER)
    await slack_rig.playground.bot.settle()

    assert response.status == 200
    assert_failed_quietly(caplog, [HELP_TEXT, slack_rig.response_url, "/response/hook-1"])


async def test_a_failing_write_while_counting_an_anonymous_vote_logs_no_vote(
    slack_rig: SlackRig, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    post = await anonymous_poll(slack_rig)
    button = option_buttons(post)[1]
    log_at_debug(caplog)
    fail_writes_to(database_url, "poll_votes")

    response = await slack_rig.interaction(click(VOTER, post, button, 8))
    await slack_rig.playground.bot.settle()

    assert response.status == 200
    assert_failed_quietly(caplog, [button["action_id"], '"value": "1"', VOTER])
