"""The models behind app.yaml; `bot.config` loads them and re-exports every name."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from bot.config.program import CadenceConfig, ProgramConfig, check_platform_keys
from bot.config.types import (
    FrozenModel,
    Loc,
    LocatedErrors,
    PersonId,
    PersonRef,
    Slug,
    TimeZoneName,
    check_unique,
)

DATABASE_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ServerConfig(FrozenModel):
    host: str = "127.0.0.1"
    port: int = Field(default=3978, ge=1, le=65535)
    playground_token: str | None = Field(default=None, repr=False)
    """Required by the local playground when the server is not bound to loopback."""
    operator_token: str | None = Field(default=None, repr=False)
    """Bearer token for the dashboard and operator endpoints."""
    secret_key: str | None = Field(default=None, repr=False)
    """Signs dashboard links; generated once and kept in the database when not set."""
    public_url: str | None = None
    """The address users reach the bot at, for links in messages."""
    log_level: str = "INFO"
    poll_secret: str | None = Field(default=None, repr=False)
    """Key of the one-way voter tokens of anonymous polls (HMAC-SHA256); unset, the bot
    generates one and keeps it in `poll_secret_file`. Replicas must share one value."""
    poll_secret_file: str | None = None
    """Where a generated poll secret is kept; default: beside the SQLite database file,
    or `.cohortbot-poll-secret` in the working directory for PostgreSQL."""

    @field_validator(
        "playground_token", "operator_token", "secret_key", "public_url", "poll_secret"
    )
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("poll_secret")
    @classmethod
    def _long_enough(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 16:
            raise ValueError("must be at least 16 characters (a long random string)")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not a log level (known: {', '.join(LOG_LEVELS)})")
        return level


class StorageConfig(FrozenModel):
    url: str = Field(default="sqlite+aiosqlite:///./cohortbot.db", repr=False)
    echo: bool = False
    """Log every SQL statement."""

    @field_validator("url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(DATABASE_SCHEMES):
            # Never echo the URL: it may carry a password.
            scheme = value.partition("://")[0] or value[:20]
            raise ValueError(
                f"database scheme {scheme!r} is not supported (use {' or '.join(DATABASE_SCHEMES)})"
            )
        return value


class SlackConfig(FrozenModel):
    bot_token: str | None = Field(default=None, repr=False)
    signing_secret: str | None = Field(default=None, repr=False)
    api_url: str = "https://slack.com/api/"
    """Web API base URL; tests point it at a fake server. Always ends with a slash."""
    app_token: str | None = Field(default=None, repr=False)
    """Socket Mode app-level token (xapp-...), optional."""

    @field_validator("bot_token", "signing_secret", "app_token")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @property
    def enabled(self) -> bool:
        """Slack runs when both the bot token and the signing secret are set."""
        return bool(self.bot_token and self.signing_secret)


class TeamsConfig(FrozenModel):
    app_id: str = ""
    app_password: str = Field(default="", repr=False)
    tenant_id: str = ""
    app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = "MultiTenant"
    openid_metadata_url: str | None = None
    """Where incoming tokens' signing keys are published; tests use loopback."""
    token_issuer: str | None = None
    login_url: str | None = None
    """Where the bot gets its outgoing tokens (Azure AD by default); tests use loopback."""
    service_url: str = "https://smba.trafficmanager.net/teams/"
    """The Bot Connector for proactive channel posts before any activity has named one."""

    @field_validator("openid_metadata_url", "token_issuer", "login_url")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @property
    def emulator_mode(self) -> bool:
        """No app id: incoming requests are not authenticated (loopback only)."""
        return not self.app_id


class LocalPerson(FrozenModel):
    """Someone the local playground can act as."""

    id: PersonId
    name: str = Field(min_length=1)
    time_zone: TimeZoneName = "UTC"
    email: str | None = None

    @property
    def ref(self) -> str:
        """The person reference cohorts use: `local:<id>`."""
        return f"local:{self.id}"


