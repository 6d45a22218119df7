"""The Teams app package: manifest with the bot id, the bot's commands, valid icons."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from adapters.teams.package import TEAMS_DIR, build_package, color_icon, outline_icon
from bot.app import CohortBot
from tests.adapters.teams.conftest import APP_ID
from tests.harness import demo_config


def _png_size_and_pixels(data: bytes) -> tuple[int, int, bytes]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    idat = data.index(b"IDAT")
    length = struct.unpack(">I", data[idat - 4 : idat])[0]
    return width, height, zlib.decompress(data[idat + 4 : idat + 4 + length])


def _unzip(path: Path) -> tuple[dict[str, Any], zipfile.ZipFile]:
    archive = zipfile.ZipFile(path)
    return json.loads(archive.read("manifest.json")), archive


def test_the_package_has_the_manifest_with_the_bot_id_and_both_icons(tmp_path: Path) -> None:
    path = build_package(APP_ID, tmp_path)

    manifest, archive = _unzip(path)
    with archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        assert manifest["id"] == APP_ID
        [bot] = manifest["bots"]
        assert bot["botId"] == APP_ID
        assert bot["scopes"] == ["personal", "team", "groupChat"]
        assert "${" not in archive.read("manifest.json").decode()
        assert _png_size_and_pixels(archive.read("color.png"))[:2] == (192, 192)
        assert _png_size_and_pixels(archive.read("outline.png"))[:2] == (32, 32)


def test_the_outline_icon_is_white_on_transparent() -> None:
    width, height, rows = _png_size_and_pixels(outline_icon())

    pixels = {
        tuple(rows[y * (width * 4 + 1) + 1 + x * 4 : y * (width * 4 + 1) + 5 + x * 4])
        for y in range(height)
        for x in range(width)
    }
    assert pixels <= {(255, 255, 255, 255), (0, 0, 0, 0)}
    assert len(pixels) == 2


def test_the_shipped_icons_are_the_drawn_ones() -> None:
    assert (TEAMS_DIR / "color.png").read_bytes() == color_icon()
    assert (TEAMS_DIR / "outline.png").read_bytes() == outline_icon()


async def test_the_template_lists_commands_the_bot_has(sqlite_url: str) -> None:
    bot = CohortBot(demo_config(sqlite_url))
    router = bot.router
    await bot.engine.dispose()
    manifest = json.loads((TEAMS_DIR / "manifest.json").read_text(encoding="utf-8"))

    [command_list] = manifest["bots"][0]["commandLists"]
    titles = [command["title"] for command in command_list["commands"]]

    assert titles[:2] == ["cohort help", "cohort join"]
    for title in titles:
        word, name = title.split(" ")
        assert word == "cohort"
        assert router.table.get(name) is not None, f"{name} is not a command"
    for name in ("help", "join", "cohorts", "members"):
        assert f"cohort {name}" in titles


def test_commands_can_come_from_the_bot(tmp_path: Path) -> None:
    path = build_package(
        APP_ID, tmp_path / "out" / "app.zip", commands=[("help", "Show the commands")]
    )

    manifest, archive = _unzip(path)
    archive.close()
    [command_list] = manifest["bots"][0]["commandLists"]
    assert command_list["commands"] == [
        {"title": "cohort help", "description": "Show the commands"}
    ]
    assert path == tmp_path / "out" / "app.zip"


def test_an_app_id_that_is_not_a_guid_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="GUID"):
        build_package("my-bot", tmp_path)
