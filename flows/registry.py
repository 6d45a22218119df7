"""Every flow and command cohortbot has, registered in one place."""

from __future__ import annotations

from bot.commands import CommandRouter
from bot.engine import FlowEngine
from flows import basics, join


def register_all(*, router: CommandRouter, engine: FlowEngine) -> None:
    basics.register(router)
    join.register(router, engine)
