"""`cohortbot serve`: migrate, then serve HTTP until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import click
from aiohttp import web

from bot.app import CohortBot
from bot.cli.common import app_config, config_option, run_async
from bot.config import AppConfig
from bot.support.logs import configure_logging


@click.command("serve")
@config_option
def serve(config_path: Path | None) -> None:
    """Run the bot: migrate, then serve HTTP until SIGTERM or Ctrl-C."""
    config = app_config(config_path)
    configure_logging(config.server.log_level)
    run_async(lambda: serve_until_stopped(config))


async def serve_until_stopped(config: AppConfig) -> None:
    """Serve the bot and its web pages until SIGTERM or SIGINT, then stop it cleanly."""
    bot = CohortBot(config)
    await bot.prepare()
    runner = web.AppRunner(bot.web, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.server.host, config.server.port)
    await site.start()
    bot.start_background()
    url = f"http://{config.server.host}:{config.server.port}/"
    click.echo(f"cohortbot is running on {url} (playground at {url}); Ctrl-C stops it.")
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    click.echo("Stopping: finishing work in flight; undelivered messages stay in the outbox.")
    await site.stop()
    await bot.stop()
    await runner.cleanup()
