"""The flow engine: declared steps, persisted position, validated answers, follow-ups.

A flow is a list of steps read top to bottom: `Tell` says something, `Ask` asks the
person and waits for their answer, `Wait` waits for something else (a button in a
channel, a command, a deadline), `Do` acts and may end the run or jump to a step.

The engine keeps each run's step and data in the database, so a restart mid-conversation
resumes where the person was. Answers (typed text, a clicked button, a whole form) reach
the run they belong to; an invalid answer is re-asked with the reason; a waiting step may
schedule a reminder, a give-up follow-up or a time-out, all cancelled when the run moves
on. Flows change a run only through the engine: `start`, `answer`, `fill`, `resume`,
`goto`, `pause_run`, `cancel_run` and `remember`; the engine alone owns a run's status and the
`flow:<run id>:` keys of its timers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from typing_extensions import TypedDict

from bot.model.messages import Button, Buttons, Context, Message, Section
from bot.runtime.answers import AnswerKind, InvalidAnswer
from bot.runtime.effects import DmBatch, Effects
from bot.runtime.natural import Control, Offered, control_word, interpret, offered
from bot.runtime.scheduler import Payload, TaskContext, TaskRegistry, Timers, checked
from storage.models import Cohort, FlowRun, Person
from storage.repositories.schedule import OneOff
from storage.statuses import RunStatus, move

if TYPE_CHECKING:
    from bot.config import AppConfig

log = logging.getLogger(__name__)

_MENTION = re.compile(r"<@(?P<id>[^\s<>|]+)(?:\|[^<>]*)?>")
ANSWER_ACTION = "flow.answer"
SELECT_ACTION = "flow.select"
"""Selects and ratings carry the run in the action id, since the value is the person's."""
REMIND_TASK = "flow.remind"
GIVE_UP_TASK = "flow.give_up"
TIMEOUT_TASK = "flow.timeout"
AGAIN_TASK = "flow.ask_again"
ASK_AGAIN_AFTER = timedelta(minutes=10)
"""An older open question comes back this long after a newer one took the person's reply."""
QUESTION_REF = "question"
"""A run's questions are queued under `question:<run id>`: the newest one is on screen."""


def _after(ctx: FlowContext, delay: timedelta | None) -> datetime | None:
    return None if delay is None else ctx.effects.now + delay


class RunTimer(TypedDict):
    """The payload of a run's reminder, give-up and time-out timers."""

    run_id: int
    step: str


def _question_ref(run_id: int) -> str:
    return f"{QUESTION_REF}:{run_id}"


def _timers_of(run_id: int) -> str:
    """The key prefix of every timer a run has: only the engine makes or cancels them."""
    return f"flow:{run_id}:"


@dataclass
class FlowContext:
    """What a step sees: the run, the person, the cohort, and the effects it may cause."""

    run: FlowRun
    person: Person
    cohort: Cohort | None
    effects: Effects
    timers: Timers
    config: AppConfig
    fresh: bool = False
    """Just created: the run has set no timers yet, so its first wait has none to cancel."""
    outgoing: DmBatch | None = None
    """Where the run's DMs gather while `start_many` starts it with others."""

    @property
    def data(self) -> Mapping[str, Any]:
        return self.run.data

    def data_as(self, shape: type[Payload]) -> Payload:
        """The run's data as the TypedDict its flow keeps (checked, so a bad row fails here)."""
        return checked(shape, self.run.data)

    def remember(self, **values: Any) -> None:
        """Store values in the run's data (a new dict, so the change is saved)."""
        remember(self.run, **values)

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
    skippable: bool = False
    """`skip` moves on without an answer (nothing is stored under `store`)."""


@dataclass(frozen=True)
class Wait:
    """Wait for something other than a typed answer: a click in a channel, a command, time.

    The run goes on at the next step when a handler calls `FlowEngine.resume`, or when
    `timeout` has passed (after `on_timeout`, if given).
    """

    name: str
    timeout: Callable[[FlowContext], timedelta | None] = lambda _ctx: None
    on_timeout: Callable[[FlowContext], Awaitable[None]] | None = None
    remind_at: Callable[[FlowContext], Sequence[datetime]] = lambda _ctx: ()
    """When to nudge while waiting; `on_remind` says what (the run keeps waiting)."""
    on_remind: Callable[[FlowContext], Awaitable[None]] | None = None


Step = Tell | Do | Ask | Wait


