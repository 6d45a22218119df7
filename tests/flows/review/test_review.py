"""Peer reviews in the playground: request, assign, rubric, compile, rate, decline, remind."""

from __future__ import annotations

from datetime import timedelta

from flows.review.view import score_field
from storage.models import ReviewAssignment
from storage.uow import unit_of_work
from tests.flows.checkin.checkin_helpers import join, shipped
from tests.flows.review.review_helpers import (
    active_timers,
    assignments,
    dms_containing,
    ids,
    invitations,
    last_reply,
    logged,
    open_form,
    request_review,
    requests,
    review,
    review_rows,
    reviewers_of,
    rubric_values,
    submit_form,
)
from tests.harness import START, running_bot

DECK = "https://example.com/deck"


async def test_two_peers_score_the_rubric_and_the_author_rates_the_compiled_reviews(
    database_url: str,
) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya", "jordan")
        alex, priya, jordan = await ids(playground, "alex", "priya", "jordan")
        await request_review(playground, "alex", DECK)

        assert (await last_reply(playground, "alex")).startswith(
            "Review requested: I've asked Priya Raman and Jordan Lee, due Monday 07 December"
        )
        (request,) = await requests(playground)
        assert (request.author_id, request.artifact, request.reviewers_wanted, request.status) == (
            alex,
            DECK,
            2,
            "open",
        )
        assert request.due_at == START + timedelta(days=14)
        for reviewer in ("priya", "jordan"):
            (invite,) = await invitations(playground, reviewer)
            blocks = str(invite["message"]["blocks"])
            assert DECK in blocks
            assert "Clear message" in blocks
            assert "Call to action" in blocks

        await playground.advance(timedelta(hours=30))
        await review(playground, "priya", rubric_values(overall="Strong opening"))
        assert await dms_containing(playground, "alex", "Your peer reviews are in") == []
        await review(
            playground,
            "jordan",
            rubric_values(
                {"message": "2", "structure": "3", "delivery": "4", "call_to_action": "1"},
                overall="Needs a clearer ask",
            ),
        )

        compiled = (await playground.from_bot("alex", where="dm"))[-1]
        assert compiled["message"]["text"].startswith("Your peer reviews are in: 2 reviews")
        blocks = compiled["message"]["blocks"]
        averages = dict(next(b for b in blocks if b["type"] == "fields")["items"])
        assert averages["Clear message"] == "3.0 of 4 (4, 2)"
        assert averages["Call to action"] == "2.0 of 4 (3, 1)"
        sections = " ".join(b.get("text", "") for b in blocks if b["type"] == "section")
        assert "Review by Priya Raman" in sections
        assert "Strong opening" in sections
        assert "Needs a clearer ask" in sections
        assert "delivery note" in sections
        ratings = [b for b in blocks if b["type"] == "rating"]
        assert [r["label"] for r in ratings] == [
            "How useful was Priya Raman's review?",
            "How useful was Jordan Lee's review?",
        ]

        for rating, value in zip(ratings, ("5", "3"), strict=True):
            await playground.post(
                "action",
                {
                    "person": "alex",
                    "message_id": compiled["id"],
                    "action_id": rating["action_id"],
                    "value": value,
                },
            )
            await playground.bot.settle()
        assert (await playground.dm_texts("alex"))[-1] == (
            "Thanks! You rated Jordan Lee's review 3 of 5."
        )

        (request,) = await requests(playground)
        assert request.status == "complete"
        assert request.completed_at is not None
        rows = {a.reviewer_id: a for a in await assignments(playground)}
        assert rows[priya].status == rows[jordan].status == "submitted"
        assert rows[priya].scores == {
            "message": 4,
            "structure": 3,
            "delivery": 2,
            "call_to_action": 3,
        }
        assert rows[priya].comments["overall"] == "Strong opening"
        assert rows[priya].comments["delivery"] == "delivery note"
        assert (rows[priya].usefulness, rows[jordan].usefulness) == (5, 3)
        assert rows[priya].rated_at is not None
        assert await active_timers(playground) == [], "no reminders after the reviews are in"

        (requested,) = await logged(playground, "review.requested")
        assert (requested.person_id, requested.object) == (alex, f"review:{request.id}")
        assert requested.data == {"reviewers": 2, "due_at": request.due_at.isoformat()}
        assigned = await logged(playground, "review.assigned")
        assert [(a.person_id, a.data) for a in assigned] == [
            (priya, {"assignment_id": rows[priya].id}),
            (jordan, {"assignment_id": rows[jordan].id}),
        ]
        given = {g.person_id: g.data for g in await logged(playground, "review.given")}
        assert given[priya] == {
            "assignment_id": rows[priya].id,
            "author_id": alex,
            "turnaround_hours": 30.0,
            "allowed_hours": 14 * 24.0,
            "on_time": True,
            "scores": rows[priya].scores,
        }
        (completed,) = await logged(playground, "review.completed")
        assert (completed.person_id, completed.data) == (alex, {"reviews": 2})
        rated = await logged(playground, "review.rated")
        assert [r.data for r in rated] == [
            {"assignment_id": rows[priya].id, "reviewer_id": priya, "usefulness": 5},
            {"assignment_id": rows[jordan].id, "reviewer_id": jordan, "usefulness": 3},
        ]
        assert all(r.person_id == alex for r in rated)


