"""The neutral text markup in Teams' dialects: pure functions, no I/O.

Neutral text (see `bot.model.messages.Section`) is Slack-like: `*bold*`, `_italic_`,
`~strike~`, `` `code` ``, `> ` quoted lines, links as `<url|label>`, mentions as `<@id>`
or `<@id|name>`. Teams reads two dialects of it:
- text messages: Markdown with `**bold**`, `_italic_`, `~~strike~~`, `` `code` ``, `> `
  quotes and `[label](url)`, and some HTML (so a literal `<cohort>` must be escaped);
- Adaptive Card TextBlocks: only `**bold**`, `_italic_` and `[label](url)`; struck text
  is shown plain, code and quotes between quotation marks.
A mention is `<at>name</at>` in the text plus a mention entity naming the account.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_LINK = re.compile(r"<(https?://[^|<>\s]+)(?:\|([^<>]*))?>")
_MENTION = re.compile(r"<@([^\s<>|]+)(?:\|([^<>]*))?>")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
_CODE = re.compile(r"`([^`\n]+)`")
_QUOTE = re.compile(r"^> ?(.*)$", re.MULTILINE)
_PLACEHOLDER = "\x00{}\x00"
_SLASH_COMMAND = re.compile(r"(?<![\w/])/cohort\b")
"""Neutral text names commands as Slack's slash command; in Teams they are typed as words."""


def mention_entity(user_id: str, name: str) -> dict[str, Any]:
    return {
        "type": "mention",
        "text": f"<at>{name}</at>",
        "mentioned": {"id": user_id, "name": name},
    }


def to_teams(text: str, *, in_card: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Teams Markdown for `text` (a card's TextBlock, or a text message), and its mentions."""
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

    text = _SLASH_COMMAND.sub("cohort", text)
    text = _CODE.sub(lambda m: keep(f"\u201c{m.group(1)}\u201d" if in_card else m.group(0)), text)
    text = _MENTION.sub(mention, text)
    text = _LINK.sub(link, text)
    text = _BOLD.sub(r"**\1**", text)
    text = _STRIKE.sub(r"\1" if in_card else r"~~\1~~", text)
    if in_card:
        text = _QUOTE.sub("\u201c\\1\u201d", text)
    else:
        quoted: Callable[[re.Match[str]], str] = lambda m: keep("> ") + m.group(1)  # noqa: E731
        text = _QUOTE.sub(quoted, text)
        # Text messages read some HTML: a literal `<cohort>` must not vanish as a tag.
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for index, piece in enumerate(kept):
        text = text.replace(_PLACEHOLDER.format(index), piece)
    return text, mentions


def to_plain(text: str) -> str:
    """`text` without markup, for what Teams shows as plain text: the activity summary in
    notifications, the card's fallback, input labels. Links keep their label (or URL),
    mentions the name.
    """
    text = _SLASH_COMMAND.sub("cohort", text)
    text = _CODE.sub(r"\1", text)
    text = _MENTION.sub(lambda m: (m.group(2) or m.group(1)).strip(), text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _QUOTE.sub(r"\1", text)
    for markup in (_BOLD, _ITALIC, _STRIKE):
        text = markup.sub(r"\1", text)
    return text
