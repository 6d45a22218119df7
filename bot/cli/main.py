"""The `cohortbot` command group: every subcommand attached, and where a UsageError ends the run.

Each subcommand lives in its own module of bot.cli (the xAPI ones and `db` as small
groups); this module only assembles them.
"""

from __future__ import annotations

from typing import Any

import click

from bot.cli.badges import export_badges
from bot.cli.check_config import check_config
from bot.cli.db import db
from bot.cli.demo import demo
from bot.cli.errors import UsageError
from bot.cli.export import export
from bot.cli.roster import import_roster
from bot.cli.serve import serve
from bot.cli.simulate import simulate
from bot.cli.teams_package import teams_package
from bot.cli.xapi import XAPI_COMMANDS


class CohortbotGroup(click.Group):
    """A click group that turns a UsageError into its message on stderr and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as error:
            click.echo(str(error), err=True)
            ctx.exit(error.exit_code)


@click.group(
    cls=CohortbotGroup,
    commands=[
        serve,
        demo,
        check_config,
        db,
        teams_package,
        import_roster,
        export,
        export_badges,
        simulate,
        *XAPI_COMMANDS,
    ],
    context_settings={"help_option_names": ["-h", "--help"]},
)
def main() -> None:
    """cohortbot: peer-learning cohorts in Slack, Teams and the local playground."""
