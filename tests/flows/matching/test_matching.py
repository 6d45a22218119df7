"""Matching in the playground: `/cohort pair`, intros, history, the cadence, "did you meet?"."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import combinations
from typing import Any

from sqlalchemy import select

from bot.config import AppConfig, parse_config
from bot.runtime.clock import ManualClock
from flows.matching.cycle import cycle_seed
from storage.models import Activity, MatchGroup, Membership
from storage.uow import unit_of_work
from tests.conftest import PILOT_CONFIG
from tests.flows.onboarding.test_onboarding import choose
from tests.harness import CHANNEL, Playground, running_bot

PARTICIPANTS = ("alex", "priya", "jordan", "lena", "tom", "aisha", "mateo", "yuki", "noah")


def config_with(database_url: str, *changes: tuple[str, str], **environ: str) -> AppConfig:
    """The tests' pilot configuration with a few lines changed, on the given database."""
    text = PILOT_CONFIG.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    return parse_config(text, environ={"DATABASE_URL": database_url, **environ})


async def join(playground: Playground, *people: str) -> None:
    for person in people:
        await playground.say(person, "/cohort join pilot-a")


async def onboard(playground: Playground, person: str, *, strong: str, learn: str) -> None:
    """Join and answer the whole survey; `strong` and `learn` are skill numbers like `1,2`."""
    skills = ("giving feedback", "presenting", "facilitation", "coaching conversations")
    await playground.say(person, "/cohort join pilot-a")
    await playground.click(person, await playground.last_dm(person), "Yes")
    await playground.say(person, "Engineering")
    await choose(
        playground, person, "select", ",".join(skills[int(n) - 1] for n in strong.split(","))
    )
    await playground.say(person, learn)
    await playground.say(person, "one-on-one")
    await choose(playground, person, "select", "mornings")
    for rating in ("3", "3", "3", "3"):
        await choose(playground, person, "rating", rating)
    await playground.click(person, await playground.last_dm(person), "No, keep it")


async def pair(playground: Playground, *words: str, person: str = "dana") -> str:
    """Run `/cohort pair` in the cohort channel; the ephemeral answer's text."""
    await playground.say(person, " ".join(("/cohort pair", *words)), channel=CHANNEL)
    return str((await playground.from_bot(person, where="channel"))[-1]["message"]["text"])


async def groups(playground: Playground) -> list[MatchGroup]:
    async with unit_of_work(playground.bot.sessions) as uow:
        rows = await uow.session.scalars(select(MatchGroup).order_by(MatchGroup.id))
        return list(rows)


async def person_ids(playground: Playground, *people: str) -> dict[str, int]:
    found: dict[str, int] = {}
    async with unit_of_work(playground.bot.sessions) as uow:
        for person in people:
            identity = await uow.people.find_identity("local", "local", person)
            assert identity is not None
            found[person] = identity[1].id
    return found


async def activities(playground: Playground, verb: str) -> list[Activity]:
    async with unit_of_work(playground.bot.sessions) as uow:
        rows = await uow.session.scalars(
            select(Activity).where(Activity.verb == verb).order_by(Activity.id)
        )
        return list(rows)


def pairs_of(rows: list[MatchGroup]) -> list[frozenset[int]]:
    return [frozenset(p) for row in rows for p in combinations(row.members, 2)]


async def test_facilitator_pairs_onboarded_people_and_each_group_hears_why(
    database_url: str,
) -> None:
    async with running_bot(config_with(database_url)) as playground:
        await onboard(playground, "alex", strong="2", learn="1")
        await onboard(playground, "priya", strong="1", learn="2")
        await onboard(playground, "jordan", strong="3", learn="4")
        await onboard(playground, "lena", strong="4", learn="3")

        summary = await pair(playground, "pairs")

        ids = await person_ids(playground, "alex", "priya", "jordan", "lena")
        rows = await groups(playground)
        assert {frozenset(r.members) for r in rows} == {
            frozenset((ids["alex"], ids["priya"])),
            frozenset((ids["jordan"], ids["lena"])),
        }, "complementary skills are paired"
        assert {(r.cycle, r.mode, r.mentor_id) for r in rows} == {(1, "pairs", None)}
        alex_priya = next(r for r in rows if ids["alex"] in r.members)
        assert "Alex Schneider is strong in presenting, which Priya Raman wants to learn" in (
            alex_priya.reasons
        )
        assert summary.startswith("Cycle 1 of Pilot cohort A (pairs): 2 pairs.")
        assert "Alex Schneider and Priya Raman" in summary
        assert "Everyone available was paired." in summary

        intro = (await playground.dm_texts("priya"))[-1]
        assert intro.startswith("You're a pair this cycle in Pilot cohort A")
        assert "Priya Raman is strong in giving feedback, which Alex Schneider wants" in intro
        assert "Your first task: Book 30 minutes this week." in intro
        assert (await playground.dm_texts("alex"))[-1] == intro
        matched = await activities(playground, "pairing.matched")
        assert sorted(a.person_id for a in matched if a.person_id) == sorted(ids.values())
        assert all(a.data["cycle"] == 1 for a in matched)


