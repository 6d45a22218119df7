"""The `/cohort` command router: parse, resolve the cohort, check roles, run the handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from bot.commands.parser import CommandSpec, CommandSyntaxError, CommandTable, ParsedCommand
from bot.config import AppConfig, ProgramConfig
from bot.model.messages import Context, Message, Section
from bot.model.roles import ROLE_NAMES, Role
from bot.runtime.effects import Effects
from bot.runtime.engine import FlowEngine
from storage.models import Cohort, Identity, Person, Workspace

WHICH_COHORT = "Which cohort? Add `--cohort <cohort>`."


@dataclass
class CommandContext:
    """What a command handler sees."""

    command: ParsedCommand
    spec: CommandSpec
    """The spec of the command being run, e.g. for `ctx.spec.usage_line()`."""
    person: Person
    effects: Effects
    engine: FlowEngine
    table: CommandTable
    cohort: Cohort | None
    roles: frozenset[Role]
    channel_cohort: Cohort | None

    async def reply(self, text: str, *, blocks: list[Section | Context] | None = None) -> None:
        await self.effects.reply(
            Message(text=text, blocks=list(blocks or [])), person_id=self.person.id
        )

    async def cohort_and_program(self, config: AppConfig) -> tuple[Cohort, ProgramConfig] | None:
        """The cohort the command is about and its program, or None after asking which."""
        cohort = self.cohort
        program = config.programs.get(cohort.program) if cohort else None
        if cohort is None or program is None:
            await self.reply(WHICH_COHORT)
            return None
        return cohort, program


CommandHandler = Callable[[CommandContext], Awaitable[None]]
_H = TypeVar("_H")


@dataclass(frozen=True)
class Interaction:
    """Who did something outside a command (a click, a form), and the effects it may cause."""

    person: Person
    effects: Effects
    engine: FlowEngine

    async def reply(self, text: str) -> None:
        await self.effects.reply(
            Message(text=text, blocks=[Section(text=text)]), person_id=self.person.id
        )


@dataclass(frozen=True)
class ActionContext(Interaction):
    """What a button handler sees: who clicked which button."""

    action_id: str
    value: str


ActionHandler = Callable[[ActionContext], Awaitable[None]]


@dataclass(frozen=True)
class FormContext(Interaction):
    """What a form handler sees: who submitted which form, with the values by field id."""

    form_id: str
    values: dict[str, str]


FormHandler = Callable[[FormContext], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    spec: CommandSpec
    handler: CommandHandler
    cohort_arg: int | None = None
    """Index of the positional argument naming the cohort, if the command takes one."""


@dataclass
class CommandRouter:
    table: CommandTable = field(default_factory=CommandTable)
    routes: dict[str, Route] = field(default_factory=dict)
    actions: dict[str, ActionHandler] = field(default_factory=dict)
    """Button handlers by action namespace: `session.here` handles `session.here[:...]`."""
    forms: dict[str, FormHandler] = field(default_factory=dict)
    """Form handlers by form namespace: `checkin.form` handles `checkin.form[:...]`."""

    def register_action(self, action: str, handler: ActionHandler) -> None:
        _add_once(self.actions, action, handler, kind="action")

    def action_handler(self, action_id: str) -> ActionHandler | None:
        return self.actions.get(_namespace(action_id))

    def register_form(self, form: str, handler: FormHandler) -> None:
        _add_once(self.forms, form, handler, kind="form")

    def form_handler(self, form_id: str) -> FormHandler | None:
        return self.forms.get(_namespace(form_id))

    def register(
        self, spec: CommandSpec, handler: CommandHandler, *, cohort_arg: int | None = None
    ) -> None:
        self.table.register(spec)
        self.routes[spec.name] = Route(spec, handler, cohort_arg)

    async def handle(
        self, *, text: str, person: Person, effects: Effects, engine: FlowEngine
    ) -> None:
        """Run one command line; every problem becomes a short reply to the sender."""
        try:
            command = self.table.parse(text)
        except CommandSyntaxError as error:
            await effects.reply(_error_message(str(error)), person_id=person.id)
            return
        route = self.routes[command.name]
        channel_cohort = await self._channel_cohort(effects)
        cohort, problem = await self._resolve_cohort(
            route, command, person, effects, channel_cohort
        )
        roles = await self._roles(person, cohort, effects)
        if route.spec.roles:
            if problem:
                await effects.reply(_error_message(problem), person_id=person.id)
                return
            if not route.spec.allows(roles):
                await effects.reply(
                    _error_message(await self._not_allowed(route.spec, cohort, effects)),
                    person_id=person.id,
                )
                return
        await route.handler(
            CommandContext(
                command=command,
                spec=route.spec,
                person=person,
                effects=effects,
                engine=engine,
                table=self.table,
                cohort=cohort,
                roles=roles,
                channel_cohort=channel_cohort,
            )
        )

    @staticmethod
    async def _channel_cohort(effects: Effects) -> Cohort | None:
        origin = effects.origin
        if origin is None or origin.channel_id is None or origin.is_direct:
            return None
        return await effects.uow.cohorts.by_channel(origin.platform, origin.channel_id)

    @staticmethod
    async def _resolve_cohort(
        route: Route,
        command: ParsedCommand,
        person: Person,
        effects: Effects,
        channel_cohort: Cohort | None,
    ) -> tuple[Cohort | None, str | None]:
        """The cohort a command is about: named, else the channel's, else the person's only one."""
        named = command.options.get("cohort")
        if named is None and route.cohort_arg is not None and len(command.args) > route.cohort_arg:
            named = command.args[route.cohort_arg]
        if isinstance(named, str):
            cohort = await effects.uow.cohorts.by_key(named.lower())
            if cohort is None:
                keys = ", ".join(c.key for c in await effects.uow.cohorts.all()) or "none yet"
                return None, f"There is no cohort '{named}'. Cohorts: {keys}."
            return cohort, None
        if channel_cohort is not None:
            return channel_cohort, None
        mine = await effects.uow.cohorts.cohorts_of(person.id)
        if len(mine) == 1:
            return mine[0][0], None
        if not mine:
            return None, "You are not in a cohort yet. Join one with `/cohort join <cohort>`."
        keys = ", ".join(cohort.key for cohort, _ in mine)
        return (
            None,
            f"You are in several cohorts ({keys}); name one, e.g. `--cohort {mine[0][0].key}`.",
        )

    @staticmethod
    async def _roles(person: Person, cohort: Cohort | None, effects: Effects) -> frozenset[Role]:
        if cohort is None:
            return frozenset()
        names = await effects.uow.cohorts.roles(cohort_id=cohort.id, person_id=person.id)
        return frozenset(Role(name) for name in names)

    @staticmethod
    async def _not_allowed(spec: CommandSpec, cohort: Cohort | None, effects: Effects) -> str:
        allowed = sorted(ROLE_NAMES[role] for role in spec.roles)
        who = " or ".join(f"a {name}" for name in allowed)
        where = f" of {cohort.name}" if cohort else ""
        message = f"Only {who}{where} can use `/cohort {spec.name}`."
        if cohort is not None:
            members = {
                member.id: member
                for member, role in await effects.uow.cohorts.members(cohort.id)
                if role in {r.value for r in spec.roles}
            }
            platform = effects.origin.platform if effects.origin else None
            identities = await effects.uow.people.identities_of(list(members))
            names = {
                _named(member.display_name, identities.get(member.id, []), platform)
                for member in members.values()
            }
            if names:
                message += f" Ask {', '.join(sorted(names))}."
        return message


def _named(
    display_name: str, identities: list[tuple[Identity, Workspace]], platform: str | None
) -> str:
    """A person as a reader knows them: staff named in app.yaml by id alone are mentioned."""
    ids = {identity.platform_user_id for identity, _workspace in identities}
    if display_name not in ids:
        return display_name
    here = [i.platform_user_id for i, workspace in identities if workspace.platform == platform]
    return f"<@{here[0]}>" if here else display_name


def _namespace(identifier: str) -> str:
    """`session.here` for `session.here:42`: handlers are registered per namespace."""
    return identifier.partition(":")[0]


def _add_once(registry: dict[str, _H], name: str, handler: _H, *, kind: str) -> None:
    if name in registry:
        raise ValueError(f"{kind} {name!r} is registered twice")
    registry[name] = handler


HELP_HINT = "Type `/cohort help` for all commands."


def _error_message(text: str) -> Message:
    """The problem, and a pointer to help unless the problem already gives one."""
    blocks: list[Section | Context] = [Section(text=text)]
    if "/cohort help" not in text:
        blocks.append(Context(text=HELP_HINT))
    return Message(text=text, blocks=list(blocks))
