"""Which open question a typed DM answers: the one the person sees last.

A person may have several questions open at once (a survey left half done, a
commitment, this week's check-in, a rating). Their messages are read newest first: the
last question shown is on screen. A reply is checked against every open question:
- it fits only the one on screen: it answers it;
- it fits the one on screen and others too: the person is asked which, with buttons
  bound to each question (the buttons carry the reply), unless they are in the middle
  of the conversation on screen (it asks its second or later question);
- it does not fit the one on screen: it is refused with that question's reason, and
  the question is asked again. An older question never takes a reply meant for a newer
  one; it is asked again a little after the newer one is answered.
Questions other features ask with their own buttons or ratings count too, but only
while they are the newest message the person has.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.model.messages import FORM_OPEN_ACTION, Button, Buttons, Message, Rating, Section
from bot.runtime.effects import Effects
from bot.runtime.engine import (
    ANSWER_ACTION,
    QUESTION_REF,
    SELECT_ACTION,
    FlowEngine,
    encode_answer,
)
from bot.runtime.natural import Offered, control_word, offered, pick
from storage.models import FlowRun, OutboxMessage, Person

Invoke = Callable[[str, str], Awaitable[None]]
"""Click a button for the person: (action id, value)."""

RECENT_MESSAGES = 50
LABEL_LENGTH = 70
"""Buttons show about 75 characters on Slack; a question's text is cut to fit."""
MAX_CARRIED = 1900
"""A reply longer than this cannot ride on a button (Slack keeps 2,000 characters)."""
_DIRECT = ("dm", "ephemeral")


@dataclass
class _Question:
    """One open question: an engine run's, or another feature's buttons in a DM."""

    label: str
    run: FlowRun | None = None
    message: Message | None = None
    options: tuple[Offered, ...] = ()
    rates: bool = False
    """Another feature's rating: a question whatever the person types."""


def _foreign(action_id: str) -> bool:
    """A control another feature handles (not the engine's own answers, not a form opener)."""
    return action_id not in (ANSWER_ACTION, FORM_OPEN_ACTION) and not action_id.startswith(
        SELECT_ACTION
    )


def _label(message: Message) -> str:
    text = " ".join(message.text.split())
    return text if len(text) <= LABEL_LENGTH else text[: LABEL_LENGTH - 1].rstrip() + "…"


