"""A poll in a Teams channel: the card with one action per option, a click, the card updated."""

from __future__ import annotations

from datetime import timedelta

from bot.model.roles import Role
from storage.repositories.people import IdentityFacts
from storage.uow import unit_of_work
from tests.adapters.teams.conftest import CHANNEL, TENANT, TeamsRig, card_text, find_action, payload
from tests.harness import CHANNEL as PLAYGROUND_CHANNEL

ALEX = payload("message_action_submit.json")["from"]["id"]


async def test_a_teams_member_votes_on_the_poll_card_and_the_card_is_updated(
    teams_rig: TeamsRig,
) -> None:
    bot, now = teams_rig.bot, teams_rig.clock.now()
    async with unit_of_work(bot.sessions) as uow:
        alex = await uow.people.ensure(
            IdentityFacts(platform="teams", workspace=TENANT, user_id=ALEX), now=now
        )
        cohort = await uow.cohorts.by_key("pilot-a")
        assert cohort is not None
        await uow.cohorts.add_member(
            cohort_id=cohort.id, person_id=alex.id, role=Role.PARTICIPANT, now=now
        )
    response = await teams_rig.http.post(
        "/playground/api/say",
        json={
            "person": "dana",
            "where": "channel",
            "channel_id": PLAYGROUND_CHANNEL,
            "text": '/cohort poll "Next topic?" "Feedback" "Presenting"',
        },
    )
    assert response.status == 200
    await bot.settle()

    (card,) = [c for c in teams_rig.fake.messages(CHANNEL) if "Next topic?" in card_text(c.body)]
    presenting = find_action(card.body, "Presenting")
    click = teams_rig.activity("message_action_submit.json", value=presenting["data"])
    click["conversation"] = {
        "conversationType": "channel",
        "tenantId": TENANT,
        "id": f"{CHANNEL};messageid={card.activity_id}",
    }
    click["replyToId"] = card.activity_id
    assert (await teams_rig.send(click)).status in (200, 202)
    await bot.settle()
    teams_rig.clock.advance(timedelta(seconds=2))
    await bot.settle()

    async with unit_of_work(bot.sessions) as uow:
        poll = await uow.polls.get(1)
        assert poll is not None
        assert await uow.polls.tally(poll) == ([0, 1], 1)
    updates = [u for u in teams_rig.fake.of_kind("update") if u.activity_id == card.activity_id]
    assert len(updates) == 1
    assert "1 voted so far" in card_text(updates[0].body)
