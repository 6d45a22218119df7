"""The Slack app manifest names exactly what the adapter listens to."""

from __future__ import annotations

from typing import Any

import yaml

from adapters.slack.app import COMMAND
from adapters.slack.translate import FLAG_SHORTCUT
from tests.conftest import REPO_ROOT


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO_ROOT / "manifest.yaml").read_text("utf-8"))
    return loaded


def test_manifest_routes_everything_to_slack_events() -> None:
    data = manifest()
    urls = {
        data["features"]["slash_commands"][0]["url"],
        data["settings"]["event_subscriptions"]["request_url"],
        data["settings"]["interactivity"]["request_url"],
    }
    assert {url.rsplit("/", 2)[-2:] == ["slack", "events"] for url in urls} == {True}


def test_manifest_declares_the_command_shortcut_and_events_we_handle() -> None:
    data = manifest()
    assert data["features"]["slash_commands"][0]["command"] == COMMAND
    assert data["features"]["shortcuts"][0]["callback_id"] == FLAG_SHORTCUT
    assert set(data["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "app_mention",
        "member_joined_channel",
        "message.im",
    }
    scopes = set(data["oauth_config"]["scopes"]["bot"])
    assert {"chat:write", "commands", "im:history", "users:read.email"} <= scopes
    assert "users:read" in scopes, "users.info gives a new person's time zone"
    history = {"channels:history", "groups:history", "im:history", "mpim:history"}
    assert history <= scopes, "after a crash the bot reads recent history before sending again"
