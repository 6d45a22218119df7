"""The poll secret (configured, or generated once and kept) and the quiz bank in app.yaml."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.config import ConfigError, parse_config
from bot.config.poll_secret import secret_file, with_poll_secret
from flows.poll.votes import voter_token
from tests.conftest import REPO_ROOT


def shipped() -> str:
    return (REPO_ROOT / "app.yaml").read_text(encoding="utf-8")


def test_a_generated_secret_is_kept_beside_the_sqlite_database_and_reused(tmp_path: Path) -> None:
    environ = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"}
    config = parse_config(shipped(), environ=environ)

    first = with_poll_secret(config).server.poll_secret
    second = with_poll_secret(config).server.poll_secret

    path = tmp_path / "bot.db.poll-secret"
    assert secret_file(config) == path
    assert first is not None
    assert len(first) == 64
    assert first == second, "the same key after a restart, or every anonymous voter changes"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_configured_secret_wins_and_no_file_is_written(tmp_path: Path) -> None:
    environ = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "COHORTBOT_POLL_SECRET": "a-long-shared-secret-for-replicas",
    }
    config = with_poll_secret(parse_config(shipped(), environ=environ))

    assert config.server.poll_secret == "a-long-shared-secret-for-replicas"
    assert not (tmp_path / "bot.db.poll-secret").exists()
    assert "a-long-shared" not in repr(config.server)


def test_a_short_secret_is_refused_without_echoing_it() -> None:
    environ = {"COHORTBOT_POLL_SECRET": "short"}
    with pytest.raises(ConfigError) as error:
        parse_config(shipped(), environ=environ)

    assert "server.poll_secret (from $COHORTBOT_POLL_SECRET): must be at least 16" in str(
        error.value
    )
    assert "'short'" not in str(error.value)


def test_voter_tokens_are_one_way_per_poll_and_per_key() -> None:
    token = voter_token("k" * 32, 1, 7)

    assert len(token) == 64
    assert token == voter_token("k" * 32, 1, 7)
    assert token != voter_token("k" * 32, 2, 7), "a person is not recognisable across polls"
    assert token != voter_token("j" * 32, 1, 7)


def test_the_shipped_quiz_bank_is_valid() -> None:
    config = parse_config(shipped(), environ={})
    (quiz,) = config.programs["pilot"].quizzes

    assert quiz.id == "feedback-basics"
    assert 3 <= len(quiz.questions) <= 5
    assert [q.correct_indexes for q in quiz.questions] == [[1], [1], [1], [0, 2]]


def test_a_quiz_naming_an_option_it_lacks_is_refused_with_its_place() -> None:
    text = shipped().replace("            correct: [1, 3]", "            correct: [1, 5]")
    with pytest.raises(ConfigError) as error:
        parse_config(text, environ={})

    assert "programs.pilot.quizzes[0].questions[3].correct: must name options 1 to 4" in str(
        error.value
    )