@dataclass
class TypedReply:
    """Routes one typed DM to the question it answers."""

    engine: FlowEngine
    person: Person
    effects: Effects
    invoke: Invoke
    """How a reply to another feature's buttons is applied: as a click on them."""

    async def answer(self, text: str) -> bool:
        """Answer, ask which, or refuse; False when no question is open (nothing done)."""
        on_screen, older = await self._open_questions()
        if on_screen is None:
            return False
        older_runs = [q.run for q in older if q.run is not None]
        if on_screen.run is not None and control_word(text) is not None:
            return await self._apply(on_screen, text, older_runs)
        reason = await self._misfit(on_screen, text)
        if reason is not None and on_screen.run is None and not on_screen.rates:
            # Buttons that merely offer something (a thank-you's "I'd like help") are not
            # a question waiting for the text: the open questions behind them are.
            on_screen, older = (older[0], older[1:]) if older else (None, [])
            if on_screen is None:
                return False
            older_runs = [q.run for q in older if q.run is not None]
            reason = await self._misfit(on_screen, text)
        if reason is not None:
            await self._refuse(on_screen, reason)
            return True
        if on_screen.run is not None and self.engine.under_way(on_screen.run):
            # Mid-conversation, the next reply belongs to it: no need to ask which.
            return await self._apply(on_screen, text, older_runs)
        also = [q for q in older if await self._misfit(q, text) is None]
        if also and len(text) <= MAX_CARRIED:
            await self._ask_which(text, [on_screen, *also])
            return True
        return await self._apply(on_screen, text, older_runs)

    async def _open_questions(self) -> tuple[_Question | None, list[_Question]]:
        """The question on screen, and the other open ones, most recently shown first."""
        uow = self.effects.uow
        runs = {}
        for run in sorted(
            await uow.flow_runs.waiting(self.person.id),
            key=lambda r: (r.updated_at, r.id),
            reverse=True,
        ):
            asked = await self.engine.question(run=run, person=self.person, effects=self.effects)
            if asked is not None:
                runs[run.id] = _Question(label=_label(asked), run=run)
        rows = [
            row
            for row in await uow.outbox.for_person(self.person.id, limit=RECENT_MESSAGES)
            if row.target.get("kind") in _DIRECT and row.update_of_key is None
        ]
        on_screen = self._newest_foreign(rows[0]) if rows else None
        if on_screen is None:
            on_screen = self._newest_run_question(rows, runs)
        older = [q for q in runs.values() if q is not on_screen]
        if on_screen is None and older:
            on_screen = older.pop(0)
        return on_screen, older

    @staticmethod
    def _newest_foreign(row: OutboxMessage) -> _Question | None:
        message = Message.model_validate(row.message)
        options = offered(message, owns=_foreign)
        if not options:
            return None
        rates = any(isinstance(block, Rating) for block in message.blocks)
        return _Question(
            label=_label(message), message=message, options=tuple(options), rates=rates
        )

    @staticmethod
    def _newest_run_question(
        rows: list[OutboxMessage], runs: dict[int, _Question]
    ) -> _Question | None:
        for row in rows:
            prefix, _, run_id = (row.ref_key or "").partition(":")
            if prefix == QUESTION_REF and run_id.isdigit() and int(run_id) in runs:
                return runs[int(run_id)]
        return None

    async def _misfit(self, question: _Question, text: str) -> str | None:
        """Why the text does not answer the question (None: it does)."""
        if question.run is not None:
            return await self.engine.check(
                run=question.run, person=self.person, raw=text, effects=self.effects
            )
        if pick(text, list(question.options)) is not None:
            return None
        return _options_reason(text, question.options)

    async def _refuse(self, question: _Question, reason: str) -> None:
        """Say why, and show the question on screen again."""
        if question.run is not None:
            await self.engine.ask_again(
                run=question.run,
                person=self.person,
                effects=self.effects,
                preface=f"Sorry, {reason}",
            )
            return
        assert question.message is not None
        message = question.message
        preface = f"Sorry, {reason}."
        await self.effects.dm(
            self.person.id,
            message.model_copy(
                update={
                    "text": f"{preface}\n{message.text}",
                    "blocks": [Section(text=preface), *message.blocks],
                }
            ),
        )

    async def _apply(self, question: _Question, text: str, older: list[FlowRun]) -> bool:
        """Answer the question on screen; then an older open one is shown again."""
        if question.run is not None:
            run = await self.effects.uow.flow_runs.get(question.run.id, lock=True)
            if run is None:
                return False
            await self.engine.answer(run=run, person=self.person, raw=text, effects=self.effects)
            if await self.engine.question(run=run, person=self.person, effects=self.effects):
                return True  # the same conversation asks its next question
        else:
            chosen = pick(text, list(question.options))
            assert chosen is not None
            await self.invoke(chosen.action_id, chosen.value)
        if older:
            await self.engine.ask_again_later(run=older[0], effects=self.effects)
        return True

    async def _ask_which(self, text: str, questions: list[_Question]) -> None:
        shown = text if len(text) <= 60 else text[:59] + "…"
        ask = f"You have {len(questions)} questions open. Which one does “{shown}” answer?"
        buttons = []
        for index, question in enumerate(questions):
            if question.run is not None:
                action_id = ANSWER_ACTION
                value = encode_answer(question.run.id, question.run.step, text)
            else:
                chosen = pick(text, list(question.options))
                assert chosen is not None
                action_id, value = chosen.action_id, chosen.value
            buttons.append(
                Button(
                    label=question.label,
                    action_id=action_id,
                    value=value,
                    style="primary" if index == 0 else "default",
                )
            )
        await self.effects.dm(
            self.person.id,
            Message(text=ask, blocks=[Section(text=ask), Buttons(buttons=buttons)]),
        )


def _options_reason(text: str, options: tuple[Offered, ...]) -> str:
    labels = ", ".join(dict.fromkeys(o.label for o in options))
    if options and all(o.label.isdigit() for o in options):
        return f"“{text.strip()}” is not a rating from {options[0].label} to {options[-1].label}"
    return f"“{text.strip()}” is not one of the options ({labels}); use the buttons above"