async def test_a_participant_cannot_pair_the_cohort(sqlite_url: str) -> None:
    async with running_bot(config_with(sqlite_url)) as playground:
        await join(playground, "alex", "priya")

        answer = await pair(playground, person="alex")

        assert answer.startswith("Only a facilitator or a program owner of Pilot cohort A")
        assert "Ask Dana Fischer" in answer
        assert await groups(playground) == []


async def test_an_unknown_mode_is_refused_with_the_choices(sqlite_url: str) -> None:
    async with running_bot(config_with(sqlite_url)) as playground:
        await join(playground, "alex", "priya")

        answer = await pair(playground, "quads")

        assert "pairs" in answer
        assert "triads" in answer
        assert await groups(playground) == []


async def test_one_person_alone_is_not_paired_and_the_facilitator_is_told(sqlite_url: str) -> None:
    async with running_bot(config_with(sqlite_url)) as playground:
        await join(playground, "alex")

        answer = await pair(playground)

        assert answer.startswith("Only 1 participant(s) can be paired right now")
        assert await groups(playground) == []


async def test_odd_cohort_gives_one_triad_and_nobody_left_out(sqlite_url: str) -> None:
    async with running_bot(config_with(sqlite_url)) as playground:
        await join(playground, *PARTICIPANTS[:5])

        summary = await pair(playground)

        rows = await groups(playground)
        ids = await person_ids(playground, *PARTICIPANTS[:5])
        assert sorted(len(r.members) for r in rows) == [2, 3]
        assert sorted(m for r in rows for m in r.members) == sorted(ids.values())
        assert "(pairs): 1 pair, 1 triad." in summary
        triad = next(r for r in rows if len(r.members) == 3)
        names = {v: k for k, v in ids.items()}
        for member in triad.members:
            assert (await playground.dm_texts(names[member]))[-1].startswith(
                "You're a triad this cycle"
            )


async def test_nobody_meets_the_same_person_again_until_they_have_met_everyone(
    sqlite_url: str,
) -> None:
    async with running_bot(config_with(sqlite_url)) as playground:
        await join(playground, *PARTICIPANTS[:6])

        for cycle in range(1, 6):
            assert (await pair(playground)).startswith(f"Cycle {cycle} of Pilot cohort A")

        rows = await groups(playground)
        assert [r.cycle for r in rows] == [c for c in range(1, 6) for _ in range(3)]
        met = pairs_of(rows)
        assert len(met) == 15
        assert len(set(met)) == 15, "five cycles of six people: everyone met everyone once"

        assert (await pair(playground)).startswith("Cycle 6")
        assert all(len(r.members) == 2 for r in await groups(playground))


async def test_away_and_inactive_people_are_skipped_and_listed(sqlite_url: str) -> None:
    async with running_bot(config_with(sqlite_url)) as playground:
        await join(playground, *PARTICIPANTS[:5])
        await playground.say("tom", "/cohort away until 2026-12-01")
        ids = await person_ids(playground, *PARTICIPANTS[:5])
        async with unit_of_work(playground.bot.sessions) as uow:
            membership = await uow.participation.membership(1, ids["lena"])
            assert membership is not None
            membership.inactive_since = playground.clock.now()

        summary = await pair(playground)

        matched = {m for r in await groups(playground) for m in r.members}
        assert matched == {ids["alex"], ids["priya"], ids["jordan"]}
        assert "Not paired this cycle: " in summary
        assert "Tom Whitaker (away until Tue 01 Dec)" in summary
        assert "Lena Vogel (inactive since Mon 23 Nov (prompts unanswered))" in summary
        assert not any("this cycle" in t for t in await playground.dm_texts("tom"))


async def test_triads_get_a_mentor_each_with_balanced_load(sqlite_url: str) -> None:
    config = config_with(
        sqlite_url, ("mentors: [local:mo]", "mentors: [local:mo, local:sam, local:olivia]")
    )
    async with running_bot(config) as playground:
        await join(playground, *PARTICIPANTS[:8])

        summary = await pair(playground, "triads")

        rows = await groups(playground)
        mentors = await person_ids(playground, "mo", "sam", "olivia")
        assert len(rows) == 4
        assert all(r.mode == "triads" and r.mentor_id in mentors.values() for r in rows)
        assert sorted(Counter(r.mentor_id for r in rows).values()) == [1, 1, 2]
        assert summary.startswith("Cycle 1 of Pilot cohort A (triads): 4 triads.")
        assert summary.count("(mentor: ") == 4
        mo_groups = [r for r in rows if r.mentor_id == mentors["mo"]]
        intros = [t for t in await playground.dm_texts("mo") if "is your mentor" in t]
        assert len(intros) == len(mo_groups)
        assert "Mo Haddad is your mentor this cycle" in intros[0]


