"""The flow engine: declared steps, persisted position, validated answers, follow-ups.

A flow is a list of steps read top to bottom. The engine keeps each run's step and data
in the database, so a restart mid-conversation resumes where the person was. Answers
(typed text or a clicked button) reach the run they belong to; an invalid answer is
re-asked with the reason; a waiting step may schedule a reminder and a give-up follow-up,
both cancelled when the person answers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bot.model.messages import Button, Buttons, Context, Message, Section
from bot.runtime.answers import AnswerKind, InvalidAnswer
from bot.runtime.effects import Effects
from bot.runtime.scheduler import TaskContext, TaskRegistry, Timers
from storage.models import Cohort, FlowRun, Person

if TYPE_CHECKING:
    from bot.config import AppConfig

log = logging.getLogger(__name__)

ANSWER_ACTION = "flow.answer"
SELECT_ACTION = "flow.select"
"""Selects and ratings carry the run in the action id, since the value is the person's."""
REMIND_TASK = "flow.remind"
GIVE_UP_TASK = "flow.give_up"


class RunStatus(StrEnum):
    ACTIVE = "active"
    WAITING = "waiting"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass
class FlowContext:
    """What a step sees: the run, the person, the cohort, and the effects it may cause."""

    run: FlowRun
    person: Person
    cohort: Cohort | None
    effects: Effects
    timers: Timers
    config: AppConfig

    @property
    def data(self) -> Mapping[str, Any]:
        return self.run.data

    def remember(self, **values: Any) -> None:
        """Store values in the run's data (a new dict, so the change is saved)."""
        self.run.data = {**self.run.data, **values}

    @property
    def select_action(self) -> str:
        """The action id of a select or rating that answers the step the run waits on."""
        return f"{SELECT_ACTION}:{self.run.id}:{self.run.step}"

    def answer_button(self, label: str, value: str, *, primary: bool = False) -> Button:
        """A button that answers the step the run is waiting on."""
        return Button(
            label=label,
            action_id=ANSWER_ACTION,
            value=encode_answer(self.run.id, self.run.step, value),
            style="primary" if primary else "default",
        )


Render = Callable[[FlowContext], Message]


@dataclass(frozen=True)
class End:
    """Returned by a Do step to finish the run early."""


@dataclass(frozen=True)
class Goto:
    step: str


@dataclass(frozen=True)
class Tell:
    name: str
    say: Render


@dataclass(frozen=True)
class Do:
    name: str
    act: Callable[[FlowContext], Awaitable[End | Goto | None]]


@dataclass(frozen=True)
class Ask:
    """Ask a question and wait; the parsed answer is stored under `store`."""

    name: str
    prompt: Render
    answer: AnswerKind
    store: str
    remind_after: Callable[[FlowContext], timedelta | None] = lambda _ctx: None
    give_up_after: Callable[[FlowContext], timedelta | None] = lambda _ctx: None


Step = Tell | Do | Ask


@dataclass(frozen=True)
class Flow:
    name: str
    steps: tuple[Step, ...]
    on_give_up: Callable[[FlowContext], Awaitable[None]] | None = None

    def index(self, step_name: str) -> int:
        for position, step in enumerate(self.steps):
            if step.name == step_name:
                return position
        raise KeyError(step_name)


def encode_answer(run_id: int, step: str, value: str) -> str:
    return f"{run_id}:{step}:{value}"


def decode_select(action_id: str, value: str) -> tuple[int, str, str] | None:
    """(run id, step, value) from a select's or rating's action id and chosen value."""
    prefix, _, rest = action_id.partition(":")
    if prefix != SELECT_ACTION:
        return None
    run_id, _, step = rest.partition(":")
    return (int(run_id), step, value) if run_id.isdigit() and step else None


def decode_answer(raw: str) -> tuple[int, str, str] | None:
    run_id, _, rest = raw.partition(":")
    step, sep, value = rest.partition(":")
    if not run_id.isdigit() or not sep:
        return None
    return int(run_id), step, value