class LocalConfig(FrozenModel):
    enabled: bool = True
    workspace: str = "local"
    people: list[LocalPerson] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> LocalConfig:
        problems = check_unique((p.id for p in self.people), field="people", label="person")
        if problems:
            raise LocatedErrors(problems)
        return self

    def person(self, person_id: str) -> LocalPerson | None:
        return next((p for p in self.people if p.id == person_id), None)


class PlatformsConfig(FrozenModel):
    slack: SlackConfig = Field(default_factory=SlackConfig)
    teams: TeamsConfig = Field(default_factory=TeamsConfig)
    local: LocalConfig = Field(default_factory=LocalConfig)


class SchedulerConfig(FrozenModel):
    time_zone: TimeZoneName = "UTC"
    """For schedules that belong to no cohort."""
    grace_minutes: int = Field(default=60, ge=0)
    """An occurrence missed by more than this (downtime) is skipped, not run late."""
    tick_seconds: float = Field(default=1.0, gt=0)


class SenderConfig(FrozenModel):
    max_attempts: int = Field(default=8, ge=1)
    base_backoff_seconds: float = Field(default=1.0, gt=0)
    max_backoff_seconds: float = Field(default=300.0, gt=0)
    concurrency: int = Field(default=8, ge=1)
    start_rate: float | None = Field(default=None, gt=0, le=1000)
    """Posts per second each workspace starts at before its real limit is learned; unset:
    the platform's own (Slack 5, Teams 20)."""
    pacing: bool = True
    """Off: no workspace pacing and no per-channel spacing, only 429s are honoured. For
    tests and simulations on a clock that stands still while messages go."""

    @model_validator(mode="after")
    def _backoff_ordered(self) -> SenderConfig:
        if self.max_backoff_seconds < self.base_backoff_seconds:
            raise LocatedErrors(
                [(("max_backoff_seconds",), "must not be less than base_backoff_seconds")]
            )
        return self


class XapiConfig(FrozenModel):
    """Learning records for a Learning Record Store; on when `endpoint` is set."""

    endpoint: str | None = None
    """The LRS's xAPI base URL; statements are POSTed to `<endpoint>statements`."""
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    batch_size: int = Field(default=50, ge=1, le=500)
    """Statements per POST."""
    every_minutes: int = Field(default=1, ge=1, le=60)
    """How often queued statements are sent."""
    actor: Literal["account", "email"] = "account"
    """account: a pseudonymous id; email: the person's address when known (else account)."""
    account_home_page: str | None = None
    """The account's homePage; default the bot's public URL (it issues the ids)."""
    timeout_seconds: float = Field(default=30.0, gt=0)
    base_backoff_seconds: float = Field(default=30.0, gt=0)
    max_backoff_seconds: float = Field(default=3600.0, gt=0)
    rescan_window: int = Field(default=10_000, ge=100)
    """How many activity ids below the newest queued one are looked at again (late commits)."""

    @field_validator("endpoint", "username", "password", "account_home_page")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("endpoint", "account_home_page")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @model_validator(mode="after")
    def _backoff_ordered(self) -> XapiConfig:
        if self.max_backoff_seconds < self.base_backoff_seconds:
            raise LocatedErrors(
                [(("max_backoff_seconds",), "must not be less than base_backoff_seconds")]
            )
        return self

    @property
    def enabled(self) -> bool:
        return self.endpoint is not None

    @property
    def statements_url(self) -> str:
        """The Statement Resource under the endpoint."""
        if self.endpoint is None:
            raise ValueError("xapi.endpoint is not set")
        return self.endpoint.rstrip("/") + "/statements"


ROLES = ("facilitators", "moderators", "owners", "mentors", "participants")