async def test_triads_without_any_mentor_are_refused(sqlite_url: str) -> None:
    config = config_with(sqlite_url, ("mentors: [local:mo]", "mentors: []"))
    async with running_bot(config) as playground:
        await join(playground, "alex", "priya")

        answer = await pair(playground, "triads")

        assert answer.startswith("Triads need a mentor")
        assert await groups(playground) == []


async def test_did_you_meet_answered_yes_is_recorded(database_url: str) -> None:
    async with running_bot(config_with(database_url)) as playground:
        await join(playground, "alex", "priya")
        await pair(playground)
        await playground.advance(timedelta(days=2, hours=23))
        assert not any(t.startswith("Did you meet") for t in await playground.dm_texts("alex"))

        await playground.advance(timedelta(hours=1))
        question = await playground.last_dm("alex")
        assert question["message"]["text"] == "Did you meet with Priya Raman this cycle?"
        await playground.click("alex", question, "Yes")

        ids = await person_ids(playground, "alex", "priya")
        (row,) = await groups(playground)
        assert row.met == {str(ids["alex"]): True}
        (met,) = await activities(playground, "pairing.met")
        assert (met.person_id, met.data) == (
            ids["alex"],
            {"met": True, "answer": "yes", "cycle": 1},
        )
        assert (await playground.dm_texts("alex"))[-1].startswith("Great, thanks! Glad you met.")
        assert (await playground.last_dm("priya"))["message"]["text"].startswith("Did you meet")


async def test_an_unanswered_meet_check_counts_as_a_missed_prompt(sqlite_url: str) -> None:
    async with running_bot(config_with(sqlite_url)) as playground:
        await join(playground, "alex", "priya")
        await pair(playground)
        await playground.advance(timedelta(days=3))
        await playground.click("priya", await playground.last_dm("priya"), "Not yet")
        await playground.advance(timedelta(hours=49))

        ids = await person_ids(playground, "alex", "priya")
        async with unit_of_work(playground.bot.sessions) as uow:
            missed = {
                m.person_id: m.missed_in_a_row
                for m in await uow.session.scalars(
                    select(Membership).where(Membership.role == "participant")
                )
            }
        assert missed == {ids["alex"]: 1, ids["priya"]: 0}
        (row,) = await groups(playground)
        assert row.met == {str(ids["priya"]): False}
        unanswered = await activities(playground, "prompt.unanswered")
        assert [(a.person_id, a.data["prompt"]) for a in unanswered] == [
            (ids["alex"], "pairing.meet_check")
        ]


async def test_cadence_pairs_on_the_program_day_and_moves_off_holidays(sqlite_url: str) -> None:
    config = config_with(
        sqlite_url,
        ("start_date: null", "start_date: 2026-12-14"),
        ("pairing_every_weeks: 2", "pairing_every_weeks: 1"),
        ("pair_on: Mon 10:00", "pair_on: Thu 10:00"),
    )
    # 09:00 UTC is 10:00 in Berlin: stepping whole days lands on each pairing time.
    clock = ManualClock(datetime(2026, 12, 14, 9, 0, tzinfo=UTC))
    async with running_bot(config, clock=clock) as playground:
        await join(playground, *PARTICIPANTS[:4])
        for _ in range(15):
            await playground.advance(timedelta(days=1))

        rows = await groups(playground)
        days = sorted({(r.cycle, r.created_at.date()) for r in rows})
        # Thursday 24 December is a holiday: the cycle moves to Monday 28 December.
        assert days == [(1, date(2026, 12, 17)), (2, date(2026, 12, 28))]
        (moved,) = await activities(playground, "pairing.moved")
        assert moved.data == {"from": "2026-12-24", "to": "2026-12-28"}
        cycles = [t for t in await playground.dm_texts("dana") if t.startswith("Cycle ")]
        assert [t.split(" of ")[0] for t in cycles] == ["Cycle 1", "Cycle 2"]
        first, second = (pairs_of([r for r in rows if r.cycle == n]) for n in (1, 2))
        assert len(first) == 2
        assert set(first).isdisjoint(second), "groups rotate every cycle"


async def test_same_cohort_and_cycle_give_the_same_groups(tmp_path: Any) -> None:
    seen: list[set[frozenset[str]]] = []
    for run in ("a", "b"):
        url = f"sqlite+aiosqlite:///{tmp_path / f'{run}.db'}"
        async with running_bot(config_with(url)) as playground:
            await join(playground, *PARTICIPANTS[:6])
            await pair(playground)
            ids = await person_ids(playground, *PARTICIPANTS[:6])
            names = {v: k for k, v in ids.items()}
            seen.append({frozenset(names[m] for m in r.members) for r in await groups(playground)})
    assert seen[0] == seen[1]
    assert cycle_seed(1, 1) == cycle_seed(1, 1) != cycle_seed(1, 2)
