"""`/cohort review request` (validate, pick reviewers, assign) and `/cohort reviews`."""

from __future__ import annotations

from datetime import timedelta

from bot.commands.router import WHICH_COHORT, CommandContext
from bot.config import AppConfig, ReviewConfig
from bot.model.messages import Context, Section
from flows.review.assign import assign, available_reviewers, choose, object_ref, review_config
from flows.review.view import local_time, short
from storage.models import Cohort, Person
from storage.statuses import AssignmentStatus

MAX_REVIEWERS = 10
MAX_ARTIFACT = 2000
SHORTEST_DUE = timedelta(hours=1)
LONGEST_DUE = timedelta(days=90)


async def _named_reviewers(ctx: CommandContext, cohort: Cohort) -> list[Person] | str:
    """The people mentioned in the command, or what is wrong with one of them."""
    origin = ctx.effects.origin
    if origin is None:
        raise RuntimeError("a command always has an origin")
    uow = ctx.effects.uow
    available = set(await available_reviewers(ctx.effects, cohort))
    named: dict[int, Person] = {}
    for mention in ctx.command.mentions:
        found = await uow.people.find_identity(origin.platform, origin.workspace, mention.user_id)
        who = f"<@{mention.user_id}>"
        if found is None:
            return f"I don't know {who} yet; they need to join {cohort.name} first."
        person = found[1]
        if person.id == ctx.person.id:
            return "You can't review your own work; name other participants."
        if await uow.participation.membership(cohort.id, person.id) is None:
            return f"{who} isn't a participant of {cohort.name}."
        if person.id not in available:
            return f"{who} is away or inactive right now; name someone else."
        named[person.id] = person
    return list(named.values())


async def request_review(ctx: CommandContext, *, config: AppConfig) -> None:
    """Validate everything first, so a bad request writes nothing; then record and assign."""
    cohort = ctx.cohort
    review = review_config(config, cohort) if cohort else None
    if cohort is None or review is None:
        await ctx.reply(WHICH_COHORT)
        return
    usage = ctx.spec.usage_line()
    artifact = " ".join(ctx.command.args[1:]).strip()
    if not artifact:
        await ctx.reply(f"What should be reviewed? Add a link or a short text.\nUsage: {usage}")
        return
    if len(artifact) > MAX_ARTIFACT:
        await ctx.reply(f"That is too long to send around: share a link instead.\nUsage: {usage}")
        return
    due_in = ctx.command.duration("due") or timedelta(days=review.due_days)
    if not SHORTEST_DUE <= due_in <= LONGEST_DUE:
        await ctx.reply("--due must be between 1 hour and 90 days, like `--due 7d`.")
        return
    named = await _named_reviewers(ctx, cohort)
    if isinstance(named, str):
        await ctx.reply(named)
        return
    wanted = ctx.command.integer("reviewers")
    if wanted is None:
        wanted = len(named) or review.reviewers_per_request
    if not max(1, len(named)) <= wanted <= MAX_REVIEWERS:
        await ctx.reply(
            f"--reviewers must be between {max(1, len(named))} and {MAX_REVIEWERS}"
            + (" (at least the people you named)." if named else ".")
        )
        return
    picked = await choose(
        ctx.effects,
        cohort=cohort,
        author_id=ctx.person.id,
        wanted=wanted - len(named),
        exclude={person.id for person in named},
    )
    reviewer_ids = [person.id for person in named] + picked
    if len(reviewer_ids) < wanted:
        free = len(named) + len(picked)
        await ctx.reply(
            f"Not enough reviewers: you asked for {wanted}, but only {free} other "
            f"participant{'s' if free != 1 else ''} of {cohort.name} can review right now "
            "(people who are away or inactive are skipped)."
            + (f" Try `--reviewers {free}`." if free else "")
        )
        return
    await _record(
        ctx,
        cohort=cohort,
        review=review,
        artifact=artifact,
        due_in=due_in,
        reviewer_ids=reviewer_ids,
    )


async def _record(
    ctx: CommandContext,
    *,
    cohort: Cohort,
    review: ReviewConfig,
    artifact: str,
    due_in: timedelta,
    reviewer_ids: list[int],
) -> None:
    effects = ctx.effects
    due_at = effects.now + due_in
    request = await effects.uow.reviews.create_request(
        cohort_id=cohort.id,
        author_id=ctx.person.id,
        artifact=artifact,
        reviewers_wanted=len(reviewer_ids),
        due_at=due_at,
        now=effects.now,
    )
    effects.log(
        "review.requested",
        person_id=ctx.person.id,
        cohort_id=cohort.id,
        object_ref=object_ref(request),
        data={"reviewers": len(reviewer_ids), "due_at": due_at.isoformat()},
    )
    people = await effects.uow.people.by_ids(reviewer_ids)
    for reviewer_id in reviewer_ids:
        await assign(
            effects,
            engine=ctx.engine,
            request=request,
            reviewer=people[reviewer_id],
            cohort=cohort,
            due_at=due_at,
        )
    names = [people[pid].display_name for pid in reviewer_ids if pid in people]
    who = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    await ctx.reply(
        f"Review requested: I've asked {who}, due {local_time(due_at, ctx.person.time_zone)}. "
        "You'll get all the reviews in one message.",
        blocks=[
            Section(text=f"*Review requested:* I've asked {who}."),
            Context(
                text=f"Due {local_time(due_at, ctx.person.time_zone)}. "
                "`/cohort reviews` shows who has reviewed."
            ),
        ],
    )


async def reviews_command(ctx: CommandContext) -> None:
    """The person's requests (status, who has reviewed) and open review tasks, ephemeral."""
    uow, zone = ctx.effects.uow, ctx.person.time_zone
    lines: list[str] = []
    requests = await uow.reviews.requests_by(ctx.person.id)
    if requests:
        lines.append("*Your review requests*")
    for request in requests:
        assignments = await uow.reviews.assignments(request.id)
        people = await uow.people.by_ids([a.reviewer_id for a in assignments])
        states = [
            f"{people[a.reviewer_id].display_name} {_STATE[AssignmentStatus(a.status)]}"
            for a in assignments
            if a.reviewer_id in people
        ]
        lines.append(
            f"• {short(request.artifact, 60)}: {request.status}, due "
            f"{local_time(request.due_at, zone)}; " + ", ".join(states)
        )
    tasks = await uow.reviews.open_tasks(ctx.person.id)
    if tasks:
        lines.append("*Reviews you've been asked to give*")
    authors = await uow.people.by_ids([request.author_id for _, request in tasks])
    for assignment, request in tasks:
        author = authors.get(request.author_id)
        lines.append(
            f"• For {author.display_name if author else 'a peer'}: "
            f"{short(request.artifact, 60)}, due {local_time(assignment.due_at, zone)}"
        )
    if not lines:
        await ctx.reply(
            "You have no review requests or reviews to give. "
            "Ask for one with `/cohort review request <link or text>`."
        )
        return
    await ctx.reply("\n".join(lines), blocks=[Section(text="\n".join(lines))])


_STATE = {
    AssignmentStatus.ASSIGNED: "to do",
    AssignmentStatus.DECLINED: "declined",
    AssignmentStatus.SUBMITTED: "reviewed",
}
