"""Load app.yaml: read, expand `${VAR}`, apply environment overrides, validate.

Every failure an operator can cause (missing file, YAML syntax, a bad value) is a
`ConfigError` whose text names the file, the field path and the reason, one line
per problem, ready to print without a traceback.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from bot.config.app import AppConfig
from bot.config.types import Loc, LocatedErrors, format_loc

CONFIG_ENV = "COHORTBOT_CONFIG"
DEFAULT_CONFIG = "app.yaml"

ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "DATABASE_URL": ("storage", "url"),
    "HOST": ("server", "host"),
    "PORT": ("server", "port"),
    "COHORTBOT_PLAYGROUND_TOKEN": ("server", "playground_token"),
    "COHORTBOT_OPERATOR_TOKEN": ("server", "operator_token"),
    "COHORTBOT_SECRET_KEY": ("server", "secret_key"),
    "COHORTBOT_POLL_SECRET": ("server", "poll_secret"),
    "SLACK_BOT_TOKEN": ("platforms", "slack", "bot_token"),
    "SLACK_SIGNING_SECRET": ("platforms", "slack", "signing_secret"),
    "SLACK_API_URL": ("platforms", "slack", "api_url"),
    "SLACK_APP_TOKEN": ("platforms", "slack", "app_token"),
    "MICROSOFT_APP_ID": ("platforms", "teams", "app_id"),
    "MICROSOFT_APP_PASSWORD": ("platforms", "teams", "app_password"),
    "MICROSOFT_APP_TENANT_ID": ("platforms", "teams", "tenant_id"),
    "MICROSOFT_APP_TYPE": ("platforms", "teams", "app_type"),
    "TEAMS_OPENID_METADATA_URL": ("platforms", "teams", "openid_metadata_url"),
    "TEAMS_TOKEN_ISSUER": ("platforms", "teams", "token_issuer"),
    "TEAMS_LOGIN_URL": ("platforms", "teams", "login_url"),
    "TEAMS_SERVICE_URL": ("platforms", "teams", "service_url"),
    "XAPI_ENDPOINT": ("xapi", "endpoint"),
    "XAPI_USERNAME": ("xapi", "username"),
    "XAPI_PASSWORD": ("xapi", "password"),
}
"""Environment variable -> the field it sets, when present and non-empty."""

_SECRET_FIELDS = {
    "bot_token",
    "signing_secret",
    "app_token",
    "app_password",
    "playground_token",
    "operator_token",
    "secret_key",
    "password",
    "poll_secret",
}
_VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(Exception):
    """app.yaml cannot be used; `str(err)` is the message for the operator."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.lines = [problems] if isinstance(problems, str) else list(problems)
        """One `file: field.path: reason` line per problem."""
        super().__init__("\n".join(self.lines))


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> AppConfig:
    """Load the config file: `path`, else `$COHORTBOT_CONFIG`, else ./app.yaml."""
    env = os.environ if environ is None else environ
    if path is None:
        path = Path(env.get(CONFIG_ENV) or DEFAULT_CONFIG)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        hint = f"set {CONFIG_ENV} or pass the path of an existing file"
        raise ConfigError([f"{source}: file not found ({hint})"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{source}: not UTF-8 text"]) from None
    except OSError as exc:
        raise ConfigError([f"{source}: cannot read: {exc.strerror or exc}"]) from None
    return parse_config(text, source=source, environ=env)


def parse_config(
    text: str, *, source: str = DEFAULT_CONFIG, environ: Mapping[str, str] | None = None
) -> AppConfig:
    """Build the config from YAML text; `source` names it in error messages."""
    env = os.environ if environ is None else environ
    tree = _parse_yaml(text, source)
    if tree is None:
        tree = {}
    if not isinstance(tree, dict):
        raise ConfigError([f"{source}: expected a mapping of sections (server:, cohorts:, ...)"])
    tree = expand_env(tree, env)
    overridden = _apply_overrides(tree, env)
    try:
        return AppConfig.model_validate(tree)
    except ValidationError as exc:
        lines = []
        for loc, reason in _problems(exc):
            where = format_loc(loc)
            origin = next((var for var, at in overridden.items() if loc[: len(at)] == at), None)
            if origin is not None:
                where += f" (from ${origin})"
            lines.append(f"{source}: {where}: {reason}" if where else f"{source}: {reason}")
        raise ConfigError(lines) from None


def expand_env(value: Any, environ: Mapping[str, str]) -> Any:
    """Replace `${VAR}` and `${VAR:-default}` in every string of a parsed YAML tree.

    As in the shell, the default applies when the variable is unset or empty; an
    unset variable without a default becomes the empty string. Keys are not expanded.
    """
    if isinstance(value, str):
        return _VAR_RE.sub(lambda m: environ.get(m[1]) or (m[2] or ""), value)
    if isinstance(value, dict):
        return {key: expand_env(item, environ) for key, item in value.items()}
    if isinstance(value, list):
        return [expand_env(item, environ) for item in value]
    return value


def _apply_overrides(
    tree: dict[str, Any], environ: Mapping[str, str]
) -> dict[str, tuple[str, ...]]:
    applied: dict[str, tuple[str, ...]] = {}
    for var, loc in ENV_OVERRIDES.items():
        value = environ.get(var)
        if not value:
            continue
        node = tree
        for key in loc[:-1]:
            child = node.get(key)
            if child is None:
                child = node[key] = {}
            if not isinstance(child, dict):
                break  # not a mapping: validation reports the section itself
            node = child
        else:
            node[loc[-1]] = value
            applied[var] = loc
    return applied


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key written twice in one mapping (PyYAML keeps the last)."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        try:
            duplicate = key in seen
        except TypeError:
            continue  # unhashable: construct_mapping reports it
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


def _construct_checked_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    """PyYAML raises a bare ValueError (no line) for `2026-13-01`; add the line."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a valid date", node.start_mark
        ) from None


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_checked_timestamp)


def _parse_yaml(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        reason = exc.problem or exc.context or "syntax error"
        if exc.problem and exc.context and exc.context_mark:
            reason += f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise ConfigError([f"{source}: {where}invalid YAML: {reason}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{source}: invalid YAML: {exc}"]) from None


def _problems(exc: ValidationError) -> Iterator[tuple[Loc, str]]:
    for error in exc.errors(include_url=False):
        loc: Loc = tuple(error["loc"])
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, LocatedErrors):
            for sub, reason in cause.problems:
                yield loc + sub, reason
        else:
            yield loc, _reason(error, loc)


def _reason(error: ErrorDetails, loc: Loc) -> str:
    """A human reason for one pydantic error (pydantic's own wording where it is plain)."""
    kind, ctx, value = error["type"], error.get("ctx", {}), error["input"]
    secret = bool(loc) and (loc[-1] in _SECRET_FIELDS or loc == ("storage", "url"))
    shown = "the value" if secret else _show(value)
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "unknown field"
    if value == "" and kind.endswith(("_parsing", "_type")):
        return "is empty (is an environment variable unset?)"
    expected = {
        "int": "a whole number",
        "float": "a number",
        "bool": "true or false",
        "date": "a date (YYYY-MM-DD)",
        "string": "text",
        "dict": "a mapping",
        "model": "a mapping",
        "list": "a list",
        "tuple": "a list",
    }.get(kind.partition("_")[0])
    if expected and kind.endswith(("_parsing", "_type", "_attributes_type", "_from_float")):
        return f"expected {expected}, got {shown}"
    limits = {
        "greater_than": "more than {gt}",
        "greater_than_equal": "at least {ge}",
        "less_than": "less than {lt}",
        "less_than_equal": "at most {le}",
        "literal_error": "one of {expected}",
    }
    if kind in limits:
        return f"must be {limits[kind].format(**ctx)}, got {shown}"
    if kind in ("too_short", "string_too_short") and ctx.get("min_length") == 1:
        return "must not be empty"
    return error["msg"].replace("Input should be", "must be").replace("Value error, ", "")


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
