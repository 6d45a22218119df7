"""What reviewers and authors do with their buttons: review, decline, rate usefulness."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.router import ActionContext, ActionHandler, FormContext, FormHandler, Interaction
from bot.config import AppConfig, ReviewConfig
from bot.model.messages import AudienceKind, Message, Section
from bot.runtime.effects import Effects
from bot.runtime.engine import FlowEngine, cancel_run
from flows.review.assign import (
    DECIDE,
    assign,
    choose,
    object_ref,
    replacement_due,
    review_config,
    task_run,
)
from flows.review.view import (
    MAX_COMMENT,
    OVERALL,
    USEFULNESS_SCALE,
    comment_field,
    compilation,
    decline_form,
    rubric_form,
    score_field,
)
from storage.models import Cohort, Person, ReviewAssignment, ReviewRequest
from storage.statuses import AssignmentStatus, ReviewStatus, move


@dataclass(frozen=True)
class _Task:
    """An assignment of the person who clicked, with its request, cohort and rubric."""

    assignment: ReviewAssignment
    request: ReviewRequest
    cohort: Cohort
    review: ReviewConfig


def _id_after_colon(identifier: str) -> int | None:
    raw = identifier.partition(":")[2]
    return int(raw) if raw.isdigit() else None


async def _load(
    ctx: Interaction, config: AppConfig, assignment_id: int | None, *, lock: bool = False
) -> _Task | None:
    """The person's own assignment, or None after telling them why not."""
    uow = ctx.effects.uow
    assignment = await uow.reviews.assignment(assignment_id, lock=lock) if assignment_id else None
    if assignment is None or assignment.reviewer_id != ctx.person.id:
        await ctx.reply("That review isn't assigned to you.")
        return None
    request = await uow.reviews.request(assignment.request_id, lock=lock)
    cohort = await uow.cohorts.get(request.cohort_id) if request else None
    review = review_config(config, cohort) if cohort else None
    if request is None or cohort is None or review is None:
        await ctx.reply("That review request no longer exists.")
        return None
    if assignment.status == AssignmentStatus.SUBMITTED:
        await ctx.reply("You've already submitted this review. Thank you!")
        return None
    if assignment.status == AssignmentStatus.DECLINED:
        await ctx.reply("You declined this review; someone else is on it.")
        return None
    if request.status != ReviewStatus.OPEN:
        await ctx.reply("That review request is closed; there is nothing left to do.")
        return None
    return _Task(assignment, request, cohort, review)


async def _clicked_task(ctx: ActionContext, config: AppConfig) -> tuple[_Task, Person] | None:
    """The assignment a button names (its value is the id), with the work's author."""
    task = await _load(ctx, config, int(ctx.value) if ctx.value.isdigit() else None)
    if task is None:
        return None
    author = await ctx.effects.uow.people.get(task.request.author_id)
    return None if author is None else (task, author)


def start_handler(config: AppConfig) -> ActionHandler:
    async def start(ctx: ActionContext) -> None:
        """Review now: the rubric form (a modal where the platform has them)."""
        found = await _clicked_task(ctx, config)
        if found is None:
            return
        task, author = found
        form = rubric_form(
            assignment=task.assignment, request=task.request, author=author, review=task.review
        )
        await ctx.effects.surface(AudienceKind.MODAL, form, person_id=ctx.person.id)

    return start


def decline_handler(config: AppConfig) -> ActionHandler:
    async def decline(ctx: ActionContext) -> None:
        """Decline: ask for an optional reason before anything changes."""
        found = await _clicked_task(ctx, config)
        if found is None:
            return
        task, author = found
        form = decline_form(assignment=task.assignment, author=author)
        await ctx.effects.surface(AudienceKind.MODAL, form, person_id=ctx.person.id)

    return decline


