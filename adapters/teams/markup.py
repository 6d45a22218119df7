"""The neutral text markup in Teams' dialect: pure functions, no I/O.

Neutral text is Slack-like: `*bold*`, `_italic_`, links as `<url|label>`, mentions as
`<@id>` or `<@id|name>`. Teams (messages and Adaptive Card TextBlocks) reads a small
Markdown: `**bold**`, `_italic_`, `[label](url)`; a mention is `<at>name</at>` in the
text plus a mention entity naming the account.
"""

from __future__ import annotations

import re
from typing import Any

_LINK = re.compile(r"<(https?://[^|<>\s]+)(?:\|([^<>]*))?>")
_MENTION = re.compile(r"<@([^\s<>|]+)(?:\|([^<>]*))?>")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_PLACEHOLDER = "\x00{}\x00"
_SLASH_COMMAND = re.compile(r"(?<![\w/])/cohort\b")
"""Neutral text names commands as Slack's slash command; in Teams they are typed as words."""


def mention_entity(user_id: str, name: str) -> dict[str, Any]:
    return {
        "type": "mention",
        "text": f"<at>{name}</at>",
        "mentioned": {"id": user_id, "name": name},
    }


def to_teams(text: str, *, escape_html: bool = False) -> tuple[str, list[dict[str, Any]]]:
    """Teams Markdown for `text`, and the mention entities it needs.

    Plain Teams messages read some HTML, so `escape_html` keeps a literal `<cohort>`
    from disappearing as an unknown tag; Adaptive Cards show it as written.
    """
    mentions: list[dict[str, Any]] = []
    kept: list[str] = []

    def keep(piece: str) -> str:
        kept.append(piece)
        return _PLACEHOLDER.format(len(kept) - 1)

    def mention(match: re.Match[str]) -> str:
        user_id, name = match.group(1), (match.group(2) or match.group(1)).strip()
        entity = mention_entity(user_id, name or user_id)
        if entity not in mentions:
            mentions.append(entity)
        return keep(str(entity["text"]))

    def link(match: re.Match[str]) -> str:
        url, label = match.group(1), match.group(2)
        return keep(f"[{label}]({url})" if label else url)

    text = _MENTION.sub(mention, text)
    text = _LINK.sub(link, text)
    text = _SLASH_COMMAND.sub("cohort", text)
    text = _BOLD.sub(r"**\1**", text)
    if escape_html:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for index, piece in enumerate(kept):
        text = text.replace(_PLACEHOLDER.format(index), piece)
    return text, mentions


_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")


def to_plain(text: str) -> str:
    """`text` without markup, for what Teams shows as plain text: the activity summary in
    notifications and the card's fallback. Links keep their label (or URL), mentions the name.
    """
    text = _MENTION.sub(lambda m: (m.group(2) or m.group(1)).strip(), text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _SLASH_COMMAND.sub("cohort", text)
    for markup in (_BOLD, _ITALIC, _STRIKE):
        text = markup.sub(r"\1", text)
    return text