async def test_reviewers_with_the_fewest_open_reviews_are_picked_and_never_the_author(
    database_url: str,
) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya", "jordan", "lena")
        alex, priya, jordan, lena = await ids(playground, "alex", "priya", "jordan", "lena")
        await request_review(playground, "alex", DECK)
        await request_review(playground, "lena", "my slides")
        await request_review(playground, "priya", "a memo --reviewers 3")

        first, second, third = await requests(playground)
        assert sorted(await reviewers_of(playground, first.id)) == sorted([priya, jordan])
        # alex had no open review; priya and jordan one each: the tie goes to the lower id.
        assert sorted(await reviewers_of(playground, second.id)) == sorted([alex, priya])
        assert priya not in await reviewers_of(playground, third.id)
        assert sorted(await reviewers_of(playground, third.id)) == sorted([alex, jordan, lena])


async def test_the_same_reviewer_is_not_assigned_twice_in_a_row_when_others_are_free(
    database_url: str,
) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya", "jordan")
        priya, jordan = await ids(playground, "priya", "jordan")
        await request_review(playground, "alex", "draft one --reviewers 1")
        await review(playground, "priya")
        await request_review(playground, "alex", "draft two --reviewers 1")
        await request_review(playground, "alex", "draft three --reviewers 1")

        one, two, three = await requests(playground)
        assert await reviewers_of(playground, one.id) == [priya]
        assert await reviewers_of(playground, two.id) == [jordan], "priya reviewed alex last time"
        assert await reviewers_of(playground, three.id) == [priya], "jordan reviewed alex last time"


async def test_the_only_free_peer_reviews_again_when_nobody_else_can(database_url: str) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya")
        (priya,) = await ids(playground, "priya")
        await request_review(playground, "alex", "draft one --reviewers 1")
        await request_review(playground, "alex", "draft two --reviewers 1")

        one, two = await requests(playground)
        assert await reviewers_of(playground, one.id) == await reviewers_of(playground, two.id)
        assert await reviewers_of(playground, two.id) == [priya]


async def test_named_reviewers_are_asked_and_extra_ones_are_balanced(database_url: str) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya", "jordan", "lena", "tom")
        alex, lena, tom = await ids(playground, "alex", "lena", "tom")
        await request_review(playground, "alex", f"{DECK} @lena @tom")
        await request_review(playground, "jordan", "notes @tom --reviewers 2")

        one, two = await requests(playground)
        assert one.artifact == DECK
        assert one.reviewers_wanted == 2
        assert await reviewers_of(playground, one.id) == [lena, tom]
        assert await reviewers_of(playground, two.id) == [tom, alex]
        assert len(await invitations(playground, "tom")) == 2