@dataclass
class FlowEngine:
    config: AppConfig
    flows: dict[str, Flow] = field(default_factory=dict)

    def register(self, flow: Flow) -> None:
        if flow.name in self.flows:
            raise ValueError(f"flow {flow.name!r} is registered twice")
        self.flows[flow.name] = flow

    def register_tasks(self, tasks: TaskRegistry) -> None:
        tasks.register(REMIND_TASK, self._remind)
        tasks.register(GIVE_UP_TASK, self._give_up)

    async def start(
        self,
        *,
        flow_name: str,
        person: Person,
        cohort: Cohort | None,
        effects: Effects,
        data: dict[str, Any] | None = None,
    ) -> FlowRun:
        """Start a run (replacing an unfinished one of this flow); run it to its first wait."""
        flow = self.flows[flow_name]
        uow = effects.uow
        cohort_id = cohort.id if cohort else None
        for stale in await uow.flow_runs.active(
            flow=flow_name, person_id=person.id, cohort_id=cohort_id
        ):
            stale.status = RunStatus.CANCELLED
            await effects.uow.schedule.cancel_prefix(f"flow:{stale.id}:")
        run = await uow.flow_runs.create(
            flow=flow_name,
            person_id=person.id,
            cohort_id=cohort_id,
            step=flow.steps[0].name,
            data=data or {},
            now=effects.now,
        )
        await self._proceed(flow, self._context(run, person, cohort, effects))
        return run

    def _context(
        self, run: FlowRun, person: Person, cohort: Cohort | None, effects: Effects
    ) -> FlowContext:
        return FlowContext(
            run=run,
            person=person,
            cohort=cohort,
            effects=effects,
            timers=Timers(effects.uow, effects.now),
            config=self.config,
        )

    async def _proceed(self, flow: Flow, ctx: FlowContext) -> None:
        """Run steps from the current one until an Ask waits or the flow ends."""
        position = flow.index(ctx.run.step)
        ctx.run.status = RunStatus.ACTIVE
        while position < len(flow.steps):
            step = flow.steps[position]
            ctx.run.step = step.name
            if isinstance(step, Tell):
                await ctx.effects.dm(ctx.person.id, step.say(ctx))
            elif isinstance(step, Ask):
                await self._ask(step, ctx)
                return
            else:
                outcome = await step.act(ctx)
                if isinstance(outcome, End):
                    break
                if isinstance(outcome, Goto):
                    position = flow.index(outcome.step)
                    continue
            position += 1
        ctx.run.status = RunStatus.DONE
        ctx.run.updated_at = ctx.effects.now
        ctx.effects.log(
            f"flow.{flow.name}.completed",
            person_id=ctx.person.id,
            cohort_id=ctx.cohort.id if ctx.cohort else None,
            object_ref=f"run:{ctx.run.id}",
        )

    async def _ask(self, step: Ask, ctx: FlowContext, *, preface: str | None = None) -> None:
        ctx.run.status = RunStatus.WAITING
        ctx.run.updated_at = ctx.effects.now
        prompt = step.prompt(ctx)
        if preface:
            prompt = prompt.model_copy(
                update={
                    "text": f"{preface}\n{prompt.text}",
                    "blocks": [Section(text=preface), *prompt.blocks],
                }
            )
        await ctx.effects.dm(ctx.person.id, prompt)
        await self._schedule_follow_ups(step, ctx)

    async def _schedule_follow_ups(self, step: Ask, ctx: FlowContext) -> None:
        prefix = f"flow:{ctx.run.id}:"
        await ctx.timers.cancel_prefix(prefix)
        payload = {"run_id": ctx.run.id, "step": step.name}
        remind = step.remind_after(ctx)
        if remind is not None:
            await ctx.timers.run_once(
                key=f"{prefix}{step.name}:remind",
                task=REMIND_TASK,
                at=ctx.effects.now + remind,
                payload=payload,
            )
        give_up = step.give_up_after(ctx)
        if give_up is not None:
            await ctx.timers.run_once(
                key=f"{prefix}{step.name}:give_up",
                task=GIVE_UP_TASK,
                at=ctx.effects.now + give_up,
                payload=payload,
            )

    async def answer(
        self, *, run: FlowRun, person: Person, raw: str, effects: Effects, step: str | None = None
    ) -> bool:
        """Apply an answer to a waiting run; False when the run no longer waits on that step."""
        flow = self.flows.get(run.flow)
        if flow is None or run.status != RunStatus.WAITING or (step and step != run.step):
            return False
        current = flow.steps[flow.index(run.step)]
        if not isinstance(current, Ask):
            return False
        cohort = await effects.uow.cohorts.get(run.cohort_id) if run.cohort_id else None
        ctx = self._context(run, person, cohort, effects)
        try:
            value = current.answer.parse(raw)
        except InvalidAnswer as invalid:
            await self._ask(current, ctx, preface=f"Sorry, {invalid.reason}")
            return True
        ctx.remember(**{current.store: value})
        await ctx.timers.cancel_prefix(f"flow:{run.id}:")
        if run.cohort_id is not None and await effects.uow.participation.mark_answered(
            run.cohort_id, person.id
        ):
            # Any answer ends an inactivity (see flows.availability).
            effects.log("participant.reactivated", person_id=person.id, cohort_id=run.cohort_id)
        position = flow.index(current.name) + 1
        if position >= len(flow.steps):
            run.step = current.name
            run.status = RunStatus.DONE
            return True
        run.step = flow.steps[position].name
        await self._proceed(flow, ctx)
        return True

    async def _load(self, task: TaskContext) -> tuple[Flow, FlowContext, Ask] | None:
        run = await task.uow.flow_runs.get(int(task.payload["run_id"]), lock=True)
        if run is None or run.status != RunStatus.WAITING or run.step != task.payload["step"]:
            return None
        flow = self.flows.get(run.flow)
        person = await task.uow.people.get(run.person_id)
        if flow is None or person is None:
            return None
        step = flow.steps[flow.index(run.step)]
        if not isinstance(step, Ask):
            return None
        cohort = await task.uow.cohorts.get(run.cohort_id) if run.cohort_id else None
        return flow, self._context(run, person, cohort, task.effects), step

    async def _remind(self, task: TaskContext) -> None:
        loaded = await self._load(task)
        if loaded is None:
            return
        _flow, ctx, step = loaded
        prompt = step.prompt(ctx)
        await ctx.effects.dm(
            ctx.person.id,
            prompt.model_copy(
                update={
                    "text": f"Reminder: {prompt.text}",
                    "blocks": [Context(text="A friendly reminder"), *prompt.blocks],
                }
            ),
        )
        ctx.effects.log(
            f"flow.{ctx.run.flow}.reminded",
            person_id=ctx.person.id,
            cohort_id=ctx.run.cohort_id,
            object_ref=f"run:{ctx.run.id}",
        )

    async def _give_up(self, task: TaskContext) -> None:
        loaded = await self._load(task)
        if loaded is None:
            return
        flow, ctx, _step = loaded
        ctx.remember(gave_up_at=ctx.effects.now.isoformat())
        ctx.effects.log(
            f"flow.{flow.name}.stalled",
            person_id=ctx.person.id,
            cohort_id=ctx.run.cohort_id,
            object_ref=f"run:{ctx.run.id}",
            data={"step": ctx.run.step},
        )
        if flow.on_give_up is not None:
            await flow.on_give_up(ctx)


def answer_buttons(ctx: FlowContext, options: list[tuple[str, str]]) -> Buttons:
    """A row of answer buttons for the run's current step: (label, value) pairs."""
    return Buttons(
        buttons=[
            ctx.answer_button(label, value, primary=index == 0)
            for index, (label, value) in enumerate(options)
        ]
    )
