"""Where a Teams message lives, as one string: none of the parts ever contains a space.

`Ref` (service URL, conversation id, activity id) is the reply token of an inbound
activity. `Sent` (conversation id, activity id) is the platform reference of a message
the bot sent, kept short for the outbox; its service URL comes from the message's
target when it is updated or replied to.
"""

from __future__ import annotations

from dataclasses import dataclass

CHANNEL_ID = "msteams"
"""The Bot Framework channel id of Microsoft Teams."""
BOT_ID_PREFIX = "28:"
"""Teams prefixes a bot's app id with `28:` in activities."""


@dataclass(frozen=True)
class Ref:
    service_url: str
    conversation_id: str
    activity_id: str = ""

    def encode(self) -> str:
        return " ".join((self.service_url, self.conversation_id, self.activity_id)).rstrip()

    @classmethod
    def decode(cls, raw: str | None) -> Ref | None:
        """The reference in `raw`, or None when it is not one of ours."""
        parts = (raw or "").split(" ")
        if len(parts) not in (2, 3) or not parts[0].startswith(("http://", "https://")):
            return None
        if not parts[1]:
            return None
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else "")


def bot_id(app_id: str) -> str:
    """The bot's account id in Teams conversations."""
    return app_id if app_id.startswith(BOT_ID_PREFIX) else f"{BOT_ID_PREFIX}{app_id}"


@dataclass(frozen=True)
class Sent:
    conversation_id: str
    activity_id: str

    def encode(self) -> str:
        return f"{self.conversation_id} {self.activity_id}"

    @classmethod
    def decode(cls, raw: str | None) -> Sent | None:
        conversation_id, _, activity_id = (raw or "").partition(" ")
        if not conversation_id or not activity_id or " " in activity_id:
            return None
        return cls(conversation_id, activity_id)