async def test_away_and_inactive_participants_are_skipped(database_url: str) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya", "jordan", "lena", "tom")
        jordan, lena, tom = await ids(playground, "jordan", "lena", "tom")
        await playground.say("priya", "/cohort away for 2w")
        async with unit_of_work(playground.bot.sessions) as uow:
            (cohort,) = await uow.cohorts.all()
            membership = await uow.participation.membership(cohort.id, lena)
            assert membership is not None
            membership.inactive_since = START
        await request_review(playground, "alex", DECK)

        (request,) = await requests(playground)
        assert sorted(await reviewers_of(playground, request.id)) == sorted([jordan, tom])
        await request_review(playground, "alex", "deck @priya")
        assert await last_reply(playground, "alex") == (
            "<@priya> is away or inactive right now; name someone else."
        )


async def test_a_declined_review_is_reassigned_to_another_peer(database_url: str) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya", "jordan", "lena")
        priya, jordan, lena = await ids(playground, "priya", "jordan", "lena")
        await request_review(playground, "alex", DECK)
        form = await open_form(playground, "priya", "Decline")
        assert form["message"]["form_id"].startswith("review.decline_form:")
        await submit_form(playground, "priya", form, {"reason": "On leave next week"})

        declined, kept, replacement = await assignments(playground)
        assert (declined.reviewer_id, declined.status) == (priya, "declined")
        assert declined.decline_reason == "On leave next week"
        assert declined.declined_at
        assert (kept.reviewer_id, kept.status) == (jordan, "assigned")
        assert (replacement.reviewer_id, replacement.status) == (lena, "assigned")
        assert len(await invitations(playground, "lena")) == 1
        assert (await playground.dm_texts("alex"))[-1] == (
            "Priya Raman can't review your work, so I've asked Lena Vogel instead."
        )
        assert [d.data for d in await logged(playground, "review.declined")] == [
            {"assignment_id": declined.id}
        ]
        assert await active_timers(playground, declined.id) == []
        assert await active_timers(playground, replacement.id) != []

        await playground.click("priya", (await invitations(playground, "priya"))[-1], "Review now")
        assert (await playground.dm_texts("priya"))[-1] == (
            "You declined this review; someone else is on it."
        )

        await review(playground, "jordan")
        await review(playground, "lena")
        (request,) = await requests(playground)
        assert request.status == "complete"
        assert await dms_containing(playground, "alex", "Your peer reviews are in: 2 reviews")


async def test_a_decline_with_nobody_left_shrinks_the_request(database_url: str) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya", "jordan")
        await request_review(playground, "alex", DECK)
        await review(playground, "jordan")
        await submit_form(playground, "priya", await open_form(playground, "priya", "Decline"), {})

        (request,) = await requests(playground)
        assert (request.reviewers_wanted, request.status) == (1, "complete")
        texts = await playground.dm_texts("alex")
        assert texts[-2] == (
            "Priya Raman can't review your work and nobody else is free right now; "
            "you'll get 1 review instead."
        )
        assert texts[-1].startswith("Your peer reviews are in: 1 review of")


