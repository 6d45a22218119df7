"""Files only their owner may read: the SQLite database and generated secrets."""

from __future__ import annotations

import os
import stat
from pathlib import Path

OWNER_ONLY = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
"""Files SQLite keeps beside a database, holding recent writes (it gives them its mode)."""


def create_owner_only(path: Path) -> bool:
    """Create `path` empty, readable and writable by its owner only; False if it exists."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    except FileExistsError:
        return False
    os.close(descriptor)
    return True


def open_to_others(path: Path) -> int | None:
    """The permission bits of an existing file that group or others may use; else None."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
    return mode if mode & 0o077 else None


def sqlite_files(database: Path) -> list[Path]:
    """The database file and the companions SQLite may have made beside it."""
    return [database, *(database.with_name(database.name + s) for s in SQLITE_COMPANIONS)]
