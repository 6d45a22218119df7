"""What people type, made inert before the bot repeats it anywhere.

Neutral text treats `<url|label>` as a link and `<!here>` as a group mention (Slack's
syntax, which the renderers keep). Typed into a kudos or a poll, they would let a
participant post a link labelled with another address, or notify a whole channel in the
bot's name. So every text a person sends is rewritten once, as the event is made: a link
whose label is not its own address shows both, and group mentions become plain words.
Person and channel mentions (`<@U123>`, `<#C123|name>`) stay: commands read them.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_LINK = re.compile(r"<((?:https?|mailto):[^<>|\s]+)(?:\|([^<>]*))?>")
_GROUP = re.compile(r"<!(?:subteam\^[A-Z0-9]+\|)?@?([^<>|]+?)(?:\|[^<>]*)?>")


def _address(url: str) -> str:
    """`url` as people write it: without scheme, mailto or a trailing slash."""
    return re.sub(r"^(?:https?://|mailto:)", "", url).rstrip("/").lower()


def _plain_link(match: re.Match[str]) -> str:
    url, label = match.group(1), (match.group(2) or "").strip()
    if url.startswith("mailto:"):
        return url.removeprefix("mailto:")
    if not label or _address(label) == _address(url):
        return f"<{url}>"
    return f"{label} (<{url}>)"


def inert(text: str) -> str:
    """`text` with disguised links unmasked and group mentions as plain words."""
    text = _LINK.sub(_plain_link, text)
    return _GROUP.sub(lambda match: f"@{match.group(1)}", text)


UserText = Annotated[str, AfterValidator(inert)]
"""A text a person typed: made inert when the event is built or read back."""