@dataclass(frozen=True)
class Flow:
    name: str
    steps: tuple[Step, ...]
    on_give_up: Callable[[FlowContext], Awaitable[None]] | None = None
    stopped: Render | None = None
    """What the person is told when they type `cancel`; a plain "stopped" otherwise."""
    one_at_a_time: bool = True
    """Starting a run cancels the person's unfinished run of this flow in the cohort.

    False for flows a person may be in several times at once (one run per review task).
    """

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
        tasks.register(TIMEOUT_TASK, self._time_out)
        tasks.register(AGAIN_TASK, self._again)

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
        (run,) = await self.start_many(
            flow_name=flow_name, people=[person], cohort=cohort, effects=effects, data=data
        )
        return run

    async def start_many(
        self,
        *,
        flow_name: str,
        people: Sequence[Person],
        cohort: Cohort | None,
        effects: Effects,
        data: Mapping[str, Any] | None = None,
    ) -> list[FlowRun]:
        """`start` for each person in order (each run gets its own copy of `data`).

        The rows, messages and idempotency keys are those of starting them one by one; the
        statements are few: one query for the runs to replace, one insert for the new runs
        and one for the DMs of their first steps.
        """
        flow = self.flows[flow_name]
        person_ids = [person.id for person in people]
        cohort_id = cohort.id if cohort else None
        if flow.one_at_a_time:
            if len(set(person_ids)) < len(person_ids):
                raise ValueError(f"{flow_name} runs one at a time: start each person once")
            stale = await effects.uow.flow_runs.active_of(
                flow=flow_name, person_ids=person_ids, cohort_id=cohort_id
            )
            await cancel_runs(stale, effects)
        runs = await effects.uow.flow_runs.create_many(
            flow=flow_name,
            person_ids=person_ids,
            cohort_id=cohort_id,
            step=flow.steps[0].name,
            data=data or {},
            now=effects.now,
        )
        outgoing = await effects.dm_batch(set(person_ids))
        for run, person in zip(runs, people, strict=True):
            ctx = self._context(run, person, cohort, effects)
            ctx.fresh, ctx.outgoing = True, outgoing
            await self._proceed(flow, ctx)
        await effects.uow.flow_runs.save_new(runs)
        await outgoing.queue()
        return runs

    def _context(
        self, run: FlowRun, person: Person, cohort: Cohort | None, effects: Effects
    ) -> FlowContext:
        if cohort is not None:
            effects.for_cohort(cohort.id)
        return FlowContext(
            run=run,
            person=person,
            cohort=cohort,
            effects=effects,
            timers=Timers(effects.uow, effects.now),
            config=self.config,
        )

    async def _proceed(self, flow: Flow, ctx: FlowContext) -> None:
        """Run steps from the current one until an Ask or a Wait waits, or the flow ends."""
        position = flow.index(ctx.run.step)
        move(ctx.run, RunStatus.ACTIVE)
        while position < len(flow.steps):
            step = flow.steps[position]
            ctx.run.step = step.name
            if isinstance(step, Tell):
                await self._say(ctx, step.say(ctx))
            elif isinstance(step, Ask):
                await self._ask(step, ctx)
                return
            elif isinstance(step, Wait):
                await self._wait(step, ctx)
                return
            else:
                if ctx.outgoing is not None:
                    # A Do step may queue messages or change a person's addresses: what the
                    # batch holds goes first, and this run speaks one DM at a time from here.
                    await ctx.outgoing.queue()
                    ctx.outgoing = None
                outcome = await step.act(ctx)
                if isinstance(outcome, End):
                    break
                if isinstance(outcome, Goto):
                    position = flow.index(outcome.step)
                    continue
            position += 1
        move(ctx.run, RunStatus.DONE)
        ctx.run.updated_at = ctx.effects.now
        ctx.effects.log(
            f"flow.{flow.name}.completed",
            person_id=ctx.person.id,
            cohort_id=ctx.cohort.id if ctx.cohort else None,
            object_ref=f"run:{ctx.run.id}",
        )

    async def _ask(self, step: Ask, ctx: FlowContext, *, preface: str | None = None) -> None:
        move(ctx.run, RunStatus.WAITING)
        ctx.run.updated_at = ctx.effects.now
        prompt = self._prompt(step, ctx)
        if preface:
            prompt = prompt.model_copy(
                update={
                    "text": f"{preface}\n{prompt.text}",
                    "blocks": [Section(text=preface), *prompt.blocks],
                }
            )
        await self._say(ctx, prompt, ref_key=_question_ref(ctx.run.id))
        await self._schedule_follow_ups(step, ctx)

    def _prompt(self, step: Ask, ctx: FlowContext) -> Message:
        """The step's question, with a line saying how to get out of the conversation."""
        prompt = step.prompt(ctx)
        return prompt.model_copy(
            update={"blocks": [*prompt.blocks, Context(text=self._way_out(step, ctx.run.flow))]}
        )

    def _way_out(self, step: Ask, flow_name: str) -> str:
        words = []
        if step.skippable:
            words.append("`skip` to skip this question")
        if self._previous_ask(self.flows[flow_name], step) is not None:
            words.append("`back` to change your last answer")
        words.append("`cancel` to stop")
        if len(words) == 1:
            return f"Type {words[0]}."
        return f"Type {', '.join(words[:-1])} or {words[-1]}."

    @staticmethod
    def _previous_ask(flow: Flow, step: Ask) -> Ask | None:
        for earlier in reversed(flow.steps[: flow.index(step.name)]):
            if isinstance(earlier, Ask):
                return earlier
        return None

    @staticmethod
    async def _say(ctx: FlowContext, message: Message, *, ref_key: str | None = None) -> None:
        """DM the run's person: now, or with the other runs `start_many` starts."""
        if ctx.outgoing is None:
            await ctx.effects.dm(ctx.person.id, message, ref_key=ref_key)
        else:
            ctx.outgoing.add(ctx.person.id, message, ref_key=ref_key)

    async def _wait(self, step: Wait, ctx: FlowContext) -> None:
        move(ctx.run, RunStatus.WAITING)
        ctx.run.updated_at = ctx.effects.now
        await self._arm_timers(
            ctx,
            step.name,
            [(f"remind:{i}", REMIND_TASK, at) for i, at in enumerate(step.remind_at(ctx))]
            + [("timeout", TIMEOUT_TASK, _after(ctx, step.timeout(ctx)))],
        )

    async def _schedule_follow_ups(self, step: Ask, ctx: FlowContext) -> None:
        await self._arm_timers(
            ctx,
            step.name,
            [
                ("remind", REMIND_TASK, _after(ctx, step.remind_after(ctx))),
                ("give_up", GIVE_UP_TASK, _after(ctx, step.give_up_after(ctx))),
            ],
        )

    @staticmethod
    async def _arm_timers(
        ctx: FlowContext, step: str, timers: Sequence[tuple[str, str, datetime | None]]
    ) -> None:
        """Replace the run's timers with these (key suffix, task, due) ones; None sets none."""
        prefix = _timers_of(ctx.run.id)
        if not ctx.fresh:
            await ctx.timers.cancel_prefix(prefix)
        ctx.fresh = False
        payload = dict(RunTimer(run_id=ctx.run.id, step=step))
        await ctx.timers.run_once_many(
            [
                OneOff(key=f"{prefix}{step}:{suffix}", task=task, due_at=at, payload=payload)
                for suffix, task, at in timers
                if at is not None
            ]
        )

    async def answer(
        self, *, run: FlowRun, person: Person, raw: str, effects: Effects, step: str | None = None
    ) -> bool:
        """Apply an answer to a waiting run; False when the run no longer waits on that step.

        `cancel`, `skip` and `back` steer the run instead of answering it; an answer the
        step cannot take is refused with the reason and the question asked again.
        """
        loaded = await self._asking(run, person, effects, step=step)
        if loaded is None:
            return False
        flow, ctx, current = loaded
        control = control_word(raw)
        if control is not None:
            await self._steer(flow, ctx, current, control)
            return True
        try:
            value = await self._understand(current, ctx, raw, effects)
        except InvalidAnswer as invalid:
            await self._ask(current, ctx, preface=f"Sorry, {invalid.reason}")
            return True
        ctx.remember(**{current.store: value})
        await self._went_on(flow, ctx, after=current)
        return True

    async def _asking(
        self, run: FlowRun, person: Person, effects: Effects, *, step: str | None = None
    ) -> tuple[Flow, FlowContext, Ask] | None:
        """The run's flow, context and question, if it waits on an Ask (`step`, if given)."""
        flow = self.flows.get(run.flow)
        if flow is None or run.status != RunStatus.WAITING or (step and step != run.step):
            return None
        current = flow.steps[flow.index(run.step)]
        if not isinstance(current, Ask):
            return None
        cohort = await effects.uow.cohorts.get(run.cohort_id) if run.cohort_id else None
        return flow, self._context(run, person, cohort, effects), current

    def _offered(self, step: Ask, ctx: FlowContext) -> list[Offered]:
        """The answers the question's own buttons, select or rating send, as typed values."""
        select_action = ctx.select_action
        options = offered(
            step.prompt(ctx), owns=lambda action: action in (ANSWER_ACTION, select_action)
        )
        typed = []
        for option in options:
            decoded = decode_answer(option.value) if option.action_id == ANSWER_ACTION else None
            typed.append(Offered(option.label, decoded[2], option.action_id) if decoded else option)
        return typed

    def _interpret(self, step: Ask, ctx: FlowContext, raw: str) -> object:
        return interpret(raw, parse=step.answer.parse, options=self._offered(step, ctx))

    async def _understand(self, step: Ask, ctx: FlowContext, raw: str, effects: Effects) -> object:
        """The typed answer as the question takes it; a mention the question cannot take
        as typed is tried as the person's name (what answer buttons show)."""
        try:
            return self._interpret(step, ctx, raw)
        except InvalidAnswer as as_typed:
            named = await _named(raw, effects)
            if named == raw:
                raise
            try:
                return self._interpret(step, ctx, named)
            except InvalidAnswer:
                raise as_typed from None

    async def check(
        self, *, run: FlowRun, person: Person, raw: str, effects: Effects
    ) -> str | None:
        """Why the text would not answer the run's question (None: it would); nothing changes.

        Also None for a control word, which every question understands.
        """
        loaded = await self._asking(run, person, effects)
        if loaded is None:
            return "that question is no longer open"
        _flow, ctx, current = loaded
        if control_word(raw) is not None:
            return None
        try:
            await self._understand(current, ctx, raw, effects)
        except InvalidAnswer as invalid:
            return invalid.reason
        return None

    async def question(self, *, run: FlowRun, person: Person, effects: Effects) -> Message | None:
        """The question the run waits on, as the person saw it; None if it waits on none."""
        loaded = await self._asking(run, person, effects)
        return None if loaded is None else self._prompt(loaded[2], loaded[1])

    def under_way(self, run: FlowRun) -> bool:
        """The run asks a later question of its conversation: the person is in the middle of it."""
        flow = self.flows.get(run.flow)
        if flow is None:
            return False
        return any(isinstance(step, Ask) for step in flow.steps[: flow.index(run.step)])

    async def ask_again(
        self, *, run: FlowRun, person: Person, effects: Effects, preface: str
    ) -> bool:
        """Show the run's open question again (it is then the one on screen); timers stay."""
        loaded = await self._asking(run, person, effects)
        if loaded is None:
            return False
        _flow, ctx, current = loaded
        run.updated_at = effects.now
        prompt = self._prompt(current, ctx)
        await self._say(
            ctx,
            prompt.model_copy(
                update={
                    "text": f"{preface}\n{prompt.text}",
                    "blocks": [Context(text=preface), *prompt.blocks],
                }
            ),
            ref_key=_question_ref(run.id),
        )
        return True

    async def ask_again_later(self, *, run: FlowRun, effects: Effects) -> None:
        """Show the run's open question again a little later (once, if still unanswered)."""
        timers = Timers(effects.uow, effects.now)
        await timers.run_once(
            key=f"{_timers_of(run.id)}{run.step}:again",
            task=AGAIN_TASK,
            at=effects.now + ASK_AGAIN_AFTER,
            payload=RunTimer(run_id=run.id, step=run.step),
        )

    async def _again(self, task: TaskContext) -> None:
        due = await self._due(task, Ask)
        if due is None:
            return
        _flow, ctx, _step = due
        await self.ask_again(
            run=ctx.run,
            person=ctx.person,
            effects=ctx.effects,
            preface="A question from earlier is still open:",
        )

    async def _steer(self, flow: Flow, ctx: FlowContext, current: Ask, control: Control) -> None:
        """`cancel` ends the run, `skip` passes an optional question, `back` re-asks the last."""
        if control is Control.CANCEL:
            await cancel_run(ctx.run, ctx.effects)
            text = "OK, I've stopped. Nothing from this question was saved."
            await self._say(ctx, flow.stopped(ctx) if flow.stopped else _plain_message(text))
            return
        if control is Control.SKIP:
            try:
                # A kind where `skip` means "nothing" (an optional comment) stores nothing.
                empty = current.answer.parse(control.value) in ("", None, [])
            except InvalidAnswer:
                empty = False
            if empty:
                ctx.remember(**{current.store: current.answer.parse(control.value)})
                await self._went_on(flow, ctx, after=current)
                return
            if not current.skippable:
                await self._ask(
                    current, ctx, preface="This question can't be skipped; type `cancel` to stop."
                )
                return
            await self._went_on(flow, ctx, after=current)
            return
        previous = self._previous_ask(flow, current)
        if previous is None:
            await self._ask(
                current, ctx, preface="This is the first question; there is no way back."
            )
            return
        await ctx.timers.cancel_prefix(_timers_of(ctx.run.id))
        ctx.run.step = previous.name
        await self._proceed(flow, ctx)

    async def fill(
        self, *, run: FlowRun, person: Person, values: Mapping[str, str], effects: Effects
    ) -> str | None:
        """Answer the waiting question and the ones after it at once, as a form does.

        Every Ask from the current one whose `store` is among `values` is answered, each
        value checked by its own answer kind; then the run goes on after the last one.
        Returns why nothing was saved (the first invalid value), or None.
        """
        flow = self.flows.get(run.flow)
        if flow is None or run.status != RunStatus.WAITING:
            return "that question is no longer open"
        asked: list[Ask] = []
        for step in flow.steps[flow.index(run.step) :]:
            if not isinstance(step, Ask) or step.store not in values:
                break
            asked.append(step)
        if not asked:
            return "that question is no longer open"
        parsed: dict[str, Any] = {}
        for step in asked:
            try:
                parsed[step.store] = step.answer.parse(values[step.store])
            except InvalidAnswer as invalid:
                return invalid.reason
        cohort = await effects.uow.cohorts.get(run.cohort_id) if run.cohort_id else None
        ctx = self._context(run, person, cohort, effects)
        ctx.remember(**parsed)
        await self._went_on(flow, ctx, after=asked[-1])
        return None

    async def _went_on(self, flow: Flow, ctx: FlowContext, *, after: Ask) -> None:
        """The person answered up to `after`: stop its follow-ups and run the steps after it."""
        run, person, effects = ctx.run, ctx.person, ctx.effects
        await ctx.timers.cancel_prefix(_timers_of(run.id))
        if run.cohort_id is not None and await effects.uow.participation.mark_answered(
            run.cohort_id, person.id
        ):
            # Any answer ends an inactivity (see flows.common.availability).
            effects.log("participant.reactivated", person_id=person.id, cohort_id=run.cohort_id)
        position = flow.index(after.name) + 1
        if position >= len(flow.steps):
            run.step = after.name
            move(run, RunStatus.DONE)
            return
        run.step = flow.steps[position].name
        await self._proceed(flow, ctx)

    async def resume(self, *, run: FlowRun, effects: Effects, step: str) -> bool:
        """What the run's Wait step waited for happened: go on after it.

        False (and nothing changes) when the run no longer waits on that step.
        """
        loaded = await self._waiting_at(run, effects, step=step, kind=Wait)
        if loaded is None:
            return False
        await self._past_wait(*loaded)
        return True

    async def _past_wait(self, flow: Flow, ctx: FlowContext) -> None:
        """Stop the waiting step's timers and run the steps after it."""
        await ctx.timers.cancel_prefix(_timers_of(ctx.run.id))
        position = flow.index(ctx.run.step) + 1
        if position >= len(flow.steps):
            move(ctx.run, RunStatus.DONE)
            return
        ctx.run.step = flow.steps[position].name
        await self._proceed(flow, ctx)

    async def goto(self, *, run: FlowRun, effects: Effects, step: str) -> bool:
        """Take a waiting run to another of its steps (a resumed pause, a do-over) and run it."""
        loaded = await self._waiting_at(run, effects, step=run.step, kind=Wait)
        if loaded is None:
            return False
        flow, ctx = loaded
        await ctx.timers.cancel_prefix(_timers_of(run.id))
        run.step = flow.steps[flow.index(step)].name
        await self._proceed(flow, ctx)
        return True

    async def _waiting_at(
        self,
        run: FlowRun,
        effects: Effects,
        *,
        step: str,
        kind: type[Ask] | type[Wait] | tuple[type[Ask], type[Wait]],
    ) -> tuple[Flow, FlowContext] | None:
        flow = self.flows.get(run.flow)
        if flow is None or run.status != RunStatus.WAITING or run.step != step:
            return None
        if not isinstance(flow.steps[flow.index(step)], kind):
            return None
        person = await effects.uow.people.get(run.person_id)
        if person is None:
            return None
        cohort = await effects.uow.cohorts.get(run.cohort_id) if run.cohort_id else None
        return flow, self._context(run, person, cohort, effects)

    async def _due(
        self, task: TaskContext, kind: type[Ask] | type[Wait] | tuple[type[Ask], type[Wait]]
    ) -> tuple[Flow, FlowContext, Step] | None:
        """The run a timer of the engine's is about, if it still waits on the timer's step."""
        timer = task.payload_as(RunTimer)
        run = await task.uow.flow_runs.get(timer["run_id"], lock=True)
        if run is None:
            return None
        loaded = await self._waiting_at(run, task.effects, step=timer["step"], kind=kind)
        if loaded is None:
            return None
        flow, ctx = loaded
        return flow, ctx, flow.steps[flow.index(run.step)]

    async def _time_out(self, task: TaskContext) -> None:
        due = await self._due(task, Wait)
        if due is None:
            return
        flow, ctx, step = due
        if isinstance(step, Wait) and step.on_timeout is not None:
            await step.on_timeout(ctx)
        await self._past_wait(flow, ctx)

    async def _remind(self, task: TaskContext) -> None:
        """A reminder falls due: an Ask's question again, or what a Wait's `on_remind` does."""
        due = await self._due(task, (Ask, Wait))
        if due is None:
            return
        _flow, ctx, step = due
        if isinstance(step, Wait):
            if step.on_remind is not None:
                await step.on_remind(ctx)
            return
        assert isinstance(step, Ask)
        prompt = self._prompt(step, ctx)
        ctx.run.updated_at = ctx.effects.now  # shown again: the question on screen now
        await ctx.effects.dm(
            ctx.person.id,
            prompt.model_copy(
                update={
                    "text": f"Reminder: {prompt.text}",
                    "blocks": [Context(text="A friendly reminder"), *prompt.blocks],
                }
            ),
            ref_key=_question_ref(ctx.run.id),
        )
        ctx.effects.log(
            f"flow.{ctx.run.flow}.reminded",
            person_id=ctx.person.id,
            cohort_id=ctx.run.cohort_id,
            object_ref=f"run:{ctx.run.id}",
        )

    async def _give_up(self, task: TaskContext) -> None:
        due = await self._due(task, Ask)
        if due is None:
            return
        flow, ctx, _step = due
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