async def test_reviewers_are_reminded_at_half_and_ninety_percent_and_not_after_submitting(
    database_url: str,
) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya", "jordan")
        await request_review(playground, "alex", f"{DECK} --due 10d")

        await playground.advance(timedelta(days=4, hours=23))
        assert await dms_containing(playground, "priya", "Reminder: your peer review") == []
        await playground.advance(timedelta(hours=1))
        for reviewer in ("priya", "jordan"):
            (text,) = await dms_containing(playground, reviewer, "Reminder: your peer review")
            assert text.startswith("Reminder: your peer review for Alex Schneider is due")

        await review(playground, "priya")
        await playground.advance(timedelta(days=4))
        assert len(await dms_containing(playground, "jordan", "Reminder: your peer review")) == 2
        assert len(await dms_containing(playground, "priya", "Reminder: your peer review")) == 1
        await playground.advance(timedelta(days=5))
        assert len(await dms_containing(playground, "jordan", "Reminder: your peer review")) == 2
        await review(playground, "jordan")
        late = {g.data["on_time"] for g in await logged(playground, "review.given")}
        assert late == {True, False}, "priya was on time, jordan four days late"

        priya_row, jordan_row = await assignments(playground)
        assert (priya_row.reminders_sent, jordan_row.reminders_sent) == (1, 2)
        assert jordan_row.due_at == START + timedelta(days=10)


async def test_reminder_timers_survive_a_restart(database_url: str) -> None:
    config = shipped(database_url)
    async with running_bot(config) as playground:
        await join(playground, "alex", "priya", "jordan")
        await request_review(playground, "alex", f"{DECK} --due 4d")
        clock = playground.clock

    clock.advance(timedelta(days=2, minutes=1))
    async with running_bot(config, clock=clock) as reopened:
        await reopened.bot.settle()
        for reviewer in ("priya", "jordan"):
            (text,) = await dms_containing(reopened, reviewer, "Reminder: your peer review")
            assert "Alex Schneider" in text
        rows: list[ReviewAssignment] = await assignments(reopened)
        assert [a.reminders_sent for a in rows] == [1, 1]
        assert len(await logged(reopened, "review.reminded")) == 2


async def test_a_rubric_with_a_bad_score_is_refused_and_nothing_is_saved(
    database_url: str,
) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya", "jordan")
        await request_review(playground, "alex", DECK)
        form = await open_form(playground, "priya")
        bad = rubric_values(
            {"message": "5", "structure": "3", "delivery": "2", "call_to_action": "3"}
        )
        answer = await submit_form(playground, "priya", form, bad)
        assert answer == {
            "ok": False,
            "errors": {score_field("message"): "Please choose one of the options."},
        }
        answer = await submit_form(playground, "priya", form, rubric_values(overall="  "))
        assert answer["errors"] == {"overall": "Please fill this in (not just spaces)."}
        assert {a.status for a in await assignments(playground)} == {"assigned"}
        assert not [t for t in await playground.dm_texts("priya") if "review is in" in t]
        assert await logged(playground, "review.given") == []

        await submit_form(playground, "priya", form, rubric_values())
        await submit_form(playground, "priya", form, rubric_values())
        assert (await playground.dm_texts("priya"))[-1] == (
            "You've already submitted this review. Thank you!"
        )
        assert len(await logged(playground, "review.given")) == 1
        theirs = (await invitations(playground, "jordan"))[-1]
        await submit_form(
            playground,
            "jordan",
            {**theirs, "message": {"form_id": form["message"]["form_id"]}},
            rubric_values(),
        )
        assert (await playground.dm_texts("jordan"))[-1] == "That review isn't assigned to you."


async def test_bad_requests_get_a_clear_reply_and_write_nothing(database_url: str) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya")
        cases = {
            "": "What should be reviewed? Add a link or a short text.",
            f"{DECK} --due soon": "--due:",
            f"{DECK} --due 0d": "--due",
            f"{DECK} --reviewers 0": "--reviewers must be between 1 and 10.",
            f"{DECK} @tom": "<@tom> isn't a participant of Pilot cohort A.",
            f"{DECK} @alex": "You can't review your own work; name other participants.",
            f"{DECK} @priya --reviewers 3": "Not enough reviewers: you asked for 3, but only 1",
            DECK: "Not enough reviewers: you asked for 2, but only 1 other participant",
        }
        for rest, expected in cases.items():
            await request_review(playground, "alex", rest)
            assert expected in await last_reply(playground, "alex"), rest
        assert await review_rows(playground) == 0
        assert await active_timers(playground) == []