def decline_form_handler(config: AppConfig) -> FormHandler:
    async def declined(ctx: FormContext) -> None:
        """The assignment is declined, a replacement asked by the same rule, the author told."""
        task = await _load(ctx, config, _id_after_colon(ctx.form_id), lock=True)
        if task is None:
            return
        effects, assignment, request = ctx.effects, task.assignment, task.request
        reason = ctx.values.get("reason", "").strip()[:MAX_COMMENT] or None
        move(assignment, AssignmentStatus.DECLINED)
        assignment.declined_at = effects.now
        assignment.decline_reason = reason
        run = await task_run(effects, assignment=assignment, cohort=task.cohort)
        if run is not None:
            await cancel_run(run, effects)
        effects.log(
            "review.declined",
            person_id=ctx.person.id,
            cohort_id=request.cohort_id,
            object_ref=object_ref(request),
            data={"assignment_id": assignment.id},
        )
        await ctx.reply("Thanks for letting me know. I'll ask someone else.")
        await _replace(effects, ctx.engine, task=task, decliner=ctx.person.display_name)

    return declined


async def _replace(effects: Effects, engine: FlowEngine, *, task: _Task, decliner: str) -> None:
    uow, request = effects.uow, task.request
    everyone = {a.reviewer_id for a in await uow.reviews.assignments(request.id)}
    picked = await choose(
        effects,
        cohort=task.cohort,
        author_id=request.author_id,
        wanted=1,
        exclude=everyone,
        before_request_id=request.id,
    )
    newcomer = await uow.people.get(picked[0]) if picked else None
    if newcomer is not None:
        await assign(
            effects,
            engine=engine,
            request=request,
            reviewer=newcomer,
            cohort=task.cohort,
            due_at=replacement_due(request, effects.now),
        )
        name = newcomer.display_name
        await _tell(
            effects,
            request.author_id,
            f"{decliner} can't review your work, so I've asked {name} instead.",
        )
        return
    # Nobody else is free: the request goes on with fewer reviewers rather than waiting forever.
    request.reviewers_wanted = max(0, request.reviewers_wanted - 1)
    if request.reviewers_wanted == 0:
        move(request, ReviewStatus.CANCELLED)
        await _tell(
            effects,
            request.author_id,
            f"{decliner} can't review your work and nobody else is free right now, "
            "so I've closed the request. Try again with `/cohort review request` later.",
        )
        return
    await _tell(
        effects,
        request.author_id,
        f"{decliner} can't review your work and nobody else is free right now; "
        f"you'll get {request.reviewers_wanted} review"
        f"{'s' if request.reviewers_wanted != 1 else ''} instead.",
    )
    await complete_if_done(effects, request=request, review=task.review)


async def _tell(effects: Effects, person_id: int, text: str) -> None:
    await effects.dm(person_id, Message(text=text, blocks=[Section(text=text)]))


def _parse_review(
    values: dict[str, str], review: ReviewConfig
) -> tuple[dict[str, int], dict[str, str]] | str:
    """Scores and comments from the form, or every field that is wrong with it.

    The platforms check the same rules before the form is sent; this is the check for
    a submission that skipped them (an old form, a hand-made request).
    """
    scores: dict[str, int] = {}
    comments: dict[str, str] = {}
    wrong: list[str] = []
    for criterion in review.rubric:
        raw = values.get(score_field(criterion.id), "").strip()
        if not raw.isdigit() or not 1 <= int(raw) <= review.scale_max:
            shown = f"'{raw[:20]}'" if raw else "nothing"
            wrong.append(
                f"*{criterion.name}* needs a whole-number score from 1 to {review.scale_max} "
                f"(you gave {shown})"
            )
        else:
            scores[criterion.id] = int(raw)
        comment = values.get(comment_field(criterion.id), "").strip()
        if len(comment) > MAX_COMMENT:
            wrong.append(
                f"the comment on *{criterion.name}* is longer than {MAX_COMMENT} characters"
            )
        elif comment:
            comments[criterion.id] = comment
    overall = values.get(OVERALL, "").strip()
    if not overall:
        wrong.append("the overall comment is empty")
    elif len(overall) > MAX_COMMENT:
        wrong.append(f"the overall comment is longer than {MAX_COMMENT} characters")
    else:
        comments[OVERALL] = overall
    if wrong:
        return "; ".join(wrong)
    return scores, comments


