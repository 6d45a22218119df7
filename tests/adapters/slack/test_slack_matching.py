"""Matching over Slack: a signed `/cohort pair` in, a group DM through conversations.open out."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from storage.models import MatchGroup
from storage.uow import unit_of_work
from tests.adapters.slack.conftest import SlackRig, slack_rig_for
from tests.flows.matching.test_matching import config_with


@pytest.fixture
async def rig(database_url: str) -> AsyncIterator[SlackRig]:
    """The demo bot on Slack, with a Slack user among the facilitators."""
    facilitator = ("facilitators: [local:dana]", "facilitators: [local:dana, slack:UFAC]")
    async with slack_rig_for(lambda slack: config_with(database_url, facilitator, **slack)) as rig:
        yield rig


async def test_slash_pair_opens_a_group_dm_per_pair_and_answers_the_facilitator(
    rig: SlackRig,
) -> None:
    for user_id, name in (("U1", "ana"), ("U2", "ben")):
        await rig.command(
            "join pilot-a", user_id=user_id, user_name=name, trigger_id=f"join-{user_id}"
        )
    await rig.playground.bot.settle()

    response = await rig.command("pair pairs", user_id="UFAC", user_name="fac", trigger_id="p1")
    await rig.playground.bot.settle()

    assert response.status == 200
    (opened,) = rig.slack.called("conversations.open")
    assert opened["users"] == "U1,U2"
    intros = [c for c in rig.slack.called("chat.postMessage") if c["channel"] == "GU1_U2"]
    assert len(intros) == 1
    assert intros[0]["text"].startswith("You're a pair this cycle in Pilot cohort A")
    assert "Your first task" in intros[0]["text"]
    hook, answer = rig.slack.responses[-1]
    assert hook == "hook-1"
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("Cycle 1 of Pilot cohort A (pairs): 1 pair.")
    async with unit_of_work(rig.playground.bot.sessions) as uow:
        rows = list(await uow.session.scalars(select(MatchGroup)))
        people = [await uow.people.find_identity("slack", "T0001", u) for u in ("U1", "U2")]
    assert [(r.cycle, r.mode) for r in rows] == [(1, "pairs")]
    assert sorted(rows[0].members) == sorted(found[1].id for found in people if found)
