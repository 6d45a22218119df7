"""JSON log lines: where an error happened, never what libraries put in its text."""

from __future__ import annotations

import json
import logging
import sys

from bot.support.logs import JsonFormatter, error_summary

RESPONSE_URL = "https://hooks.slack.com/commands/T0001/5678/secret-part"


class SdkError(Exception):
    """Stands in for an SDK error that echoes the request it made."""


def write_the_row() -> None:
    raise ValueError(
        'duplicate key value violates unique constraint "inbox_event"\n'
        "DETAIL:  Key (payload)=(please keep this between us) already exists."
    )


def post_the_reply() -> None:
    try:
        write_the_row()
    except ValueError as error:
        raise SdkError(
            f"404, message='Not Found', url='{RESPONSE_URL}'\nbody: {{'text': 'hi'}}"
        ) from error


def logged_line() -> dict[str, str]:
    """The JSON line of `log.exception("send failed")` after the failed reply."""
    record = logging.LogRecord("bot", logging.ERROR, __file__, 1, "send failed", None, None)
    try:
        post_the_reply()
    except SdkError:
        record.exc_info = sys.exc_info()
    entry: dict[str, str] = json.loads(JsonFormatter().format(record))
    return entry


def test_a_logged_traceback_keeps_its_frames_and_each_errors_first_line() -> None:
    error = logged_line()["error"]

    assert "in write_the_row" in error
    assert "in post_the_reply" in error
    assert 'ValueError: duplicate key value violates unique constraint "inbox_event"' in error
    assert "SdkError: 404, message='Not Found', url='https://hooks.slack.com/…'" in error


def test_a_logged_traceback_drops_later_lines_and_url_paths() -> None:
    error = logged_line()["error"]

    assert "please keep this between us" not in error
    assert "'text'" not in error
    assert "/commands/" not in error
    assert "secret-part" not in error


def test_an_error_summary_is_short_and_names_its_type() -> None:
    assert error_summary(KeyError("text")) == "KeyError: 'text'"
    assert error_summary(TimeoutError()) == "TimeoutError"
    assert len(error_summary(RuntimeError("x" * 1000))) < 250


def test_urls_in_a_logged_message_and_its_fields_keep_only_their_host() -> None:
    record = logging.LogRecord(
        "bot", logging.WARNING, __file__, 1, "posting to %s failed", (RESPONSE_URL,), None
    )
    record.reason = f"ClientResponseError: 404, url='{RESPONSE_URL}' (url: {RESPONSE_URL})"
    entry = json.loads(JsonFormatter().format(record))

    assert entry["msg"] == "posting to https://hooks.slack.com/… failed"
    assert entry["reason"] == (
        "ClientResponseError: 404, url='https://hooks.slack.com/…' (url: https://hooks.slack.com/…)"
    )