class CohortConfig(FrozenModel):
    """One group of learners running a program together."""

    id: Slug
    name: str = Field(min_length=1)
    program: str
    time_zone: TimeZoneName = "UTC"
    start_date: date | None = None
    """None until the cohort is scheduled."""
    channels: dict[str, str] = Field(default_factory=dict)
    """Platform name (local, slack, teams) -> the cohort's channel id there."""
    facilitators: list[PersonRef] = Field(default_factory=list)
    moderators: list[PersonRef] = Field(default_factory=list)
    owners: list[PersonRef] = Field(default_factory=list)
    mentors: list[PersonRef] = Field(default_factory=list)
    participants: list[PersonRef] = Field(default_factory=list)
    cadence: CadenceConfig | None = None
    """Only the fields written here override the program's cadence."""
    moderators_channels: dict[str, str] = Field(default_factory=dict)
    """This cohort's moderators' channel per platform, over the program's `escalation.channels`."""

    @model_validator(mode="before")
    @classmethod
    def _name_defaults_to_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("name") and isinstance(data.get("id"), str):
            return {**data, "name": data["id"]}
        return data

    @field_validator("channels", "moderators_channels")
    @classmethod
    def _known_platforms(cls, value: dict[str, str]) -> dict[str, str]:
        return check_platform_keys(value)

    @model_validator(mode="after")
    def _no_repeats(self) -> CohortConfig:
        problems: list[tuple[Loc, str]] = []
        for role in ROLES:
            seen: set[str] = set()
            for index, ref in enumerate(getattr(self, role)):
                if ref in seen:
                    problems.append(((role, index), f"{ref!r} is listed twice"))
                seen.add(ref)
        if problems:
            raise LocatedErrors(problems)
        return self

    def effective_cadence(self, program: ProgramConfig) -> CadenceConfig:
        """The program's cadence with this cohort's written fields laid over it."""
        if self.cadence is None:
            return program.cadence
        update = {name: getattr(self.cadence, name) for name in self.cadence.model_fields_set}
        return program.cadence.model_copy(update=update)

    def roles_of(self, person: str) -> list[str]:
        """The role lists (`facilitators`, `participants`, ...) that name this person."""
        return [role for role in ROLES if person in getattr(self, role)]


class RetentionConfig(FrozenModel):
    """How long what people wrote and what was sent to them is kept."""

    messages_days: int = Field(default=30, ge=1, le=3650)
    """Inbox and outbox payloads older than this are pruned; the rows keep ids, status and
    times for the delivery log."""
    prune_at_hour: int = Field(default=3, ge=0, le=23)
    """The UTC hour of the daily pruning run."""


class AppConfig(FrozenModel):
    """Everything app.yaml configures. Build it with `bot.config.load_config`."""

    server: ServerConfig = Field(default_factory=ServerConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    platforms: PlatformsConfig = Field(default_factory=PlatformsConfig)
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    sender: SenderConfig = Field(default_factory=SenderConfig)
    xapi: XapiConfig = Field(default_factory=XapiConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    programs: dict[str, ProgramConfig] = Field(default_factory=dict)
    cohorts: list[CohortConfig] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _fill_blanks(cls, data: Any) -> Any:
        """An empty section (`server:` with nothing under it) means its defaults."""
        if not isinstance(data, dict):
            return data
        data = {key: value for key, value in data.items() if value is not None}
        programs = data.get("programs")
        if isinstance(programs, dict):
            data["programs"] = {
                key: {"name": key, **value} if isinstance(value, dict) else value
                for key, value in programs.items()
            }
        return data

    @model_validator(mode="after")
    def _references(self) -> AppConfig:
        problems: list[tuple[Loc, str]] = []
        known = ", ".join(self.programs) or "none defined"
        for index, cohort in enumerate(self.cohorts):
            if cohort.program not in self.programs:
                problems.append(
                    (
                        ("cohorts", index, "program"),
                        f"unknown program {cohort.program!r} (known: {known})",
                    )
                )
        problems += check_unique((c.id for c in self.cohorts), field="cohorts", label="cohort")
        if problems:
            raise LocatedErrors(problems)
        return self

    def program_for(self, cohort: CohortConfig) -> ProgramConfig:
        return self.programs[cohort.program]

    def cohort(self, cohort_id: str) -> CohortConfig | None:
        return next((c for c in self.cohorts if c.id == cohort_id), None)