def review_form_handler(config: AppConfig) -> FormHandler:
    async def submitted(ctx: FormContext) -> None:
        """A filled-in rubric: saved once, logged, and the author told when all are in."""
        task = await _load(ctx, config, _id_after_colon(ctx.form_id), lock=True)
        if task is None:
            return
        parsed = _parse_review(ctx.values, task.review)
        if isinstance(parsed, str):
            await ctx.reply(
                f"Sorry, {parsed}. Nothing was saved; press *Review now* to fill in the form again."
            )
            return
        effects, assignment, request = ctx.effects, task.assignment, task.request
        assignment.scores, assignment.comments = parsed
        move(assignment, AssignmentStatus.SUBMITTED)
        assignment.submitted_at = effects.now
        run = await task_run(effects, assignment=assignment, cohort=task.cohort)
        if run is not None:
            await ctx.engine.resume(run=run, effects=effects, step=DECIDE)
        turnaround = (effects.now - assignment.assigned_at).total_seconds() / 3600
        allowed = assignment.due_at - assignment.assigned_at
        effects.log(
            "review.given",
            person_id=ctx.person.id,
            cohort_id=request.cohort_id,
            object_ref=object_ref(request),
            data={
                "assignment_id": assignment.id,
                "author_id": request.author_id,
                "turnaround_hours": round(turnaround, 2),
                "allowed_hours": round(allowed.total_seconds() / 3600, 2),
                "on_time": effects.now <= assignment.due_at,
                "scores": dict(assignment.scores),
            },
        )
        if await effects.uow.participation.mark_answered(request.cohort_id, ctx.person.id):
            # Any answer ends an inactivity (see flows.common.availability).
            effects.log(
                "participant.reactivated", person_id=ctx.person.id, cohort_id=request.cohort_id
            )
        await ctx.reply("Thank you! Your review is in; the author gets it once all are done.")
        await complete_if_done(effects, request=request, review=task.review)

    return submitted


async def complete_if_done(
    effects: Effects, *, request: ReviewRequest, review: ReviewConfig
) -> bool:
    """When the wanted number of reviews is in, send the author all of them in one DM."""
    if request.status != ReviewStatus.OPEN:
        return False
    uow = effects.uow
    done = [
        a
        for a in await uow.reviews.assignments(request.id)
        if a.status == AssignmentStatus.SUBMITTED
    ]
    if len(done) < request.reviewers_wanted or not done:
        return False
    move(request, ReviewStatus.COMPLETE)
    request.completed_at = effects.now
    people = await uow.people.by_ids([a.reviewer_id for a in done])
    reviews = [(a, people[a.reviewer_id]) for a in done if a.reviewer_id in people]
    await effects.dm(
        request.author_id, compilation(request=request, reviews=reviews, review=review)
    )
    effects.log(
        "review.completed",
        person_id=request.author_id,
        cohort_id=request.cohort_id,
        object_ref=object_ref(request),
        data={"reviews": len(done)},
    )
    return True


async def rate(ctx: ActionContext) -> None:
    """The author's 1-5 on how useful one review was; once per review."""
    uow = ctx.effects.uow
    assignment_id = _id_after_colon(ctx.action_id)
    assignment = await uow.reviews.assignment(assignment_id, lock=True) if assignment_id else None
    request = await uow.reviews.request(assignment.request_id) if assignment else None
    if assignment is None or request is None or request.author_id != ctx.person.id:
        await ctx.reply("Only the author can rate this review.")
        return
    if assignment.status != AssignmentStatus.SUBMITTED:
        await ctx.reply("That review hasn't been submitted.")
        return
    if not ctx.value.isdigit() or not 1 <= int(ctx.value) <= USEFULNESS_SCALE:
        await ctx.reply(f"Rate usefulness from 1 to {USEFULNESS_SCALE}.")
        return
    if assignment.usefulness is not None:
        await ctx.reply(f"You've already rated this review {assignment.usefulness} of 5.")
        return
    assignment.usefulness, assignment.rated_at = int(ctx.value), ctx.effects.now
    ctx.effects.log(
        "review.rated",
        person_id=ctx.person.id,
        cohort_id=request.cohort_id,
        object_ref=object_ref(request),
        data={
            "assignment_id": assignment.id,
            "reviewer_id": assignment.reviewer_id,
            "usefulness": assignment.usefulness,
        },
    )
    reviewer = await uow.people.get(assignment.reviewer_id)
    name = reviewer.display_name if reviewer else "the reviewer"
    await ctx.reply(f"Thanks! You rated {name}'s review {assignment.usefulness} of 5.")