async def test_reviews_lists_my_requests_and_my_open_review_tasks(database_url: str) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya", "jordan")
        await playground.say("alex", "/cohort reviews", channel=None)
        assert (await playground.dm_texts("alex"))[-1].startswith("You have no review requests")

        await request_review(playground, "alex", DECK)
        await review(playground, "priya")
        await request_review(playground, "jordan", "my memo --reviewers 1")
        await playground.say("alex", "/cohort reviews")

        listing = (await playground.dm_texts("alex"))[-1]
        assert "*Your review requests*" in listing
        assert f"• {DECK}: open, due Monday 07 December" in listing
        assert "Priya Raman reviewed, Jordan Lee to do" in listing
        assert "*Reviews you've been asked to give*\n• For Jordan Lee: my memo, due" in listing


async def test_a_deadline_names_the_time_zone_it_is_shown_in(database_url: str) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya", "jordan")
        await request_review(playground, "alex", f"{DECK} --due 3d @priya --reviewers 1")

        assert "due Thursday 26 November 09:00 CET" in await last_reply(playground, "alex")
        (invite,) = await invitations(playground, "priya")
        assert "due Thursday 26 November 13:30 IST" in invite["message"]["text"]


async def test_the_decline_form_says_optional_once(database_url: str) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya", "jordan")
        await request_review(playground, "alex", DECK)
        form = await open_form(playground, "priya", "Decline")

        (reason,) = [b for b in form["message"]["blocks"] if b["type"] == "text_input"]
        assert reason["optional"] is True, "each platform marks an optional field itself"
        assert "optional" not in reason["label"].lower()


async def test_a_review_form_names_every_bad_score_and_stays_open(database_url: str) -> None:
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya", "jordan")
        await request_review(playground, "alex", DECK)
        form = await open_form(playground, "priya")
        values = rubric_values(
            {"message": "0", "structure": "", "delivery": "2", "call_to_action": "x"},
            overall=" ",
        )
        answer = await submit_form(playground, "priya", form, values)

        assert answer["ok"] is False
        assert set(answer["errors"]) == {
            score_field("message"),
            score_field("structure"),
            score_field("call_to_action"),
            "overall",
        }
        assert await playground.last_dm("priya") == form  # still the form, nothing said
        assert {a.status for a in await assignments(playground)} == {"assigned"}
        assert await logged(playground, "review.given") == []


async def test_rubric_scores_are_selects_on_every_platform(database_url: str) -> None:
    """The playground's form; Slack and Teams render the same fields (see their tests)."""
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya", "jordan")
        await request_review(playground, "alex", DECK)
        form = await open_form(playground, "priya")
        fields = {b["field_id"]: b for b in form["message"]["blocks"] if "field_id" in b}
        score = fields[score_field("structure")]
        assert [c["value"] for c in score["choices"]] == ["1", "2", "3", "4"]
        assert score["hint"] == ("Opening, body and close are easy to follow and fit in 5 minutes.")
        assert fields["overall"]["choices"] == []


async def test_the_compiled_reviews_link_the_work_in_full_and_carry_no_italic_markup(
    database_url: str,
) -> None:
    long_url = "https://example.com/decks/" + "storytelling-for-engineers-" * 4 + "final"
    async with running_bot(shipped(database_url)) as playground:
        await join(playground, "alex", "priya", "jordan")
        await request_review(playground, "alex", long_url)
        await review(playground, "priya", rubric_values(overall="Strong opening"))
        await review(playground, "jordan", rubric_values(overall="Needs a clearer ask"))

        compiled = (await playground.from_bot("alex", where="dm"))[-1]
        sections = [b["text"] for b in compiled["message"]["blocks"] if b["type"] == "section"]
        assert f"<{long_url}>" in sections[0]
        assert "*Overall:* Strong opening" in "\n".join(sections)
        assert not any(line.startswith("_") for text in sections for line in text.splitlines())