async def pause_run(run: FlowRun, effects: Effects) -> None:
    """Keep a run waiting where it is, but stop its reminders and time-outs."""
    await effects.uow.schedule.cancel_prefix(_timers_of(run.id))


async def cancel_run(run: FlowRun, effects: Effects) -> None:
    """End an unfinished run: it takes no more answers and its timers never fire."""
    move(run, RunStatus.CANCELLED)
    run.updated_at = effects.now
    await effects.uow.schedule.cancel_prefix(_timers_of(run.id))


async def cancel_runs(runs: Sequence[FlowRun], effects: Effects) -> None:
    """`cancel_run` for many runs, their timers stopped in a few statements."""
    for run in runs:
        move(run, RunStatus.CANCELLED)
        run.updated_at = effects.now
    await effects.uow.schedule.cancel_prefixes([_timers_of(run.id) for run in runs])


async def _named(raw: str, effects: Effects) -> str:
    """A lone @mention as the person's name, which is what answer buttons show."""
    mention = _MENTION.fullmatch(raw.strip())
    if mention is None or effects.origin is None:
        return raw
    found = await effects.uow.people.find_identity(
        effects.origin.platform, effects.origin.workspace, mention["id"]
    )
    return raw if found is None else found[1].display_name


def _plain_message(text: str) -> Message:
    return Message(text=text, blocks=[Section(text=text)])


def remember(run: FlowRun, **values: Any) -> None:
    """Store values in a run's data from outside its steps (a command about the run)."""
    run.data = {**run.data, **values}


def answer_buttons(ctx: FlowContext, options: list[tuple[str, str]]) -> Buttons:
    """A row of answer buttons for the run's current step: (label, value) pairs."""
    return Buttons(
        buttons=[
            ctx.answer_button(label, value, primary=index == 0)
            for index, (label, value) in enumerate(options)
        ]
    )
