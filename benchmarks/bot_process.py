"""The bot as it is deployed: `cohortbot serve` in a process of its own.

A benchmark that drives the bot over HTTP runs its fake platform and its clients in the
benchmark's process; with the bot in that same process they would take its CPU, which
in production belongs to Slack's servers and to people's phones.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from aiohttp import ClientError, ClientSession

from benchmarks.common import ROOT
from tests.fakes.sender_process import free_port

COHORTBOT = Path(sys.executable).with_name("cohortbot")
READY_WITHIN = 90.0
STOP_WITHIN = 30.0


@contextlib.asynccontextmanager
async def served_bot(environ: Mapping[str, str]) -> AsyncIterator[str]:
    """`cohortbot serve` on the shipped app.yaml with `environ`; yields its base URL once
    `/readyz` answers 200, and stops it with SIGTERM (SIGKILL if it will not stop)."""
    port = free_port()
    env = {**os.environ, **environ, "HOST": "127.0.0.1", "PORT": str(port)}
    env["COHORTBOT_CONFIG"] = str(ROOT / "app.yaml")
    with tempfile.TemporaryFile() as log:
        process = await asyncio.create_subprocess_exec(
            str(COHORTBOT), "serve", env=env, stdout=log, stderr=log, cwd=ROOT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            try:
                await _wait_ready(url, process)
            except RuntimeError as error:
                log.seek(0)
                said = log.read()[-3000:].decode("utf-8", errors="replace")
                raise RuntimeError(f"{error}; it said:\n{said}") from error
            yield url
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), STOP_WITHIN)
                except TimeoutError:
                    process.kill()
                    await process.wait()


async def _wait_ready(url: str, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + READY_WITHIN
    async with ClientSession() as session:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"cohortbot serve exited with {process.returncode}")
            with contextlib.suppress(ClientError):
                async with session.get(f"{url}/readyz") as answer:
                    if answer.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"cohortbot serve was not ready within {READY_WITHIN:g} s")
