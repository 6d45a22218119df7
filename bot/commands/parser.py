"""The platform-neutral parser for ``/cohort <command> [args]``.

Pure: text in, a :class:`ParsedCommand` or a :class:`CommandSyntaxError` out.
Adapters hand over the text after the slash command (or a message starting
with ``cohort``) with mentions already in the neutral ``<@USER>`` form; the
dispatcher checks roles and runs the command.

Tokenizing is shell-like but made for chat: straight and typographic quotes
group words, quotes inside a word are apostrophes (``don't``, ``I'm``), and
backslashes only escape quotes. Options are ``--name value`` or
``--name=value``; the em or en dash phones turn ``--`` into counts too.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType
from typing import Literal, TypeVar, get_args

from bot.model.roles import Role
from bot.support.durations import DurationError, parse_duration

__all__ = [
    "CommandSpec",
    "CommandSyntaxError",
    "CommandTable",
    "Mention",
    "Option",
    "OptionKind",
    "ParsedCommand",
    "Role",
    "tokenize",
]


OptionKind = Literal["flag", "duration", "int", "text"]
_KINDS: frozenset[str] = frozenset(get_args(OptionKind))
_PLACEHOLDERS: dict[str, str] = {"duration": "2h", "int": "N", "text": "TEXT"}
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*", re.IGNORECASE)
_INT = re.compile(r"[+-]?[0-9]{1,18}")
_ECHO_LIMIT = 40
_T = TypeVar("_T")


@dataclass(frozen=True)
class Mention:
    """A person named in a command, by platform user id."""

    user_id: str


@dataclass(frozen=True)
class Option:
    """An option of a command, written ``--name`` (flag) or ``--name value``."""

    name: str
    """Without the dashes: ``"closes"`` for ``--closes 2h``."""
    kind: OptionKind
    help: str = ""

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"option name {self.name!r} must be a bare word like 'closes'")
        if self.kind not in _KINDS:
            raise ValueError(f"option kind {self.kind!r} is not one of {sorted(_KINDS)}")

    def syntax(self) -> str:
        """How the option is written: ``--multi`` or ``--closes 2h``."""
        placeholder = _PLACEHOLDERS.get(self.kind)
        return f"--{self.name}" + (f" {placeholder}" if placeholder else "")


@dataclass(frozen=True)
class CommandSpec:
    """What a command accepts and who may use it; registered in a :class:`CommandTable`."""

    name: str
    summary: str
    usage: str
    """The argument part of the usage line, e.g. ``"Question" "A" "B" ... [--multi]``."""
    min_args: int = 0
    max_args: int | None = 0
    """``None`` means any number. Counts every positional argument, a subcommand too."""
    options: tuple[Option, ...] = ()
    roles: frozenset[Role] = frozenset()
    """Roles allowed to run it; empty means anyone."""
    aliases: tuple[str, ...] = ()
    details: str = ""
    """Longer help shown by ``/cohort help <name>``."""
    subcommands: tuple[str, ...] = ()
    """When not empty, a first argument must be one of these."""

    def __post_init__(self) -> None:
        for word in (self.name, *self.aliases, *self.subcommands):
            if not _NAME.fullmatch(word):
                raise ValueError(f"{word!r} in command {self.name!r} must be a bare word")
        if self.min_args < 0 or (self.max_args is not None and self.max_args < self.min_args):
            raise ValueError(f"command {self.name!r} has impossible argument counts")
        names = [option.name.lower() for option in self.options]
        if len(set(names)) != len(names):
            raise ValueError(f"command {self.name!r} declares an option twice")

    def usage_line(self, prefix: str = "/cohort") -> str:
        """The full usage: ``/cohort poll "Question" "A" "B" ... [--multi]``."""
        return " ".join(part for part in (prefix, self.name, self.usage) if part)

    def allows(self, roles: Iterable[Role]) -> bool:
        """Whether someone holding ``roles`` may run the command."""
        return not self.roles or not self.roles.isdisjoint(roles)

    def option(self, name: str) -> Option | None:
        """The option called ``name`` (case-insensitive, without dashes), if declared."""
        wanted = name.lower()
        return next((o for o in self.options if o.name.lower() == wanted), None)


@dataclass(frozen=True)
class ParsedCommand:
    """A command line that matched its spec: arguments, options and mentions."""

    spec: CommandSpec
    args: tuple[str, ...]
    options: Mapping[str, object]
    """Only options given: flag -> True, duration -> timedelta, int -> int, text -> str."""
    mentions: tuple[Mention, ...] = ()
    quoted: tuple[bool, ...] = ()
    """Per argument, whether it was typed in quotes (kept whole) or as a bare word."""

    @property
    def name(self) -> str:
        """The command's canonical name (never an alias)."""
        return self.spec.name

    def was_quoted(self, index: int) -> bool:
        """Whether argument ``index`` was typed in quotes; a command built without that
        knowledge (not parsed from text) counts every argument as whole."""
        return self.quoted[index] if len(self.quoted) == len(self.args) else True

    def flag(self, name: str) -> bool:
        """Whether the flag ``--name`` was given."""
        return self.options.get(name) is True

    def duration(self, name: str) -> timedelta | None:
        """The value of a duration option, ``None`` when absent."""
        return self._typed(name, timedelta)

    def integer(self, name: str) -> int | None:
        """The value of an int option, ``None`` when absent."""
        return self._typed(name, int)

    def text(self, name: str) -> str | None:
        """The value of a text option, ``None`` when absent."""
        return self._typed(name, str)

    def _typed(self, name: str, kind: type[_T]) -> _T | None:
        value = self.options.get(name)
        if value is None:
            return None
        if isinstance(value, kind) and not isinstance(value, bool):
            return value
        raise TypeError(f"option {name!r} holds a {type(value).__name__}, not {kind.__name__}")


