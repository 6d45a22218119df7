"""Moderation and escalation through the playground on a manual clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.config import ConfigError, parse_config
from bot.model.events import ActionInvoked, Actor
from flows.escalation.sweep import sweep_key
from storage.models import Escalation
from storage.repositories.escalations import NewEscalation
from storage.repositories.outbox import OutboxRow
from storage.uow import UnitOfWork, unit_of_work
from tests.conftest import PILOT_CONFIG
from tests.flows.escalation.escalation_helpers import (
    audit,
    audit_trail,
    buttons,
    escalations,
    flag,
    pings,
    rude_message,
    verbs,
)
from tests.harness import Playground, demo_config, running_bot

SLA = timedelta(hours=4)


async def flagged_by_jordan(playground: Playground) -> None:
    await playground.say("alex", "/cohort join pilot-a")
    await playground.say("jordan", "/cohort join pilot-a")
    await flag(playground, "jordan", await rude_message(playground), note="#conduct please look")


async def test_flag_pings_the_moderators_with_who_what_and_the_deadline(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await flagged_by_jordan(playground)

        (card,) = await pings(playground, "sam")
        text = str(card["message"])
        assert card["message"]["text"].startswith("Flagged message #1 in Pilot cohort A")
        assert "nobody here knows what they are doing" in text
        assert "Jordan Lee" in text
        assert "Alex Schneider" in text
        assert "#conduct" in text
        assert "Mon 23 Nov 13:00 CET" in text  # 08:00 UTC + 4 h, in Berlin
        assert buttons(card) == ["Acknowledge", "Resolve"]
        (row,) = await escalations(playground)
        assert (row.kind, row.tag, row.status, row.tier) == ("flag", "conduct", "open", 1)
        (thanks,) = [m for m in await playground.feed("jordan") if m["ephemeral"]]
        assert "The moderators of Pilot cohort A have it (#1)" in thanks["message"]["text"]
        assert await verbs(playground) == ["escalation.raised"]


async def test_the_ping_quotes_the_flagged_message_without_quote_markup(
    database_url: str,
) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await flagged_by_jordan(playground)

        (card,) = await pings(playground, "sam")
        sections = [b["text"] for b in card["message"]["blocks"] if b["type"] == "section"]
        quote = next(t for t in sections if "nobody here knows" in t)
        assert quote == "\u201cnobody here knows what they are doing\u201d"
        assert not any(line.startswith(">") for t in sections for line in t.splitlines())


async def test_unacknowledged_flag_reaches_the_owner_after_its_sla_only_once(
    database_url: str,
) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await flagged_by_jordan(playground)

        await playground.advance(SLA - timedelta(minutes=1))
        assert await pings(playground, "olivia") == []
        await playground.advance(timedelta(minutes=2))
        await playground.advance(timedelta(hours=10))

        (owner_card,) = await pings(playground, "olivia")
        assert "not acknowledged in time" in str(owner_card["message"])
        (row,) = await escalations(playground)
        assert (row.tier, row.status) == (2, "open")
        assert row.escalated_at == playground.clock.now() - timedelta(hours=10)
        assert (await verbs(playground)).count("escalation.tier2") == 1
        assert await audit_trail(playground, row.id) == [
            ("raised", None),
            ("pinged", "DM to Sam Okafor"),
            ("tier2", "DM to Olivia Brandt"),
        ]
        (moderator_card,) = await pings(playground, "sam")
        assert "Open (tier 2)" in str(moderator_card["message"])


async def test_flag_acknowledged_in_time_never_reaches_tier_two(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await flagged_by_jordan(playground)
        await playground.advance(timedelta(hours=1))
        (card,) = await pings(playground, "sam")

        await playground.click("sam", card, "Acknowledge")
        await playground.advance(SLA * 3)

        assert await pings(playground, "olivia") == []
        (updated,) = await pings(playground, "sam")
        assert "Acknowledged by Sam Okafor" in str(updated["message"])
        assert buttons(updated) == ["Resolve"]
        assert "Sam Okafor is looking at your flagged message (#1)." in await playground.dm_texts(
            "jordan"
        )
        (row,) = await escalations(playground)
        assert (row.status, row.tier, row.escalated_at) == ("acknowledged", 1, None)


async def test_sla_survives_a_restart(database_url: str) -> None:
    config = demo_config(database_url)
    async with running_bot(config) as playground:
        await flagged_by_jordan(playground)
        clock = playground.clock

    clock.advance(SLA + timedelta(minutes=5))
    async with running_bot(config, clock=clock, node_id="second-node") as reopened:
        await reopened.bot.settle()
        await reopened.advance(timedelta(hours=1))

        (row,) = await escalations(reopened)
        assert (row.tier, row.status) == (2, "open")
        assert (await verbs(reopened)).count("escalation.tier2") == 1
        async with unit_of_work(reopened.bot.sessions) as uow:
            olivia = await uow.people.find_identity("local", "local", "olivia")
            assert olivia is not None
            sent = await uow.outbox.for_person(olivia[1].id)
        assert [m.message["text"].split(":")[0] for m in sent] == [
            "Flagged message #1 in Pilot cohort A"
        ]


async def test_flagging_the_same_message_twice_raises_it_once(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await playground.say("priya", "/cohort join pilot-a")
        await flagged_by_jordan(playground)
        message = next(
            m
            for m in await playground.feed("priya")
            if m["from"] == "alex" and m["where"] == "channel"
        )
        await flag(playground, "priya", message)

        assert len(await escalations(playground)) == 1
        assert len(await pings(playground, "sam")) == 1
        assert any(
            "flagged already (#1)" in m["message"]["text"] for m in await playground.feed("priya")
        )
        assert await audit(playground, 1) == ["raised", "pinged", "flagged_again"]


async def test_resolve_stops_everything_and_the_audit_trail_has_every_step(
    database_url: str,
) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await flagged_by_jordan(playground)
        (card,) = await pings(playground, "sam")
        await playground.click("sam", card, "Acknowledge")
        await playground.say("sam", "/cohort escalation resolve 1 talked to both of them")
        await playground.advance(SLA * 2)

        (row,) = await escalations(playground)
        assert (row.status, row.tier) == ("resolved", 1)
        assert await audit(playground, row.id) == ["raised", "pinged", "acknowledged", "resolved"]
        assert await verbs(playground) == [
            "escalation.raised",
            "escalation.acknowledged",
            "escalation.resolved",
        ]
        (final,) = await pings(playground, "sam")
        assert buttons(final) == []
        assert "Resolved by Sam Okafor" in str(final["message"])
        assert "#1 is resolved." in await playground.dm_texts("sam")
        assert (
            "Sam Okafor resolved your flagged message (#1). They said: talked to both of them"
            in await playground.dm_texts("jordan")
        )
        assert await pings(playground, "olivia") == []

        await playground.say("sam", "/cohort escalation resolve 1")
        assert "#1 was resolved already by Sam Okafor." in await playground.dm_texts("sam")
        flagged = next(m for m in await playground.feed("jordan") if m["from"] == "alex")
        await flag(playground, "jordan", flagged)
        (_first, again) = [m for m in await playground.feed("jordan") if m["ephemeral"]]
        assert "flagged already (#1); a moderator resolved it" in again["message"]["text"]
        assert len(await escalations(playground)) == 1


async def test_tags_route_help_to_the_people_of_the_tag(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("alex", "/cohort help-me the session link is broken #tech")
        await playground.say("alex", "/cohort help-me someone keeps interrupting me #conduct")
        await playground.say("alex", "/cohort help-me I am lost")

        (tech,) = await pings(playground, "dana")
        assert tech["message"]["text"].startswith("Call for help #1")
        assert [c["message"]["text"].split(" in ")[0] for c in await pings(playground, "sam")] == [
            "Call for help #2",
            "Call for help #3",
        ]
        assert [(r.tag, r.kind) for r in await escalations(playground)] == [
            ("tech", "help"),
            ("conduct", "help"),
            (None, "help"),
        ]
        assert (
            "I've told the moderators of Pilot cohort A (#1)"
            in (await playground.dm_texts("alex"))[-3]
        )


async def test_help_me_without_text_says_what_to_write(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("alex", "/cohort help-me")

        assert (await playground.dm_texts("alex"))[-1].startswith(
            "Tell me what you need help with, e.g. `/cohort help-me"
        )
        assert "#content, #conduct, #tech" in (await playground.dm_texts("alex"))[-1]
        assert await escalations(playground) == []


async def test_help_me_outside_any_cohort_is_refused_clearly(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await playground.say("alex", "/cohort help-me where is everyone")

        assert "You are not in a cohort yet" in (await playground.dm_texts("alex"))[-1]
        assert await escalations(playground) == []


async def test_non_moderator_clicking_acknowledge_is_refused(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await flagged_by_jordan(playground)
        alex = Actor(platform="local", workspace="local", user_id="alex")
        await playground.bot.accept(
            ActionInvoked(
                event_id="alex-clicks",
                actor=alex,
                is_direct=True,
                action_id="escalation.ack",
                value="1",
            )
        )
        await playground.bot.settle()
        await playground.say("jordan", "/cohort escalation ack 1")

        refusal = "Only the cohort's moderators, facilitators and owners can handle escalations."
        assert refusal in await playground.dm_texts("alex")
        assert refusal in await playground.dm_texts("jordan")
        (row,) = await escalations(playground)
        assert (row.status, row.acknowledged_by) == ("open", None)
        assert await audit(playground, row.id) == ["raised", "pinged"]


async def test_escalation_command_rejects_a_number_that_is_not_one(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await playground.say("sam", "/cohort escalation ack seven")
        await playground.say("sam", "/cohort escalation resolve 42")

        texts = await playground.dm_texts("sam")
        assert "'seven' is not an escalation number; see `/cohort escalations`." in texts
        assert (
            "There is no escalation #42 that you can handle; "
            "`/cohort escalations` lists the open ones." in texts
        )


async def test_escalations_lists_open_ones_with_age_and_sla_state(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await flagged_by_jordan(playground)
        await playground.advance(timedelta(hours=5))
        await playground.say("alex", "/cohort help-me cannot find the rubric #content")
        await playground.advance(timedelta(minutes=30))
        await playground.say("dana", "/cohort escalations")
        await playground.say("alex", "/cohort escalations")

        listing = (await playground.dm_texts("dana"))[-1]
        assert "#1 Flagged message #conduct, 5 h old, overdue, with the owners" in listing
        assert "#2 Call for help #content, 30 min old, acknowledge by Mon 23 Nov 18:00 CET" in (
            listing
        )
        assert (
            "Only a facilitator or a moderator or a program owner of Pilot cohort A can use"
            in (await playground.dm_texts("alex"))[-1]
        )


async def test_overdue_review_pings_moderators_once(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("priya", "/cohort join pilot-a")
        await seed_review(playground, due_in=timedelta(hours=-23))

        await playground.advance(timedelta(minutes=30))
        assert await pings(playground, "sam") == []
        await playground.advance(timedelta(hours=1))
        await playground.advance(timedelta(hours=2))

        (card,) = await pings(playground, "sam")
        assert card["message"]["text"].startswith("Overdue review #1 in Pilot cohort A")
        assert "Priya Raman's review of Alex Schneider's request" in card["message"]["text"]
        (row,) = await escalations(playground)
        assert (row.kind, row.reporter_id) == ("review_overdue", None)
        assert row.dedup_key.startswith("review_overdue:")


async def seed_review(playground: Playground, *, due_in: timedelta) -> None:
    from storage.models import ReviewAssignment, ReviewRequest

    now = playground.clock.now()
    async with unit_of_work(playground.bot.sessions) as uow:
        cohort = await uow.cohorts.by_key("pilot-a")
        alex = await uow.people.find_identity("local", "local", "alex")
        priya = await uow.people.find_identity("local", "local", "priya")
        assert cohort is not None
        assert alex is not None
        assert priya is not None
        request = ReviewRequest(
            cohort_id=cohort.id,
            author_id=alex[1].id,
            artifact="https://example.com/talk",
            reviewers_wanted=1,
            due_at=now + due_in,
            status="open",
            created_at=now - timedelta(days=14),
        )
        uow.session.add(request)
        await uow.session.flush()
        uow.session.add(
            ReviewAssignment(
                request_id=request.id,
                reviewer_id=priya[1].id,
                status="assigned",
                assigned_at=now - timedelta(days=14),
                due_at=now + due_in,
            )
        )


async def test_participant_inactive_for_two_weeks_is_escalated_once(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        now = playground.clock.now()
        async with unit_of_work(playground.bot.sessions) as uow:
            cohort = await uow.cohorts.by_key("pilot-a")
            alex = await uow.people.find_identity("local", "local", "alex")
            assert cohort is not None
            assert alex is not None
            membership = await uow.participation.membership(cohort.id, alex[1].id)
            assert membership is not None
            membership.inactive_since = now - timedelta(days=13, hours=23)

        await playground.advance(timedelta(minutes=20))
        assert await escalations(playground) == []
        await playground.advance(timedelta(hours=1))
        await playground.advance(timedelta(hours=5))

        (row,) = await escalations(playground)
        assert (row.kind, row.subject_id) == ("inactive", alex[1].id)
        (card,) = await pings(playground, "sam")
        assert "Alex Schneider has not answered anything since 2026-11-09" in str(card["message"])


async def test_dead_lettered_message_is_escalated_once_with_its_error(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        now = playground.clock.now()
        async with unit_of_work(playground.bot.sessions) as uow:
            alex = await uow.people.find_identity("local", "local", "alex")
            assert alex is not None
            new_id = await uow.outbox.enqueue(
                OutboxRow(
                    idempotency_key="dead-one",
                    platform="slack",
                    workspace="T0001",
                    lane="slack:T0001:U1",
                    target={
                        "platform": "slack",
                        "workspace": "T0001",
                        "kind": "dm",
                        "user_id": "U1",
                    },
                    message={"text": "Your check-in is ready", "blocks": []},
                    now=now,
                    person_id=alex[1].id,
                )
            )
            assert new_id is not None
            row = await uow.outbox.get(new_id)
            assert row is not None
            row.status, row.attempts, row.last_error = "dead", 8, "slack: account_inactive"

        await playground.advance(timedelta(minutes=16))
        await playground.advance(timedelta(hours=1))

        (escalation,) = await escalations(playground)
        assert (escalation.kind, escalation.dedup_key) == ("dead_letter", f"dead_letter:{new_id}")
        (card,) = await pings(playground, "sam")
        assert "Error: slack: account_inactive" in str(card["message"])
        assert "“Your check-in is ready”" in card["message"]["text"]


async def test_resolved_automatic_escalation_never_goes_to_tier_two(database_url: str) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        await playground.say("priya", "/cohort join pilot-a")
        await seed_review(playground, due_in=timedelta(days=-3))
        await playground.advance(timedelta(minutes=15))
        (card,) = await pings(playground, "sam")

        await playground.click("sam", card, "Resolve")
        await playground.advance(SLA * 2)

        async with unit_of_work(playground.bot.sessions) as uow:
            row = await uow.session.scalar(select(Escalation))
        assert row is not None
        assert (row.status, row.tier, row.acknowledged_at) == ("resolved", 1, None)
        assert await pings(playground, "olivia") == []
        assert await audit(playground, row.id) == ["raised", "pinged", "resolved"]
        assert len(await escalations(playground)) == 1


async def test_sweep_runs_once_after_a_long_gap_and_keeps_its_quarter_hour(
    database_url: str,
) -> None:
    config = demo_config(database_url)
    async with running_bot(config) as playground:
        await playground.advance(timedelta(days=10))
        assert await sweep_runs(playground) == 1
        await playground.advance(timedelta(minutes=15))
        assert await sweep_runs(playground) == 2
        clock = playground.clock

    async with running_bot(config, clock=clock) as reopened:
        await reopened.advance(timedelta(minutes=15))
        assert await sweep_runs(reopened) == 3, "a restart does not start a second chain"


async def sweep_runs(playground: Playground) -> int:
    async with unit_of_work(playground.bot.sessions) as uow:
        cohort = await uow.cohorts.by_key("pilot-a")
        assert cohort is not None
        return len(await uow.schedule.claims(sweep_key(cohort.id)))


async def test_the_same_thing_raised_at_once_from_two_transactions_is_one_escalation(
    database_url: str,
) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        bot, now = playground.bot, playground.clock.now()
        new = NewEscalation(kind="help", dedup_key="help:race", summary="twice at once")
        async with bot.sessions() as one, bot.sessions() as two:
            first, second = UnitOfWork(one), UnitOfWork(two)
            won = await first.escalations.create(new, now=now, ack_due_at=now + SLA)
            if one.get_bind().dialect.name == "postgresql":
                # The second insert waits on the first's uncommitted row, then skips it.
                racing = asyncio.create_task(
                    second.escalations.create(new, now=now, ack_due_at=now + SLA)
                )
                await asyncio.sleep(0.2)
                assert not racing.done()
                await one.commit()
                lost = await racing
            else:
                await one.commit()
                lost = await second.escalations.create(new, now=now, ack_due_at=now + SLA)
            await two.commit()

        assert won is not None
        assert lost is None
        assert [e.dedup_key for e in await escalations(playground)] == ["help:race"]


async def test_playground_refuses_to_flag_a_message_the_person_cannot_see(
    database_url: str,
) -> None:
    async with running_bot(demo_config(database_url)) as playground:
        await playground.say("alex", "/cohort join pilot-a")
        welcome = (await playground.from_bot("alex", where="dm"))[0]

        response = await playground.http.post(
            "/playground/api/flag", json={"person": "jordan", "message_id": welcome["id"]}
        )

        assert response.status == 404
        assert (await response.json())["error"] == "that message is gone"
        assert await escalations(playground) == []


async def test_a_cohorts_moderators_channel_gets_the_ping_instead_of_dms(
    database_url: str,
) -> None:
    config = demo_config(database_url)
    pilot_a = config.cohorts[0].model_copy(update={"moderators_channels": {"local": "mods"}})
    config = config.model_copy(update={"cohorts": [pilot_a, *config.cohorts[1:]]})
    async with running_bot(config) as playground:
        await flagged_by_jordan(playground)
        await playground.advance(SLA + timedelta(minutes=1))

        assert await pings(playground, "sam") == []
        in_mods = [
            m
            for m in await playground.from_bot("sam", where="channel")
            if m["channel_id"] == "mods"
        ]
        assert [m["message"]["text"].split(":")[0] for m in in_mods] == [
            "Flagged message #1 in Pilot cohort A"
        ]
        assert "Open (tier 2)" in str(in_mods[0]["message"]), "updated in place"
        (owner_card,) = await pings(playground, "olivia")
        assert "not acknowledged in time" in str(owner_card["message"])
        assert (await audit_trail(playground, 1))[1] == ("pinged", "local channel mods")


def test_a_route_for_a_tag_the_program_does_not_have_is_a_config_error() -> None:
    text = PILOT_CONFIG.read_text(encoding="utf-8")
    broken = text.replace("tech: {roles: [facilitator]}", "billing: {roles: [owner]}")

    with pytest.raises(ConfigError) as caught:
        parse_config(broken, environ={})

    assert "programs.pilot.escalation.routes.billing: 'billing' is not one of the tags" in str(
        caught.value
    )
