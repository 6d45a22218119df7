"""Plain-text helpers every platform renderer shares."""

from __future__ import annotations


def split_text(text: str, limit: int) -> list[str]:
    """Split long text into pieces under `limit`, at a newline or space where possible."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    pieces.append(text)
    return [piece for piece in pieces if piece]