class CommandSyntaxError(Exception):
    """A command line that cannot be run; ``str()`` is ready to send as a reply."""

    def __init__(self, message: str, usage: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage
        """The full usage line of the command concerned, when one is known."""

    def __str__(self) -> str:
        return f"{self.message}\nUsage: {self.usage}" if self.usage else self.message


# --- tokenizing -----------------------------------------------------------------------------

# Opening quote -> the quotes that close it. Typographic openers accept any quote
# of their family because phones and editors mix them; a straight quote only
# closes on the same straight quote, so typographic quotes may sit inside it.
_CLOSERS: dict[str, str] = {
    '"': '"',
    "'": "'",
    "\u201c": '\u201d\u201c"',  # left double quotation mark
    "\u201d": '\u201d\u201c"',  # right double quotation mark
    "\u201e": '\u201c\u201d"',  # double low-9 quotation mark
    "\u2018": "\u2019\u2018'",  # left single quotation mark
    "\u2019": "\u2019\u2018'",  # right single quotation mark
}
_QUOTES = frozenset(_CLOSERS)
_MENTION = re.compile(r"<@(?P<id>[^\s<>|]+)(?:\|[^<>]*)?>")


@dataclass(frozen=True)
class _Token:
    text: str
    quoted: bool = False
    """Began with a quote, so it is text even if it looks like an option."""
    mention: str | None = None


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _lex(text: str) -> list[_Token]:
    """Split ``text`` into tokens; see the module docstring for the rules."""
    tokens: list[_Token] = []
    word: list[str] = []
    in_word = quoted = False
    i, end = 0, len(text)

    def finish() -> None:
        nonlocal in_word, quoted
        if in_word:
            tokens.append(_Token("".join(word), quoted=quoted))
        word.clear()
        in_word = quoted = False

    while i < end:
        char = text[i]
        if char.isspace():
            finish()
            i += 1
        elif char == "\\" and i + 1 < end and text[i + 1] in _QUOTES:
            word.append(text[i + 1])
            in_word = True
            i += 2
        elif char in _QUOTES and (not word or word[-1] == "="):
            quoted = quoted or not word
            i = _read_quoted(text, i, word)
            in_word = True
        elif char == "<" and (mention := _MENTION.match(text, i)):
            finish()
            tokens.append(_Token(mention.group(0), mention=mention.group("id")))
            i = mention.end()
            if i < end and text[i] == ",":  # "<@U1>, <@U2>" lists people
                i += 1
        else:
            word.append(char)
            in_word = True
            i += 1
    finish()
    return tokens


def _read_quoted(text: str, start: int, word: list[str]) -> int:
    """Append the quoted group opening at ``start`` to ``word``; return the index after it.

    A closing quote must end a word, so apostrophes inside (``'don't go'``)
    stay text. Inside quotes a backslash escapes a quote or a backslash.
    """
    closers = _CLOSERS[text[start]]
    i, end = start + 1, len(text)
    while i < end:
        char = text[i]
        if char == "\\" and i + 1 < end and (text[i + 1] in _QUOTES or text[i + 1] == "\\"):
            word.append(text[i + 1])
            i += 2
        elif char in closers and (i + 1 == end or not _is_word_char(text[i + 1])):
            return i + 1
        else:
            word.append(char)
            i += 1
    raise CommandSyntaxError(
        f"Unbalanced quote: {_shorten(text[start:])} has no closing quote.",
    )


def tokenize(text: str) -> list[str]:
    """Split a command line into words, keeping quoted text and mentions whole.

    ``poll "Best format?" “Pairs” 'Triads'`` gives
    ``['poll', 'Best format?', 'Pairs', 'Triads']``; an unclosed quote raises
    :class:`CommandSyntaxError`.
    """
    return [token.text for token in _lex(text)]


def _shorten(text: str) -> str:
    return text if len(text) <= _ECHO_LIMIT else text[: _ECHO_LIMIT - 1] + "…"


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _roles_phrase(roles: Iterable[Role]) -> str:
    """``facilitators and moderators``, in rank order."""
    held = set(roles)
    names = [f"{role.value}s" for role in Role if role in held]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def _dashes(text: str) -> str:
    """Undo the phone keyboards' ``--`` -> ``—`` substitution."""
    return "--" + text[1:] if text[:1] in ("\u2014", "\u2013") else text


# --- the table -------------------------------------------------------------------------------


class CommandTable:
    """The commands the bot knows, looked up by name or alias, case-insensitively."""

    def __init__(self, prefix: str = "/cohort") -> None:
        self.prefix = prefix
        self._specs: list[CommandSpec] = []
        self._by_name: dict[str, CommandSpec] = {}

    def register(self, spec: CommandSpec) -> None:
        """Add ``spec``; a name or alias already taken raises ValueError."""
        keys = [word.lower() for word in (spec.name, *spec.aliases)]
        for index, key in enumerate(keys):
            if key in self._by_name or key in keys[:index]:
                raise ValueError(f"command name {key!r} is already registered")
        self._specs.append(spec)
        self._by_name.update(dict.fromkeys(keys, spec))

    def get(self, name: str) -> CommandSpec | None:
        """The spec called ``name`` or with that alias, if any."""
        return self._by_name.get(name.lower())

    def specs(self) -> list[CommandSpec]:
        """All specs in registration order."""
        return list(self._specs)

    def parse(self, text: str) -> ParsedCommand:
        """Parse what follows ``/cohort``; raise CommandSyntaxError with a friendly message.

        A leading ``cohort`` or ``/cohort`` is ignored, empty text means
        ``help``, and ``<command> --help`` becomes ``help <command>`` when a
        help command is registered.
        """
        text = self._strip_prefix(text)
        try:
            tokens = _lex(text)
        except CommandSyntaxError as error:
            first = text.split(maxsplit=1)
            spec = self.get(first[0]) if first else None
            if spec is None:
                raise
            raise CommandSyntaxError(error.message, spec.usage_line(self.prefix)) from None
        mentions = tuple(Mention(t.mention) for t in tokens if t.mention is not None)
        words = [t for t in tokens if t.mention is None]
        help_spec = self.get("help")
        if not words:
            if help_spec is None:
                raise CommandSyntaxError(f"Type a command after {self.prefix}.")
            return ParsedCommand(help_spec, (), MappingProxyType({}), mentions)
        head, rest = words[0], words[1:]
        if help_spec is not None and not head.quoted and head.text.lower() == "--help":
            return ParsedCommand(help_spec, (), MappingProxyType({}), mentions)
        spec = self.get(head.text)
        if spec is None:
            raise self._unknown(head.text)
        return self._parse_rest(spec, rest, mentions)

    def _strip_prefix(self, text: str) -> str:
        text = text.strip()
        bare = self.prefix.lstrip("/").lower()
        for candidate in (self.prefix.lower(), bare):
            if candidate and text.lower().startswith(candidate):
                after = text[len(candidate) :]
                if not after or after[0].isspace():
                    return after.strip()
        return text

    def _unknown(self, name: str) -> CommandSyntaxError:
        close = difflib.get_close_matches(name.lower(), list(self._by_name), n=1, cutoff=0.6)
        message = f"Unknown command '{_shorten(name)}'."
        if close:
            message += f" Did you mean '{close[0]}'?"
        if "help" in self._by_name:
            message += f" Try {self.prefix} help to see all commands."
        return CommandSyntaxError(message)

    def _parse_rest(
        self, spec: CommandSpec, tokens: list[_Token], mentions: tuple[Mention, ...]
    ) -> ParsedCommand:
        usage = spec.usage_line(self.prefix)
        args: list[str] = []
        quoted: list[bool] = []
        options: dict[str, object] = {}
        options_ended = False
        i = 0
        while i < len(tokens):
            token = tokens[i]
            i += 1
            raw = token.text if token.quoted else _dashes(token.text)
            if options_ended or token.quoted or not raw.startswith("--"):
                args.append(token.text)
                quoted.append(token.quoted)
                continue
            if raw == "--":
                options_ended = True
                continue
            name, equals, value = raw[2:].partition("=")
            has_value = bool(equals)
            option = spec.option(name)
            if option is None:
                help_spec = self.get("help")
                if name.lower() == "help" and help_spec is not None:
                    return ParsedCommand(help_spec, (spec.name,), MappingProxyType({}), mentions)
                raise CommandSyntaxError(self._unknown_option(spec, name), usage)
            if option.name in options and option.kind != "flag":
                raise CommandSyntaxError(f"--{option.name} is given twice.", usage)
            if option.kind == "flag":
                if has_value:
                    raise CommandSyntaxError(f"--{option.name} doesn't take a value.", usage)
                options[option.name] = True
                continue
            if not has_value and i < len(tokens):
                following = tokens[i]
                if following.quoted or not _dashes(following.text).startswith("--"):
                    value, has_value = following.text, True
                    i += 1
            if not value:
                raise CommandSyntaxError(
                    f"--{option.name} needs a value, like {option.syntax()}.", usage
                )
            options[option.name] = _convert(option, value, usage)
        _check_subcommand(spec, args, usage)
        _check_count(spec, args, usage)
        return ParsedCommand(
            spec, tuple(args), MappingProxyType(options), mentions, quoted=tuple(quoted)
        )

    def _unknown_option(self, spec: CommandSpec, name: str) -> str:
        message = f"{spec.name} has no option --{_shorten(name)}."
        names = [option.name for option in spec.options]
        close = difflib.get_close_matches(name.lower(), names, n=1, cutoff=0.6)
        if close:
            message += f" Did you mean --{close[0]}?"
        elif not names:
            message += " It takes no options."
        return message

    def help_text(self, roles: frozenset[Role] | None = None) -> str:
        """One ``usage — summary`` line per command, in registration order.

        With ``roles``, commands those roles cannot run come last under a
        heading naming the roles that can; ``None`` lists everything as usable.
        """
        usable = [s for s in self._specs if roles is None or s.allows(roles)]
        others = [s for s in self._specs if s not in usable]
        lines = [self._help_line(spec) for spec in usable]
        if others:
            needed = {role for spec in others for role in spec.roles}
            lines += ["", f"For {_roles_phrase(needed)}:"]
            lines += [self._help_line(spec) for spec in others]
        if "help" in self._by_name:
            lines += ["", f"For details on one command: {self.prefix} help COMMAND"]
        return "\n".join(lines)

    def _help_line(self, spec: CommandSpec) -> str:
        line = spec.usage_line(self.prefix)
        return f"{line} — {spec.summary}" if spec.summary else line

    def command_help(self, name: str) -> str:
        """Everything about one command: usage, summary, details, options, aliases, roles.

        An unknown name raises the same CommandSyntaxError as parsing it would.
        """
        spec = self.get(name.strip().removeprefix("/"))
        if spec is None:
            raise self._unknown(name)
        lines = [spec.usage_line(self.prefix)]
        lines += [text for text in (spec.summary, spec.details) if text]
        if spec.options:
            lines.append("Options:")
            for option in spec.options:
                tail = f" — {option.help}" if option.help else ""
                lines.append(f"  {option.syntax()}{tail}")
        if spec.aliases:
            lines.append("Also written: " + ", ".join(spec.aliases))
        if spec.roles:
            lines.append(f"Only for {_roles_phrase(spec.roles)}.")
        return "\n".join(lines)


def _convert(option: Option, value: str, usage: str) -> object:
    if option.kind == "duration":
        try:
            return parse_duration(value)
        except DurationError as error:
            raise CommandSyntaxError(f"--{option.name}: {error}.", usage) from None
    if option.kind == "int":
        if not _INT.fullmatch(value.strip()):
            raise CommandSyntaxError(
                f"--{option.name} needs a whole number, not '{_shorten(value)}'.", usage
            )
        return int(value)
    return value


def _check_subcommand(spec: CommandSpec, args: list[str], usage: str) -> None:
    if not spec.subcommands:
        return
    choices = ", ".join(spec.subcommands)
    if not args:
        if spec.min_args > 0:
            raise CommandSyntaxError(f"{spec.name} needs one of: {choices}.", usage)
        return
    wanted = args[0].lower()
    match = next((sub for sub in spec.subcommands if sub.lower() == wanted), None)
    if match is None:
        close = difflib.get_close_matches(wanted, spec.subcommands, n=1, cutoff=0.6)
        hint = f"Did you mean '{close[0]}'?" if close else f"Use one of: {choices}."
        raise CommandSyntaxError(
            f"Unknown {spec.name} command '{_shorten(args[0])}'. {hint}", usage
        )
    args[0] = match


def _check_count(spec: CommandSpec, args: list[str], usage: str) -> None:
    given = len(args)
    if given < spec.min_args:
        least = "" if spec.max_args == spec.min_args else "at least "
        raise CommandSyntaxError(
            f"{spec.name} needs {least}{_counted(spec.min_args, 'argument')} (you gave {given}).",
            usage,
        )
    if spec.max_args is not None and given > spec.max_args:
        if spec.max_args == 0:
            message = f"{spec.name} takes no arguments (you gave {given})."
        else:
            most = "" if spec.max_args == spec.min_args else "at most "
            message = (
                f"{spec.name} takes {most}{_counted(spec.max_args, 'argument')} "
                f"(you gave {given}). Put text with spaces in quotes."
            )
        raise CommandSyntaxError(message, usage)
