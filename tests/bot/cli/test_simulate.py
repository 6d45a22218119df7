"""`cohortbot simulate`: a short program in virtual time, through the real bot."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.cli.main import main
from bot.cli.simulation.world import Habit, Settings, personas
from storage.models import Activity
from tests.conftest import PILOT_CONFIG, SimulatedProgram


async def count(url: str, verb: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            found = await connection.scalar(
                select(func.count(Activity.id)).where(Activity.verb == verb)
            )
    finally:
        await engine.dispose()
    return int(found or 0)


def test_habits_give_the_asked_response_rate_on_average() -> None:
    people = personas(Settings(participants=20, response_rate=0.6, seed=5))
    silent = [p for p in people if p.habit is Habit.NEVER]
    assert len(silent) == 4
    average = sum(p.answer_probability for p in people) / len(people)
    assert abs(average - 0.6) < 0.01


async def test_simulated_weeks_run_the_real_flows_and_leave_the_database(
    simulated_program: SimulatedProgram,
) -> None:
    url, outcome = simulated_program.url, simulated_program.outcome
    shares, settings = simulated_program.progress, simulated_program.settings

    joiners = [p for p in personas(settings) if p.habit is not Habit.NEVER]
    assert await count(url, "cohort.joined") == len(joiners)
    assert outcome.activity["cohort.joined"] == len(joiners)
    assert await count(url, "session.started") == settings.weeks
    assert await count(url, "checkin.answered") >= 1
    assert await count(url, "onboarding.completed") >= 1
    assert shares == sorted(shares)
    assert shares[-1] > 0.9


def test_simulate_command_prints_what_happened_and_refuses_to_overwrite(
    tmp_path: Path,
) -> None:
    db = tmp_path / "run.db"
    args = [
        "simulate",
        "--config", str(PILOT_CONFIG),
        "--participants", "4",
        "--weeks", "1",
        "--db", str(db),
    ]  # fmt: skip
    runner = CliRunner()

    first = runner.invoke(main, args)
    again = runner.invoke(main, args)

    assert first.exit_code == 0, first.output
    assert "Simulated 1 week of 4 participants" in first.output
    assert "session.started" in first.output
    assert db.exists()
    assert again.exit_code == 2
    assert "pass --overwrite" in again.output


def test_simulate_names_the_programs_when_the_program_is_unknown(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["simulate", "--config", str(PILOT_CONFIG), "--program", "nope",
         "--db", str(tmp_path / "x.db")],
    )  # fmt: skip

    assert result.exit_code == 2
    assert "There is no program 'nope' (programs: pilot)." in result.output
