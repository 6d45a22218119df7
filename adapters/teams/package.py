"""The Teams app package: manifest.json with the bot's id, plus its two icons, in a zip.

The manifest template lives in `teams/manifest.json` at the repository root; every
`${MICROSOFT_APP_ID}` in it is replaced by the app id. The icons are drawn here with a
small PNG writer (zlib only): a 192x192 colour icon and a 32x32 white outline on
transparent, the sizes Teams requires.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

TEAMS_DIR = Path(__file__).resolve().parents[2] / "teams"
PLACEHOLDER = "${MICROSOFT_APP_ID}"
COLOR_SIZE, OUTLINE_SIZE = 192, 32
ACCENT = (0x46, 0x4E, 0xB8)
WHITE = (0xFF, 0xFF, 0xFF)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
COMMAND_WORD = "cohort"
"""Commands are typed as `cohort <name>` in Teams, in a chat or after a mention."""
MAX_COMMANDS = 10
"""Teams shows at most ten commands per scope."""

Pixel = tuple[int, int, int, int]


def build_package(
    app_id: str,
    out: Path,
    *,
    commands: Sequence[tuple[str, str]] | None = None,
    source: Path = TEAMS_DIR,
) -> Path:
    """Write the app package zip to `out` (a file, or a directory to put it in).

    `commands` (name, description) replaces the template's command list, for instance
    with the bot's registered commands (listed as `cohort <name>`). Returns the zip's path.
    """
    if not _GUID.match(app_id):
        raise ValueError(f"{app_id!r} is not a Microsoft app id (a GUID like the Azure bot's)")
    template = source / "manifest.json"
    if not template.is_file():
        raise FileNotFoundError(f"the manifest template {template} is missing")
    manifest = json.loads(template.read_text(encoding="utf-8").replace(PLACEHOLDER, app_id))
    if commands is not None:
        _set_commands(manifest, commands)
    target = out / "cohortbot-teams.zip" if out.is_dir() else out
    target.parent.mkdir(parents=True, exist_ok=True)
    icons = manifest["icons"]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        archive.writestr(icons["color"], _icon(source / icons["color"], color_icon))
        archive.writestr(icons["outline"], _icon(source / icons["outline"], outline_icon))
    return target


def _set_commands(manifest: dict[str, Any], commands: Sequence[tuple[str, str]]) -> None:
    listed = [
        {"title": f"{COMMAND_WORD} {name}"[:32], "description": description[:128]}
        for name, description in commands[:MAX_COMMANDS]
    ]
    for bot in manifest.get("bots", []):
        for command_list in bot.get("commandLists", []):
            command_list["commands"] = listed


def _icon(path: Path, draw: Callable[[], bytes]) -> bytes:
    """The icon shipped beside the template, or a freshly drawn one."""
    return path.read_bytes() if path.is_file() else draw()


def write_icons(directory: Path) -> None:
    """Draw both icons into `directory` (how `teams/` got its PNGs)."""
    (directory / "color.png").write_bytes(color_icon())
    (directory / "outline.png").write_bytes(outline_icon())


def color_icon() -> bytes:
    """Three white circles (a cohort) on the accent colour, 192x192."""
    return png(COLOR_SIZE, COLOR_SIZE, _cohort(COLOR_SIZE, background=(*ACCENT, 255)))


def outline_icon() -> bytes:
    """The same three circles, white on transparent, 32x32."""
    return png(OUTLINE_SIZE, OUTLINE_SIZE, _cohort(OUTLINE_SIZE, background=(0, 0, 0, 0)))


def _cohort(size: int, *, background: Pixel) -> Callable[[int, int], Pixel]:
    unit = size / 32
    centres = [(11.0, 12.0), (21.0, 12.0), (16.0, 21.0)]
    radius = 5.0

    def pixel(x: int, y: int) -> Pixel:
        px, py = (x + 0.5) / unit, (y + 0.5) / unit
        for cx, cy in centres:
            if (px - cx) ** 2 + (py - cy) ** 2 <= radius**2:
                return (*WHITE, 255)
        return background

    return pixel


def png(width: int, height: int, pixel: Callable[[int, int], Pixel]) -> bytes:
    """An 8-bit RGBA PNG of `pixel(x, y)`."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type: none
        for x in range(width):
            rows.extend(pixel(x, y))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
