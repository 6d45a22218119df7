"""Learning records reach the LRS: mapped from real activity, batched, retried, never twice."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.config import AppConfig
from bot.runtime.clock import ManualClock
from bot.xapi.delivery import XapiDelivery
from bot.xapi.source import NAMESPACE_SETTING
from storage.models import Activity, AppSetting, OccurrenceClaim, XapiStatement
from storage.uow import unit_of_work
from tests.fakes.lrs import Failure, FakeLrs
from tests.flows.onboarding.test_onboarding import complete_onboarding
from tests.harness import START, Playground, demo_config, running_bot

BASE = "http://127.0.0.1:3978"


@pytest.fixture
async def lrs() -> AsyncIterator[FakeLrs]:
    server = FakeLrs()
    await server.start()
    try:
        yield server
    finally:
        if server.hold is not None:
            server.hold.set()
        await server.stop()


def lrs_config(database_url: str, lrs: FakeLrs, **environ: str) -> AppConfig:
    return demo_config(
        database_url,
        XAPI_ENDPOINT=lrs.endpoint,
        XAPI_USERNAME=lrs.username,
        XAPI_PASSWORD=lrs.password,
        **environ,
    )


def delivery(playground: Playground) -> XapiDelivery:
    assert playground.bot.xapi is not None, "an LRS is configured"
    return playground.bot.xapi


async def ids_of(playground: Playground, person: str) -> tuple[int, int]:
    """(person id, pilot-a's cohort id) for a playground person."""
    async with unit_of_work(playground.bot.sessions) as uow:
        found = await uow.people.find_identity("local", "local", person)
        cohort = await uow.cohorts.by_key("pilot-a")
    assert found is not None
    assert cohort is not None
    return found[1].id, cohort.id


async def log_checkins(playground: Playground, count: int, *, person: str = "alex") -> list[int]:
    """Activity rows for `count` check-ins, as the check-in flow logs them."""
    person_id, cohort_id = await ids_of(playground, person)
    async with unit_of_work(playground.bot.sessions) as uow:
        rows = [
            Activity(
                at=playground.clock.now() + timedelta(seconds=i),
                verb="checkin.answered",
                person_id=person_id,
                cohort_id=cohort_id,
                object=f"checkin_round:{i + 1}",
                data={"number": i + 1, "late_after_nudge": False},
            )
            for i in range(count)
        ]
        uow.session.add_all(rows)
        await uow.session.flush()
        return [row.id for row in rows]


async def queue(playground: Playground) -> list[XapiStatement]:
    async with unit_of_work(playground.bot.sessions) as uow:
        return list(await uow.session.scalars(select(XapiStatement).order_by(XapiStatement.id)))


async def namespace(playground: Playground) -> uuid.UUID:
    async with unit_of_work(playground.bot.sessions) as uow:
        value = await uow.session.scalar(
            select(AppSetting.value).where(AppSetting.key == NAMESPACE_SETTING)
        )
    assert value is not None
    return uuid.UUID(value)


async def test_joining_and_onboarding_in_the_playground_reach_the_lrs_once_the_timer_fires(
    database_url: str, lrs: FakeLrs
) -> None:
    async with running_bot(lrs_config(database_url, lrs)) as playground:
        await complete_onboarding(playground, "alex")
        assert lrs.posts == [], "statements go out on the delivery timer, not inline"

        await playground.advance(timedelta(minutes=1))

        async with unit_of_work(playground.bot.sessions) as uow:
            entries = list(
                await uow.session.scalars(
                    select(Activity)
                    .where(Activity.verb.in_(["cohort.joined", "onboarding.completed"]))
                    .order_by(Activity.id)
                )
            )
        alex, _cohort = await ids_of(playground, "alex")
        space = await namespace(playground)
        rows = await queue(playground)

    assert [entry.verb for entry in entries] == ["cohort.joined", "onboarding.completed"]
    expected_ids = [str(uuid.uuid5(space, str(entry.id))) for entry in entries]
    assert list(lrs.stored) == expected_ids
    assert len(lrs.posts) == 1
    joined, onboarded = (lrs.stored[statement_id] for statement_id in expected_ids)
    actor = {
        "objectType": "Agent",
        "account": {"homePage": BASE, "name": str(uuid.uuid5(space, f"person:{alex}"))},
    }
    assert joined["actor"] == onboarded["actor"] == actor
    assert "Alex" not in str(joined), "the actor is pseudonymous"
    assert "alex" not in str(joined)
    assert joined["verb"] == {
        "id": "http://activitystrea.ms/schema/1.0/join",
        "display": {"en-US": "joined"},
    }
    assert onboarded["verb"]["id"] == "http://adlnet.gov/expapi/verbs/completed"
    assert joined["object"]["id"] == f"{BASE}/cohorts/pilot-a"
    assert joined["object"]["definition"]["name"] == {"en-US": "Pilot cohort A"}
    assert onboarded["object"]["id"] == f"{BASE}/cohorts/pilot-a/onboarding"
    assert onboarded["result"] == {"completion": True}
    assert onboarded["context"]["contextActivities"]["parent"][0]["id"] == f"{BASE}/cohorts/pilot-a"
    assert joined["context"]["contextActivities"]["grouping"][0]["id"] == f"{BASE}/programs/pilot"
    assert joined["context"]["registration"] == onboarded["context"]["registration"]
    assert (
        joined["timestamp"]
        == "2026-11-23T08:00:00.000Z"
        == entries[0].at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    )
    assert [(row.activity_id, row.statement_id, row.status) for row in rows] == [
        (entry.id, statement_id, "sent")
        for entry, statement_id in zip(entries, expected_ids, strict=True)
    ]
    assert all(row.sent_at == START + timedelta(minutes=1) and row.attempts == 1 for row in rows)


async def test_each_mapped_verb_gets_its_well_known_verb_and_object(
    sqlite_url: str, lrs: FakeLrs
) -> None:
    async with running_bot(lrs_config(sqlite_url, lrs)) as playground:
        person_id, cohort_id = await ids_of(playground, "priya")
        logged = [
            ("session.attended", "session:7", {}),
            ("review.given", "review_request:3", {}),
            ("badge.awarded", None, {"badge": "first-checkin"}),
            ("program.completed", None, {}),
            ("checkin.answered", "checkin_round:2", {"number": 2}),
            ("cohort.invited", None, {}),  # not a learning record
        ]
        async with unit_of_work(playground.bot.sessions) as uow:
            for verb, ref, data in logged:
                uow.activity.append(
                    verb=verb,
                    at=playground.clock.now(),
                    person_id=person_id,
                    cohort_id=cohort_id,
                    object_ref=ref,
                    data=data,
                )
        report = await delivery(playground).deliver_due()

    statements = list(lrs.stored.values())
    pairs = [(s["verb"]["id"], s["object"]["id"]) for s in statements]
    assert report.sent == 5
    assert pairs[-5:] == [
        ("http://adlnet.gov/expapi/verbs/attended", f"{BASE}/cohorts/pilot-a/sessions/7"),
        ("http://id.tincanapi.com/verb/reviewed", f"{BASE}/cohorts/pilot-a/reviews/3"),
        ("http://id.tincanapi.com/verb/earned", f"{BASE}/programs/pilot/badges/first-checkin"),
        ("http://adlnet.gov/expapi/verbs/completed", f"{BASE}/programs/pilot"),
        ("http://adlnet.gov/expapi/verbs/answered", f"{BASE}/cohorts/pilot-a/checkins/2"),
    ]
    badge = statements[-3]["object"]
    assert badge["definition"]["name"] == {"en-US": "First check-in"}
    assert statements[-2]["context"]["contextActivities"]["other"][0]["id"].endswith("/pilot-a")


async def test_the_actor_is_the_email_address_when_the_config_says_so(
    sqlite_url: str, lrs: FakeLrs
) -> None:
    config = lrs_config(sqlite_url, lrs)
    config = config.model_copy(update={"xapi": config.xapi.model_copy(update={"actor": "email"})})
    async with running_bot(config) as playground:
        await playground.say("sam", "/cohort join pilot-a")  # sam has an email in app.yaml
        await playground.say("alex", "/cohort join pilot-a")  # alex has none
        await delivery(playground).deliver_due()

    actors = [statement["actor"] for statement in lrs.stored.values()]
    assert actors[0] == {
        "objectType": "Agent",
        "mbox": "mailto:sam@example.com",
        "name": "Sam Okafor",
    }
    assert set(actors[1]) == {"objectType", "account"}, "no email known: the account stands in"


async def test_120_statements_go_out_in_three_posts_of_at_most_50(
    database_url: str, lrs: FakeLrs
) -> None:
    async with running_bot(lrs_config(database_url, lrs)) as playground:
        await log_checkins(playground, 120)
        report = await delivery(playground).deliver_due()
        again = await delivery(playground).deliver_due()
        rows = await queue(playground)

    assert [len(batch) for batch in lrs.posts] == [50, 50, 20]
    assert (report.queued, report.sent, report.posts) == (120, 120, 3)
    assert (again.queued, again.sent, again.posts) == (0, 0, 0), "nothing is sent twice"
    assert len(lrs.stored) == 120
    assert {row.status for row in rows} == {"sent"}
    assert [row.statement_id for row in rows] == list(lrs.stored)


async def test_while_the_lrs_is_down_nothing_is_lost_and_all_arrive_once_it_recovers(
    database_url: str, lrs: FakeLrs
) -> None:
    async with running_bot(lrs_config(database_url, lrs)) as playground:
        xapi = delivery(playground)
        await log_checkins(playground, 5)
        lrs.fail_next(Failure(503), Failure(503))

        first = await xapi.deliver_due()
        after_first = await queue(playground)
        assert (first.posts, first.retrying) == (1, 5)
        assert {(row.status, row.attempts) for row in after_first} == {("pending", 1)}
        assert all("HTTP 503" in (row.last_error or "") for row in after_first)
        wait = after_first[0].next_attempt_at - playground.clock.now()
        assert timedelta(seconds=22.5) <= wait <= timedelta(seconds=37.5), "30 s +-25%"

        early = await xapi.deliver_due()
        assert early.posts == 0, "nothing is retried before its time"

        playground.clock.advance(timedelta(seconds=40))
        await xapi.deliver_due()
        second_wait = (await queue(playground))[0].next_attempt_at - playground.clock.now()
        assert timedelta(seconds=45) <= second_wait <= timedelta(seconds=75), "doubled"

        await lrs.stop()
        playground.clock.advance(timedelta(seconds=80))
        refused = await xapi.deliver_due()
        after_refused = await queue(playground)
        assert refused.retrying == 5
        assert {(row.status, row.attempts) for row in after_refused} == {("pending", 3)}
        assert all("Connect" in (row.last_error or "") for row in after_refused)

        await lrs.start()
        playground.clock.advance(timedelta(minutes=3))
        recovered = await xapi.deliver_due()
        rows = await queue(playground)

    assert recovered.sent == 5
    assert len(lrs.stored) == 5
    assert lrs.answers == [503, 503, 200]
    assert {(row.status, row.attempts, row.last_error) for row in rows} == {("sent", 4, None)}


async def test_a_429_waits_at_least_as_long_as_retry_after_says(
    sqlite_url: str, lrs: FakeLrs
) -> None:
    async with running_bot(lrs_config(sqlite_url, lrs)) as playground:
        await log_checkins(playground, 2)
        lrs.fail_next(Failure(429, retry_after=600))
        await delivery(playground).deliver_due()
        rows = await queue(playground)

    assert all(row.next_attempt_at >= START + timedelta(seconds=600) for row in rows)
    assert {row.status for row in rows} == {"pending"}


@pytest.mark.parametrize("resend_answer", ["accepted", "409"])
async def test_a_restart_between_post_and_marking_sent_resends_the_same_ids_stored_once(
    database_url: str, lrs: FakeLrs, resend_answer: str
) -> None:
    lrs.conflict_on_duplicate = resend_answer == "409"
    config = lrs_config(database_url, lrs)
    clock = ManualClock(START)
    async with running_bot(config, clock=clock) as playground:
        await log_checkins(playground, 3)
        lrs.hold = asyncio.Event()
        sending = asyncio.create_task(delivery(playground).deliver_due())
        await lrs.stored_batch.wait()
        sending.cancel()  # the process dies: the LRS has the batch, the queue says "sending"
        with pytest.raises(asyncio.CancelledError):
            await sending
        lrs.hold.set()
        assert {row.status for row in await queue(playground)} == {"sending"}

    async with running_bot(config, clock=clock) as reopened:
        leased = await delivery(reopened).deliver_due()
        assert leased.posts == 0, "a leased batch is not taken over before its lease ends"
        clock.advance(timedelta(minutes=7))
        resent = await delivery(reopened).deliver_due()
        rows = await queue(reopened)

    assert resent.sent == 3
    assert lrs.ids_posted()[0] == lrs.ids_posted()[1], "the same statement ids"
    assert len(lrs.stored) == 3
    assert {row.status for row in rows} == {"sent"}


async def test_a_409_for_a_stored_id_counts_as_sent_and_the_rest_of_the_batch_goes_on(
    database_url: str, lrs: FakeLrs
) -> None:
    async with running_bot(lrs_config(database_url, lrs)) as playground:
        await log_checkins(playground, 4)
        await delivery(playground).enqueue_new()
        taken = (await queue(playground))[1]
        # The LRS holds something else under this id already (say, an earlier install).
        lrs.stored[taken.statement_id] = {**taken.statement, "timestamp": "2020-01-01T00:00:00Z"}
        report = await delivery(playground).deliver_due()
        rows = await queue(playground)

    assert 409 in lrs.answers
    assert report.sent == 4
    assert len(lrs.stored) == 4
    assert {row.status for row in rows} == {"sent"}
    assert "409" in (next(r for r in rows if r.id == taken.id).last_error or "")
    assert [r.last_error for r in rows if r.id != taken.id] == [None, None, None]


async def test_a_statement_the_lrs_refuses_is_isolated_and_failed_while_the_rest_are_sent(
    database_url: str, lrs: FakeLrs, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(lrs_config(database_url, lrs)) as playground:
        await log_checkins(playground, 8)
        await delivery(playground).enqueue_new()
        bad = (await queue(playground))[2]
        broken = {key: value for key, value in bad.statement.items() if key != "verb"}
        async with unit_of_work(playground.bot.sessions) as uow:
            await uow.session.execute(
                update(XapiStatement).where(XapiStatement.id == bad.id).values(statement=broken)
            )
        with caplog.at_level(logging.WARNING, logger="bot.xapi.delivery"):
            report = await delivery(playground).deliver_due()
        later = await delivery(playground).deliver_due()
        rows = await queue(playground)

    assert (report.sent, report.failed) == (7, 1)
    assert later.posts == 0, "a failed statement is not retried"
    assert len(lrs.stored) == 7
    assert bad.statement_id not in lrs.stored
    assert lrs.answers.count(400) == 4, "8 -> 4 -> 2 -> 1: halves until it is alone"
    failed = next(row for row in rows if row.id == bad.id)
    assert failed.status == "failed"
    assert "HTTP 400" in (failed.last_error or "")
    assert "verb" in (failed.last_error or ""), "the LRS's reason is kept"
    assert {row.status for row in rows if row.id != bad.id} == {"sent"}
    assert [r.statement_id for r in caplog.records if hasattr(r, "statement_id")] == [
        bad.statement_id
    ]


async def test_activity_rows_that_appear_below_the_newest_queued_id_are_still_queued(
    database_url: str, lrs: FakeLrs
) -> None:
    """What a late commit looks like to a reader: a lower id shows up after a higher one."""
    async with running_bot(lrs_config(database_url, lrs)) as playground:
        person_id, cohort_id = await ids_of(playground, "alex")
        async with unit_of_work(playground.bot.sessions) as uow:
            top = int(
                await uow.session.scalar(select(Activity.id).order_by(Activity.id.desc())) or 0
            )

        async def log_with_id(activity_id: int) -> None:
            async with unit_of_work(playground.bot.sessions) as uow:
                uow.session.add(
                    Activity(
                        id=activity_id,
                        at=playground.clock.now(),
                        verb="session.attended",
                        person_id=person_id,
                        cohort_id=cohort_id,
                        object="session:1",
                        data={},
                    )
                )

        await log_with_id(top + 50)
        first = await delivery(playground).deliver_due()
        await log_with_id(top + 10)
        second = await delivery(playground).deliver_due()
        rows = await queue(playground)

    assert (first.sent, second.sent) == (1, 1)
    assert [row.activity_id for row in rows] == [top + 50, top + 10]
    assert len(lrs.stored) == 2


async def test_a_row_committed_after_a_higher_id_was_read_is_not_skipped(
    postgres_url: str, lrs: FakeLrs
) -> None:
    async with running_bot(lrs_config(postgres_url, lrs)) as playground:
        person_id, cohort_id = await ids_of(playground, "alex")
        xapi = delivery(playground)

        def attended(session_number: int) -> Activity:
            return Activity(
                at=playground.clock.now(),
                verb="session.attended",
                person_id=person_id,
                cohort_id=cohort_id,
                object=f"session:{session_number}",
                data={},
            )

        async with unit_of_work(playground.bot.sessions) as slow:
            early = attended(1)
            slow.session.add(early)
            await slow.session.flush()  # takes its id now, commits later
            async with unit_of_work(playground.bot.sessions) as quick:
                late = attended(2)
                quick.session.add(late)
            assert late.id > early.id
            while_open = await xapi.deliver_due()
        after_commit = await xapi.deliver_due()
        rows = await queue(playground)

    assert (while_open.sent, after_commit.sent) == (1, 1)
    assert [row.activity_id for row in rows] == [late.id, early.id]
    assert len(lrs.stored) == 2


async def test_two_deliveries_at_once_send_each_statement_once(
    postgres_url: str, lrs: FakeLrs
) -> None:
    """As two replicas would: leases keep them off each other's batches."""
    async with running_bot(lrs_config(postgres_url, lrs)) as playground:
        await log_checkins(playground, 60)
        bot = playground.bot
        other = XapiDelivery(
            sessions=bot.sessions,
            clock=playground.clock,
            config=bot.config,
            client=type(delivery(playground)._client)(bot.config.xapi),
        )
        try:
            reports = await asyncio.gather(delivery(playground).deliver_due(), other.deliver_due())
        finally:
            await other.close()

    assert sum(report.sent for report in reports) == 60
    posted = [statement_id for batch in lrs.ids_posted() for statement_id in batch]
    assert sorted(posted) == sorted(set(posted)), "no statement was posted twice"
    assert len(lrs.stored) == 60


async def test_the_delivery_timer_runs_once_per_minute_and_one_replica_claims_each_run(
    database_url: str, lrs: FakeLrs
) -> None:
    async with running_bot(lrs_config(database_url, lrs)) as playground:
        await log_checkins(playground, 1)
        await playground.advance(timedelta(seconds=59))
        assert lrs.posts == []
        await playground.advance(timedelta(seconds=1))
        assert len(lrs.posts) == 1
        await log_checkins(playground, 1)
        await playground.advance(timedelta(minutes=1))
        async with unit_of_work(playground.bot.sessions) as uow:
            claims = await uow.session.execute(
                select(OccurrenceClaim.item_key, OccurrenceClaim.occurrence_at).where(
                    OccurrenceClaim.item_key == "xapi.deliver"
                )
            )
            runs = [occurrence for _key, occurrence in claims]

    assert [len(batch) for batch in lrs.posts] == [1, 1]
    assert runs == [START + timedelta(minutes=1), START + timedelta(minutes=2)]


async def test_without_an_lrs_nothing_is_queued_or_sent(sqlite_url: str) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await complete_onboarding(playground, "alex")
        await playground.advance(timedelta(minutes=5))
        assert playground.bot.xapi is None
        async with unit_of_work(playground.bot.sessions) as uow:
            queued = list(await uow.session.scalars(select(XapiStatement)))
            timer = await uow.schedule.get("xapi.deliver")
    assert queued == []
    assert timer is None


async def test_the_queue_depth_is_a_metric(sqlite_url: str, lrs: FakeLrs) -> None:
    async with running_bot(lrs_config(sqlite_url, lrs)) as playground:
        await log_checkins(playground, 3)
        await delivery(playground).enqueue_new()
        response = await playground.http.get("/metrics")
        text = await response.text()

    assert 'cohortbot_xapi_statements{status="pending"} 3.0' in text


def test_the_lrs_password_is_never_shown() -> None:
    config = demo_config(
        "sqlite+aiosqlite:///:memory:",
        XAPI_ENDPOINT="https://lrs.example.com/xapi/",
        XAPI_PASSWORD="hunter2",
    )
    assert config.xapi.enabled
    assert "hunter2" not in repr(config)
    assert "hunter2" not in str(config.xapi)


def test_an_lrs_is_configured_by_its_endpoint_alone() -> None:
    assert not demo_config("sqlite+aiosqlite:///:memory:").xapi.enabled
    configured = demo_config(
        "sqlite+aiosqlite:///:memory:", XAPI_ENDPOINT="https://lrs.example.com/xapi"
    )
    assert configured.xapi.statements_url == "https://lrs.example.com/xapi/statements"


async def test_in_a_running_bot_the_timer_and_the_delivery_loop_send_on_their_own(
    sqlite_url: str, lrs: FakeLrs
) -> None:
    async with running_bot(lrs_config(sqlite_url, lrs)) as playground:
        await log_checkins(playground, 2)
        playground.bot.start_background()
        playground.clock.advance(timedelta(minutes=1))
        # The scheduler's ticker notices the due run within a tick; no settle() here.
        await asyncio.wait_for(lrs.stored_batch.wait(), timeout=30)

    assert len(lrs.stored) == 2
